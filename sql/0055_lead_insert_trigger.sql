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
-- mail is on; lcrm_mail_enqueue unchanged).  One shard per transaction as
-- before (txid_current() % 16).  Results are identical: the same rows in
-- lead_counts, lead_rollup, lead_rollup_version and mail_outbox.
--
-- The three INSERT triggers are replaced; leads_mail_after keeps only its
-- UPDATE OF assigned_to_id half (lcrm_mail_leads_after is unchanged, its
-- INSERT branch is no longer reached).  No function is replaced.

CREATE FUNCTION lcrm_lead_insert_tally() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    s smallint := (txid_current() % 16)::smallint;
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
