// The server runs with its allocator's purge of freed memory off.
//
// Bun's allocator (mimalloc) hands freed pages back to the OS (madvise) soon
// after the collector frees them, and the next allocation faults them in
// again. A changed sync allocates its body twice over (~26 KB of bytes, then
// of text, for 150 modules), and under load such buffers are freed by the
// thousand at a time: 1.7 page faults and 1.3 madvise calls a request, and a
// threaded process's madvise interrupts every core it runs on. Never purging
// (MIMALLOC_PURGE_DELAY=-1) took 13-20% off a release re-sync's CPU under
// HTTP, and 11-23% off a drift one's in four runs of six (bench/README round
// 24). The price: memory the process freed is not given back to the OS, so
// it keeps what its busiest moment needed.
//
// mimalloc reads the variable once, as the process starts, from the process's
// real environment (not from .env files, which Bun reads later): a server
// started without it runs itself again in place (execve: the same pid,
// arguments, environment and open files) with it. A value the operator set is
// kept (e.g. a delay in milliseconds, to give memory back at some cost in
// CPU); an empty one counts as unset.
import { dlopen, FFIType, ptr } from "bun:ffi";
import { readFileSync } from "node:fs";

export const PURGE_DELAY_VARIABLE = "MIMALLOC_PURGE_DELAY";
/** Never purge. */
export const SERVER_PURGE_DELAY = "-1";

/** A NUL-separated /proc file's entries, byte for byte. */
function procEntries(path: string): Buffer[] {
  const bytes = readFileSync(path);
  const entries: Buffer[] = [];
  for (let start = 0; start < bytes.length;) {
    const end = bytes.indexOf(0, start);
    entries.push(bytes.subarray(start, end === -1 ? bytes.length : end));
    start = end === -1 ? bytes.length : end + 1;
  }
  return entries;
}

/** A NUL-terminated copy, for C. */
const cString = (bytes: Uint8Array | string) => Buffer.concat([Buffer.from(bytes), Buffer.alloc(1)]);

/** A NULL-terminated array of pointers to `strings` (which must stay referenced until the call). */
function pointerArray(strings: Buffer[]): BigUint64Array {
  const pointers = new BigUint64Array(strings.length + 1);
  strings.forEach((s, i) => (pointers[i] = BigInt(ptr(s))));
  return pointers;
}

/**
 * Returns at once when the process's environment holds the variable (set by
 * the operator, or for the run this one replaced), off Linux, or under a
 * debugger (--inspect*: its session would not survive); otherwise replaces
 * the process with itself, the variable set, and does not return. Where that
 * fails (no /proc, no glibc, execve refused) it says so on stderr and
 * returns: the server then runs with the allocator's defaults.
 *
 * `self`: where the process's environ, cmdline and exe are read (/proc/self;
 * a test gives a folder of its own to see the failures through).
 */
export function runWithSteadyAllocator(self = "/proc/self"): void {
  if (process.platform !== "linux" || process.execArgv.some((flag) => flag.startsWith("--inspect"))) return;
  const prefix = `${PURGE_DELAY_VARIABLE}=`;
  const carryOn = (why: string) => console.error(`modsync: could not start again with ${prefix}${SERVER_PURGE_DELAY} (${why}); running with the allocator's defaults`);
  try {
    const environment = procEntries(`${self}/environ`);
    const isSetting = (entry: Buffer) => entry.toString("latin1").startsWith(prefix);
    if (environment.some((entry) => isSetting(entry) && entry.length > prefix.length)) return;
    // The exact arguments and environment the process was started with (the runtime's flags included, no .env).
    const args = procEntries(`${self}/cmdline`).map(cString);
    const variables = [...environment.filter((entry) => !isSetting(entry)).map(cString), cString(prefix + SERVER_PURGE_DELAY)];
    const executable = cString(`${self}/exe`);
    const argv = pointerArray(args);
    const envp = pointerArray(variables);
    const libc = dlopen("libc.so.6", { execve: { args: [FFIType.ptr, FFIType.ptr, FFIType.ptr], returns: FFIType.i32 } });
    libc.symbols.execve(ptr(executable), ptr(argv), ptr(envp));
    libc.close(); // Only reached when execve failed.
    carryOn("execve failed");
  } catch (err) {
    carryOn((err as Error).message);
  }
}
