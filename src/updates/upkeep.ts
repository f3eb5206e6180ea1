// The background work of update statuses: every few seconds, compute the
// statuses of sites synced since (or whose release data changed); when
// RELEASE_HISTORY_URL is set, refresh release data once it is due. One round
// at a time; a failing round is logged and the next one tries again.
import type { Logger } from "../log";
import type { ReleaseRefresher } from "./refresher";
import type { UpdateStatuses } from "./statuses";

/** How soon after a sync its site's statuses are computed, at most (plus the round's own time). */
export const ROUND_EVERY_MS = 2000;

export class UpdatesUpkeep {
  private timer: ReturnType<typeof setInterval> | null = null;
  private round: Promise<void> | null = null;

  constructor(
    private readonly statuses: UpdateStatuses,
    private readonly refresher: ReleaseRefresher | null,
    private readonly logger: Logger,
  ) {}

  start(everyMs = ROUND_EVERY_MS): void {
    this.timer = setInterval(() => void this.runRound(), everyMs);
    void this.runRound();
  }

  /** One round (or the one under way). */
  runRound(): Promise<void> {
    this.round ??= this.work().finally(() => {
      this.round = null;
    });
    return this.round;
  }

  private async work(): Promise<void> {
    try {
      await this.statuses.computePending();
      const report = await this.refresher?.refreshIfDue();
      if (report && report.changed.length > 0) await this.statuses.computePending();
    } catch (err) {
      this.logger.warn("update statuses round failed", { error: err instanceof Error ? err.message : String(err) });
    }
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.round;
  }
}
