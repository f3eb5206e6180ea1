// Admin CLI: npm run cli -- <command> [options] [--json]
//   org create --name NAME
//   user create --email EMAIL --org ORG_ID [--role admin|member]
//   token create --user USER_ID
//   token revoke --token -          (the token on stdin; or MODSYNC_TOKEN=... token revoke)
//   site create --org ORG_ID --url URL --name NAME
//   site rotate-token --site SITE_ID
//   site list [--org ORG_ID]
//   org list
//   user list
//   releases import <file|dir>...
// With --json every command prints exactly one JSON object on stdout.
import { parseArgs } from "node:util";
import { AccountsService } from "./accounts/service";
import { ConfigError, loadConfig } from "./config";
import { ApiError } from "./errors";
import { SitesService } from "./sites/service";
import { openStore } from "./store/open";
import { importReleaseHistories, ReleaseImportError } from "./updates/import";
import { ConflictError, NotFoundError, type Role, type Store } from "./store/types";

const USAGE = `Usage: npm run cli -- <command> [options] [--json]
  org create --name NAME
  user create --email EMAIL --org ORG_ID [--role admin|member]
  token create --user USER_ID
  token revoke --token -        (reads the token from stdin; or set MODSYNC_TOKEN)
  site create --org ORG_ID --url URL --name NAME
  site rotate-token --site SITE_ID
  site list [--org ORG_ID]
  org list
  user list
  releases import <file|dir>... (drupal.org release-history XML; a folder: its *.xml files)`;

class UsageError extends Error {}

type Options = Record<string, string | undefined>;

function required(options: Options, name: string): string {
  const value = options[name];
  if (value === undefined || value === "") throw new UsageError(`--${name} is required`);
  return value;
}

function id(options: Options, name: string): number {
  const raw = required(options, name);
  if (!/^[1-9]\d{0,9}$/.test(raw) || Number(raw) > 2 ** 31 - 1) throw new UsageError(`--${name} must be a positive integer, got "${raw}"`);
  return Number(raw);
}

/**
 * The token `token revoke` is given. A value on the command line is readable
 * by every local user (/proc/<pid>/cmdline, ps) and lands in shell history,
 * so the CLI prefers stdin (`--token -`, one line) or MODSYNC_TOKEN; a value
 * is still accepted, for scripts written before, with a warning on stderr.
 */
async function secretToken(options: Options): Promise<string> {
  const given = options.token;
  if (given === "-") {
    for await (const line of console) {
      const token = line.trim();
      if (token === "") break;
      return token;
    }
    throw new UsageError("--token -: no token on standard input");
  }
  if (given !== undefined && given !== "") {
    console.error("Warning: --token VALUE exposes the token to other local users (process list) and to shell history; use --token - (stdin) or MODSYNC_TOKEN");
    return given;
  }
  const fromEnv = process.env.MODSYNC_TOKEN?.trim();
  if (fromEnv) return fromEnv;
  throw new UsageError("--token - (token on stdin) or MODSYNC_TOKEN is required");
}

type Command = (store: Store, options: Options, paths: string[]) => Promise<{ result: Record<string, unknown>; text: string }>;

/** Lines of a text table, one per row. */
const lines = <T>(rows: T[], line: (row: T) => string, none: string) => (rows.length === 0 ? none : rows.map(line).join("\n"));

