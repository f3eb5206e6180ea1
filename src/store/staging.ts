// How a staged module entry is written: a JSON array rather than an object,
// a third of the bytes to write, read back and parse for every module of a
// background sync.
import type { SiteModuleState } from "../inventory";

// extension_type comes last: rows staged before it existed decode as modules.
type Encoded = [string, string, SiteModuleState["moduleType"], boolean, string | null, string | null, string | null, SiteModuleState["extensionType"]?];

export function encodeEntry(e: SiteModuleState): string {
  const row: Encoded = [e.machineName, e.displayName, e.moduleType, e.enabled, e.version, e.description, e.project, e.extensionType];
  return JSON.stringify(row);
}

export function decodeEntry(text: string): SiteModuleState {
  const [machineName, displayName, moduleType, enabled, version, description, project, extensionType = "module"] = JSON.parse(text) as Encoded;
  return { machineName, displayName, moduleType, extensionType, enabled, version, description, project };
}

/** The entries of a staging write that are valid (staged whole): what they add to the task's total. */
export function validEntries(entries: readonly { entry?: unknown }[]): number {
  let valid = 0;
  for (const e of entries) if (e.entry) valid++;
  return valid;
}
