// TypeBox models of the sync route: one source for validating the payload,
// typing the handler and documenting the route (with the spec's examples).
import { Kind, OptionalKind, Type, type Static, type TSchema } from "@sinclair/typebox";
import { t } from "elysia";
import { EXTENSION_TYPES, MODULE_TYPES } from "../inventory";

/** Drupal's extension-name rule: a lowercase letter, then lowercase letters, digits, underscores. */
const machineName = (description: string) =>
  t.String({ pattern: "^[a-z][a-z0-9_]*$", maxLength: 50, description });

const optionalText = (maxLength: number, description: string) =>
  t.Optional(t.Union([t.String({ maxLength }), t.Null()], { description }));

export const ModuleEntry = t.Object({
  machine_name: machineName("Drupal extension name, at most 50 characters"),
  display_name: t.String({ maxLength: 255 }),
  // No `default` keyword (UnionEnum would add its first value): generated
  // clients make a field with a default required. validate.ts applies these defaults.
  module_type: t.Optional(t.UnionEnum(MODULE_TYPES, { default: undefined, description: "Where the extension comes from; absent means `core`" })),
  extension_type: t.Optional(t.UnionEnum(EXTENSION_TYPES, { default: undefined, description: "What kind of extension it is (themes and install profiles have versions and advisories too); absent means `module`" })),
  enabled: t.Boolean(),
  version: optionalText(64, "Installed version; null or absent when the module has none (often custom modules)"),
  description: optionalText(4096, "The module's description from its .info.yml"),
  project: t.Optional(t.Union([machineName("drupal.org project the module ships in, e.g. admin_toolbar for admin_toolbar_search"), t.Null()])),
}, {
  title: "ModuleEntry",
  examples: [{
    machine_name: "views",
    display_name: "Views",
    module_type: "core",
    enabled: true,
    version: "10.3.8",
    description: "Create customized lists and queries from your database.",
  }],
});

/**
 * ModuleEntry as each entry is checked: the same rules, with every UnionEnum
 * as a union of literals. UnionEnum is Elysia's own kind, which TypeBox's
 * compiled check calls out to its type registry for (a look-up, a call and an
 * `includes` per field per entry); literals compile inline. ModuleEntry stays
 * what is documented (an `enum`) and what errors are worded from.
 */
export const ModuleEntryChecked = {
  // ModuleEntry's own options (required, additionalProperties, …) with the properties replaced.
  ...ModuleEntry,
  properties: Object.fromEntries(Object.entries(ModuleEntry.properties).map(([key, property]) => {
    if (property[Kind] !== "UnionEnum") return [key, property];
    const literals = Type.Union((property as unknown as { enum: string[] }).enum.map((value) => Type.Literal(value)));
    return [key, property[OptionalKind] === "Optional" ? Type.Optional(literals) : literals];
  })),
} as unknown as TSchema & { static: Static<typeof ModuleEntry> }; // What it accepts is what ModuleEntry accepts.

export const SiteInfo = t.Object({
  url: t.String({ minLength: 1, maxLength: 2048, description: "Must match the registered URL (scheme/host case, default port and trailing slash ignored)" }),
  name: t.String({ minLength: 1, maxLength: 255, pattern: "\\S", description: "Not blank" }),
  token: t.Optional(t.String({ minLength: 1, maxLength: 512, description: "The site token issued at registration. Required with a person's API token as the bearer; with the site token as the bearer it may be left out, and must match if sent" })),
}, { title: "SyncSite" });

export const DrupalInfo = t.Object({
  core_version: t.String({ minLength: 1, maxLength: 64 }),
  php_version: t.String({ minLength: 1, maxLength: 64 }),
  ip_address: t.Optional(t.String({ minLength: 2, maxLength: 45, description: "IPv4 or IPv6 address; optional (cron under drush has none)" })),
}, { title: "DrupalInfo" });

const fullSync = t.Optional(t.Boolean({ default: false, description: "Remove the site's modules absent from this payload" }));

/**
 * The top level of the payload. Module entries are checked one by one
 * against ModuleEntry so that one bad entry does not reject the whole sync.
 */
export const SyncEnvelope = t.Object({ site: SiteInfo, drupal_info: DrupalInfo, modules: t.Array(t.Unknown()), full_sync: fullSync });

const specExample = {
  site: { url: "https://example.drupal.site", name: "Example Drupal Site", token: "site-auth-token-123" },
  drupal_info: { core_version: "10.3.8", php_version: "8.3.2", ip_address: "192.168.1.100" },
  modules: [{
    machine_name: "views", display_name: "Views", module_type: "core", enabled: true, version: "10.3.8",
    description: "Create customized lists and queries from your database.",
  }],
  full_sync: false,
};

/** The documented request body (the route reads it itself, after authentication). */
export const SyncBody = t.Object(
  { site: SiteInfo, drupal_info: DrupalInfo, modules: t.Array(ModuleEntry), full_sync: fullSync },
  { title: "SyncRequest", examples: [specExample] },
);

/** The 202 answer: the body was staged and a background task queued. */
export const SyncAccepted = t.Object({
  status: t.Literal("accepted"),
  task_id: t.String({ format: "uuid" }),
  message: t.String({ examples: ["Sync of 750 modules queued for processing"] }),
  status_url: t.String({ examples: ["/api/v1/tasks/550e8400-e29b-41d4-a716-446655440000/status"] }),
}, {
  title: "SyncAccepted",
  examples: [{
    status: "accepted",
    task_id: "550e8400-e29b-41d4-a716-446655440000",
    message: "Sync of 750 modules queued for processing",
    status_url: "/api/v1/tasks/550e8400-e29b-41d4-a716-446655440000/status",
  }],
});
