// Payload validation: the envelope must be right as a whole (else 400); each
// module entry is judged on its own, and a bad or repeated one is skipped and
// reported while the rest are synced.
import { isIP } from "node:net";
import type { Static } from "@sinclair/typebox";
import { compile, dirtyTextPath, DIRTY_TEXT_MSG, isCleanText, type JsonBody } from "../http/body";
import { badRequest, type FieldError } from "../errors";
import { ModuleEntry, ModuleEntryChecked, SyncEnvelope } from "./model";
import { NameSet } from "./name-set";
import { MAX_VALUE_CHARS, OVERSIZED_ENTRY } from "./stream";
import { REPORTED_ERRORS, type AcceptedSync, type EntryError, type Judgement, type SiteModuleState } from "../inventory";

/** Bump whenever a rule here or in model.ts changes which entries a body yields (see digest.ts). */
export const VALIDATION_RULES_VERSION = 2;

const envelope = compile(SyncEnvelope);
/** ModuleEntry's rules, for the check of each entry. */
const entryCheck = compile(ModuleEntryChecked);
/** ModuleEntry itself, for the wording of a skipped entry's detail. */
const entry = compile(ModuleEntry);

export type Envelope = Static<typeof SyncEnvelope>;

export interface ValidatedModules {
  entries: SiteModuleState[];
  /** The first REPORTED_ERRORS skipped entries. */
  errors: EntryError[];
  errorsTotal: number;
  /** Names of skipped entries: a full sync must not remove these modules. */
  skipped: Set<string>;
}

/** What a sync keeps of its envelope, whether applied at once or accepted for the background. */
export function envelopeOf(payload: Envelope): Omit<AcceptedSync, "errorsTotal"> {
  const info = payload.drupal_info;
  return {
    siteName: payload.site.name,
    drupalInfo: { coreVersion: info.core_version, phpVersion: info.php_version, ipAddress: info.ip_address ?? null },
    fullSync: payload.full_sync === true,
  };
}

/** The envelope, or a 400 naming each wrong field. */
export function validateEnvelope({ value: body, suspectText }: JsonBody): Envelope {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw badRequest("Request body must be a JSON object", [{ loc: ["body"], msg: "Expected a JSON object" }]);
  }
  const errors: FieldError[] = envelope.check(body) ? [] : envelope.errors(body, ["body"]);
  const ip = (body as { drupal_info?: { ip_address?: unknown } }).drupal_info?.ip_address;
  if (typeof ip === "string" && ip.length <= 45 && isIP(ip) === 0) {
    errors.push({ loc: ["body", "drupal_info", "ip_address"], msg: "Expected a valid IPv4 or IPv6 address" });
  }
  if (errors.length === 0 && suspectText) {
    // Only the fields modsync keeps: unknown keys are never read, nor walked.
    const { site: { url, name, token }, drupal_info: info } = body as Envelope;
    const dirty = dirtyTextPath({ site: { url, name, token }, drupal_info: { core_version: info.core_version, php_version: info.php_version, ip_address: info.ip_address } });
    if (dirty) errors.push({ loc: ["body", ...dirty], msg: DIRTY_TEXT_MSG });
  }
  if (errors.length > 0) throw badRequest("Invalid sync payload", errors);
  return body as Envelope;
}

function describe(value: unknown): string {
  const errors = entry.errors(value, [], 1);
  const first = errors[0];
  if (!first) return "Invalid module entry";
  const field = first.loc.join(".");
  if (field === "") return "Module entry must be a JSON object";
  if (field === "machine_name" || field === "project") {
    return `${field}: must be a lowercase letter followed by lowercase letters, digits or underscores, at most 50 characters`;
  }
  return `${field}: ${first.msg}`;
}

export const DUPLICATE_DETAIL = "Duplicate machine_name: only its first entry counts";

/** The entry's machine_name if it is a string (valid or not), else null. */
export function nameOf(raw: unknown): string | null {
  const name = typeof raw === "object" && raw !== null ? (raw as { machine_name?: unknown }).machine_name : undefined;
  return typeof name === "string" ? name : null;
}

const MACHINE_NAME = /^[a-z][a-z0-9_]{0,49}$/;

/**
 * The name a skipped entry speaks for: a full sync must not remove that
 * module. Only a name modsync could have stored counts, so what is staged or
 * kept is always short, storable text, whatever the entry held.
 */
function keptName(name: string | null): string | null {
  return name !== null && MACHINE_NAME.test(name) ? name : null;
}

