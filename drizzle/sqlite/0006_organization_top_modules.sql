CREATE TABLE `organization_summary_refreshes` (
	`organization_id` integer PRIMARY KEY NOT NULL,
	`signature` text NOT NULL,
	`computed_at` integer NOT NULL,
	FOREIGN KEY (`organization_id`) REFERENCES `organizations`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `organization_top_modules` (
	`organization_id` integer NOT NULL,
	`module_id` integer NOT NULL,
	`sites` integer NOT NULL,
	PRIMARY KEY(`organization_id`, `module_id`),
	FOREIGN KEY (`organization_id`) REFERENCES `organizations`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`module_id`) REFERENCES `modules`(`id`) ON UPDATE no action ON DELETE no action
);
