// Response shapes shared by every feature, for validation and OpenAPI.
import { Type } from "@sinclair/typebox";
import { t } from "elysia";
import { REPORTED_ERRORS } from "../inventory";

export const ErrorResponse = t.Object({
  detail: t.String({ description: "What went wrong, for a person to read" }),
}, { title: "Error" });

export const ValidationErrorResponse = t.Object({
  detail: t.String(),
  errors: t.Optional(t.Array(t.Object({
    loc: t.Array(t.Union([t.String(), Type.Integer()]), { description: 'Path to the offending value, e.g. ["body", "site", "url"]' }),
    msg: t.String(),
  }))),
}, { title: "ValidationError" });

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
