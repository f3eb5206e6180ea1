// Run as a child process (test/store/lazy-drivers.test.ts): starts what its
// argument names on the environment's configuration, then prints the npm
// packages this thread has loaded (JSON) and exits. Module loading is a
// process-wide fact, so it is looked at in a process of its own.
import { loadConfig } from "../../src/config";

const what = process.argv[2];
if (what === "server") {
  const { start } = await import("../../src/start");
  await start(loadConfig());
} else if (what === "postgres-store") {
  // Nothing listens on port 1: the store's modules load, its connection fails.
  const { openStore } = await import("../../src/store/open");
  await openStore({ dialect: "postgres", url: "postgres://modsync@127.0.0.1:1/none" }).catch(() => {});
} else throw new Error(`unknown: ${what}`);

const packages = new Set<string>();
for (const path of Object.keys(require.cache)) {
  const found = /node_modules\/((?:@[^/]+\/)?[^/]+)(\/[^/]+)?/.exec(path);
  // drizzle-orm's dialects are folders of one package: named with their folder.
  if (found) packages.add(found[1] === "drizzle-orm" && found[2] ? `drizzle-orm${found[2]}` : found[1]!);
}
console.log(JSON.stringify([...packages].sort()));
process.exit(0);
