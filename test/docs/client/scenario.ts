// What an integrator does with the client: register a site, sync it partially,
// fully, then with a payload large enough to be a background task (polled to
// its end), reading the site's modules back page by page after each step.
import { ModsyncClient, type SyncRequest } from "./modsync-client";

type Module = SyncRequest["modules"][number];

export interface ScenarioReport {
  siteId: number;
  partial: { created: number; modules: string[] };
  full: { removed: number; modules: string[]; contribEnabled: string[] };
  large: { taskId: string; modulesProcessed: number; completedAt: number; progressSeen: number; listed: number; pages: number; count: number };
}

const module = (machineName: string, type: Module["module_type"], version: string | null, enabled = true): Module =>
  ({ machine_name: machineName, display_name: machineName, module_type: type, enabled, version });

export async function runScenario(baseUrl: string, apiToken: string, organizationId: number, largeSize: number, pause: () => Promise<void>): Promise<ScenarioReport> {
  const client = new ModsyncClient(baseUrl, apiToken);
  const url = `https://client-${crypto.randomUUID()}.example`;
  const site = await client.registerSite(organizationId, url, "Generated client");
  const body = (modules: Module[], fullSync: boolean): SyncRequest => ({
    site: { url, name: "Generated client", token: site.token },
    drupal_info: { core_version: "10.3.8", php_version: "8.3.2", ip_address: "192.0.2.10" },
    modules,
    full_sync: fullSync,
  });
  const names = async () => (await client.allModules(site.id, 2)).modules.map((m) => m.machine_name);

  const partial = await client.sync(site.id, body([module("views", "core", "10.3.8"), module("node", "core", "10.3.8"), module("pathauto", "contrib", "8.x-1.12")], false));
  if (partial.kind !== "synced") throw new Error("a 3-module sync was not applied at once");
  const afterPartial = await names();

  const full = await client.sync(site.id, body([module("views", "core", "10.3.8"), module("token", "contrib", "8.x-1.15"), module("my_custom", "custom", null, false)], true));
  if (full.kind !== "synced") throw new Error("a 3-module full sync was not applied at once");
  const afterFull = await names();
  const contribEnabled = (await client.allModules(site.id, 10, { module_type: "contrib", enabled: true })).modules.map((m) => m.machine_name);

  const many = Array.from({ length: largeSize }, (_, i) => module(`generated_${i}`, "contrib", `1.0.${i}`));
  const large = await client.sync(site.id, body(many, true));
  if (large.kind !== "accepted") throw new Error(`a ${largeSize}-module sync was not queued`);
  const done = await client.waitForTask(large.taskId, pause);
  const listed = await client.allModules(site.id, 100);

  return {
    siteId: site.id,
    partial: { created: partial.result.modules_created, modules: afterPartial },
    full: { removed: full.result.modules_removed, modules: afterFull, contribEnabled },
    large: {
      taskId: large.taskId,
      modulesProcessed: done.result.modules_processed,
      completedAt: done.result.completed_at,
      progressSeen: done.progress.length,
      listed: listed.modules.length,
      pages: listed.pages,
      count: await client.moduleCount(site.id),
    },
  };
}
