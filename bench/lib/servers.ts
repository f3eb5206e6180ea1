// Starting, probing and stopping the servers under test. Each server is
// spawned as the bun binary itself (no shell in between), so the pid we hold
// is the server's and /proc/<pid>/status describes its memory.
import { readdirSync, readFileSync } from "node:fs";
import type { Subprocess } from "bun";
import { PURGE_DELAY_VARIABLE } from "../../src/allocator";

export interface Server {
  name: string;
  base: string;
  proc: Subprocess;
  /** How long stopServer waits after SIGTERM before SIGKILL. */
  graceMs: number;
}

/** A port that was free a moment ago on 127.0.0.1 (the OS picks it). */
export function freePort(): number {
  const probe = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response() });
  const port = probe.port;
  probe.stop(true);
  if (port === undefined) throw new Error("could not obtain a free port");
  return port;
}

export async function startServer(opts: {
  name: string;
  script: string;
  /** bun options before the script (e.g. --cpu-prof-md); none by default. */
  bunFlags?: readonly string[];
  port: number;
  env: Record<string, string>;
  /** Variables of the bench's own environment the server must not inherit (before `env` applies). */
  unset?: readonly string[];
  /** Path that answers 200 once the server is ready; absent: any HTTP answer will do. */
  readyPath?: string;
  cwd: string;
}): Promise<Server> {
  const inherited = { ...process.env };
  for (const name of opts.unset ?? []) delete inherited[name];
  // Each server runs with the allocator settings it ships with: the floor with
  // Bun's defaults, modsync with those it sets for itself (src/allocator.ts).
  delete inherited[PURGE_DELAY_VARIABLE];
  const proc = Bun.spawn([process.execPath, ...(opts.bunFlags ?? []), opts.script], {
    cwd: opts.cwd,
    env: { ...inherited, ...opts.env, PORT: String(opts.port) },
    // Servers log readiness on stdout; only their warnings and errors matter here.
    stdout: "ignore",
    stderr: "inherit",
  });
  // A profiler (bun flags) writes its profile at exit, which can take a while.
  const graceMs = opts.bunFlags?.length ? 60_000 : 5_000;
  const server = { name: opts.name, base: `http://127.0.0.1:${opts.port}`, proc, graceMs };
  const deadline = Date.now() + 15_000;
  // Kept for the error: a readiness answer names what is missing (e.g. Redis).
  let lastAnswer = "no answer";
  while (Date.now() < deadline) {
    if (proc.exitCode !== null) throw new Error(`${opts.name} exited with code ${proc.exitCode} during start-up`);
    try {
      const res = await fetch(server.base + (opts.readyPath ?? "/"));
      const text = await res.text();
      if (opts.readyPath === undefined || res.status === 200) return server;
      lastAnswer = `${res.status} ${text.slice(0, 300)}`;
    } catch {
      // Not listening yet.
    }
    await Bun.sleep(50);
  }
  await stopServer(server);
  throw new Error(`${opts.name} did not become ready within 15 s (last answer: ${lastAnswer})`);
}

/** SIGTERM, then SIGKILL if the process is still alive after its grace (5 s; 60 s with bun flags). */
export async function stopServer(server: Server): Promise<void> {
  if (server.proc.exitCode !== null || server.proc.signalCode !== null) return;
  server.proc.kill("SIGTERM");
  const exited = await Promise.race([server.proc.exited.then(() => true), Bun.sleep(server.graceMs).then(() => false)]);
  if (!exited) {
    server.proc.kill("SIGKILL");
    await server.proc.exited;
  }
}

/** CPU seconds (user + system, all threads) the process has used, from /proc/<pid>/stat (100 ticks a second). */
export function cpuSecondsOf(pid: number): number {
  return cpuSecondsIn(`/proc/${pid}/stat`);
}

/**
 * CPU seconds of the process's main thread alone (its task id is the pid;
 * the kernel's run time of the thread, in ns): the thread that serves HTTP,
 * for a Bun server. Near 1 s a second, it is what limits the server, whatever
 * the other threads and cores do.
 */
