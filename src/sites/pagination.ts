// Query parsing for the list routes. Done by hand, after authentication, so
// a bad query never answers 400 before an unauthenticated request gets 401.
import { badRequest, type FieldError } from "../errors";
import { EXTENSION_TYPES, MODULE_TYPES, type ExtensionType, type ModuleType } from "../inventory";
import { parseSiteId } from "./site-id";

export const DEFAULT_LIMIT = 100;
export const MAX_LIMIT = 1000;

export type Query = Record<string, string | undefined>;

export const encodeCursor = (key: string) => Buffer.from(key, "utf8").toString("base64url");

/** A cursor's key, if `raw` is one this API issued: it encodes a key of the expected shape. */
export function decodeCursor(raw: string, shape: RegExp, errors: FieldError[]): string | undefined {
  const key = raw.length <= 100 ? Buffer.from(raw, "base64url").toString("utf8") : "";
  if (!shape.test(key) || encodeCursor(key) !== raw) {
    errors.push({ loc: ["query", "cursor"], msg: "Invalid cursor" });
    return undefined;
  }
  return key;
}

export const MACHINE_NAME = /^[a-z][a-z0-9_]{0,49}$/;

export function parseLimit(raw: string | undefined, errors: FieldError[], bounds = { fallback: DEFAULT_LIMIT, max: MAX_LIMIT }): number {
  if (raw === undefined) return bounds.fallback;
  if (!/^\d{1,4}$/.test(raw) || Number(raw) < 1 || Number(raw) > bounds.max) {
    errors.push({ loc: ["query", "limit"], msg: `Must be an integer from 1 to ${bounds.max}` });
  }
  return Number(raw);
}

export function fail(errors: FieldError[]): never {
  throw badRequest("Invalid query parameters", errors, "invalid_query");
}

/** A page of a list by site id (`cursor` encodes the last site id of the previous page). */
export function parseSiteIdPage(query: Query, errors: FieldError[]): { limit: number; afterId?: number } {
  const limit = parseLimit(query.limit, errors);
  let afterId: number | undefined;
  if (query.cursor !== undefined) {
    const key = decodeCursor(query.cursor, /^[1-9]\d{0,9}$/, errors);
    if (key !== undefined) afterId = parseSiteId(key) ?? undefined;
    if (key !== undefined && afterId === undefined) errors.push({ loc: ["query", "cursor"], msg: "Invalid cursor" });
  }
  return { limit, afterId };
}

/** A boolean query parameter: "true", "false", or absent. */
export function parseBoolean(query: Query, name: string, errors: FieldError[]): boolean | undefined {
  const raw = query[name];
  if (raw !== undefined && raw !== "true" && raw !== "false") errors.push({ loc: ["query", name], msg: "Must be true or false" });
  return raw === undefined ? undefined : raw === "true";
}

export function parseSitePage(query: Query): { limit: number; afterId?: number; stale?: boolean } {
  const errors: FieldError[] = [];
  const page = parseSiteIdPage(query, errors);
  const stale = parseBoolean(query, "stale", errors);
  if (errors.length) fail(errors);
  return { ...page, stale };
}

export function parseModulePage(query: Query): { limit: number; after?: string; moduleType?: ModuleType; extensionType?: ExtensionType; enabled?: boolean } {
  const errors: FieldError[] = [];
  const limit = parseLimit(query.limit, errors);
  const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor, MACHINE_NAME, errors);
  const moduleType = query.module_type;
  if (moduleType !== undefined && !(MODULE_TYPES as readonly string[]).includes(moduleType)) {
    errors.push({ loc: ["query", "module_type"], msg: `Must be one of ${MODULE_TYPES.join(", ")}` });
  }
  const extensionType = query.extension_type;
  if (extensionType !== undefined && !(EXTENSION_TYPES as readonly string[]).includes(extensionType)) {
    errors.push({ loc: ["query", "extension_type"], msg: `Must be one of ${EXTENSION_TYPES.join(", ")}` });
  }
  const enabled = parseBoolean(query, "enabled", errors);
  if (errors.length) fail(errors);
  return {
    limit,
    after,
    moduleType: moduleType as ModuleType | undefined,
    extensionType: extensionType as ExtensionType | undefined,
    enabled,
  };
}
