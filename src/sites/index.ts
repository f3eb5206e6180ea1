// Controller: site registration, token rotation, deletion and the read routes.
// Reads answer with an ETag (304 for a matching If-None-Match); lists add
// `Link: rel="next"`. Registering, rotating and deleting need an admin of
// the site's organization; reading needs a member.
import { Elysia } from "elysia";
import { bearerSecurity, type BearerAuth } from "../http/auth";
import { compile, readJson, SMALL_BODY_BYTES, validateOr400 } from "../http/body";
import { conditional, linkNext } from "../http/conditional";
import { authErrors, documentedBody, documentedResponse, ErrorResponse, ValidationErrorResponse } from "../http/model";
import type { RateLimiter } from "../ratelimit/bucket";
import type { SitesService } from "./service";
import { idempotently, type Idempotency } from "../idempotency/service";
import {
  moduleFilterParameters, pageParameters, Site, SiteCreateBody, SiteCreated, SiteList, SiteModuleList, SiteToken, siteIdParameter,
  conditionalGetDocs, listHeadersDocs,
} from "./model";

const createBody = compile(SiteCreateBody);

export function sitesRoutes({ auth, sites, limiter, idempotency }: { auth: BearerAuth; sites: SitesService; limiter: RateLimiter; idempotency: Idempotency }) {
  return new Elysia({ name: "sites", prefix: "/api/v1/sites" })
    .use(auth)
    .post("", ({ request, userId, set }) =>
      idempotently(idempotency, request, set, { scope: `user:${userId} POST /api/v1/sites`, siteId: null, maxBodyBytes: SMALL_BODY_BYTES }, async (read) => {
        const body = validateOr400(createBody, await readJson(read, SMALL_BODY_BYTES), "Invalid site");
        const created = await sites.register(userId, { organizationId: body.organization_id, url: body.url, name: body.name });
        set.status = 201;
        set.headers.location = `/api/v1/sites/${created.id}`;
        return created;
      }), {
      auth: true,
      parse: "none",
      response: { 201: SiteCreated, 400: ValidationErrorResponse, 401: ErrorResponse, 403: ErrorResponse, 409: ErrorResponse, 413: ErrorResponse },
      detail: {
        summary: "Register a site",
        description: "Registers a Drupal site in an organization the caller is an admin of (403 `role_required` for a member). The returned token is shown only once. The 201 carries `Location: /api/v1/sites/{id}`.",
        tags: ["Sites"],
        security: bearerSecurity,
        requestBody: documentedBody(SiteCreateBody),
      },
    })
    .get("", async ({ request, userId, query, set }) => {
      const page = await sites.list(userId, query);
      linkNext(request, set, page.next_cursor);
      return conditional(request, set, page);
    }, {
      auth: true,
      response: { 200: SiteList, 400: ValidationErrorResponse, 401: ErrorResponse },
      detail: { summary: "List the caller's sites", description: listHeadersDocs, tags: ["Sites"], security: bearerSecurity, parameters: [...pageParameters, ...conditionalGetDocs] },
    })
    .get("/:site_id", async ({ request, userId, params, set }) =>
      conditional(request, set, await sites.get(await sites.requireAccess(params.site_id, userId))), {
      auth: true,
      response: { 200: Site, ...authErrors },
      detail: {
        summary: "One site: drupal_info, last sync, module count",
        description: "Answers with an `ETag`; a request whose `If-None-Match` names it gets 304 with no body.",
        tags: ["Sites"], security: bearerSecurity, parameters: [siteIdParameter, ...conditionalGetDocs],
      },
    })
    .get("/:site_id/modules", async ({ request, userId, params, query, set }) => {
      const page = await sites.listModules(await sites.requireAccess(params.site_id, userId), query);
      linkNext(request, set, page.next_cursor);
      return conditional(request, set, page);
    }, {
      auth: true,
      response: { 200: SiteModuleList, 400: ValidationErrorResponse, ...authErrors },
      detail: {
        summary: "A site's modules, by machine_name",
        description: listHeadersDocs,
        tags: ["Sites"],
        security: bearerSecurity,
        parameters: [siteIdParameter, ...moduleFilterParameters, ...pageParameters, ...conditionalGetDocs],
      },
    })
    .post("/:site_id/token", async ({ request, userId, params, set }) => {
      const site = await sites.requireAccess(params.site_id, userId, "admin", "rotate a site's token");
      const scope = `user:${userId} POST /api/v1/sites/${site.id}/token`;
      return idempotently(idempotency, request, set, { scope, siteId: site.id, maxBodyBytes: SMALL_BODY_BYTES }, () => sites.rotateToken(site));
    }, {
      auth: true,
      response: { 200: SiteToken, ...authErrors },
      detail: {
        summary: "Rotate a site's token",
        description: "Issues a new site token, shown only once; the old one stops working at once (as `site.token` and as a bearer). Admins of the site's organization only (403 `role_required`).",
        tags: ["Sites"], security: bearerSecurity, parameters: [siteIdParameter],
      },
    })
    .delete("/:site_id", async ({ userId, params, set }) => {
      const site = await sites.requireAccess(params.site_id, userId, "admin", "delete a site");
      await sites.delete(site);
      // Its rate-limit bucket too (ids are never reused: this is tidiness, not safety).
      await limiter.forget(site.id).catch(() => {});
      set.status = 204;
      return undefined;
    }, {
      auth: true,
      // Documented by hand: a 204 has no body for a schema to describe.
      detail: {
        responses: {
          204: { description: "Deleted" },
          401: documentedResponse(ErrorResponse, "Missing, unknown or revoked bearer token"),
          403: documentedResponse(ErrorResponse, "Not a member of the site's organization, or not an admin of it (`role_required`)"),
          404: documentedResponse(ErrorResponse, "No such site"),
        },
        summary: "Delete a site and all its data",
        description: "Removes the site with its modules, background tasks and their staged entries, body fingerprint, idempotency keys and rate-limit buckets, in one transaction. A sync of the site still in flight then answers 404. Admins of the site's organization only (403 `role_required`).",
        tags: ["Sites"], security: bearerSecurity, parameters: [siteIdParameter],
      },
    });
}
