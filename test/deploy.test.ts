// The container recipes (Dockerfile, compose.yaml) stay in step with the
// configuration the server validates: there is no Docker engine in CI, so
// what can be checked without one is checked here.
import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { PURGE_DELAY_VARIABLE, SERVER_PURGE_DELAY } from "../src/allocator";
import { CONFIG_VARIABLES, loadConfig } from "../src/config";
import { ROOT } from "./support/server-process";

const read = (name: string) => readFileSync(join(ROOT, name), "utf8");

/** Compose's interpolation of `${NAME}`, `${NAME:?message}` (required) and `${NAME:-default}`. */
function interpolate(value: string, env: Record<string, string>): string {
  return value.replace(/\$\{(\w+)(?:(:\?|:-)([^}]*))?\}/g, (_, name: string, kind?: string, text?: string) => {
    if (env[name] !== undefined) return env[name];
    if (kind === ":-") return text!;
    throw new Error(`compose.yaml needs ${name}${kind === ":?" ? `: ${text}` : ""}`);
  });
}

test("compose.yaml: every modsync instance's variable is one modsync knows, and its values pass start-up validation", () => {
  const compose = Bun.YAML.parse(read("compose.yaml")) as { services: Record<string, { environment?: Record<string, string> }> };
  const env = compose.services.modsync!.environment!;
  const unknown = Object.keys(env).filter((name) => !(name in CONFIG_VARIABLES));
  expect(unknown).toEqual([]);
  const config = loadConfig(Object.fromEntries(Object.entries(env).map(([k, v]) => [k, interpolate(String(v), { POSTGRES_PASSWORD: "pw" })])));
  expect({ dialect: config.database.dialect, redis: config.redisUrl }).toEqual({ dialect: "postgres", redis: "redis://redis:6379" });
});

test("Dockerfile: production dependencies without peers (no TypeScript tooling), pinned by the lockfile, no fallback; non-root", () => {
  const dockerfile = read("Dockerfile");
  const installs = dockerfile.split("\n").filter((line) => /^RUN .*\bbun install\b/.test(line));
  expect(installs).toEqual(["RUN bun install --production --omit=peer --frozen-lockfile --ignore-scripts"]);
  expect(dockerfile).toMatch(/^USER bun$/m);
  expect(dockerfile).toContain("DATABASE_URL=sqlite:/data/modsync.db");
});

test("Dockerfile: the image sets the allocator's setting the server would otherwise restart itself for", () => {
  expect(read("Dockerfile")).toMatch(new RegExp(`^\\s*${PURGE_DELAY_VARIABLE}=${SERVER_PURGE_DELAY}$`, "m"));
});
