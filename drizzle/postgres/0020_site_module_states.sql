-- site_modules splits in two (schema.ts), as SQLite's did in its 0012: the state a sync compares and
-- writes, narrow (about 65 bytes a row, against about 170 with the text), and the text, written only
-- when it changes. A core release rewrites 76 rows of a site: on the one table they spread over five or
-- six pages, which at 10,000 sites Postgres read from outside its buffers (bench/README round 36). A view
-- of both keeps the name and every column, in the table's order, for reads and for writes by hand (its
-- triggers, below). Copying the rows takes a few seconds a million rows at the first start-up. An
-- instance of an earlier version cannot upsert the view (INSERT ... ON CONFLICT): its syncs that write
-- a module's text (a new module, a changed description) fail, rolled back, until it is replaced (README).
CREATE TABLE "site_module_states" (
	"site_id" integer NOT NULL,
	"module_id" integer NOT NULL,
	"version_id" bigint,
	"enabled" boolean NOT NULL,
	"details_hash" bigint,
	"updated_at" timestamp with time zone NOT NULL,
	CONSTRAINT "site_module_states_site_id_module_id_pk" PRIMARY KEY("site_id","module_id")
) WITH (fillfactor = 75);
--> statement-breakpoint
CREATE TABLE "site_module_details" (
	"site_id" integer NOT NULL,
	"module_id" integer NOT NULL,
	"display_name" text NOT NULL,
	"module_type" text NOT NULL,
	"extension_type" text DEFAULT 'module' NOT NULL,
	"description" text,
	"project" text,
	"first_seen_at" timestamp with time zone NOT NULL,
	CONSTRAINT "site_module_details_site_id_module_id_pk" PRIMARY KEY("site_id","module_id")
);
--> statement-breakpoint
-- In key order: a site's rows end up side by side, as a first sync writes them.
INSERT INTO "site_module_states" ("site_id", "module_id", "version_id", "enabled", "details_hash", "updated_at")
  SELECT "site_id", "module_id", "version_id", "enabled", "details_hash", "updated_at" FROM "site_modules" ORDER BY "site_id", "module_id";
--> statement-breakpoint
INSERT INTO "site_module_details" ("site_id", "module_id", "display_name", "module_type", "extension_type", "description", "project", "first_seen_at")
  SELECT "site_id", "module_id", "display_name", "module_type", "extension_type", "description", "project", "first_seen_at" FROM "site_modules" ORDER BY "site_id", "module_id";
--> statement-breakpoint
-- Its triggers (0010) go with it; their function stays, for the new tables' (below).
DROP TABLE "site_modules";
--> statement-breakpoint
ALTER TABLE "site_module_states" ADD CONSTRAINT "site_module_states_site_id_sites_id_fk" FOREIGN KEY ("site_id") REFERENCES "public"."sites"("id") ON DELETE cascade ON UPDATE no action;
--> statement-breakpoint
CREATE INDEX "site_modules_module_idx" ON "site_module_states" USING btree ("module_id","site_id");
--> statement-breakpoint
CREATE INDEX "site_modules_details_hash_missing" ON "site_module_states" USING btree ("site_id","module_id") WHERE details_hash IS NULL;
--> statement-breakpoint
-- LEFT JOIN to the details' primary key: a read that names none of their columns does not join them
-- (Postgres removes the join). Every state row has its details: the store writes both in one statement,
-- the view's triggers both, and the trigger below deletes them together (SQL written to one table
-- alone can break the pair: README says to write the view).
CREATE VIEW "site_modules" AS
  SELECT s."site_id", s."module_id", s."version_id", s."enabled",
    d."display_name", d."module_type", d."description", d."project",
    d."first_seen_at", s."updated_at", s."details_hash", d."extension_type"
  FROM "site_module_states" s LEFT JOIN "site_module_details" d ON d."site_id" = s."site_id" AND d."module_id" = s."module_id";
--> statement-breakpoint
-- No foreign key from the details to their state (SQLite's has one): Postgres checks a key with a
-- query of its own for every inserted row (as 0016 found), 0.7 ms of a 150-module first sync. The
-- store writes both rows in one statement; this trigger deletes the details with their state, as the
-- key's cascade would (a removed module, a deleted site's rows), whoever deletes it.
CREATE FUNCTION site_module_states_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM site_module_details d USING deleted_rows o WHERE d.site_id = o.site_id AND d.module_id = o.module_id;
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER site_module_details_cascade AFTER DELETE ON site_module_states REFERENCING OLD TABLE AS deleted_rows
  FOR EACH STATEMENT EXECUTE FUNCTION site_module_states_deleted();
