// postgres-js 3.4.x (the `postgres` package) keeps each of its pool's
// connection lists in a Queue (src/queue.js) whose shift() leaves a hole at
// the front of its array, cleared only when a shift takes the last entry, and
// whose remove() searches the array from its start. A pool kept busy never
// empties its lists, so they grow by a hole a query, and every connection
// moved from one list to another (each query) searches them all: measured,
// 32 concurrent `SELECT 1` on 4 connections cost 10 µs of CPU a query in the
// first 20,000 and 25 µs by the 160,000th, and modsync's identical re-syncs on
// Postgres lost 40% of their throughput in four rounds of eight seconds
// (bench/README round 36). 3.4.10 has the same file; 4.x is a rewrite.
//
// Run after every install (package.json postinstall; the Dockerfile runs it
// too, as it installs with --ignore-scripts): replaces the three copies of the
// file (ESM, CommonJS, Cloudflare) with the same queue, which searches from
// its head and drops the holes once they are half the array. It refuses a
// file it does not know, so that a version bump is looked at, not patched
// blindly. test/store/postgres-queue.test.ts checks the installed queue.
import { createHash } from "node:crypto";
import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** SHA-256 of 3.4.9's (and 3.4.10's) src/queue.js and cjs/src/queue.js, as published. */
const KNOWN = new Set([
  "15e6345adb6708bf3b99ad39fc2231c2fb61de5f6cba4b7a7a6be881482a4ec3",
  "7d20fa53a3930be070609d7912ecd14c347df3526805bca2f6cb7eb35d2e62cf",
]);

const BODY = `function Queue(initial = []) {
  let xs = initial.slice()
  let index = 0

  const queue = {
    get length() {
      return xs.length - index
    },
    remove: (x) => {
      const at = xs.indexOf(x, index)
      return at === -1
        ? null
        : (xs.splice(at, 1), x)
    },
    push: (x) => (xs.push(x), x),
    shift: () => {
      if (index >= xs.length)
        return undefined
      const out = xs[index]
      xs[index++] = undefined
      if (index === xs.length) {
        index = 0
        xs = []
      } else if (index >= 32 && index * 2 >= xs.length) {
        xs = xs.slice(index)
        index = 0
      }
      return out
    }
  }
  // The array's length, holes included: what test/store/postgres-queue.test.ts bounds.
  Object.defineProperty(queue, 'capacity', { get: () => xs.length })
  return queue
}
`;
const MARK = "// modsync: scripts/fix-postgres-queue.mjs\n";
const FIXED = {
  esm: `${MARK}export default Queue\n\n${BODY}`,
  cjs: `${MARK}module.exports = Queue\n\n${BODY}`,
};

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const dir = join(root, "node_modules", "postgres");
if (!existsSync(dir)) {
  console.log("fix-postgres-queue: no node_modules/postgres, nothing to do");
  process.exit(0);
}
// Every copy checked before any is written: an unknown one leaves all as they were.
const todo = [];
for (const [path, kind] of [["src/queue.js", "esm"], ["cf/src/queue.js", "esm"], ["cjs/src/queue.js", "cjs"]]) {
  const file = join(dir, path);
  if (!existsSync(file)) continue;
  const text = readFileSync(file, "utf8");
  if (text === FIXED[kind]) continue;
  const hash = createHash("sha256").update(text).digest("hex");
  if (!KNOWN.has(hash)) {
    console.error(`fix-postgres-queue: node_modules/postgres/${path} is not the file this fix knows (sha256 ${hash}): see scripts/fix-postgres-queue.mjs`);
    process.exit(1);
  }
  todo.push([file, FIXED[kind]]);
}
// A new file renamed over the old, not the old one written: an installer that hard-links its
// cache into node_modules (Bun's default on Linux) would otherwise change the cached copy too.
for (const [file, text] of todo) {
  writeFileSync(`${file}.fixing`, text);
  renameSync(`${file}.fixing`, file);
}
console.log("fix-postgres-queue: postgres's connection queues fixed");
