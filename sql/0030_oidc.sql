-- 0030_oidc: sign-in with an OpenID Connect provider (API.md part 2,
-- "Sign in with an OpenID Connect provider").  mod_auth_openidc runs the
-- flow; the leadcrm-oidc handler hands the verified claims to
-- lcrm_oidc_signin, which finds, links or provisions the account and opens
-- the session in one transaction.
--
-- Extension points for the lead (other helpers' work, not on this branch):
--  * lcrm_oidc_mfa_required(user): today always false; MFA replaces its
--    body with the user's MFA flag (then the C handler asks for an mfaToken).
--  * lcrm_oidc_record_link(...): today only inserts the link; the audit log
--    (identity.linked) and the outbox ("a sign-in method was added",
--    kind identity_linked) add their INSERTs here, in the same transaction.
--  * lcrm_oidc_record_unlink(...): today only deletes the link; the audit
--    log adds identity.unlinked here.

-- Accounts created through a provider have no password (NULL).  The C
-- code treats NULL like any non-bcrypt value: no password ever verifies.
ALTER TABLE users ALTER COLUMN password_hash DROP NOT NULL;

-- One row per provider identity (issuer + subject) linked to an account.
CREATE TABLE user_identities (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    issuer      text NOT NULL,
    subject     text NOT NULL,
    email       text,               -- the provider's email at link time
    created_at  timestamptz(3) NOT NULL DEFAULT now(),

    CONSTRAINT user_identities_issuer_subject_key UNIQUE (issuer, subject),
    CONSTRAINT user_identities_issuer_check
        CHECK (char_length(issuer) BETWEEN 1 AND 2048),
    CONSTRAINT user_identities_subject_check
        CHECK (char_length(subject) BETWEEN 1 AND 255),
    CONSTRAINT user_identities_email_check CHECK (char_length(email) <= 254)
);
CREATE INDEX user_identities_user_idx
    ON user_identities (user_id, created_at);

-- A deleted user's links are removed (whichever code path deletes it), so
-- the provider identity can never sign in to anything again through them.
CREATE FUNCTION lcrm_identities_drop_deleted() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM user_identities WHERE user_id = NEW.id;
    RETURN NEW;
END $$;

CREATE TRIGGER users_drop_identities
    AFTER UPDATE OF deleted_at ON users
    FOR EACH ROW WHEN (NEW.deleted_at IS NOT NULL AND OLD.deleted_at IS NULL)
    EXECUTE FUNCTION lcrm_identities_drop_deleted();

CREATE FUNCTION lcrm_identity_json(i user_identities) RETURNS json
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT json_build_object(
        'id',        i.id,
        'issuer',    i.issuer,
        'subject',   i.subject,
        'email',     i.email,
        'createdAt', lcrm_ts(i.created_at))
$$;

-- MFA hook (see the top of this file): true when the sign-in must go
-- through /auth/mfa/verify instead of getting a session.
CREATE FUNCTION lcrm_oidc_mfa_required(p_user uuid) RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT coalesce((SELECT mfa_enabled FROM users WHERE id = p_user), false)
$$;

-- The audit context of a sign-in (the request runs without a caller).
CREATE FUNCTION lcrm_oidc_actx(p_user uuid, p_client_ip text,
                               p_request_id text) RETURNS void
LANGUAGE sql AS $$
    SELECT lcrm_actx(jsonb_build_object('actor', p_user, 'ip', p_client_ip,
                                        'requestId', p_request_id)::text,
                     NULL)
$$;

-- Records a new link; returns its id (NULL when (issuer, subject) was
-- linked meanwhile).  Audit and mail hook (see the top of this file).
CREATE FUNCTION lcrm_oidc_record_link(p_user uuid, p_issuer text,
                                      p_subject text, p_email text,
                                      p_client_ip text, p_request_id text)
RETURNS uuid LANGUAGE plpgsql AS $$
DECLARE
    v_id uuid;
BEGIN
    INSERT INTO user_identities (user_id, issuer, subject, email)
    VALUES (p_user, p_issuer, p_subject, p_email)
    ON CONFLICT (issuer, subject) DO NOTHING
    RETURNING id INTO v_id;
    IF v_id IS NOT NULL THEN
        -- audited and mailed to the account in the same transaction
        PERFORM lcrm_oidc_actx(p_user, p_client_ip, p_request_id);
        PERFORM audit_write('identity.linked', p_user, 'user', p_user,
                            jsonb_build_object('identityId', v_id,
                                               'issuer', p_issuer));
        IF lcrm_mail_on() THEN
            PERFORM lcrm_mail_enqueue('identity_linked',
                                      (SELECT email FROM users
                                        WHERE id = p_user),
                                      p_user, jsonb_build_object(), false);
        END IF;
    END IF;
    RETURN v_id;
END $$;

-- Removes a link of p_user.  Audit hook (see the top of this file).
CREATE FUNCTION lcrm_oidc_record_unlink(p_user uuid, p_identity uuid,
                                        p_client_ip text, p_request_id text)
RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM user_identities WHERE id = p_identity AND user_id = p_user;
    IF NOT FOUND THEN
        RETURN false;
    END IF;
    PERFORM lcrm_oidc_actx(p_user, p_client_ip, p_request_id);
    PERFORM audit_write('identity.unlinked', p_user, 'user', p_user,
                        jsonb_build_object('identityId', p_identity));
    RETURN true;
END $$;

-- GET /auth/oidc/login after mod_auth_openidc authenticated the request.
-- p_email is already validated and lowercased (NULL when the provider sent
-- none or an unusable one); p_name is the display name to provision with.
-- Outcomes: 'ok' (session opened), 'mfa' (second factor needed, no
-- session), 'oidc_not_provisioned', 'identity_link_required',
-- 'account_disabled', 'email_not_verified' (p_require_verified: the
-- account's email is still unverified after the provider's word).  linked is true when this sign-in created the link.
CREATE FUNCTION lcrm_oidc_signin(p_issuer text, p_subject text,
                                 p_email text, p_email_verified boolean,
                                 p_name text, p_link_by_email boolean,
                                 p_provision boolean,
                                 p_require_verified boolean, p_token_hash text,
                                 p_ttl_seconds integer, p_user_agent text,
                                 p_client_ip text, p_request_id text)
RETURNS TABLE (outcome text, user_id uuid, session_id uuid, role text,
               linked boolean)
LANGUAGE plpgsql AS $$
DECLARE
    v_user users;
    v_linked boolean := false;
BEGIN
    SELECT u.* INTO v_user FROM user_identities i
      JOIN users u ON u.id = i.user_id
     WHERE i.issuer = p_issuer AND i.subject = p_subject
       AND u.deleted_at IS NULL
       FOR UPDATE OF u;
    IF v_user.id IS NULL THEN
        IF p_email IS NULL THEN
            RETURN QUERY SELECT 'oidc_not_provisioned'::text, NULL::uuid,
                                NULL::uuid, NULL::text, false;
            RETURN;
        END IF;
        SELECT * INTO v_user FROM users u
         WHERE lower(u.email) = lower(p_email) AND u.deleted_at IS NULL
           FOR UPDATE;
        IF v_user.id IS NOT NULL THEN
            -- both sides vouch for the address, and never an admin account
            IF NOT (p_link_by_email AND p_email_verified
                    AND v_user.email_verified AND v_user.role = 'USER') THEN
                RETURN QUERY SELECT 'identity_link_required'::text, NULL::uuid,
                                    NULL::uuid, NULL::text, false;
                RETURN;
            END IF;
        ELSIF p_provision THEN
            INSERT INTO users (email, password_hash, name, email_verified)
            VALUES (p_email, NULL, p_name, coalesce(p_email_verified, false))
            ON CONFLICT ((lower(email))) WHERE deleted_at IS NULL DO NOTHING
            RETURNING * INTO v_user;
            IF v_user.id IS NULL THEN   -- registered concurrently
                RETURN QUERY SELECT 'identity_link_required'::text,
                                    NULL::uuid, NULL::uuid, NULL::text, false;
                RETURN;
            END IF;
        ELSE
            RETURN QUERY SELECT 'oidc_not_provisioned'::text, NULL::uuid,
                                NULL::uuid, NULL::text, false;
            RETURN;
        END IF;
        IF v_user.is_active THEN
            IF lcrm_oidc_record_link(v_user.id, p_issuer, p_subject, p_email,
                                     p_client_ip, p_request_id) IS NULL THEN
                -- the same identity was linked concurrently: sign in again
                RETURN QUERY SELECT 'identity_link_required'::text,
                                    NULL::uuid, NULL::uuid, NULL::text, false;
                RETURN;
            END IF;
            v_linked := true;
        END IF;
    END IF;
    IF NOT v_user.is_active THEN
        RETURN QUERY SELECT 'account_disabled'::text, NULL::uuid, NULL::uuid,
                            NULL::text, false;
        RETURN;
    END IF;
    -- the provider vouches for the account's own address
    IF p_email_verified AND NOT v_user.email_verified
       AND lower(v_user.email) = lower(p_email) THEN
        UPDATE users SET email_verified = true WHERE id = v_user.id;
        v_user.email_verified := true;
    END IF;
    IF p_require_verified AND NOT v_user.email_verified THEN
        RETURN QUERY SELECT 'email_not_verified'::text, NULL::uuid,
                            NULL::uuid, NULL::text, v_linked;
        RETURN;
    END IF;
    IF lcrm_oidc_mfa_required(v_user.id) THEN
        RETURN QUERY SELECT 'mfa'::text, v_user.id, NULL::uuid,
                            v_user.role::text, v_linked;
        RETURN;
    END IF;
    UPDATE users SET last_login_at = now() WHERE id = v_user.id;
    RETURN QUERY SELECT 'ok'::text, v_user.id,
        lcrm_session_open(v_user.id, p_token_hash, p_ttl_seconds,
                          p_user_agent, p_client_ip),
        v_user.role::text, v_linked;
END $$;

-- DELETE /auth/identities/:id.  Outcomes: 'ok', 'not_found' (not one of
-- p_user's links), 'last_sign_in_method' (no password and no other link).
-- The user row lock serialises concurrent unlinks of one account.
CREATE FUNCTION lcrm_oidc_unlink(p_user uuid, p_identity uuid,
                                 p_client_ip text, p_request_id text)
RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    v_user users;
BEGIN
    SELECT * INTO v_user FROM users
     WHERE id = p_user AND deleted_at IS NULL FOR UPDATE;
    IF v_user.id IS NULL OR NOT EXISTS (
            SELECT 1 FROM user_identities
             WHERE id = p_identity AND user_id = p_user) THEN
        RETURN 'not_found';
    END IF;
    IF v_user.password_hash IS NULL AND NOT EXISTS (
            SELECT 1 FROM user_identities
             WHERE user_id = p_user AND id <> p_identity) THEN
        RETURN 'last_sign_in_method';
    END IF;
    PERFORM lcrm_oidc_record_unlink(p_user, p_identity, p_client_ip,
                                    p_request_id);
    RETURN 'ok';
END $$;
