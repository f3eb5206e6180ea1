// Controller: POST /api/v1/sites/:site_id/modules. The body is read only
// after the caller is authenticated and allowed on the site (`parse: "none"`),
// so refused requests cost no parsing; the schema is documented by hand.
import { Elysia } from "elysia";
import { bearerSecurity } from "../http/auth";
import { documentedBody, documentedResponse, ErrorResponse, ValidationErrorResponse } from "../http/model";
import { siteIdParameter } from "../sites/model";
import type { AppContext } from "../context";
import { ApiError } from "../errors";
import { rateLimitHeaderDocs, rateLimitHeaders, retryAfterDoc } from "../ratelimit/headers";
import { SyncAccepted } from "../tasks/model";
import { SyncBody, SyncResult } from "./model";

export function syncRoutes({ auth, sites, uploads, limiter, metrics }: AppContext) {
  return new Elysia({ name: "sync" })
    .use(auth)
    .post("/api/v1/sites/:site_id/modules", async ({ userId, params, request, set }) => {
      const site = await sites.requireAccess(params.site_id, userId);
      // Only now, authenticated and authorised for this site, does the request
      // spend a token: nobody can drain another site's quota.
      const decision = await limiter.take(site.id);
      Object.assign(set.headers, rateLimitHeaders(decision));
      if (!decision.allowed) {
        metrics.rateLimitRefusals.inc();
        throw new ApiError(429, "Rate limit exceeded. Please try again later.");
      }
      const received = await uploads.receive(site, request);
      if (received.kind === "synced") return received.response;
      set.status = 202;
      return {
        status: "accepted" as const,
        task_id: received.taskId,
        message: `Sync of ${received.total} modules queued for processing`,
        status_url: `/api/v1/tasks/${received.taskId}/status`,
      };
    }, {
      auth: true,
      parse: "none",
      // Responses are documented by hand (below) so their rate-limit headers
      // are described too; the handler builds the 200 body itself.
      detail: {
        summary: "Sync a site's modules",
        description: "Partial sync (default) creates and updates the modules in the payload; `full_sync: true` also removes the site's modules absent from it. Invalid or repeated module entries are skipped and listed in `errors`; the rest are synced.",
        tags: ["Sync"],
        security: bearerSecurity,
        parameters: [siteIdParameter],
        requestBody: documentedBody(SyncBody, SyncBody.examples[0]),
        responses: {
          200: documentedResponse(SyncResult, "Synced: counts and the entries that were skipped", rateLimitHeaderDocs),
          202: documentedResponse(SyncAccepted, "More valid entries than SYNC_BACKGROUND_THRESHOLD: queued as a background task", rateLimitHeaderDocs),
          400: documentedResponse(ValidationErrorResponse, "Body not JSON, wrong top-level shape, or site.url not the registered URL", rateLimitHeaderDocs),
          401: documentedResponse(ErrorResponse, "Missing, unknown or revoked bearer token (WWW-Authenticate: Bearer)"),
          403: documentedResponse(ErrorResponse, "Not a member of the site's organization, or wrong site.token"),
          404: documentedResponse(ErrorResponse, "No such site"),
          413: documentedResponse(ErrorResponse, "Body larger than MAX_BODY_MB (after decompression)", rateLimitHeaderDocs),
          415: documentedResponse(ErrorResponse, "Content-Encoding other than identity, gzip or deflate", rateLimitHeaderDocs),
          429: documentedResponse(ErrorResponse, "Rate limit exceeded. Please try again later.", { ...rateLimitHeaderDocs, ...retryAfterDoc }),
        },
      },
    });
}
