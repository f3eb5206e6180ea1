export const TEST_POSTGRES_URL = process.env.TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379";

/** Set by test/setup.ts after probing the server. */
export const postgresAvailable = () => process.env.MODSYNC_TEST_POSTGRES === "1";
export const redisAvailable = () => process.env.MODSYNC_TEST_REDIS === "1";
