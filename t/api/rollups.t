# Stats rollups (issue 11, sql/0040_lead_rollups.sql): GET /api/leads/stats
# and /stats/series come from counter rows kept by the lead triggers.  The
# rollups stay equal to a from-scratch aggregate of the leads table under
# concurrent inserts, status changes, conversions, soft deletes, restores,
# hard deletes, moved creation times and rolled-back transactions; the API
# answers equal the former full-scan statements (kept here as the oracle)
# for ranges with sub-hour, hour and day edges.  Rows live in 1998, a
# window no other test uses.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(-withtestmore);
use LeadCRM::Test;
use JSON::PP ();
use File::Temp ();

my $admin = make_user(role => 'ADMIN');
my $TAG = 'rol' . $$ . 'z' . int(rand(1_000_000));

# the rollups against a from-scratch aggregate: mismatching rows
my $MISMATCH = <<'SQL';
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

# the stats statement before the rollups (a pass over the leads)
my $OLD_STATS = <<'SQL';
WITH g AS (SELECT l.status, l.source, count(*) AS n,
 sum(extract(epoch FROM l.converted_at - l.created_at))
 FILTER (WHERE l.status = 'CONVERTED') AS secs FROM leads l
 WHERE l.deleted_at IS NULL
 AND l.created_at >= coalesce(CAST(nullif(:'p1', '') AS timestamptz), '-infinity')
 AND l.created_at < coalesce(CAST(nullif(:'p2', '') AS timestamptz), 'infinity')
 GROUP BY l.status, l.source),
 st AS (SELECT e.s, coalesce(sum(g.n), 0)::bigint AS n
 FROM unnest(enum_range(NULL::lcrm_lead_status)) AS e(s)
 LEFT JOIN g ON g.status = e.s GROUP BY e.s),
 so AS (SELECT e.s, coalesce(sum(g.n), 0)::bigint AS n,
 coalesce(sum(g.n) FILTER (WHERE g.status = 'CONVERTED'), 0)::bigint AS c
 FROM unnest(enum_range(NULL::lcrm_lead_source)) AS e(s)
 LEFT JOIN g ON g.source = e.s GROUP BY e.s),
 t AS (SELECT coalesce(sum(g.n), 0)::bigint AS n,
 coalesce(sum(g.n) FILTER (WHERE g.status = 'CONVERTED'), 0)::bigint AS c,
 sum(g.secs) / nullif(sum(g.n) FILTER (WHERE g.status = 'CONVERTED'), 0)
 AS secs FROM g)
 SELECT json_build_object('total', t.n,
 'byStatus', (SELECT json_object_agg(st.s, st.n ORDER BY st.s) FROM st),
 'bySource', (SELECT json_object_agg(so.s, json_build_object(
'total', so.n, 'converted', so.c, 'conversionRate',
 lcrm_rate(so.c, so.n)) ORDER BY so.s) FROM so),
 'conversionRate', lcrm_rate(t.c, t.n),
 'avgDaysToConvert', round(t.secs / 86400, 2)::float8) FROM t
SQL

# the series statement before the rollups (UTC, the test server's zone)
my $OLD_SERIES = <<'SQL';
WITH p AS (SELECT CAST(:'p1' AS timestamptz) AS f,
 CAST(:'p2' AS timestamptz) AS t, 'UTC'::text AS tz, CAST(:'p3' AS text) AS unit),
 b AS (SELECT gs AS ls FROM p, generate_series(
date_trunc(p.unit, p.f AT TIME ZONE p.tz), p.t AT TIME ZONE p.tz,
 CAST('1 ' || :'p3' AS interval)) gs WHERE (gs AT TIME ZONE p.tz) < p.t),
 g AS (SELECT date_trunc(p.unit, l.created_at AT TIME ZONE p.tz) AS ls,
 l.source, count(*) AS n,
 count(*) FILTER (WHERE l.status = 'CONVERTED') AS c
 FROM p, leads l WHERE l.deleted_at IS NULL AND l.created_at >= p.f
 AND l.created_at < p.t GROUP BY 1, 2),
 bs AS (SELECT b.ls, e.s, coalesce(sum(g.n), 0)::bigint AS n,
 coalesce(sum(g.c), 0)::bigint AS c
 FROM b CROSS JOIN unnest(enum_range(NULL::lcrm_lead_source)) AS e(s)
 LEFT JOIN g ON g.ls = b.ls AND g.source = e.s GROUP BY b.ls, e.s),
 bk AS (SELECT bs.ls, sum(bs.n)::bigint AS n, sum(bs.c)::bigint AS c,
 json_object_agg(bs.s, bs.n ORDER BY bs.s) AS src FROM bs
 GROUP BY bs.ls)
 SELECT json_build_object('interval', :'p3', 'timezone', 'UTC',
 'buckets', coalesce((SELECT json_agg(json_build_object(
'start', lcrm_ts(bk.ls AT TIME ZONE p.tz), 'total', bk.n,
 'converted', bk.c, 'bySource', bk.src) ORDER BY bk.ls) FROM bk, p),
 '[]'::json))
