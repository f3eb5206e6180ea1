-- site_modules splits in two (schema.ts): the state a sync compares and writes, narrow and
-- clustered by site (WITHOUT ROWID, which drizzle-kit does not write: written here by hand), and
-- the text written only when it changes. A view of both keeps the name and every column, in the
-- table's order, for reads and for writes by hand (its triggers, below). Rewriting the rows takes a
-- few seconds a million rows at the first start-up; the old table's pages stay in the file as free
-- pages (VACUUM returns them).
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
  SELECT site_module_states.`site_id`, site_module_states.`module_id`, site_module_states.`version_id`, site_module_states.`enabled`,
    site_module_details.`display_name`, site_module_details.`module_type`, site_module_details.`description`, site_module_details.`project`,
    site_module_details.`first_seen_at`, site_module_states.`updated_at`, site_module_states.`details_hash`, site_module_details.`extension_type`
  FROM `site_module_states` JOIN `site_module_details`
    ON site_module_details.`site_id` = site_module_states.`site_id` AND site_module_details.`module_id` = site_module_states.`module_id`;
--> statement-breakpoint
-- Writes to the view (ad-hoc SQL, an operator's fix) go to the two tables, and set the site's
-- modules_stamp to 0, as Postgres's triggers do (its migration 0010): a server that kept the site's
-- modules (store/site-states.ts) reads them again. A row's key cannot be changed through it.
-- The store writes the tables directly (sqlite/statements.ts), with a stamp of its own.
CREATE TRIGGER `site_modules_insert` INSTEAD OF INSERT ON `site_modules` BEGIN
  INSERT INTO `site_module_states` (`site_id`, `module_id`, `version_id`, `enabled`, `details_hash`, `updated_at`)
    VALUES (NEW.`site_id`, NEW.`module_id`, NEW.`version_id`, NEW.`enabled`, NEW.`details_hash`, NEW.`updated_at`);
  INSERT INTO `site_module_details` (`site_id`, `module_id`, `display_name`, `module_type`, `extension_type`, `description`, `project`, `first_seen_at`)
    VALUES (NEW.`site_id`, NEW.`module_id`, NEW.`display_name`, NEW.`module_type`, coalesce(NEW.`extension_type`, 'module'), NEW.`description`, NEW.`project`, NEW.`first_seen_at`);
  UPDATE `sites` SET `modules_stamp` = 0 WHERE `id` = NEW.`site_id` AND `modules_stamp` <> 0;
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
  UPDATE `sites` SET `modules_stamp` = 0 WHERE `id` = OLD.`site_id` AND `modules_stamp` <> 0;
END;
--> statement-breakpoint
-- Both rows by name: the foreign key's cascade does it too, but not with foreign keys off (the sqlite3 shell's default).
CREATE TRIGGER `site_modules_delete` INSTEAD OF DELETE ON `site_modules` BEGIN
  DELETE FROM `site_module_details` WHERE `site_id` = OLD.`site_id` AND `module_id` = OLD.`module_id`;
  DELETE FROM `site_module_states` WHERE `site_id` = OLD.`site_id` AND `module_id` = OLD.`module_id`;
  UPDATE `sites` SET `modules_stamp` = 0 WHERE `id` = OLD.`site_id` AND `modules_stamp` <> 0;
END;
--> statement-breakpoint
-- Every site judged whole once (update statuses): change sets written by an earlier version's
-- background batches came without details_changed_at, which the statuses pass now relies on for them
-- (sql-release-store.ts SITES_TO_COMPUTE).
UPDATE `site_update_marks` SET `synced_at` = NULL;
