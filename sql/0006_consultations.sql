-- 0006_consultations: booking rules, availability, and the consultation
-- changes (book, update, cancel) as database functions, so that every
-- request is one round trip and one transaction.
--
-- Business hours are configured per server (LeadCRMBusinessHours,
-- LeadCRMTimeZone, LeadCRMBookingNotice, LeadCRMBookingHorizon); the
-- module passes them in as an lcrm_booking_rules value.  All time-zone
-- arithmetic happens here: `local timestamp AT TIME ZONE zone` turns a
-- local wall-clock time into an instant using the zone's rules for that
-- very date, so days with a daylight-saving change come out right.
--
-- Outcomes are returned, never raised: the module cannot read SQLSTATEs
-- (PITFALLS.md), and any SQL error is a 500.  The overlap rule itself is
-- the exclusion constraint consultations_no_overlap (0001); the functions
-- catch its exclusion_violation and answer 'slot_taken', which also holds
-- for concurrent bookings (the second insert waits for the first
-- transaction, then fails).

CREATE TYPE lcrm_booking_rules AS (
    time_zone   text,     -- IANA name of the business time zone
    days        integer,  -- open days: bit 0 = Monday .. bit 6 = Sunday
    open_min    integer,  -- opening, local minutes after midnight
    close_min   integer,  -- closing (exclusive), local minutes
    notice_s    integer,  -- minimum notice before a start, seconds
    horizon_s   integer   -- furthest start from now, seconds
);

-- ---------------------------------------------------------------- checks

-- True for an IANA time-zone name PostgreSQL knows (not abbreviations or
-- POSIX strings, which AT TIME ZONE would also take).  pg_timezone_names
-- reads the zone directory (tens of ms), so 'UTC' takes a shortcut.
CREATE FUNCTION lcrm_is_time_zone(p_name text) RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT p_name = 'UTC'
        OR EXISTS (SELECT 1 FROM pg_timezone_names WHERE name = p_name)
$$;

-- True when p_user may be a consultant: a live, active ADMIN or SUPER_ADMIN.
CREATE FUNCTION lcrm_is_consultant(p_user uuid) RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT EXISTS (SELECT 1 FROM users
                    WHERE id = p_user AND deleted_at IS NULL AND is_active
                      AND role IN ('ADMIN', 'SUPER_ADMIN'))
$$;

-- The status table of API.md "Booking": nothing leaves COMPLETED,
-- CANCELLED or NO_SHOW, and a status never "moves" to itself.
CREATE FUNCTION lcrm_consultation_transition_ok(
        p_from lcrm_consultation_status, p_to lcrm_consultation_status)
RETURNS boolean LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE p_from
        WHEN 'SCHEDULED' THEN p_to IN ('CONFIRMED', 'COMPLETED', 'NO_SHOW',
                                       'CANCELLED')
        WHEN 'CONFIRMED' THEN p_to IN ('COMPLETED', 'NO_SHOW', 'CANCELLED')
        ELSE false
    END
$$;

-- ------------------------------------------------------------ business hours

-- The bookable slots of one local date: starts on the 15-minute grid of
-- local time, from the opening time (rounded up to the grid) while the
-- whole slot ends by the closing time.  Nothing on a closed day.
--
-- Opening and closing are local times turned into instants for that date;
-- the grid then steps through absolute time between them.  On a day with
-- a daylight-saving change inside business hours this gives exactly the
-- instants that lie within the business window (no hole in a repeated
-- hour, no duplicate in a skipped one), and since zones shift by whole
-- quarter hours the instants stay on the local 15-minute grid.
CREATE FUNCTION lcrm_business_slots(p_date date, p_tz text, p_days integer,
                                    p_open_min integer, p_close_min integer,
                                    p_duration integer)
RETURNS TABLE (slot_start timestamptz, slot_end timestamptz)
LANGUAGE sql STABLE AS $$
    SELECT s, s + make_interval(mins => p_duration)
      FROM (SELECT (p_date + make_interval(mins => (p_open_min + 14) / 15 * 15))
                       AT TIME ZONE p_tz AS first_at,
                   (p_date + make_interval(mins => p_close_min))
                       AT TIME ZONE p_tz AS close_at) w,
           generate_series(w.first_at,
                           w.close_at - make_interval(mins => p_duration),
                           interval '15 minutes') AS s
     WHERE p_days & (1 << (extract(isodow FROM p_date)::integer - 1)) <> 0
     ORDER BY s
