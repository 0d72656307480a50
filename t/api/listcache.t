# LeadCRMCache for the list reads (httpd/lcrm_listcache.c, issue 11):
# GET /api/leads (page, filters, search, cursor), GET /api/consultations and
# GET /api/consultations/availability answer from the cache (the test
# server runs the default shmcb), byte for byte what the SQL path rendered;
# every write (create, update, status change, assignment, delete, booking,
# cancellation, a consultant deactivated) is seen by the very next read
# because the key carries the list version of sql/0051_list_version.sql;
# a USER never gets another USER's cached page.
#
# "Served from the cache" is shown by switching the version trigger off
# for a moment and changing a row behind it: the same query then still
# answers the old bytes (a hit), while a query not asked before shows the
# change (a miss).  On a server without the cache the old bytes would not
# come back.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(-withtestmore);
use LeadCRM::Test;
use URI::Escape qw(uri_escape);

my $admin = make_user(role => 'ADMIN');
my $cons = make_user(role => 'ADMIN');
my $ua = make_user();
my $ub = make_user();
my $TAG = 'lc' . $$ . 'x' . int(rand(1_000_000));

sub get {
    my ($path, $token) = @_;
    my ($res, $j) = api(GET => $path, $token ? (token => $token) : ());
    return ($res, $j);
}
sub body_of { my ($res) = @_; $res->code . ' ' . $res->content }
sub names_of { join ',', map { $_->{name} } @{ $_[0]{data} || [] } }
sub ids_of { join ',', sort map { $_->{id} } @{ $_[0]{data} || [] } }

# Changes leads behind the cache's back (the version trigger off).
sub behind {
    my ($table, $trigger, $sql, @args) = @_;
    db("ALTER TABLE $table DISABLE TRIGGER $trigger");
    db($sql, @args);
    db("ALTER TABLE $table ENABLE TRIGGER $trigger");
}

# 12 leads: 4 of USER A, 3 of USER B, the rest of nobody.
db(<<"SQL", $TAG, $ua->{id}, $ub->{id});
INSERT INTO leads (name, email, company, status, source, user_id, created_at)
SELECT :'p1' || ' n' || i, :'p1' || '.' || i || '\@ex.com', 'Acme' || :'p1',
       (ARRAY['NEW','CONTACTED','QUALIFIED']::lcrm_lead_status[])[1 + i % 3],
       (ARRAY['WEBSITE','REFERRAL','ADS']::lcrm_lead_source[])[1 + i % 3],
       CASE WHEN i <= 4 THEN CAST(:'p2' AS uuid)
            WHEN i <= 7 THEN CAST(:'p3' AS uuid) END,
       timestamptz '2021-03-01' + i * interval '1 minute'
FROM generate_series(1, 12) i
SQL

my $S = "search=" . uri_escape($TAG);
my @lists = ("/api/leads?$S&limit=5", "/api/leads?$S&status=NEW&limit=5",
             "/api/leads?$S&source=ADS", "/api/leads?$S&sort=name&page=2&limit=3");

# ---- cached answers are the SQL path's bytes, and really cached
for my $path (@lists) {
    my ($r1) = get($path, $admin->{token});
    is($r1->code, 200, "$path -> 200");
    my ($r2) = get($path, $admin->{token});
    is(body_of($r2), body_of($r1), "$path: second answer byte-identical");
    is($r2->header('Cache-Control'), $r1->header('Cache-Control'),
       "$path: same Cache-Control");
}
{
    my $path = $lists[0];
    my ($r1, $j1) = get($path, $admin->{token});
    my $id = $j1->{data}[0]{id};
    behind('leads', 'leads_list_version',
           "UPDATE leads SET name = name || ' (behind)' WHERE id = :'p1'", $id);
    my ($r2) = get($path, $admin->{token});
    is(body_of($r2), body_of($r1),
       'a change the version did not see: the cached bytes come back (hit)');
    # the default sort spelt out is the same normalised query: still a hit
    my ($rd) = get("$path&sort=-createdAt", $admin->{token});
    is(body_of($rd), body_of($r1), 'the same query spelt otherwise: a hit');
    my ($r3, $j3) = get("/api/leads?$S&limit=6", $admin->{token});
    like(names_of($j3), qr/\(behind\)/,
         'a query not asked before reads the database (miss)');
    # a write through the API bumps the version: the next read sees both
    my ($res) = api(PATCH => "/api/leads/$id", token => $admin->{token},
                    body => { notes => 'seen' });
    is($res->code, 200, 'PATCH -> 200');
    my ($r4, $j4) = get($path, $admin->{token});
    like(names_of($j4), qr/\(behind\)/, 'after a write the page is read again');
    is($j4->{data}[0]{notes}, 'seen', '... with the write in it');
}

