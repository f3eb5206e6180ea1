// Controller: GET /api/v1/tasks/:task_id/status.
import { Elysia } from "elysia";
import { bearerSecurity, type BearerAuth } from "../http/auth";
import { ErrorResponse } from "../http/model";
import { documentedResponse, errorResponse } from "../http/openapi";
import { TaskStatus } from "./model";
import type { TasksService } from "./service";

export function tasksRoutes({ auth, tasks }: { auth: BearerAuth; tasks: TasksService }) {
  return new Elysia({ name: "tasks" })
    .use(auth)
    .get("/api/v1/tasks/:task_id/status", ({ userId, params }) => tasks.status(params.task_id, userId), {
      auth: true,
      response: { 200: TaskStatus, 401: ErrorResponse, 404: ErrorResponse },
      detail: {
        operationId: "getTaskStatus",
        summary: "Status of a background sync",
        description: "pending, in_progress (with progress), completed (with the sync result) or failed (with the reason). Only members of the site's organization see a task; for anyone else it does not exist (404).",
        tags: ["Sync"],
        security: bearerSecurity,
        parameters: [{ name: "task_id", in: "path", required: true, description: "`task_id` of the sync's 202 answer", schema: { type: "string", format: "uuid" } }],
        responses: {
          200: documentedResponse(TaskStatus, "The task's state"),
          401: errorResponse("Missing, unknown or revoked bearer token"),
          404: errorResponse("No such task, or not one of the caller's organizations' sites"),
        },
      },
    });
}
