// `bun bench/state-layouts.ts [sites] [passes]`: what a release re-sync costs
// Postgres in site_module_states laid out five ways (version_id bigint or
// integer; pages filled to 75, 60 or 50%), counted, not timed, so that the
// machine's unevenness drops out: per site, the buffers the UPDATE found in
// Postgres's buffers and those it read from outside them, its WAL (each pass
// starts after a CHECKPOINT, so each page's first write carries its full
// image, as the first after every checkpoint does), the share of heap-only updates, and the pages
// of the heap and its indexes afterwards. Each table has modsync's columns
// and indexes and the bench's rows: 150 a site, written in key order, the 76
// core ones first, as a first sync writes them; each pass moves those 76 to a
// new version, one site a transaction, inside Postgres (a procedure), so that
// no client round trip is counted. Autovacuum is off for the tables, so that
// no vacuum's pages or WAL fall into a pass's counts, and each pass starts
// from what the one before left. Needs Postgres 15 or later
// (pg_stat_force_next_flush) and a role that may CHECKPOINT: BENCH_DATABASE_URL,
// or the local Postgres. Makes and drops the database
// `modsync_bench_state_layouts` (freshDatabase). bench/README round 38 has its
// figures.
import postgres from "postgres";
import { freshDatabase } from "./lib/modsync";

const SITES = Number(process.argv[2] ?? 10_000);
const PASSES = Number(process.argv[3] ?? 3);
const LAYOUTS = [
  { name: "bigint_75", versionType: "bigint", fillfactor: 75 },
  { name: "bigint_60", versionType: "bigint", fillfactor: 60 },
  { name: "int_75", versionType: "integer", fillfactor: 75 },
  { name: "int_60", versionType: "integer", fillfactor: 60 },
  { name: "int_50", versionType: "integer", fillfactor: 50 },
] as const;
// No SQLite file is made: the temporary folder is never used.
const db = await freshDatabase("", process.env.BENCH_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres", "state_layouts");
const sql = postgres(db.url, { max: 1, onnotice: () => {} });

try {
  await sql.unsafe(`
    CREATE PROCEDURE release_pass(tbl text, sites int) LANGUAGE plpgsql AS $$
    BEGIN
      FOR s IN 1..sites LOOP
        EXECUTE format('UPDATE %I SET version_id = version_id + 1000000, updated_at = now() WHERE site_id = $1 AND module_id <= 76', tbl) USING s;
        COMMIT;
      END LOOP;
    END $$`);
  for (const l of LAYOUTS) {
    await sql.unsafe(`CREATE TABLE ${l.name} (site_id int NOT NULL, module_id int NOT NULL, version_id ${l.versionType}, enabled boolean NOT NULL,
      details_hash bigint, updated_at timestamptz NOT NULL, PRIMARY KEY (site_id, module_id)) WITH (fillfactor = ${l.fillfactor}, autovacuum_enabled = off)`);
    await sql.unsafe(`CREATE INDEX ${l.name}_module ON ${l.name} (module_id, site_id)`);
    await sql.unsafe(`CREATE INDEX ${l.name}_hash_missing ON ${l.name} (site_id, module_id) WHERE details_hash IS NULL`);
    await sql.unsafe(`INSERT INTO ${l.name} SELECT s, m, m * 10, m % 3 <> 0, (s::bigint * 7919 + m) * 104729, now()
      FROM generate_series(1, ${SITES}) s, generate_series(1, 150) m ORDER BY s, m`);
  }
  await sql.unsafe("VACUUM ANALYZE");
  const pages = async (table: string) => {
    const [r] = await sql.unsafe<{ heap: string; indexes: string }[]>(
      `SELECT pg_relation_size('${table}') / 8192 AS heap, pg_indexes_size('${table}') / 8192 AS indexes`);
    return `heap ${r!.heap} + indexes ${r!.indexes} pages`;
  };
  const counters = async (table: string) => {
    // This backend's counts reach the views when flushed; the next statement's snapshot reads them.
    await sql.unsafe("SELECT pg_stat_force_next_flush()");
    const [r] = await sql.unsafe<{ lsn: string; upd: string; hot: string; read: string; hit: string }[]>(`
      SELECT pg_current_wal_lsn()::text AS lsn, t.n_tup_upd AS upd, t.n_tup_hot_upd AS hot,
        io.heap_blks_read + coalesce(io.idx_blks_read, 0) AS read, io.heap_blks_hit + coalesce(io.idx_blks_hit, 0) AS hit
      FROM pg_stat_user_tables t JOIN pg_statio_user_tables io USING (relid) WHERE t.relname = '${table}'`);
    return r!;
  };
  console.log(`${SITES.toLocaleString("en-US")} sites × 150 rows; per site and pass (76 rows moved):`);
  for (const l of LAYOUTS) console.log(`  ${l.name.padEnd(10)} before: ${await pages(l.name)}`);
  for (let pass = 1; pass <= PASSES; pass++) {
    for (const l of LAYOUTS) {
      await sql.unsafe("CHECKPOINT");
      const before = await counters(l.name);
      await sql.unsafe(`CALL release_pass('${l.name}', ${SITES})`);
      const after = await counters(l.name);
      const [wal] = await sql.unsafe<{ bytes: string }[]>(`SELECT pg_wal_lsn_diff('${after.lsn}', '${before.lsn}') AS bytes`);
      const d = (k: "upd" | "hot" | "read" | "hit") => Number(after[k]) - Number(before[k]);
      console.log(`  pass ${pass} ${l.name.padEnd(10)} buffers ${(d("hit") / SITES).toFixed(0).padStart(4)} found, ${(d("read") / SITES).toFixed(2)} read;`
        + ` WAL ${(Number(wal!.bytes) / SITES).toFixed(0).padStart(6)} B; heap-only ${(d("upd") ? (100 * d("hot")) / d("upd") : 0).toFixed(1).padStart(5)}%; ${await pages(l.name)}`);
    }
  }
} finally {
  await sql.end();
  await db.drop();
}
