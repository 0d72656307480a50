-- 0055_lead_insert_trigger: one trigger for what an INSERT into leads
-- keeps in step (issue 11, writes: "cut the trigger cost").
--
-- Before, one INSERT INTO leads (POST /api/leads, a booking's new lead)
-- fired three triggers: leads_counts_insert (0010, PL/pgSQL, one upsert),
-- leads_rollup_insert (0040, PL/pgSQL, one upsert, GET DIAGNOSTICS, then
-- PERFORM lcrm_lead_rollup_bump(): a SQL function with an INSERT body is
-- never inlined, so its body was parsed and planned on every insert) and
-- leads_mail_after (0015, FOR EACH ROW: a PL/pgSQL call and a SELECT of
-- mail_state per row, even with mail off).  Now one statement-level
-- trigger, leads_insert_tally, runs them as three statements of one
-- function with cached plans: the counts upsert (0010's, unchanged), the
-- rollup upsert and the version bump in one statement (the bump reads the
-- rollup statement's row count through count(*), so every rollup row is
-- locked before the version row: the lock order of 0040 stays counts ->
-- rollup -> version, and the UPDATE/DELETE triggers, which keep 0010's
-- and 0040's functions, take the same order), and the new-lead alerts
-- (0015's lead_alert mails, one per lead and notified admin, only when
-- mail is on; lcrm_mail_enqueue unchanged).  Results are identical: the
-- same sums in lead_counts, lead_rollup, lead_rollup_version and the same
-- rows in mail_outbox.
--
-- Shards.  0010 and 0040 took one shard per transaction, txid % 16: with
-- 16 writers at once most transactions shared a shard with another one
-- and waited for its commit on the same counter rows (Lock:transactionid
-- was the most frequent wait event under 16 concurrent bookings).  Now a
-- session takes one shard the first time it writes a lead and keeps it
-- (lcrm_lead_shard: a sequence, modulo 64, remembered in a session
-- setting), so up to 64 sessions (httpd's pools) write disjoint rows; a
-- transaction still uses one shard for all its statements, so the lock
-- order argument of 0010 holds.  Readers sum the shards as before.
--
-- The three INSERT triggers are replaced; leads_mail_after keeps only its
-- UPDATE OF assigned_to_id half (lcrm_mail_leads_after is unchanged, its
-- INSERT branch is no longer reached).  CREATE OR REPLACE of
-- lcrm_lead_counts_apply (0010), lcrm_lead_rollup_apply and
-- lcrm_lead_rollup_delete (0040): changed only their shard line
-- (txid_current() % 16 -> lcrm_lead_shard()), so that every statement of a
-- transaction still uses one shard.

-- The session's shard of lead_counts and lead_rollup(_version), 0..63.
CREATE SEQUENCE lcrm_lead_shard_seq;
CREATE FUNCTION lcrm_lead_shard() RETURNS smallint
LANGUAGE plpgsql AS $$
DECLARE
    s text := current_setting('lcrm.lead_shard', true);
BEGIN
    IF coalesce(s, '') = '' THEN
        s := (nextval('lcrm_lead_shard_seq') % 64)::text;
        PERFORM set_config('lcrm.lead_shard', s, false);
    END IF;
    RETURN s::smallint;
END
$$;

CREATE FUNCTION lcrm_lead_insert_tally() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    s smallint := lcrm_lead_shard();
BEGIN
    INSERT INTO lead_counts (dim, key, shard, n)
    SELECT k.dim, k.key, s, count(*)
    FROM lcrm_new_leads r,
         lcrm_lead_count_keys(r.status, r.source, r.assigned_to_id, r.user_id) k
    WHERE r.deleted_at IS NULL
    GROUP BY k.dim, k.key ORDER BY k.dim, k.key
    ON CONFLICT (dim, key, shard) DO UPDATE SET n = lead_counts.n + EXCLUDED.n;

    WITH changed AS (
        INSERT INTO lead_rollup (lvl, bucket, status, source, shard, n, secs)
        SELECT k.lvl, k.bucket, r.status, r.source, s, count(*),
               sum(lcrm_lead_rollup_secs(r.status, r.converted_at,
                                         r.created_at))
        FROM lcrm_new_leads r, lcrm_lead_rollup_keys(r.created_at) k
        WHERE r.deleted_at IS NULL
        GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
        ON CONFLICT (lvl, bucket, status, source, shard) DO UPDATE
        SET n = lead_rollup.n + EXCLUDED.n,
            secs = lead_rollup.secs + EXCLUDED.secs
        RETURNING 1)
    INSERT INTO lead_rollup_version (shard, v)
    SELECT s, 1 FROM (SELECT count(*) AS n FROM changed) c WHERE c.n > 0
    ON CONFLICT (shard) DO UPDATE SET v = lead_rollup_version.v + 1;

    PERFORM lcrm_mail_enqueue('lead_alert', a.admin, r.id, NULL, false)
    FROM mail_state m, lcrm_new_leads r,
         unnest(m.notify_admins) WITH ORDINALITY a(admin, i)
    WHERE m.enabled
    ORDER BY r.created_at, r.id, a.i;
    RETURN NULL;
END
$$;

DROP TRIGGER leads_counts_insert ON leads;
DROP TRIGGER leads_rollup_insert ON leads;
DROP TRIGGER leads_mail_after ON leads;

CREATE TRIGGER leads_insert_tally AFTER INSERT ON leads
    REFERENCING NEW TABLE AS lcrm_new_leads
    FOR EACH STATEMENT EXECUTE FUNCTION lcrm_lead_insert_tally();
CREATE TRIGGER leads_mail_after
    AFTER UPDATE OF assigned_to_id ON leads
    FOR EACH ROW EXECUTE FUNCTION lcrm_mail_leads_after();

-- lcrm_lead_counts_apply (sql/0010_lead_counts.sql): only the shard line changed.
CREATE OR REPLACE FUNCTION lcrm_lead_counts_apply() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    -- one shard per transaction (not per statement): two statements of
    -- one transaction never lock counter rows of two shards in an order
    -- another transaction could reverse (a deadlock)
    s smallint := lcrm_lead_shard();
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        DELETE FROM lead_counts;
        RETURN NULL;
    END IF;
    IF TG_OP = 'INSERT' THEN
        INSERT INTO lead_counts (dim, key, shard, n)
        SELECT k.dim, k.key, s, count(*)
        FROM lcrm_new_leads r,
             lcrm_lead_count_keys(r.status, r.source, r.assigned_to_id, r.user_id) k
        WHERE r.deleted_at IS NULL
        GROUP BY k.dim, k.key ORDER BY k.dim, k.key
        ON CONFLICT (dim, key, shard) DO UPDATE SET n = lead_counts.n + EXCLUDED.n;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO lead_counts (dim, key, shard, n)
        SELECT k.dim, k.key, s, -count(*)
        FROM lcrm_old_leads r,
             lcrm_lead_count_keys(r.status, r.source, r.assigned_to_id, r.user_id) k
        WHERE r.deleted_at IS NULL
        GROUP BY k.dim, k.key ORDER BY k.dim, k.key
        ON CONFLICT (dim, key, shard) DO UPDATE SET n = lead_counts.n + EXCLUDED.n;
    ELSE
        INSERT INTO lead_counts (dim, key, shard, n)
        SELECT x.dim, x.key, s, sum(x.d)
        FROM (SELECT k.dim, k.key, -1 AS d
              FROM lcrm_old_leads r,
                   lcrm_lead_count_keys(r.status, r.source, r.assigned_to_id, r.user_id) k
              WHERE r.deleted_at IS NULL
              UNION ALL
              SELECT k.dim, k.key, 1
              FROM lcrm_new_leads r,
                   lcrm_lead_count_keys(r.status, r.source, r.assigned_to_id, r.user_id) k
              WHERE r.deleted_at IS NULL) x
        GROUP BY x.dim, x.key HAVING sum(x.d) <> 0 ORDER BY x.dim, x.key
        ON CONFLICT (dim, key, shard) DO UPDATE SET n = lead_counts.n + EXCLUDED.n;
    END IF;
    RETURN NULL;
END
$$;

-- lcrm_lead_rollup_apply (sql/0040_lead_rollups.sql): only the shard line changed.
CREATE OR REPLACE FUNCTION lcrm_lead_rollup_apply() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    -- one shard per transaction (see 0010's lcrm_lead_counts_apply)
    s smallint := lcrm_lead_shard();
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

-- lcrm_lead_rollup_delete (sql/0040_lead_rollups.sql): only the shard line changed.
CREATE OR REPLACE FUNCTION lcrm_lead_rollup_delete() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    s smallint := lcrm_lead_shard();
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
