// Reading and checking JSON bodies by hand, after authentication: routes that
// do this declare `parse: "none"`, so a request is authenticated before a
// single byte of its body is read, and bad bodies answer 400 only to callers
// who were allowed to send them.
import type { TSchema, Static } from "@sinclair/typebox";
import { TypeCompiler, type TypeCheck } from "@sinclair/typebox/compiler";
import { ApiError, badRequest, type FieldError } from "../errors";

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** The raw request body; 413 past `maxBytes`, declared or actual. */
export async function readBytes(request: Request, maxBytes: number): Promise<Uint8Array> {
  const declared = Number(request.headers.get("content-length") ?? NaN);
  if (declared > maxBytes) throw new ApiError(413, `Request body exceeds ${maxBytes} bytes`);
  const bytes = new Uint8Array(await request.arrayBuffer());
  if (bytes.byteLength > maxBytes) throw new ApiError(413, `Request body exceeds ${maxBytes} bytes`);
  return bytes;
}

/** The request body as parsed JSON; 400 for invalid UTF-8 or JSON, 413 past `maxBytes`. */
export async function readJson(request: Request, maxBytes: number): Promise<unknown> {
  return parseJson(await readBytes(request, maxBytes));
}

/** 400 for invalid UTF-8 or JSON. */
export function parseJson(bytes: Uint8Array): unknown {
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    throw badRequest("Request body is not valid UTF-8", [{ loc: ["body"], msg: "Invalid UTF-8" }]);
  }
  try {
    return JSON.parse(text);
  } catch {
    throw badRequest("Request body is not valid JSON", [{ loc: ["body"], msg: "Invalid JSON" }]);
  }
}

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
        out.push({ loc: [...where, ...path], msg: e.message });
        if (out.length >= max) break;
      }
      return out;
    },
  };
}

/** The parsed value, or a 400 naming every offending field. */
export function validateOr400<T extends TSchema>(checker: Checker<T>, value: unknown, detail: string): Static<T> {
  if (checker.check(value)) return value;
  throw badRequest(detail, checker.errors(value, ["body"]));
}
