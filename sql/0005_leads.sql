-- 0005_leads: lead updates as one database function, and the sort indexes
-- the lead list needs beyond those of 0001.
--
-- Applied by scripts/migrate inside one transaction: no BEGIN/COMMIT here.

-- ---------------------------------------------------------------- indexes

-- Descending score / estimatedValue sorts put leads without a value LAST
-- (a client asking for "highest first" wants scored leads first), which a
-- backward scan of the ascending (NULLS LAST) indexes of 0001 cannot give.
CREATE INDEX leads_score_desc_idx
    ON leads (score DESC NULLS LAST, id DESC) WHERE deleted_at IS NULL;
CREATE INDEX leads_estimated_value_desc_idx
    ON leads (estimated_value DESC NULLS LAST, id DESC)
    WHERE deleted_at IS NULL;
-- sort=status orders by (status, created_at DESC, id DESC): within a status
-- the newest first.  0001's (status, created_at DESC) lacks the id
-- tie-breaker; this one serves the sort and the status filter with every
-- created_at sort in one ordered scan (both directions).
CREATE INDEX leads_status_created_at_id_idx
    ON leads (status, created_at DESC, id DESC) WHERE deleted_at IS NULL;
DROP INDEX leads_status_created_at_idx;

-- ---------------------------------------------------------------- update

-- PUT|PATCH /api/leads/:id in one transaction.  p holds only the fields the
-- client sent, keyed by their API (camelCase) names, values already
-- validated by the C field table and given as JSON strings in SQL text form
-- (or JSON null to clear).  Business rules decided here, under the row lock:
--  * assignedToId must name a live, active ADMIN or SUPER_ADMIN (that user
--    row is share-locked until commit, so it cannot be demoted or
--    deactivated concurrently between the check and the update);
--  * LOST needs a non-blank lostReason, sent now or already stored;
--  * entering CONVERTED sets converted_at to now, staying CONVERTED keeps
--    it, leaving CONVERTED clears it (converted_at always describes the
--    current conversion, so stats never count a stale one).
-- Outcome: 'ok' (lead_json set), 'not_found', or 'invalid' with the flags
-- saying which rule failed (both may be true).
CREATE FUNCTION lcrm_lead_update(p_id uuid, p jsonb)
RETURNS TABLE (outcome text, lead_json json, bad_assignee boolean,
               needs_lost_reason boolean)
LANGUAGE plpgsql AS $$
DECLARE
    v leads;
    v_status lcrm_lead_status;
    v_reason text;
    v_bad_assignee boolean := false;
    v_needs_reason boolean;
BEGIN
    SELECT * INTO v FROM leads l
     WHERE l.id = p_id AND l.deleted_at IS NULL FOR UPDATE;
    IF NOT FOUND THEN
        RETURN QUERY SELECT 'not_found'::text, NULL::json, false, false;
        RETURN;
    END IF;
    IF p ? 'assignedToId' AND p->>'assignedToId' IS NOT NULL THEN
        PERFORM 1 FROM users u
         WHERE u.id = (p->>'assignedToId')::uuid AND u.deleted_at IS NULL
           AND u.is_active AND u.role IN ('ADMIN', 'SUPER_ADMIN')
           FOR SHARE;
        v_bad_assignee := NOT FOUND;
    END IF;
    v_status := CASE WHEN p ? 'status'
                     THEN (p->>'status')::lcrm_lead_status ELSE v.status END;
    v_reason := CASE WHEN p ? 'lostReason' THEN p->>'lostReason'
                     ELSE v.lost_reason END;
    v_needs_reason := v_status = 'LOST'
                      AND coalesce(btrim(v_reason, E' \t\n\r'), '') = '';
    IF v_bad_assignee OR v_needs_reason THEN
        RETURN QUERY SELECT 'invalid'::text, NULL::json, v_bad_assignee,
                            v_needs_reason;
        RETURN;
    END IF;
    IF p <> '{}'::jsonb THEN
        UPDATE leads l SET
            name = CASE WHEN p ? 'name' THEN p->>'name' ELSE l.name END,
            email = CASE WHEN p ? 'email' THEN p->>'email' ELSE l.email END,
            phone = CASE WHEN p ? 'phone' THEN p->>'phone' ELSE l.phone END,
            company = CASE WHEN p ? 'company' THEN p->>'company'
                           ELSE l.company END,
            job_title = CASE WHEN p ? 'jobTitle' THEN p->>'jobTitle'
                             ELSE l.job_title END,
            message = CASE WHEN p ? 'message' THEN p->>'message'
                           ELSE l.message END,
            source = CASE WHEN p ? 'source'
                          THEN (p->>'source')::lcrm_lead_source
                          ELSE l.source END,
            utm_source = CASE WHEN p ? 'utmSource' THEN p->>'utmSource'
                              ELSE l.utm_source END,
            utm_medium = CASE WHEN p ? 'utmMedium' THEN p->>'utmMedium'
                              ELSE l.utm_medium END,
            utm_campaign = CASE WHEN p ? 'utmCampaign' THEN p->>'utmCampaign'
                                ELSE l.utm_campaign END,
            utm_term = CASE WHEN p ? 'utmTerm' THEN p->>'utmTerm'
                            ELSE l.utm_term END,
            utm_content = CASE WHEN p ? 'utmContent' THEN p->>'utmContent'
                               ELSE l.utm_content END,
            referrer = CASE WHEN p ? 'referrer' THEN p->>'referrer'
                            ELSE l.referrer END,
            landing_page = CASE WHEN p ? 'landingPage' THEN p->>'landingPage'
                                ELSE l.landing_page END,
            status = v_status,
            score = CASE WHEN p ? 'score' THEN (p->>'score')::integer
                         ELSE l.score END,
            estimated_value = CASE WHEN p ? 'estimatedValue'
                                   THEN (p->>'estimatedValue')::numeric
                                   ELSE l.estimated_value END,
            assigned_to_id = CASE WHEN p ? 'assignedToId'
                                  THEN (p->>'assignedToId')::uuid
                                  ELSE l.assigned_to_id END,
            lost_reason = v_reason,
            notes = CASE WHEN p ? 'notes' THEN p->>'notes' ELSE l.notes END,
            converted_at = CASE
                WHEN v_status <> 'CONVERTED' THEN NULL
                WHEN v.status = 'CONVERTED' THEN l.converted_at
                ELSE now() END
         WHERE l.id = p_id
        RETURNING * INTO v;
    END IF;
    RETURN QUERY SELECT 'ok'::text, lcrm_lead_json(v), false, false;
END $$;

-- ---------------------------------------------------------------- stats

-- part / whole rounded to 4 decimals, 0 when whole is 0 (API.md "Stats").
-- float8 so that JSON shows 0.25 and 1, not 0.2500 and 1.0000.
CREATE FUNCTION lcrm_rate(part bigint, whole bigint) RETURNS float8
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT CASE WHEN whole = 0 THEN 0::float8
                ELSE round(part::numeric / whole, 4)::float8 END
$$;
