// The document generates a clean client: openapi-typescript turns /swagger/json
// into types, and a small openapi-fetch client (client/) written against them
// type-checks under `strict` with no casts, then runs against a real server:
// registers a site, syncs it partially, fully, and with a background task
// (polled to its end), listing modules page by page.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { copyFileSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cleanupProcesses, ROOT } from "../support/server-process";
import { bin, runTool, serverWithMember, type ServerWithMember, type ToolRun } from "./support";

const CLIENT = join(import.meta.dir, "client");
const OPENAPI_TYPESCRIPT = join(ROOT, "test", "tools", "openapi-typescript", "node_modules", "openapi-typescript", "bin", "cli.js");
const BACKGROUND_THRESHOLD = 50;
const LARGE = 260;

const STRICT = {
  compilerOptions: {
    target: "ESNext", module: "Preserve", moduleResolution: "bundler", lib: ["ESNext", "DOM"], types: [],
    strict: true, noUncheckedIndexedAccess: true, exactOptionalPropertyTypes: false, noEmit: true, skipLibCheck: true,
  },
  include: ["*.ts"],
};

/** A folder holding the client, types generated from `document`, and a strict tsconfig; node_modules is the project's. */
async function clientFolder(document: unknown): Promise<{ dir: string; generate: ToolRun }> {
  const dir = mkdtempSync(join(tmpdir(), "modsync-client-"));
  symlinkSync(join(ROOT, "node_modules"), join(dir, "node_modules"));
  writeFileSync(join(dir, "openapi.json"), JSON.stringify(document));
  for (const file of readdirSync(CLIENT)) copyFileSync(join(CLIENT, file), join(dir, file));
  writeFileSync(join(dir, "tsconfig.json"), JSON.stringify(STRICT));
  const generate = await runTool(["node", OPENAPI_TYPESCRIPT, "openapi.json", "--output", "schema.d.ts"], {}, dir);
  return { dir, generate };
}

const typeCheck = (dir: string) => runTool([bin("tsc"), "-p", join(dir, "tsconfig.json")], {}, dir);

describe("a client generated from the OpenAPI document", () => {
  let world: ServerWithMember;
  let document: Record<string, unknown>;
  let folder: string;
  const folders: string[] = [];

  beforeAll(async () => {
    world = await serverWithMember({ SYNC_BACKGROUND_THRESHOLD: String(BACKGROUND_THRESHOLD), SYNC_BATCH_SIZE: "20" });
    const res = await fetch(`${world.server.base}/swagger/json`);
    expect(res.status).toBe(200);
    document = await res.json();
    const made = await clientFolder(document);
    expect({ exitCode: made.generate.exitCode, stderr: made.generate.stderr }).toEqual({ exitCode: 0, stderr: expect.any(String) });
    folder = made.dir;
    folders.push(folder);
  });
  afterAll(async () => {
    await cleanupProcesses();
    for (const dir of folders) rmSync(dir, { recursive: true, force: true });
  });

  test("has named types for every body", () => {
    const types = readFileSync(join(folder, "schema.d.ts"), "utf8");
    for (const name of ["SyncRequest", "SyncResult", "SyncAccepted", "Task", "TaskResult", "Site", "SiteCreated", "SiteModule", "SiteModuleList", "Problem", "ValidationProblem"])
      expect({ name, declared: new RegExp(`^\\s{8}${name}: `, "m").test(types) }).toEqual({ name, declared: true });
  });

  test("is written without casts, non-null assertions, any or suppressed errors", () => {
    for (const file of readdirSync(CLIENT)) {
      const source = readFileSync(join(CLIENT, file), "utf8").replace(/\/\*[\s\S]*?\*\//g, "").replace(/\/\/.*$/gm, "");
      expect({ file, casts: source.match(/\bas\s+(?!const\b)[A-Za-z{[(]|<[A-Z]\w*>\s*[a-z(]|[\w)\]]!(?=[.[(;,)\s])|\bany\b|@ts-/g) }).toEqual({ file, casts: null });
    }
  });

  test("type-checks under tsc --strict", async () => {
    const run = await typeCheck(folder);
    expect({ exitCode: run.exitCode, output: run.stdout + run.stderr }).toEqual({ exitCode: 0, output: "" });
  });

  test("does not type-check against a document whose ids are strings (the check can fail)", async () => {
    const broken = structuredClone(document) as { paths: Record<string, Record<string, { parameters?: { name: string; schema: unknown }[] }>> };
    for (const item of Object.values(broken.paths))
      for (const operation of Object.values(item))
        for (const parameter of operation.parameters ?? []) if (parameter.name === "site_id") parameter.schema = { type: "string" };
    const made = await clientFolder(broken);
    folders.push(made.dir);
    expect(made.generate.exitCode).toBe(0);
    const run = await typeCheck(made.dir);
    expect(run.exitCode).not.toBe(0);
    expect(run.stdout).toContain("Type 'number' is not assignable to type 'string'");
  });

  test("registers a site, syncs it partially, fully and in the background, and lists its modules page by page", async () => {
    const { runScenario } = await import(join(folder, "scenario.ts"));
    const report = await runScenario(world.server.base, world.apiToken, world.organizationId, LARGE, () => Bun.sleep(10));
    expect(report.partial).toEqual({ created: 3, modules: ["node", "pathauto", "views"] });
    expect(report.full).toEqual({ removed: 2, modules: ["my_custom", "token", "views"], contribEnabled: ["token"] });
    expect(report.large).toMatchObject({ modulesProcessed: LARGE, listed: LARGE, pages: Math.ceil(LARGE / 100), count: LARGE });
    expect(report.large.taskId).toMatch(/^[0-9a-f-]{36}$/);
    expect(report.large.completedAt).toBeGreaterThan(Date.now() / 1000 - 600);
  });
});
