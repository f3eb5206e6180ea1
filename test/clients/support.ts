// The drush client (clients/drush/modsync-push.php) run the way a site's cron
// runs it: the real `php` binary in a child process, configured through its
// environment, fed drush's JSON.
import { expect } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT, tempDir } from "../support/server-process";

export const SCRIPT = join(ROOT, "clients", "drush", "modsync-push.php");
export const FIXTURES = join(import.meta.dir, "fixtures");
/** drush pm:list --format=json --type=module,theme,profile --fields=name,display_name,type,status,version,project,path of a Drupal 10.3 site. */
export const PM_LIST = join(FIXTURES, "pm-list.json");
/** drush status --fields=drupal-version,php-version,uri --format=json of the same site. */
export const STATUS = join(FIXTURES, "status.json");

/** What drush pm:list --format=json prints when no extension matches. */
export const EMPTY = join(FIXTURES, "pm-list-empty.json");
/** What drush prints without --format=json: a table. */
export const NOT_JSON = join(FIXTURES, "pm-list-table.txt");

export interface PmListRow { name: string; display_name: string; type: string; status: string; version: string | null; project: string; path: string }
export const pmList = (): Record<string, PmListRow> => JSON.parse(readFileSync(PM_LIST, "utf8"));

/** The exit codes the script documents. */
export const EXIT = { ok: 0, usage: 2, input: 3, network: 4, auth: 5, refused: 6, rateLimited: 7, server: 8, taskFailed: 9, taskUnknown: 10 } as const;

export interface Run { code: number; stdout: string; stderr: string }

/** Fails loudly where php-cli or its curl extension is missing (.ci/run installs both). */
export function requirePhp(): void {
  const probe = Bun.spawnSync(["php", "-r", "echo extension_loaded('curl') && function_exists('gzencode') ? 'ok' : 'missing';"], { stdout: "pipe", stderr: "pipe" });
  if (probe.stdout?.toString() !== "ok") {
    throw new Error("the drush client's tests need php-cli with curl and zlib: apt-get install -y php-cli php-curl (.ci/run does it)");
  }
}

/** Runs the script with `args`, only `env` as its environment (plus PATH), `stdin` from a file. */
export async function push(args: string[], env: Record<string, string>, stdin?: string): Promise<Run> {
  const proc = Bun.spawn(["php", SCRIPT, ...args], {
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", ...env },
    stdin: stdin === undefined ? "ignore" : Bun.file(stdin),
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { code, stdout, stderr };
}

/** Asserts the exit code, showing what the script said when it differs. */
export function expectExit(run: Run, code: number): void {
  expect({ code: run.code, stderr: run.stderr }).toEqual({ code, stderr: run.code === code ? run.stderr : expect.any(String) });
}

/** A pm:list document of `count` contrib modules (plus the fixture's), written to a temp file. */
export function largePmList(count: number): { path: string; rows: Record<string, PmListRow> } {
  const rows: Record<string, PmListRow> = { ...pmList() };
  for (let i = 0; i < count; i++) {
    const name = `contrib_${String(i).padStart(5, "0")}`;
    rows[name] = {
      name, display_name: `Contrib module number ${i} (${name})`, type: "module", status: i % 7 === 0 ? "Disabled" : "Enabled",
      version: `8.x-${1 + (i % 3)}.${i % 40}`, project: name, path: `modules/contrib/${name}`,
    };
  }
  const path = join(tempDir(), "pm-list-large.json");
  writeFileSync(path, JSON.stringify(rows, null, 4));
  return { path, rows };
}

/** A pm:list document holding only these rows of the fixture, written to a temp file. */
export function pmListWithout(...names: string[]): string {
  const rows = pmList();
  for (const name of names) delete rows[name];
  const path = join(tempDir(), "pm-list-without.json");
  writeFileSync(path, JSON.stringify(rows, null, 4));
  return path;
}

export interface Recorded { method: string; path: string; headers: Headers; bytes: number }

/**
 * A recording hop in front of the real server: what the client put on the
 * wire (method, path, headers, body size) is kept, and the request is
 * forwarded unchanged.
 */
export function recordingProxy(upstream: string): { base: string; seen: Recorded[]; stop(): void } {
  const seen: Recorded[] = [];
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(req) {
      const url = new URL(req.url);
      const body = req.method === "GET" ? undefined : new Uint8Array(await req.arrayBuffer());
      seen.push({ method: req.method, path: url.pathname, headers: req.headers, bytes: body?.byteLength ?? 0 });
      const answer = await fetch(`${upstream}${url.pathname}${url.search}`, { method: req.method, headers: req.headers, body });
      return new Response(answer.body, { status: answer.status, headers: answer.headers });
    },
  });
  return { base: `http://127.0.0.1:${server.port}`, seen, stop: () => server.stop(true) };
}
