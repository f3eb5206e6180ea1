// A payload's module entries, taken one at a time, for both ways a body is
// read (whole or streamed): each is judged once; while the payload is small
// its judgements are held, to be applied at once; once it holds more than
// SYNC_BACKGROUND_THRESHOLD entries that name a module, a background task is
// begun and everything worth keeping is staged in batches instead.
//
// What is held or staged stays proportional to the modules the payload
// names: a skipped entry is kept only for its name (a full sync must not
// remove that module) or while it is among the first REPORTED_ERRORS errors
// the result lists; past those, a skipped entry is only counted.
import { REPORTED_ERRORS, type Judgement } from "../inventory";
import type { StagedEntry, TaskStore } from "../store/task-types";
import { EntryJudge, ModuleCollector } from "./validate";

export interface IntakeOptions {
  siteId: number;
  backgroundThreshold: number;
  /** Staged entries written per staging write (one transaction). */
  stageRows: number;
}

export class Intake {
  private readonly judge = new EntryJudge();
  /** What a sync applied at once gets; filled only until the payload goes to the background. */
  readonly modules = new ModuleCollector();
  private taskId: string | null = null;
  private pending: StagedEntry[] = [];
  private valid = 0;

  constructor(private readonly tasks: TaskStore, private readonly options: IntakeOptions) {}

  /** The background task this payload goes to, or null while it is applied at once. */
  get task(): string | null {
    return this.taskId;
  }

  get errorsTotal(): number {
    return this.judge.skipped;
  }

  /** Valid entries taken so far, held or staged. */
  get validEntries(): number {
    return this.valid;
  }

  /**
   * Takes the next entry. Returns a promise only when it writes (begins the
   * task or stages a batch): a small payload's entries are taken with no await.
   */
  add(raw: unknown, suspectText: boolean): Promise<void> | undefined {
    const skippedBefore = this.judge.skipped;
    const judged = this.judge.next(raw, suspectText);
    if (judged.entry) this.valid++;
    const staged = stagedForm(judged, skippedBefore);
    if (this.taskId === null) {
      this.modules.add(judged);
      if (staged !== null) this.pending.push(staged);
      return this.modules.held > this.options.backgroundThreshold ? this.begin() : undefined;
    }
    if (staged !== null) this.pending.push(staged);
    return this.pending.length >= this.options.stageRows ? this.flushFull() : undefined;
  }

  private async begin(): Promise<void> {
    this.taskId = await this.tasks.beginUpload(this.options.siteId);
    await this.flushFull();
  }

  /** Stages what is still pending (the payload has ended). */
  async finish(): Promise<void> {
    if (this.taskId !== null && this.pending.length > 0) await this.stage(this.pending.splice(0));
  }

  /** Drops the upload and what it staged (the payload was refused or cut short). */
  async abort(): Promise<void> {
    if (this.taskId !== null) await this.tasks.abortUpload(this.taskId).catch(() => {});
  }

  private async flushFull(): Promise<void> {
    while (this.pending.length >= this.options.stageRows) await this.stage(this.pending.splice(0, this.options.stageRows));
  }

  private async stage(entries: StagedEntry[]): Promise<void> {
    await this.tasks.stageEntries(this.taskId!, entries);
  }
}

/**
 * What of a judgement is staged: a valid entry whole; a skipped one with its
 * error while it is among the first REPORTED_ERRORS, past those with its name
 * only (null: nothing worth keeping).
 */
function stagedForm(judged: Judgement, errorsBefore: number): StagedEntry | null {
  if (judged.entry || errorsBefore < REPORTED_ERRORS) return judged;
  return judged.machineName === null ? null : { index: judged.index, machineName: judged.machineName, error: null };
}