$$;

-- Why a start is not bookable, or NULL when it is: 'past', 'notice' (too
-- soon), 'horizon' (too far ahead) or 'hours' (not entirely inside the
-- business hours of an open day).  Any start minute is accepted; the
-- 15-minute grid is what availability offers, not a booking rule.
CREATE FUNCTION lcrm_booking_problem(p_start timestamptz, p_duration integer,
                                     p_rules lcrm_booking_rules)
RETURNS text LANGUAGE sql STABLE AS $$
    SELECT CASE
        WHEN p_start <= now() THEN 'past'
        WHEN p_start < now() + make_interval(secs => (p_rules).notice_s)
            THEN 'notice'
        WHEN p_start > now() + make_interval(secs => (p_rules).horizon_s)
            THEN 'horizon'
        WHEN NOT EXISTS (
            SELECT 1
              FROM (SELECT (p_start AT TIME ZONE (p_rules).time_zone)::date
                           AS d) l
             WHERE (p_rules).days
                   & (1 << (extract(isodow FROM l.d)::integer - 1)) <> 0
               AND p_start >= (l.d + make_interval(mins => (p_rules).open_min))
                              AT TIME ZONE (p_rules).time_zone
               AND p_start + make_interval(mins => p_duration)
                   <= (l.d + make_interval(mins => (p_rules).close_min))
                      AT TIME ZONE (p_rules).time_zone)
            THEN 'hours'
    END
$$;

-- GET /api/consultations/availability: {date, timezone, slots[]} of the
-- slots of p_date (business time zone) that start in the bookable window
-- and overlap no active consultation of p_consultant (of unassigned ones
-- when NULL).  NULL when p_consultant is not a consultant.
CREATE FUNCTION lcrm_consultation_availability(p_date date, p_duration integer,
                                               p_consultant uuid,
                                               p_rules lcrm_booking_rules)
RETURNS json LANGUAGE sql STABLE AS $$
    SELECT json_build_object(
        'date', to_char(p_date, 'YYYY-MM-DD'),
        'timezone', (p_rules).time_zone,
        'slots', coalesce(json_agg(json_build_object(
                              'start', lcrm_ts(s.slot_start),
                              'end', lcrm_ts(s.slot_end))
                          ORDER BY s.slot_start), '[]'::json))
      FROM lcrm_business_slots(p_date, (p_rules).time_zone, (p_rules).days,
                               (p_rules).open_min, (p_rules).close_min,
                               p_duration) s
     WHERE s.slot_start > now()
       AND s.slot_start >= now() + make_interval(secs => (p_rules).notice_s)
       AND s.slot_start <= now() + make_interval(secs => (p_rules).horizon_s)
       AND NOT EXISTS (
           SELECT 1 FROM consultations c
            WHERE c.status IN ('SCHEDULED', 'CONFIRMED')
              AND coalesce(c.consultant_id,
                           '00000000-0000-0000-0000-000000000000'::uuid)
                  = coalesce(p_consultant,
                             '00000000-0000-0000-0000-000000000000'::uuid)
              AND tstzrange(c.scheduled_at, c.ends_at, '[)')
                  && tstzrange(s.slot_start, s.slot_end, '[)'))
    HAVING p_consultant IS NULL OR lcrm_is_consultant(p_consultant)
$$;

-- ---------------------------------------------------------------- booking

-- The live lead a booking belongs to: the newest live lead with that email,
-- else a new WEBSITE lead.  A transaction-level advisory lock on the email
-- keeps two concurrent bookings of a new address from creating two leads.
CREATE FUNCTION lcrm_booking_lead(p_email text, p_name text, p_phone text,
                                  p_caller uuid)
RETURNS uuid LANGUAGE plpgsql AS $$
DECLARE
    v_lead uuid;
