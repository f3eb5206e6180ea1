// Controller: POST /api/v1/sites/:site_id/modules. The body is read only
// after the caller is authenticated, allowed on the site and within its rate
// limit (the siteSync macro, `parse: "none"`), so refused requests cost no
// parsing; ingestion (ingest.ts) does the rest. The schema is documented by hand.
import { Elysia } from "elysia";
import { bearerSecurity } from "../http/auth";
import { SyncResult, ValidationErrorResponse } from "../http/model";
import { documentedBody, documentedResponse, errorResponse } from "../http/openapi";
import { rateLimitHeaderDocs, retryAfterDoc } from "../ratelimit/headers";
import { REPORTED_ERRORS } from "../inventory";
import { siteIdParameter } from "../sites/model";
import { syncAccess, type SyncAccessDeps } from "./access";
import type { Ingestion } from "./ingest";
import { SyncAccepted, SyncBody } from "./model";
import { TASK_POLL_SECONDS } from "../tasks/model";

/** The 202 of a sync accepted for the background: where to poll (Location), and when (Retry-After). */
function accepted(received: { taskId: string; total: number }, headers: Record<string, unknown>) {
  const statusUrl = `/api/v1/tasks/${received.taskId}/status`;
  headers.location = statusUrl;
  headers["retry-after"] = String(TASK_POLL_SECONDS);
  return {
    status: 202,
    body: {
      status: "accepted" as const,
      task_id: received.taskId,
      message: `Sync of ${received.total} modules queued for processing`,
      status_url: statusUrl,
    },
  };
}

export function syncRoutes(ctx: SyncAccessDeps & { ingestion: Ingestion }) {
  return new Elysia({ name: "sync" })
    .use(syncAccess(ctx))
    .post("/api/v1/sites/:site_id/modules", async ({ site, bearer, replay, attempt, request, set }) => {
      if (replay || !attempt) return replay;
      const answer = await attempt.run(async () => {
        const received = await ctx.ingestion.receive(site, attempt.body(request), bearer);
        const answered = received.kind === "synced" ? { status: 200, body: received.response } : accepted(received, set.headers);
        await attempt.claim?.complete(answered.status, set.headers, answered.body);
        return answered;
      });
      set.status = answer.status;
      return answer.body;
    }, {
      siteSync: true,
      parse: "none",
      // Responses are documented by hand (below) so their rate-limit headers
      // are described too; the handler builds the 200 body itself.
      detail: {
        operationId: "syncModules",
        summary: "Sync a site's modules",
        description: `Partial sync (default) creates and updates the modules in the payload; \`full_sync: true\` also removes the site's modules absent from it. Invalid or repeated module entries are skipped: the first ${REPORTED_ERRORS} are listed in \`errors\`, all are counted in \`errors_total\`; the rest are synced. The bearer is a person's API token (then \`site.token\` is required) or this site's own token (then \`site.token\` may be left out, and must match if sent).`,
        tags: ["Sync"],
        security: [...bearerSecurity, { siteToken: [] }],
        parameters: [siteIdParameter],
        requestBody: documentedBody(SyncBody, SyncBody.examples[0]),
        responses: {
          200: documentedResponse(SyncResult, "Synced: counts and the entries that were skipped", rateLimitHeaderDocs),
          202: documentedResponse(SyncAccepted, "Entries naming more modules than `SYNC_BACKGROUND_THRESHOLD` (valid ones, and skipped ones with a valid machine_name): queued as a background task; poll `status_url` (also in `Location`)", {
            ...rateLimitHeaderDocs,
            Location: { description: "The task's status URL (`status_url`)", schema: { type: "string" } },
            "Retry-After": { description: `Seconds before polling the status URL (${TASK_POLL_SECONDS})`, schema: { type: "integer" } },
          }),
          400: errorResponse("Body not JSON, wrong top-level shape (`errors` names the field), `site.token` missing with a person's bearer, or site.url not the registered URL", rateLimitHeaderDocs, ValidationErrorResponse),
          401: errorResponse("Missing, unknown or revoked bearer token; or a site token that is not this site's"),
          403: errorResponse("Not a member of the site's organization (answered before the site's quota is touched, without rate-limit headers), or a wrong `site.token` (with them)", rateLimitHeaderDocs),
          404: errorResponse("No such site (also for a `site_id` that is not a positive 32-bit integer), or deleted while the sync ran"),
          409: errorResponse("A request with this `Idempotency-Key` is still being answered (`idempotency_key_in_use`); retry after `Retry-After` seconds", retryAfterDoc),
          413: errorResponse("Body larger than `MAX_BODY_MB` (after decompression)", rateLimitHeaderDocs),
          415: errorResponse("`Content-Encoding` other than identity, gzip or deflate", rateLimitHeaderDocs),
          422: errorResponse("`full_sync: true` with no valid module entry: it would remove every module of the site (`full_sync_without_entries`, with the rate-limit headers); or an `Idempotency-Key` already used with another body (`idempotency_key_mismatch`)", rateLimitHeaderDocs, ValidationErrorResponse),
          429: errorResponse("The site's syncs for the hour are spent (`Rate limit exceeded. Please try again later.`, with the rate-limit headers), or this user's (or, with a site token, this site's) refused syncs passed `FAILED_ATTEMPTS_PER_HOUR` (answered before the body is read, with `Retry-After` only). Only a sync that passes every check spends one of the site's.", { ...rateLimitHeaderDocs, ...retryAfterDoc }),
          503: errorResponse("The site's earlier background syncs are still being applied after a minute's wait; retry after `Retry-After` seconds (nothing was spent)", { ...rateLimitHeaderDocs, ...retryAfterDoc }),
        },
      },
    });
}
