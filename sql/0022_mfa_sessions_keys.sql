-- 0022_mfa_sessions_keys: TOTP two-factor authentication, session
-- management and scoped API keys (API.md part 2).
--
-- Secrets never reach this database in clear: TOTP seeds arrive sealed
-- (AES-256-GCM by the module, aad "totp:<user id>"), login challenges,
-- recovery codes and API keys as SHA-256 hashes (hex).  The module checks
-- TOTP codes (it alone can open the seed) and passes the accepted time
-- step; these functions enforce single use: a step must be later than the
-- last accepted one, a recovery code or a challenge is used once.

-- ---------------------------------------------------------------- user JSON

-- Replaces 0002's lcrm_user_json: adds "mfaEnabled" (after emailVerified);
-- nothing else changed.
CREATE OR REPLACE FUNCTION lcrm_user_json(u users) RETURNS json
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT json_build_object(
        'id',            u.id,
        'email',         u.email,
        'name',          u.name,
        'company',       u.company,
        'phone',         u.phone,
        'jobTitle',      u.job_title,
        'bio',           u.bio,
        'role',          u.role,
        'emailVerified', u.email_verified,
        'mfaEnabled',    u.mfa_enabled,
        'isActive',      u.is_active,
        'lastLoginAt',   lcrm_ts(u.last_login_at),
        'createdAt',     lcrm_ts(u.created_at),
        'updatedAt',     lcrm_ts(u.updated_at))
$$;

-- ---------------------------------------------------------------- MFA

-- One row per user that ever set MFA up.  last_step survives a disable.
CREATE TABLE user_mfa (
    user_id             uuid PRIMARY KEY REFERENCES users (id),
    secret_sealed       text,            -- the enabled seed (NULL: MFA off)
    pending_sealed      text,            -- a seed awaiting /enable
    pending_expires_at  timestamptz(3),
    last_step           bigint NOT NULL DEFAULT 0,
    enabled_at          timestamptz(3)
);

CREATE TABLE mfa_recovery_codes (
    user_id     uuid NOT NULL REFERENCES users (id),
    code_hash   bytea NOT NULL,          -- SHA-256 of "<user id>:<code>"
    created_at  timestamptz(3) NOT NULL DEFAULT now(),
    used_at     timestamptz(3),
    PRIMARY KEY (user_id, code_hash)
);

-- Login step-up: the mfaToken of a login whose password (or OIDC) was right.
CREATE TABLE mfa_challenges (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id     uuid NOT NULL REFERENCES users (id),
    token_hash  bytea NOT NULL UNIQUE,
    created_at  timestamptz(3) NOT NULL DEFAULT now(),
    expires_at  timestamptz(3) NOT NULL,
    failures    integer NOT NULL DEFAULT 0,
    used_at     timestamptz(3),
    method      text NOT NULL DEFAULT 'password'
);
CREATE INDEX mfa_challenges_expires_idx ON mfa_challenges (expires_at);

-- Issues a login challenge for p_user (the module made the token and
-- passes its SHA-256 hex); live p_ttl_seconds (API.md: 300).  p_method
-- ('password', 'oidc') ends up in the auth.login entry.  Callable by any
-- sign-in path (OIDC too).
CREATE FUNCTION lcrm_mfa_challenge_issue(p_user uuid, p_token_hash text,
                                         p_ttl_seconds integer,
                                         p_method text DEFAULT 'password')
RETURNS void LANGUAGE sql AS $$
    DELETE FROM mfa_challenges WHERE expires_at < now() - interval '1 day';
    INSERT INTO mfa_challenges (user_id, token_hash, expires_at, method)
    VALUES (p_user, decode(p_token_hash, 'hex'),
            now() + make_interval(secs => p_ttl_seconds), p_method);
$$;

-- Uses one second factor of p_user: a TOTP step later than the last
-- accepted one, or an unused recovery code.  Returns 'ok', 'invalid_code'
-- or 'mfa_not_enabled'.  Locks the user's MFA row.
CREATE FUNCTION lcrm_mfa_consume(p_user uuid, p_step bigint,
                                 p_recovery_hash text)
RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    v_m user_mfa;
    v_left integer;
