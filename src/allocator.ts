// The server runs with its allocator's purge of freed memory off.
//
// Bun's allocator (mimalloc) hands freed pages back to the OS (madvise) soon
// after the collector frees them, and the next allocation faults them in
// again. A changed sync allocates its body twice over (~26 KB of bytes, then
// of text, for 150 modules), and under load such buffers are freed by the
// thousand at a time: 1.7 page faults and 1.3 madvise calls a request, and a
// threaded process's madvise interrupts every core it runs on. Never purging
// (MIMALLOC_PURGE_DELAY=-1) took 13-20% off a release re-sync's CPU (bench/README
// round 24). The price: memory the process once used stays with it, up to its
// peak (5-15 MiB higher in a 1,000,000-module sync), as with glibc's malloc.
//
// mimalloc reads the variable once, as the process starts: a server started
// without it runs itself again in place (execve: the same pid, arguments and
// open files), with it. A value the operator set is kept as it is (e.g. a
// delay in milliseconds, to give memory back at some cost in CPU).
import { dlopen, FFIType, ptr } from "bun:ffi";
import { readFileSync } from "node:fs";

export const PURGE_DELAY_VARIABLE = "MIMALLOC_PURGE_DELAY";
/** Never purge. */
export const SERVER_PURGE_DELAY = "-1";

/** A NUL-terminated copy, for C. */
const cString = (bytes: Uint8Array | string) => Buffer.concat([Buffer.from(bytes), Buffer.alloc(1)]);

/** A NULL-terminated array of pointers to `strings` (which must stay referenced until the call). */
function pointerArray(strings: Buffer[]): BigUint64Array {
  const pointers = new BigUint64Array(strings.length + 1);
  strings.forEach((s, i) => (pointers[i] = BigInt(ptr(s))));
  return pointers;
}

/** The arguments this process was started with, byte for byte, the runtime's own flags included. */
function startArguments(): Buffer[] {
  const cmdline = readFileSync("/proc/self/cmdline");
  const args: Buffer[] = [];
  for (let start = 0; start < cmdline.length;) {
    const end = cmdline.indexOf(0, start);
    args.push(cmdline.subarray(start, end === -1 ? cmdline.length : end));
    start = end === -1 ? cmdline.length : end + 1;
  }
  return args;
}

/**
 * Returns at once when the variable is set (by the operator, or for the run
 * this one replaced) or off Linux; otherwise replaces the process with itself,
 * the variable set, and does not return. Where that fails (no /proc, no glibc,
 * execve refused) it says so on stderr and returns: the server then runs with
 * the allocator's defaults.
 */
export function runWithSteadyAllocator(env: Record<string, string | undefined> = process.env): void {
  if (env[PURGE_DELAY_VARIABLE] || process.platform !== "linux") return;
  try {
    const args = startArguments().map(cString);
    const variables = Object.entries({ ...env, [PURGE_DELAY_VARIABLE]: SERVER_PURGE_DELAY })
      .filter((entry): entry is [string, string] => entry[1] !== undefined)
      .map(([name, value]) => cString(`${name}=${value}`));
    const executable = cString("/proc/self/exe");
    const argv = pointerArray(args);
    const envp = pointerArray(variables);
    const libc = dlopen("libc.so.6", { execve: { args: [FFIType.ptr, FFIType.ptr, FFIType.ptr], returns: FFIType.i32 } });
    libc.symbols.execve(ptr(executable), ptr(argv), ptr(envp));
    libc.close(); // Only reached when execve failed.
    console.error(`modsync: could not start again with ${PURGE_DELAY_VARIABLE}=${SERVER_PURGE_DELAY} (execve failed); running with the allocator's defaults`);
  } catch (err) {
    console.error(`modsync: could not start again with ${PURGE_DELAY_VARIABLE}=${SERVER_PURGE_DELAY} (${(err as Error).message}); running with the allocator's defaults`);
  }
}
