// `bun bench/cpu-profile.ts <file.cpuprofile> [top]`: where a profiled
// server spent its CPU, by samples. For modsync started with
// BENCH_MODSYNC_BUN_FLAGS="--cpu-prof --cpu-prof-dir=<dir>" (README, "Profiling").
//
// Bun's --cpu-prof-md tables weigh each sample by the time since the one
// before, so the first sample after an idle wait (between wrk runs, the
// floor's turn) takes the whole wait: a single sample of a /metrics scrape
// can show as a quarter of the "self time". Here every sample weighs the
// same, and only samples count (the profiler takes none while the thread
// waits for events), so percentages are shares of the thread's busy time.
//
// Self: the function on top of the stack. Native functions (SQLite's
// statement calls, JSON.parse…) are named with their JS caller, since
// `all` or `run` alone says little. Total: samples with the function
// anywhere on the stack, each sample counted once.
import { readFileSync } from "node:fs";
import { dirname, relative } from "node:path";

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

const repoDir = dirname(import.meta.dir);

function where(frame: CallFrame): string {
  if (!frame.url) return "[native code]";
  const path = frame.url.replace(/^file:\/\//, "");
  const shown = path.startsWith("/") ? relative(repoDir, path) : path;
  return frame.lineNumber >= 0 ? `${shown}:${frame.lineNumber + 1}` : shown;
}

/** A function's key: its name and file (lines differ between a function's samples). */
function key(frame: CallFrame): string {
  return `${frame.functionName || "(anonymous)"} ${frame.url}`;
}

function label(frame: CallFrame, parent: CallFrame | undefined): string {
  const name = `\`${frame.functionName || "(anonymous)"}\``;
  if (frame.url) return `${name} ${where(frame).replace(/:\d+$/, "")}`;
  if (!parent || parent.functionName === "(root)") return `${name} (native, no JS caller: the runtime's own work, e.g. HTTP, GC, promise jobs)`;
  return `${name} (native) ← \`${parent.functionName || "(anonymous)"}\` ${where(parent)}`;
}

export function summarize(profile: CpuProfile, top: number): string {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parentOf = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parentOf.set(c, n.id);

  const self = new Map<string, { label: string; samples: number }>();
  const total = new Map<string, { label: string; samples: number }>();
  let counted = 0;
  for (const id of profile.samples) {
    const node = byId.get(id);
    if (!node || node.callFrame.functionName === "(root)" || node.callFrame.functionName === "(idle)") continue;
    counted++;
    const parent = byId.get(parentOf.get(id) ?? -1)?.callFrame;
    // Natives are keyed with their caller, so `all` from two places stays two rows.
    const selfKey = node.callFrame.url ? key(node.callFrame) : `${key(node.callFrame)} <- ${parent ? `${key(parent)}:${parent.lineNumber}` : ""}`;
    const s = self.get(selfKey) ?? { label: label(node.callFrame, parent), samples: 0 };
    s.samples++;
    self.set(selfKey, s);
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parentOf.get(at)) {
      const frame = byId.get(at)!.callFrame;
      if (frame.functionName === "(root)") break;
      const k = key(frame);
      if (seen.has(k)) continue;
      seen.add(k);
      const t = total.get(k) ?? { label: label(frame, undefined), samples: 0 };
      t.samples++;
      total.set(k, t);
    }
  }
  const pct = (n: number) => `${((100 * n) / counted).toFixed(1)}%`;
  const lines: string[] = [];
  const seconds = (profile.endTime - profile.startTime) / 1e6;
  lines.push(`${counted} samples (busy samples of the profiled thread) over ${seconds.toFixed(1)} s of profile`);
  lines.push("", `Top ${top} by self samples`, "", "| # | self | samples | function |", "|--:|-----:|--------:|----------|");
  [...self.values()].sort((a, b) => b.samples - a.samples).slice(0, top).forEach((s, i) => {
    lines.push(`| ${i + 1} | ${pct(s.samples)} | ${s.samples} | ${s.label} |`);
  });
  lines.push("", `Top ${top * 2} of the project's own functions (src/) by total samples`, "", "| total | samples | function |", "|------:|--------:|----------|");
  [...total.entries()].filter(([k]) => k.includes(`${repoDir}/src/`))
    .map(([, t]) => t).sort((a, b) => b.samples - a.samples).slice(0, top * 2)
    .forEach((t) => lines.push(`| ${pct(t.samples)} | ${t.samples} | ${t.label} |`));
  return lines.join("\n");
}

if (import.meta.main) {
  const file = process.argv[2];
  if (!file) {
    console.error("usage: bun bench/cpu-profile.ts <file.cpuprofile> [top]");
    process.exit(2);
  }
  const top = Number(process.argv[3] ?? 15);
  console.log(summarize(JSON.parse(readFileSync(file, "utf8")) as CpuProfile, top));
}
