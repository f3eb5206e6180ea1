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
-- Changes recorded one row per change, as sets: one per sync (site, time, task), named as they were recorded,
-- in their order (rows fed to json_group_array from an ordered subquery: ORDER BY inside an aggregate needs SQLite 3.44).
INSERT INTO `site_change_sets` (`organization_id`, `site_id`, `changed_at`, `task_id`, `changes`)
SELECT g.`organization_id`, g.`site_id`, g.`changed_at`, g.`task_id`,
  (SELECT json_group_array(json(o.c)) FROM (
     SELECT json_object('k', c.`kind`, 'n', c.`machine_name`, 'fv', c.`from_value`, 'tv', c.`to_value`, 'c', c.`module_count`) AS c
     FROM `site_changes` c
     WHERE c.`site_id` = g.`site_id` AND c.`changed_at` = g.`changed_at` AND c.`task_id` IS g.`task_id`
     ORDER BY c.`id`) o)
FROM (SELECT `organization_id`, `site_id`, `changed_at`, `task_id`, min(`id`) AS first_id FROM `site_changes`
      GROUP BY `organization_id`, `site_id`, `changed_at`, `task_id`) g
ORDER BY g.first_id;--> statement-breakpoint
DROP TABLE `site_changes`;