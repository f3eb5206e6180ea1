-- Catalog rows are never deleted, and a sync writes only module ids it read
-- or inserted (and learned after their commit), so these keys only cost:
-- Postgres checks each with a query of its own per inserted row (a first
-- sync of 100,000 modules paid ~0.55 s for site_modules'), and a new
-- version's check takes a KEY SHARE lock on its module's row, which the
-- syncs of every site moving that module share (a new multixact each).
-- The sites' keys still cascade a site's deletion.
ALTER TABLE "module_versions" DROP CONSTRAINT "module_versions_module_id_modules_id_fk";
--> statement-breakpoint
ALTER TABLE "site_modules" DROP CONSTRAINT "site_modules_module_id_modules_id_fk";
