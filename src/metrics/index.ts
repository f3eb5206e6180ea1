// Request counts and durations by route template and status, and GET /metrics.
// Recorded when the handler returns (onAfterHandle) or when an error is mapped
// (http/errors.ts): Elysia's onAfterResponse schedules work per request that
// measured ~50 µs, a third of a whole sync.
import { Elysia } from "elysia";
import { errorResponse, PUBLIC } from "../http/openapi";
import type { Metrics } from "./registry";
import { metricsTokenCheck } from "./token";

const started = new WeakMap<Request, number>();

/** Records one answered request, if it was timed. */
export function observeRequest(metrics: Metrics, request: Request, route: string | undefined, status: number | string | undefined): void {
  const start = started.get(request);
  if (start === undefined) return;
  started.delete(request);
  metrics.recordRequest(request.method, route || "unmatched", status ?? 200, (performance.now() - start) / 1000);
}

export function metricsRoutes({ metrics, metricsToken }: { metrics: Metrics; metricsToken: string | null }) {
  const requireToken = metricsToken ? metricsTokenCheck(metricsToken) : null;
  return new Elysia({ name: "metrics" })
    .onRequest(({ request }) => {
      started.set(request, performance.now());
    })
    .onAfterHandle({ as: "global" }, ({ request, route, set }) => observeRequest(metrics, request, route, set.status))
    .get("/metrics", async ({ request, set }) => {
      requireToken?.(request.headers.get("authorization"));
      set.headers["content-type"] = metrics.registry.contentType;
      return metrics.registry.metrics();
    }, {
      detail: {
        operationId: "getMetrics",
        summary: "Prometheus metrics (text exposition format)",
        description: "Public unless the server is started with `METRICS_TOKEN`; then only `Authorization: Bearer <METRICS_TOKEN>` reads it, anything else is answered 401.",
        tags: ["Operations"],
        // The document says what this server asks: the metrics token only when it is started with one.
        security: requireToken ? [{ metricsToken: [] }] : PUBLIC,
        responses: {
          200: { description: "Prometheus text exposition format", content: { "text/plain": { schema: { type: "string" } } } },
          ...(requireToken && { 401: errorResponse("Missing or wrong `METRICS_TOKEN`") }),
        },
      },
    });
}
