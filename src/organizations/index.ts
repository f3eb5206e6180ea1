// Controller: GET /api/v1/organizations/{id}/summary.
import { Elysia } from "elysia";
import { bearerSecurity, type BearerAuth } from "../http/auth";
import { authErrors } from "../http/model";
import { documentedResponse, errorResponse } from "../http/openapi";
import { OrganizationSummary, organizationIdParameter } from "./model";
import type { OrganizationsService } from "./service";

export function organizationsRoutes({ auth, organizations }: { auth: BearerAuth; organizations: OrganizationsService }) {
  return new Elysia({ name: "organizations", prefix: "/api/v1/organizations" })
    .use(auth)
    .get("/:id/summary", async ({ userId, params }) => organizations.summary(userId, params.id), {
      auth: true,
      response: { 200: OrganizationSummary, ...authErrors },
      detail: {
        operationId: "getOrganizationSummary",
        summary: "An organization at a glance",
        description: "Sites, stale sites, sites synced in the last 24 h, core and PHP versions, the ten most common contrib modules (computed in the background every SUMMARY_REFRESH_SECONDS at most, with the time they were computed). 403 for an organization the caller is not in (whether or not it exists).",
        tags: ["Questions"], security: bearerSecurity, parameters: [organizationIdParameter],
        responses: {
          200: documentedResponse(OrganizationSummary, "The organization's figures"),
          401: errorResponse("Missing, unknown or revoked bearer token"),
          403: errorResponse("Not a member of that organization (whether or not it exists)"),
          404: errorResponse("`id` is not a positive 32-bit integer"),
        },
      },
    });
}
