-- Catalog rows are never deleted, and a sync writes only module ids it read
-- or inserted (remembered once their transaction committed), so these keys
-- only cost: Postgres checks each with a query of its own for every inserted
-- row (site_modules': ~0.55 s of a first sync of 100,000 modules), and a new
-- version's check takes a KEY SHARE lock on its module's row. The top
-- modules copy site_modules' ids. The sites' keys still cascade a site's
-- deletion.
ALTER TABLE "module_versions" DROP CONSTRAINT "module_versions_module_id_modules_id_fk";
--> statement-breakpoint
ALTER TABLE "organization_top_modules" DROP CONSTRAINT "organization_top_modules_module_id_modules_id_fk";
--> statement-breakpoint
ALTER TABLE "site_modules" DROP CONSTRAINT "site_modules_module_id_modules_id_fk";
