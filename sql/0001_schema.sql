-- 0001_schema.sql: the mod_leadcrm data model (PostgreSQL 15).
--
-- Applied by scripts/migrate inside one transaction: no BEGIN/COMMIT here.
-- Names are relied on by the C code; change them only together with it.
--
-- Conventions
--  * Every timestamp is timestamptz(3): stored at millisecond precision, so a
--    value read back through the API (RFC 3339 with milliseconds) is an exact
--    filter bound.  Note that typmod (3) ROUNDS sub-millisecond input.
--  * Soft deletion: users and leads carry deleted_at; "live" rows have
--    deleted_at IS NULL and every list/filter index is partial on that.
--  * Length CHECKs mirror API.md's field rules (in code points, as the C
--    validator counts them) as a last line of defence: the C code validates
--    first and answers 400, so a CHECK failing here means a bug.
--  * Emails are stored trimmed and lowercased.  The C code lowercases ASCII
--    letters only (apr_tolower), so the CHECK uses lower() under the "C"
--    collation, which also lowercases ASCII only whatever the database locale
--    is; a plain lower() under e.g. en_US.UTF-8 would also fold non-ASCII
--    letters and reject addresses the C code accepted.

CREATE EXTENSION IF NOT EXISTS btree_gist;
CREATE EXTENSION IF NOT EXISTS pg_trgm;

-- ---------------------------------------------------------------- enums

CREATE TYPE lcrm_role AS ENUM ('USER', 'ADMIN', 'SUPER_ADMIN');
CREATE TYPE lcrm_lead_status AS ENUM
    ('NEW', 'CONTACTED', 'QUALIFIED', 'PROPOSAL', 'CONVERTED', 'LOST');
CREATE TYPE lcrm_lead_source AS ENUM
    ('WEBSITE', 'REFERRAL', 'SOCIAL', 'EMAIL', 'ADS', 'EVENT', 'OTHER');
CREATE TYPE lcrm_consultation_status AS ENUM
    ('SCHEDULED', 'CONFIRMED', 'COMPLETED', 'CANCELLED', 'NO_SHOW');
CREATE TYPE lcrm_meeting_type AS ENUM ('VIDEO', 'PHONE', 'IN_PERSON');

-- ---------------------------------------------------------------- triggers

-- updated_at always reflects the last UPDATE, whatever the statement set.
CREATE FUNCTION lcrm_touch_updated_at() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.updated_at := now()::timestamptz(3);
    RETURN NEW;
END
$$;

-- consultations.ends_at is derived; the C code never sets it.  It exists
-- because the exclusion constraint needs an immutable expression, and
-- timestamptz + interval is only stable (time-zone dependent).
CREATE FUNCTION lcrm_consultation_set_ends_at() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.ends_at := NEW.scheduled_at
                   + make_interval(mins => NEW.duration_minutes);
    RETURN NEW;
END
$$;

-- ---------------------------------------------------------------- users

CREATE TABLE users (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    email           text NOT NULL,
    password_hash   text NOT NULL,
    name            text NOT NULL,
    company         text,
    phone           text,
    job_title       text,
    bio             text,
    role            lcrm_role NOT NULL DEFAULT 'USER',
    email_verified  boolean NOT NULL DEFAULT false,
    is_active       boolean NOT NULL DEFAULT true,
    last_login_at   timestamptz(3),
    created_at      timestamptz(3) NOT NULL DEFAULT now(),
    updated_at      timestamptz(3) NOT NULL DEFAULT now(),
    deleted_at      timestamptz(3),

    CONSTRAINT users_email_check
        CHECK (email = lower(btrim(email) COLLATE "C")
               AND char_length(email) BETWEEN 1 AND 254),
    CONSTRAINT users_password_hash_check CHECK (password_hash <> ''),
    CONSTRAINT users_name_check CHECK (char_length(name) BETWEEN 1 AND 100),
    CONSTRAINT users_company_check CHECK (char_length(company) <= 200),
    CONSTRAINT users_phone_check CHECK (char_length(phone) <= 32),
    CONSTRAINT users_job_title_check CHECK (char_length(job_title) <= 100),
    CONSTRAINT users_bio_check CHECK (char_length(bio) <= 2000)
);