const commands: Record<string, Command> = {
  "org create": async (store, o) => {
    const org = await new AccountsService(store).createOrganization(required(o, "name"));
    return { result: { id: org.id, name: org.name }, text: `Created organization ${org.id} (${org.name})` };
  },
  "user create": async (store, o) => {
    const role = o.role ?? "member";
    if (role !== "admin" && role !== "member") throw new UsageError(`--role must be admin or member, got "${role}"`);
    const user = await new AccountsService(store).createUser({ email: required(o, "email"), organizationId: id(o, "org"), role: role as Role });
    return { result: user, text: `Created user ${user.id} (${user.email})\nAPI token (shown once): ${user.token}` };
  },
  "token create": async (store, o) => {
    const token = await new AccountsService(store).createToken(id(o, "user"));
    return { result: token, text: `API token (shown once): ${token.token}` };
  },
  "token revoke": async (store, o) => {
    const revoked = await new AccountsService(store).revokeToken(await secretToken(o));
    if (!revoked) throw new NotFoundError("active token");
    return { result: { revoked: true }, text: "Token revoked" };
  },
  "site create": async (store, o) => {
    const site = await new SitesService(store).create({ organizationId: id(o, "org"), url: required(o, "url"), name: required(o, "name") });
    return { result: site, text: `Created site ${site.id} (${site.url})\nSite token (shown once): ${site.token}` };
  },
  "site rotate-token": async (store, o) => {
    const sites = new SitesService(store);
    const siteId = id(o, "site");
    const site = await sites.find(String(siteId));
    if (!site) throw new NotFoundError(`site ${siteId}`);
    const rotated = await sites.rotateToken(site);
    return { result: rotated, text: `New token of site ${rotated.id} (shown once; the old one no longer works): ${rotated.token}` };
  },
  "site list": async (store, o) => {
    const sites = await store.listSites(o.org === undefined ? undefined : id(o, "org"));
    const items = sites.map((s) => ({
      id: s.id, organization_id: s.organizationId, url: s.url, name: s.name, module_count: s.moduleCount,
      last_synced_at: s.lastSyncedAt ? s.lastSyncedAt.toISOString() : null,
    }));
    const text = lines(items, (s) => `${s.id}\torg ${s.organization_id}\t${s.url}\t${s.name}\t${s.module_count} modules\tlast sync ${s.last_synced_at ?? "never"}`, "No sites");
    return { result: { items }, text };
  },
  "org list": async (store) => {
    const items = await store.listOrganizations();
    return { result: { items }, text: lines(items, (org) => `${org.id}\t${org.name}`, "No organizations") };
  },
  "user list": async (store) => {
    const users = await store.listUsers();
    const items = users.map((u) => ({ id: u.id, email: u.email, memberships: u.memberships.map((m) => ({ organization_id: m.organizationId, role: m.role })) }));
    const text = lines(items, (u) => `${u.id}\t${u.email}\t${u.memberships.map((m) => `org ${m.organization_id} (${m.role})`).join(", ") || "no organization"}`, "No users");
    return { result: { items }, text };
  },
  "releases import": async (store, _o, paths) => {
    const report = await importReleaseHistories(store, paths);
    return {
      result: { projects: report.projects.length, changed: report.changed, sites_computed: report.sitesComputed },
      text: `Imported ${report.projects.length} project(s), ${report.changed.length} changed; statuses of ${report.sitesComputed} site(s) computed`,
    };
  },
};

/** Commands that take paths after their name. */
const TAKES_PATHS = new Set(["releases import"]);

function messageOf(err: unknown): string {
  if (err instanceof ApiError) {
    const fields = err.extra.errors?.map((e) => e.msg).join("; ");
    return fields ? `${err.detail}: ${fields}` : err.detail;
  }
  if (err instanceof NotFoundError || err instanceof ConflictError || err instanceof ReleaseImportError) return err.message;
  return err instanceof Error ? err.message : String(err);
}

async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        json: { type: "boolean", default: false },
        name: { type: "string" }, email: { type: "string" }, org: { type: "string" }, role: { type: "string" },
        user: { type: "string" }, token: { type: "string" }, url: { type: "string" }, site: { type: "string" },
      },
    });
  } catch (err) {
    console.error(messageOf(err));
    console.error(USAGE);
    return 2;
  }
  const json = parsed.values.json === true;
  const fail = (message: string, code: number) => {
    if (json) console.log(JSON.stringify({ error: message }));
    console.error(message.split("\n")[0]);
    return code;
  };
  const name = parsed.positionals.slice(0, 2).join(" ");
  const paths = parsed.positionals.slice(2);
  const command = paths.length === 0 || TAKES_PATHS.has(name) ? commands[name] : undefined;
  if (!command) return fail(`Unknown command "${parsed.positionals.join(" ")}"\n${USAGE}`, 2);

  let store: Store;
  try {
    store = await openStore(loadConfig().database);
  } catch (err) {
    return fail(err instanceof ConfigError ? err.message : `Cannot open the database: ${messageOf(err)}`, 1);
  }
  try {
    const { json: _json, ...options } = parsed.values;
    const { result, text } = await command(store, options, paths);
    console.log(json ? JSON.stringify(result) : text);
    return 0;
  } catch (err) {
    return fail(messageOf(err), err instanceof UsageError ? 2 : 1);
  } finally {
    await store.close();
  }
}

process.exitCode = await main(process.argv.slice(2));
