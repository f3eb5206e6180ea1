// Request counts and durations by route template and status, and GET /metrics.
// Recorded when the handler returns (onAfterHandle) or when an error is mapped
// (http/errors.ts): Elysia's onAfterResponse schedules work per request that
// measured ~50 µs, a third of a whole sync.
import { Elysia } from "elysia";
import type { Metrics } from "./registry";

const started = new WeakMap<Request, number>();

/** Records one answered request, if it was timed. */
export function observeRequest(metrics: Metrics, request: Request, route: string | undefined, status: number | string | undefined): void {
  const start = started.get(request);
  if (start === undefined) return;
  started.delete(request);
  metrics.recordRequest(request.method, route || "unmatched", status ?? 200, (performance.now() - start) / 1000);
}

export function metricsRoutes(metrics: Metrics) {
  return new Elysia({ name: "metrics" })
    .onRequest(({ request }) => {
      started.set(request, performance.now());
    })
    .onAfterHandle({ as: "global" }, ({ request, route, set }) => observeRequest(metrics, request, route, set.status))
    .get("/metrics", async ({ set }) => {
      set.headers["content-type"] = metrics.registry.contentType;
      return metrics.registry.metrics();
    }, {
      detail: { summary: "Prometheus metrics (text exposition format)", tags: ["Operations"] },
    });
}