BEGIN
    SELECT * INTO v_m FROM user_mfa WHERE user_id = p_user FOR UPDATE;
    IF v_m.user_id IS NULL OR v_m.secret_sealed IS NULL THEN
        RETURN 'mfa_not_enabled';
    END IF;
    IF p_step IS NOT NULL THEN
        UPDATE user_mfa SET last_step = p_step
         WHERE user_id = p_user AND last_step < p_step;
        RETURN CASE WHEN FOUND THEN 'ok' ELSE 'invalid_code' END;
    END IF;
    IF p_recovery_hash IS NULL THEN
        RETURN 'invalid_code';
    END IF;
    UPDATE mfa_recovery_codes SET used_at = now()
     WHERE user_id = p_user AND code_hash = decode(p_recovery_hash, 'hex')
       AND used_at IS NULL;
    IF NOT FOUND THEN
        RETURN 'invalid_code';
    END IF;
    SELECT count(*) INTO v_left FROM mfa_recovery_codes
     WHERE user_id = p_user AND used_at IS NULL;
    PERFORM audit_write('auth.mfa_recovery_used', p_user, 'user', p_user,
                        jsonb_build_object('remaining', v_left));
    RETURN 'ok';
END $$;

-- Replaces the user's recovery codes with p_hashes (hex).
CREATE FUNCTION lcrm_mfa_set_codes(p_user uuid, p_hashes text[])
RETURNS void LANGUAGE sql AS $$
    DELETE FROM mfa_recovery_codes WHERE user_id = p_user;
    INSERT INTO mfa_recovery_codes (user_id, code_hash)
    SELECT p_user, decode(h, 'hex') FROM unnest(p_hashes) AS h;
$$;

-- POST /auth/mfa/totp/setup after the password check: stores a pending
-- seed for 10 minutes.  'ok' or 'mfa_already_enabled'.
CREATE FUNCTION lcrm_mfa_setup(p_user uuid, p_sealed text, p_ttl_seconds integer)
RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO user_mfa (user_id) VALUES (p_user) ON CONFLICT DO NOTHING;
    UPDATE user_mfa SET pending_sealed = p_sealed,
           pending_expires_at = now() + make_interval(secs => p_ttl_seconds)
     WHERE user_id = p_user AND secret_sealed IS NULL;
    RETURN CASE WHEN FOUND THEN 'ok' ELSE 'mfa_already_enabled' END;
END $$;

-- POST /auth/mfa/totp/enable: p_step is the step of the code the module
-- accepted against the pending seed p_sealed (what it read before).
-- Outcomes: 'ok', 'mfa_already_enabled', 'mfa_setup_required' (no live
-- pending seed, or another setup replaced it), 'invalid_code' (replay).
CREATE FUNCTION lcrm_mfa_enable(p_user uuid, p_session uuid, p_sealed text,
                                p_step bigint, p_hashes text[])
RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    v_m user_mfa;
BEGIN
    SELECT * INTO v_m FROM user_mfa WHERE user_id = p_user FOR UPDATE;
    IF v_m.secret_sealed IS NOT NULL THEN
        RETURN 'mfa_already_enabled';
    END IF;
    IF v_m.pending_sealed IS DISTINCT FROM p_sealed
       OR v_m.pending_expires_at <= now() THEN
        RETURN 'mfa_setup_required';
    END IF;
    IF v_m.last_step >= p_step THEN
        RETURN 'invalid_code';
    END IF;
    UPDATE user_mfa SET secret_sealed = pending_sealed, pending_sealed = NULL,
           pending_expires_at = NULL, last_step = p_step, enabled_at = now()
     WHERE user_id = p_user;
    UPDATE users SET mfa_enabled = true WHERE id = p_user;
    PERFORM lcrm_mfa_set_codes(p_user, p_hashes);
    PERFORM lcrm_revoke_sessions(p_user, p_session, 'mfa_enabled');
    PERFORM audit_write('auth.mfa_enabled', p_user, 'user', p_user, NULL);
    RETURN 'ok';
END $$;

-- Turns MFA off: seed, pending seed and recovery codes gone (last_step
-- kept).  No check; callers decide.
CREATE FUNCTION lcrm_mfa_off(p_user uuid) RETURNS void
LANGUAGE sql AS $$
    UPDATE user_mfa SET secret_sealed = NULL, pending_sealed = NULL,
           pending_expires_at = NULL, enabled_at = NULL
     WHERE user_id = p_user;
    DELETE FROM mfa_recovery_codes WHERE user_id = p_user;
    -- "two-factor authentication was turned off", whoever turned it off
    -- (the user, an admin, leadcrm-admin), in the same transaction
    SELECT lcrm_mail_enqueue('mfa_disabled', u.email, u.id, NULL, false)
      FROM users u
     WHERE u.id = p_user AND u.mfa_enabled AND lcrm_mail_on();
    UPDATE users SET mfa_enabled = false WHERE id = p_user AND mfa_enabled;
