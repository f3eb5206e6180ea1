// The floor: the least work a module-sync endpoint can do on this stack.
// Bare Bun.serve + JSON.parse + bun:sqlite prepared statements, no framework,
// no auth, no rate limit, in-memory id maps. Used only as a yardstick.
// This is modsync's own copy of that yardstick, kept in the repo so `bun run bench`
// works from a plain clone; its behaviour must stay equal to the shared original.
import { Database } from "bun:sqlite";
const db = new Database(process.env.FLOOR_DB ?? ":memory:");
db.exec(`PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;
CREATE TABLE IF NOT EXISTS modules(id INTEGER PRIMARY KEY, machine_name TEXT UNIQUE NOT NULL, display_name TEXT, module_type TEXT, description TEXT);
CREATE TABLE IF NOT EXISTS versions(id INTEGER PRIMARY KEY, module_id INT NOT NULL, version TEXT NOT NULL, UNIQUE(module_id, version));
CREATE TABLE IF NOT EXISTS site_modules(site_id INT NOT NULL, module_id INT NOT NULL, version_id INT NOT NULL, enabled INT NOT NULL, PRIMARY KEY(site_id, module_id)) WITHOUT ROWID;`);
const modIds = new Map<string, number>(), verIds = new Map<string, number>();
const insMod = db.prepare("INSERT INTO modules(machine_name, display_name, module_type, description) VALUES (?,?,?,?) ON CONFLICT(machine_name) DO UPDATE SET display_name=excluded.display_name RETURNING id");
const insVer = db.prepare("INSERT INTO versions(module_id, version) VALUES (?,?) ON CONFLICT(module_id, version) DO UPDATE SET version=excluded.version RETURNING id");
const cur = db.prepare("SELECT module_id, version_id, enabled FROM site_modules WHERE site_id=?");
const up = db.prepare("INSERT INTO site_modules(site_id, module_id, version_id, enabled) VALUES (?,?,?,?) ON CONFLICT(site_id, module_id) DO UPDATE SET version_id=excluded.version_id, enabled=excluded.enabled");
const del = db.prepare("DELETE FROM site_modules WHERE site_id=? AND module_id=?");
const sync = db.transaction((siteId: number, body: any) => {
  const existing = new Map<number, any>(); for (const r of cur.all(siteId) as any[]) existing.set(r.module_id, r);
  let created = 0, updated = 0, unchanged = 0; const seen = new Set<number>();
  for (const m of body.modules) {
    let mid = modIds.get(m.machine_name); if (mid === undefined) { mid = (insMod.get(m.machine_name, m.display_name, m.module_type, m.description ?? null) as any).id; modIds.set(m.machine_name, mid!); }
    const vk = mid + "\0" + m.version; let vid = verIds.get(vk); if (vid === undefined) { vid = (insVer.get(mid!, m.version) as any).id; verIds.set(vk, vid!); }
    seen.add(mid!); const e = existing.get(mid!); const en = m.enabled ? 1 : 0;
    if (!e) { up.run(siteId, mid!, vid!, en); created++; } else if (e.version_id !== vid || e.enabled !== en) { up.run(siteId, mid!, vid!, en); updated++; } else unchanged++;
  }
  let removed = 0; if (body.full_sync) for (const id of existing.keys()) if (!seen.has(id)) { del.run(siteId, id); removed++; }
  return { site_id: siteId, modules_processed: body.modules.length, modules_created: created, modules_updated: updated, modules_unchanged: unchanged, modules_removed: removed, errors: [], message: `Successfully synced ${body.modules.length} modules` };
});
const server = Bun.serve({ port: Number(process.env.PORT ?? 3999), maxRequestBodySize: 600 * 1024 * 1024, async fetch(req) {
  const m = /^\/api\/v1\/sites\/(\d+)\/modules$/.exec(new URL(req.url).pathname);
  if (req.method !== "POST" || !m) return new Response("not found", { status: 404 });
  const body = await req.json(); return Response.json(sync(Number(m[1]), body));
} });
console.log(`floor listening on ${server.port}`);
