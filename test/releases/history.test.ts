// Reading release-history documents: what Drupal's fixtures hold, and
// hostile or malformed documents refused with a message saying why.
import { expect, test } from "bun:test";
import { MAX_XML_BYTES, parseReleaseHistory, ReleaseHistoryError } from "../../src/releases";
import { fixture } from "../support/releases";

const doc = (body: string) => `<?xml version="1.0" encoding="utf-8"?>\n<project><short_name>views</short_name>${body}</project>`;

test("reads a fixture: project, supported branches, status and releases in document order with their terms", () => {
  const h = fixture("drupal.sec.8.2.0-rc2");
  expect(h).toMatchObject({ project: "drupal", title: "Drupal", link: "https://example.com/project/drupal", projectStatus: "published", supportedBranches: ["8.0.", "8.1.", "8.2."] });
  expect(h.releases.map((r) => r.version)).toEqual([
    "8.2.0-rc2", "8.2.0-rc1", "8.2.0-beta2", "8.2.0-beta1", "8.2.0-alpha2", "8.2.0-alpha1", "8.1.2", "8.1.1", "8.1.0", "8.0.2", "8.0.1", "8.0.0",
  ]);
  expect(h.releases[0]).toEqual({
    version: "8.2.0-rc2", status: "published", date: 1533298080, releaseTypes: ["Bug fixes", "New features", "Security update"],
    releaseLink: "https://example.com/drupal-8-2-0-rc2-release", downloadLink: "https://example.com/drupal-8-2-0-rc2.tar.gz",
  });
  expect(fixture("drupal.8.1.0").releases.find((r) => r.version === "8.0.2")!.status).toBe("unpublished");
});

test("entities and CDATA are decoded; comments are skipped", () => {
  const h = parseReleaseHistory(doc("<!-- a comment --><title>Views &amp; more &#x263A; <![CDATA[<raw>]]></title>"));
  expect(h.title).toBe("Views & more \u263A <raw>");
});

test("hostile and malformed documents are refused, saying why", () => {
  const refused: [string, RegExp][] = [
    [`<?xml version="1.0"?><!DOCTYPE project [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]><project><short_name>&b;</short_name></project>`, /declarations/],
    [doc("<title>&xxe;</title>"), /unknown entity "&xxe;"/],
    [doc("<title>a & b</title>"), /bare "&"/],
    ["<project><short_name>views</short_name><title>unclosed", /<title> is never closed/],
    [doc("<title>x</name>"), /unexpected <\/name>/],
    [`${doc("")}<project/>`, /second root/],
    ["<project><title>no name</title></project>", /<short_name> is missing/],
    ["<project><short_name>../../etc</short_name></project>", /not a project name/],
    ['<?xml version="1.0" encoding="utf-8"?>\n<error>No release history was found for the requested project (nope).</error>', /expected a <project> document, got <error>: No release history/],
    [`<project>${"<a>".repeat(40)}${"</a>".repeat(40)}</project>`, /nested deeper than 32/],
    ["plain text", /text outside the root element/],
    ["", /no root element/],
    [doc("<title <x>"), /malformed markup/],
  ];
  for (const [xml, why] of refused) {
    expect(() => parseReleaseHistory(xml)).toThrow(ReleaseHistoryError);
    expect(() => parseReleaseHistory(xml)).toThrow(why);
  }
});

test("a release without <version> is skipped, as Drupal skips it; the document's other releases are kept", () => {
  const h = parseReleaseHistory(doc(
    "<releases><release><status>published</status></release>"
      + "<release><version> </version></release>"
      + "<release><version>8.x-1.0</version><status>published</status></release></releases>",
  ));
  expect(h.releases.map((r) => r.version)).toEqual(["8.x-1.0"]);
});

test("a document past MAX_XML_BYTES is refused before it is read", () => {
  const huge = doc(`<title>${"x".repeat(MAX_XML_BYTES)}</title>`);
  const started = performance.now();
  expect(() => parseReleaseHistory(huge)).toThrow(/larger than/);
  expect(performance.now() - started).toBeLessThan(1000);
});

test("markup built to make the reader backtrack is refused in linear time", () => {
  const bodies = [
    `<project><a${' x="1"'.repeat(300_000)}`, // a start tag that never ends
    `<project><![CDATA[${"x".repeat(2_000_000)}`, // CDATA that never ends
    `<project><!--${"-".repeat(2_000_000)}`, // a comment that never ends
    `<project>${"&amp".repeat(500_000)}</project>`, // entities without their ";"
  ];
  for (const xml of bodies) {
    const started = performance.now();
    expect(() => parseReleaseHistory(xml)).toThrow(ReleaseHistoryError);
    expect(performance.now() - started).toBeLessThan(2000);
  }
});
