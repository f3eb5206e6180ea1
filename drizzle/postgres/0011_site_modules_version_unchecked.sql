ALTER TABLE "site_modules" DROP CONSTRAINT "site_modules_version_id_module_versions_id_fk";
