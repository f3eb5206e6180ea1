// Reading and checking JSON bodies by hand, after authentication: routes that
// do this declare `parse: "none"`, so a request is authenticated before a
// single byte of its body is read, and bad bodies answer 400 only to callers
// who were allowed to send them.
import type { TSchema, Static } from "@sinclair/typebox";
import { TypeCompiler, type TypeCheck } from "@sinclair/typebox/compiler";
import { humanMessage } from "./messages";
import { badRequest, invalidJson, tooLarge, type FieldError } from "../errors";
import { BodyReader, concat, type ChunkReader } from "./body-reader";

const utf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * The raw request body; 413 past `maxBytes`, declared or actual. A body that
 * declares its length is read in one go (the server reads no more than that);
 * one that does not is read chunk by chunk and refused as soon as it passes
 * the limit, never held beyond it.
 */
export async function readBytes(request: Request, maxBytes: number): Promise<Uint8Array> {
  const declared = Number(request.headers.get("content-length") ?? NaN);
  if (declared > maxBytes) throw tooLarge(maxBytes);
  if (declared >= 0) return new Uint8Array(await request.arrayBuffer());
  if (!request.body) return new Uint8Array(0);
  const body = new BodyReader(request.body.getReader() as ChunkReader, "identity", maxBytes);
  try {
    return concat((await body.readUpTo(maxBytes)).chunks);
  } catch (err) {
    await body.cancel();
    throw err;
  }
}

export interface JsonBody {
  value: unknown;
  /**
   * Whether some string may hold a NUL or an unpaired surrogate. Valid UTF-8
   * carries neither; only a \u0000 or \uD800-\uDFFF escape can, so one scan
   * of the text (~1 µs) spares checking every string of every clean body.
   */
  suspectText: boolean;
}

/** An escape that may stand for a NUL or half a surrogate pair: JSON text without one holds neither (JsonBody.suspectText). */
export const SUSPECT_ESCAPE = /\\u(?:0000|[dD][89a-fA-F])/;

/** Text that can be stored anywhere: no NUL (Postgres refuses it), no unpaired surrogate. */
export function isCleanText(s: string): boolean {
  return !s.includes("\0") && s.isWellFormed();
}

/** The limit of routes that read a small JSON body (all but the sync route). */
export const SMALL_BODY_BYTES = 64 * 1024;

/** Deeper than any body a route reads: nesting past this is refused, never walked. */
export const MAX_JSON_DEPTH = 32;

export const TOO_DEEP_MSG = `Nested deeper than ${MAX_JSON_DEPTH} levels`;

interface Frame { value: unknown; depth: number; parent: Frame | null; key: string | number }

/**
 * Path to the first string (not key) under `value` that is not clean text,
 * or null. Walks with a stack of its own, in time linear in the value's
 * size; a value nested deeper than MAX_JSON_DEPTH is a 400, whatever it holds.
 */
export function dirtyTextPath(value: unknown): (string | number)[] | null {
  const stack: Frame[] = [{ value, depth: 0, parent: null, key: "" }];
  for (let frame = stack.pop(); frame !== undefined; frame = stack.pop()) {
    const v = frame.value;
    if (typeof v === "string") {
      if (!isCleanText(v)) return pathOf(frame);
      continue;
    }
    if (typeof v !== "object" || v === null) continue;
    if (frame.depth >= MAX_JSON_DEPTH) throw badRequest("Request body is nested too deeply", [{ loc: ["body", ...pathOf(frame)], msg: TOO_DEEP_MSG }]);
    // Pushed in reverse, so the first dirty string in document order is found first.
    const children = Array.isArray(v) ? v.map((child, i) => [i, child] as const) : Object.entries(v);
    for (let i = children.length - 1; i >= 0; i--) {
      const [key, child] = children[i]!;
      stack.push({ value: child, depth: frame.depth + 1, parent: frame, key });
    }
  }
  return null;
}

function pathOf(frame: Frame): (string | number)[] {
  const path: (string | number)[] = [];
  for (let f: Frame | null = frame; f?.parent; f = f.parent) path.push(f.key);
  return path.reverse();
}

/** The request body as parsed JSON; 400 for invalid UTF-8 or JSON, 413 past `maxBytes`. */
export async function readJson(request: Request, maxBytes: number): Promise<JsonBody> {
  return parseJson(await readBytes(request, maxBytes));
}

/** 400 for invalid UTF-8 or JSON. */
export function parseJson(bytes: Uint8Array): JsonBody {
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    throw invalidJson("Invalid UTF-8", "Request body is not valid UTF-8");
  }
  try {
    return { value: JSON.parse(text), suspectText: SUSPECT_ESCAPE.test(text) };
  } catch {
    throw invalidJson("Invalid JSON");
  }
}

export const DIRTY_TEXT_MSG = "Must not contain NUL characters or unpaired surrogates";

export interface Checker<T extends TSchema> {
  check(value: unknown): value is Static<T>;
  /** Up to `max` errors as `{loc, msg}`, each loc starting with `where`. */
  errors(value: unknown, where: (string | number)[], max?: number): FieldError[];
}

export function compile<T extends TSchema>(schema: T): Checker<T> {
  const compiled: TypeCheck<T> = TypeCompiler.Compile(schema);
  return {
    check: (value): value is Static<T> => compiled.Check(value),
    errors(value, where, max = 20) {
      const out: FieldError[] = [];
      const seen = new Set<string>();
      for (const e of compiled.Errors(value)) {
        // Union members report one error each; the first per path says enough.
        if (seen.has(e.path)) continue;
        seen.add(e.path);
        const path = e.path.split("/").slice(1).map((p) => (/^\d+$/.test(p) ? Number(p) : p.replace(/~1/g, "/").replace(/~0/g, "~")));
        out.push({ loc: [...where, ...path], msg: humanMessage(e) });
        if (out.length >= max) break;
      }
      return out;
    },
  };
}

/** The parsed value, or a 400 naming every offending field. */
export function validateOr400<T extends TSchema>(checker: Checker<T>, body: JsonBody, detail: string): Static<T> {
  const { value } = body;
  if (!checker.check(value)) throw badRequest(detail, checker.errors(value, ["body"]));
  // Walked whatever its text: these bodies are small (SMALL_BODY_BYTES), and
  // so deep nesting anywhere in them is a 400 too.
  const dirty = dirtyTextPath(value);
  if (dirty) throw badRequest(detail, [{ loc: ["body", ...dirty], msg: DIRTY_TEXT_MSG }]);
  return value;
}
