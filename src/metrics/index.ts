// Request counts and durations by route template and status, and GET /metrics.
import { Elysia } from "elysia";
import type { AppContext } from "../context";

const started = new WeakMap<Request, number>();

export function metricsRoutes({ metrics }: AppContext) {
  return new Elysia({ name: "metrics" })
    .onRequest(({ request }) => {
      started.set(request, performance.now());
    })
    .onAfterResponse({ as: "global" }, ({ request, route, set }) => {
      const start = started.get(request);
      if (start === undefined) return;
      const labels = { method: request.method, route: route || "unmatched", status: String(set.status ?? 200) };
      metrics.httpRequests.inc(labels);
      metrics.httpDuration.observe(labels, (performance.now() - start) / 1000);
    })
    .get("/metrics", async ({ set }) => {
      set.headers["content-type"] = metrics.registry.contentType;
      return metrics.registry.metrics();
    }, {
      detail: { summary: "Prometheus metrics (text exposition format)", tags: ["Operations"] },
    });
}