SQL

my $json = JSON::PP->new;
my @RANGES = (
    ['', ''],
    ['1998-03-01T00:00:00.000Z', '1998-04-01T00:00:00.000Z'],
    ['1998-03-02T07:13:05.250Z', '1998-03-05T18:42:00.001Z'],
    ['1998-03-03T10:00:00.000Z', '1998-03-03T10:59:59.999Z'],
    ['1998-03-03T10:30:00.000Z', '1998-03-03T14:15:00.000Z'],
    ['1998-03-04T00:00:00.000Z', '1998-03-06T00:00:00.000Z'],
    ['1998-03-01T23:59:59.999Z', '1998-03-10T00:00:00.001Z'],
    ['1998-03-05T00:00:00.000Z', ''],
    ['', '1998-03-05T12:30:00.000Z'],
);
my @SERIES = (
    ['1998-03-01T05:30:00.000Z', '1998-03-12T00:00:00.000Z', 'day'],
    ['1998-02-20T00:00:00.000Z', '1998-04-02T13:00:00.000Z', 'week'],
    ['1998-01-15T00:00:00.000Z', '1998-05-01T00:00:00.000Z', 'month'],
);

sub check_api {
    my ($when) = @_;
    for my $r (@RANGES) {
        my $q = join '&', ($r->[0] ? "from=$r->[0]" : ()),
                          ($r->[1] ? "to=$r->[1]" : ());
        my ($res, $j) = api(GET => "/api/leads/stats?$q", token => $admin->{token});
        is_deeply $j, $json->decode(db($OLD_STATS, $r->[0], $r->[1])),
            "$when: stats '$q' = the full-scan answer" or diag $res->content;
    }
    for my $s (@SERIES) {
        my ($res, $j) = api(GET => "/api/leads/stats/series?from=$s->[0]"
                            . "&to=$s->[1]&interval=$s->[2]", token => $admin->{token});
        is_deeply $j, $json->decode(db($OLD_SERIES, @$s)),
            "$when: $s->[2] series = the full-scan answer" or diag $res->content;
    }
}

is db($MISMATCH), 0, 'rollups equal a from-scratch aggregate at the start';

# leads spread over March 1998, at odd minutes, every status and source
db(<<'SQL', $TAG);
INSERT INTO leads (name, email, source, status, converted_at, lost_reason, created_at)
SELECT :'p1', 'r' || i || '@ex.com',
       (enum_range(NULL::lcrm_lead_source))[1 + i % 7],
       (enum_range(NULL::lcrm_lead_status))[1 + (i * 5) % 6],
       CASE WHEN (i * 5) % 6 = 4 THEN timestamptz '1998-03-01' + i * interval '97 minutes' + i * interval '1 hour' END,
       CASE WHEN (i * 5) % 6 = 5 THEN 'x' END,
       timestamptz '1998-03-01' + i * interval '97 minutes' + (i % 13) * interval '1.5 second'
FROM generate_series(1, 400) i
SQL
is db($MISMATCH), 0, 'rollups exact after a bulk insert';
check_api('after the bulk insert');

