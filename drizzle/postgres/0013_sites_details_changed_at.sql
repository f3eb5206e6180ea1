ALTER TABLE "sites" ADD COLUMN "details_changed_at" timestamp with time zone;
--> statement-breakpoint
-- Every site's update statuses are judged whole once more: details changed
-- before this column (which the statuses judged only at a site's next change)
-- and rows stored under the earlier order-dependent version rule are judged
-- now, before any site is judged in part (releases/projects.ts). Hand-written.
UPDATE "site_update_marks" SET "synced_at" = NULL;
