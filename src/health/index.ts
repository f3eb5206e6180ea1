// Liveness and readiness for orchestrators and the container HEALTHCHECK.
import { Elysia, t } from "elysia";
import { documentedResponse, PUBLIC } from "../http/openapi";
import type { RedisConnection } from "../redis/connection";
import type { Store } from "../store/types";
import type { Logger } from "../log";
import { within } from "../within";

/** A dependency that hangs is as unready as one that fails; never hang the probe. */
const CHECK_TIMEOUT_MS = 2000;

/**
 * /ready is public, and a failure's own text names internal addresses
 * (`connect ECONNREFUSED 10.0.0.5:6379`): the answer says only which
 * dependency failed, the log says why. Each check's reason is logged when it
 * changes, not on every probe: an orchestrator (or anyone) polling /ready
 * during an outage must not flood the log.
 */
function readinessChecks(logger: Logger) {
  const lastLogged = new Map<string, string>();
  return async function check(name: string, probe: () => Promise<void>): Promise<string> {
    try {
      await within(CHECK_TIMEOUT_MS, probe(), () => new Error(`no answer within ${CHECK_TIMEOUT_MS} ms`));
      lastLogged.delete(name);
      return "ok";
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      if (lastLogged.get(name) !== reason) {
        lastLogged.set(name, reason);
        logger.warn("readiness check failed", { check: name, error: reason });
      }
      return "unavailable";
    }
  };
}

const Health = t.Object({ status: t.String() }, { title: "Health" });
const Ready = t.Object({
  status: t.UnionEnum(["ready", "unavailable"]),
  checks: t.Record(t.String(), t.String(), { description: "Each dependency: ok, or unavailable (the reason is in the server's log)" }),
}, { title: "Readiness" });

export function healthRoutes({ store, redis, logger }: { store: Store; redis: RedisConnection | null; logger: Logger }) {
  const check = readinessChecks(logger);
  return new Elysia({ name: "health" })
    .get("/health", () => ({ status: "ok" }), {
      response: { 200: Health },
      detail: {
        operationId: "getHealth",
        summary: "Liveness: 200 while the process is up",
        tags: ["Operations"],
        security: PUBLIC,
        responses: { 200: documentedResponse(Health, "The process is up") },
      },
    })
    .get("/ready", async ({ set }) => {
      const checks: Record<string, string> = { database: await check("database", () => store.ping()) };
      if (redis) checks.redis = await check("redis", async () => void await redis.run((client) => client.ping()));
      const ready = Object.values(checks).every((c) => c === "ok");
      if (!ready) set.status = 503;
      return { status: ready ? "ready" as const : "unavailable" as const, checks };
    }, {
      response: { 200: Ready, 503: Ready },
      detail: {
        operationId: "getReadiness",
        summary: "Readiness: 200 when the database (and Redis, when configured) answers, else 503 naming what failed",
        tags: ["Operations"],
        security: PUBLIC,
        responses: {
          200: documentedResponse(Ready, "Every dependency answers"),
          503: documentedResponse(Ready, "A dependency does not answer: `checks` names it (`unavailable`); why is in the server's log"),
        },
      },
    });
}
