-- 0021_audit: the append-only audit log (API.md part 2 "Audit log").
--
-- audit_log is owned by the migration (owner) role; the app role httpd
-- connects as may only INSERT and SELECT (0020 explains the two roles).
-- The purge of old entries runs through lcrm_audit_purge, a SECURITY
-- DEFINER function owned by the owner role that never deletes an entry
-- younger than 30 days, whatever it is asked.
--
-- Writing: audit_write(action, actor, subject_type, subject_id, details)
-- is callable from any SQL function or statement, so an entry is written
-- in the same transaction as the change it records.  The request context
-- (client address, request id, API key, default actor) travels in the
-- transaction-local setting lcrm.audit_ctx, a JSON object
-- {"actor", "ip", "requestId", "apiKeyId", "method"} set by lcrm_actx():
-- the C code wraps one argument of the audited call,
--     SELECT f(CAST(lcrm_actx($ctx, $id) AS uuid), ...)
-- so the context is set before f runs and vanishes with the transaction.
-- Row changes that matter (user created, updated, role changed,
-- deactivated, deleted, logged in; lead status and deletion; consultation
-- cancelled; logout and refresh reuse) are recorded by triggers, so every
-- path that makes them (API, CLI, other functions) is audited.  No entry
-- ever holds a password, token, code or hash.

CREATE TABLE audit_log (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at              timestamptz(3) NOT NULL DEFAULT clock_timestamp(),
    action          text NOT NULL,
    actor_id        uuid,
    actor_role      text,
    subject_type    text,
    subject_id      uuid,
    ip_address      text,
    request_id      text,
    details         jsonb NOT NULL DEFAULT '{}',

    CONSTRAINT audit_log_action_check CHECK (action ~ '^[a-z_]+\.[a-z_]+$')
);

CREATE INDEX audit_log_at_idx ON audit_log (at DESC, id DESC);
CREATE INDEX audit_log_actor_idx ON audit_log (actor_id, at DESC, id DESC);
CREATE INDEX audit_log_subject_idx ON audit_log (subject_id, at DESC, id DESC);
CREATE INDEX audit_log_action_idx ON audit_log (action, at DESC, id DESC);

-- The app role: read and append, nothing else (0020 granted more by default).
REVOKE ALL ON audit_log FROM leadcrm_app;
GRANT SELECT, INSERT ON audit_log TO leadcrm_app;

-- Sets the audit context for the current transaction; returns p_value.
CREATE FUNCTION lcrm_actx(p_ctx text, p_value text) RETURNS text
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    IF p_ctx IS NOT NULL THEN
        PERFORM set_config('lcrm.audit_ctx', p_ctx, true);
    END IF;
    RETURN p_value;
END $$;

-- The audit context of this transaction, or NULL (CLI, direct SQL).
CREATE FUNCTION lcrm_actx_get() RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT nullif(current_setting('lcrm.audit_ctx', true), '')::jsonb;
$$;

-- Appends one entry.  p_actor NULL: the context's actor (or none).
-- details.apiKeyId is added when the request came with an API key.
CREATE FUNCTION audit_write(p_action text, p_actor uuid, p_subject_type text,
                            p_subject_id uuid, p_details jsonb DEFAULT NULL)
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    v_ctx jsonb := lcrm_actx_get();
    v_actor uuid := coalesce(p_actor, (v_ctx ->> 'actor')::uuid);
    v_details jsonb := coalesce(p_details, '{}'::jsonb);
    v_id bigint;
BEGIN
    IF v_ctx ? 'apiKeyId' AND v_ctx ->> 'apiKeyId' IS NOT NULL THEN
        v_details := v_details
                     || jsonb_build_object('apiKeyId', v_ctx -> 'apiKeyId');
    END IF;
    INSERT INTO audit_log (action, actor_id, actor_role, subject_type,
                           subject_id, ip_address, request_id, details)
    VALUES (p_action, v_actor,
            (SELECT role::text FROM users WHERE id = v_actor),
            p_subject_type, p_subject_id, v_ctx ->> 'ip',
            v_ctx ->> 'requestId', v_details)
    RETURNING id INTO v_id;
    RETURN v_id;
END $$;

-- Deletes entries older than the retention (at least 30 days, whatever is
-- asked).  Owned by the owner role, run with its rights: the app role may
-- call it but cannot delete anything itself.
CREATE FUNCTION lcrm_audit_purge(p_retention_seconds bigint) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    v_n integer;
BEGIN
    DELETE FROM public.audit_log
     WHERE at < now() - make_interval(secs =>
                 greatest(coalesce(p_retention_seconds, 0), 30 * 86400)::double precision);
    GET DIAGNOSTICS v_n = ROW_COUNT;
    RETURN v_n;
END $$;
REVOKE ALL ON FUNCTION lcrm_audit_purge(bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION lcrm_audit_purge(bigint) TO leadcrm_app;

-- ---------------------------------------------------------------- triggers

-- The actor of a row change: the context's, else (for changes a user makes
-- on their own row without a context actor, e.g. registration) p_self when
-- a context exists at all; NULL outside requests.
CREATE FUNCTION lcrm_audit_actor(p_self uuid) RETURNS uuid
LANGUAGE sql STABLE AS $$
    SELECT CASE WHEN lcrm_actx_get() IS NULL THEN NULL
                ELSE coalesce((lcrm_actx_get() ->> 'actor')::uuid, p_self) END;
$$;