-- Unique among live users; a soft-deleted user's email is free again.
CREATE UNIQUE INDEX users_email_live_key
    ON users (lower(email)) WHERE deleted_at IS NULL;
-- (users_email_live_key also serves ORDER BY lower(email) over live rows.)
CREATE INDEX users_created_at_idx
    ON users (created_at, id) WHERE deleted_at IS NULL;
CREATE INDEX users_email_idx
    ON users (email, id) WHERE deleted_at IS NULL;
CREATE INDEX users_name_idx
    ON users (name, id) WHERE deleted_at IS NULL;
CREATE INDEX users_last_login_at_idx
    ON users (last_login_at, id) WHERE deleted_at IS NULL;
CREATE INDEX users_role_idx
    ON users (role, created_at) WHERE deleted_at IS NULL;
-- Substring search (LIKE '%...%') over email, name, company.  A query uses
-- it only when it repeats this exact expression.
CREATE INDEX users_search_trgm_idx
    ON users USING gin
       ((lower(email || ' ' || name || ' ' || coalesce(company, '')))
        gin_trgm_ops)
    WHERE deleted_at IS NULL;

CREATE TRIGGER users_touch_updated_at
    BEFORE UPDATE ON users
    FOR EACH ROW EXECUTE FUNCTION lcrm_touch_updated_at();

-- ---------------------------------------------------------------- sessions

-- One login = one session = one refresh-token rotation family.
CREATE TABLE sessions (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id         uuid NOT NULL REFERENCES users (id),
    created_at      timestamptz(3) NOT NULL DEFAULT now(),
    expires_at      timestamptz(3) NOT NULL,   -- absolute, fixed at login
    last_used_at    timestamptz(3) DEFAULT now(),
    revoked_at      timestamptz(3),
    revoked_reason  text,
    user_agent      text,
    client_ip       text,

    CONSTRAINT sessions_revoked_reason_check
        CHECK (revoked_reason IN ('logout', 'logout_all', 'reuse',
                                  'password_change', 'user_deleted',
                                  'user_deactivated', 'expired')),
    CONSTRAINT sessions_revoked_reason_needs_revoked_at
        CHECK (revoked_reason IS NULL OR revoked_at IS NOT NULL),
    CONSTRAINT sessions_user_agent_check CHECK (char_length(user_agent) <= 512),
    CONSTRAINT sessions_client_ip_check CHECK (char_length(client_ip) <= 64)
);

CREATE INDEX sessions_user_live_idx
    ON sessions (user_id) WHERE revoked_at IS NULL;
CREATE INDEX sessions_expires_at_idx ON sessions (expires_at);

-- ---------------------------------------------------------------- refresh tokens

-- Only the SHA-256 of the opaque token is stored.  Rotation marks the old row
-- replaced (replaced_at, then replaced_by once the new row exists) before or
-- in the same transaction as inserting the new one: the partial unique index
-- refresh_tokens_one_live allows at most one live token per session, checked
-- immediately (not deferrable), so the old row must be marked first.
CREATE TABLE refresh_tokens (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    session_id      uuid NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    token_hash      bytea NOT NULL UNIQUE,
    created_at      timestamptz(3) NOT NULL DEFAULT now(),
    replaced_at     timestamptz(3),
    replaced_by     uuid REFERENCES refresh_tokens (id),

    CONSTRAINT refresh_tokens_token_hash_check
        CHECK (octet_length(token_hash) = 32),
    CONSTRAINT refresh_tokens_replaced_by_needs_replaced_at
        CHECK (replaced_by IS NULL OR replaced_at IS NOT NULL)
);

CREATE UNIQUE INDEX refresh_tokens_one_live
    ON refresh_tokens (session_id) WHERE replaced_at IS NULL;
CREATE INDEX refresh_tokens_session_idx ON refresh_tokens (session_id);
CREATE INDEX refresh_tokens_replaced_by_idx
    ON refresh_tokens (replaced_by) WHERE replaced_by IS NOT NULL;

-- ---------------------------------------------------------------- leads

