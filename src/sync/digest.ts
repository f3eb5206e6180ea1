// A fingerprint of a site's whole inventory, stored on the site row. When a
// payload's fingerprint equals the stored one, every module is unchanged and
// the sync needs no look at site_modules at all: the common re-sync of an
// untouched site costs one row read instead of one row per module.
import { createHash } from "node:crypto";
import type { SiteModuleState } from "./plan";

const byName = (a: SiteModuleState, b: SiteModuleState) => (a.machineName < b.machineName ? -1 : a.machineName > b.machineName ? 1 : 0);

function sorted(entries: readonly SiteModuleState[]): readonly SiteModuleState[] {
  for (let i = 1; i < entries.length; i++) {
    if (entries[i - 1]!.machineName > entries[i]!.machineName) return [...entries].sort(byName);
  }
  return entries;
}

/** SHA-256 over every stored field of every module, independent of order. */
export function inventoryDigest(entries: Iterable<SiteModuleState>): string {
  const list = sorted(Array.isArray(entries) ? entries : [...entries]);
  const rows = list.map((e) => [e.machineName, e.displayName, e.moduleType, e.enabled, e.version, e.description, e.project]);
  return createHash("sha256").update(JSON.stringify(rows)).digest("base64");
}
