// modsync's operational endpoints, read after a measured run to check what
// the server itself says it did.

export const SYNC_ROUTE = "/api/v1/sites/:site_id/modules";

/** GET /ready: the status code and each dependency's check ("ok" or why not). */
export async function readiness(base: string): Promise<{ status: number; checks: Record<string, string> }> {
  const res = await fetch(`${base}/ready`);
  const body = (await res.json()) as { checks?: Record<string, string> };
  return { status: res.status, checks: body.checks ?? {} };
}

/**
 * Sync requests the server answered, by status, from the
 * modsync_http_requests_total counter in GET /metrics.
 */
export async function syncAnswers(base: string): Promise<Record<string, number>> {
  const res = await fetch(`${base}/metrics`);
  const text = await res.text();
  if (res.status !== 200) throw new Error(`GET /metrics answered ${res.status}`);
  const byStatus: Record<string, number> = {};
  for (const m of text.matchAll(/^modsync_http_requests_total\{([^}]*)\}\s+(\S+)$/gm)) {
    const labels = Object.fromEntries([...m[1]!.matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1]!, l[2]!]));
    if (labels.method !== "POST" || labels.route !== SYNC_ROUTE || labels.status === undefined) continue;
    byStatus[labels.status] = (byStatus[labels.status] ?? 0) + Number(m[2]);
  }
  return byStatus;
}
