// Controller: GET /api/v1/tasks/:task_id/status.
import { Elysia } from "elysia";
import { bearerSecurity } from "../http/auth";
import { conditional } from "../http/conditional";
import { ErrorResponse } from "../http/model";
import { documentedResponse, errorResponse } from "../http/openapi";
import { TASK_POLL_SECONDS, TaskStatus } from "./model";
import type { TasksService } from "./service";

export function tasksRoutes({ tasks }: { tasks: TasksService }) {
  return new Elysia({ name: "tasks" })
    .get("/api/v1/tasks/:task_id/status", async ({ request, params, set }) => {
      // Either bearer (a person's API token or the task's site's token): see TasksService.status.
      const status = await tasks.status(params.task_id, request.headers.get("authorization"));
      // Still running: when to look again.
      if (status.status === "pending" || status.status === "in_progress") set.headers["retry-after"] = String(TASK_POLL_SECONDS);
      return conditional(request, set, status);
    }, {
      response: { 200: TaskStatus, 401: ErrorResponse, 404: ErrorResponse },
      detail: {
        operationId: "getTaskStatus",
        summary: "Status of a background sync",
        description: `pending, in_progress (with progress), completed (with the sync result) or failed (with the reason). Members of the site's organization see a task, with their API token, and so does the site itself with its own site token (the bearer of its sync); for anyone else it does not exist (404). While pending or in progress the answer carries \`Retry-After: ${TASK_POLL_SECONDS}\` (seconds: when to poll again); every answer carries an \`ETag\` (304 for a matching \`If-None-Match\`).`,
        tags: ["Sync"],
        security: [...bearerSecurity, { siteToken: [] }],
        parameters: [{ name: "task_id", in: "path", required: true, description: "`task_id` of the sync's 202 answer", schema: { type: "string", format: "uuid" } }],
        responses: {
          200: documentedResponse(TaskStatus, "The task's state", {
            ETag: { description: "The answer's tag: send it back as `If-None-Match`", schema: { type: "string" } },
            "Retry-After": { description: `While pending or in progress: seconds before polling again (${TASK_POLL_SECONDS})`, schema: { type: "integer" } },
          }),
          304: { description: "Not modified: `If-None-Match` names the current `ETag`" },
          401: errorResponse("Missing, unknown or revoked bearer token"),
          404: errorResponse("No such task, or not one of the caller's organizations' sites"),
        },
      },
    });
}
