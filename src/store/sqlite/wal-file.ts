// The WAL file's size, shared by every connection that may start the WAL over
// (SQLite cuts the file back at that connection's first commit after it).

/** Once the WAL starts over, its file keeps the size of the largest sync it ever held; beyond this it is cut back. */
export const WAL_FILE_LIMIT_BYTES = 64 * 2 ** 20;
