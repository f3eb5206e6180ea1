// Plain HTTP posting for warm-ups and the one-shot large syncs.

export interface PostJob {
  siteId: number;
  body: string;
}

export interface PostAnswer {
  status: number;
  json: unknown;
  seconds: number;
}

/** A Blob body (Bun.file(path)) is sent from the file, with its size as Content-Length. */
export async function postSync(base: string, job: { siteId: number; body: string | Blob }, apiToken?: string): Promise<PostAnswer> {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (apiToken) headers.authorization = `Bearer ${apiToken}`;
  const started = performance.now();
  const res = await fetch(`${base}/api/v1/sites/${job.siteId}/modules`, { method: "POST", headers, body: job.body });
  const text = await res.text();
  const seconds = (performance.now() - started) / 1000;
  let json: unknown = text;
  try {
    json = JSON.parse(text);
  } catch {
    // Keep the raw text for the error message.
  }
  return { status: res.status, json, seconds };
}

/** Posts every job with bounded concurrency; any non-200 answer aborts the benchmark. */
export async function postAll(name: string, base: string, jobs: PostJob[], apiToken?: string, concurrency = 16): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) {
      const job = jobs[next++]!;
      const answer = await postSync(base, job, apiToken);
      if (answer.status !== 200) {
        throw new Error(`${name}: warm-up POST to site ${job.siteId} answered ${answer.status}: ${JSON.stringify(answer.json).slice(0, 500)}`);
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}