# ---- every write is seen by the very next read (the same query, cached)
{
    my $path = "/api/leads?$S&limit=50&sort=name";
    my ($r, $j) = get($path, $admin->{token});
    my $n = scalar @{ $j->{data} };
    get($path, $admin->{token});   # cached now

    ($r, my $c) = api(POST => '/api/leads', body => {
        name => "$TAG new", email => "$TAG.new\@ex.com", company => 'X' });
    is($r->code, 201, 'create -> 201');
    ($r, $j) = get($path, $admin->{token});
    is(scalar @{ $j->{data} }, $n + 1, 'create: seen by the next list read');
    is($j->{pagination}{total}, $n + 1, 'create: total too');
    my $id = $c->{id};

    api(PATCH => "/api/leads/$id", token => $admin->{token},
        body => { name => "$TAG renamed" });
    ($r, $j) = get($path, $admin->{token});
    like(names_of($j), qr/\Q$TAG\E renamed/, 'update: seen by the next read');

    api(PATCH => "/api/leads/$id", token => $admin->{token},
        body => { status => 'QUALIFIED' });
    ($r, $j) = get("/api/leads?$S&status=QUALIFIED&limit=50", $admin->{token});
    ($r, $j) = get($path, $admin->{token});
    my ($row) = grep { $_->{id} eq $id } @{ $j->{data} };
    is($row->{status}, 'QUALIFIED', 'status change: seen by the next read');
    my ($r5, $j5) = get("/api/leads?$S&status=QUALIFIED&limit=50",
                        $admin->{token});
    ok((grep { $_->{id} eq $id } @{ $j5->{data} }),
       'status change: the status filter page (cached before) has it');

    api(PATCH => "/api/leads/$id", token => $admin->{token},
        body => { assignedToId => $admin->{id} });
    ($r, $j) = get($path, $admin->{token});
    ($row) = grep { $_->{id} eq $id } @{ $j->{data} };
    is($row->{assignedToId}, $admin->{id}, 'assignment: seen by the next read');

    ($r) = api(DELETE => "/api/leads/$id", token => $admin->{token});
    is($r->code, 204, 'delete -> 204');
    ($r, $j) = get($path, $admin->{token});
    is(scalar @{ $j->{data} }, $n, 'delete: gone from the next read');
    ok(!(grep { $_->{id} eq $id } @{ $j->{data} }), '... that lead is gone');

    # a write outside the API (SQL, a script) too: the trigger is the table's
    db("UPDATE leads SET company = 'Direct' WHERE name = :'p1'", "$TAG n5");
    ($r, $j) = get($path, $admin->{token});
    ($row) = grep { $_->{name} eq "$TAG n5" } @{ $j->{data} };
    is($row->{company}, 'Direct', 'an SQL write: seen by the next read');
}

# ---- USER A never gets USER B's cached page (same query, same version)
{
    my $path = "/api/leads?$S&limit=20";
    my ($ra, $ja) = get($path, $ua->{token});
    my ($rb, $jb) = get($path, $ub->{token});
    get($path, $ua->{token});
    my ($rb2, $jb2) = get($path, $ub->{token});
    my ($ra2, $ja2) = get($path, $ua->{token});
    is(scalar @{ $ja2->{data} }, 4, 'USER A sees their 4 leads');
    is(scalar @{ $jb2->{data} }, 3, 'USER B sees their 3 leads');
    ok(!(grep { $_->{userId} ne $ua->{id} } @{ $ja2->{data} }),
       'USER A: only own rows');
    ok(!(grep { $_->{userId} ne $ub->{id} } @{ $jb2->{data} }),
       'USER B: only own rows (not A\'s cached page)');
    is($jb2->{pagination}{total}, 3, 'USER B: own total');
    isnt(ids_of($ja2), ids_of($jb2), 'different pages for A and B');
    my ($rad) = get($path, $admin->{token});
    my $jad = json_of($rad);
    cmp_ok(scalar @{ $jad->{data} }, '>', 7, 'ADMIN sees every lead');
}

# ---- cursor pages: cached bytes equal, and writes seen
{
    my ($r, $j) = get("/api/leads?$S&limit=3&sort=name", $admin->{token});
    my $c = $j->{pagination}{nextCursor};
    ok(defined $c, 'a next cursor');
    my $cp = "/api/leads?cursor=" . uri_escape($c) . "&limit=3";
    my ($c1) = get($cp, $admin->{token});
    my ($c2) = get($cp, $admin->{token});
    is($c1->code, 200, 'cursor page -> 200');
    is(body_of($c2), body_of($c1), 'cursor page: cached bytes identical');
    my $second = json_of($c1)->{data}[0];
    api(PATCH => "/api/leads/$second->{id}", token => $admin->{token},
        body => { notes => 'cursor write' });
    my ($c3, $j3) = get($cp, $admin->{token});
    is($j3->{data}[0]{notes}, 'cursor write', 'cursor page: a write is seen');
    # the same cursor with another limit is another answer
    my ($c4, $j4) = get("/api/leads?cursor=" . uri_escape($c) . "&limit=2",
                        $admin->{token});
    is(scalar @{ $j4->{data} }, 2, 'cursor + another limit: its own answer');
}

