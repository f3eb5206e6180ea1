// Redocly CLI's recommended rules (redocly.yaml) pass on the served document
// with no error and no warning; and the same lint fails a broken document.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT } from "../support/server-process";
import { createHarness, type Harness } from "../support/harness";
import { bin, runTool } from "./support";

/** Redocly asks no one anything: no telemetry, no update check (CI has no network). */
const OFFLINE = { REDOCLY_TELEMETRY: "off", REDOCLY_SUPPRESS_UPDATE_NOTICE: "true", NO_COLOR: "1" };

interface LintTotals { errors: number; warnings: number; ignored: number }

describe("Redocly lint of /swagger/json", () => {
  let h: Harness;
  let dir: string;
  let document: Record<string, unknown>;

  async function lint(doc: unknown): Promise<{ exitCode: number; totals: LintTotals; problems: { ruleId: string; message: string }[] }> {
    const file = join(dir, `openapi-${crypto.randomUUID()}.json`);
    writeFileSync(file, JSON.stringify(doc));
    const run = await runTool([bin("redocly"), "lint", file, "--config", join(ROOT, "redocly.yaml"), "--format", "json"], OFFLINE);
    const report = JSON.parse(run.stdout.slice(run.stdout.indexOf("{")));
    return { exitCode: run.exitCode, totals: report.totals, problems: report.problems };
  }

  beforeAll(async () => {
    h = await createHarness("sqlite");
    dir = mkdtempSync(join(tmpdir(), "modsync-lint-"));
    const res = await h.request("GET", "/swagger/json", { token: null });
    expect(res.status).toBe(200);
    document = await res.json();
  });
  afterAll(async () => {
    await h.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test("passes the recommended rules with no error and no warning", async () => {
    const result = await lint(document);
    expect({ totals: result.totals, problems: result.problems.map((p) => `${p.ruleId}: ${p.message}`) })
      .toEqual({ totals: { errors: 0, warnings: 0, ignored: 0 }, problems: [] });
    expect(result.exitCode).toBe(0);
  });

  test("fails a document with an undeclared security scheme", async () => {
    const broken = structuredClone(document) as { paths: Record<string, Record<string, { security?: unknown }>> };
    broken.paths["/health"]!.get!.security = [{ nobodyKnowsThis: [] }];
    const result = await lint(broken);
    expect(result.exitCode).not.toBe(0);
    expect(result.problems.map((p) => p.ruleId)).toEqual(expect.arrayContaining(["security-defined"]));
    expect(result.totals.errors).toBeGreaterThanOrEqual(1);
  });
});
