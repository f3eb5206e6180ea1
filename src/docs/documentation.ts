// What the OpenAPI document says besides its operations: the API, where it is
// served, its tags and its security schemes.
import type { OpenAPIV3_1 } from "openapi-types";

export const documentation = {
  info: {
    title: "modsync",
    version: "1.0.0",
    description: "Ingestion API for Drupal module inventories: sites push their modules, modsync keeps the exact set per site.\n\n"
      + "Ids are integers; times are ISO 8601 strings, except a completed task's `completed_at` (Unix seconds, as the ingestion spec has it). "
      + "Every answer carries `X-Request-Id`; errors are JSON with a `detail` for a person to read.",
  },
  servers: [{ url: "/", description: "The modsync instance serving this document" }],
  tags: [
    { name: "Sync", description: "Module inventory ingestion and background sync tasks" },
    { name: "Sites", description: "Site registration and inventory reads" },
    { name: "Questions", description: "Across sites and over time: where a module runs, what changed, who went quiet" },
    { name: "Updates", description: "Update and security status of sites' projects, from drupal.org release data" },
    { name: "Operations", description: "Health, readiness and metrics" },
  ],
  components: {
    securitySchemes: {
      bearerAuth: { type: "http", scheme: "bearer", description: "An API token issued with `bun run cli token create` (or `user create`). A sync (`POST /api/v1/sites/{site_id}/modules`) takes an optional `Idempotency-Key` header (1–255 visible ASCII characters): a retry with the same key and body gets the first successful answer again (`Idempotent-Replayed: true`), spending nothing; the same key with another body is a 422, and while the first is still being answered a 409. Keys are kept `IDEMPOTENCY_KEY_TTL_HOURS`. Registration and token rotation answer a secret kept only as a hash, so they are never replayed: a retried registration is a 409 (no second site), a retried rotation rotates again." },
      siteToken: { type: "http", scheme: "bearer", description: "A site's own token (`mss_…`, from registration or `POST /api/v1/sites/{site_id}/token`): accepted on that site's sync route and its tasks' status only" },
      metricsToken: { type: "http", scheme: "bearer", description: "`METRICS_TOKEN`, when the server is started with one (`GET /metrics` only)" },
    },
  },
} satisfies Omit<OpenAPIV3_1.Document, "openapi" | "paths">;
