-- site_modules splits in two (schema.ts): the state a sync compares and writes, narrow and
-- clustered by site (WITHOUT ROWID, which drizzle-kit does not write: written here by hand), and
-- the text written only when it changes. A view of both keeps the name and every column for reads.
CREATE TABLE `site_module_states` (
	`site_id` integer NOT NULL,
	`module_id` integer NOT NULL,
	`version_id` integer,
	`enabled` integer NOT NULL,
	`details_hash` integer,
	`updated_at` integer NOT NULL,
	PRIMARY KEY(`site_id`, `module_id`),
	FOREIGN KEY (`site_id`) REFERENCES `sites`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`module_id`) REFERENCES `modules`(`id`) ON UPDATE no action ON DELETE no action
) WITHOUT ROWID;
--> statement-breakpoint
CREATE TABLE `site_module_details` (
	`site_id` integer NOT NULL,
	`module_id` integer NOT NULL,
	`display_name` text NOT NULL,
	`module_type` text NOT NULL,
	`extension_type` text DEFAULT 'module' NOT NULL,
	`description` text,
	`project` text,
	`first_seen_at` integer NOT NULL,
	PRIMARY KEY(`site_id`, `module_id`),
	FOREIGN KEY (`site_id`,`module_id`) REFERENCES `site_module_states`(`site_id`,`module_id`) ON UPDATE no action ON DELETE cascade
) WITHOUT ROWID;
--> statement-breakpoint
INSERT INTO `site_module_states` (`site_id`, `module_id`, `version_id`, `enabled`, `details_hash`, `updated_at`)
  SELECT `site_id`, `module_id`, `version_id`, `enabled`, `details_hash`, `updated_at` FROM `site_modules`;
--> statement-breakpoint
INSERT INTO `site_module_details` (`site_id`, `module_id`, `display_name`, `module_type`, `extension_type`, `description`, `project`, `first_seen_at`)
  SELECT `site_id`, `module_id`, `display_name`, `module_type`, `extension_type`, `description`, `project`, `first_seen_at` FROM `site_modules`;
--> statement-breakpoint
DROP TABLE `site_modules`;
--> statement-breakpoint
CREATE INDEX `site_modules_module_idx` ON `site_module_states` (`module_id`,`site_id`);
--> statement-breakpoint
CREATE INDEX `site_modules_details_hash_missing` ON `site_module_states` (`site_id`,`module_id`) WHERE details_hash IS NULL;
--> statement-breakpoint
CREATE VIEW `site_modules` AS
  SELECT s.`site_id`, s.`module_id`, s.`version_id`, s.`enabled`, d.`display_name`, d.`module_type`, d.`extension_type`,
    d.`description`, d.`project`, s.`details_hash`, d.`first_seen_at`, s.`updated_at`
  FROM `site_module_states` s JOIN `site_module_details` d ON d.`site_id` = s.`site_id` AND d.`module_id` = s.`module_id`;
--> statement-breakpoint
-- Writes to the view (ad-hoc SQL, an operator's fix) go to the two tables. A row's key cannot be changed
-- through it. The store writes the tables directly (sqlite/statements.ts).
CREATE TRIGGER `site_modules_insert` INSTEAD OF INSERT ON `site_modules` BEGIN
  INSERT INTO `site_module_states` (`site_id`, `module_id`, `version_id`, `enabled`, `details_hash`, `updated_at`)
    VALUES (NEW.`site_id`, NEW.`module_id`, NEW.`version_id`, NEW.`enabled`, NEW.`details_hash`, NEW.`updated_at`);
  INSERT INTO `site_module_details` (`site_id`, `module_id`, `display_name`, `module_type`, `extension_type`, `description`, `project`, `first_seen_at`)
    VALUES (NEW.`site_id`, NEW.`module_id`, NEW.`display_name`, NEW.`module_type`, coalesce(NEW.`extension_type`, 'module'), NEW.`description`, NEW.`project`, NEW.`first_seen_at`);
END;
--> statement-breakpoint
CREATE TRIGGER `site_modules_update` INSTEAD OF UPDATE ON `site_modules` BEGIN
  SELECT RAISE(ABORT, 'site_modules: a row''s site_id and module_id cannot be changed')
    WHERE NEW.`site_id` IS NOT OLD.`site_id` OR NEW.`module_id` IS NOT OLD.`module_id`;
  UPDATE `site_module_states` SET `version_id` = NEW.`version_id`, `enabled` = NEW.`enabled`, `details_hash` = NEW.`details_hash`, `updated_at` = NEW.`updated_at`
    WHERE `site_id` = OLD.`site_id` AND `module_id` = OLD.`module_id`;
  UPDATE `site_module_details` SET `display_name` = NEW.`display_name`, `module_type` = NEW.`module_type`, `extension_type` = NEW.`extension_type`,
    `description` = NEW.`description`, `project` = NEW.`project`, `first_seen_at` = NEW.`first_seen_at`
    WHERE `site_id` = OLD.`site_id` AND `module_id` = OLD.`module_id`;
END;
--> statement-breakpoint
CREATE TRIGGER `site_modules_delete` INSTEAD OF DELETE ON `site_modules` BEGIN
  DELETE FROM `site_module_states` WHERE `site_id` = OLD.`site_id` AND `module_id` = OLD.`module_id`;
END;
