// Release data and the update judgement: drupal.org release-history
// documents read into plain data, and each installed project's status as
// Drupal core's Update module computes it. Pure: no I/O; imports only the
// inventory domain.
export * from "./history";
export * from "./extension-version";
export * from "./status";
export * from "./projects";
export { MAX_XML_BYTES } from "./xml";
