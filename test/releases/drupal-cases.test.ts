// The update statuses Drupal core's own tests expect, on Drupal's own
// release-history fixtures (test/fixtures/release-history/README.md), end to
// end on both dialects: the fixture stored as release data, a site synced
// with the installed version, its statuses computed as the background does,
// and read from GET /api/v1/sites/{id}/updates.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { UpdateStatuses } from "../../src/updates/statuses";
import { createHarness, mod, payload, type Harness } from "../support/harness";
import { fixture } from "../support/releases";
import { describeEachDialect } from "../support/stores";

interface Case {
  /** Drupal's test and data set. */
  drupal: string;
  installed: string;
  fixture: string;
  status: string;
  recommended: string | null;
  securityUpdates?: string[];
  /** The security release to install (the closest security update). */
  securityRelease?: string | null;
  alsoAvailable?: string[];
}

/** The installed versions UpdateSemverTestBaselineTrait loops over: 8.{0,1}.{0,1} plain, -alpha1 and -beta1. */
const SEMVER_INSTALLED = [0, 1].flatMap((minor) => [0, 1].flatMap((patch) => ["-alpha1", "-beta1", ""].map((extra) => `8.${minor}.${patch}${extra}`)));

// Security availability (UpdateSemverTestSecurityAvailabilityTrait::securityUpdateAvailabilityProvider, core):
// SECURITY_UPDATE_REQUIRED is not_secure, UPDATE_AVAILABLE not_current, UPDATE_NONE current.
const CASES: Case[] = [
  { drupal: "security '0.0, 0.2'", installed: "8.0.0", fixture: "drupal.sec.8.0.2", status: "not_secure", recommended: "8.0.2", securityUpdates: ["8.0.2"], securityRelease: "8.0.2" },
  { drupal: "security '0.2, 0.2'", installed: "8.0.2", fixture: "drupal.sec.8.2.0-rc2", status: "not_current", recommended: "8.1.2", securityUpdates: ["8.2.0-rc2", "8.1.2"] },
  { drupal: "security '1.0, 1.2'", installed: "8.1.0", fixture: "drupal.sec.8.1.2", status: "not_secure", recommended: "8.1.2", securityUpdates: ["8.1.2"], securityRelease: "8.1.2" },
  { drupal: "security '0.0, 0.2 1.2'", installed: "8.0.0", fixture: "drupal.sec.8.2.0-rc2", status: "not_secure", recommended: "8.1.2", securityUpdates: ["8.2.0-rc2", "8.1.2", "8.0.2"], securityRelease: "8.0.2" },
  { drupal: "security '1.2, 0.2 1.2'", installed: "8.1.2", fixture: "drupal.sec.8.2.0-rc2", status: "current", recommended: "8.1.2", securityUpdates: [] },
  { drupal: "security '0.0, 1.2, secure'", installed: "8.0.0", fixture: "drupal.sec.8.1.2", status: "not_current", recommended: "8.1.2", securityUpdates: ["8.1.2"] },
  { drupal: "security '0.2, 1.2, secure'", installed: "8.0.2", fixture: "drupal.sec.8.1.2", status: "not_current", recommended: "8.1.2", securityUpdates: ["8.1.2"] },
  { drupal: "security '2.0-rc2, 0.2 1.2'", installed: "8.2.0-rc2", fixture: "drupal.sec.8.2.0-rc2", status: "current", recommended: "8.2.0-rc2", securityUpdates: [] },
  { drupal: "security '1.0, 0.2 1.2' (8.0.2 is below 8.1.0: not listed)", installed: "8.1.0", fixture: "drupal.sec.8.2.0-rc2", status: "not_secure", recommended: "8.1.2", securityUpdates: ["8.2.0-rc2", "8.1.2"], securityRelease: "8.1.2" },
  { drupal: "security '0.0, 1.2, insecure-unsupported' (insecure wins over not supported)", installed: "8.0.0", fixture: "drupal.sec.8.1.2_insecure-unsupported", status: "not_secure", recommended: "8.1.2", securityUpdates: ["8.1.2"], securityRelease: "8.1.2" },
  ...["8.2.0-alpha1", "8.2.0-alpha2", "8.2.0-beta1", "8.2.0-beta2", "8.2.0-rc1"].map((installed): Case => ({
    drupal: `security 'Pre-release:${installed.slice(2)}, security update'`, installed, fixture: "drupal.sec.8.2.0-rc2",
    status: "not_secure", recommended: "8.2.0-rc2", securityUpdates: ["8.2.0-rc2"], securityRelease: "8.2.0-rc2",
  })),
  { drupal: "security '0.0, 0.1, 0.2' (8.0.1 is a security release since marked insecure: not listed)", installed: "8.0.0", fixture: "drupal.sec.8.0.1_8.0.2", status: "not_secure", recommended: "8.0.2", securityUpdates: ["8.0.2"], securityRelease: "8.0.2" },
  { drupal: "security '0.0, 1.2, insecure'", installed: "8.0.0", fixture: "drupal.sec.8.1.2_insecure", status: "not_secure", recommended: "8.1.2", securityUpdates: ["8.1.2"], securityRelease: "8.1.2" },
  ...["8.2.0-alpha1", "8.2.0-alpha2", "8.2.0-beta1", "8.2.0-beta2", "8.2.0-rc1", "8.2.0-rc2"].map((installed): Case => ({
    drupal: `security 'Pre-release:${installed.slice(2)}, no security update'`, installed, fixture: "drupal.sec.8.2.0-rc2-b",
    status: installed === "8.2.0-rc2" ? "current" : "not_current", recommended: "8.2.0-rc2", securityUpdates: [],
  })),
  // Baseline (UpdateSemverTestBaselineTrait, core).
  ...["8.0.0", "8.0.0-alpha1", "8.0.0-beta1", "8.0.1", "8.1.0-beta1"].map((installed): Case => ({
    drupal: `testNoUpdatesAvailable-like: ${installed} with 8.1.0 released`, installed, fixture: "drupal.8.1.0",
    status: installed === "8.1.0" ? "current" : "not_current", recommended: "8.1.0",
  })),
  { drupal: "testNoUpdatesAvailable 8.1.0 (8.2.0 not in a supported branch)", installed: "8.1.0", fixture: "drupal.8.1.0", status: "current", recommended: "8.1.0" },
  { drupal: "testRevokedRelease 8.0.2", installed: "8.0.2", fixture: "drupal.8.1.0", status: "revoked", recommended: "8.1.0" },
  { drupal: "testUnsupportedRelease 8.0.3", installed: "8.0.3", fixture: "drupal.8.1.0", status: "not_supported", recommended: "8.1.0" },
  { drupal: "testUnsupportedRelease newest branch unsupported: 8.1.0", installed: "8.1.0", fixture: "drupal.1.1-unsupported", status: "not_supported", recommended: null },
  { drupal: "testUnsupportedRelease newest branch unsupported: 8.1.0-beta1", installed: "8.1.0-beta1", fixture: "drupal.1.1-unsupported", status: "not_supported", recommended: null },
  // testMajorUpdateAvailable, every installed version it loops over.
  ...SEMVER_INSTALLED.map((installed): Case => ({
    drupal: `testMajorUpdateAvailable '9.0.0': ${installed}`, installed, fixture: "drupal.9.0.0", status: "not_supported", recommended: "9.0.0",
  })),
  ...SEMVER_INSTALLED.map((installed): Case => ({
    drupal: `testMajorUpdateAvailable '8.0.0-9.0.0': ${installed} (9.0.0 also available)`, installed, fixture: "drupal.8.0.0-9.0.0",
    status: installed === "8.1.1" ? "current" : "not_current", recommended: "8.1.1", alsoAvailable: ["9.0.0"],
  })),
  // testMajorExtraUpdateAvailable: the next major has stable releases, the one after only unstable ones.
  ...SEMVER_INSTALLED.map((installed): Case => ({
    drupal: `testMajorExtraUpdateAvailable '9.0.0-10.0.0': ${installed}`, installed, fixture: "drupal.9.0.0-10.0.0",
    status: "not_supported", recommended: "9.2.2", alsoAvailable: ["10.0.0-beta1"],
  })),
  // testRevokedRelease and testUnsupportedRelease with the 8.0. branch no longer supported.
  { drupal: "testRevokedRelease 8.0.2 on '8.1.0-unsupported'", installed: "8.0.2", fixture: "drupal.8.1.0-unsupported", status: "revoked", recommended: "8.1.0" },
  { drupal: "testUnsupportedRelease 8.0.3 on '8.1.0-unsupported'", installed: "8.0.3", fixture: "drupal.8.1.0-unsupported", status: "not_supported", recommended: "8.1.0" },
  // UpdateCalculateProjectDataTest (kernel): a flagged project.
  { drupal: "project_status insecure", installed: "8.0.1", fixture: "drupal.project_status.insecure.0.2", status: "not_secure", recommended: null },
  { drupal: "project_status revoked", installed: "8.0.1", fixture: "drupal.project_status.revoked.0.2", status: "revoked", recommended: null },
  // UpdateContribTest: a legacy 8.x- contrib project (recommended 8.x-1.2, latest 8.x-1.3-beta1).
  { drupal: "UpdateContribTest 8.x-1.0 with 8.x-1.2", installed: "8.x-1.0", fixture: "aaa_update_test.8.x-1.2", status: "not_current", recommended: "8.x-1.2" },
  { drupal: "UpdateContribTest 8.x-1.2 is current", installed: "8.x-1.2", fixture: "aaa_update_test.8.x-1.2", status: "current", recommended: "8.x-1.2" },
  // A dev snapshot without a build date: Drupal's NOT_CHECKED ("Unknown release date").
  { drupal: "dev snapshot, no datestamp", installed: "8.x-1.x-dev", fixture: "aaa_update_test.8.x-1.2", status: "unknown", recommended: "8.x-1.2" },
];

