-- 0023_admin_cli: leadcrm-admin's account-security commands for
-- locked-out operators (disable-mfa, revoke-sessions, revoke-key), one
-- call each.  Returns 'ok: <what was done>' or the reason nothing was
-- done; every change is audited with no actor and details.via = 'cli'.
CREATE FUNCTION lcrm_cli_security(p_command text, p_email text, p_key uuid)
RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    v_user users;
    v_n integer;
BEGIN
    IF p_command = 'revoke-key' THEN
        UPDATE api_keys SET revoked_at = now()
         WHERE id = p_key AND revoked_at IS NULL RETURNING user_id INTO v_user.id;
        IF v_user.id IS NULL THEN
            RETURN 'no live API key with that id';
        END IF;
        PERFORM audit_write('apikey.revoked', NULL, 'apikey', p_key,
            jsonb_build_object('ownerId', v_user.id, 'via', 'cli'));
        RETURN 'ok: API key revoked';
    END IF;
    SELECT * INTO v_user FROM users
     WHERE lower(email) = lower(p_email) AND deleted_at IS NULL FOR UPDATE;
    IF v_user.id IS NULL THEN
        RETURN 'no live user with that email';
    END IF;
    IF p_command = 'disable-mfa' THEN
        IF NOT v_user.mfa_enabled THEN
            RETURN 'two-factor authentication is already off';
        END IF;
        PERFORM lcrm_mfa_off(v_user.id);
        v_n := lcrm_revoke_sessions(v_user.id, NULL, 'mfa_reset');
        PERFORM audit_write('user.mfa_reset', NULL, 'user', v_user.id,
                            jsonb_build_object('via', 'cli'));
        RETURN format('ok: two-factor authentication off, %s sessions revoked', v_n);
    END IF;
    IF p_command = 'revoke-sessions' THEN
        v_n := lcrm_revoke_sessions(v_user.id, NULL, 'admin');
        PERFORM audit_write('user.sessions_revoked', NULL, 'user', v_user.id,
                            jsonb_build_object('sessions', v_n, 'via', 'cli'));
        RETURN format('ok: %s sessions revoked', v_n);
    END IF;
    RETURN 'unknown command';
END $$;