BEGIN
    PERFORM pg_advisory_xact_lock(
        hashtextextended('lcrm_booking_lead:' || lower(p_email), 0));
    SELECT id INTO v_lead FROM leads
     WHERE lower(email) = lower(p_email) AND deleted_at IS NULL
     ORDER BY created_at DESC, id DESC LIMIT 1;
    IF v_lead IS NULL THEN
        INSERT INTO leads (name, email, phone, source, user_id)
        VALUES (p_name, p_email, p_phone, 'WEBSITE', p_caller)
        RETURNING id INTO v_lead;
    END IF;
    RETURN v_lead;
END $$;

-- POST /api/consultations.  p_body holds the validated fields as JSON
-- strings (camelCase keys, absent = not sent); p_caller is NULL for an
-- anonymous booking.  Outcomes:
--   'ok'                   body is the new consultation, id its id
--   'invalid_timezone'     unknown IANA name
--   'invalid_scheduledAt'  detail says why (see lcrm_booking_problem)
--   'invalid_consultantId' not a live, active ADMIN or SUPER_ADMIN
--   'invalid_leadId'       not a live lead the caller may use (ADMIN+: any;
--                          USER: their own; anonymous: none)
--   'slot_taken'           overlaps an active consultation (same
--                          consultant, or both unassigned)
CREATE FUNCTION lcrm_consultation_book(p_body jsonb, p_caller uuid,
                                       p_admin boolean,
                                       p_rules lcrm_booking_rules)
RETURNS TABLE (outcome text, detail text, body json, id uuid)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
    v_start      timestamptz := (p_body->>'scheduledAt')::timestamptz;
    v_duration   integer := coalesce((p_body->>'durationMinutes')::integer, 30);
    v_tz         text := coalesce(p_body->>'timezone', 'UTC');
    v_consultant uuid := (p_body->>'consultantId')::uuid;
    v_lead       uuid := (p_body->>'leadId')::uuid;
    v_problem    text;
    v_row        consultations;
BEGIN
    IF NOT lcrm_is_time_zone(v_tz) THEN
        RETURN QUERY SELECT 'invalid_timezone', NULL::text, NULL::json,
                            NULL::uuid;
        RETURN;
    END IF;
    v_problem := lcrm_booking_problem(v_start, v_duration, p_rules);
    IF v_problem IS NOT NULL THEN
        RETURN QUERY SELECT 'invalid_scheduledAt', v_problem, NULL::json,
                            NULL::uuid;
        RETURN;
    END IF;
    IF v_consultant IS NOT NULL AND NOT lcrm_is_consultant(v_consultant) THEN
        RETURN QUERY SELECT 'invalid_consultantId', NULL::text, NULL::json,
                            NULL::uuid;
        RETURN;
    END IF;
    IF v_lead IS NOT NULL AND NOT EXISTS (
            SELECT 1 FROM leads l
             WHERE l.id = v_lead AND l.deleted_at IS NULL
               AND (p_admin OR (p_caller IS NOT NULL
                                AND l.user_id = p_caller))) THEN
        RETURN QUERY SELECT 'invalid_leadId', NULL::text, NULL::json,
                            NULL::uuid;
        RETURN;
    END IF;
    BEGIN
        IF v_lead IS NULL THEN
            v_lead := lcrm_booking_lead(p_body->>'email', p_body->>'name',
                                        p_body->>'phone', p_caller);
        END IF;
        INSERT INTO consultations (lead_id, user_id, consultant_id, name,
                                   email, phone, topic, notes, scheduled_at,
                                   duration_minutes, timezone, meeting_type)
        VALUES (v_lead, p_caller, v_consultant, p_body->>'name',
                p_body->>'email', p_body->>'phone', p_body->>'topic',
                p_body->>'notes', v_start, v_duration, v_tz,
                coalesce((p_body->>'meetingType')::lcrm_meeting_type, 'VIDEO'))
        RETURNING * INTO v_row;
    EXCEPTION WHEN exclusion_violation THEN
        -- also undoes a lead created above
        RETURN QUERY SELECT 'slot_taken', NULL::text, NULL::json, NULL::uuid;
        RETURN;
    END;
    RETURN QUERY SELECT 'ok', NULL::text, lcrm_consultation_json(v_row),
                        v_row.id;
