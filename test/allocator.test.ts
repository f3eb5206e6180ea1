// The server's allocator setting (src/allocator.ts): a process started without
// MIMALLOC_PURGE_DELAY runs itself again in place with it, arguments and the
// runtime's flags kept; an operator's value is left alone.
import { afterAll, describe, expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { PURGE_DELAY_VARIABLE, SERVER_PURGE_DELAY } from "../src/allocator";
import { cleanupProcesses, inheritedEnv, ROOT, startedServer, tempDir } from "./support/server-process";

afterAll(cleanupProcesses);

/** A process's environment, from the kernel: what it was (last) started with. */
function environOf(pid: number): Map<string, string> {
  const entries = readFileSync(`/proc/${pid}/environ`, "utf8").split("\0").filter(Boolean);
  return new Map(entries.map((entry) => [entry.slice(0, entry.indexOf("=")), entry.slice(entry.indexOf("=") + 1)]));
}

describe.skipIf(process.platform !== "linux")("the server's allocator setting", () => {
  test("a server started without it runs with purging off, in the process that was started", async () => {
    const server = await startedServer({ [PURGE_DELAY_VARIABLE]: undefined });
    // The pid Bun.spawn returned: the setting was not left to a child process.
    expect(environOf(server.proc.pid).get(PURGE_DELAY_VARIABLE)).toBe(SERVER_PURGE_DELAY);
    expect(readFileSync(`/proc/${server.proc.pid}/cmdline`, "utf8").split("\0").at(-2)).toBe("src/index.ts");
    const health = await fetch(`${server.base}/health`);
    expect(health.status).toBe(200);
  });

  test("an operator's value is kept", async () => {
    const server = await startedServer({ [PURGE_DELAY_VARIABLE]: "250" });
    expect(environOf(server.proc.pid).get(PURGE_DELAY_VARIABLE)).toBe("250");
  });

  /** The environment the process was started with, without the setting. */
  function withoutSetting(): Record<string, string | undefined> {
    const env: Record<string, string | undefined> = { ...inheritedEnv() };
    delete env[PURGE_DELAY_VARIABLE];
    return env;
  }

  /**
   * Runs a script that calls runWithSteadyAllocator(`self`) and reports what it then runs with, in `dir` (Bun reads its .env).
   * `stderr`: what the script must write there (nothing, unless a failure is expected).
   */
  async function runChild(env: Record<string, string | undefined>, { dir = tempDir(), self = "/proc/self", stderr = /^$/ } = {}) {
    const script = join(dir, "child.ts");
    writeFileSync(script, [
      `import { readFileSync } from "node:fs";`,
      `import { runWithSteadyAllocator } from ${JSON.stringify(join(ROOT, "src/allocator.ts"))};`,
      `runWithSteadyAllocator(${JSON.stringify(self)});`,
      "const environ = readFileSync('/proc/self/environ', 'utf8').split('\\0').filter(Boolean);",
      "console.log(JSON.stringify({ pid: process.pid, environ, dotenv: process.env.MODSYNC_DOTENV ?? null, execArgv: process.execArgv, args: process.argv.slice(2) }));",
    ].join("\n"));
    const proc = Bun.spawn([process.execPath, "--smol", script, "two words", "", "ü"], { cwd: dir, env: env as Record<string, string>, stdout: "pipe", stderr: "pipe" });
    const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
    expect(code).toBe(0);
    expect(err).toMatch(stderr);
    // One line: a run replaced printed nothing.
    const lines = out.trim().split("\n");
    expect(lines).toHaveLength(1);
    const report = JSON.parse(lines[0]!) as { pid: number; environ: string[]; dotenv: string | null; execArgv: string[]; args: string[] };
    expect(report.pid).toBe(proc.pid);
    return { ...report, settings: report.environ.filter((entry) => entry.startsWith(`${PURGE_DELAY_VARIABLE}=`)) };
  }

  test("the process runs again with its arguments, the runtime's flags and its environment", async () => {
    const child = await runChild({ ...withoutSetting(), MODSYNC_PROBE: "kept" });
    expect(child.settings).toEqual([`${PURGE_DELAY_VARIABLE}=${SERVER_PURGE_DELAY}`]);
    expect(child.environ).toContain("MODSYNC_PROBE=kept");
    expect({ execArgv: child.execArgv, args: child.args }).toEqual({ execArgv: ["--smol"], args: ["two words", "", "ü"] });
  });

  test("what Bun read from a .env file stays out of the environment the process runs again with", async () => {
    const dir = tempDir();
    writeFileSync(join(dir, ".env"), "MODSYNC_DOTENV=secret\n");
    const env = withoutSetting();
    delete env.MODSYNC_DOTENV;
    const child = await runChild(env, { dir });
    expect(child.dotenv).toBe("secret"); // Bun read the file (again)…
    expect(child.environ.filter((entry) => entry.startsWith("MODSYNC_DOTENV="))).toEqual([]); // …the process was not given it
    expect(child.settings).toEqual([`${PURGE_DELAY_VARIABLE}=${SERVER_PURGE_DELAY}`]);
  });

  test("an empty value counts as unset, and is replaced", async () => {
    const child = await runChild({ ...inheritedEnv(), [PURGE_DELAY_VARIABLE]: "" });
    expect(child.settings).toEqual([`${PURGE_DELAY_VARIABLE}=${SERVER_PURGE_DELAY}`]);
  });

  /** The one line a failure writes, naming `cause`. */
  const failure = (cause: string) =>
    new RegExp(`^modsync: could not start again with ${PURGE_DELAY_VARIABLE}=${SERVER_PURGE_DELAY} \\(.*${cause.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}.*\\); running with the allocator's defaults\n$`);

  test("where the process cannot be run again, it says so and runs on with the allocator's defaults", async () => {
    const missing = join(tempDir(), "no-such-folder");
    const child = await runChild(withoutSetting(), {
      self: missing,
      stderr: failure(`${missing}/environ`),
    });
    expect(child.settings).toEqual([]);
  });

  test("where execve itself fails, it says so and runs on with the allocator's defaults", async () => {
    // Readable environ and cmdline, but no program at `exe`: the real execve is made, and fails.
    const self = tempDir();
    writeFileSync(join(self, "environ"), "MODSYNC_PROBE=1\0");
    writeFileSync(join(self, "cmdline"), `${process.execPath}\0`);
    const child = await runChild(withoutSetting(), {
      self,
      stderr: failure("execve failed"),
    });
    expect(child.settings).toEqual([]);
  });
});
