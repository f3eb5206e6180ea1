CREATE TABLE `api_tokens` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`user_id` integer NOT NULL,
	`token_hash` text NOT NULL,
	`created_at` integer DEFAULT (unixepoch('subsec') * 1000) NOT NULL,
	`revoked_at` integer,
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `api_tokens_hash_uq` ON `api_tokens` (`token_hash`);--> statement-breakpoint
CREATE INDEX `api_tokens_user_idx` ON `api_tokens` (`user_id`);--> statement-breakpoint
CREATE TABLE `memberships` (
	`user_id` integer NOT NULL,
	`organization_id` integer NOT NULL,
	`role` text NOT NULL,
	`created_at` integer DEFAULT (unixepoch('subsec') * 1000) NOT NULL,
	PRIMARY KEY(`user_id`, `organization_id`),
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`organization_id`) REFERENCES `organizations`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `memberships_org_idx` ON `memberships` (`organization_id`);--> statement-breakpoint
CREATE TABLE `module_versions` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`module_id` integer NOT NULL,
	`version` text NOT NULL,
	`created_at` integer DEFAULT (unixepoch('subsec') * 1000) NOT NULL,
	FOREIGN KEY (`module_id`) REFERENCES `modules`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `module_versions_module_version_uq` ON `module_versions` (`module_id`,`version`);--> statement-breakpoint
CREATE INDEX `module_versions_version_idx` ON `module_versions` (`version`);--> statement-breakpoint
CREATE TABLE `modules` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`machine_name` text NOT NULL,
	`created_at` integer DEFAULT (unixepoch('subsec') * 1000) NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `modules_machine_name_uq` ON `modules` (`machine_name`);--> statement-breakpoint
CREATE TABLE `organizations` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`name` text NOT NULL,
	`created_at` integer DEFAULT (unixepoch('subsec') * 1000) NOT NULL
);
--> statement-breakpoint
CREATE TABLE `settings` (
	`key` text PRIMARY KEY NOT NULL,
	`value` text NOT NULL
);
--> statement-breakpoint
CREATE TABLE `site_modules` (
	`site_id` integer NOT NULL,
	`module_id` integer NOT NULL,
	`version_id` integer,
	`enabled` integer NOT NULL,
	`display_name` text NOT NULL,
	`module_type` text NOT NULL,
	`description` text,
	`project` text,
	`first_seen_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	PRIMARY KEY(`site_id`, `module_id`),
	FOREIGN KEY (`site_id`) REFERENCES `sites`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`module_id`) REFERENCES `modules`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`version_id`) REFERENCES `module_versions`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE TABLE `sites` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`organization_id` integer NOT NULL,
	`url` text NOT NULL,
	`normalized_url` text NOT NULL,
	`name` text NOT NULL,
	`token_hash` text NOT NULL,
	`core_version` text,
	`php_version` text,
	`ip_address` text,
	`last_synced_at` integer,
	`sync_fingerprint` text,
	`sync_repeat` text,
	`created_at` integer DEFAULT (unixepoch('subsec') * 1000) NOT NULL,
	FOREIGN KEY (`organization_id`) REFERENCES `organizations`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `sites_org_url_uq` ON `sites` (`organization_id`,`normalized_url`);--> statement-breakpoint
CREATE TABLE `task_entries` (
	`task_num` integer NOT NULL,
	`idx` integer NOT NULL,
	`machine_name` text,
	`entry` text,
	`error` text,
	PRIMARY KEY(`task_num`, `idx`),
	FOREIGN KEY (`task_num`) REFERENCES `tasks`(`num`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `tasks` (
	`num` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`id` text NOT NULL,
	`site_id` integer NOT NULL,
	`seq` integer NOT NULL,
	`status` text NOT NULL,
	`full_sync` integer DEFAULT false NOT NULL,
	`site_name` text,
	`core_version` text,
	`php_version` text,
	`ip_address` text,
	`total` integer DEFAULT 0 NOT NULL,
	`current` integer DEFAULT 0 NOT NULL,
	`site_was_empty` integer DEFAULT false NOT NULL,
	`cursor` integer DEFAULT -1 NOT NULL,
	`modules_created` integer DEFAULT 0 NOT NULL,
	`modules_updated` integer DEFAULT 0 NOT NULL,
	`modules_unchanged` integer DEFAULT 0 NOT NULL,
	`modules_removed` integer DEFAULT 0 NOT NULL,
	`result` text,
	`error` text,
	`attempts` integer DEFAULT 0 NOT NULL,
	`lease_owner` text,
	`lease_expires_at` integer,
	`created_at` integer DEFAULT (unixepoch('subsec') * 1000) NOT NULL,
	`updated_at` integer DEFAULT (unixepoch('subsec') * 1000) NOT NULL,
	`finished_at` integer,
	FOREIGN KEY (`site_id`) REFERENCES `sites`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `tasks_id_uq` ON `tasks` (`id`);--> statement-breakpoint
CREATE INDEX `tasks_site_status_idx` ON `tasks` (`site_id`,`status`,`seq`);--> statement-breakpoint
CREATE INDEX `tasks_status_idx` ON `tasks` (`status`,`lease_expires_at`);--> statement-breakpoint
CREATE INDEX `tasks_finished_idx` ON `tasks` (`finished_at`);--> statement-breakpoint
CREATE TABLE `users` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`email` text NOT NULL,
	`created_at` integer DEFAULT (unixepoch('subsec') * 1000) NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `users_email_uq` ON `users` (`email`);