END $$;

-- ---------------------------------------------------------------- changes

-- The consultation with p_patch (validated fields as JSON strings or
-- nulls, camelCase keys; absent = unchanged) applied to c, in memory.
-- Entering CANCELLED or COMPLETED stamps cancelled_at / completed_at.
CREATE FUNCTION lcrm_consultation_patched(c consultations, p_patch jsonb)
RETURNS consultations LANGUAGE plpgsql STABLE AS $$
DECLARE
    n consultations := c;
BEGIN
    IF p_patch ? 'scheduledAt' THEN
        n.scheduled_at := (p_patch->>'scheduledAt')::timestamptz;
    END IF;
    IF p_patch ? 'durationMinutes' THEN
        n.duration_minutes := (p_patch->>'durationMinutes')::integer;
    END IF;
    IF p_patch ? 'timezone' THEN n.timezone := p_patch->>'timezone'; END IF;
    IF p_patch ? 'meetingType' THEN
        n.meeting_type := (p_patch->>'meetingType')::lcrm_meeting_type;
    END IF;
    IF p_patch ? 'meetingLink' THEN
        n.meeting_link := p_patch->>'meetingLink';
    END IF;
    IF p_patch ? 'notes' THEN n.notes := p_patch->>'notes'; END IF;
    IF p_patch ? 'status' THEN
        n.status := (p_patch->>'status')::lcrm_consultation_status;
    END IF;
    IF p_patch ? 'followUpRequired' THEN
        n.follow_up_required := (p_patch->>'followUpRequired')::boolean;
    END IF;
    IF p_patch ? 'followUpAt' THEN
        n.follow_up_at := (p_patch->>'followUpAt')::timestamptz;
    END IF;
    IF p_patch ? 'followUpNotes' THEN
        n.follow_up_notes := p_patch->>'followUpNotes';
    END IF;
    IF p_patch ? 'cancellationReason' THEN
        n.cancellation_reason := p_patch->>'cancellationReason';
    END IF;
    IF p_patch ? 'consultantId' THEN
        n.consultant_id := (p_patch->>'consultantId')::uuid;
    END IF;
    IF n.status = 'CANCELLED' AND c.status <> 'CANCELLED' THEN
        n.cancelled_at := now();
    END IF;
    IF n.status = 'COMPLETED' AND c.status <> 'COMPLETED' THEN
        n.completed_at := now();
    END IF;
    RETURN n;
END $$;

-- Why the patched consultation n (from c) may not be stored, or NULL:
-- 'invalid_transition', 'invalid_timezone', 'invalid_consultantId',
-- 'invalid_scheduledAt:<reason>'.  A new time is checked against the
-- booking rules only while the consultation stays active.
CREATE FUNCTION lcrm_consultation_change_problem(c consultations,
                                                 n consultations,
                                                 p_patch jsonb,
                                                 p_rules lcrm_booking_rules)
RETURNS text LANGUAGE plpgsql STABLE AS $$
DECLARE
    v_problem text;
BEGIN
    IF p_patch ? 'status'
       AND NOT lcrm_consultation_transition_ok(c.status, n.status) THEN
        RETURN 'invalid_transition';
    END IF;
    IF p_patch ? 'timezone' AND NOT lcrm_is_time_zone(n.timezone) THEN
        RETURN 'invalid_timezone';
    END IF;
    IF p_patch ? 'consultantId' AND n.consultant_id IS NOT NULL
       AND NOT lcrm_is_consultant(n.consultant_id) THEN
        RETURN 'invalid_consultantId';
    END IF;
    IF p_patch ?| ARRAY['scheduledAt', 'durationMinutes']
       AND n.status IN ('SCHEDULED', 'CONFIRMED') THEN
        v_problem := lcrm_booking_problem(n.scheduled_at, n.duration_minutes,
                                          p_rules);
        IF v_problem IS NOT NULL THEN
            RETURN 'invalid_scheduledAt:' || v_problem;
        END IF;
    END IF;
    RETURN NULL;
END $$;

