// The layout, as the imports show it: each folder (or top-level file) of src/
// sits in a layer, and imports only from its own layer or the ones below.
// The inventory domain is at the bottom and imports nothing of ours.
import { expect, test } from "bun:test";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

const SRC = resolve(import.meta.dir, "../../src");

/** Bottom first. The README's "Where things are" table follows this order. */
const LAYERS: string[][] = [
  ["inventory", "errors", "config", "log", "within", "threads", "collection-pacer"],
  ["releases"],
  ["security", "redis", "store"],
  ["cache", "ratelimit", "accounts", "idempotency"],
  ["http"],
  ["metrics", "health", "sites", "tasks", "docs", "updates", "modules", "changes", "organizations"],
  ["sync"],
  ["context", "app", "start", "index", "cli", "allocator"],
];
const layerOf = new Map(LAYERS.flatMap((units, layer) => units.map((u) => [u, layer] as const)));

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sourceFiles(path) : path.endsWith(".ts") ? [path] : [];
  });
}

/** The folder directly under src/, or the top-level file's name. */
const unitOf = (path: string) => relative(SRC, path).split("/")[0]!.replace(/\.ts$/, "");

const IMPORT = /(?:^|\n)\s*(?:import|export)\b[^;]*?from\s+["'](\.{1,2}\/[^"']+)["']|import\(\s*["'](\.{1,2}\/[^"']+)["']\s*\)/g;

function imports(): { from: string; to: string }[] {
  return sourceFiles(SRC).flatMap((file) =>
    [...readFileSync(file, "utf8").matchAll(IMPORT)].map((m) => ({ from: file, to: resolve(dirname(file), m[1] ?? m[2]!) })));
}

test("every folder of src/ has a layer", () => {
  const units = new Set(sourceFiles(SRC).map(unitOf));
  expect([...units].filter((u) => !layerOf.has(u))).toEqual([]);
});

test("imports point down: no folder imports one in a layer above it", () => {
  const upward = imports()
    .filter(({ from, to }) => layerOf.get(unitOf(from))! < layerOf.get(unitOf(to))!)
    .map(({ from, to }) => `${relative(SRC, from)} -> ${relative(SRC, to)}`);
  expect(upward).toEqual([]);
});

test("folders import each other in one direction only: the folder graph has no cycle", () => {
  const edges = new Map<string, Set<string>>();
  for (const { from, to } of imports()) {
    const [a, b] = [unitOf(from), unitOf(to)];
    if (a !== b) edges.set(a, (edges.get(a) ?? new Set()).add(b));
  }
  const reaches = (from: string, target: string, seen = new Set<string>()): boolean =>
    [...(edges.get(from) ?? [])].some((next) => next === target || (!seen.has(next) && (seen.add(next), reaches(next, target, seen))));
  const cycles = [...edges].flatMap(([a, targets]) => [...targets].filter((b) => reaches(b, a)).map((b) => `${a} <-> ${b}`));
  expect(cycles).toEqual([]);
});

test("the inventory domain imports nothing of modsync's outside itself", () => {
  const outside = imports()
    .filter(({ from, to }) => unitOf(from) === "inventory" && unitOf(to) !== "inventory")
    .map(({ from, to }) => `${relative(SRC, from)} -> ${relative(SRC, to)}`);
  expect(outside).toEqual([]);
});

test("the releases domain imports only the inventory domain", () => {
  const outside = imports()
    .filter(({ from, to }) => unitOf(from) === "releases" && !["releases", "inventory"].includes(unitOf(to)))
    .map(({ from, to }) => `${relative(SRC, from)} -> ${relative(SRC, to)}`);
  expect(outside).toEqual([]);
});