/** A skipped entry's name as its error reports it: at most 255 characters of storable text. */
function reportedName(name: string): { machine_name: string } {
  const clean = name.length > 255 || !isCleanText(name) ? name.slice(0, 255).toWellFormed().replaceAll("\0", "\uFFFD") : name;
  return { machine_name: clean };
}

/**
 * The detail of a skipped entry past the first REPORTED_ERRORS: no result
 * lists it, so it is not worked out (TypeBox's error walk is most of what
 * judging an invalid entry costs, and a body may hold millions of them).
 */
const UNREPORTED_DETAIL = "Skipped (past the errors reported)";

/**
 * Judges one entry (repeats are the caller's to find). `suspectText`: the
 * entry's text may hold NUL or unpaired surrogates (JsonBody). `reported`:
 * whether its error, if any, will be listed (else its detail is UNREPORTED_DETAIL).
 */
export function judgeEntry(raw: unknown, index: number, suspectText: boolean, reported: boolean): Judgement {
  const machineName = nameOf(raw);
  const valid = entryCheck.check(raw);
  // machine_name and project are pattern-checked already; these are free text.
  const dirty = valid && suspectText
    ? dirtyTextPath({ display_name: raw.display_name, version: raw.version, description: raw.description })
    : null;
  if (!valid || dirty) {
    const kept = keptName(machineName);
    if (!reported) return { index, machineName: kept, error: { index, detail: UNREPORTED_DETAIL } };
    const detail = dirty ? `${dirty.join(".")}: ${DIRTY_TEXT_MSG}` : describe(raw);
    return { index, machineName: kept, error: { index, ...(machineName !== null && reportedName(machineName)), detail } };
  }
  // Copy field by field: unknown keys (including __proto__) never travel further.
  return {
    index,
    machineName: raw.machine_name,
    entry: {
      machineName: raw.machine_name,
      displayName: raw.display_name,
      // The schema's defaults: an entry without them is a core module.
      moduleType: raw.module_type ?? "core",
      extensionType: raw.extension_type ?? "module",
      enabled: raw.enabled,
      // An empty version string means "no version", as null does.
      version: raw.version === undefined || raw.version === "" ? null : raw.version,
      description: raw.description ?? null,
      project: raw.project ?? null,
    },
  };
}

/**
 * Judges a payload's entries in order: each on its own, and a repeat of a
 * name seen earlier in the payload is skipped, valid or not (its judgement
 * then carries no machineName: the earlier entry speaks for that module).
 * The one place this rule lives, for syncs applied at once and staged alike.
 */
export class EntryJudge {
  private readonly seen = new NameSet();
  private index = 0;
  /** Entries skipped so far: the first REPORTED_ERRORS are the ones a result lists. */
  skipped = 0;

  next(raw: unknown, suspectText: boolean): Judgement {
    const judged = this.judge(this.index++, raw, suspectText, this.skipped < REPORTED_ERRORS);
    if (judged.error) this.skipped++;
    return judged;
  }

  private judge(index: number, raw: unknown, suspectText: boolean, reported: boolean): Judgement {
    if (raw === OVERSIZED_ENTRY) return { index, machineName: null, error: { index, detail: `Module entry larger than ${MAX_VALUE_CHARS} characters` } };
    const name = nameOf(raw);
    if (name !== null && !this.seen.add(name)) {
      return { index, machineName: null, error: reported ? { index, ...reportedName(name), detail: DUPLICATE_DETAIL } : { index, detail: UNREPORTED_DETAIL } };
    }
    return judgeEntry(raw, index, suspectText, reported);
  }
}

/**
 * Judgements gathered into what a sync applies: valid entries, the names of
 * skipped ones (not to remove), the first REPORTED_ERRORS errors and their total.
 */
export class ModuleCollector implements ValidatedModules {
  readonly entries: SiteModuleState[] = [];
  readonly errors: EntryError[] = [];
  errorsTotal = 0;
  readonly skipped = new Set<string>();

  add(judged: Judgement): void {
    if (judged.entry) this.entries.push(judged.entry);
    else {
      if (this.errorsTotal++ < REPORTED_ERRORS) this.errors.push(judged.error);
      if (judged.machineName !== null) this.skipped.add(judged.machineName);
    }
  }

  /** Entries this collector holds (valid ones and names kept): what a payload costs in memory. */
  get held(): number {
    return this.entries.length + this.skipped.size;
  }
}
