// A version as Drupal's Update module reads it (Drupal\Core\Extension\ExtensionVersion):
// its major version and its "extra" (alpha1, rc2, dev). Only the legacy
// `8.x-` core prefix is understood; a `7.x-` contrib version has no major
// here, as it has none in Drupal 8+. Which versions exist at all is the
// inventory's version order (parseDrupalVersion); this adds Drupal's own
// reading on top of it.
import { parseDrupalVersion } from "../inventory";

export interface ExtensionVersion {
  major: number;
  /** "alpha1", "rc2", "dev"...; null for a stable release. */
  extra: string | null;
}

export function extensionVersion(version: string): ExtensionVersion | null {
  let rest = version;
  if (version.startsWith("8.x-") && version !== "8.x-dev") {
    rest = version.slice("8.x-".length);
  } else {
    const prefix = version.indexOf(".x-");
    if ((prefix === 1 || prefix === 2) && version.split(".x-")[1] !== "dev") return null;
  }
  const parts = rest.split(".");
  if (parts.length < 2 || parts.length > 3) return null;
  const [majorText] = parts;
  if (!/^\d+$/.test(majorText!)) return null;
  if (parts.length === 3 && !/^\d+$/.test(parts[1]!)) return null;
  const [lastNumber, extra] = parts.at(-1)!.split("-");
  if (!/^\d+$/.test(lastNumber!) && extra !== "dev") return null;
  // What Drupal accepts beyond the known forms (e.g. "1.0-foo") has no place in the version order: refused too.
  if (parseDrupalVersion(version) === null && parseDrupalVersion(rest) === null) return null;
  return { major: Number(majorText), extra: extra ?? null };
}

/** The major version a support branch ("8.x-1.", "2.0.") stands for; null when it is none. */
export function supportBranchMajor(branch: string): number | null {
  if (!branch.endsWith(".")) return null;
  return extensionVersion(`${branch}0`)?.major ?? null;
}
