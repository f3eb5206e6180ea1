// In-process benches run with mimalloc's purging of freed memory off.
//
// Bun's allocator hands freed pages back to the OS (madvise) soon after the
// collector frees them, and the next allocation faults them in again. A bench
// that builds its own request bodies in the process it measures frees ~26 KB
// strings by the thousand: with purging on, bench/ab-inprocess.ts counted 23
// page faults a drift sync (2 with it off), its main thread 428 µs a sync
// against 199, and rounds of one tree against itself spread 0.81-1.24 against
// 0.93-1.08 (bench/README round 24). The HTTP server, whose bodies come from
// the socket, faults 1.7 times a request: it runs as it ships.
//
// The setting is read once, at the process's start: a process without it runs
// itself again with it, and exits with its child's code.
export const STEADY_ALLOCATOR = { MIMALLOC_PURGE_DELAY: "-1" } as const;

export async function ensureSteadyAllocator(): Promise<void> {
  if (process.env.MIMALLOC_PURGE_DELAY === STEADY_ALLOCATOR.MIMALLOC_PURGE_DELAY) return;
  const child = Bun.spawn([process.execPath, ...process.argv.slice(1)], {
    env: { ...process.env, ...STEADY_ALLOCATOR },
    stdio: ["inherit", "inherit", "inherit"],
  });
  process.exit(await child.exited);
}
