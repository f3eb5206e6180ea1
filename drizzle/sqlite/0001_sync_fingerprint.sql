DROP INDEX `site_modules_module_idx`;--> statement-breakpoint
DROP INDEX `site_modules_version_idx`;--> statement-breakpoint
CREATE INDEX `site_modules_module_version_idx` ON `site_modules` (`module_id`,`version_id`);--> statement-breakpoint
ALTER TABLE `sites` ADD `sync_fingerprint` text;