CREATE TABLE `site_statuses_due` (
	`site_id` integer PRIMARY KEY NOT NULL,
	`stamp` integer NOT NULL,
	FOREIGN KEY (`site_id`) REFERENCES `sites`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
-- What makes a site due for its update statuses (schema.ts siteStatusesDue), as
-- triggers, so that every writer is seen. Hand-written (drizzle's schema has no
-- triggers). A stamp is random below 2^53: exact in a JS number.
CREATE TRIGGER `site_change_sets_due` AFTER INSERT ON `site_change_sets` BEGIN
  INSERT OR REPLACE INTO `site_statuses_due` (`site_id`, `stamp`) VALUES (NEW.`site_id`, abs(random() % 9007199254740991) + 1);
END;
--> statement-breakpoint
-- A site's first sync (it may have changed nothing: no change set), and module
-- details changed (which make no change set).
CREATE TRIGGER `sites_due` AFTER UPDATE OF `last_synced_at`, `details_changed_at` ON `sites`
  WHEN (OLD.`last_synced_at` IS NULL AND NEW.`last_synced_at` IS NOT NULL)
    OR (NEW.`details_changed_at` IS NOT NULL AND NEW.`details_changed_at` IS NOT OLD.`details_changed_at`)
BEGIN
  INSERT OR REPLACE INTO `site_statuses_due` (`site_id`, `stamp`) VALUES (NEW.`id`, abs(random() % 9007199254740991) + 1);
END;
--> statement-breakpoint
-- A mark cleared: the site's projects' release data changed.
CREATE TRIGGER `site_update_marks_cleared` AFTER UPDATE OF `synced_at` ON `site_update_marks` WHEN NEW.`synced_at` IS NULL BEGIN
  INSERT OR REPLACE INTO `site_statuses_due` (`site_id`, `stamp`) VALUES (NEW.`site_id`, abs(random() % 9007199254740991) + 1);
END;
--> statement-breakpoint
CREATE TRIGGER `site_update_marks_inserted_cleared` AFTER INSERT ON `site_update_marks` WHEN NEW.`synced_at` IS NULL BEGIN
  INSERT OR REPLACE INTO `site_statuses_due` (`site_id`, `stamp`) VALUES (NEW.`site_id`, abs(random() % 9007199254740991) + 1);
END;
--> statement-breakpoint
-- The sites due now, by the test the statuses pass made before this table
-- (every site walked): never judged, mark cleared, details changed, or a
-- change set since the mark.
INSERT INTO `site_statuses_due` (`site_id`, `stamp`)
  SELECT s.`id`, abs(random() % 9007199254740991) + 1 FROM `sites` s LEFT JOIN `site_update_marks` u ON u.`site_id` = s.`id`
  WHERE s.`last_synced_at` IS NOT NULL
    AND (u.`site_id` IS NULL OR u.`synced_at` IS NULL OR s.`details_changed_at` > u.`synced_at`
      OR (s.`last_synced_at` > u.`synced_at`
        AND EXISTS (SELECT 1 FROM `site_change_sets` c WHERE c.`site_id` = s.`id` AND c.`changed_at` > u.`synced_at`)));