CREATE TABLE leads (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name            text NOT NULL,
    email           text NOT NULL,
    phone           text,
    company         text,
    job_title       text,
    message         text,
    source          lcrm_lead_source NOT NULL DEFAULT 'WEBSITE',
    utm_source      text,
    utm_medium      text,
    utm_campaign    text,
    utm_term        text,
    utm_content     text,
    referrer        text,
    landing_page    text,
    status          lcrm_lead_status NOT NULL DEFAULT 'NEW',
    score           integer,
    estimated_value numeric(15,2),  -- (14,2) cannot hold 1e12
    assigned_to_id  uuid REFERENCES users (id),
    user_id         uuid REFERENCES users (id),
    lost_reason     text,
    notes           text,
    converted_at    timestamptz(3),
    created_at      timestamptz(3) NOT NULL DEFAULT now(),
    updated_at      timestamptz(3) NOT NULL DEFAULT now(),
    deleted_at      timestamptz(3),

    CONSTRAINT leads_name_check CHECK (char_length(name) BETWEEN 1 AND 100),
    CONSTRAINT leads_email_check
        CHECK (email = lower(btrim(email) COLLATE "C")
               AND char_length(email) BETWEEN 1 AND 254),
    CONSTRAINT leads_phone_check CHECK (char_length(phone) <= 32),
    CONSTRAINT leads_company_check CHECK (char_length(company) <= 200),
    CONSTRAINT leads_job_title_check CHECK (char_length(job_title) <= 100),
    CONSTRAINT leads_message_check CHECK (char_length(message) <= 5000),
    CONSTRAINT leads_utm_check
        CHECK (char_length(utm_source) <= 200
               AND char_length(utm_medium) <= 200
               AND char_length(utm_campaign) <= 200
               AND char_length(utm_term) <= 200
               AND char_length(utm_content) <= 200),
    CONSTRAINT leads_referrer_check CHECK (char_length(referrer) <= 2048),
    CONSTRAINT leads_landing_page_check CHECK (char_length(landing_page) <= 2048),
    CONSTRAINT leads_score_check CHECK (score BETWEEN 0 AND 100),
    CONSTRAINT leads_estimated_value_check
        CHECK (estimated_value BETWEEN 0 AND 1e12),
    CONSTRAINT leads_lost_reason_check CHECK (char_length(lost_reason) <= 500),
    CONSTRAINT leads_notes_check CHECK (char_length(notes) <= 10000),
    CONSTRAINT leads_lost_needs_reason
        CHECK (status <> 'LOST' OR lost_reason IS NOT NULL),
    CONSTRAINT leads_converted_needs_converted_at
        CHECK (status <> 'CONVERTED' OR converted_at IS NOT NULL)
);

CREATE INDEX leads_created_at_idx
    ON leads (created_at DESC, id DESC) WHERE deleted_at IS NULL;
CREATE INDEX leads_status_created_at_idx
    ON leads (status, created_at DESC) WHERE deleted_at IS NULL;
CREATE INDEX leads_source_created_at_idx
    ON leads (source, created_at DESC) WHERE deleted_at IS NULL;
CREATE INDEX leads_assigned_to_created_at_idx
    ON leads (assigned_to_id, created_at DESC) WHERE deleted_at IS NULL;
CREATE INDEX leads_user_created_at_idx
    ON leads (user_id, created_at DESC) WHERE deleted_at IS NULL;
CREATE INDEX leads_lower_email_idx
    ON leads (lower(email)) WHERE deleted_at IS NULL;
-- Sort indexes carry id as the tie-breaker (scannable in both directions).
CREATE INDEX leads_updated_at_idx
    ON leads (updated_at, id) WHERE deleted_at IS NULL;
CREATE INDEX leads_name_idx
    ON leads (name, id) WHERE deleted_at IS NULL;
CREATE INDEX leads_email_idx
    ON leads (email, id) WHERE deleted_at IS NULL;
CREATE INDEX leads_score_idx
    ON leads (score, id) WHERE deleted_at IS NULL;
CREATE INDEX leads_estimated_value_idx
    ON leads (estimated_value, id) WHERE deleted_at IS NULL;
-- Substring search over name, email, company (exact expression required).
CREATE INDEX leads_search_trgm_idx
    ON leads USING gin
       ((lower(name || ' ' || email || ' ' || coalesce(company, '')))
        gin_trgm_ops)
    WHERE deleted_at IS NULL;