$$;

-- POST /auth/mfa/totp/disable (p_hashes NULL) or
-- POST /auth/mfa/recovery-codes (p_hashes = the new codes), after the
-- password check and the module's code check.  'ok', 'invalid_code',
-- 'mfa_not_enabled'.
CREATE FUNCTION lcrm_mfa_change(p_user uuid, p_session uuid, p_step bigint,
                                p_recovery_hash text, p_hashes text[])
RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    v_outcome text := lcrm_mfa_consume(p_user, p_step, p_recovery_hash);
BEGIN
    IF v_outcome <> 'ok' THEN
        RETURN v_outcome;
    END IF;
    IF p_hashes IS NOT NULL THEN
        PERFORM lcrm_mfa_set_codes(p_user, p_hashes);
        RETURN 'ok';
    END IF;
    PERFORM lcrm_mfa_off(p_user);
    PERFORM lcrm_revoke_sessions(p_user, p_session, 'mfa_disabled');
    PERFORM audit_write('auth.mfa_disabled', p_user, 'user', p_user, NULL);
    RETURN 'ok';
END $$;

-- The live challenge of p_token_hash: user, sealed seed, method; no row
-- when unknown, used, expired or dead (5 failures).
CREATE FUNCTION lcrm_mfa_challenge_get(p_token_hash text)
RETURNS TABLE (user_id uuid, secret_sealed text)
LANGUAGE sql STABLE AS $$
    SELECT c.user_id, m.secret_sealed
      FROM mfa_challenges c JOIN user_mfa m ON m.user_id = c.user_id
     WHERE c.token_hash = decode(p_token_hash, 'hex') AND c.used_at IS NULL
       AND c.failures < 5 AND c.expires_at > now()
       AND m.secret_sealed IS NOT NULL;
$$;

-- A wrong code for a challenge: one failure more, audited.
CREATE FUNCTION lcrm_mfa_challenge_fail(p_token_hash text) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    v_user uuid;
BEGIN
    UPDATE mfa_challenges SET failures = failures + 1
     WHERE token_hash = decode(p_token_hash, 'hex') AND used_at IS NULL
    RETURNING user_id INTO v_user;
    IF v_user IS NOT NULL THEN
        PERFORM audit_write('auth.login_failed', v_user, 'user', v_user,
                            jsonb_build_object('step', 'mfa'));
    END IF;
END $$;

-- POST /auth/mfa/verify with a code the module accepted (p_step) or a
-- recovery code (p_recovery_hash): uses the challenge and the factor, then
-- completes the login as lcrm_login does (lastLoginAt, session, the
-- auth.login entry).  outcome 'ok', or 'invalid_code' (challenge gone,
-- factor replayed or used: counted as a failure) with no other column.
CREATE FUNCTION lcrm_mfa_login(p_token_hash text, p_step bigint,
                               p_recovery_hash text, p_refresh_hash text,
                               p_ttl_seconds integer, p_user_agent text,
                               p_client_ip text)
RETURNS TABLE (outcome text, user_json json, user_id uuid, session_id uuid,
               role text)
LANGUAGE plpgsql AS $$
DECLARE
    v_c mfa_challenges;
BEGIN
    SELECT * INTO v_c FROM mfa_challenges c
     WHERE c.token_hash = decode(p_token_hash, 'hex') FOR UPDATE;
    IF v_c.id IS NULL OR v_c.used_at IS NOT NULL OR v_c.failures >= 5
       OR v_c.expires_at <= now() THEN
        RETURN QUERY SELECT 'invalid_code'::text, NULL::json, NULL::uuid,
                            NULL::uuid, NULL::text;
        RETURN;
    END IF;
    IF lcrm_mfa_consume(v_c.user_id, p_step, p_recovery_hash) <> 'ok' THEN
        PERFORM lcrm_mfa_challenge_fail(p_token_hash);
        RETURN QUERY SELECT 'invalid_code'::text, NULL::json, v_c.user_id,
                            NULL::uuid, NULL::text;
        RETURN;
    END IF;
    UPDATE mfa_challenges SET used_at = now() WHERE id = v_c.id;
    PERFORM set_config('lcrm.audit_ctx', (coalesce(lcrm_actx_get(), '{}')
        || jsonb_build_object('method', v_c.method))::text, true);
    RETURN QUERY SELECT 'ok'::text, l.* FROM lcrm_login(v_c.user_id,
        p_refresh_hash, p_ttl_seconds, p_user_agent, p_client_ip) l;
