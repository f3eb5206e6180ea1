// What the one-big-sync scenarios (large, huge) share: one timed sync to a
// server, from the first byte of the upload until its modules are applied,
// with the server's peak resident set.
//
// The floor applies a sync within the request and answers 200. modsync
// answers a sync of more than SYNC_BACKGROUND_THRESHOLD valid entries (500 by
// default) with 202 once the body is received and staged, and applies it in
// background worker threads; its time runs until its task is seen
// "completed" (polled every 100 ms, so up to 100 ms late). Worker threads
// share the process, so VmHWM covers them too.
import { postSync } from "../lib/post";
import { memoryOf, type Server } from "../lib/servers";
import { isAccepted, waitForTask } from "../lib/tasks";

export interface OneSyncRun {
  /** From the start of the upload until the sync was applied (200 answered, or task seen completed). */
  seconds: number;
  /** Until the 202 arrived: receiving and staging the body. Null when the answer was a 200 (applied within the request). */
  uploadSeconds: number | null;
  /** Task status requests until "completed" (0 for a 200). */
  polls: number;
  /** VmHWM just before the request: the process's start-up peak. */
  peakBeforeMiB: number;
  /** VmHWM when the answer arrived: for a 202, the peak of receiving the upload. */
  peakAtAnswerMiB: number;
  /** VmHWM once the sync was applied. */
  peakMiB: number;
  rssAfterMiB: number;
}

export interface OneSyncSide {
  /** The fastest round's seconds. */
  seconds: number;
  /** The fastest round's upload seconds (the part of `seconds` before the 202), or null for a 200. */
  uploadSeconds: number | null;
  /** The highest peak RSS of all rounds: for memory, the worst case is what matters. */
  peakMiB: number;
  runs: OneSyncRun[];
}

/** One sync of `modules` entries; anything but 200 or 202-then-completed with every module processed stops the bench. */
export async function measureSync(server: Server, siteId: number, body: string | Blob, modules: number, apiToken?: string): Promise<OneSyncRun> {
  try {
    return await measure(server, siteId, body, modules, apiToken);
  } catch (err) {
    // A server that died mid-sync shows up as a refused connection; say so,
    // with how it ended (a SIGKILL with no output is likely the OOM killer).
    const ended = await Promise.race([server.proc.exited.then(() => true), Bun.sleep(1000).then(() => false)]);
    if (!ended) throw err;
    const how = server.proc.signalCode ? `signal ${server.proc.signalCode}` : `code ${server.proc.exitCode}`;
    throw new Error(`${server.name} exited (${how}) during the ${modules}-module sync: ${err instanceof Error ? err.message : String(err)}`);
  }
}

async function measure(server: Server, siteId: number, body: string | Blob, modules: number, apiToken?: string): Promise<OneSyncRun> {
  const pid = server.proc.pid;
  const before = memoryOf(pid);
  const started = performance.now();
  const answer = await postSync(server.base, { siteId, body }, apiToken);
  const atAnswer = memoryOf(pid);
  let result: unknown = answer.json;
  let uploadSeconds: number | null = null;
  let polls = 0;
  if (answer.status === 202 && isAccepted(answer.json)) {
    uploadSeconds = answer.seconds;
    if (!apiToken) throw new Error(`${server.name}: answered 202, but the bench has no token to follow its task`);
    const done = await waitForTask(server.name, server.base, answer.json.status_url, apiToken);
    result = done.result;
    polls = done.polls;
  } else if (answer.status !== 200) {
    throw new Error(`${server.name}: ${modules}-module sync answered ${answer.status}: ${JSON.stringify(answer.json).slice(0, 500)}`);
  }
  const seconds = (performance.now() - started) / 1000;
  const after = memoryOf(pid);
  const processed = (result as { modules_processed?: unknown }).modules_processed;
  if (processed !== modules) {
    throw new Error(`${server.name}: ${modules}-module sync ended with modules_processed=${String(processed)}: ${JSON.stringify(result).slice(0, 500)}`);
  }
  return { seconds, uploadSeconds, polls, peakBeforeMiB: before.peakMiB, peakAtAnswerMiB: atAnswer.peakMiB, peakMiB: after.peakMiB, rssAfterMiB: after.rssMiB };
}

export function summarize(runs: OneSyncRun[]): OneSyncSide {
  const fastest = runs.reduce((a, b) => (b.seconds < a.seconds ? b : a));
  return { seconds: fastest.seconds, uploadSeconds: fastest.uploadSeconds, peakMiB: Math.max(...runs.map((r) => r.peakMiB)), runs };
}

/** "12.34 s (upload 5.67 s), peak RSS 123 MiB" for a round's log line. */
export function describe(run: OneSyncRun): string {
  const upload = run.uploadSeconds === null ? "" : ` (upload ${run.uploadSeconds.toFixed(2)} s)`;
  return `${run.seconds.toFixed(2)} s${upload}, peak RSS ${run.peakMiB.toFixed(0)} MiB`;
}
