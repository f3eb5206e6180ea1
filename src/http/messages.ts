// Validation messages a person can act on. TypeBox's own ("Expected union
// value", "Expected kind 'UnionEnum'") say which check failed, not what the
// field allows: these say what is allowed and what was sent.
import type { TSchema } from "@sinclair/typebox";
import type { ValueError } from "@sinclair/typebox/errors";

type Schema = TSchema & {
  type?: string; enum?: unknown[]; anyOf?: Schema[]; const?: unknown;
  minLength?: number; maxLength?: number; pattern?: string; minimum?: number; maximum?: number; format?: string;
};

const TYPE_NAMES: Record<string, string> = {
  string: "a string", boolean: "true or false", integer: "an integer", number: "a number",
  object: "a JSON object", array: "an array", null: "null",
};

const shown = (value: unknown) => {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 40 ? `${text.slice(0, 37)}...` : text;
};

/** The values an enum-like schema allows, or null if it is not one. */
function allowedValues(schema: Schema): unknown[] | null {
  if (Array.isArray(schema.enum)) return schema.enum;
  if (schema.anyOf?.every((s) => "const" in s)) return schema.anyOf.map((s) => s.const);
  return null;
}

function typeName(schema: Schema): string {
  if ("const" in schema) return shown(schema.const);
  return TYPE_NAMES[schema.type ?? ""] ?? "a valid value";
}

/** What is wrong with `value` against a string schema, or null if nothing is. */
function stringProblem(schema: Schema, value: string): string | null {
  if (schema.maxLength !== undefined && value.length > schema.maxLength) return `Must be at most ${schema.maxLength} characters; got ${value.length}`;
  if (schema.minLength !== undefined && value.length < schema.minLength) {
    return schema.minLength === 1 ? "Must not be empty" : `Must be at least ${schema.minLength} characters; got ${value.length}`;
  }
  if (schema.pattern !== undefined && !new RegExp(schema.pattern, "u").test(value)) {
    return schema.pattern === "\\S" ? "Must not be blank" : `Must match the pattern ${schema.pattern}`;
  }
  return null;
}

export function describeSchemaError(schema: Schema, value: unknown): string {
  if (value === undefined) return "Required";
  const allowed = allowedValues(schema);
  if (allowed) return `Must be one of ${allowed.map(shown).join(", ")}; got ${shown(value)}`;
  if (schema.anyOf) {
    const sameType = schema.anyOf.find((s) => s.type === (Number.isInteger(value) ? "integer" : typeof value));
    if (sameType) return describeSchemaError(sameType, value);
    return `Must be ${schema.anyOf.map(typeName).join(" or ")}; got ${shown(value)}`;
  }
  if (schema.type === "string" && typeof value === "string") return stringProblem(schema, value) ?? "Invalid value";
  if ((schema.type === "integer" || schema.type === "number") && typeof value === "number") {
    if (schema.type === "integer" && !Number.isInteger(value)) return `Must be an integer; got ${shown(value)}`;
    if (schema.minimum !== undefined && value < schema.minimum) return `Must be at least ${schema.minimum}; got ${shown(value)}`;
    if (schema.maximum !== undefined && value > schema.maximum) return `Must be at most ${schema.maximum}; got ${shown(value)}`;
  }
  if (schema.type && schema.type !== (Array.isArray(value) ? "array" : value === null ? "null" : typeof value)) {
    return `Must be ${typeName(schema)}; got ${shown(value)}`;
  }
  return "Invalid value";
}

/** A TypeBox error, as a person reads it. */
export function humanMessage(error: ValueError): string {
  const message = describeSchemaError(error.schema as Schema, error.value);
  return message === "Invalid value" ? error.message : message;
}
