// Start-up only: validate the configuration before anything else is loaded
// (a bad value fails in milliseconds, naming the variable), then start.
import { ConfigError, loadConfig } from "./config";

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
