// Background job (run by the update statuses thread's rounds, updates/upkeep.ts):
// recomputes the top contrib modules of the organizations whose sites changed,
// at most every SUMMARY_REFRESH_SECONDS, so the summary route only reads them.
import type { TopModulesStore } from "../store/top-modules";

/** How many modules the summary lists. */
export const TOP_MODULES = 10;

export class TopModulesRefresh {
  /** When the last pass started; null: none yet (the first round runs one). */
  private lastAt: number | null = null;

  constructor(private readonly store: TopModulesStore, private readonly everyMs: number, private readonly clock: () => number = Date.now) {}

  /** One pass over the organizations due, unless the last one started less than `everyMs` ago. */
  async runIfDue(): Promise<void> {
    const now = this.clock();
    if (this.lastAt !== null && now - this.lastAt < this.everyMs) return;
    this.lastAt = now;
    await this.run(now);
  }

  /** Recomputes every organization whose sites changed since its last refresh; returns their ids. */
  async run(now = this.clock()): Promise<number[]> {
    const due = await this.store.due();
    // One organization at a time: each is one read and one short write transaction.
    for (const { organizationId, signature } of due) await this.store.refresh(organizationId, signature, TOP_MODULES, new Date(now));
    return due.map((d) => d.organizationId);
  }
}
