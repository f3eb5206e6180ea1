// How a staged module entry is written: a JSON array rather than an object,
// a third of the bytes to write, read back and parse for every module of a
// background sync.
import type { SiteModuleState } from "../inventory";

type Encoded = [string, string, SiteModuleState["moduleType"], boolean, string | null, string | null, string | null];

export function encodeEntry(e: SiteModuleState): string {
  const row: Encoded = [e.machineName, e.displayName, e.moduleType, e.enabled, e.version, e.description, e.project];
  return JSON.stringify(row);
}

export function decodeEntry(text: string): SiteModuleState {
  const [machineName, displayName, moduleType, enabled, version, description, project] = JSON.parse(text) as Encoded;
  return { machineName, displayName, moduleType, enabled, version, description, project };
}
