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
  return answersIn(text);
}

function answersIn(text: string): Record<string, number> {
  const byStatus: Record<string, number> = {};
  for (const m of text.matchAll(/^modsync_http_requests_total\{([^}]*)\}\s+(\S+)$/gm)) {
    const labels = Object.fromEntries([...m[1]!.matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1]!, l[2]!]));
    if (labels.method !== "POST" || labels.route !== SYNC_ROUTE || labels.status === undefined) continue;
    byStatus[labels.status] = (byStatus[labels.status] ?? 0) + Number(m[2]);
  }
  return byStatus;
}

/** What modsync's own counters say its syncs did (GET /metrics), summed over labels. */
export interface SyncCounters {
  /** modsync_syncs_total by path: "unchanged" (answered from the stored fingerprint) and "applied" (compared and written). */
  syncs: { unchanged: number; applied: number };
  /** modsync_sync_modules_total by outcome. */
  modules: { created: number; updated: number; unchanged: number; removed: number };
  /** POST sync answers by status (modsync_http_requests_total). */
  answers: Record<string, number>;
}

export async function syncCounters(base: string): Promise<SyncCounters> {
  const res = await fetch(`${base}/metrics`);
  const text = await res.text();
  if (res.status !== 200) throw new Error(`GET /metrics answered ${res.status}`);
  const sum = (metric: string, label: string, value: string) => {
    let total = 0;
    for (const m of text.matchAll(new RegExp(`^${metric}\\{([^}]*)\\}\\s+(\\S+)$`, "gm"))) {
      if (m[1]!.includes(`${label}="${value}"`)) total += Number(m[2]);
    }
    return total;
  };
  return {
    syncs: { unchanged: sum("modsync_syncs_total", "path", "unchanged"), applied: sum("modsync_syncs_total", "path", "applied") },
    modules: {
      created: sum("modsync_sync_modules_total", "outcome", "created"),
      updated: sum("modsync_sync_modules_total", "outcome", "updated"),
      unchanged: sum("modsync_sync_modules_total", "outcome", "unchanged"),
      removed: sum("modsync_sync_modules_total", "outcome", "removed"),
    },
    answers: answersIn(text),
  };
}
