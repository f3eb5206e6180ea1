// The database file holds every organization, user, site and inventory (and
// the token hashes): only the service's own user may read it, whatever the
// umask of whoever started the server or the CLI first.
import { closeSync, constants, openSync } from "node:fs";

/**
 * Creates `path`, empty, with mode 0600, unless it exists (an existing file
 * keeps the mode its operator gave it). An empty file is an empty database
 * to SQLite, and SQLite gives the -wal and -shm files it creates, now or
 * after any later restart, the database file's mode: they are 0600 too.
 * Not process.umask(): it is process-wide (other threads create files too)
 * and worker threads may not change it.
 */
export function createPrivately(path: string): void {
  try {
    closeSync(openSync(path, constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY, 0o600));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
  }
}
