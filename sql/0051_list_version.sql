-- List versions (issue 11, LeadCRMCache for the list reads): the version
-- every cached list answer is keyed by.  A cached GET /api/leads page is
-- keyed by version 'l', a cached GET /api/consultations page or
-- availability answer by version 'c'; the version a request reads from
-- this database changes, in the writing transaction, with every statement
-- that can change a byte of those answers:
--   'l'  any INSERT, UPDATE (every column), DELETE or TRUNCATE of leads
--        (the lead JSON renders lead columns only; the exact totals come
--        from 0010's counters, kept by the same statements);
--   'c'  any INSERT, UPDATE, DELETE or TRUNCATE of consultations, and the
--        user changes availability reads (lcrm_is_consultant: role,
--        is_active, deleted_at; users inserted or deleted).
-- Statement-level triggers (cascaded foreign-key actions fire them too),
-- one upsert per statement on one of 16 shard rows per kind (one shard per
-- transaction, as 0010's counters and 0040's rollup version), so
-- concurrent writers do not queue on one row.  The version is the sum over
-- the shards: it grows with every committed bump and never goes back, so a
-- key built from a version read in a request is never read after a later
-- committed change on any node.  0040's lcrm_lead_rollup_version() moves
-- only when a rollup row changes (not on a rename): hence this one.
CREATE TABLE lcrm_list_version (
    kind  "char" NOT NULL,
    shard smallint NOT NULL,
    v     bigint NOT NULL,
    PRIMARY KEY (kind, shard)
);

-- The trigger: bumps shard (txid % 16) of kind TG_ARGV[0].
CREATE FUNCTION lcrm_list_version_bump() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO lcrm_list_version (kind, shard, v)
    VALUES (TG_ARGV[0]::"char", (txid_current() % 16)::smallint, 1)
    ON CONFLICT (kind, shard) DO UPDATE SET v = lcrm_list_version.v + 1;
    RETURN NULL;
END
$$;

-- The current version of kind k (0 before any write).
CREATE FUNCTION lcrm_list_version(k "char") RETURNS bigint
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT coalesce(sum(v), 0)::bigint FROM lcrm_list_version WHERE kind = k
$$;

CREATE TRIGGER leads_list_version
    AFTER INSERT OR UPDATE OR DELETE ON leads
    FOR EACH STATEMENT EXECUTE FUNCTION lcrm_list_version_bump('l');
CREATE TRIGGER leads_list_version_truncate AFTER TRUNCATE ON leads
    FOR EACH STATEMENT EXECUTE FUNCTION lcrm_list_version_bump('l');
CREATE TRIGGER consultations_list_version
    AFTER INSERT OR UPDATE OR DELETE ON consultations
    FOR EACH STATEMENT EXECUTE FUNCTION lcrm_list_version_bump('c');
CREATE TRIGGER consultations_list_version_truncate AFTER TRUNCATE
    ON consultations
    FOR EACH STATEMENT EXECUTE FUNCTION lcrm_list_version_bump('c');
CREATE TRIGGER users_list_version
    AFTER INSERT OR DELETE OR UPDATE OF role, is_active, deleted_at ON users
    FOR EACH STATEMENT EXECUTE FUNCTION lcrm_list_version_bump('c');
CREATE TRIGGER users_list_version_truncate AFTER TRUNCATE ON users
    FOR EACH STATEMENT EXECUTE FUNCTION lcrm_list_version_bump('c');

-- GET /api/consultations/availability for the cache: 0006's answer, and
-- until_us, the first instant (microseconds since the epoch) after now()
-- from which the mere passing of time may change it: a slot start s is offered
-- while now() < s, now() <= s - notice and now() >= s - horizon, so the
-- answer is constant until the first of those thresholds still ahead.
-- NULL until_us: none ahead (nothing left to offer on that date).
CREATE FUNCTION lcrm_consultation_availability_until(
        p_date date, p_duration integer, p_consultant uuid,
        p_rules lcrm_booking_rules)
RETURNS TABLE (body json, until_us bigint) LANGUAGE sql STABLE AS $$
    SELECT lcrm_consultation_availability(p_date, p_duration, p_consultant,
                                          p_rules),
           (SELECT (floor(extract(epoch FROM min(t.at)) * 1000000))::bigint
              FROM lcrm_business_slots(p_date, (p_rules).time_zone,
                                       (p_rules).days, (p_rules).open_min,
                                       (p_rules).close_min, p_duration) s,
                   LATERAL (VALUES (s.slot_start),
                       (s.slot_start
                        - make_interval(secs => (p_rules).notice_s)),
                       (s.slot_start
                        - make_interval(secs => (p_rules).horizon_s))) t(at)
             WHERE t.at >= now())
$$;
