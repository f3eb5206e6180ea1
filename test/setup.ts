// Runs once before the suite: finds out whether the real Postgres and Redis
// answer. Where one does not, its tests are left out with one loud line, unless
// REQUIRE_POSTGRES / REQUIRE_REDIS say it must be there (CI), which fails the run.
// And every test must assert something: one that makes no assertion fails.
import { beforeEach, expect } from "bun:test";
import postgres from "postgres";
import { createClient } from "redis";
import { TEST_POSTGRES_URL, TEST_REDIS_URL } from "./support/env";

async function postgresAnswers(): Promise<string | null> {
  const sql = postgres(TEST_POSTGRES_URL, { max: 1, connect_timeout: 3, onnotice: () => {} });
  try {
    await sql`SELECT 1`;
    return null;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  } finally {
    await sql.end({ timeout: 1 }).catch(() => {});
  }
}

async function redisAnswers(): Promise<string | null> {
  const client = createClient({ url: TEST_REDIS_URL, socket: { connectTimeout: 2000, reconnectStrategy: false } });
  client.on("error", () => {});
  try {
    await client.connect();
    await client.ping();
    return null;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  } finally {
    if (client.isOpen) await client.close().catch(() => {});
  }
}

const [pgProblem, redisProblem] = await Promise.all([postgresAnswers(), redisAnswers()]);
for (const [name, url, problem, required] of [
  ["POSTGRES", TEST_POSTGRES_URL, pgProblem, process.env.REQUIRE_POSTGRES === "1"],
  ["REDIS", TEST_REDIS_URL, redisProblem, process.env.REQUIRE_REDIS === "1"],
] as const) {
  if (problem === null) {
    process.env[`MODSYNC_TEST_${name}`] = "1";
    continue;
  }
  process.env[`MODSYNC_TEST_${name}`] = "0";
  if (required) throw new Error(`REQUIRE_${name}=1 but ${url} does not answer: ${problem}`);
  console.warn(`\n!!! ${name} NOT AVAILABLE at ${url} (${problem}): its tests are NOT RUN. Set REQUIRE_${name}=1 to fail instead.\n`);
}

beforeEach(() => {
  try {
    expect.hasAssertions();
  } catch {
    // Bun checks this only in tests run one at a time; test.concurrent ones are left to review.
  }
});
