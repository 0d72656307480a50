-- 0020_security_roles: two database roles (API.md part 2 "Audit log").
--
-- Migrations run as the OWNER role (the database owner, `leadcrm` in the
-- shipped set-up); httpd connects as the APP role `leadcrm_app`, which
-- gets ordinary rights on every table (here for the tables that exist, by
-- default privileges for tables later migrations create) but only INSERT
-- and SELECT on audit_log (0021).  The app role owns nothing, so it can
-- neither ALTER nor DROP a table nor a trigger, nor change these grants.
--
-- Roles are cluster-wide and the owner role needs no CREATEROLE: the
-- operator (scripts/lib.sh for dev and tests) creates `leadcrm_app` before
-- this migration runs; without it the migration stops with a clear line.

DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'leadcrm_app') THEN
        RAISE EXCEPTION 'role leadcrm_app does not exist'
            USING HINT = 'CREATE ROLE leadcrm_app LOGIN (as a superuser) first; '
                         'httpd connects as it (README "Database roles")';
    END IF;
END $$;

GRANT USAGE ON SCHEMA public TO leadcrm_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public
    TO leadcrm_app;
REVOKE INSERT, UPDATE, DELETE ON schema_migrations FROM leadcrm_app;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO leadcrm_app;
-- tables and sequences created by later migrations (run as this role)
ALTER DEFAULT PRIVILEGES IN SCHEMA public
    GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO leadcrm_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA public
    GRANT USAGE, SELECT ON SEQUENCES TO leadcrm_app;
