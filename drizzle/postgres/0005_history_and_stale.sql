CREATE TABLE "site_changes" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "site_changes_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"organization_id" integer NOT NULL,
	"site_id" integer NOT NULL,
	"changed_at" timestamp with time zone NOT NULL,
	"task_id" text,
	"kind" text NOT NULL,
	"machine_name" text,
	"from_value" text,
	"to_value" text,
	"module_count" integer
);
--> statement-breakpoint
ALTER TABLE "site_changes" ADD CONSTRAINT "site_changes_organization_id_organizations_id_fk" FOREIGN KEY ("organization_id") REFERENCES "public"."organizations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "site_changes" ADD CONSTRAINT "site_changes_site_id_sites_id_fk" FOREIGN KEY ("site_id") REFERENCES "public"."sites"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "site_changes_site_idx" ON "site_changes" USING btree ("site_id","changed_at","id");--> statement-breakpoint
CREATE INDEX "site_changes_org_idx" ON "site_changes" USING btree ("organization_id","changed_at","id");--> statement-breakpoint
CREATE INDEX "site_changes_time_idx" ON "site_changes" USING btree ("changed_at");--> statement-breakpoint
CREATE INDEX "site_modules_module_idx" ON "site_modules" USING btree ("module_id","site_id");--> statement-breakpoint
CREATE INDEX "sites_org_synced_idx" ON "sites" USING btree ("organization_id","last_synced_at","created_at");