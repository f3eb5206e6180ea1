// The SQLite database's folder, made and checked before SQLite opens it: a
// folder this process cannot write (a bind-mounted /data owned by another
// uid, a read-only mount) otherwise fails as "unable to open database file",
// naming neither the path nor the reason.
import { accessSync, constants, existsSync, mkdirSync } from "node:fs";
import { dirname } from "node:path";

const REASONS: Record<string, string> = {
  EACCES: "permission denied",
  EPERM: "operation not permitted",
  EROFS: "read-only file system",
  ENOTDIR: "a part of the path is not a folder",
};

function cannot(action: string, path: string, err: unknown): Error {
  const code = (err as NodeJS.ErrnoException).code ?? "error";
  const uid = process.getuid?.() ?? "?";
  const gid = process.getgid?.() ?? "?";
  return new Error(
    `cannot ${action} ${path}: ${REASONS[code] ?? code} (${code}) for uid ${uid}, gid ${gid}. ` +
    "SQLite keeps the database and its -wal and -shm files in that folder and must create and write them there: " +
    `make it writable by uid ${uid} (for a bind mount, on the host: chown ${uid} <folder>), or set DATABASE_URL to a writable path`,
  );
}

/** Creates the folder of the database at `path` if missing, and checks this process may write the folder and the files SQLite keeps in it. */
export function prepareDatabaseFolder(path: string): void {
  const folder = dirname(path);
  try {
    mkdirSync(folder, { recursive: true });
  } catch (err) {
    throw cannot("create the SQLite database folder", folder, err);
  }
  try {
    accessSync(folder, constants.W_OK | constants.X_OK);
  } catch (err) {
    throw cannot("write in the SQLite database folder", folder, err);
  }
  for (const file of [path, `${path}-wal`, `${path}-shm`]) {
    if (!existsSync(file)) continue;
    try {
      accessSync(file, constants.R_OK | constants.W_OK);
    } catch (err) {
      throw cannot("write the SQLite database file", file, err);
    }
  }
}
