// Running wrk with bench/post.lua (or another of bench/'s Lua scripts) and reading its summary.
import { join } from "node:path";
import type { Subprocess } from "bun";

export interface WrkResult {
  requestsPerSec: number;
  p50Ms: number;
  p99Ms: number;
  requests: number;
  non2xx: number;
  socketErrors: number;
  /** wrk's own CPU seconds (user + system, its start and Lua set-up included): the load's use of the machine's cores beside the server. */
  wrkCpuSeconds: number;
  /** Wall seconds from wrk's start to its exit. */
  wallSeconds: number;
}

// Live wrk processes, so an interrupted run can stop them too.
const live = new Set<Subprocess>();

export function stopWrk(): void {
  for (const proc of live) proc.kill("SIGKILL");
  live.clear();
}

export function wrkAvailable(): boolean {
  return Bun.which("wrk") !== null;
}

const UNIT_MS: Record<string, number> = { us: 0.001, ms: 1, s: 1000, m: 60_000 };

function latencyMs(output: string, percentile: string): number {
  const m = new RegExp(`^\\s*${percentile}%\\s+([\\d.]+)(us|ms|s|m)\\s*$`, "m").exec(output);
  if (!m) throw new Error(`wrk output has no ${percentile}% latency:\n${output}`);
  return Number(m[1]) * UNIT_MS[m[2]!]!;
}

export function parseWrk(output: string): Omit<WrkResult, "wrkCpuSeconds" | "wallSeconds"> {
  const rps = /^Requests\/sec:\s+([\d.]+)/m.exec(output);
  const total = /^\s*(\d+) requests in /m.exec(output);
  if (!rps || !total) throw new Error(`cannot parse wrk output:\n${output}`);
  const non2xx = /Non-2xx or 3xx responses:\s+(\d+)/.exec(output);
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(output);
  return {
    requestsPerSec: Number(rps[1]),
    p50Ms: latencyMs(output, "50"),
    p99Ms: latencyMs(output, "99"),
    requests: Number(total[1]),
    non2xx: non2xx ? Number(non2xx[1]) : 0,
    socketErrors: sock ? sock.slice(1).reduce((sum, n) => sum + Number(n), 0) : 0,
  };
}

export async function runWrk(opts: {
  base: string;
  seconds: number;
  connections: number;
  threads: number;
  /** The script's environment; post.lua's: BODY_DIR or BODY_FILE, SITES, TOKEN. */
  env: Record<string, string>;
  benchDir: string;
  /** A Lua script in benchDir; default post.lua. */
  script?: string;
}): Promise<WrkResult> {
  const args = [
    "wrk", `-t${opts.threads}`, `-c${opts.connections}`, `-d${opts.seconds}s`, "--latency",
    // wrk's default 2 s timeout would count slow answers as errors, not as latency.
    "--timeout", "30s",
    "-s", join(opts.benchDir, opts.script ?? "post.lua"), opts.base,
  ];
  const started = performance.now();
  const proc = Bun.spawn(args, { env: { ...process.env, ...opts.env }, stdout: "pipe", stderr: "pipe" });
  live.add(proc);
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited])
    .finally(() => live.delete(proc));
  if (code !== 0) throw new Error(`wrk exited with ${code}:\n${err}${out}`);
  const wallSeconds = (performance.now() - started) / 1000;
  const usage = proc.resourceUsage();
  if (usage === undefined) throw new Error("wrk's resource usage is missing after it exited");
  // Microseconds: a number or a bigint, by Bun version.
  return { ...parseWrk(out), wrkCpuSeconds: Number(usage.cpuTime.total) / 1e6, wallSeconds };
}
