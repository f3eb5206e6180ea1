// Controller: POST /api/v1/sites/:site_id/modules. The body is read only
// after the caller is authenticated and allowed on the site (`parse: "none"`),
// so refused requests cost no parsing; the schema is documented by hand.
import { Elysia } from "elysia";
import { bearerSecurity } from "../http/auth";
import { parseJson, readBytes } from "../http/body";
import { authErrors, documentedBody, ErrorResponse, ValidationErrorResponse } from "../http/model";
import { siteIdParameter } from "../sites/model";
import type { AppContext } from "../context";
import { payloadFingerprint } from "./digest";
import { SyncBody, SyncResult } from "./model";

export function syncRoutes({ auth, sites, sync, config }: AppContext) {
  return new Elysia({ name: "sync" })
    .use(auth)
    .post("/api/v1/sites/:site_id/modules", async ({ userId, params, request }) => {
      const site = await sites.requireAccess(params.site_id, userId);
      const bytes = await readBytes(request, config.maxBodyBytes);
      return sync.sync(site, parseJson(bytes), payloadFingerprint(bytes));
    }, {
      auth: true,
      parse: "none",
      response: { 200: SyncResult, 400: ValidationErrorResponse, ...authErrors, 413: ErrorResponse },
      detail: {
        summary: "Sync a site's modules",
        description: "Partial sync (default) creates and updates the modules in the payload; `full_sync: true` also removes the site's modules absent from it. Invalid or repeated module entries are skipped and listed in `errors`; the rest are synced.",
        tags: ["Sync"],
        security: bearerSecurity,
        parameters: [siteIdParameter],
        requestBody: documentedBody(SyncBody, SyncBody.examples[0]),
      },
    });
}
