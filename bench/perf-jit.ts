// `perf script -F tid,time,ip,dso | bun bench/perf-jit.ts <jitdump dir> <pid> [from] [to]`:
// a process's main thread's samples (its tid is its pid) from a system-wide `perf record`, split by where they
// ran (bun's own code, which is stripped: SQLite, JSON.parse, the HTTP
// server, the interpreter; the kernel; libc; JIT-compiled JavaScript), and
// the JIT-compiled ones named by function. JavaScriptCore writes what it
// compiles, with names, as JITDump files (BUN_JSC_useJITDump=1,
// BUN_JSC_jitDumpDirectory=<dir>); `perf inject --jit` does not pick them up
// from Bun, so this reads them itself. Code that JSC freed and reused is
// named after the last function loaded there: a rare misnaming. Only the
// process's own dumps are read (every process of a bench run may write to
// the same directory).
// `from` and `to`: perf's timestamps, in seconds (a measured run's window).
// bench/README.md "Profiling" has the whole recipe.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

const [dumpDir, pidText, fromText, toText] = process.argv.slice(2);
if (!dumpDir || !pidText) throw new Error("usage: perf script -F tid,time,ip,dso | bun bench/perf-jit.ts <jitdump dir> <pid> [from] [to]");
const from = fromText === undefined ? -Infinity : Number(fromText);
const to = toText === undefined ? Infinity : Number(toText);

/** Code ranges by start address: [end, name], the last load at an address winning. */
const loaded = new Map<bigint, [bigint, string]>();
const JIT_CODE_LOAD = 0;
const JITDUMP_MAGIC = 0x4a695444;
const loads: { time: bigint; start: bigint; end: bigint; name: string }[] = [];
// Named jit-<tid>-<pid>.dump by Bun's JavaScriptCore.
for (const file of readdirSync(dumpDir).filter((f) => f.startsWith("jit-") && f.endsWith(`-${pidText}.dump`))) {
  const bytes = readFileSync(join(dumpDir, file));
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // Header: magic, version, its own size (u32 each), ...
  if (bytes.length < 12 || view.getUint32(0, true) !== JITDUMP_MAGIC) throw new Error(`${file} is not a JITDump file`);
  let at = view.getUint32(8, true);
  // A dump read while its process runs may end within a record: what is whole is read.
  while (at + 16 <= bytes.length) {
    const id = view.getUint32(at, true);
    const size = view.getUint32(at + 4, true);
    if (size < 16 || at + size > bytes.length) break;
    if (id === JIT_CODE_LOAD && size > 56) {
      // id, size, timestamp; pid, tid (u32); vma, code address, code size, code index (u64); name, NUL-ended.
      const start = view.getBigUint64(at + 32, true);
      const length = view.getBigUint64(at + 40, true);
      const nameAt = at + 56;
      const nul = bytes.subarray(nameAt, at + size).indexOf(0);
      const name = new TextDecoder().decode(bytes.subarray(nameAt, nul === -1 ? at + size : nameAt + nul));
      loads.push({ time: view.getBigUint64(at + 8, true), start, end: start + length, name });
    }
    at += size;
  }
}
if (loads.length === 0) throw new Error(`no JITDump of process ${pidText} in ${dumpDir}`);
for (const load of loads.sort((a, b) => (a.time < b.time ? -1 : a.time > b.time ? 1 : 0))) loaded.set(load.start, [load.end, load.name]);
const starts = [...loaded.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));

function nameAt(ip: bigint): string | null {
  let low = 0;
  let high = starts.length - 1;
  while (low <= high) {
    const mid = (low + high) >> 1;
    if (starts[mid]! <= ip) low = mid + 1;
    else high = mid - 1;
  }
  if (high < 0) return null;
  const [end, name] = loaded.get(starts[high]!)!;
  return ip < end ? name : null;
}

const byPlace = new Map<string, number>();
const byFunction = new Map<string, number>();
let samples = 0;
let jitSamples = 0;
const text = await new Response(Bun.stdin.stream()).text();
for (const line of text.split("\n")) {
  // "<tid> <time>: <ip> (<dso>)"
  const match = /^\s*(\d+)\s+([\d.]+):\s+([0-9a-f]+)\s+\((.*)\)\s*$/.exec(line);
  if (!match || match[1] !== pidText) continue;
  const time = Number(match[2]);
  if (time < from || time > to) continue;
  samples++;
  const dso = match[4]!;
  // Compiled code is anonymous memory to perf ("[JIT] tid …", "//anon", "[unknown]"): the dumps tell it.
  const name = nameAt(BigInt(`0x${match[3]}`));
  const place = name !== null ? "JIT-compiled JavaScript" : dso.slice(dso.lastIndexOf("/") + 1);
  byPlace.set(place, (byPlace.get(place) ?? 0) + 1);
  if (name === null) continue;
  jitSamples++;
  byFunction.set(name, (byFunction.get(name) ?? 0) + 1);
}
if (samples === 0) throw new Error(`no samples of thread ${pidText} in the window`);
const share = (n: number, of: number) => `${((100 * n) / of).toFixed(1).padStart(5)}%`;
console.log(`thread ${pidText}: ${samples} samples, by where they ran:`);
for (const [place, n] of [...byPlace].sort((a, b) => b[1] - a[1])) console.log(`  ${share(n, samples)}  ${place}`);
console.log(`JIT-compiled functions (${jitSamples} samples; ${loaded.size} code loads read):`);
for (const [name, n] of [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, 30)) console.log(`  ${share(n, jitSamples)}  ${name}`);
