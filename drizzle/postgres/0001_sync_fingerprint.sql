DROP INDEX "site_modules_module_idx";--> statement-breakpoint
DROP INDEX "site_modules_version_idx";--> statement-breakpoint
ALTER TABLE "sites" ADD COLUMN "sync_fingerprint" text;