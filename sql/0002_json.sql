-- 0002_json.sql: JSON rendering of the API objects (API.md "Objects").
--
-- The C code selects e.g. `SELECT lcrm_lead_json(l) FROM leads l WHERE ...`
-- and sends the text as is.  Keys are camelCase, absent values are JSON null,
-- timestamps go through lcrm_ts().  Bodies are plain strings (not BEGIN
-- ATOMIC) so later migrations can alter the tables without dropping these;
-- re-create a function whenever its table gains or loses an API field.

-- RFC 3339 UTC with milliseconds, e.g. 2026-11-24T06:40:36.123Z; NULL -> NULL.
-- The cast to timestamptz(3) rounds exactly like storing into a column does,
-- so a value rendered before storage matches the value read back.
-- IMMUTABLE holds: AT TIME ZONE 'UTC' is immutable and the format uses no
-- locale-dependent (TM) patterns.
CREATE FUNCTION lcrm_ts(timestamptz) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT to_char($1::timestamptz(3) AT TIME ZONE 'UTC',
                   'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
$$;

-- User: never password_hash or deleted_at.
CREATE FUNCTION lcrm_user_json(u users) RETURNS json
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
        'isActive',      u.is_active,
        'lastLoginAt',   lcrm_ts(u.last_login_at),
        'createdAt',     lcrm_ts(u.created_at),
        'updatedAt',     lcrm_ts(u.updated_at))
$$;

-- Lead: estimatedValue and score are JSON numbers; deleted_at never shown.
CREATE FUNCTION lcrm_lead_json(l leads) RETURNS json
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT json_build_object(
        'id',             l.id,
        'name',           l.name,
        'email',          l.email,
        'phone',          l.phone,
        'company',        l.company,
        'jobTitle',       l.job_title,
        'message',        l.message,
        'source',         l.source,
        'utmSource',      l.utm_source,
        'utmMedium',      l.utm_medium,
        'utmCampaign',    l.utm_campaign,
        'utmTerm',        l.utm_term,
        'utmContent',     l.utm_content,
        'referrer',       l.referrer,
        'landingPage',    l.landing_page,
        'status',         l.status,
        'score',          l.score,
        'estimatedValue', l.estimated_value,
        'assignedToId',   l.assigned_to_id,
        'userId',         l.user_id,
        'lostReason',     l.lost_reason,
        'notes',          l.notes,
        'convertedAt',    lcrm_ts(l.converted_at),
        'createdAt',      lcrm_ts(l.created_at),
        'updatedAt',      lcrm_ts(l.updated_at))
$$;

-- Consultation: ends_at is internal (derivable) and not part of the object.
CREATE FUNCTION lcrm_consultation_json(c consultations) RETURNS json
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT json_build_object(
        'id',                 c.id,
        'leadId',             c.lead_id,
        'userId',             c.user_id,
        'consultantId',       c.consultant_id,
        'name',               c.name,
        'email',              c.email,
        'phone',              c.phone,
        'topic',              c.topic,
        'notes',              c.notes,
        'scheduledAt',        lcrm_ts(c.scheduled_at),
        'durationMinutes',    c.duration_minutes,
        'timezone',           c.timezone,
        'meetingType',        c.meeting_type,
        'meetingLink',        c.meeting_link,
        'status',             c.status,
        'followUpRequired',   c.follow_up_required,
        'followUpAt',         lcrm_ts(c.follow_up_at),
        'followUpNotes',      c.follow_up_notes,
        'cancellationReason', c.cancellation_reason,
        'cancelledAt',        lcrm_ts(c.cancelled_at),
        'completedAt',        lcrm_ts(c.completed_at),
        'createdAt',          lcrm_ts(c.created_at),
        'updatedAt',          lcrm_ts(c.updated_at))
$$;
