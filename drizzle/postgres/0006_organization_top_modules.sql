CREATE TABLE "organization_summary_refreshes" (
	"organization_id" integer PRIMARY KEY NOT NULL,
	"signature" text NOT NULL,
	"computed_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "organization_top_modules" (
	"organization_id" integer NOT NULL,
	"module_id" integer NOT NULL,
	"sites" integer NOT NULL,
	CONSTRAINT "organization_top_modules_organization_id_module_id_pk" PRIMARY KEY("organization_id","module_id")
);
--> statement-breakpoint
ALTER TABLE "organization_summary_refreshes" ADD CONSTRAINT "organization_summary_refreshes_organization_id_organizations_id_fk" FOREIGN KEY ("organization_id") REFERENCES "public"."organizations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "organization_top_modules" ADD CONSTRAINT "organization_top_modules_organization_id_organizations_id_fk" FOREIGN KEY ("organization_id") REFERENCES "public"."organizations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "organization_top_modules" ADD CONSTRAINT "organization_top_modules_module_id_modules_id_fk" FOREIGN KEY ("module_id") REFERENCES "public"."modules"("id") ON DELETE no action ON UPDATE no action;