END $$;

-- ---------------------------------------------------------------- sessions

-- Refresh (0003's lcrm_refresh, unchanged) plus what API.md "Sessions"
-- shows: the client of the last refresh and its time.
CREATE FUNCTION lcrm_refresh_seen(p_token_hash text, p_new_hash text,
                                  p_grace_ms integer, p_user_agent text,
                                  p_client_ip text)
RETURNS TABLE (outcome text, user_id uuid, session_id uuid, role text)
LANGUAGE plpgsql AS $$
DECLARE
    v record;
BEGIN
    SELECT * INTO v FROM lcrm_refresh(p_token_hash, p_new_hash, p_grace_ms);
    IF v.outcome IN ('rotated', 'grace') THEN
        UPDATE sessions SET user_agent = left(p_user_agent, 512),
               client_ip = left(p_client_ip, 64), last_used_at = now()
         WHERE id = v.session_id;
    END IF;
    RETURN QUERY SELECT v.outcome, v.user_id, v.session_id, v.role;
END $$;

-- {"data": [...]} of a user's live sessions, newest first.
CREATE FUNCTION lcrm_sessions_json(p_user uuid, p_current uuid) RETURNS json
LANGUAGE sql STABLE AS $$
    SELECT json_build_object('data', coalesce(json_agg(json_build_object(
            'id', s.id, 'createdAt', lcrm_ts(s.created_at),
            'lastUsedAt', lcrm_ts(s.last_used_at),
            'expiresAt', lcrm_ts(s.expires_at), 'userAgent', s.user_agent,
            'ipAddress', s.client_ip,
            'current', coalesce(s.id = p_current, false)
           ) ORDER BY s.created_at DESC, s.id DESC), '[]'::json))
      FROM sessions s
     WHERE s.user_id = p_user AND s.revoked_at IS NULL
       AND s.expires_at > now();
$$;

-- DELETE /auth/sessions/:id: the caller's own live session, else no row.
CREATE FUNCTION lcrm_session_revoke(p_user uuid, p_session uuid)
RETURNS SETOF uuid LANGUAGE sql AS $$
    UPDATE sessions SET revoked_at = now(), revoked_reason = 'revoked'
     WHERE id = p_session AND user_id = p_user AND revoked_at IS NULL
       AND expires_at > now()
    RETURNING id;
$$;

-- The admin rule of API.md part 2 for /api/users/:id/{sessions,mfa}: role
-- and hierarchy first ('forbidden', never one's own id), then existence
-- ('not_found'), else 'ok'.
CREATE FUNCTION lcrm_user_admin_check(p_actor uuid, p_target uuid)
RETURNS text LANGUAGE plpgsql STABLE AS $$
DECLARE
    v_actor_role lcrm_role := lcrm_user_live_role(p_actor);
    v_target_role lcrm_role;
BEGIN
    IF v_actor_role IS NULL OR v_actor_role = 'USER' OR p_actor = p_target THEN
        RETURN 'forbidden';
    END IF;
    SELECT role INTO v_target_role FROM users
     WHERE id = p_target AND deleted_at IS NULL;
    IF NOT FOUND THEN
        RETURN 'not_found';
    END IF;
    RETURN CASE WHEN lcrm_user_manages(v_actor_role, v_target_role)
                THEN 'ok' ELSE 'forbidden' END;
END $$;

-- DELETE /api/users/:id/sessions.  Outcome of the admin check, or 'ok'.
CREATE FUNCTION lcrm_user_sessions_revoke(p_actor uuid, p_target uuid)
RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    v_outcome text := lcrm_user_admin_check(p_actor, p_target);
    v_n integer;
BEGIN
    IF v_outcome <> 'ok' THEN
        RETURN v_outcome;
    END IF;
    v_n := lcrm_revoke_sessions(p_target, NULL, 'admin');
    PERFORM audit_write('user.sessions_revoked', p_actor, 'user', p_target,
                        jsonb_build_object('sessions', v_n));
    RETURN 'ok';
END $$;

-- ---------------------------------------------------------------- API keys

CREATE TABLE api_keys (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id       uuid NOT NULL REFERENCES users (id),
    name          text NOT NULL,
    prefix        text NOT NULL,
    key_hash      bytea NOT NULL UNIQUE,   -- SHA-256 of the whole key
    scopes        text[] NOT NULL,
    expires_at    timestamptz(3) NOT NULL,
    last_used_at  timestamptz(3),
    created_at    timestamptz(3) NOT NULL DEFAULT now(),
    revoked_at    timestamptz(3),

    CONSTRAINT api_keys_name_check CHECK (char_length(name) BETWEEN 1 AND 100),
    CONSTRAINT api_keys_prefix_check CHECK (prefix ~ '^lcrm_[A-Za-z0-9]{7}$'),
    CONSTRAINT api_keys_hash_check CHECK (octet_length(key_hash) = 32)
);
CREATE INDEX api_keys_user_idx
    ON api_keys (user_id, created_at DESC, id DESC) WHERE revoked_at IS NULL;
CREATE INDEX api_keys_created_idx
    ON api_keys (created_at DESC, id DESC) WHERE revoked_at IS NULL;

CREATE FUNCTION lcrm_apikey_json(k api_keys) RETURNS json
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT json_build_object(
        'id', k.id, 'name', k.name, 'prefix', k.prefix,
        'scopes', to_json(k.scopes), 'expiresAt', lcrm_ts(k.expires_at),
        'lastUsedAt', lcrm_ts(k.last_used_at),
        'createdAt', lcrm_ts(k.created_at))
$$;

CREATE FUNCTION lcrm_apikey_create(p_user uuid, p_name text, p_prefix text,
                                   p_hash text, p_scopes text[],
                                   p_expires_at timestamptz)
RETURNS json LANGUAGE plpgsql AS $$
DECLARE
    v_k api_keys;
BEGIN
    INSERT INTO api_keys (user_id, name, prefix, key_hash, scopes, expires_at)
    VALUES (p_user, p_name, p_prefix, decode(p_hash, 'hex'), p_scopes,
            p_expires_at)
    RETURNING * INTO v_k;
    PERFORM audit_write('apikey.created', p_user, 'apikey', v_k.id,
        jsonb_build_object('name', p_name, 'scopes', to_jsonb(p_scopes)));
    RETURN lcrm_apikey_json(v_k);
END $$;

-- DELETE /api/keys/:id: the caller's own live key, or any for p_any.
CREATE FUNCTION lcrm_apikey_revoke(p_actor uuid, p_key uuid, p_any boolean)
RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
    v_owner uuid;
BEGIN
    UPDATE api_keys SET revoked_at = now()
     WHERE id = p_key AND revoked_at IS NULL
       AND (p_any OR user_id = p_actor)
    RETURNING user_id INTO v_owner;
    IF v_owner IS NULL THEN
        RETURN false;
    END IF;
    PERFORM audit_write('apikey.revoked', p_actor, 'apikey', p_key,
                        jsonb_build_object('ownerId', v_owner));
    RETURN true;
END $$;

-- Every live key of a user (password reset, admin MFA reset, CLI).
CREATE FUNCTION lcrm_apikeys_revoke_all(p_user uuid) RETURNS integer
LANGUAGE sql AS $$
    WITH r AS (UPDATE api_keys SET revoked_at = now()
                WHERE user_id = p_user AND revoked_at IS NULL RETURNING 1)
    SELECT count(*)::integer FROM r;
$$;

-- DELETE /api/users/:id/mfa: outcome of the admin check, 'mfa_not_enabled'
-- or 'ok' (MFA off, codes deleted, sessions and keys revoked, audited).
-- The "two-factor authentication was turned off" mail joins this
-- transaction once the outbox exists (see the report of this change).
CREATE FUNCTION lcrm_user_mfa_reset(p_actor uuid, p_target uuid)
RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    v_outcome text := lcrm_user_admin_check(p_actor, p_target);
BEGIN
    IF v_outcome <> 'ok' THEN
        RETURN v_outcome;
    END IF;
    IF NOT (SELECT mfa_enabled FROM users WHERE id = p_target) THEN
        RETURN 'mfa_not_enabled';
    END IF;
    PERFORM lcrm_mfa_off(p_target);
    PERFORM lcrm_revoke_sessions(p_target, NULL, 'mfa_reset');
    PERFORM lcrm_apikeys_revoke_all(p_target);
    PERFORM audit_write('user.mfa_reset', p_actor, 'user', p_target, NULL);
    RETURN 'ok';
END $$;