CREATE FUNCTION lcrm_audit_users() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    v_fields text[] := '{}';
    v_actor uuid := lcrm_audit_actor(NEW.id);
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM audit_write('user.created', v_actor, 'user', NEW.id,
                            jsonb_build_object('role', NEW.role));
        RETURN NULL;
    END IF;
    IF NEW.last_login_at IS DISTINCT FROM OLD.last_login_at THEN
        PERFORM audit_write('auth.login', NEW.id, 'user', NEW.id,
            jsonb_build_object('method', coalesce(lcrm_actx_get() ->> 'method',
                                                  'password'),
                               'mfa', NEW.mfa_enabled));
    END IF;
    IF NEW.deleted_at IS NOT NULL AND OLD.deleted_at IS NULL THEN
        PERFORM audit_write('user.deleted', v_actor, 'user', NEW.id, NULL);
        RETURN NULL;
    END IF;
    IF NEW.role <> OLD.role THEN
        PERFORM audit_write('user.role_changed', v_actor, 'user', NEW.id,
            jsonb_build_object('from', OLD.role, 'to', NEW.role));
    END IF;
    IF OLD.is_active AND NOT NEW.is_active THEN
        PERFORM audit_write('user.deactivated', v_actor, 'user', NEW.id, NULL);
    END IF;
    IF NEW.email IS DISTINCT FROM OLD.email THEN v_fields := v_fields || 'email'::text; END IF;
    IF NEW.name IS DISTINCT FROM OLD.name THEN v_fields := v_fields || 'name'::text; END IF;
    IF NEW.company IS DISTINCT FROM OLD.company THEN v_fields := v_fields || 'company'::text; END IF;
    IF NEW.phone IS DISTINCT FROM OLD.phone THEN v_fields := v_fields || 'phone'::text; END IF;
    IF NEW.job_title IS DISTINCT FROM OLD.job_title THEN v_fields := v_fields || 'jobTitle'::text; END IF;
    IF NEW.bio IS DISTINCT FROM OLD.bio THEN v_fields := v_fields || 'bio'::text; END IF;
    IF NEW.role IS DISTINCT FROM OLD.role THEN v_fields := v_fields || 'role'::text; END IF;
    IF NEW.is_active IS DISTINCT FROM OLD.is_active THEN v_fields := v_fields || 'isActive'::text; END IF;
    IF cardinality(v_fields) > 0 THEN
        PERFORM audit_write('user.updated', v_actor, 'user', NEW.id,
                            jsonb_build_object('fields', to_jsonb(v_fields)));
    END IF;
    RETURN NULL;
END $$;

CREATE FUNCTION lcrm_audit_leads() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.deleted_at IS NOT NULL AND OLD.deleted_at IS NULL THEN
        PERFORM audit_write('lead.deleted', NULL, 'lead', NEW.id, NULL);
    ELSIF NEW.status <> OLD.status THEN
        PERFORM audit_write('lead.status_changed', NULL, 'lead', NEW.id,
            jsonb_build_object('from', OLD.status, 'to', NEW.status));
    END IF;
    RETURN NULL;
END $$;

CREATE FUNCTION lcrm_audit_consultations() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.status = 'CANCELLED' AND OLD.status <> 'CANCELLED' THEN
        PERFORM audit_write('consultation.cancelled', NULL, 'consultation',
                            NEW.id, NULL);
    END IF;
    RETURN NULL;
END $$;

-- Logout and refresh-token reuse revoke one session each; a session
-- revoked by its owner through DELETE /auth/sessions/:id is 'revoked'.
-- Bulk revocations (logout-all, password change, admin) are audited once
-- by the function that makes them.
CREATE FUNCTION lcrm_audit_sessions() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    v_action text := CASE NEW.revoked_reason
                         WHEN 'logout' THEN 'auth.logout'
                         WHEN 'reuse' THEN 'auth.refresh_reuse'
                         WHEN 'revoked' THEN 'session.revoked' END;
BEGIN
    IF OLD.revoked_at IS NULL AND NEW.revoked_at IS NOT NULL
       AND v_action IS NOT NULL THEN
        PERFORM audit_write(v_action, NEW.user_id, 'session', NEW.id, NULL);
    END IF;
    RETURN NULL;
END $$;

-- sessions.revoked_reason takes new reasons ('revoked', 'admin',
-- 'mfa_enabled', 'mfa_disabled', 'mfa_reset', and those of other features):
-- the closed list of 0001 becomes a shape check.
ALTER TABLE sessions DROP CONSTRAINT sessions_revoked_reason_check;
ALTER TABLE sessions ADD CONSTRAINT sessions_revoked_reason_check
    CHECK (revoked_reason ~ '^[a-z_]{1,40}$');

-- users.mfa_enabled is read by the user trigger above (and 0022)
ALTER TABLE users ADD COLUMN mfa_enabled boolean NOT NULL DEFAULT false;

CREATE TRIGGER users_audit AFTER INSERT OR UPDATE ON users
    FOR EACH ROW EXECUTE FUNCTION lcrm_audit_users();
CREATE TRIGGER leads_audit AFTER UPDATE ON leads
    FOR EACH ROW EXECUTE FUNCTION lcrm_audit_leads();
CREATE TRIGGER consultations_audit AFTER UPDATE ON consultations
    FOR EACH ROW EXECUTE FUNCTION lcrm_audit_consultations();
CREATE TRIGGER sessions_audit AFTER UPDATE ON sessions
    FOR EACH ROW EXECUTE FUNCTION lcrm_audit_sessions();

-- The audit list's JSON (API.md field names).
CREATE FUNCTION lcrm_audit_json(a audit_log) RETURNS json
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT json_build_object(
        'id',          a.id,
        'at',          lcrm_ts(a.at),
        'action',      a.action,
        'actorId',     a.actor_id,
        'actorRole',   a.actor_role,
        'subjectType', a.subject_type,
        'subjectId',   a.subject_id,
        'ipAddress',   a.ip_address,
        'requestId',   a.request_id,
        'details',     a.details)
$$;
