ALTER TABLE `site_modules` ADD `details_hash` integer;--> statement-breakpoint
CREATE INDEX `site_modules_details_hash_missing` ON `site_modules` (`site_id`,`module_id`) WHERE details_hash IS NULL;