// A preload for measuring what recording the history costs through HTTP:
//   BENCH_MODSYNC_BUN_FLAGS="--preload=./bench/without-history.ts" bun run bench
// (the other side of the A/B: BENCH_MODSYNC_BUN_FLAGS="--no-install", a flag that changes
// nothing here, so that both sides run their rounds in a process of their own)
// makes every modsync the bench starts record no change (both dialects'
// recordChanges do nothing). For the A/B of bench/README.md only: such a
// server's change feeds stay empty and its update statuses are never judged
// again after a change. Never used by src/ or the tests.
import { PostgresHistoryStatements } from "../src/store/postgres/history";
import { SqliteHistoryStatements } from "../src/store/sqlite/history";

for (const statements of [SqliteHistoryStatements.prototype, PostgresHistoryStatements.prototype] as unknown as { recordChanges: unknown }[]) {
  statements.recordChanges = function* () {};
}
console.error("bench/without-history.ts: this modsync records no history");
