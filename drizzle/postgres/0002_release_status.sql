CREATE TABLE "release_projects" (
	"project" text PRIMARY KEY NOT NULL,
	"history" text NOT NULL,
	"etag" text,
	"last_modified" text,
	"fetched_at" timestamp with time zone NOT NULL,
	"changed_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "site_project_updates" (
	"site_id" integer NOT NULL,
	"project" text NOT NULL,
	"installed_version" text,
	"status" text NOT NULL,
	"reason" text,
	"recommended" text,
	"latest_version" text,
	"security_updates" text NOT NULL,
	"also_available" text NOT NULL,
	"links" text NOT NULL,
	CONSTRAINT "site_project_updates_site_id_project_pk" PRIMARY KEY("site_id","project")
);
--> statement-breakpoint
CREATE TABLE "site_update_marks" (
	"site_id" integer PRIMARY KEY NOT NULL,
	"synced_at" timestamp with time zone,
	"computed_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "upkeep_leases" (
	"name" text PRIMARY KEY NOT NULL,
	"owner" text,
	"expires_at" timestamp with time zone,
	"last_done_at" timestamp with time zone
);
--> statement-breakpoint
ALTER TABLE "site_project_updates" ADD CONSTRAINT "site_project_updates_site_id_sites_id_fk" FOREIGN KEY ("site_id") REFERENCES "public"."sites"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "site_update_marks" ADD CONSTRAINT "site_update_marks_site_id_sites_id_fk" FOREIGN KEY ("site_id") REFERENCES "public"."sites"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "site_project_updates_project_idx" ON "site_project_updates" USING btree ("project");--> statement-breakpoint
CREATE INDEX "site_project_updates_status_idx" ON "site_project_updates" USING btree ("status","site_id");