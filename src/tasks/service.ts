// Task status, as the spec shows it, for members of the task's site's
// organization, and for the site itself: a site that synced with its own
// token follows its 202 with that token.
import type { AccountsService } from "../accounts/service";
import { notFound } from "../errors";
import { bearerToken, isSiteToken, tokenMatches } from "../security/tokens";
import type { TaskRecord } from "../store/task-types";
import type { Store } from "../store/types";
import type { CompletedResult } from "./model";

const TASK_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export class TasksService {
  constructor(private readonly store: Store, private readonly accounts: AccountsService) {}

  /**
   * The task, for a bearer that may read it: a person's API token of a member
   * of its site's organization, or its site's own token. Unknown tasks, tasks
   * of other organizations' sites and, for a site token, other sites' tasks
   * alike answer 404: ids reveal nothing. A bearer that is no token at all: 401.
   */
  async status(taskId: string, authorization: string | null) {
    const token = bearerToken(authorization, 512);
    const userId = isSiteToken(token) ? null : await this.accounts.authenticate(authorization);
    const task = TASK_ID.test(taskId) ? await this.store.tasks.getTask(taskId) : null;
    if (!task || task.status === "receiving" || !(await this.mayRead(task, userId, token))) throw notFound("Task not found", "task_not_found");
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

  private async mayRead(task: TaskRecord, userId: number | null, token: string): Promise<boolean> {
    const access = await this.store.getSiteAccess(task.siteId, userId ?? 0);
    if (!access) return false;
    return userId === null ? tokenMatches(token, access.site.tokenHash) : access.isMember;
  }
}
