-- The check of this key took a KEY SHARE lock on the organization's row in
-- every sync that changed anything: the syncs of one organization's sites
-- queued on that one row (a new multixact for each). The site's key
-- (site_change_sets_site_id_sites_id_fk) still cascades: an organization's
-- deletion deletes its sites, and so their change sets.
ALTER TABLE "site_change_sets" DROP CONSTRAINT "site_change_sets_organization_id_organizations_id_fk";