CREATE TRIGGER leads_touch_updated_at
    BEFORE UPDATE ON leads
    FOR EACH ROW EXECUTE FUNCTION lcrm_touch_updated_at();

-- ---------------------------------------------------------------- consultations

CREATE TABLE consultations (
    id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    lead_id             uuid REFERENCES leads (id),
    user_id             uuid REFERENCES users (id),
    consultant_id       uuid REFERENCES users (id),
    name                text NOT NULL,
    email               text NOT NULL,
    phone               text,
    topic               text NOT NULL,
    notes               text,
    scheduled_at        timestamptz(3) NOT NULL,
    duration_minutes    integer NOT NULL DEFAULT 30,
    ends_at             timestamptz(3) NOT NULL,  -- set by trigger
    timezone            text NOT NULL DEFAULT 'UTC',
    meeting_type        lcrm_meeting_type NOT NULL DEFAULT 'VIDEO',
    meeting_link        text,
    status              lcrm_consultation_status NOT NULL DEFAULT 'SCHEDULED',
    follow_up_required  boolean NOT NULL DEFAULT false,
    follow_up_at        timestamptz(3),
    follow_up_notes     text,
    cancellation_reason text,
    cancelled_at        timestamptz(3),
    completed_at        timestamptz(3),
    created_at          timestamptz(3) NOT NULL DEFAULT now(),
    updated_at          timestamptz(3) NOT NULL DEFAULT now(),

    CONSTRAINT consultations_name_check
        CHECK (char_length(name) BETWEEN 1 AND 100),
    CONSTRAINT consultations_email_check
        CHECK (email = lower(btrim(email) COLLATE "C")
               AND char_length(email) BETWEEN 1 AND 254),
    CONSTRAINT consultations_phone_check CHECK (char_length(phone) <= 32),
    CONSTRAINT consultations_topic_check
        CHECK (char_length(topic) BETWEEN 1 AND 200),
    CONSTRAINT consultations_notes_check CHECK (char_length(notes) <= 10000),
    CONSTRAINT consultations_duration_minutes_check
        CHECK (duration_minutes BETWEEN 15 AND 240),
    CONSTRAINT consultations_ends_after_start CHECK (ends_at > scheduled_at),
    CONSTRAINT consultations_timezone_check
        CHECK (char_length(timezone) BETWEEN 1 AND 64),
    CONSTRAINT consultations_meeting_link_check
        CHECK (char_length(meeting_link) <= 2048),
    CONSTRAINT consultations_follow_up_notes_check
        CHECK (char_length(follow_up_notes) <= 5000),
    CONSTRAINT consultations_cancellation_reason_check
        CHECK (char_length(cancellation_reason) <= 500),

    -- Two active consultations of one consultant (or two unassigned ones)
    -- never overlap; holds under concurrent bookings (the loser gets
    -- SQLSTATE 23P01 exclusion_violation -> 409 slot_taken).
    CONSTRAINT consultations_no_overlap
        EXCLUDE USING gist (
            (coalesce(consultant_id, '00000000-0000-0000-0000-000000000000'::uuid)) WITH =,
            (tstzrange(scheduled_at, ends_at, '[)')) WITH &&
        ) WHERE (status IN ('SCHEDULED', 'CONFIRMED'))
);

CREATE INDEX consultations_scheduled_at_idx
    ON consultations (scheduled_at);
CREATE INDEX consultations_status_scheduled_at_idx
    ON consultations (status, scheduled_at);
CREATE INDEX consultations_consultant_scheduled_at_idx
    ON consultations (consultant_id, scheduled_at);
CREATE INDEX consultations_lead_idx
    ON consultations (lead_id);
CREATE INDEX consultations_user_scheduled_at_idx
    ON consultations (user_id, scheduled_at);
CREATE INDEX consultations_created_at_idx
    ON consultations (created_at);

-- Trigger names fire in alphabetical order; the two are independent.
CREATE TRIGGER consultations_set_ends_at
    BEFORE INSERT OR UPDATE ON consultations
    FOR EACH ROW EXECUTE FUNCTION lcrm_consultation_set_ends_at();
CREATE TRIGGER consultations_touch_updated_at
    BEFORE UPDATE ON consultations
    FOR EACH ROW EXECUTE FUNCTION lcrm_touch_updated_at();
