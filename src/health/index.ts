// Liveness and readiness for orchestrators and the container HEALTHCHECK.
import { Elysia, t } from "elysia";
import type { RedisConnection } from "../redis/connection";
import type { Store } from "../store/types";
import { within } from "../within";

/** A dependency that hangs is as unready as one that fails; never hang the probe. */
const CHECK_TIMEOUT_MS = 2000;

async function check(probe: () => Promise<void>): Promise<string> {
  try {
    await within(CHECK_TIMEOUT_MS, probe(), () => new Error(`no answer within ${CHECK_TIMEOUT_MS} ms`));
    return "ok";
  } catch (err) {
    return err instanceof Error ? err.message : "failed";
  }
}

const Health = t.Object({ status: t.String() }, { title: "Health" });
const Ready = t.Object({
  status: t.UnionEnum(["ready", "unavailable"]),
  checks: t.Record(t.String(), t.String(), { description: "Each dependency: ok, or why it failed" }),
}, { title: "Readiness" });

export function healthRoutes({ store, redis }: { store: Store; redis: RedisConnection | null }) {
  return new Elysia({ name: "health" })
    .get("/health", () => ({ status: "ok" }), {
      response: { 200: Health },
      detail: { summary: "Liveness: 200 while the process is up", tags: ["Operations"] },
    })
    .get("/ready", async ({ set }) => {
      const checks: Record<string, string> = { database: await check(() => store.ping()) };
      if (redis) checks.redis = await check(async () => void await redis.run((client) => client.ping()));
      const ready = Object.values(checks).every((c) => c === "ok");
      if (!ready) set.status = 503;
      return { status: ready ? "ready" as const : "unavailable" as const, checks };
    }, {
      response: { 200: Ready, 503: Ready },
      detail: { summary: "Readiness: 200 when the database (and Redis, when configured) answers, else 503 naming what failed", tags: ["Operations"] },
    });
}
