// Response shapes shared by every feature, for validation and OpenAPI.
import { Type } from "@sinclair/typebox";
import { t } from "elysia";
import { REPORTED_ERRORS } from "../inventory";

const fieldErrors = t.Array(t.Object({
  loc: t.Array(t.Union([t.String(), Type.Integer()]), { description: 'Path to the offending value, e.g. ["body", "site", "url"]' }),
  msg: t.String({ description: "What is wrong with it, and what is allowed" }),
}, { title: "FieldError" }), { description: "The fields at fault, where fields are" });

const problemFields = {
  type: t.String({ description: "URI naming the kind of problem: `urn:modsync:problem:<code>`", examples: ["urn:modsync:problem:rate_limited"] }),
  title: t.String({ description: "The HTTP status's reason phrase", examples: ["Too Many Requests"] }),
  status: Type.Integer({ examples: [429] }),
  detail: t.String({ description: "What went wrong, for a person to read", examples: ["Rate limit exceeded. Please try again later."] }),
  code: t.String({ description: "Stable machine-readable code (snake_case): branch on this, not on detail", examples: ["rate_limited"] }),
};

/** RFC 9457 problem details: every error answer (`application/problem+json`). */
export const ErrorResponse = t.Object({ ...problemFields, errors: t.Optional(fieldErrors) }, {
  title: "Problem",
  examples: [{ type: "urn:modsync:problem:rate_limited", title: "Too Many Requests", status: 429, detail: "Rate limit exceeded. Please try again later.", code: "rate_limited" }],
});

/** The same problem, as a 400 naming the fields at fault. */
export const ValidationErrorResponse = t.Object({ ...problemFields, errors: t.Optional(fieldErrors) }, {
  title: "ValidationProblem",
  examples: [{
    type: "urn:modsync:problem:validation_failed", title: "Bad Request", status: 400, detail: "Invalid sync payload", code: "validation_failed",
    errors: [{ loc: ["body", "drupal_info", "core_version"], msg: "Required property" }],
  }],
});

/** The 401/403/404 answers every authenticated site route can give. */
export const authErrors = {
  401: ErrorResponse,
  403: ErrorResponse,
  404: ErrorResponse,
} as const;

/** A skipped module entry, as every sync result lists it (inventory's EntryError). */
export const ModuleEntryError = t.Object({
  index: Type.Integer({ description: "Position of the skipped entry in `modules`" }),
  machine_name: t.Optional(t.String()),
  detail: t.String(),
}, { title: "ModuleEntryError" });

/** The result of a sync, synchronous (200) or background (completed task): inventory's SyncResult. */
export const SyncResult = t.Object({
  site_id: Type.Integer(),
  modules_processed: Type.Integer({ description: "created + updated + unchanged" }),
  modules_created: Type.Integer(),
  modules_updated: Type.Integer(),
  modules_unchanged: Type.Integer(),
  modules_removed: Type.Integer({ description: "Removed by a full sync" }),
  errors: t.Array(ModuleEntryError, { maxItems: REPORTED_ERRORS, description: `Entries skipped as invalid or repeated: the first ${REPORTED_ERRORS}, in payload order` }),
  errors_total: Type.Integer({ description: `How many entries were skipped in all (errors lists the first ${REPORTED_ERRORS})` }),
  message: t.String(),
}, {
  title: "SyncResult",
  examples: [{
    site_id: 123, modules_processed: 150, modules_created: 5, modules_updated: 20, modules_unchanged: 125,
    modules_removed: 0, errors: [], errors_total: 0, message: "Successfully synced 150 modules",
  }],
});
