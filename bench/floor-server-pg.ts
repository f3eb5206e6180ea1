// The Postgres floor: the least work a module-sync endpoint can do on Postgres from Bun.
// Bare Bun.serve + JSON.parse + postgres-js, one transaction per sync with a row lock on the
// site, multi-row upserts of what changed, in-memory id maps. No auth, no validation, no rate
// limit. A yardstick only. FLOOR_PG: connection URL of an empty database; run from the project
// root (postgres-js is taken from its node_modules), e.g. FLOOR_PG=postgres://... PORT=3998 bun ../shared/bench/floor-server-pg.ts
// This is modsync's own copy of that yardstick, kept in the repo so `bun run bench` can measure
// Postgres from a plain clone (started with PROJECT_DIR set); its behaviour must stay equal to the shared original.
const { default: postgres } = await import(`${process.env.PROJECT_DIR ?? process.cwd()}/node_modules/postgres/src/index.js`);
const sql = postgres(process.env.FLOOR_PG!, { max: 10, onnotice: () => {} });
await sql.unsafe(`
CREATE TABLE IF NOT EXISTS sites(id INT PRIMARY KEY);
CREATE TABLE IF NOT EXISTS modules(id SERIAL PRIMARY KEY, machine_name TEXT UNIQUE NOT NULL, display_name TEXT, module_type TEXT, description TEXT);
CREATE TABLE IF NOT EXISTS versions(id SERIAL PRIMARY KEY, module_id INT NOT NULL, version TEXT NOT NULL, UNIQUE(module_id, version));
CREATE TABLE IF NOT EXISTS site_modules(site_id INT NOT NULL, module_id INT NOT NULL, version_id INT NOT NULL, enabled BOOLEAN NOT NULL, PRIMARY KEY(site_id, module_id));`);
const modIds = new Map<string, number>(), verIds = new Map<string, number>();
async function sync(siteId: number, body: any) {
  return sql.begin(async (tx: any) => {
    await tx`INSERT INTO sites(id) VALUES (${siteId}) ON CONFLICT (id) DO NOTHING`;
    await tx`SELECT id FROM sites WHERE id = ${siteId} FOR UPDATE`;
    const newMods = body.modules.filter((m: any) => !modIds.has(m.machine_name));
    if (newMods.length) for (const r of await tx`INSERT INTO modules ${tx(newMods.map((m: any) => ({ machine_name: m.machine_name, display_name: m.display_name, module_type: m.module_type, description: m.description ?? null })))} ON CONFLICT (machine_name) DO UPDATE SET display_name = excluded.display_name RETURNING id, machine_name`) modIds.set(r.machine_name, r.id);
    const newVers = body.modules.filter((m: any) => !verIds.has(modIds.get(m.machine_name) + "\0" + m.version));
    if (newVers.length) for (const r of await tx`INSERT INTO versions ${tx(newVers.map((m: any) => ({ module_id: modIds.get(m.machine_name), version: m.version })))} ON CONFLICT (module_id, version) DO UPDATE SET version = excluded.version RETURNING id, module_id, version`) verIds.set(r.module_id + "\0" + r.version, r.id);
    const existing = new Map<number, any>(); for (const r of await tx`SELECT module_id, version_id, enabled FROM site_modules WHERE site_id = ${siteId}`) existing.set(r.module_id, r);
    let created = 0, updated = 0, unchanged = 0; const seen = new Set<number>(); const writes: any[] = [];
    for (const m of body.modules) {
      const mid = modIds.get(m.machine_name)!; const vid = verIds.get(mid + "\0" + m.version)!; seen.add(mid);
      const e = existing.get(mid);
      if (!e) { created++; writes.push({ site_id: siteId, module_id: mid, version_id: vid, enabled: !!m.enabled }); }
      else if (e.version_id !== vid || e.enabled !== !!m.enabled) { updated++; writes.push({ site_id: siteId, module_id: mid, version_id: vid, enabled: !!m.enabled }); }
      else unchanged++;
    }
    if (writes.length) await tx`INSERT INTO site_modules ${tx(writes)} ON CONFLICT (site_id, module_id) DO UPDATE SET version_id = excluded.version_id, enabled = excluded.enabled`;
    let removed = 0;
    if (body.full_sync) { const gone = [...existing.keys()].filter((id) => !seen.has(id)); removed = gone.length; if (gone.length) await tx`DELETE FROM site_modules WHERE site_id = ${siteId} AND module_id IN ${tx(gone)}`; }
    return { site_id: siteId, modules_processed: body.modules.length, modules_created: created, modules_updated: updated, modules_unchanged: unchanged, modules_removed: removed, errors: [], message: `Successfully synced ${body.modules.length} modules` };
  });
}
const server = Bun.serve({ port: Number(process.env.PORT ?? 3998), maxRequestBodySize: 600 * 1024 * 1024, async fetch(req) {
  const m = /^\/api\/v1\/sites\/(\d+)\/modules$/.exec(new URL(req.url).pathname);
  if (req.method !== "POST" || !m) return new Response("not found", { status: 404 });
  return Response.json(await sync(Number(m[1]), await req.json()));
} });
console.log(`postgres floor listening on ${server.port}`);
export {}; // not in the original: makes this file a module for tsc (top-level await); changes nothing at run time
