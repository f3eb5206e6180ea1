// The admin CLI as an operator runs it: a real child process against a fresh
// database reached through DATABASE_URL. What touches the store runs on every
// dialect; input checks and text output run once, on SQLite.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { AccountsService } from "../src/accounts/service";
import { SitesService } from "../src/sites/service";
import { tokenMatches } from "../src/security/tokens";
import type { Store } from "../src/store/types";
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { RELEASE_FIXTURES } from "./support/releases";
import { inheritedEnv, ROOT } from "./support/server-process";
import { createTestDatabase, describeEachDialect, type TestDatabase } from "./support/stores";

const TIMEOUT = 20_000; // a few child processes per test, on a possibly busy machine

interface Run { code: number; stdout: string; stderr: string }

/** The CLI against `databaseUrl`; `input` is what it reads on stdin (nothing if unset) and more environment. */
async function cliWith(input: { stdin?: string; env?: Record<string, string> }, databaseUrl: string, ...args: string[]): Promise<Run> {
  const { MODSYNC_TOKEN: _fromTheRunner, ...env } = inheritedEnv();
  const proc = Bun.spawn([process.execPath, "src/cli.ts", ...args], {
    cwd: ROOT,
    env: { ...env, DATABASE_URL: databaseUrl, ...input.env },
    stdin: input.stdin === undefined ? "ignore" : new Blob([input.stdin]),
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { code, stdout, stderr };
}

const cli = (databaseUrl: string, ...args: string[]) => cliWith({}, databaseUrl, ...args);

/** A --json success: exit 0, nothing on stderr, exactly one line on stdout holding one JSON object. */
function oneJsonObject(run: Run): Record<string, unknown> {
  expect(run.stderr).toBe("");
  expect(run.code).toBe(0);
  const lines = run.stdout.split("\n").filter((l) => l !== "");
  expect(lines.length).toBe(1);
  const value = JSON.parse(lines[0]!);
  expect(typeof value === "object" && value !== null && !Array.isArray(value)).toBe(true);
  return value;
}

/** A failure: non-zero exit and exactly one line on stderr, matching `message`. */
function failsWith(run: Run, message: RegExp) {
  expect(run.code).not.toBe(0);
  const lines = run.stderr.split("\n").filter((l) => l !== "");
  expect(lines).toEqual([expect.stringMatching(message)]);
}

/** The user id a bearer token authenticates as, or null when it is refused. */
async function authenticatedAs(store: Store, token: string): Promise<number | null> {
  return new AccountsService(store).authenticate(`Bearer ${token}`).catch(() => null);
}

describeEachDialect("admin CLI", (dialect) => {
  let db: TestDatabase;
  let store: Store;
  let orgId: number;
  const run = (...args: string[]) => cli(db.url, ...args);
  let n = 0;
  const email = () => `user-${++n}@cli.test`;
  const newUser = () => new AccountsService(store).createUser({ email: email(), organizationId: orgId, role: "member" });

  beforeAll(async () => {
    db = createTestDatabase(dialect);
    store = await db.open(); // creates (Postgres) and migrates the database the CLI will use
    orgId = (await store.createOrganization("Seed Org")).id;
  });
  afterAll(() => db.destroy());

  test("org create --json prints exactly {id, name} of a new organization", async () => {
    const out = oneJsonObject(await run("org", "create", "--name", "  Acme Agency ", "--json"));
    expect(Object.keys(out).sort()).toEqual(["id", "name"]);
    expect(out.name).toBe("Acme Agency");
    expect(out.id).not.toBe(orgId);
    // The organization is real: a user can join it.
    const user = await store.createUser({ email: email(), organizationId: out.id as number, role: "member" });
    expect(await store.memberRole(user.id, out.id as number)).toBe("member");
  }, TIMEOUT);

  for (const role of ["admin", "member"] as const) {
    test(`user create --role ${role} --json prints exactly {id, email, token}; the token authenticates`, async () => {
      const address = `${role}.Mixed@CLI.test`;
      const out = oneJsonObject(await run("user", "create", "--email", address, "--org", String(orgId), "--role", role, "--json"));
      expect(Object.keys(out).sort()).toEqual(["email", "id", "token"]);
      expect(out.email).toBe(address.toLowerCase());
      expect(out.token).toStartWith("msk_");
      expect(await authenticatedAs(store, out.token as string)).toBe(out.id as number);
      expect(await store.memberRole(out.id as number, orgId)).toBe(role);
    }, TIMEOUT);
  }

  test("token create --json prints exactly {token}: a further token for the user", async () => {
    const user = await newUser();
    const out = oneJsonObject(await run("token", "create", "--user", String(user.id), "--json"));
    expect(Object.keys(out)).toEqual(["token"]);
    expect(out.token).toStartWith("msk_");
    expect(out.token).not.toBe(user.token);
    expect(await authenticatedAs(store, out.token as string)).toBe(user.id);
    expect(await authenticatedAs(store, user.token)).toBe(user.id);
  }, TIMEOUT);

  test("token revoke --token - --json reads the token from stdin, prints {revoked: true}; that token stops authenticating, the user's others do not", async () => {
    const user = await newUser();
    const other = await new AccountsService(store).createToken(user.id);
    // One line, trimmed; what follows it is not read.
    const stdin = `  ${user.token} \n${other.token}\n`;
    expect(oneJsonObject(await cliWith({ stdin }, db.url, "token", "revoke", "--token", "-", "--json"))).toEqual({ revoked: true });
    expect(await authenticatedAs(store, user.token)).toBeNull();
    expect(await authenticatedAs(store, other.token)).toBe(user.id);
  }, TIMEOUT);

  test("token revoke takes the token from MODSYNC_TOKEN, with nothing secret on the command line", async () => {
    const user = await newUser();
    expect(oneJsonObject(await cliWith({ env: { MODSYNC_TOKEN: user.token } }, db.url, "token", "revoke", "--json"))).toEqual({ revoked: true });
    expect(await authenticatedAs(store, user.token)).toBeNull();
  }, TIMEOUT);

  test("token revoke --token VALUE still revokes, and warns on stderr that the value is exposed", async () => {
    const user = await newUser();
    const res = await run("token", "revoke", "--token", user.token, "--json");
    expect(res.code).toBe(0);
    expect(JSON.parse(res.stdout)).toEqual({ revoked: true });
    expect(res.stderr.split("\n").filter((l) => l !== "")).toEqual([expect.stringMatching(/^Warning: .*expose.*--token -.*MODSYNC_TOKEN/)]);
    expect(res.stderr).not.toContain(user.token);
    expect(await authenticatedAs(store, user.token)).toBeNull();
  }, TIMEOUT);

  test("site create --json prints exactly {id, url, name, token} of a registered site", async () => {
    const out = oneJsonObject(await run("site", "create", "--org", String(orgId), "--url", "https://cli.example.org", "--name", "CLI Site", "--json"));
    expect(Object.keys(out).sort()).toEqual(["id", "name", "token", "url"]);
    expect(out).toMatchObject({ url: "https://cli.example.org", name: "CLI Site" });
    expect(out.token).toStartWith("mss_");
    expect(await store.getSiteSummary(out.id as number)).toMatchObject({ organizationId: orgId, url: "https://cli.example.org", name: "CLI Site" });
  }, TIMEOUT);

  test("site rotate-token --json prints {id, token}: the new token works, the old one no longer; an unknown site fails", async () => {
    const site = await new SitesService(store).create({ organizationId: orgId, url: "https://rotate.cli.example.org", name: "Rotate" });
    const out = oneJsonObject(await run("site", "rotate-token", "--site", String(site.id), "--json"));
    expect(out).toEqual({ id: site.id, token: expect.stringMatching(/^mss_/) });
    const { tokenHash } = (await store.getSiteAccess(site.id, 0))!.site;
    expect(tokenMatches(out.token as string, tokenHash)).toBe(true);
    expect(tokenMatches(site.token, tokenHash)).toBe(false);
    failsWith(await run("site", "rotate-token", "--site", "999999"), /site 999999 not found/i);
  }, TIMEOUT);

  test("org list, user list and site list --json print {items} of what the database holds", async () => {
    const org = await store.createOrganization("Listed Org");
    const admin = await new AccountsService(store).createUser({ email: email(), organizationId: org.id, role: "admin" });
    const site = await new SitesService(store).create({ organizationId: org.id, url: "https://listed.cli.example.org", name: "Listed" });
    const orgs = oneJsonObject(await run("org", "list", "--json")).items as { id: number; name: string }[];
    expect(orgs).toContainEqual({ id: org.id, name: "Listed Org" });
    const users = oneJsonObject(await run("user", "list", "--json")).items as unknown[];
    expect(users).toContainEqual({ id: admin.id, email: admin.email, memberships: [{ organization_id: org.id, role: "admin" }] });
    const sites = oneJsonObject(await run("site", "list", "--org", String(org.id), "--json")).items;
    expect(sites).toEqual([{ id: site.id, organization_id: org.id, url: site.url, name: "Listed", module_count: 0, last_synced_at: null }]);
    const text = await run("site", "list", "--org", String(org.id));
    expect(text.stdout).toContain(`${site.id}\torg ${org.id}\thttps://listed.cli.example.org\tListed\t0 modules\tlast sync never`);
  }, TIMEOUT);

  test("user create in an unknown organization fails, and with --json prints one {error} object", async () => {
    failsWith(await run("user", "create", "--email", email(), "--org", "999999"), /organization 999999 not found/i);
    const json = await run("user", "create", "--email", email(), "--org", "999999", "--json");
    expect(json.code).not.toBe(0);
    expect(json.stdout.trim().split("\n").map((l) => JSON.parse(l))).toEqual([{ error: expect.stringMatching(/organization 999999 not found/i) }]);
  }, TIMEOUT);

  test("site create in an unknown organization fails", async () => {
    failsWith(await run("site", "create", "--org", "999999", "--url", "https://orphan.example.org", "--name", "X"), /organization not found/i);
  }, TIMEOUT);

  test("user create refuses an email already taken, also when it differs only in case", async () => {
    expect((await run("user", "create", "--email", "A@x.io", "--org", String(orgId))).code).toBe(0);
    failsWith(await run("user", "create", "--email", "a@x.io", "--org", String(orgId)), /a@x\.io already exists/);
  }, TIMEOUT);

  test("site create refuses a URL already registered in the organization, in any spelling", async () => {
    await new SitesService(store).create({ organizationId: orgId, url: "https://twice.example.org", name: "A" });
    failsWith(await run("site", "create", "--org", String(orgId), "--url", "HTTPS://Twice.Example.org:443/", "--name", "B"), /already registered/);
  }, TIMEOUT);

  test("token revoke fails for a token never issued and for one already revoked", async () => {
    failsWith(await cliWith({ stdin: "msk_never_issued\n" }, db.url, "token", "revoke", "--token", "-"), /not found/);
    const user = await newUser();
    await new AccountsService(store).revokeToken(user.token);
    failsWith(await cliWith({ env: { MODSYNC_TOKEN: user.token } }, db.url, "token", "revoke"), /not found/);
  }, TIMEOUT);

  test("token create fails for an unknown user", async () => {
    failsWith(await run("token", "create", "--user", "999999"), /user 999999 not found/);
  }, TIMEOUT);
});

describeEachDialect("admin CLI: releases import", (dialect) => {
  let db: TestDatabase;
  let store: Store;
  let dir: string;
  const run = (...args: string[]) => cli(db.url, ...args);
  /** A folder holding these fixture files (and `extra` files by name). */
  const folder = (name: string, fixtures: string[], extra: Record<string, string> = {}) => {
    const path = join(dir, name);
    mkdirSync(path);
    for (const f of fixtures) copyFileSync(join(RELEASE_FIXTURES, `${f}.xml`), join(path, `${f}.xml`));
    for (const [file, text] of Object.entries(extra)) writeFileSync(join(path, file), text);
    return path;
  };
  const stored = async () => [...(await store.releases.histories(["drupal", "aaa_update_test"])).keys()].sort();

  beforeAll(async () => {
    db = createTestDatabase(dialect);
    store = await db.open();
    dir = mkdtempSync(join(tmpdir(), "modsync-releases-"));
  });
  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    await db.destroy();
  });

  test("a malformed document in a folder is refused with its file and reason, and nothing is stored", async () => {
    const path = folder("bad", ["drupal.sec.8.0.2"], { "zzz.xml": "<project><short_name>zzz</short_name><releases>" });
    failsWith(await run("releases", "import", path), /zzz\.xml: not well-formed XML: <releases> is never closed/);
    expect(await stored()).toEqual([]);
    failsWith(await run("releases", "import", join(dir, "nowhere")), /nowhere: no such file or folder/);
    const twice = folder("twice", ["drupal.sec.8.0.2", "drupal.sec.8.1.2"]);
    failsWith(await run("releases", "import", twice), /a second document for project "drupal"/);
    expect(await stored()).toEqual([]);
  }, TIMEOUT);

  test("imports a folder's documents (--json: projects, changed, sites computed), then a file; the same again changes nothing", async () => {
    const path = folder("good", ["drupal.sec.8.0.2", "aaa_update_test.8.x-1.2"], { "notes.txt": "not a document" });
    expect(oneJsonObject(await run("releases", "import", path, "--json"))).toEqual({ projects: 2, changed: ["aaa_update_test", "drupal"], sites_computed: 0 });
    expect(await stored()).toEqual(["aaa_update_test", "drupal"]);
    expect(oneJsonObject(await run("releases", "import", path, "--json"))).toEqual({ projects: 2, changed: [], sites_computed: 0 });
    const file = join(RELEASE_FIXTURES, "drupal.sec.8.1.2.xml");
    expect(oneJsonObject(await run("releases", "import", file, "--json"))).toMatchObject({ projects: 1, changed: ["drupal"] });
    expect((await store.releases.histories(["drupal"])).get("drupal")!.releases.map((r) => r.version)).toContain("8.1.2");
  }, TIMEOUT);
});

