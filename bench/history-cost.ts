// `bun bench/history-cost.ts`: what recording the history costs a sync, in
// process, A/B interleaved so both sides share the machine's load: the same
// syncs applied with the history's statement and with it replaced by nothing.
// Shapes: drift (1 version changed of 150) and release (76 changed).
// SQLite by default; BENCH_DATABASE_URL=postgres://… for Postgres (an empty database).
import type { SiteModuleState } from "../src/inventory";
import { PostgresHistoryStatements } from "../src/store/postgres/history";
import { SqliteHistoryStatements } from "../src/store/sqlite/history";
import { storeWorld } from "./lib/store-world";

const SITES = 200;
const ROUNDS = Number(process.env.BENCH_HISTORY_ROUNDS ?? 6);

const { store, dialect, base, sites, command, close } = await storeWorld("history", SITES);

let pass = 0;
function shape(kind: "drift" | "release"): SiteModuleState[] {
  pass++;
  return base.map((m, i) => (kind === "drift" ? i === pass % 150 : m.moduleType === "core") ? { ...m, version: `${kind}-${pass}-${i}` } : m);
}

// History off: recordChanges replaced, on both dialects' classes, by a step that does nothing.
type Recorder = { recordChanges: unknown };
const protos = [SqliteHistoryStatements.prototype, PostgresHistoryStatements.prototype] as unknown as Recorder[];
const originals = protos.map((p) => p.recordChanges);
function setHistory(on: boolean) {
  protos.forEach((p, i) => (p.recordChanges = on ? originals[i] : function* () {}));
}

type Side = { on: number[]; off: number[] };
const results: Record<string, Side> = { drift: { on: [], off: [] }, release: { on: [], off: [] } };
// Wall time too: on Postgres most of a statement's cost is the server's, not this process's.
const wall: Record<string, Side> = { drift: { on: [], off: [] }, release: { on: [], off: [] } };
for (let r = 0; r < ROUNDS; r++) {
  for (const kind of ["drift", "release"] as const) {
    for (const on of r % 2 === 0 ? [true, false] : [false, true]) {
      setHistory(on);
      const bodies = sites.map((id) => command(id, shape(kind)));
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      for (const c of bodies) await store.applySync(c);
      const elapsed = performance.now() - t0;
      const cpu = process.cpuUsage(cpu0);
      results[kind]![on ? "on" : "off"].push((cpu.user + cpu.system) / bodies.length);
      wall[kind]![on ? "on" : "off"].push((elapsed * 1000) / bodies.length);
    }
  }
}
setHistory(true);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
console.log(`${dialect}: per sync (µs), median of ${ROUNDS} interleaved rounds of ${SITES} syncs, one after another`);
for (const [what, table] of [["CPU of this process", results], ["wall time", wall]] as const) {
  for (const [kind, r] of Object.entries(table)) {
    const on = median(r.on), off = median(r.off);
    console.log(`  ${what.padEnd(19)} ${kind.padEnd(8)} with history ${on.toFixed(0)}  without ${off.toFixed(0)}  ratio ${(on / off).toFixed(3)}`);
  }
}
await close();
