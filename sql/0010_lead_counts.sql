-- Exact list totals for the common lead filters (issue 11): counter rows
-- kept by statement-level triggers in the same transaction as every write.
--
-- lead_counts holds, per dimension and key, the number of live leads
-- (deleted_at IS NULL):
--   dim 'all'      key ''          every live lead
--   dim 'status'   key the status
--   dim 'source'   key the source
--   dim 'assignee' key assigned_to_id (text)
--   dim 'owner'    key user_id (text)
-- spread over 16 shard rows per (dim, key) so concurrent writers rarely
-- wait on one row; a total is the sum of the shards.  The triggers use
-- transition tables: one aggregated upsert per statement (a bulk insert of
-- a million leads costs one statement), rows upserted in (dim, key) order
-- so concurrent writers never deadlock, and an UPDATE that changes none of
-- the counted columns (nor deleted_at) writes nothing.  TRUNCATE empties
-- the counts.  Totals for search and date ranges keep the capped count.
CREATE TABLE lead_counts (
    dim   text NOT NULL,
    key   text NOT NULL,
    shard smallint NOT NULL,
    n     bigint NOT NULL,
    PRIMARY KEY (dim, key, shard)
);

-- The (dim, key) pairs a lead counts in.
CREATE FUNCTION lcrm_lead_count_keys(status lcrm_lead_status,
                                     source lcrm_lead_source,
                                     assigned_to_id uuid, user_id uuid)
RETURNS TABLE (dim text, key text)
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT d.dim, d.key FROM (VALUES
        ('all', ''), ('status', status::text), ('source', source::text),
        ('assignee', assigned_to_id::text), ('owner', user_id::text)) d(dim, key)
    WHERE d.key IS NOT NULL
$$;

CREATE FUNCTION lcrm_lead_counts_apply() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    -- one shard per transaction (not per statement): two statements of
    -- one transaction never lock counter rows of two shards in an order
    -- another transaction could reverse (a deadlock)
    s smallint := (txid_current() % 16)::smallint;
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

CREATE TRIGGER leads_counts_insert AFTER INSERT ON leads
    REFERENCING NEW TABLE AS lcrm_new_leads
    FOR EACH STATEMENT EXECUTE FUNCTION lcrm_lead_counts_apply();
CREATE TRIGGER leads_counts_update AFTER UPDATE ON leads
    REFERENCING OLD TABLE AS lcrm_old_leads NEW TABLE AS lcrm_new_leads
    FOR EACH STATEMENT EXECUTE FUNCTION lcrm_lead_counts_apply();
CREATE TRIGGER leads_counts_delete AFTER DELETE ON leads
    REFERENCING OLD TABLE AS lcrm_old_leads
    FOR EACH STATEMENT EXECUTE FUNCTION lcrm_lead_counts_apply();
CREATE TRIGGER leads_counts_truncate AFTER TRUNCATE ON leads
    FOR EACH STATEMENT EXECUTE FUNCTION lcrm_lead_counts_apply();

-- The counts of the leads already there (taken under the migration's lock
-- on leads, so no write slips between the backfill and the triggers).
LOCK TABLE leads IN SHARE MODE;
INSERT INTO lead_counts (dim, key, shard, n)
SELECT k.dim, k.key, 0, count(*)
FROM leads r,
     lcrm_lead_count_keys(r.status, r.source, r.assigned_to_id, r.user_id) k
WHERE r.deleted_at IS NULL
GROUP BY k.dim, k.key;

-- An exact total: the sum of the shards (0 when nothing was counted).
CREATE FUNCTION lcrm_lead_count(dim text, key text) RETURNS bigint
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT coalesce(sum(c.n), 0)::bigint FROM lead_counts c
    WHERE c.dim = $1 AND c.key = $2
$$;
