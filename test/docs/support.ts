// What the docs tests share: running a tool as a subprocess, and a real
// server with an organization and a member's API token made by the admin CLI.
import { join } from "node:path";
import { ROOT, startedServer, tempDir, type Server } from "../support/server-process";

export interface ToolRun { exitCode: number; stdout: string; stderr: string }

/** Runs a command to its end (from the repository's root unless `cwd`), with `env` added to this process's. */
export async function runTool(cmd: string[], env: Record<string, string> = {}, cwd = ROOT): Promise<ToolRun> {
  const proc = Bun.spawn(cmd, { cwd, env: { ...process.env, ...env }, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, exitCode] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { exitCode, stdout, stderr };
}

/** A binary of the project's node_modules. */
export const bin = (name: string) => join(ROOT, "node_modules", ".bin", name);

async function cliJson(databaseUrl: string, ...args: string[]): Promise<Record<string, unknown>> {
  const run = await runTool([process.execPath, "src/cli.ts", ...args, "--json"], { DATABASE_URL: databaseUrl });
  if (run.exitCode !== 0) throw new Error(`cli ${args.join(" ")} exited ${run.exitCode}: ${run.stderr}`);
  return JSON.parse(run.stdout);
}

export interface ServerWithMember { server: Server; organizationId: number; apiToken: string }

/** A real server on a fresh SQLite file holding one organization and a member of it (admin). */
export async function serverWithMember(env: Record<string, string> = {}): Promise<ServerWithMember> {
  const databaseUrl = `sqlite:${tempDir()}/modsync.db`;
  const org = await cliJson(databaseUrl, "org", "create", "--name", "Docs tests");
  const organizationId = Number(org.id);
  const user = await cliJson(databaseUrl, "user", "create", "--email", "integrator@docs.test", "--org", String(organizationId), "--role", "admin");
  const server = await startedServer({ DATABASE_URL: databaseUrl, ...env });
  return { server, organizationId, apiToken: String(user.token) };
}
