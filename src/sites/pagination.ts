// Query parsing for the list routes. Done by hand, after authentication, so
// a bad query never answers 400 before an unauthenticated request gets 401.
import { badRequest, type FieldError } from "../errors";
import { EXTENSION_TYPES, MODULE_TYPES, type ExtensionType, type ModuleType } from "../inventory";
import { parseSiteId } from "./site-id";

export const DEFAULT_LIMIT = 100;
export const MAX_LIMIT = 1000;

type Query = Record<string, string | undefined>;

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

const MACHINE_NAME = /^[a-z][a-z0-9_]{0,49}$/;

export function parseLimit(raw: string | undefined, errors: FieldError[]): number {
  if (raw === undefined) return DEFAULT_LIMIT;
  if (!/^\d{1,4}$/.test(raw) || Number(raw) < 1 || Number(raw) > MAX_LIMIT) {
    errors.push({ loc: ["query", "limit"], msg: `Must be an integer from 1 to ${MAX_LIMIT}` });
  }
  return Number(raw);
}

function fail(errors: FieldError[]): never {
  throw badRequest("Invalid query parameters", errors, "invalid_query");
}

export function parseSitePage(query: Query): { limit: number; afterId?: number } {
  const errors: FieldError[] = [];
  const limit = parseLimit(query.limit, errors);
  let afterId: number | undefined;
  if (query.cursor !== undefined) {
    const key = decodeCursor(query.cursor, /^[1-9]\d{0,9}$/, errors);
    if (key !== undefined) afterId = parseSiteId(key) ?? undefined;
    if (key !== undefined && afterId === undefined) errors.push({ loc: ["query", "cursor"], msg: "Invalid cursor" });
  }
  if (errors.length) fail(errors);
  return { limit, afterId };
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
  const enabled = query.enabled;
  if (enabled !== undefined && enabled !== "true" && enabled !== "false") {
    errors.push({ loc: ["query", "enabled"], msg: "Must be true or false" });
  }
  if (errors.length) fail(errors);
  return {
    limit,
    after,
    moduleType: moduleType as ModuleType | undefined,
    extensionType: extensionType as ExtensionType | undefined,
    enabled: enabled === undefined ? undefined : enabled === "true",
  };
}
