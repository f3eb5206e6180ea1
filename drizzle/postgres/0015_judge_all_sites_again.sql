-- Every site's update statuses are judged whole once more: change sets written by an earlier
-- version's background batches came without details_changed_at, which the statuses pass now relies
-- on to find such sites (sql-release-store.ts SITES_TO_COMPUTE). Hand-written.
UPDATE "site_update_marks" SET "synced_at" = NULL;