--> statement-breakpoint
-- The modules stamp (0010): a sync compares only the states (with the details' hash), so their
-- changes reset it; so do the details' updates and deletes, which change what the view shows. (An
-- insert of details alone shows nothing new: the view starts from the states.)
CREATE TRIGGER site_module_states_inserted AFTER INSERT ON site_module_states REFERENCING NEW TABLE AS changed_rows
  FOR EACH STATEMENT WHEN (current_setting('modsync.writes_stamps', true) IS DISTINCT FROM 'on') EXECUTE FUNCTION site_modules_changed();
--> statement-breakpoint
CREATE TRIGGER site_module_states_updated AFTER UPDATE ON site_module_states REFERENCING NEW TABLE AS changed_rows
  FOR EACH STATEMENT WHEN (current_setting('modsync.writes_stamps', true) IS DISTINCT FROM 'on') EXECUTE FUNCTION site_modules_changed();
--> statement-breakpoint
CREATE TRIGGER site_module_states_deleted AFTER DELETE ON site_module_states REFERENCING OLD TABLE AS changed_rows
  FOR EACH STATEMENT WHEN (current_setting('modsync.writes_stamps', true) IS DISTINCT FROM 'on') EXECUTE FUNCTION site_modules_changed();
--> statement-breakpoint
CREATE TRIGGER site_module_details_updated AFTER UPDATE ON site_module_details REFERENCING NEW TABLE AS changed_rows
  FOR EACH STATEMENT WHEN (current_setting('modsync.writes_stamps', true) IS DISTINCT FROM 'on') EXECUTE FUNCTION site_modules_changed();
--> statement-breakpoint
CREATE TRIGGER site_module_details_deleted AFTER DELETE ON site_module_details REFERENCING OLD TABLE AS changed_rows
  FOR EACH STATEMENT WHEN (current_setting('modsync.writes_stamps', true) IS DISTINCT FROM 'on') EXECUTE FUNCTION site_modules_changed();
--> statement-breakpoint
-- Writes to the view (ad-hoc SQL, an operator's fix) go to the two tables, whose triggers (above) reset
-- the site's stamp. A row's key cannot be changed through it. The store writes the tables directly
-- (statements.ts).
CREATE FUNCTION site_modules_write() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO site_module_states (site_id, module_id, version_id, enabled, details_hash, updated_at)
      VALUES (NEW.site_id, NEW.module_id, NEW.version_id, NEW.enabled, NEW.details_hash, NEW.updated_at);
    INSERT INTO site_module_details (site_id, module_id, display_name, module_type, extension_type, description, project, first_seen_at)
      VALUES (NEW.site_id, NEW.module_id, NEW.display_name, NEW.module_type, coalesce(NEW.extension_type, 'module'), NEW.description, NEW.project, NEW.first_seen_at);
    RETURN NEW;
  ELSIF TG_OP = 'UPDATE' THEN
    IF NEW.site_id IS DISTINCT FROM OLD.site_id OR NEW.module_id IS DISTINCT FROM OLD.module_id THEN
      RAISE EXCEPTION 'site_modules: a row''s site_id and module_id cannot be changed';
    END IF;
    UPDATE site_module_states SET version_id = NEW.version_id, enabled = NEW.enabled, details_hash = NEW.details_hash, updated_at = NEW.updated_at
      WHERE site_id = OLD.site_id AND module_id = OLD.module_id;
    UPDATE site_module_details SET display_name = NEW.display_name, module_type = NEW.module_type, extension_type = NEW.extension_type,
      description = NEW.description, project = NEW.project, first_seen_at = NEW.first_seen_at
      WHERE site_id = OLD.site_id AND module_id = OLD.module_id;
    RETURN NEW;
  ELSE
    -- The details go with it (site_module_details_cascade).
    DELETE FROM site_module_states WHERE site_id = OLD.site_id AND module_id = OLD.module_id;
    RETURN OLD;
  END IF;
END $$;
--> statement-breakpoint
CREATE TRIGGER site_modules_write INSTEAD OF INSERT OR UPDATE OR DELETE ON site_modules
  FOR EACH ROW EXECUTE FUNCTION site_modules_write();
