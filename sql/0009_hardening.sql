-- 0009_hardening: issue 10 (hardening round 2), helper H2.
--
-- Booking without leadId (issue 10.10).  Before, a booking linked the
-- newest live lead with the booked email whoever the caller was, so a USER
-- (or anyone) booking with someone else's email learnt from the returned
-- leadId whether that person was a lead, and attached consultations to
-- other people's leads.  Now only ADMIN and SUPER_ADMIN bookings link any
-- lead by email; a USER's booking links only a lead that user owns
-- (leads.user_id); an anonymous booking always creates a new lead.
--
-- CREATE OR REPLACE of lcrm_booking_lead (0006_consultations.sql), same
-- signature.  Changed vs. 0006: the lookup is restricted by the caller's
-- role (read from users, as the session check does) and ownership; the
-- lock, the insert and the return are unchanged.
CREATE OR REPLACE FUNCTION lcrm_booking_lead(p_email text, p_name text,
                                             p_phone text, p_caller uuid)
RETURNS uuid LANGUAGE plpgsql AS $$
DECLARE
    v_lead  uuid;
    v_admin boolean := p_caller IS NOT NULL AND EXISTS (
        SELECT 1 FROM users u
         WHERE u.id = p_caller AND u.role IN ('ADMIN', 'SUPER_ADMIN')
           AND u.deleted_at IS NULL AND u.is_active);
BEGIN
    PERFORM pg_advisory_xact_lock(
        hashtextextended('lcrm_booking_lead:' || lower(p_email), 0));
    IF p_caller IS NOT NULL THEN
        SELECT id INTO v_lead FROM leads
         WHERE lower(email) = lower(p_email) AND deleted_at IS NULL
           AND (v_admin OR user_id = p_caller)
         ORDER BY created_at DESC, id DESC LIMIT 1;
    END IF;
    IF v_lead IS NULL THEN
        INSERT INTO leads (name, email, phone, source, user_id)
        VALUES (p_name, p_email, p_phone, 'WEBSITE', p_caller)
        RETURNING id INTO v_lead;
    END IF;
    RETURN v_lead;
END $$;
