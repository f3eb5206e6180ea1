CREATE TABLE `site_change_sets` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`organization_id` integer NOT NULL,
	`site_id` integer NOT NULL,
	`changed_at` integer NOT NULL,
	`task_id` text,
	`changes` text NOT NULL,
	FOREIGN KEY (`organization_id`) REFERENCES `organizations`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`site_id`) REFERENCES `sites`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `site_change_sets_site_idx` ON `site_change_sets` (`site_id`,`changed_at`,`id`);--> statement-breakpoint
CREATE INDEX `site_change_sets_org_idx` ON `site_change_sets` (`organization_id`,`changed_at`,`id`);--> statement-breakpoint
CREATE INDEX `site_change_sets_time_idx` ON `site_change_sets` (`changed_at`);--> statement-breakpoint
-- Changes recorded one row per change, as sets: one per sync (site, time, task), named as they were recorded.
INSERT INTO `site_change_sets` (`organization_id`, `site_id`, `changed_at`, `task_id`, `changes`)
SELECT `organization_id`, `site_id`, `changed_at`, `task_id`,
  json_group_array(json_object('k', `kind`, 'n', `machine_name`, 'fv', `from_value`, 'tv', `to_value`, 'c', `module_count`) ORDER BY `id`)
FROM `site_changes` GROUP BY `organization_id`, `site_id`, `changed_at`, `task_id` ORDER BY min(`id`);--> statement-breakpoint
DROP TABLE `site_changes`;