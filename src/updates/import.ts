// Loading release data offline: `releases import <file|dir>` reads
// release-history documents (a folder: its *.xml files), all of them before
// storing any, so a malformed one is refused and changes nothing; then the
// statuses of the sites using a changed project are computed again.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { MAX_XML_BYTES, parseReleaseHistory, ReleaseHistoryError } from "../releases";
import type { HistoryDocument } from "../store/releases/types";
import type { Store } from "../store/types";
import { UpdateStatuses } from "./statuses";

export class ReleaseImportError extends Error {}

export interface ImportReport {
  projects: string[];
  changed: string[];
  sitesComputed: number;
}

function documentFiles(paths: string[]): string[] {
  if (paths.length === 0) throw new ReleaseImportError("name a release-history file or a folder of them");
  return paths.flatMap((path) => {
    let stat;
    try {
      stat = statSync(path);
    } catch {
      throw new ReleaseImportError(`${path}: no such file or folder`);
    }
    if (!stat.isDirectory()) return [path];
    const files = readdirSync(path, { withFileTypes: true })
      .filter((entry) => entry.name.endsWith(".xml") && !entry.isDirectory())
      .map((entry) => join(path, entry.name))
      .sort();
    if (files.length === 0) throw new ReleaseImportError(`${path}: no .xml files`);
    return files;
  });
}

function readText(file: string): string {
  try {
    if (statSync(file).size > MAX_XML_BYTES) throw new ReleaseImportError(`${file}: larger than ${MAX_XML_BYTES} bytes`);
    return readFileSync(file, "utf8");
  } catch (err) {
    if (err instanceof ReleaseImportError) throw err;
    // Unreadable (permissions, a folder named as a file, a broken link): say which file and why.
    throw new ReleaseImportError(`${file}: cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
}

function readDocument(file: string): HistoryDocument {
  try {
    return { history: parseReleaseHistory(readText(file)) };
  } catch (err) {
    if (err instanceof ReleaseHistoryError) throw new ReleaseImportError(`${file}: ${err.message}`);
    throw err;
  }
}

export async function importReleaseHistories(store: Store, paths: string[], clock: () => number = Date.now): Promise<ImportReport> {
  const files = documentFiles(paths);
  const documents = files.map(readDocument);
  const seen = new Map<string, string>();
  documents.forEach((d, i) => {
    const earlier = seen.get(d.history.project);
    if (earlier) throw new ReleaseImportError(`${files[i]}: a second document for project "${d.history.project}" (first: ${earlier})`);
    seen.set(d.history.project, files[i]!);
  });
  const changed = await store.releases.saveHistories(documents, new Date(clock()));
  const sitesComputed = await new UpdateStatuses(store.releases, clock).computePending();
  return { projects: [...seen.keys()], changed, sitesComputed };
}
