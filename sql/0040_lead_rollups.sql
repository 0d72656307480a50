-- Stats rollups (issue 11): GET /api/leads/stats and /stats/series answered
-- from small tables kept by statement-level triggers in the same
-- transaction as every lead write, instead of aggregating the leads table.
--
-- lead_rollup holds, per level and bucket, per (status, source), the number
-- of live leads (deleted_at IS NULL) created in the bucket and the sum of
-- their conversion times in seconds (converted_at - created_at, CONVERTED
-- leads only, 0 for the others):
--   lvl 'a'  bucket -infinity         every live lead (all time)
--   lvl 'd'  bucket the UTC day       of created_at
--   lvl 'h'  bucket the UTC hour      of created_at
-- spread over 16 shard rows like 0010's lead_counts (one shard per
-- transaction, rows upserted in key order: no deadlock, no queue on one
-- row).  Sums are exact (bigint, numeric), so a rollup answer equals a
-- from-scratch aggregate at all times.
--
-- A range [f, t) of created_at is cut into parts (lcrm_lead_rollup_parts):
-- whole UTC days from the 'd' rows, the whole hours beside them from the
-- 'h' rows, and the sub-hour edges from the leads themselves (at most two
-- hours of leads, through leads_created_at_idx); no bounds at all reads the
-- 'a' rows.  TRUNCATE empties the rollups.
CREATE TABLE lead_rollup (
    lvl    "char" NOT NULL,
    bucket timestamptz NOT NULL,
    status lcrm_lead_status NOT NULL,
    source lcrm_lead_source NOT NULL,
    shard  smallint NOT NULL,
    n      bigint NOT NULL,
    secs   numeric NOT NULL,
    PRIMARY KEY (lvl, bucket, status, source, shard)
);

-- The rollups' version (for LeadCRMCache keys): the sum of v over the
-- shards grows, in the writing transaction, with every statement that
-- changes a rollup, so a cached answer keyed by the version a reader got
-- from this database is never read after a committed change on any node.
CREATE TABLE lead_rollup_version (
    shard smallint PRIMARY KEY,
    v     bigint NOT NULL
);

-- Bumps shard s of the version (after the rollup rows: one lock order).
CREATE FUNCTION lcrm_lead_rollup_bump(s smallint) RETURNS void
LANGUAGE sql AS $$
    INSERT INTO lead_rollup_version (shard, v) VALUES (s, 1)
    ON CONFLICT (shard) DO UPDATE SET v = lead_rollup_version.v + 1
$$;

-- The current version (0 before any write).
CREATE FUNCTION lcrm_lead_rollup_version() RETURNS bigint
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT coalesce(sum(v), 0)::bigint FROM lead_rollup_version
$$;

-- The seconds a lead adds to the conversion time sum.
CREATE FUNCTION lcrm_lead_rollup_secs(status lcrm_lead_status,
                                      converted_at timestamptz,
                                      created_at timestamptz)
RETURNS numeric LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN status = 'CONVERTED'
                THEN coalesce(extract(epoch FROM converted_at - created_at), 0)
                ELSE 0 END
$$;

-- The (lvl, bucket) pairs a lead created at c counts in.
CREATE FUNCTION lcrm_lead_rollup_keys(c timestamptz)
RETURNS TABLE (lvl "char", bucket timestamptz)
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT d.lvl::"char", d.bucket FROM (VALUES
        ('a', '-infinity'::timestamptz),
        ('d', date_trunc('day', c, 'UTC')),
        ('h', date_trunc('hour', c, 'UTC'))) d(lvl, bucket)
$$;

