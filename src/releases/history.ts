// A project's release history as drupal.org publishes it
// (https://updates.drupal.org/release-history/{project}/current), read into
// plain data: what the Update module's judgement (status.ts) needs, releases
// kept in the document's order (newest first, each branch's dev last), which
// that judgement relies on.
import { childText, parseXml, XmlError, type XmlElement } from "./xml";

export interface Release {
  version: string;
  /** "published" or "unpublished" (a revoked release). */
  status: string;
  /** Unix seconds, or null when the document gives none. */
  date: number | null;
  /** The "Release type" terms: "Security update", "Insecure", "Unsupported", "Bug fixes"... */
  releaseTypes: string[];
  releaseLink: string | null;
  downloadLink: string | null;
}

export interface ProjectHistory {
  /** The project's short name, e.g. "views" or "drupal". */
  project: string;
  title: string | null;
  link: string | null;
  /** "published", or "insecure", "revoked", "unpublished", "unsupported". */
  projectStatus: string | null;
  /** Branch prefixes still supported, e.g. ["8.x-1.", "2.0."] (empty when the document names none). */
  supportedBranches: string[];
  releases: Release[];
}

export class ReleaseHistoryError extends Error {}

/** drupal.org project short names: what is safe in a URL path and a database key. */
export const PROJECT_NAME = /^[a-z][a-z0-9_]{0,127}$/;

/** Reads one release-history document; throws ReleaseHistoryError saying what is wrong. */
export function parseReleaseHistory(xml: string): ProjectHistory {
  let root: XmlElement;
  try {
    root = parseXml(xml);
  } catch (err) {
    if (err instanceof XmlError) throw new ReleaseHistoryError(`not well-formed XML: ${err.message}`);
    throw err;
  }
  if (root.name !== "project") {
    // drupal.org answers an unknown project with <error>No release history was found for the requested project (x).</error>
    const said = root.name === "error" ? `: ${root.text.trim().slice(0, 200)}` : "";
    throw new ReleaseHistoryError(`expected a <project> document, got <${root.name}>${said}`);
  }
  const project = childText(root, "short_name");
  if (!project) throw new ReleaseHistoryError("<short_name> is missing");
  if (!PROJECT_NAME.test(project)) throw new ReleaseHistoryError(`<short_name> "${project.slice(0, 64)}" is not a project name`);
  const releasesElement = root.children.find((c) => c.name === "releases");
  // A release without a version cannot be told apart from another: Drupal's
  // UpdateProcessor skips it (and keeps the rest of the document); so does this.
  const releases = (releasesElement?.children ?? [])
    .filter((c) => c.name === "release" && childText(c, "version"))
    .map(readRelease);
  const branches = childText(root, "supported_branches");
  return {
    project,
    title: childText(root, "title"),
    link: childText(root, "link"),
    projectStatus: childText(root, "project_status"),
    supportedBranches: branches ? branches.split(",").map((b) => b.trim()).filter((b) => b !== "") : [],
    releases,
  };
}

function readRelease(element: XmlElement): Release {
  const version = childText(element, "version")!;
  const date = childText(element, "date");
  const terms = element.children.find((c) => c.name === "terms")?.children ?? [];
  return {
    version,
    status: childText(element, "status") ?? "published",
    date: date && /^\d{1,12}$/.test(date) ? Number(date) : null,
    releaseTypes: terms
      .filter((term) => term.name === "term" && childText(term, "name") === "Release type")
      .map((term) => childText(term, "value") ?? ""),
    releaseLink: childText(element, "release_link"),
    downloadLink: childText(element, "download_link"),
  };
}
