// Following a background sync to its end. modsync answers a sync of more
// than SYNC_BACKGROUND_THRESHOLD valid entries with 202 and a status_url, and
// applies it later in worker threads: until that task says "completed", the
// modules are not synced, so a sync's time runs until then.

/** The pace of status polls: the time a sync is seen completed is late by up to this much. */
export const POLL_MS = 20;

/**
 * A task whose status and progress stay the same this long is taken as
 * stuck (a worker that died holds its lease for TASK_LEASE_SECONDS, 30 s by
 * default, before another takes over): the bench stops rather than wait forever.
 */
const STALL_MS = 5 * 60_000;

export interface Accepted {
  status: "accepted";
  task_id: string;
  status_url: string;
}

export function isAccepted(json: unknown): json is Accepted {
  const a = json as Partial<Accepted> | null;
  return typeof a === "object" && a !== null && a.status === "accepted" && typeof a.task_id === "string" && typeof a.status_url === "string";
}

interface TaskStatusBody {
  status?: unknown;
  progress?: { current?: unknown };
  result?: unknown;
  error?: unknown;
}

export interface TaskCompletion {
  /** The completed task's result: the counts a synchronous sync answers with, and completed_at. */
  result: Record<string, unknown>;
  /** Status requests made, the last one included. */
  polls: number;
}

/**
 * Polls `statusUrl` every POLL_MS (the first poll at once) until the task is
 * completed. A "failed" task, any answer but 200, or an unknown status stops
 * the bench with an error: a run whose sync did not happen measures nothing.
 */
export async function waitForTask(name: string, base: string, statusUrl: string, apiToken: string): Promise<TaskCompletion> {
  const url = new URL(statusUrl, base).toString();
  const headers = { authorization: `Bearer ${apiToken}` };
  let polls = 0;
  let state = "";
  let changedAt = performance.now();
  for (;;) {
    const res = await fetch(url, { headers });
    const text = await res.text();
    polls++;
    if (res.status !== 200) throw new Error(`${name}: GET ${statusUrl} answered ${res.status}: ${text.slice(0, 500)}`);
    const body = JSON.parse(text) as TaskStatusBody;
    switch (body.status) {
      case "completed":
        if (typeof body.result !== "object" || body.result === null) throw new Error(`${name}: task ${statusUrl} completed without a result: ${text.slice(0, 500)}`);
        return { result: body.result as Record<string, unknown>, polls };
      case "failed":
        throw new Error(`${name}: background task ${statusUrl} failed: ${String(body.error)}`);
      case "pending":
      case "in_progress":
        break;
      default:
        throw new Error(`${name}: GET ${statusUrl} answered an unknown status: ${text.slice(0, 500)}`);
    }
    const now = performance.now();
    const next = `${body.status} ${String(body.progress?.current ?? "")}`;
    if (next !== state) {
      state = next;
      changedAt = now;
    } else if (now - changedAt > STALL_MS) {
      throw new Error(`${name}: task ${statusUrl} made no progress for ${STALL_MS / 1000} s (still ${state})`);
    }
    await Bun.sleep(POLL_MS);
  }
}
