-- The check of this key took a KEY SHARE lock on the organization's row in
-- every sync that changed anything: with the other syncs of the
-- organization's sites holding it, a new multixact each time. The site's key
-- (site_change_sets_site_id_sites_id_fk) still cascades: an organization's
-- deletion deletes its sites, and so their change sets.
ALTER TABLE "site_change_sets" DROP CONSTRAINT "site_change_sets_organization_id_organizations_id_fk";