-- PUT|PATCH /api/consultations/:id.  p_admin: the caller is ADMIN+;
-- otherwise p_caller must own the consultation, p_user_ok says the patch
-- only reschedules or cancels (decided by the module), and it must be
-- upcoming.  Outcomes: 'ok' (body), 'not_found', 'forbidden',
-- 'invalid_transition', 'slot_taken', 'invalid_<field>' (detail: reason).
CREATE FUNCTION lcrm_consultation_update(p_id uuid, p_patch jsonb,
                                         p_caller uuid, p_admin boolean,
                                         p_user_ok boolean,
                                         p_rules lcrm_booking_rules)
RETURNS TABLE (outcome text, detail text, body json, id uuid)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
    c consultations;
    n consultations;
    v_problem text;
BEGIN
    SELECT * INTO c FROM consultations WHERE consultations.id = p_id
       FOR UPDATE;
    -- coalesce: an anonymous booking (user_id NULL) belongs to no USER
    IF c.id IS NULL OR NOT (p_admin OR coalesce(c.user_id = p_caller, false))
    THEN
        v_problem := 'not_found';
    ELSIF NOT p_admin AND NOT p_user_ok THEN
        v_problem := 'forbidden';
    ELSE
        n := lcrm_consultation_patched(c, p_patch);
        v_problem := lcrm_consultation_change_problem(c, n, p_patch, p_rules);
        IF v_problem IS NULL AND NOT p_admin
           AND (c.scheduled_at <= now()
                OR c.status NOT IN ('SCHEDULED', 'CONFIRMED')) THEN
            v_problem := 'forbidden';
        END IF;
    END IF;
    IF v_problem IS NOT NULL THEN
        RETURN QUERY SELECT split_part(v_problem, ':', 1),
                            nullif(split_part(v_problem, ':', 2), ''),
                            NULL::json, NULL::uuid;
        RETURN;
    END IF;
    BEGIN
        UPDATE consultations SET
            scheduled_at = n.scheduled_at,
            duration_minutes = n.duration_minutes,
            timezone = n.timezone,
            meeting_type = n.meeting_type,
            meeting_link = n.meeting_link,
            notes = n.notes,
            status = n.status,
            follow_up_required = n.follow_up_required,
            follow_up_at = n.follow_up_at,
            follow_up_notes = n.follow_up_notes,
            cancellation_reason = n.cancellation_reason,
            consultant_id = n.consultant_id,
            cancelled_at = n.cancelled_at,
            completed_at = n.completed_at
         WHERE consultations.id = p_id
        RETURNING * INTO n;
    EXCEPTION WHEN exclusion_violation THEN
        RETURN QUERY SELECT 'slot_taken', NULL::text, NULL::json, NULL::uuid;
        RETURN;
    END;
    RETURN QUERY SELECT 'ok', NULL::text, lcrm_consultation_json(n), n.id;
END $$;

-- DELETE /api/consultations/:id: cancels.  Outcomes: 'ok' (also when it
-- was already CANCELLED: idempotent), 'not_found' (missing, or not the
-- USER's own), 'invalid_transition' (COMPLETED or NO_SHOW), 'forbidden'
-- (a USER's consultation that has already started).
CREATE FUNCTION lcrm_consultation_cancel(p_id uuid, p_caller uuid,
                                         p_admin boolean)
RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    c consultations;
BEGIN
    SELECT * INTO c FROM consultations WHERE id = p_id FOR UPDATE;
    -- coalesce: an anonymous booking (user_id NULL) belongs to no USER
    IF c.id IS NULL OR NOT (p_admin OR coalesce(c.user_id = p_caller, false))
    THEN
        RETURN 'not_found';
    ELSIF c.status = 'CANCELLED' THEN
        RETURN 'ok';
    ELSIF c.status NOT IN ('SCHEDULED', 'CONFIRMED') THEN
        RETURN 'invalid_transition';
    ELSIF NOT p_admin AND c.scheduled_at <= now() THEN
        RETURN 'forbidden';
    END IF;
    UPDATE consultations SET status = 'CANCELLED', cancelled_at = now()
     WHERE id = p_id;
    RETURN 'ok';
END $$;
