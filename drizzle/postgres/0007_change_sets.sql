CREATE TABLE "site_change_sets" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "site_change_sets_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"organization_id" integer NOT NULL,
	"site_id" integer NOT NULL,
	"changed_at" timestamp with time zone NOT NULL,
	"task_id" text,
	"changes" text NOT NULL
);
--> statement-breakpoint
-- Changes recorded one row per change, as sets: one per sync (site, time, task), named as they were recorded.
INSERT INTO "site_change_sets" ("organization_id", "site_id", "changed_at", "task_id", "changes")
SELECT "organization_id", "site_id", "changed_at", "task_id",
  json_agg(json_build_object('k', "kind", 'n', "machine_name", 'fv', "from_value", 'tv', "to_value", 'c', "module_count") ORDER BY "id")::text
FROM "site_changes" GROUP BY "organization_id", "site_id", "changed_at", "task_id" ORDER BY min("id");--> statement-breakpoint
DROP TABLE "site_changes" CASCADE;--> statement-breakpoint
ALTER TABLE "site_change_sets" ADD CONSTRAINT "site_change_sets_organization_id_organizations_id_fk" FOREIGN KEY ("organization_id") REFERENCES "public"."organizations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "site_change_sets" ADD CONSTRAINT "site_change_sets_site_id_sites_id_fk" FOREIGN KEY ("site_id") REFERENCES "public"."sites"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "site_change_sets_site_idx" ON "site_change_sets" USING btree ("site_id","changed_at","id");--> statement-breakpoint
CREATE INDEX "site_change_sets_org_idx" ON "site_change_sets" USING btree ("organization_id","changed_at","id");--> statement-breakpoint
CREATE INDEX "site_change_sets_time_idx" ON "site_change_sets" USING btree ("changed_at");