// These never depend on the dialect: each is one child process. They run one
// after another: side by side, twenty CLI start-ups on a busy two-core machine
// shared one timeout budget and could all miss it together.
describe("admin CLI on SQLite: text output and input checks", () => {
  let db: TestDatabase;
  let store: Store;
  let orgId: number;
  const run = (...args: string[]) => cli(db.url, ...args);

  beforeAll(async () => {
    db = createTestDatabase("sqlite");
    store = await db.open();
    orgId = (await store.createOrganization("Seed Org")).id;
  });
  afterAll(() => db.destroy());

  test("without --json, org create prints a readable line", async () => {
    const res = await run("org", "create", "--name", "Text Org");
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/^Created organization \d+ \(Text Org\)\n$/);
  }, TIMEOUT);

  test("without --json, user create shows the user and a token that authenticates", async () => {
    const res = await run("user", "create", "--email", "text@cli.test", "--org", String(orgId), "--role", "admin");
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/^Created user \d+ \(text@cli\.test\)\nAPI token \(shown once\): msk_\S+\n$/);
    const token = /msk_\S+/.exec(res.stdout)![0];
    expect(await authenticatedAs(store, token)).not.toBeNull();
  }, TIMEOUT);

  test("without --json, site create shows the site and its token", async () => {
    const res = await run("site", "create", "--org", String(orgId), "--url", "https://text.example.org", "--name", "Text");
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/^Created site \d+ \(https:\/\/text\.example\.org\)\nSite token \(shown once\): mss_\S+\n$/);
  }, TIMEOUT);

  test("without --json, token create and token revoke print readable lines", async () => {
    const user = await new AccountsService(store).createUser({ email: "tokens@cli.test", organizationId: orgId, role: "member" });
    const created = await run("token", "create", "--user", String(user.id));
    expect(created.code).toBe(0);
    expect(created.stdout).toMatch(/^API token \(shown once\): msk_\S+\n$/);
    const revoked = await cliWith({ stdin: `${user.token}\n` }, db.url, "token", "revoke", "--token", "-");
    expect(revoked.code).toBe(0);
    expect(revoked.stdout).toBe("Token revoked\n");
  }, TIMEOUT);

  const failures: [string, (orgId: number) => string[], RegExp][] = [
    ["a malformed email", (o) => ["user", "create", "--email", "not-an-email", "--org", String(o)], /malformed email address: not-an-email/i],
    ["an email without a dot in its domain", (o) => ["user", "create", "--email", "a@b", "--org", String(o)], /malformed email/i],
    ["a site URL that is not a URL", (o) => ["site", "create", "--org", String(o), "--url", "not a url", "--name", "X"], /invalid site url/i],
    ["an ftp:// site URL", (o) => ["site", "create", "--org", String(o), "--url", "ftp://x", "--name", "X"], /invalid site url/i],
    ["a missing required option", () => ["org", "create"], /--name is required/],
    ["a missing --org", () => ["user", "create", "--email", "x@y.io"], /--org is required/],
    ["a non-numeric --org", () => ["site", "create", "--org", "one", "--url", "https://x.io", "--name", "X"], /--org must be a positive integer/],
    ["a bad --role", (o) => ["user", "create", "--email", "owner@cli.test", "--org", String(o), "--role", "owner"], /--role must be admin or member/],
    ["an unknown command", () => ["org", "delete", "--name", "X"], /Unknown command "org delete"/],
    ["token revoke with no token given at all", () => ["token", "revoke"], /--token - .*or MODSYNC_TOKEN is required/],
    ["token revoke --token - with nothing on stdin", () => ["token", "revoke", "--token", "-"], /no token on standard input/],
    ["no command at all", () => [], /Unknown command/],
  ];
  for (const [what, args, message] of failures) {
    test(`fails with a one-line message for ${what}`, async () => {
      failsWith(await run(...args(orgId)), message);
    }, TIMEOUT);
  }

  test("a refused --role creates no user", async () => {
    failsWith(await run("user", "create", "--email", "refused@cli.test", "--org", String(orgId), "--role", "root"), /--role/);
    // Succeeds only if the refused run left no user behind (emails are unique).
    const user = await new AccountsService(store).createUser({ email: "refused@cli.test", organizationId: orgId, role: "member" });
    expect(user.email).toBe("refused@cli.test");
  }, TIMEOUT);

  test("an unknown option fails, naming the option first", async () => {
    const res = await run("org", "create", "--name", "X", "--colour", "blue");
    expect(res.code).not.toBe(0);
    expect(res.stderr.split("\n")[0]).toContain("--colour");
  }, TIMEOUT);

  for (const url of ["mysql://x", "sqlite:"]) {
    test(`a bad DATABASE_URL (${url}) fails with a message naming DATABASE_URL`, async () => {
      failsWith(await cli(url, "org", "create", "--name", "X"), /DATABASE_URL/);
    }, TIMEOUT);
  }
});
