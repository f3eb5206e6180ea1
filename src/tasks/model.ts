// TypeBox models of background syncs: the task status.
// Type.Integer, not Elysia's t.Integer: the latter is documented as "integer or numeric string".
import { Type } from "@sinclair/typebox";
import { t } from "elysia";
import { SyncResult } from "../http/model";

/** The poll hint (Retry-After, seconds) of a task not finished yet, on its 202 and its status. */
export const TASK_POLL_SECONDS = 2;

/** What a completed task's status shows: the sync result and when it completed. */
export const CompletedResult = t.Composite([SyncResult, t.Object({
  completed_at: Type.Integer({
    minimum: 0,
    description: "When the task completed, in Unix seconds (UTC), as the ingestion spec has it; every other time in this API is an ISO 8601 string",
    examples: [1640995200],
  }),
})], { title: "TaskResult" });

export const TaskStatus = t.Union([
  t.Object({ status: t.Literal("pending"), message: t.String({ examples: ["Task is pending execution"] }) }, { title: "TaskPending" }),
  t.Object({
    status: t.Literal("in_progress"),
    progress: t.Object({
      current: Type.Integer({ minimum: 0, description: "Module entries applied so far" }),
      total: Type.Integer({ minimum: 0, description: "Module entries to apply" }),
      status: t.String({ examples: ["Processed 250/750 modules"] }),
    }, { title: "TaskProgress" }),
  }, { title: "TaskInProgress" }),
  t.Object({
    status: t.Literal("completed"),
    result: CompletedResult,
  }, { title: "TaskCompleted" }),
  t.Object({ status: t.Literal("failed"), error: t.String({ description: "Why the sync failed" }) }, { title: "TaskFailed" }),
], { title: "Task", description: "A background sync's state; `status` tells which of the four it is" });
