-- 0004_users: user administration (API.md "Users") as database functions.
--
-- Each change is one call, one transaction.  Every function that can
-- demote, deactivate or delete a user first takes the transaction-level
-- advisory lock lcrm_user_admin_lock(), so such changes run one at a time;
-- after the lock each statement sees every change committed before it
-- (READ COMMITTED), so "is this the last active SUPER_ADMIN?" and "what is
-- the actor's role now?" are answered on current data.  Two SUPER_ADMINs
-- demoting each other concurrently: the second finds its actor demoted.
--
-- Outcomes (text): 'ok', 'not_found' (no live target), 'forbidden'
-- (hierarchy or self rule), 'last_super_admin', 'email_taken'.
-- The C code maps them to HTTP answers; nothing here raises for a
-- business rule.

-- The key of the advisory lock: ('lcrm', 'usra').
CREATE FUNCTION lcrm_user_admin_lock() RETURNS void
LANGUAGE sql AS $$
    SELECT pg_advisory_xact_lock(1818456685, 1970500193);
$$;

-- The live, active role of a user, or NULL (deleted, deactivated, unknown).
CREATE FUNCTION lcrm_user_live_role(p_user uuid) RETURNS lcrm_role
LANGUAGE sql STABLE AS $$
    SELECT role FROM users
     WHERE id = p_user AND deleted_at IS NULL AND is_active;
$$;

-- May actor (role p_actor_role) manage a user of role p_target_role?
-- ADMIN manages USERs only; SUPER_ADMIN manages everyone.
CREATE FUNCTION lcrm_user_manages(p_actor_role lcrm_role,
                                  p_target_role lcrm_role)
RETURNS boolean LANGUAGE sql IMMUTABLE AS $$
    SELECT p_actor_role = 'SUPER_ADMIN'
        OR (p_actor_role = 'ADMIN' AND p_target_role = 'USER');
$$;

-- True when p_user is the only live, active SUPER_ADMIN.  Call with the
-- admin lock held.
CREATE FUNCTION lcrm_user_is_last_super_admin(p_user uuid) RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT EXISTS (SELECT 1 FROM users
                    WHERE id = p_user AND role = 'SUPER_ADMIN'
                      AND is_active AND deleted_at IS NULL)
       AND (SELECT count(*) FROM users
             WHERE role = 'SUPER_ADMIN' AND is_active
               AND deleted_at IS NULL) = 1;
$$;

-- The hierarchy rules of an update, evaluated before anything changes.
-- p_role / p_active are NULL when not sent.
CREATE FUNCTION lcrm_user_update_check(p_actor uuid, p_actor_role lcrm_role,
                                       p_target users, p_role lcrm_role,
                                       p_active boolean)
RETURNS text LANGUAGE plpgsql STABLE AS $$
DECLARE
    v_self boolean := p_actor = p_target.id;
    v_demote boolean := p_role IS NOT NULL AND p_role < p_target.role;
    v_deactivate boolean := p_active IS NOT NULL AND NOT p_active
                            AND p_target.is_active;
BEGIN
    IF p_actor_role IS NULL OR p_actor_role = 'USER' THEN
        RETURN 'forbidden';
    END IF;
    -- oneself: profile fields and email, never a lower role or lockout
    IF v_self AND (v_demote OR v_deactivate) THEN
        RETURN 'forbidden';
    END IF;
    IF NOT v_self AND NOT lcrm_user_manages(p_actor_role, p_target.role) THEN
        RETURN 'forbidden';
    END IF;
    -- granting: an ADMIN can give no role above USER (not even its own)
    IF p_role IS NOT NULL AND p_role <> p_target.role
       AND NOT (p_actor_role = 'SUPER_ADMIN' OR p_role = 'USER') THEN
        RETURN 'forbidden';
    END IF;
    IF (v_demote OR v_deactivate)
       AND lcrm_user_is_last_super_admin(p_target.id) THEN
        RETURN 'last_super_admin';
    END IF;
    RETURN 'ok';
END $$;

-- PUT|PATCH /api/users/:id.  Each p_has_* says whether the field was sent;
-- only sent fields change.  p_email is already trimmed and lowercased.
CREATE FUNCTION lcrm_user_update(
    p_actor uuid, p_target uuid,
    p_has_name boolean, p_name text,
    p_has_company boolean, p_company text,
    p_has_phone boolean, p_phone text,
    p_has_job_title boolean, p_job_title text,
    p_has_bio boolean, p_bio text,
    p_has_role boolean, p_role lcrm_role,
    p_has_active boolean, p_active boolean,
    p_has_email boolean, p_email text)
