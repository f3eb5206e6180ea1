// `releases import` on what a folder can hold besides documents: a folder
// named like a document, a broken link. Each refused
// import names the file and changes nothing; on both dialects.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { importReleaseHistories, ReleaseImportError } from "../../src/updates/import";
import { createHarness, type Harness } from "../support/harness";
import { RELEASE_FIXTURES } from "../support/releases";
import { describeEachDialect } from "../support/stores";

describeEachDialect("releases import: what is not a readable document", (dialect) => {
  let h: Harness;
  let dir: string;
  beforeAll(async () => {
    h = await createHarness(dialect);
    dir = mkdtempSync(join(tmpdir(), "modsync-import-"));
  });
  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    await h.close();
  });

  test("a folder named *.xml inside the folder is not a document: skipped", async () => {
    const path = join(dir, "with-subfolder");
    mkdirSync(join(path, "archive.xml"), { recursive: true });
    copyFileSync(join(RELEASE_FIXTURES, "drupal.sec.8.0.2.xml"), join(path, "drupal.xml"));
    expect(await importReleaseHistories(h.store, [path])).toMatchObject({ projects: ["drupal"] });
  });

  test("a broken link is refused with its name, and nothing is stored", async () => {
    const path = join(dir, "broken-link");
    mkdirSync(path);
    copyFileSync(join(RELEASE_FIXTURES, "aaa_update_test.8.x-1.2.xml"), join(path, "aaa.xml"));
    symlinkSync(join(dir, "nowhere.xml"), join(path, "zzz.xml"));
    const refused = importReleaseHistories(h.store, [path]);
    await expect(refused).rejects.toThrow(ReleaseImportError);
    await expect(refused).rejects.toThrow(/zzz\.xml: cannot be read \(ENOENT\)/);
    expect((await h.store.releases.histories(["aaa_update_test"])).size).toBe(0);
  });
});
