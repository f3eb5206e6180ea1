// TypeBox models of the change feeds.
import { Type } from "@sinclair/typebox";
import { t } from "elysia";
import { CHANGE_KINDS } from "../inventory";
import { parameters } from "../http/openapi";

export const Change = t.Object({
  id: t.String({ description: "The change's identifier: its sync's change set and its place in it", examples: ["8812.3"] }),
  site_id: Type.Integer({ examples: [123] }),
  organization_id: Type.Integer({ examples: [1] }),
  changed_at: t.String({ format: "date-time", description: "When the sync that made the change was applied" }),
  task_id: t.Union([t.String(), t.Null()], { description: "The background task that applied it; null for a synchronous sync" }),
  kind: t.UnionEnum([...CHANGE_KINDS], { examples: ["version_changed"] }),
  machine_name: t.Union([t.String(), t.Null()], { description: "The module; null for initial_inventory and core/PHP changes", examples: ["webform"] }),
  from: t.Union([t.String(), t.Null()], { description: "Version before (module or core or PHP)", examples: ["6.2.0"] }),
  to: t.Union([t.String(), t.Null()], { description: "Version after", examples: ["6.2.7"] }),
  module_count: t.Union([Type.Integer(), t.Null()], { description: "initial_inventory: how many modules the first sync reported" }),
}, { title: "Change" });

export const ChangeList = t.Object({
  items: t.Array(Change),
  next_cursor: t.Union([t.String(), t.Null()], { description: "Pass as ?cursor= for the next page; null on the last page" }),
}, { title: "ChangeList" });

export const timeRangeParameters = parameters(
  { name: "since", in: "query", required: false, schema: { type: "string", format: "date-time" }, description: "Changes at or after this time (RFC 3339)", example: "2026-11-01T00:00:00Z" },
  { name: "until", in: "query", required: false, schema: { type: "string", format: "date-time" }, description: "Changes before this time (RFC 3339)" },
);
export const organizationFilterParameter = parameters(
  { name: "organization_id", in: "query", required: false, schema: { type: "integer", minimum: 1 }, description: "Only this organization (one of the caller's: 403 otherwise)" },
);
