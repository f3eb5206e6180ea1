// Shared by the background-sync tests: a site's stored modules in full,
// payload → expected rows, and real server processes.
import { AccountsService } from "../../src/accounts/service";
import { SitesService } from "../../src/sites/service";
import type { SiteModuleRow, Store } from "../../src/store/types";
import { newSite, seedAccounts, type SeededSite } from "../support/harness";
import { count, sql } from "../support/sql";
import { until } from "../support/until";


export interface TaskRows { tasks: number; entries: number }

/** Rows in tasks and task_entries (optionally only one site's). */
export async function taskRows(store: Store, siteId?: number): Promise<TaskRows> {
  const where = siteId === undefined ? "" : ` WHERE site_id = ${siteId}`;
  const tasks = await count(store, `SELECT count(*) AS n FROM tasks${where}`);
  if (siteId === undefined) return { tasks, entries: await count(store, "SELECT count(*) AS n FROM task_entries") };
  const entries = await count(store, `SELECT count(*) AS n FROM task_entries WHERE task_num IN (SELECT num FROM tasks${where})`);
  return { tasks, entries };
}

/** Every module of a site, page after page, sorted by machine_name in JS (collations differ). */
export async function allSiteModules(store: Store, siteId: number): Promise<SiteModuleRow[]> {
  const out: SiteModuleRow[] = [];
  let after: string | undefined;
  for (;;) {
    const page = await store.listSiteModules(siteId, { limit: 1000, after });
    out.push(...page);
    if (page.length < 1000) break;
    after = page.at(-1)!.machineName;
  }
  return out.sort((a, b) => (a.machineName < b.machineName ? -1 : a.machineName > b.machineName ? 1 : 0));
}

export type ModuleTuple = [string, string, string, boolean, string | null, string | null, string | null];

/** What a site holds, comparable with expectedModules(). */
export const storedTuples = (rows: SiteModuleRow[]): ModuleTuple[] =>
  rows.map((m) => [m.machineName, m.displayName, m.moduleType, m.enabled, m.version, m.description, m.project]);

interface RawModule {
  machine_name: string; display_name: string; module_type: string; enabled: boolean;
  version?: string | null; description?: string | null; project?: string | null;
}

/** The rows a site should hold after syncing exactly these (valid, distinct) entries. */
export function expectedTuples(entries: readonly RawModule[]): ModuleTuple[] {
  return [...entries]
    .sort((a, b) => (a.machine_name < b.machine_name ? -1 : a.machine_name > b.machine_name ? 1 : 0))
    .map((m) => [m.machine_name, m.display_name, m.module_type, m.enabled, m.version || null, m.description ?? null, m.project ?? null]);
}

/** A result without what differs between two sites or two moments. */
export function comparable(result: Record<string, unknown>) {
  const { site_id: _site, completed_at: _at, ...rest } = result;
  return rest;
}

// ---------------------------------------------------------------------------
// A seeded world in a database a server process will use.

export interface SeededWorld {
  token: string;
  outsiderToken: string;
  orgId: number;
  sites: SeededSite[];
}

export async function seedWorld(store: Store, siteCount: number): Promise<SeededWorld> {
  const sitesService = new SitesService(store);
  const { org, user, outsider } = await seedAccounts(new AccountsService(store));
  const sites: SeededSite[] = [];
  for (let i = 1; i <= siteCount; i++) sites.push(await newSite(sitesService, org.id, "proc-site"));
  return { token: user.token, outsiderToken: outsider.token, orgId: org.id, sites };
}

// ---------------------------------------------------------------------------
// Real server processes: `bun src/index.ts`, configured through the environment.

export { cleanupProcesses, exitWithin, logLines, startedServer, type Server } from "../support/server-process";
export { until } from "../support/until";

export async function getStatus(base: string, token: string, taskId: string): Promise<{ code: number; body: any }> {
  const res = await fetch(`${base}/api/v1/tasks/${taskId}/status`, { headers: { authorization: `Bearer ${token}` } });
  return { code: res.status, body: await res.json() };
}

/** Waits for a task's status to be completed (or failed), through the API. */
export async function waitFinished(base: string | (() => string), token: string, taskId: string, ms: number): Promise<any> {
  return until(async () => {
    const { code, body } = await getStatus(typeof base === "string" ? base : base(), token, taskId);
    if (code !== 200) throw new Error(`status answered ${code}: ${JSON.stringify(body)}`);
    return body.status === "completed" || body.status === "failed" ? body : undefined;
  }, ms, `task ${taskId} to finish`, 100);
}