describeEachDialect("Drupal's expected update statuses", (dialect) => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness(dialect);
  });
  afterAll(() => h.close());

  for (const c of CASES) {
    test(`${c.drupal}: ${c.installed} on ${c.fixture} is ${c.status}`, async () => {
      const history = fixture(c.fixture);
      const site = await h.freshSite("case");
      const isCore = history.project === "drupal";
      const modules = isCore
        ? [mod("node", { module_type: "core", version: c.installed })]
        : [mod("aaa_update_test", { version: c.installed })];
      const body = payload(site, modules, { drupal_info: { core_version: isCore ? c.installed : "8.1.1", php_version: "8.3.2", ip_address: "192.0.2.1" } });
      expect((await h.sync(body, site.id)).status).toBe(200);
      await h.store.releases.saveHistories([{ history }], new Date());
      await new UpdateStatuses(h.store.releases).computeSites([site.id]);

      const res = await h.request("GET", `/api/v1/sites/${site.id}/updates`);
      expect(res.status).toBe(200);
      const { projects } = (await res.json()) as { projects: Record<string, unknown>[] };
      const project = projects.find((p) => p.project === history.project)!;
      expect(project).toMatchObject({ installed_version: c.installed, status: c.status, recommended: c.recommended });
      if (c.securityUpdates) expect(project.security_updates).toEqual(c.securityUpdates);
      if (c.securityRelease !== undefined) expect(project.security_release).toBe(c.securityRelease);
      expect(project.also_available).toEqual(c.alsoAvailable ?? []);
      if (c.recommended) {
        const link = history.releases.find((r) => r.version === c.recommended)!.releaseLink;
        expect((project.links as Record<string, unknown>).recommended).toBe(link);
      }
    });
  }
});
