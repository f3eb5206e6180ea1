// Drupal's release-history fixtures (test/fixtures/release-history/README.md), read or served.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseReleaseHistory, type ProjectHistory } from "../../src/releases";

export const RELEASE_FIXTURES = join(import.meta.dir, "../fixtures/release-history");

export const fixtureText = (name: string): string => readFileSync(join(RELEASE_FIXTURES, `${name}.xml`), "utf8");

export const fixture = (name: string): ProjectHistory => parseReleaseHistory(fixtureText(name));
