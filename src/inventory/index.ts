// The inventory domain: what a site's modules are, how a sync plans its
// changes, what it counts and reports. Imports nothing else of modsync;
// every other folder may import it.
export * from "./module";
export * from "./entry";
export * from "./counts";
export * from "./known-ids";
export * from "./command";
export * from "./plan";
export * from "./version-order";
export * from "./changes";
export * from "./hash53";
