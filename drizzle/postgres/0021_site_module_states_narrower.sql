-- A site's states on fewer pages, with room on them for a release (bench/README round 38).
-- version_id as integer: rows of 60 bytes instead of 68 (with its bigint, enabled and the
-- details' hash each took a padded 8). Filled to 60% instead of 75%: a core release rewrites a
-- site's 76 core rows, which sit together; at 75% their new versions did not fit on the page
-- beside the old, so 40% of a site's first re-sync's updates went to other pages, each with
-- new entries in both indexes. At 60% they fit: in a probe of 10,000 sites, the first re-sync
-- was 91% heap-only instead of 60% (212 buffer accesses a site instead of 406, 21 KB of WAL
-- instead of 30), and after three releases the heap was smaller (19,402 pages against 20,628)
-- and its indexes too (9,786 against 12,777).
-- Changing the type rewrites the table, filled to the new 60%, and its indexes, under a lock
-- that holds syncs back meanwhile: a few seconds a million rows, at the first start-up.
-- A version id past integer's maximum would fail it; module_versions now stops there.
ALTER TABLE "module_versions" ALTER COLUMN "id" SET MAXVALUE 2147483647;
--> statement-breakpoint
-- The view names the column: dropped (with its INSTEAD OF trigger) and made again, as in 0020.
DROP VIEW "site_modules";
--> statement-breakpoint
ALTER TABLE "site_module_states" SET (fillfactor = 60);
--> statement-breakpoint
ALTER TABLE "site_module_states" ALTER COLUMN "version_id" SET DATA TYPE integer;
--> statement-breakpoint
CREATE VIEW "site_modules" AS
  SELECT s."site_id", s."module_id", s."version_id", s."enabled",
    d."display_name", d."module_type", d."description", d."project",
    d."first_seen_at", s."updated_at", s."details_hash", d."extension_type"
  FROM "site_module_states" s LEFT JOIN "site_module_details" d ON d."site_id" = s."site_id" AND d."module_id" = s."module_id";
--> statement-breakpoint
CREATE TRIGGER site_modules_write INSTEAD OF INSERT OR UPDATE OR DELETE ON site_modules
  FOR EACH ROW EXECUTE FUNCTION site_modules_write();