# ---- consultations list and availability
my $DAY = 86400;
my $t = int(time / $DAY) * $DAY + 40 * $DAY;
$t += $DAY while ((gmtime $t)[6] + 6) % 7 > 4;
my @g = gmtime $t;
my $date = sprintf '%04d-%02d-%02d', $g[5] + 1900, $g[4] + 1, $g[3];
sub slot { sprintf '%sT%s:00.000Z', $date, $_[0] }
{
    my $lpath = "/api/consultations?consultantId=$cons->{id}&limit=10";
    my $apath = "/api/consultations/availability?date=$date"
              . "&consultantId=$cons->{id}";
    my ($l1, $lj1) = get($lpath, $admin->{token});
    my ($l2) = get($lpath, $admin->{token});
    is(body_of($l2), body_of($l1), 'consultations list: cached bytes identical');
    my ($a1, $aj1) = get($apath);
    my ($a2) = get($apath);
    is($a1->code, 200, 'availability -> 200');
    is(body_of($a2), body_of($a1), 'availability: cached bytes identical');
    ok((grep { $_->{start} eq slot('10:00') } @{ $aj1->{slots} }),
       '10:00 is free');

    my ($r, $b) = api(POST => '/api/consultations', token => $admin->{token},
                      body => { name => "$TAG booker", email => "$TAG.b\@ex.com",
                                topic => 'Cache', scheduledAt => slot('10:00'),
                                consultantId => $cons->{id} });
    is($r->code, 201, 'booking -> 201');
    my ($a3, $aj3) = get($apath);
    ok(!(grep { $_->{start} eq slot('10:00') } @{ $aj3->{slots} }),
       'booking: the slot is gone from the next availability read');
    my ($l3, $lj3) = get($lpath, $admin->{token});
    is(scalar @{ $lj3->{data} }, scalar(@{ $lj1->{data} }) + 1,
       'booking: in the next consultations list read');

    ($r) = api(PATCH => "/api/consultations/$b->{id}", token => $admin->{token},
               body => { status => 'CONFIRMED' });
    my ($l4, $lj4) = get($lpath, $admin->{token});
    my ($row) = grep { $_->{id} eq $b->{id} } @{ $lj4->{data} };
    is($row->{status}, 'CONFIRMED', 'consultation update: seen by the next read');

    ($r) = api(DELETE => "/api/consultations/$b->{id}", token => $admin->{token});
    is($r->code, 204, 'cancel -> 204');
    my ($a5, $aj5) = get($apath);
    ok((grep { $_->{start} eq slot('10:00') } @{ $aj5->{slots} }),
       'cancellation: the slot is free again at the next read');
    my ($l5, $lj5) = get($lpath, $admin->{token});
    ($row) = grep { $_->{id} eq $b->{id} } @{ $lj5->{data} };
    is($row->{status}, 'CANCELLED', 'cancellation: seen by the next list read');

    # hit proof for availability: a booking inserted behind the version
    my ($a6) = get($apath);
    behind('consultations', 'consultations_list_version', <<"SQL",
INSERT INTO consultations (name, email, topic, scheduled_at, duration_minutes,
                           timezone, consultant_id)
VALUES ('Behind', 'behind\@ex.com', 'x', CAST(:'p1' AS timestamptz), 30, 'UTC',
        CAST(:'p2' AS uuid))
SQL
           slot('14:00'), $cons->{id});
    my ($a7) = get($apath);
    is(body_of($a7), body_of($a6), 'availability: the cached bytes (hit)');
    my ($a8, $aj8) = get("$apath&durationMinutes=45");
    ok(!(grep { $_->{start} eq slot('14:00') } @{ $aj8->{slots} }),
       'availability: a query not asked before sees the row (miss)');

    # a consultant deactivated (users' is_active) is seen at once
    db("UPDATE users SET is_active = false WHERE id = :'p1'", $cons->{id});
    my ($a9) = get($apath);
    is($a9->code, 400, 'consultant deactivated: next availability read -> 400');
    db("UPDATE users SET is_active = true WHERE id = :'p1'", $cons->{id});
    my ($a10) = get($apath);
    is($a10->code, 200, 'reactivated: 200 again');
}

# ---- USER scope on the consultations list
{
    my $path = '/api/consultations?limit=50';
    my ($r, $b) = api(POST => '/api/consultations', token => $ua->{token},
                      body => { name => "$TAG ua", email => "$TAG.ua\@ex.com",
                                topic => 'Mine', scheduledAt => slot('11:00'),
                                consultantId => $cons->{id} });
    is($r->code, 201, 'USER A books');
    my ($ra, $ja) = get($path, $ua->{token});
    get($path, $ub->{token});
    my ($rb, $jb) = get($path, $ub->{token});
    ok((grep { $_->{id} eq $b->{id} } @{ $ja->{data} }), 'A sees the booking');
    ok(!(grep { $_->{id} eq $b->{id} } @{ $jb->{data} }),
       'B does not (not A\'s cached page)');
    ok(!(grep { ($_->{userId} // '') ne $ub->{id} } @{ $jb->{data} }),
       'B: only own consultations');
}

done_testing();
