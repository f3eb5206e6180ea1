// TypeBox models of background syncs: the task status.
import { t } from "elysia";
import { SyncResult } from "../http/model";

/** The poll hint (Retry-After, seconds) of a task not finished yet, on its 202 and its status. */
export const TASK_POLL_SECONDS = 2;

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
