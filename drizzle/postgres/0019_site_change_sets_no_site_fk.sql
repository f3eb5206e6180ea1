-- The check of this key locked the site's row (KEY SHARE, written to the WAL) in every sync that
-- recorded a change: ~25-50 µs of the sync's transaction, which already holds that row locked.
-- Every insert into site_change_sets (store/postgres/history.ts) runs after its transaction took
-- the site's row lock, which a deletion of the site waits for (and once the site is gone, the lock
-- finds no row and nothing is written); the insert takes the site's id from that row. The key's
-- cascade is kept as a trigger: deleting sites (also by their organization's cascade) deletes their
-- change sets. Written by hand (drizzle's schema has no triggers).
ALTER TABLE "site_change_sets" DROP CONSTRAINT "site_change_sets_site_id_sites_id_fk";
--> statement-breakpoint
CREATE FUNCTION modsync_delete_site_change_sets() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM site_change_sets WHERE site_id IN (SELECT id FROM deleted_sites);
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER sites_deleted_change_sets AFTER DELETE ON sites REFERENCING OLD TABLE AS deleted_sites
  FOR EACH STATEMENT EXECUTE FUNCTION modsync_delete_site_change_sets();
