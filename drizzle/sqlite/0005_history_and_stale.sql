CREATE TABLE `site_changes` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`organization_id` integer NOT NULL,
	`site_id` integer NOT NULL,
	`changed_at` integer NOT NULL,
	`task_id` text,
	`kind` text NOT NULL,
	`machine_name` text,
	`from_value` text,
	`to_value` text,
	`module_count` integer,
	FOREIGN KEY (`organization_id`) REFERENCES `organizations`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`site_id`) REFERENCES `sites`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `site_changes_site_idx` ON `site_changes` (`site_id`,`changed_at`,`id`);--> statement-breakpoint
CREATE INDEX `site_changes_org_idx` ON `site_changes` (`organization_id`,`changed_at`,`id`);--> statement-breakpoint
CREATE INDEX `site_changes_time_idx` ON `site_changes` (`changed_at`);--> statement-breakpoint
CREATE INDEX `site_modules_module_idx` ON `site_modules` (`module_id`,`site_id`);--> statement-breakpoint
CREATE INDEX `sites_org_synced_idx` ON `sites` (`organization_id`,`last_synced_at`,`created_at`);