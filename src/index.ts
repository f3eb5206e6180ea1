// Start-up only: the allocator's setting before any other code runs (the
// imports above it only load modules; allocator.ts may run the process again,
// in place), then the configuration, validated before anything else is loaded
// (a bad value fails in milliseconds, naming the variable), then start.
import { runWithSteadyAllocator } from "./allocator";
import { ConfigError, loadConfig } from "./config";

runWithSteadyAllocator();

let config;
try {
  config = loadConfig();
} catch (err) {
  if (err instanceof ConfigError) {
    console.error(err.message);
    process.exit(78); // EX_CONFIG
  }
  throw err;
}

const { start } = await import("./start");
await start(config);
