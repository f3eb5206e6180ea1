CREATE TABLE `release_projects` (
	`project` text PRIMARY KEY NOT NULL,
	`history` text NOT NULL,
	`etag` text,
	`last_modified` text,
	`fetched_at` integer NOT NULL,
	`changed_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `site_project_updates` (
	`site_id` integer NOT NULL,
	`project` text NOT NULL,
	`installed_version` text,
	`status` text NOT NULL,
	`reason` text,
	`recommended` text,
	`latest_version` text,
	`security_updates` text NOT NULL,
	`also_available` text NOT NULL,
	`links` text NOT NULL,
	PRIMARY KEY(`site_id`, `project`),
	FOREIGN KEY (`site_id`) REFERENCES `sites`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `site_project_updates_project_idx` ON `site_project_updates` (`project`);--> statement-breakpoint
CREATE INDEX `site_project_updates_status_idx` ON `site_project_updates` (`status`,`site_id`);--> statement-breakpoint
CREATE TABLE `site_update_marks` (
	`site_id` integer PRIMARY KEY NOT NULL,
	`synced_at` integer,
	`computed_at` integer NOT NULL,
	FOREIGN KEY (`site_id`) REFERENCES `sites`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `upkeep_leases` (
	`name` text PRIMARY KEY NOT NULL,
	`owner` text,
	`expires_at` integer,
	`last_done_at` integer
);
