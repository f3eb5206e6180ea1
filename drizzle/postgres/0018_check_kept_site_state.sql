-- A sync of a site whose modules this process kept (store/site-states.ts), with every catalog id
-- known, sends its writes and COMMIT with the site's lock, without waiting for the lock's answer
-- (store/postgres/statements.ts lockSiteModulesAssuming): one round trip instead of two. This
-- check runs right after the lock is held and fails the transaction, before any write, unless the
-- site exists, has no background sync still to apply, and holds the modules stamp the process kept.
-- Its error (SQLSTATE MS409) makes the process forget what it kept and sync the site again, reading
-- it first. It also says that the transaction writes the site's stamp itself (modsync.writes_stamps,
-- migration 0010), as the lock's read does on the long way.
CREATE FUNCTION modsync_check_kept_site(site integer, kept_stamp bigint) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  PERFORM set_config('modsync.writes_stamps', 'on', true);
  IF NOT EXISTS (SELECT 1 FROM sites WHERE id = site AND modules_stamp = kept_stamp)
     OR EXISTS (SELECT 1 FROM tasks WHERE site_id = site AND status IN ('pending', 'in_progress')) THEN
    RAISE EXCEPTION 'site % is not as this process kept it', site USING ERRCODE = 'MS409';
  END IF;
END $$;
