// The SQLite database and its -wal and -shm files are created readable by the
// service's user only (0600), whatever the umask; an existing file keeps the
// mode its operator gave it.
import { afterAll, afterEach, beforeEach, expect, test } from "bun:test";
import { chmodSync, existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SqliteStore } from "../../src/store/sqlite/store";

const dir = mkdtempSync(join(tmpdir(), "modsync-files-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// The usual umask, which leaves new files readable by everyone (0644): the
// files must come out 0600 anyway. Restored after each test.
let umask: number;
beforeEach(() => {
  umask = process.umask(0o022);
});
afterEach(() => {
  process.umask(umask);
});

const modeOf = (path: string) => statSync(path).mode & 0o777;
const modes = (path: string) => Object.fromEntries(["", "-wal", "-shm"].map((suffix) => [`modsync.db${suffix}`, existsSync(path + suffix) ? modeOf(path + suffix).toString(8) : "missing"]));

test("a new database, its -wal and its -shm are 0600 after a write, and again when reopened later", async () => {
  const path = join(dir, "new", "modsync.db");
  let store = SqliteStore.connect(path);
  await store.createOrganization("Private Org");
  expect(modes(path)).toEqual({ "modsync.db": "600", "modsync.db-wal": "600", "modsync.db-shm": "600" });
  await store.close();

  // The last connection's close removes -wal and -shm: the next start creates them again.
  expect(existsSync(`${path}-wal`)).toBe(false);
  store = SqliteStore.connect(path);
  await store.createOrganization("Second Org");
  expect(modes(path)).toEqual({ "modsync.db": "600", "modsync.db-wal": "600", "modsync.db-shm": "600" });
  await store.close();
});

test("an existing database file keeps its mode", async () => {
  const path = join(dir, "existing.db");
  writeFileSync(path, "");
  chmodSync(path, 0o640);
  const store = SqliteStore.connect(path);
  await store.createOrganization("Org");
  expect(modeOf(path).toString(8)).toBe("640");
  await store.close();
});
