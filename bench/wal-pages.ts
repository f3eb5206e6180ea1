// `bun bench/wal-pages.ts`: the pages one sync writes on SQLite, by table and
// index, for each shape (drift: 1 version of 150 changed; release: the 76 core
// modules moved). A page written is a WAL frame at commit, copied back into
// the database at the next checkpoint: most of a small sync's commit cost
// (measured about 5 µs a page on this machine). Read from the WAL's frame
// headers after 20 syncs, with automatic checkpoints off; names from dbstat.
import { readFileSync } from "node:fs";
import type { SiteModuleState } from "../src/inventory";
import type { SqliteStore } from "../src/store/sqlite/store";
import { storeWorld } from "./lib/store-world";

const SYNCS = 20;
const PAGE = 4096;
const { store, base, sites, command, close } = await storeWorld("wal-pages", SYNCS);
const raw = (store as SqliteStore).raw;
raw.exec("PRAGMA wal_autocheckpoint = 0");
let pass = 0;
function shape(kind: "drift" | "release"): SiteModuleState[] {
  pass++;
  return base.map((m, i) => (kind === "drift" ? i === pass % 150 : m.moduleType === "core") ? { ...m, version: `${kind}-${pass}-${i}` } : m);
}
// Twice each: the first pass of a shape also creates its version rows' pages.
for (const kind of ["drift", "release", "drift", "release"] as const) {
  raw.query("PRAGMA wal_checkpoint(TRUNCATE)").run();
  for (const id of sites) await store.applySync(command(id, shape(kind)));
  const wal = readFileSync(`${raw.filename}-wal`);
  const frames = new Map<number, number>();
  // WAL header 32 bytes; each frame a 24-byte header (page number first) and the page.
  for (let at = 32; at + 24 + PAGE <= wal.length; at += 24 + PAGE) frames.set(wal.readUInt32BE(at), (frames.get(wal.readUInt32BE(at)) ?? 0) + 1);
  const owner = new Map(raw.query("SELECT pageno, name FROM dbstat").values() as [number, string][]);
  const byName = new Map<string, number>();
  for (const [page, n] of frames) byName.set(owner.get(page) ?? "?", (byName.get(owner.get(page) ?? "?") ?? 0) + n);
  const total = [...frames.values()].reduce((a, b) => a + b, 0);
  const parts = [...byName].sort((a, b) => b[1] - a[1]).map(([name, n]) => `${name} ${(n / SYNCS).toFixed(1)}`);
  console.log(`${kind.padEnd(8)} ${(total / SYNCS).toFixed(1)} pages per sync: ${parts.join(", ")}`);
}
await close();
