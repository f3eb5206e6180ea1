// The storage port of background syncs: staging while the body streams in,
// then claimed, applied batch by batch, and finished by workers.
import type { AcceptedSync, Judgement, SyncCounts } from "../inventory";

export type TaskStatus = "receiving" | "pending" | "in_progress" | "completed" | "failed";

/**
 * A judged entry, staged in payload order (repeats already judged as errors).
 * A skipped entry past the first REPORTED_ERRORS keeps only its name (error null).
 */
export type StagedEntry = Judgement | { index: number; machineName: string; entry?: undefined; error: null };

export interface TaskRecord {
  id: string;
  siteId: number;
  status: TaskStatus;
  total: number;
  current: number;
  counts: SyncCounts;
  /** The sync result, for completed tasks. */
  result: unknown;
  error: string | null;
  finishedAt: Date | null;
}

export interface BatchOutcome {
  /** Valid entries applied by this call (0 when there were none left). */
  applied: number;
  current: number;
  total: number;
}

export interface TaskStore {
  /** A task in "receiving" state whose entries are about to be staged. */
  beginUpload(siteId: number): Promise<string>;
  /** Stages entries, as judged (repeats already marked as errors). */
  stageEntries(taskId: string, entries: readonly StagedEntry[]): Promise<void>;
  /** Drops an upload that will not be accepted, with its staged rows. */
  abortUpload(taskId: string): Promise<void>;
  /**
   * Accepts the upload: it becomes "pending", ordered after every sync of the
   * site accepted before it. Returns the number of valid entries.
   */
  acceptUpload(taskId: string, sync: AcceptedSync): Promise<{ total: number }>;

  /** Takes the task for `owner` if it can run now (pending, or its lease expired, and no earlier task of its site is unfinished). */
  claimTask(taskId: string, owner: string, leaseMs: number): Promise<boolean>;
  /**
   * Applies up to `batches` batches of `batchSize` staged entries, each with
   * the task's progress, in one transaction; null if the lease was lost.
   */
  applyTaskBatch(taskId: string, owner: string, batchSize: number, leaseMs: number, batches?: number): Promise<BatchOutcome | null>;
  /** Full-sync removal, the site's drupal_info and the result, in one transaction with the completion. */
  completeTask(taskId: string, owner: string): Promise<boolean>;
  failTask(taskId: string, owner: string, error: string): Promise<void>;
  /** Gives the task back (shutdown): another worker may take it at once. */
  releaseTask(taskId: string, owner: string): Promise<void>;

  getTask(taskId: string): Promise<TaskRecord | null>;
  /** Tasks a worker could take now or soon: pending ones and those whose lease expired, oldest first. */
  runnableTaskIds(limit: number): Promise<string[]>;
  /** Deletes tasks finished before `finishedBefore` and uploads still receiving since before `abandonedBefore`. */
  purgeTasks(finishedBefore: Date, abandonedBefore: Date): Promise<number>;
  /** Deletes recorded site changes older than `before` (HISTORY_RETENTION_DAYS); returns how many. */
  purgeChanges(before: Date): Promise<number>;
}