RETURNS TABLE (outcome text, user_json json)
LANGUAGE plpgsql AS $$
DECLARE
    v_target users;
    v_outcome text;
BEGIN
    PERFORM lcrm_user_admin_lock();
    SELECT * INTO v_target FROM users
     WHERE id = p_target AND deleted_at IS NULL FOR UPDATE;
    IF v_target.id IS NULL THEN
        RETURN QUERY SELECT 'not_found'::text, NULL::json;
        RETURN;
    END IF;
    v_outcome := lcrm_user_update_check(p_actor, lcrm_user_live_role(p_actor),
        v_target, CASE WHEN p_has_role THEN p_role END,
        CASE WHEN p_has_active THEN p_active END);
    IF v_outcome = 'ok' AND p_has_email AND EXISTS (
           SELECT 1 FROM users WHERE lower(email) = lower(p_email)
              AND deleted_at IS NULL AND id <> p_target) THEN
        v_outcome := 'email_taken';
    END IF;
    IF v_outcome <> 'ok' THEN
        RETURN QUERY SELECT v_outcome, NULL::json;
        RETURN;
    END IF;
    BEGIN
        UPDATE users SET
            name = CASE WHEN p_has_name THEN p_name ELSE name END,
            company = CASE WHEN p_has_company THEN p_company ELSE company END,
            phone = CASE WHEN p_has_phone THEN p_phone ELSE phone END,
            job_title = CASE WHEN p_has_job_title THEN p_job_title
                             ELSE job_title END,
            bio = CASE WHEN p_has_bio THEN p_bio ELSE bio END,
            role = CASE WHEN p_has_role THEN p_role ELSE role END,
            is_active = CASE WHEN p_has_active THEN p_active ELSE is_active END,
            email = CASE WHEN p_has_email THEN p_email ELSE email END
         WHERE id = p_target
        RETURNING * INTO v_target;
    EXCEPTION WHEN unique_violation THEN
        -- a registration took the email after the check above
        RETURN QUERY SELECT 'email_taken'::text, NULL::json;
        RETURN;
    END;
    IF NOT v_target.is_active THEN
        PERFORM lcrm_revoke_sessions(p_target, NULL, 'user_deactivated');
    END IF;
    RETURN QUERY SELECT 'ok'::text, lcrm_user_json(v_target);
END $$;

-- DELETE /api/users/:id: soft delete, all sessions revoked.  The email is
-- free again because users_email_live_key covers live rows only.
CREATE FUNCTION lcrm_user_delete(p_actor uuid, p_target uuid)
RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    v_target users;
    v_actor_role lcrm_role;
BEGIN
    PERFORM lcrm_user_admin_lock();
    SELECT * INTO v_target FROM users
     WHERE id = p_target AND deleted_at IS NULL FOR UPDATE;
    IF v_target.id IS NULL THEN
        RETURN 'not_found';
    END IF;
    v_actor_role := lcrm_user_live_role(p_actor);
    IF p_actor = p_target OR v_actor_role IS NULL
       OR NOT lcrm_user_manages(v_actor_role, v_target.role) THEN
        RETURN 'forbidden';
    END IF;
    IF lcrm_user_is_last_super_admin(p_target) THEN
        RETURN 'last_super_admin';
    END IF;
    UPDATE users SET deleted_at = now() WHERE id = p_target;
    PERFORM lcrm_revoke_sessions(p_target, NULL, 'user_deleted');
    RETURN 'ok';
END $$;

-- POST /api/users/:id/change-password, after the C code checked the
-- current password (self) and hashed the new one.  Self: every session but
-- p_keep_session is revoked; an admin for a user below its role: all of
-- them.  Returns 'ok', 'not_found' or 'forbidden'.
CREATE FUNCTION lcrm_user_set_password(p_actor uuid, p_keep_session uuid,
                                       p_target uuid, p_hash text)
RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    v_target users;
    v_actor_role lcrm_role;
BEGIN
    PERFORM lcrm_user_admin_lock();
    SELECT * INTO v_target FROM users
     WHERE id = p_target AND deleted_at IS NULL FOR UPDATE;
    IF v_target.id IS NULL THEN
        RETURN 'not_found';
    END IF;
    v_actor_role := lcrm_user_live_role(p_actor);
    IF v_actor_role IS NULL
       OR (p_actor <> p_target AND v_actor_role <= v_target.role) THEN
        RETURN 'forbidden';
    END IF;
    UPDATE users SET password_hash = p_hash WHERE id = p_target;
    PERFORM lcrm_revoke_sessions(p_target,
        CASE WHEN p_actor = p_target THEN p_keep_session END,
        'password_change');
    RETURN 'ok';
END $$;
