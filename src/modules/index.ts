// Controller: where a module runs (GET /api/v1/modules/{machine_name}/sites)
// and the usage table (GET /api/v1/modules), over the caller's sites only.
import { Elysia } from "elysia";
import { bearerSecurity, type BearerAuth } from "../http/auth";
import { ErrorResponse, ValidationErrorResponse } from "../http/model";
import { documentedResponse, errorResponse } from "../http/openapi";
import { pageParameters } from "../sites/model";
import { machineNameParameter, moduleSearchParameters, moduleSiteParameters, ModuleSiteList, ModuleUsageList } from "./model";
import type { ModulesService } from "./service";

export function modulesRoutes({ auth, modules }: { auth: BearerAuth; modules: ModulesService }) {
  const errors = { 400: ValidationErrorResponse, 401: ErrorResponse, 403: ErrorResponse };
  const documentedErrors = {
    400: errorResponse("A query parameter (or the machine name) invalid (`errors` names it)", undefined, ValidationErrorResponse),
    401: errorResponse("Missing, unknown or revoked bearer token"),
    403: errorResponse("`organization_id` names an organization the caller is not a member of"),
  };
  return new Elysia({ name: "modules", prefix: "/api/v1/modules" })
    .use(auth)
    .get("", async ({ userId, query }) => modules.usage(userId, query), {
      auth: true,
      response: { 200: ModuleUsageList, ...errors },
      detail: {
        operationId: "listModuleUsage",
        summary: "The modules your sites run, with how many sites run each version",
        description: "Modules by machine_name; 403 for an organization_id the caller does not belong to.",
        tags: ["Questions"], security: bearerSecurity, parameters: moduleSearchParameters,
        responses: { 200: documentedResponse(ModuleUsageList, "One page of modules, by machine_name"), ...documentedErrors },
      },
    })
    .get("/:machine_name/sites", async ({ userId, params, query }) => modules.sites(userId, params.machine_name, query), {
      auth: true,
      response: { 200: ModuleSiteList, ...errors },
      detail: {
        operationId: "listModuleSites",
        summary: "Where a module runs: your sites running it, by site id",
        description: "Each site with its version of the module, enabled flag and last sync. A module none of your sites runs gives an empty list.",
        tags: ["Questions"], security: bearerSecurity, parameters: [machineNameParameter, ...moduleSiteParameters, ...pageParameters],
        responses: { 200: documentedResponse(ModuleSiteList, "One page of sites running the module"), ...documentedErrors },
      },
    });
}
