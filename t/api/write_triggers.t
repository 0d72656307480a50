# The write path of a lead INSERT (issue 11, writes; sql/0055): one
# statement-level trigger keeps the counters, the stats rollups, the
# rollups' version and the new-lead alerts, with the same results the three
# triggers of 0010, 0040 and 0015 gave: counters and rollups equal a
# from-scratch aggregate after multi-row inserts with deleted rows, the
# version grows by one per INSERT statement that adds a live lead, one
# lead_alert mail per lead and notified admin while mail is on (none while
# off), and an assignment still queues its lead_assigned mail.  Mail state
# is changed only inside transactions that roll back.  A session keeps one
# shard of the counter rows (lcrm_lead_shard) across its transactions.  The booking checks
# of sql/0056 are PL/pgSQL and answer as before.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(-withtestmore);
use LeadCRM::Test;

my $admin = make_user(role => 'ADMIN');
my $TAG = 'wtr' . $$ . 'z' . int(rand(1_000_000));

# INSERT triggers on leads: the tally and the list cache's version (0051),
# both per statement (tgtype bit 0 = ROW, bit 2 = INSERT)
is db(q{SELECT string_agg(tgname || ':' || (tgtype & 1)::text, ','
                          ORDER BY tgname) FROM pg_trigger
        WHERE tgrelid = 'leads'::regclass AND NOT tgisinternal
          AND tgtype & 4 <> 0}),
    'leads_insert_tally:0,leads_list_version:0',
    'one INSERT tally trigger on leads (no per-row trigger)';

# sql/0056: the booking's checks keep their plans (SQL functions with a
# sub-select are never inlined and were planned on every call)
is db(q{SELECT string_agg(p.proname || ':' || l.lanname, ',' ORDER BY p.proname)
        FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang
        WHERE p.proname IN ('lcrm_is_time_zone', 'lcrm_is_consultant',
                            'lcrm_booking_problem')}),
    'lcrm_booking_problem:plpgsql,lcrm_is_consultant:plpgsql,'
    . 'lcrm_is_time_zone:plpgsql', 'booking checks are PL/pgSQL';
is db(q{SELECT lcrm_is_time_zone('UTC') || ',' || lcrm_is_time_zone('Europe/Paris')
        || ',' || lcrm_is_time_zone('Mars/Olympus') || ','
        || lcrm_is_consultant(CAST(:'p1' AS uuid)) || ','
        || lcrm_is_consultant(gen_random_uuid())}, $admin->{id}),
    'true,true,false,true,false', 'booking checks: same answers';

my $COUNTS = <<'SQL';
WITH real AS (
    SELECT k.dim, k.key, count(*) AS n FROM leads r,
           lcrm_lead_count_keys(r.status, r.source, r.assigned_to_id, r.user_id) k
    WHERE r.deleted_at IS NULL GROUP BY 1, 2),
counted AS (SELECT dim, key, sum(n) AS n FROM lead_counts GROUP BY 1, 2)
SELECT count(*) FROM real FULL JOIN counted USING (dim, key)
WHERE coalesce(real.n, 0) <> coalesce(counted.n, 0)
SQL
my $ROLLUPS = <<'SQL';
WITH real AS (
    SELECT k.lvl, k.bucket, r.status, r.source, count(*) AS n,
           sum(lcrm_lead_rollup_secs(r.status, r.converted_at, r.created_at)) AS secs
    FROM leads r, lcrm_lead_rollup_keys(r.created_at) k
    WHERE r.deleted_at IS NULL GROUP BY 1, 2, 3, 4),
rolled AS (SELECT lvl, bucket, status, source, sum(n) AS n, sum(secs) AS secs
           FROM lead_rollup GROUP BY 1, 2, 3, 4)
SELECT count(*) FROM real FULL JOIN rolled USING (lvl, bucket, status, source)
WHERE coalesce(real.n, 0) <> coalesce(rolled.n, 0)
   OR coalesce(real.secs, 0) <> coalesce(rolled.secs, 0)
SQL