CREATE FUNCTION lcrm_lead_rollup_apply() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    -- one shard per transaction (see 0010's lcrm_lead_counts_apply)
    s smallint := (txid_current() % 16)::smallint;
    changed bigint;
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        DELETE FROM lead_rollup;
        PERFORM lcrm_lead_rollup_bump(s);
        RETURN NULL;
    END IF;
    IF TG_OP = 'INSERT' THEN
        INSERT INTO lead_rollup (lvl, bucket, status, source, shard, n, secs)
        SELECT k.lvl, k.bucket, r.status, r.source, s, count(*),
               sum(lcrm_lead_rollup_secs(r.status, r.converted_at, r.created_at))
        FROM lcrm_new_leads r, lcrm_lead_rollup_keys(r.created_at) k
        WHERE r.deleted_at IS NULL
        GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
        ON CONFLICT (lvl, bucket, status, source, shard) DO UPDATE
        SET n = lead_rollup.n + EXCLUDED.n,
            secs = lead_rollup.secs + EXCLUDED.secs;
    ELSE  -- UPDATE
        INSERT INTO lead_rollup (lvl, bucket, status, source, shard, n, secs)
        SELECT x.lvl, x.bucket, x.status, x.source, s, sum(x.n), sum(x.secs)
        FROM (SELECT k.lvl, k.bucket, r.status, r.source, -1 AS n,
                     -lcrm_lead_rollup_secs(r.status, r.converted_at,
                                            r.created_at) AS secs
              FROM lcrm_old_leads r, lcrm_lead_rollup_keys(r.created_at) k
              WHERE r.deleted_at IS NULL
              UNION ALL
              SELECT k.lvl, k.bucket, r.status, r.source, 1,
                     lcrm_lead_rollup_secs(r.status, r.converted_at,
                                           r.created_at)
              FROM lcrm_new_leads r, lcrm_lead_rollup_keys(r.created_at) k
              WHERE r.deleted_at IS NULL) x
        GROUP BY 1, 2, 3, 4 HAVING sum(x.n) <> 0 OR sum(x.secs) <> 0
        ORDER BY 1, 2, 3, 4
        ON CONFLICT (lvl, bucket, status, source, shard) DO UPDATE
        SET n = lead_rollup.n + EXCLUDED.n,
            secs = lead_rollup.secs + EXCLUDED.secs;
    END IF;
    GET DIAGNOSTICS changed = ROW_COUNT;
    IF changed > 0 THEN
        PERFORM lcrm_lead_rollup_bump(s);
    END IF;
    RETURN NULL;
END
$$;

-- DELETE: no new transition table, hence a function of its own.
CREATE FUNCTION lcrm_lead_rollup_delete() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    s smallint := (txid_current() % 16)::smallint;
    changed bigint;
BEGIN
    INSERT INTO lead_rollup (lvl, bucket, status, source, shard, n, secs)
    SELECT k.lvl, k.bucket, r.status, r.source, s, -count(*),
           -sum(lcrm_lead_rollup_secs(r.status, r.converted_at, r.created_at))
    FROM lcrm_old_leads r, lcrm_lead_rollup_keys(r.created_at) k
    WHERE r.deleted_at IS NULL
    GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
    ON CONFLICT (lvl, bucket, status, source, shard) DO UPDATE
    SET n = lead_rollup.n + EXCLUDED.n,
        secs = lead_rollup.secs + EXCLUDED.secs;
    GET DIAGNOSTICS changed = ROW_COUNT;
    IF changed > 0 THEN
        PERFORM lcrm_lead_rollup_bump(s);
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER leads_rollup_insert AFTER INSERT ON leads
    REFERENCING NEW TABLE AS lcrm_new_leads
    FOR EACH STATEMENT EXECUTE FUNCTION lcrm_lead_rollup_apply();
CREATE TRIGGER leads_rollup_update AFTER UPDATE ON leads
    REFERENCING OLD TABLE AS lcrm_old_leads NEW TABLE AS lcrm_new_leads
    FOR EACH STATEMENT EXECUTE FUNCTION lcrm_lead_rollup_apply();
CREATE TRIGGER leads_rollup_delete AFTER DELETE ON leads
    REFERENCING OLD TABLE AS lcrm_old_leads
    FOR EACH STATEMENT EXECUTE FUNCTION lcrm_lead_rollup_delete();
CREATE TRIGGER leads_rollup_truncate AFTER TRUNCATE ON leads
    FOR EACH STATEMENT EXECUTE FUNCTION lcrm_lead_rollup_apply();

-- The rollups of the leads already there (under the migration's lock on
-- leads, so no write slips between the backfill and the triggers).
LOCK TABLE leads IN SHARE MODE;
INSERT INTO lead_rollup (lvl, bucket, status, source, shard, n, secs)
SELECT k.lvl, k.bucket, r.status, r.source, 0, count(*),
       sum(lcrm_lead_rollup_secs(r.status, r.converted_at, r.created_at))
FROM leads r, lcrm_lead_rollup_keys(r.created_at) k
WHERE r.deleted_at IS NULL
GROUP BY 1, 2, 3, 4;

-- x rounded up to a whole UTC unit ('hour' or 'day'; infinities stay).
CREATE FUNCTION lcrm_ceil_utc(unit text, x timestamptz) RETURNS timestamptz
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN date_trunc(unit, x, 'UTC') = x THEN x
                ELSE date_trunc(unit, x, 'UTC') + CAST('1 ' || unit AS interval)
           END
$$;

-- The parts of [f, t) (NULL = unbounded): lvl 'a' (everything), 'd' / 'h'
-- (rollup buckets in [lo, hi)) or 'l' (leads created in [lo, hi)).
CREATE FUNCTION lcrm_lead_rollup_parts(f timestamptz, t timestamptz)
RETURNS TABLE (lvl "char", lo timestamptz, hi timestamptz)
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    WITH b AS (SELECT coalesce(f, '-infinity') AS f,
                      coalesce(t, 'infinity') AS t),
    h AS (SELECT b.f, b.t, lcrm_ceil_utc('hour', b.f) AS h1,
                 date_trunc('hour', b.t, 'UTC') AS h2 FROM b),
    d AS (SELECT h.*, lcrm_ceil_utc('day', h.h1) AS d1,
                 date_trunc('day', h.h2, 'UTC') AS d2 FROM h)
    SELECT p.lvl::"char", p.lo, p.hi FROM d, LATERAL (VALUES
        ('a', '-infinity'::timestamptz, 'infinity'::timestamptz,
         d.f = '-infinity' AND d.t = 'infinity'),
        ('l', d.f, d.t, d.h1 >= d.h2),
        ('l', d.f, d.h1, d.h1 < d.h2),
        ('l', d.h2, d.t, d.h1 < d.h2),
        ('h', d.h1, d.h2, d.h1 < d.h2 AND d.d1 >= d.d2),
        ('h', d.h1, d.d1, d.d1 < d.d2),
        ('d', d.d1, d.d2, d.d1 < d.d2),
        ('h', d.d2, d.h2, d.d1 < d.d2)) p(lvl, lo, hi, used)
    WHERE p.used AND p.lo < p.hi
      AND (p.lvl = 'a' OR NOT (d.f = '-infinity' AND d.t = 'infinity'))
$$;

-- Live leads created in [f, t) (NULL = unbounded) per (status, source):
-- their number and their conversion time sum, from the rollups and the
-- sub-hour edges.  Pairs without leads may be missing.  PL/pgSQL, not SQL:
-- the series calls it once per bucket, and a PL/pgSQL statement keeps its
-- plan for the session (a non-inlined SQL function plans on every call,
-- ~1 ms each); inlined SQL was worse: its row estimates summed over the
-- buckets passed jit_above_cost, and compiling took ~600 ms of a query
-- that runs in tens (measured at 1M leads).  jit = off for the same reason.
CREATE FUNCTION lcrm_lead_rollup_range(f timestamptz, t timestamptz)
RETURNS TABLE (status lcrm_lead_status, source lcrm_lead_source,
               n bigint, secs numeric)
LANGUAGE plpgsql STABLE PARALLEL SAFE SET jit = off AS $$
BEGIN
    RETURN QUERY
    SELECT x.status, x.source, sum(x.n)::bigint, sum(x.secs)
    FROM lcrm_lead_rollup_parts(f, t) p CROSS JOIN LATERAL (
        SELECT r.status, r.source, r.n, r.secs FROM lead_rollup r
        WHERE p.lvl <> 'l' AND r.lvl = p.lvl
          AND r.bucket >= p.lo AND r.bucket < p.hi
        UNION ALL
        SELECT l.status, l.source, 1::bigint,
               lcrm_lead_rollup_secs(l.status, l.converted_at, l.created_at)
        FROM leads l
        WHERE p.lvl = 'l' AND l.deleted_at IS NULL
          AND l.created_at >= p.lo AND l.created_at < p.hi) x
    GROUP BY x.status, x.source;
END
$$;
