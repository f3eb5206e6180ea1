ALTER TABLE "sites" ADD COLUMN "modules_stamp" bigint DEFAULT 0 NOT NULL;
--> statement-breakpoint
-- Every statement that changes a site's modules sets its stamp to 0, which no
-- process keeps (store/site-states.ts), unless its transaction has said that
-- it writes a stamp of its own (a sync: modsync.writes_stamps, set local):
-- so that writers that never write a stamp (an instance of an earlier version
-- during a rolling upgrade, SQL by hand) are seen too. Written by hand
-- (drizzle's schema has no triggers).
CREATE FUNCTION site_modules_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE sites SET modules_stamp = 0 WHERE id IN (SELECT DISTINCT site_id FROM changed_rows) AND modules_stamp <> 0;
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER site_modules_inserted AFTER INSERT ON site_modules REFERENCING NEW TABLE AS changed_rows
  FOR EACH STATEMENT WHEN (current_setting('modsync.writes_stamps', true) IS DISTINCT FROM 'on') EXECUTE FUNCTION site_modules_changed();
--> statement-breakpoint
CREATE TRIGGER site_modules_updated AFTER UPDATE ON site_modules REFERENCING NEW TABLE AS changed_rows
  FOR EACH STATEMENT WHEN (current_setting('modsync.writes_stamps', true) IS DISTINCT FROM 'on') EXECUTE FUNCTION site_modules_changed();
--> statement-breakpoint
CREATE TRIGGER site_modules_deleted AFTER DELETE ON site_modules REFERENCING OLD TABLE AS changed_rows
  FOR EACH STATEMENT WHEN (current_setting('modsync.writes_stamps', true) IS DISTINCT FROM 'on') EXECUTE FUNCTION site_modules_changed();
