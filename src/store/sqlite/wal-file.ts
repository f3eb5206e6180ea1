// The WAL file's size, shared by every connection that may start the WAL over
// (SQLite cuts the file back at that connection's first commit after it).

/**
 * Once the WAL starts over, its file keeps the size of the largest sync it
 * ever held; beyond this it is cut back. 128 MiB, above the ~117 MiB at which
 * a connection checkpoints by itself (WAL_LIMIT_PAGES): under a 10,000-site
 * release load the WAL held up to 25,000 frames when the checkpoint thread
 * started it over, and cutting it back from there took 7-25 ms of the 20-30
 * the writers waited (64 MiB before; 0.6-2.2 ms with 128; bench/README round 28).
 */
export const WAL_FILE_LIMIT_BYTES = 128 * 2 ** 20;