{   # concurrent writers
    my $pick = "(SELECT id FROM leads WHERE name = '$TAG' ORDER BY random() LIMIT 1)";
    my $live = "(SELECT id FROM leads WHERE name = '$TAG' AND deleted_at IS NULL"
             . " ORDER BY random() LIMIT 1)";
    my @sets = ("status = 'CONTACTED'", "status = 'LOST', lost_reason = 'x'",
                "source = 'ADS'", "deleted_at = now()", "deleted_at = NULL",
                "status = 'CONVERTED', converted_at = created_at + interval '3 days 7 seconds'",
                "created_at = created_at + interval '37 minutes'", "notes = 'n'",
                "converted_at = converted_at + interval '1 hour'"
                . " WHERE status = 'CONVERTED' AND id = $pick AND true");
    my @kids;
    for my $w (1 .. 6) {
        my $f = File::Temp->new(SUFFIX => '.sql', UNLINK => 0);
        for my $i (1 .. 120) {
            my $op = ($w * 7 + $i) % 6;
            my $set = $sets[($i + $w) % @sets];
            my $where = $set =~ /WHERE/ ? '' : " WHERE id = $pick";
            my $at = "timestamptz '1998-03-01' + interval '$i hours $w minutes $i seconds'";
            print $f $op == 0 ? "INSERT INTO leads (name, email, source, created_at) VALUES"
                               . " ('$TAG', 'w$w.$i\@ex.com', 'EVENT', $at);\n"
                   : $op == 1 ? "UPDATE leads SET $set$where;\n"
                   : $op == 2 ? "DELETE FROM leads WHERE id = $live;\n"
                   : $op == 3 ? "BEGIN; INSERT INTO leads (name, email, created_at) VALUES"
                                . " ('$TAG', 'rb$w.$i\@ex.com', $at); UPDATE leads SET"
                                . " status = 'QUALIFIED' WHERE id = $pick; ROLLBACK;\n"
                   : $op == 4 ? "UPDATE leads SET deleted_at = CASE WHEN deleted_at IS NULL"
                                . " THEN now() END WHERE id IN (SELECT id FROM leads WHERE"
                                . " name = '$TAG' ORDER BY random() LIMIT 5);\n"
                   : "INSERT INTO leads (name, email, status, converted_at, created_at) SELECT"
                     . " '$TAG', 'm$w.$i.' || g || '\@ex.com', 'CONVERTED', $at + interval '2 days',"
                     . " $at + g * interval '11 minutes' FROM generate_series(1, 3) g;\n";
        }
        close $f;
        my $pid = fork // die "fork: $!";
        if (!$pid) {
            exec 'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-o', '/dev/null', '-f', $f->filename;
            exit 1;
        }
        push @kids, [$pid, $f->filename];
    }
    my $ok = 1;
    for my $k (@kids) {
        waitpid $k->[0], 0;
        $ok &&= $? == 0;
        unlink $k->[1];
    }
    ok $ok, 'six concurrent writer sessions ran (no deadlock, no error)';
    is db($MISMATCH), 0, 'rollups still equal a from-scratch aggregate';
    ok db("SELECT count(*) FROM leads WHERE name = :'p1' AND deleted_at IS NOT NULL", $TAG) > 0,
        'some leads are soft-deleted';
    check_api('after the concurrent writes');
}

{   # through the API: a soft delete and a conversion show in the next read
    my $id = db("SELECT id FROM leads WHERE name = :'p1' AND deleted_at IS NULL"
                . " AND status = 'NEW' LIMIT 1", $TAG);
    my $q = 'from=1998-03-01T00:00:00.000Z&to=1998-04-01T00:00:00.000Z';
    my (undef, $before) = api(GET => "/api/leads/stats?$q", token => $admin->{token});
    my ($res) = api(PATCH => "/api/leads/$id", body => {status => 'CONVERTED'},
                    token => $admin->{token});
    is $res->code, 200, 'PATCH status CONVERTED';
    my (undef, $after) = api(GET => "/api/leads/stats?$q", token => $admin->{token});
    is $after->{byStatus}{CONVERTED}, $before->{byStatus}{CONVERTED} + 1,
        'the conversion shows in the next stats read';
    ($res) = api(DELETE => "/api/leads/$id", token => $admin->{token});
    is $res->code, 204, 'DELETE (soft)';
    (undef, $after) = api(GET => "/api/leads/stats?$q", token => $admin->{token});
    is $after->{total}, $before->{total} - 1, 'the soft delete shows in the next read';
}

db("DELETE FROM leads WHERE name = :'p1'", $TAG);
is db($MISMATCH), 0, 'rollups exact after a bulk delete';
is db("SELECT count(*) FROM (SELECT sum(n) AS n, sum(secs) AS secs FROM lead_rollup"
      . " WHERE lvl IN ('d', 'h') AND bucket >= '1998-01-01' AND bucket < '1999-01-01'"
      . " GROUP BY lvl, bucket, status, source) x WHERE n <> 0 OR secs <> 0"), 0,
    'nothing left counted in 1998 (the shards sum to zero)';

done_testing;
