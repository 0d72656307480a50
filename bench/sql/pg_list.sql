-- pgbench: what GET /api/leads?page=1&limit=20 runs for an ADMIN,
-- statement for statement (SQL text assembled exactly as lead_list() in
-- mod_leadcrm/api/lcrm_leads.c does, no filter, default sort).
-- Variables (pgbench -D): sid, sub.
\set lim 20
\set off 0
\set page 1
SELECT u.role FROM sessions s JOIN users u ON u.id = s.user_id
 WHERE s.id = CAST(:sid AS uuid) AND s.user_id = CAST(:sub AS uuid)
   AND s.revoked_at IS NULL AND s.expires_at > now()
   AND u.deleted_at IS NULL AND u.is_active;
WITH c AS (SELECT count(*) AS n FROM (SELECT 1 FROM leads l WHERE l.deleted_at IS NULL LIMIT 10001) s), d AS (SELECT json_agg(lcrm_lead_json(p.l) ORDER BY p.n) AS a FROM (SELECT l, row_number() OVER (ORDER BY created_at DESC, id DESC) AS n FROM leads l WHERE l.deleted_at IS NULL ORDER BY created_at DESC, id DESC LIMIT CAST(:lim AS bigint) OFFSET CAST(:off AS bigint)) p) SELECT json_build_object('data', coalesce(d.a, '[]'::json), 'pagination', json_build_object('page', x.page, 'limit', x.lim, 'total', c.n, 'totalPages', (c.n + x.lim - 1) / x.lim, 'totalIsExact', c.n < 10001)) FROM c, d, (SELECT CAST(:page AS bigint) AS page, CAST(:lim AS bigint) AS lim) x;
