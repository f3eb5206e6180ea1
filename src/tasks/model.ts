// TypeBox models of background syncs: the 202 answer and the task status.
import { t } from "elysia";
import { SyncResult } from "../sync/model";

export const SyncAccepted = t.Object({
  status: t.Literal("accepted"),
  task_id: t.String({ format: "uuid" }),
  message: t.String({ examples: ["Sync of 750 modules queued for processing"] }),
  status_url: t.String({ examples: ["/api/v1/tasks/550e8400-e29b-41d4-a716-446655440000/status"] }),
}, {
  title: "SyncAccepted",
  examples: [{
    status: "accepted",
    task_id: "550e8400-e29b-41d4-a716-446655440000",
    message: "Sync of 750 modules queued for processing",
    status_url: "/api/v1/tasks/550e8400-e29b-41d4-a716-446655440000/status",
  }],
});

/** What a completed task's status shows: the sync result and when it completed. */
export const CompletedResult = t.Composite([SyncResult, t.Object({ completed_at: t.Integer({ description: "Unix time, seconds" }) })]);

export const TaskStatus = t.Union([
  t.Object({ status: t.Literal("pending"), message: t.String({ examples: ["Task is pending execution"] }) }, { title: "TaskPending" }),
  t.Object({
    status: t.Literal("in_progress"),
    progress: t.Object({
      current: t.Integer(),
      total: t.Integer(),
      status: t.String({ examples: ["Processed 250/750 modules"] }),
    }),
  }, { title: "TaskInProgress" }),
  t.Object({
    status: t.Literal("completed"),
    result: CompletedResult,
  }, { title: "TaskCompleted" }),
  t.Object({ status: t.Literal("failed"), error: t.String() }, { title: "TaskFailed" }),
], { title: "TaskStatus" });
