// What the in-process scripts (ab-inprocess.ts, stages.ts) share: their sync
// bodies' shapes, the requests that carry them, driving requests through
// app.handle() with several in flight, and the main thread's CPU clock.
import { mainThreadCpuSecondsOf } from "./servers";

export type Shape = "identical" | "drift" | "release";

export interface InProcessSite {
  id: number;
  url: string;
  name: string;
  token: string;
}

/** What of test/support/payload.ts's payload the bodies are made from (a tree's own generator, in ab-inprocess.ts). */
export interface BasePayload {
  drupal_info: unknown;
  modules: { module_type: string }[];
}

/** This process's main thread's CPU time so far, in µs. */
function mainThreadMicros(): number {
  return mainThreadCpuSecondsOf(process.pid) * 1e6;
}

/**
 * One measured round: a full collection first (the last round's garbage is
 * not this one's), then `requests` through handleAll(); the CPU it took, µs,
 * of the main thread and of the whole process (every thread).
 */
export async function measuredRound(handle: (request: Request) => Promise<Response>, requests: Request[], inFlight: number): Promise<{ mainMicros: number; processMicros: number }> {
  Bun.gc(true);
  const processBefore = process.cpuUsage();
  const mainBefore = mainThreadMicros();
  await handleAll(handle, requests, inFlight);
  const used = process.cpuUsage(processBefore);
  return { mainMicros: mainThreadMicros() - mainBefore, processMicros: used.user + used.system };
}

/**
 * Makes each call's body for a site: `identical`, the base payload every
 * time; `drift`, the first contrib module's version new at every call;
 * `release`, every core module at the next release once per pass over
 * `siteCount` sites.
 */
export function bodyMaker(shape: Shape, base: BasePayload, siteCount: number): (site: InProcessSite) => string {
  const drifting = base.modules.findIndex((m) => m.module_type === "contrib");
  let made = 0;
  return (site) => {
    made++;
    const modules = shape === "identical" ? base.modules
      : shape === "release" ? base.modules.map((m) => (m.module_type === "core" ? { ...m, version: `11.${Math.floor(made / siteCount)}.0` } : m))
      : base.modules.map((m, i) => (i === drifting ? { ...m, version: `9.${made}.0` } : m));
    return JSON.stringify({ site: { url: site.url, name: site.name, token: site.token }, drupal_info: base.drupal_info, modules });
  };
}

export function syncRequest(site: InProcessSite, body: string, bearer: string): Request {
  return new Request(`http://localhost/api/v1/sites/${site.id}/modules`, {
    method: "POST", body,
    headers: { authorization: `Bearer ${bearer}`, "content-type": "application/json", "content-length": String(Buffer.byteLength(body)) },
  });
}

/** The services seedSites() uses: a tree's own AccountsService and SitesService (ab-inprocess.ts loads each tree's). */
export interface SeedServices {
  accounts: {
    createOrganization(name: string): Promise<{ id: number }>;
    createUser(input: { email: string; organizationId: number; role: "admin" }): Promise<{ token: string }>;
  };
  sites: { create(input: { organizationId: number; url: string; name: string }): Promise<InProcessSite> };
}

/**
 * One organization, its admin (whose API token every request carries) and
 * `count` sites named after `label`, each with its first sync; `body` makes
 * each next body of `shape` (bodyMaker).
 */
export async function seedSites(services: SeedServices, handle: (request: Request) => Promise<Response>, options: {
  label: string;
  count: number;
  shape: Shape;
  base: BasePayload;
}): Promise<{ token: string; sites: InProcessSite[]; body: (site: InProcessSite) => string }> {
  const { label, count } = options;
  const org = await services.accounts.createOrganization(label);
  const { token } = await services.accounts.createUser({ email: `${label}@bench.test`, organizationId: org.id, role: "admin" });
  const sites: InProcessSite[] = [];
  for (let i = 0; i < count; i++) sites.push(await services.sites.create({ organizationId: org.id, url: `https://${label}${i}.example`, name: `${label} ${i}` }));
  const body = bodyMaker(options.shape, options.base, count);
  await handleAll(handle, sites.map((site) => syncRequest(site, body(site), token)), 1);
  return { token, sites, body };
}

/** Handles `requests` in order, `inFlight` at a time (as an HTTP server under load does); throws on an answer other than 200. */
export async function handleAll(handle: (request: Request) => Promise<Response>, requests: Request[], inFlight: number): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: inFlight }, async () => {
    while (next < requests.length) {
      const res = await handle(requests[next++]!);
      if (res.status !== 200) throw new Error(`${res.status} ${await res.text()}`);
      await res.arrayBuffer();
    }
  }));
}
