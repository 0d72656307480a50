-- 0003_auth: login sessions and refresh-token rotation as database
-- functions, so that each auth request is one round trip and every
-- multi-row change is one transaction.  The module passes token hashes
-- (SHA-256, hex) only; tokens themselves never reach the database.

-- Creates a session and its first refresh token; returns the session id.
CREATE FUNCTION lcrm_session_open(p_user uuid, p_token_hash text,
                                  p_ttl_seconds integer, p_user_agent text,
                                  p_client_ip text)
RETURNS uuid LANGUAGE plpgsql AS $$
DECLARE
    v_session uuid;
BEGIN
    INSERT INTO sessions (user_id, expires_at, user_agent, client_ip)
    VALUES (p_user, now() + make_interval(secs => p_ttl_seconds),
            left(p_user_agent, 512), left(p_client_ip, 64))
    RETURNING id INTO v_session;
    INSERT INTO refresh_tokens (session_id, token_hash)
    VALUES (v_session, decode(p_token_hash, 'hex'));
    RETURN v_session;
END $$;

-- Registration: the user and the first session, or 'email_taken'.
CREATE FUNCTION lcrm_register(p_email text, p_password_hash text, p_name text,
                              p_company text, p_phone text, p_job_title text,
                              p_token_hash text, p_ttl_seconds integer,
                              p_user_agent text, p_client_ip text)
RETURNS TABLE (outcome text, user_json json, user_id uuid, session_id uuid,
               role text)
LANGUAGE plpgsql AS $$
DECLARE
    v_user users;
BEGIN
    INSERT INTO users (email, password_hash, name, company, phone, job_title,
                       last_login_at)
    VALUES (p_email, p_password_hash, p_name, p_company, p_phone, p_job_title,
            now())
    ON CONFLICT ((lower(email))) WHERE deleted_at IS NULL DO NOTHING
    RETURNING * INTO v_user;
    IF v_user.id IS NULL THEN
        RETURN QUERY SELECT 'email_taken'::text, NULL::json, NULL::uuid,
                            NULL::uuid, NULL::text;
        RETURN;
    END IF;
    RETURN QUERY SELECT 'ok'::text, lcrm_user_json(v_user), v_user.id,
        lcrm_session_open(v_user.id, p_token_hash, p_ttl_seconds,
                          p_user_agent, p_client_ip),
        v_user.role::text;
END $$;

-- After a successful password check: open a session if the user is still
-- live and active.  No row when it is not.
CREATE FUNCTION lcrm_login(p_user uuid, p_token_hash text,
                           p_ttl_seconds integer, p_user_agent text,
                           p_client_ip text)
RETURNS TABLE (user_json json, user_id uuid, session_id uuid, role text)
LANGUAGE plpgsql AS $$
DECLARE
    v_user users;
BEGIN
    UPDATE users SET last_login_at = now()
     WHERE id = p_user AND deleted_at IS NULL AND is_active
    RETURNING * INTO v_user;
    IF v_user.id IS NULL THEN
        RETURN;
    END IF;
    RETURN QUERY SELECT lcrm_user_json(v_user), v_user.id,
        lcrm_session_open(v_user.id, p_token_hash, p_ttl_seconds,
                          p_user_agent, p_client_ip),
        v_user.role::text;
END $$;

-- Refresh-token rotation.  Outcomes:
--   'rotated' the live token was exchanged for p_new_hash
--   'grace'   the immediately previous token, within p_grace_ms of its
--             rotation: a new access token, no new refresh token
--   'reused'  any other already-rotated token: the session is revoked
--   'invalid' unknown token, revoked or expired session, inactive user
-- The session row lock serialises concurrent refreshes of one family, and
-- refresh_tokens_one_live guarantees one live token per session.
CREATE FUNCTION lcrm_refresh(p_token_hash text, p_new_hash text,
                             p_grace_ms integer)
RETURNS TABLE (outcome text, user_id uuid, session_id uuid, role text)
LANGUAGE plpgsql AS $$
DECLARE
    v_hash bytea := decode(p_token_hash, 'hex');
    v_session uuid;
    v_token refresh_tokens;
    v_live uuid;
    v_user users;
    v_s sessions;
BEGIN
    SELECT t.session_id INTO v_session FROM refresh_tokens t
     WHERE t.token_hash = v_hash;
    IF v_session IS NULL THEN
        RETURN QUERY SELECT 'invalid'::text, NULL::uuid, NULL::uuid, NULL::text;
        RETURN;
    END IF;
    SELECT * INTO v_s FROM sessions s WHERE s.id = v_session FOR UPDATE;
    -- a new statement after the lock sees any rotation committed meanwhile
    SELECT * INTO v_token FROM refresh_tokens t WHERE t.token_hash = v_hash;
    SELECT * INTO v_user FROM users u WHERE u.id = v_s.user_id;
    IF v_s.revoked_at IS NOT NULL OR v_s.expires_at <= now()
       OR v_user.deleted_at IS NOT NULL OR NOT v_user.is_active THEN
        RETURN QUERY SELECT 'invalid'::text, NULL::uuid, NULL::uuid, NULL::text;
        RETURN;
    END IF;
    IF v_token.replaced_at IS NULL THEN
        UPDATE refresh_tokens SET replaced_at = now() WHERE id = v_token.id;
        INSERT INTO refresh_tokens (session_id, token_hash)
        VALUES (v_session, decode(p_new_hash, 'hex')) RETURNING id INTO v_live;
        UPDATE refresh_tokens SET replaced_by = v_live WHERE id = v_token.id;
        UPDATE sessions SET last_used_at = now() WHERE id = v_session;
        RETURN QUERY SELECT 'rotated'::text, v_user.id, v_session,
                            v_user.role::text;
        RETURN;
    END IF;
    SELECT t.id INTO v_live FROM refresh_tokens t
     WHERE t.session_id = v_session AND t.replaced_at IS NULL;
    IF p_grace_ms > 0 AND v_token.replaced_by = v_live
       AND now() - v_token.replaced_at <= make_interval(secs => p_grace_ms / 1000.0) THEN
        RETURN QUERY SELECT 'grace'::text, v_user.id, v_session,
                            v_user.role::text;
        RETURN;
    END IF;
    UPDATE sessions SET revoked_at = now(), revoked_reason = 'reuse'
     WHERE id = v_session;
    RETURN QUERY SELECT 'reused'::text, v_user.id, v_session, NULL::text;
END $$;

-- Logout: revokes the session the presented token belongs to (any token of
-- the family).  Returns the session's user, or no row.
CREATE FUNCTION lcrm_logout(p_token_hash text)
RETURNS TABLE (user_id uuid, session_id uuid)
LANGUAGE sql AS $$
    UPDATE sessions s SET revoked_at = now(), revoked_reason = 'logout'
      FROM refresh_tokens t
     WHERE t.token_hash = decode(p_token_hash, 'hex')
       AND s.id = t.session_id AND s.revoked_at IS NULL
    RETURNING s.user_id, s.id;
$$;

-- Revokes every live session of a user except p_keep (may be NULL).
CREATE FUNCTION lcrm_revoke_sessions(p_user uuid, p_keep uuid, p_reason text)
RETURNS integer LANGUAGE sql AS $$
    WITH r AS (
        UPDATE sessions SET revoked_at = now(), revoked_reason = p_reason
         WHERE user_id = p_user AND revoked_at IS NULL
           AND (p_keep IS NULL OR id <> p_keep)
        RETURNING 1)
    SELECT count(*)::integer FROM r;
$$;
