// Task status, as the spec shows it, for members of the task's site's organization.
import { notFound } from "../errors";
import type { Store } from "../store/types";
import type { CompletedResult } from "./model";

const TASK_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export class TasksService {
  constructor(private readonly store: Store) {}

  /** Unknown tasks and tasks of other organizations' sites alike answer 404: ids reveal nothing. */
  async status(taskId: string, userId: number) {
    const task = TASK_ID.test(taskId) ? await this.store.tasks.getTask(taskId) : null;
    const access = task && task.status !== "receiving" ? await this.store.getSiteAccess(task.siteId, userId) : null;
    if (!task || !access?.isMember) throw notFound("Task not found", "task_not_found");
    switch (task.status) {
      case "completed":
        // Written by the store from the same counts a synchronous sync returns.
        return { status: "completed" as const, result: task.result as typeof CompletedResult.static };
      case "failed":
        return { status: "failed" as const, error: task.error ?? "Failed" };
      case "in_progress":
        return {
          status: "in_progress" as const,
          progress: { current: task.current, total: task.total, status: `Processed ${task.current}/${task.total} modules` },
        };
      default:
        return { status: "pending" as const, message: "Task is pending execution" };
    }
  }
}
