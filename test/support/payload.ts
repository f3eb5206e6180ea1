// Builds realistic module-sync payloads from real Drupal core module metadata
// plus popular contrib names; N modules, deterministic by seed.
// modsync's copy of the shared gen-payload.ts: the same modules, in the same
// order, from the same random sequence, so both servers get identical work.
// The tests build their large bodies with it; bench/ imports it from here.
// `bun test/support/payload.ts 150` prints one payload.
import { closeSync, fstatSync, openSync, writeSync } from "node:fs";
import core from "./data/drupal-core-modules.json";

const CONTRIB = ["admin_toolbar","pathauto","token","ctools","metatag","webform","paragraphs","entity_reference_revisions","redirect","google_analytics","simple_sitemap","views_bulk_operations","field_group","linkit","entity_browser","inline_entity_form","honeypot","captcha","recaptcha","smtp","backup_migrate","devel","config_split","config_ignore","search_api","search_api_solr","facets","geofield","address","commerce","layout_builder_restrictions","gin","gin_toolbar","environment_indicator","masquerade","module_filter","stage_file_proxy","twig_tweak","ultimate_cron","xmlsitemap","scheduler","workbench_moderation","diff","video_embed_field","media_entity_browser","svg_image","crop","focal_point","image_widget_crop","key"];

export interface PayloadOptions {
  seed?: number;
  core?: string;
  fullSync?: boolean;
  url?: string;
  token?: string;
  /** Added to contrib/custom patch versions: a bump makes a re-sync an update. */
  versionBump?: number;
}

export interface ModuleEntry {
  machine_name: string;
  display_name: string;
  module_type: "core" | "contrib" | "custom";
  enabled: boolean;
  version: string;
  description?: string;
}

export interface Payload {
  site: { url: string; name: string; token: string };
  drupal_info: { core_version: string; php_version: string; ip_address: string };
  modules: ModuleEntry[];
  full_sync: boolean;
}

interface CoreModule { machine_name: string; display_name: string; description?: string | null }

/** The original's LCG, kept bit for bit so payloads match the shared generator's. */
function rng(seed: number): () => number {
  return () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
}

export function payload(n: number, opts: PayloadOptions = {}): Payload {
  const r = rng(opts.seed ?? 1);
  const coreV = opts.core ?? "10.3.8";
  const bump = opts.versionBump ?? 0;
  const mods: ModuleEntry[] = [];
  for (const m of core as CoreModule[]) {
    if (mods.length >= n) break;
    mods.push({ machine_name: m.machine_name, display_name: m.display_name, module_type: "core", enabled: r() > 0.3, version: coreV, description: m.description ?? undefined });
  }
  for (const c of CONTRIB) {
    if (mods.length >= n) break;
    mods.push({
      machine_name: c,
      display_name: c.replace(/_/g, " ").replace(/\b\w/g, (s) => s.toUpperCase()),
      module_type: "contrib",
      enabled: true,
      version: `${1 + Math.floor(r() * 3)}.${Math.floor(r() * 10)}.${Math.floor(r() * 20) + bump}`,
    });
  }
  for (let i = 0; mods.length < n; i++) {
    mods.push({
      machine_name: `custom_feature_${i}`,
      display_name: `Custom Feature ${i}`,
      module_type: "custom",
      enabled: r() > 0.1,
      version: `1.0.${(i % 7) + bump}`,
      description: `Site specific feature number ${i} with some descriptive text.`,
    });
  }
  return {
    site: { url: opts.url ?? "https://example.drupal.site", name: "Example Drupal Site", token: opts.token ?? "site-auth-token-123" },
    drupal_info: { core_version: coreV, php_version: "8.3.2", ip_address: "192.168.1.100" },
    modules: mods,
    full_sync: opts.fullSync ?? false,
  };
}

/** Modules serialized per write by writePayloadFile. */
const FILE_SLICE = 10_000;

/**
 * Writes `p` to `path` as exactly the bytes JSON.stringify(p) gives, a slice
 * of modules at a time, and returns the file's size. A 1,000,000-module body
 * is about 210 MB: built as one string it would sit in memory beside the
 * payload's objects (and, with any non-Latin-1 text, at two bytes a char).
 */
export function writePayloadFile(path: string, p: Payload): number {
  const fd = openSync(path, "w");
  try {
    // Every top-level key in its own order, so the output matches JSON.stringify(p).
    Object.entries(p).forEach(([key, value], i) => {
      writeSync(fd, `${i === 0 ? "{" : ","}${JSON.stringify(key)}:`);
      if (key !== "modules") {
        writeSync(fd, JSON.stringify(value));
        return;
      }
      writeSync(fd, "[");
      for (let at = 0; at < p.modules.length; at += FILE_SLICE) {
        const slice = p.modules.slice(at, at + FILE_SLICE).map((m) => JSON.stringify(m)).join(",");
        writeSync(fd, at === 0 ? slice : `,${slice}`);
      }
      writeSync(fd, "]");
    });
    writeSync(fd, "}");
    return fstatSync(fd).size;
  } finally {
    closeSync(fd);
  }
}

if (import.meta.main) {
  const n = Number(process.argv[2] ?? 150);
  process.stdout.write(JSON.stringify(payload(n)));
}
