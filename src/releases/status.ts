// The update status of one installed project, judged as Drupal core's Update
// module judges it (UpdateCalculator::updateProjectStatus in Drupal 11,
// update_calculate_project_update_status() before it), from the project's
// release history. Pure: no I/O, no clock.
//
// What differs, because a site's inventory does not carry it: Drupal knows
// the build date of a dev snapshot (its .info.yml "datestamp") and compares
// it with release dates; modsync is told only the version. So for a dev
// snapshot, as in Drupal without a datestamp, security releases are not
// looked for and, unless the project or release is flagged, the status is
// `unknown` (Drupal's NOT_CHECKED, "Unknown release date").
import { extensionVersion, supportBranchMajor } from "./extension-version";
import type { ProjectHistory, Release } from "./history";

export const UPDATE_STATUSES = ["not_secure", "revoked", "not_supported", "not_current", "current", "unknown"] as const;
export type UpdateStatus = (typeof UPDATE_STATUSES)[number];

export interface ProjectJudgement {
  status: UpdateStatus;
  /** Why the status is what it is, when Drupal says so (unknown, flagged project or release). */
  reason: string | null;
  /** The release Drupal recommends in the target major: the newest stable one, else the newest. */
  recommended: string | null;
  /** The newest release of the target major, stable or not. */
  latestVersion: string | null;
  /**
   * Security releases newer than the installed one, newest first, as Drupal
   * lists them on its report: only when the project is not current.
   */
  securityUpdates: string[];
  /** Newest release of each higher supported major ("Also available"), by major. */
  alsoAvailable: string[];
}

const isSecurityRelease = (r: Release) => r.releaseTypes.includes("Security update");
const isInsecure = (r: Release) => r.releaseTypes.includes("Insecure");
const isUnsupported = (r: Release) => r.releaseTypes.includes("Unsupported");
const isPublished = (r: Release) => r.status === "published";

const FLAGGED_PROJECT: Record<string, { status: UpdateStatus; reason: string }> = {
  insecure: { status: "not_secure", reason: "Project labeled insecure by the Drupal security team" },
  unpublished: { status: "revoked", reason: "Project revoked" },
  revoked: { status: "revoked", reason: "Project revoked" },
  unsupported: { status: "not_supported", reason: "Project no longer supported" },
};

const unknown = (reason: string): ProjectJudgement =>
  ({ status: "unknown", reason, recommended: null, latestVersion: null, securityUpdates: [], alsoAvailable: [] });

/** The status of `installedVersion` of the project `history` describes; `history` null means no data. */
export function judgeProject(installedVersion: string | null, history: ProjectHistory | null): ProjectJudgement {
  if (!history) return unknown("No release data for this project");
  const flagged = history.projectStatus ? FLAGGED_PROJECT[history.projectStatus] : undefined;
  if (flagged) return { ...unknown(flagged.reason), ...flagged };

  if (installedVersion === null || installedVersion === "") return unknown("Empty version");
  const existing = extensionVersion(installedVersion);
  if (!existing) return unknown(`Invalid version: ${installedVersion}`);
  const isDev = /dev|HEAD/.test(installedVersion);
  const inSupportedBranch = (version: string) => history.supportedBranches.some((b) => version.startsWith(b));

  let status: UpdateStatus | null = null;
  let reason: string | null = null;
  let targetMajor = existing.major;
  if (!inSupportedBranch(installedVersion) && history.supportedBranches.length > 0) {
    status = "not_supported";
    reason = "Installed release is not in a supported branch";
    for (const branch of history.supportedBranches) {
      const major = supportBranchMajor(branch);
      if (major !== null) {
        targetMajor = major;
        break;
      }
    }
  }
  // Never recommend a downgrade.
  targetMajor = Math.max(existing.major, targetMajor);

  if (history.releases.length === 0) return unknown("No available releases found");

  let recommended: string | null = null;
  let latestVersion: string | null = null;
  let recommendedWithoutExtra = "";
  let recommendedCandidate: string | null = null;
  let releaseIsSupported = false;
  const also = new Map<number, string>();
  const securityUpdates: string[] = [];
  for (const release of history.releases) {
    const version = extensionVersion(release.version);
    if (!version) continue;
    releaseIsSupported = inSupportedBranch(release.version) && !isUnsupported(release);
    const isInstalled = release.version === installedVersion;
    if (isInstalled) {
      if (isInsecure(release)) {
        status = "not_secure";
        reason = "Installed release is marked insecure";
      } else if (!isPublished(release)) {
        status = "revoked";
        reason = "Installed release has been revoked";
      } else if (!releaseIsSupported) {
        status = "not_supported";
        reason = "Installed release is no longer supported";
      }
    } else if (!isPublished(release) || !releaseIsSupported || isInsecure(release)) {
      continue;
    } else if (release.date === null && version.extra === "dev") {
      // Dev releases without a date are stubs, never offered.
      continue;
    }

    if (version.major > targetMajor) {
      if (!also.has(version.major)) also.set(version.major, release.version);
      continue;
    }
    if (latestVersion === null && version.major === targetMajor) latestVersion = release.version;

    const withoutExtra = version.extra ? release.version.replace(`-${version.extra}`, "") : release.version;
    if (recommended === null && version.major === targetMajor && releaseIsSupported) {
      // The newest release at the highest patch level; a stable one there
      // recommends the newest release of that level (e.g. 1.6-bugfix over 1.6).
      if (recommendedWithoutExtra !== withoutExtra) {
        recommendedWithoutExtra = withoutExtra;
        recommendedCandidate = release.version;
      }
      if (version.extra === null) recommended = recommendedCandidate;
    }

    if (isInstalled) break;
    // A dev snapshot's build date is unknown: whether a release is newer cannot be told.
    if (isDev) continue;
    if (isSecurityRelease(release)) securityUpdates.push(release.version);
  }

  if (recommended === null && latestVersion !== null && releaseIsSupported) recommended = latestVersion;
  const judged = (s: UpdateStatus, why: string | null): ProjectJudgement => ({
    status: s,
    reason: why,
    recommended,
    latestVersion,
    securityUpdates: s === "current" ? [] : securityUpdates,
    alsoAvailable: [...also.values()],
  });
  if (status !== null) return judged(status, reason);
  if (recommended === null) return { ...judged("unknown", "No available releases found"), recommended: null };
  if (isDev) return judged("unknown", "Unknown release date");
  return judged(installedVersion === recommended || installedVersion === latestVersion ? "current" : "not_current", null);
}

/**
 * The security release to install: the one closest above the installed
 * release (the last Drupal lists), so the smallest step that leaves the
 * insecure release. Releases flagged insecure since are never listed.
 */
export function securityReleaseToInstall(judgement: ProjectJudgement): string | null {
  return judgement.securityUpdates.at(-1) ?? null;
}
