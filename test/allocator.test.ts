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

  test("the process runs again with its arguments, the runtime's flags and its environment", async () => {
    const script = join(tempDir(), "child.ts");
    writeFileSync(script, [
      `import { runWithSteadyAllocator } from ${JSON.stringify(join(ROOT, "src/allocator.ts"))};`,
      "runWithSteadyAllocator();",
      "console.log(JSON.stringify({ pid: process.pid, purgeDelay: process.env.MIMALLOC_PURGE_DELAY ?? null, probe: process.env.MODSYNC_PROBE ?? null, execArgv: process.execArgv, args: process.argv.slice(2) }));",
    ].join("\n"));
    const env: Record<string, string | undefined> = { ...inheritedEnv(), MODSYNC_PROBE: "kept" };
    delete env[PURGE_DELAY_VARIABLE];
    const proc = Bun.spawn([process.execPath, "--smol", script, "two words", "", "ü"], { env: env as Record<string, string>, stdout: "pipe", stderr: "pipe" });
    const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
    expect({ code, err }).toEqual({ code: 0, err: "" });
    // One line: the run before the setting printed nothing, it was replaced.
    const lines = out.trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toEqual({ pid: proc.pid, purgeDelay: SERVER_PURGE_DELAY, probe: "kept", execArgv: ["--smol"], args: ["two words", "", "ü"] });
  });
});