export function mainThreadCpuSecondsOf(pid: number): number {
  return Number(readFileSync(`/proc/${pid}/task/${pid}/schedstat`, "utf8").split(" ")[0]) / 1e9;
}

/**
 * Read system calls (read, pread64, …) the process's main thread has made
 * (Linux /proc task io; socket reads are not counted, Bun reads sockets with
 * recv): on SQLite mostly the pages its connection's cache lacked (WAL mode
 * starts a connection's cache over when another connection changed the
 * database), and reads of the event loop's wake-up descriptor when a worker
 * posts to it. NaN where the kernel keeps no per-thread I/O counts.
 */
export function mainThreadReadCallsOf(pid: number): number {
  try {
    const m = /^syscr:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/task/${pid}/io`, "utf8"));
    return m ? Number(m[1]) : NaN;
  } catch {
    return NaN;
  }
}

/** One thread of a process: its group (threadCpuSecondsOf) and the CPU seconds it has used. */
export interface ThreadCpu { group: string; seconds: number }

/**
 * CPU seconds of each of the process's threads, by task id, with its group
 * (kernel run time from each task's schedstat): "main" (the thread that
 * serves HTTP), "worker 1", "worker 2", … (JavaScript Workers, in the order
 * they were started: the lowest task id first), "jit" (JavaScriptCore's
 * compiler threads), "gc" (its collector's helpers) and "other". For a
 * reading of where a server's CPU beside its serving thread goes; the groups
 * come from the threads' names. Near a Worker's start its thread is still
 * named "bun" ("other"), and a Worker that ended shifts the numbers of those
 * after it: read the groups of a server that has been up a while.
 */
export function threadCpuSecondsOf(pid: number): Map<number, ThreadCpu> {
  const threads = new Map<number, ThreadCpu>();
  let tids: number[];
  try {
    tids = readdirSync(`/proc/${pid}/task`).map(Number).sort((a, b) => a - b);
  } catch {
    return threads;
  }
  let workers = 0;
  for (const tid of tids) {
    let name: string;
    let seconds: number;
    try {
      name = readFileSync(`/proc/${pid}/task/${tid}/comm`, "utf8").trim();
      seconds = Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, "utf8").split(" ")[0]) / 1e9;
    } catch {
      continue; // the thread ended between the listing and the read
    }
    let group = "other";
    if (tid === pid) group = "main";
    else if (name === "Worker") group = `worker ${++workers}`;
    else if (name === "JITWorker" || name === "JSCWarmUp") group = "jit";
    else if (name === "HeapHelper" || name.endsWith("ollector Thread")) group = "gc";
    threads.set(tid, { group, seconds });
  }
  return threads;
}

/**
 * CPU seconds each group of threads used between two readings of
 * threadCpuSecondsOf: a thread in both counts its difference, a thread
 * started since counts whole; one that ended in between is lost (the
 * runtime's compiler threads come and go), so a group's figure is a floor.
 */
export function threadCpuSince(before: Map<number, ThreadCpu>, after: Map<number, ThreadCpu>): Map<string, number> {
  const groups = new Map<string, number>();
  for (const [tid, now] of after) {
    const then = before.get(tid);
    groups.set(now.group, (groups.get(now.group) ?? 0) + now.seconds - (then?.seconds ?? 0));
  }
  return groups;
}

function cpuSecondsIn(statPath: string): number {
  const stat = readFileSync(statPath, "utf8");
  // Fields after the command name, which is in parentheses and may hold spaces: utime and stime are the 12th and 13th.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** Peak and current resident set of a process, in MiB (Linux /proc). */
export function memoryOf(pid: number): { peakMiB: number; rssMiB: number } {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kib = (field: string) => {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status);
    if (!m) throw new Error(`${field} missing from /proc/${pid}/status`);
    return Number(m[1]) / 1024;
  };
  return { peakMiB: kib("VmHWM"), rssMiB: kib("VmRSS") };
}