{   # counters, rollups and version after inserts of several kinds
    my $v0 = db('SELECT lcrm_lead_rollup_version()');
    db(<<'SQL', $TAG, $admin->{id});
INSERT INTO leads (name, email, status, source, assigned_to_id, user_id,
                   converted_at, created_at, deleted_at)
SELECT :'p1', 'w' || i || '@ex.com',
       (ARRAY['NEW', 'CONVERTED', 'CONTACTED'])[i % 3 + 1]::lcrm_lead_status,
       (ARRAY['ADS', 'EVENT'])[i % 2 + 1]::lcrm_lead_source,
       CASE WHEN i % 4 = 0 THEN CAST(:'p2' AS uuid) END,
       CASE WHEN i % 5 = 0 THEN CAST(:'p2' AS uuid) END,
       CASE WHEN i % 3 = 1 THEN timestamptz '1997-03-04 05:06:07+00'
                                + i * interval '1 hour' END,
       timestamptz '1997-03-01 23:30:00+00' + i * interval '37 minutes',
       CASE WHEN i % 7 = 0 THEN now() END
FROM generate_series(1, 60) i;
INSERT INTO leads (name, email) VALUES (:'p1', 'one@ex.com');
INSERT INTO leads (name, email, deleted_at) VALUES (:'p1', 'gone@ex.com', now());
SQL
    is db($COUNTS), 0, 'counters equal count(*) after the inserts';
    is db($ROLLUPS), 0, 'rollups equal a from-scratch aggregate';
    cmp_ok db('SELECT lcrm_lead_rollup_version()') - $v0, '>=', 2,
        'version grew with each insert that added live leads';
    is db(<<'SQL'), "1\n0", 'version: +1 per statement, +0 for only-deleted rows';
BEGIN;
CREATE TEMP TABLE v AS SELECT lcrm_lead_rollup_version() AS v;
INSERT INTO leads (name, email) SELECT 'x', 'v' || i || '@ex.com'
FROM generate_series(1, 3) i;
SELECT lcrm_lead_rollup_version() - v FROM v;
UPDATE v SET v = lcrm_lead_rollup_version();
INSERT INTO leads (name, email, deleted_at) VALUES ('x', 'vd@ex.com', now());
SELECT lcrm_lead_rollup_version() - v FROM v;
ROLLBACK;
SQL
}

{   # one shard per session: three transactions of one session, one shard
    my $owner = make_user(role => 'ADMIN');
    db(<<'SQL', $TAG, $owner->{id});
INSERT INTO leads (name, email, user_id) VALUES (:'p1', 's1@ex.com', CAST(:'p2' AS uuid));
INSERT INTO leads (name, email, user_id) VALUES (:'p1', 's2@ex.com', CAST(:'p2' AS uuid));
BEGIN;
INSERT INTO leads (name, email, user_id) VALUES (:'p1', 's3@ex.com', CAST(:'p2' AS uuid));
UPDATE leads SET status = 'CONTACTED' WHERE email = 's2@ex.com' AND name = :'p1';
COMMIT;
SQL
    is db(q{SELECT count(DISTINCT shard) || ':' || sum(n) FROM lead_counts
            WHERE dim = 'owner' AND key = :'p1'}, $owner->{id}),
        '1:3', "a session's transactions write one shard (not one per transaction)";
    is db(q{SELECT count(DISTINCT shard) FROM lead_rollup r
            WHERE r.lvl = 'a' AND r.n <> 0 AND r.shard = (
                SELECT shard FROM lead_counts
                WHERE dim = 'owner' AND key = :'p1' LIMIT 1)}, $owner->{id}),
        1, '... and the rollups the same shard';
    is db('SELECT lcrm_lead_shard() = lcrm_lead_shard()'
          . " AND lcrm_lead_shard() BETWEEN 0 AND 63"), 't',
        'lcrm_lead_shard: stable in a session, 0..63';
}

my $ALERTS = <<'SQL';
BEGIN;
UPDATE mail_state SET enabled = CAST(:'p2' AS boolean),
       notify_admins = '{a1@ex.com,a2@ex.com}';
WITH l AS (INSERT INTO leads (name, email, deleted_at)
           SELECT :'p1', 'al' || i || '@ex.com', CASE WHEN i = 3 THEN now() END
           FROM generate_series(1, 3) i RETURNING id)
SELECT count(*) FROM l;
SELECT count(*) || ':' || count(DISTINCT (o.ref_id, o.to_addr)) || ':'
       || coalesce(string_agg(DISTINCT o.to_addr, ','), '')
FROM mail_outbox o JOIN leads l ON l.id = o.ref_id
WHERE o.kind = 'lead_alert' AND l.name = :'p1' AND l.email LIKE 'al%';
ROLLBACK;
SQL
is db($ALERTS, $TAG, 'true'), "3\n6:6:a1\@ex.com,a2\@ex.com",
    'mail on: one lead_alert per new lead and notified admin';
is db($ALERTS, $TAG, 'false'), "3\n0:0:", 'mail off: no lead_alert';

is db(<<'SQL', $TAG, $admin->{id}), '1', 'an assignment still queues lead_assigned';
BEGIN;
UPDATE mail_state SET enabled = true;
UPDATE leads SET assigned_to_id = CAST(:'p2' AS uuid)
WHERE id = (SELECT id FROM leads WHERE name = :'p1' AND deleted_at IS NULL
            AND assigned_to_id IS NULL LIMIT 1);
SELECT count(*) FROM mail_outbox o JOIN leads l ON l.id = o.ref_id
WHERE o.kind = 'lead_assigned' AND l.name = :'p1';
ROLLBACK;
SQL

db("DELETE FROM leads WHERE name = :'p1'", $TAG);
is db($COUNTS), 0, 'counters equal count(*) after the delete';
is db($ROLLUPS), 0, 'rollups equal the aggregate after the delete';

done_testing;
