# Keyset cursors on the part 2 lists (API.md part 2 "Lists: cursors"):
# GET /api/keys, /api/audit and /api/notifications through the shared list
# toolkit.  Walking a list by nextCursor gives exactly the rows of the
# page-number walk (same ids, same order, no duplicates; ties of the time
# column broken by id); filters travel inside the cursor; with a cursor
# only limit may come along; tampered and other-endpoint cursors are 400
# invalid_query; what a caller may see comes from the caller, never from
# the cursor.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(-withtestmore);
use LeadCRM::Test;
use POSIX ();
use URI::Escape qw(uri_escape);

my $super = make_user(role => 'SUPER_ADMIN');
my $admin = make_user(role => 'ADMIN');
my $ua = make_user();
my $ub = make_user();
my $TAG = 'cp' . $$ . 'x' . int(rand(1_000_000));

sub ids_of { [map { $_->{id} } @{ $_[0]{data} || [] }] }
sub q_enc { join '&', map { "$_->[0]=" . uri_escape($_->[1]) } @_ }
sub uniq_ok { my %s; !grep { $s{$_}++ } @{ $_[0] } }

# Every page by number (limit $limit) vs every page by cursor.  Returns
# (page ids, cursor ids, cursor pages had {limit, nextCursor} only, page
# responses had nextCursor, null on the last page only).
sub walk {
    my ($path, $params, $limit, $token) = @_;
    my (@want, @got);
    my ($res, $j, $page, $pages_ok) = (undef, undef, 0, 1);
    do {
        ++$page;
        ($res, $j) = api(GET => "$path?" . q_enc(@$params, [limit => $limit],
                                                 [page => $page]),
                         token => $token);
        push @want, @{ ids_of($j) };
        my $last = $page >= $j->{pagination}{totalPages};
        $pages_ok &&= exists $j->{pagination}{nextCursor}
            && ($last xor defined $j->{pagination}{nextCursor});
    } while ($res->code == 200 && $page < $j->{pagination}{totalPages}
             && $page < 50);
    ($res, $j) = api(GET => "$path?" . q_enc(@$params, [limit => $limit]),
                     token => $token);
    push @got, @{ ids_of($j) };
    my ($n, $shape) = (1, 1);
    while (defined(my $c = $j->{pagination}{nextCursor})) {
        ($res, $j) = api(GET => "$path?" . q_enc([cursor => $c],
                                                 [limit => $limit]),
                         token => $token);
        last unless $res->code == 200 && ++$n < 50;
        $shape &&= join(',', sort keys %{ $j->{pagination} })
                   eq 'limit,nextCursor';
        push @got, @{ ids_of($j) };
    }
    return (\@want, \@got, $shape, $pages_ok);
}

# The nextCursor of the first page of $path?$params (limit $limit).
sub first_cursor {
    my ($path, $params, $limit, $token) = @_;
    my (undef, $j) = api(GET => "$path?" . q_enc(@$params, [limit => $limit]),
                         token => $token);
    return $j->{pagination}{nextCursor};
}

my $flip = sub { my ($s, $i) = @_;
                 substr($s, $i, 1) = substr($s, $i, 1) eq 'A' ? 'B' : 'A';
                 $s };
sub bad_cursors {
    my ($c) = @_;
    my ($body, $sig) = split /\./, $c;
    return ('', 'x', "$body.", $flip->($body, 3) . ".$sig",
            "$body." . $flip->($sig, 0), "$c.x");
}

# ---- /api/keys ------------------------------------------------------------------
# 7 live keys of ua (3 share created_at), one revoked; 2 of ub; 2 of super.
my $keys_sql = <<'SQL';
INSERT INTO api_keys (user_id, name, prefix, key_hash, scopes, expires_at,
                      created_at, revoked_at)
SELECT CAST(:'p1' AS uuid), :'p2' || i,
       'lcrm_' || substr(md5(:'p2' || i), 1, 7),
       sha256(convert_to(:'p2' || ':' || i, 'UTF8')), ARRAY['leads:read'],
       now() + interval '30 days',
       CASE WHEN i <= 3 THEN timestamptz '2024-05-05 10:00:00.5+00'
            ELSE timestamptz '2024-05-05 10:00+00' + i * interval '1 minute'
       END,
       CASE WHEN i = CAST(:'p4' AS int) THEN now() END
FROM generate_series(1, CAST(:'p3' AS int)) i
SQL
db($keys_sql, $ua->{id}, "$TAG-a", 8, 8);
db($keys_sql, $ub->{id}, "$TAG-b", 2, 0);
db($keys_sql, $super->{id}, "$TAG-s", 2, 0);
my %mine = map { $_->{id} => [split /\n/, db(
    "SELECT id FROM api_keys WHERE user_id = :'p1' AND revoked_at IS NULL",
    $_->{id})] } ($ua, $ub, $super);
my %of_b = map { $_ => 1 } @{ $mine{ $ub->{id} } };
my %of_s = map { $_ => 1 } @{ $mine{ $super->{id} } };
my %of_a = map { $_ => 1 } @{ $mine{ $ua->{id} } };

for my $limit (1, 2, 3) {
    my ($want, $got, $shape, $pages) = walk('/api/keys', [], $limit,
                                            $ua->{token});
    is scalar(@$want), 7, "keys limit=$limit: 7 live keys by page";
    is_deeply $got, $want, "keys limit=$limit: cursor walk = page walk";
    ok uniq_ok($got), "keys limit=$limit: no duplicates";
    ok $shape, "keys limit=$limit: cursor pages carry {limit, nextCursor}";
    ok $pages, "keys limit=$limit: page responses carry nextCursor, null last";
}
{
    my $order = db(<<'SQL', $ua->{id});
SELECT string_agg(CAST(id AS text), ',' ORDER BY created_at DESC, id DESC)
FROM api_keys WHERE user_id = :'p1' AND revoked_at IS NULL
SQL
    my (undef, $got) = walk('/api/keys', [], 2, $ua->{token});
    is join(',', @$got), $order, 'keys: newest first, ties by id descending';
}
{   # SUPER_ADMIN with userId: the filter travels in the cursor
    my ($want, $got) = walk('/api/keys', [[userId => $ua->{id}]], 2,
                            $super->{token});
    is_deeply [sort @$want], [sort keys %of_a], 'super userId=ua: ua\'s keys';
    is_deeply $got, $want, 'super userId=ua: cursor walk = page walk';

    my $c = first_cursor('/api/keys', [[userId => $ua->{id}]], 2,
                         $super->{token});
    for my $extra ([userId => $ua->{id}], [page => 2], [sort => '-createdAt'],
                   [limit => 0]) {
        my ($r) = api(GET => '/api/keys?' . q_enc([cursor => $c], $extra),
                      token => $super->{token});
        ok problem_ok($r, 400, 'invalid_query'),
            "keys: cursor with $extra->[0] -> 400 invalid_query";
    }
    # a super admin's userId cursor replayed by a USER: 403, never ua's keys
    my ($r, $j) = api(GET => '/api/keys?' . q_enc([cursor => $c]),
                      token => $ub->{token});
    ok problem_ok($r, 403, 'forbidden'),
        'keys: a userId cursor replayed by a USER -> 403';
    ($r, $j) = api(GET => '/api/keys?' . q_enc([cursor => $c]),
                   token => $admin->{token});
    ok problem_ok($r, 403, 'forbidden'),
        'keys: a userId cursor replayed by an ADMIN -> 403';
}
{   # a cursor never carries whose keys: the caller's own are listed
    my $c = first_cursor('/api/keys', [], 1, $ua->{token});
    my ($r, $j) = api(GET => '/api/keys?' . q_enc([cursor => $c],
                                                 [limit => 100]),
                      token => $ub->{token});
    is $r->code, 200, "keys: ua's cursor replayed by ub -> 200";
    ok !grep({ !$of_b{$_} } @{ ids_of($j) }), '... only ub\'s own keys';
    ok !grep({ $of_a{$_} } @{ ids_of($j) }), '... none of ua\'s';

    $c = first_cursor('/api/keys', [], 1, $super->{token});
    ($r, $j) = api(GET => '/api/keys?' . q_enc([cursor => $c],
                                              [limit => 100]),
                   token => $ua->{token});
    is $r->code, 200, "keys: super's own cursor replayed by ua -> 200";
    ok @{ ids_of($j) } && !grep({ !$of_a{$_} } @{ ids_of($j) }),
        '... only ua\'s own keys';
    ($r, $j) = api(GET => '/api/keys?' . q_enc([cursor => $c],
                                              [limit => 100]),
                   token => $super->{token});
    ok !grep({ !$of_s{$_} } @{ ids_of($j) }), 'super: own cursor, own keys';

    $c = first_cursor('/api/keys', [], 1, $ua->{token});
    for my $bad (bad_cursors($c)) {
        my ($rb) = api(GET => '/api/keys?' . q_enc([cursor => $bad]),
                       token => $ua->{token});
        ok problem_ok($rb, 400, 'invalid_query'),
            'keys: bad cursor ' . substr($bad, 0, 10) . '... -> 400';
    }
}

# ---- /api/audit -----------------------------------------------------------------
# 9 entries of one actor (3 share `at`), two actions; an hour old (older
# ones would meet the background retention purge mid-test).
my $actor = db('SELECT gen_random_uuid()');
my $subject = db('SELECT gen_random_uuid()');
my $T0 = time - 3600;
sub iso { POSIX::strftime('%Y-%m-%dT%H:%M:%SZ', gmtime($T0 + $_[0])) }
db(<<'SQL', $actor, $subject, iso(0));
INSERT INTO audit_log (at, action, actor_id, actor_role, subject_type,
                       subject_id, details)
SELECT CASE WHEN i <= 3
            THEN CAST(:'p3' AS timestamptz) + interval '366.6 seconds'
            ELSE CAST(:'p3' AS timestamptz) + i * interval '1 second'
       END,
       CASE WHEN i % 2 = 0 THEN 'cursor.even' ELSE 'cursor.odd' END,
       CAST(:'p1' AS uuid), 'ADMIN', 'user',
       CASE WHEN i % 3 = 0 THEN CAST(:'p2' AS uuid) END, '{}'
FROM generate_series(1, 9) i
SQL
for my $limit (1, 2, 4) {
    my ($want, $got, $shape, $pages) = walk('/api/audit',
        [[actorId => $actor]], $limit, $super->{token});
    is scalar(@$want), 9, "audit limit=$limit: 9 entries by page";
    is_deeply $got, $want, "audit limit=$limit: cursor walk = page walk";
    ok uniq_ok($got), "audit limit=$limit: no duplicates";
    ok $shape, "audit limit=$limit: cursor pages carry {limit, nextCursor}";
    ok $pages, "audit limit=$limit: page responses carry nextCursor";
}
{
    my $order = db(<<'SQL', $actor);
SELECT string_agg(CAST(id AS text), ',' ORDER BY at DESC, id DESC)
FROM audit_log WHERE actor_id = :'p1'
SQL
    my (undef, $got) = walk('/api/audit', [[actorId => $actor]], 2,
                            $super->{token});
    is join(',', @$got), $order, 'audit: newest first, ties by id descending';

    my ($want, $got2) = walk('/api/audit', [[actorId => $actor],
        [action => 'cursor.odd'], [from => iso(2)], [to => iso(367)]], 1,
        $super->{token});
    my $n = db(<<'SQL', $actor, iso(2), iso(367));
SELECT count(*) FROM audit_log WHERE actor_id = :'p1' AND action = 'cursor.odd'
  AND at >= CAST(:'p2' AS timestamptz) AND at < CAST(:'p3' AS timestamptz)
SQL
    is $n, 5, 'audit filters: 5 entries in the database';
    is scalar(@$want), $n, "audit filters: $n entries";
    is_deeply $got2, $want, 'audit filters kept across cursor pages';
    ($want, $got2) = walk('/api/audit', [[subjectId => $subject]], 1,
                          $super->{token});
    is scalar(@$want), 3, 'audit subjectId: 3 entries';
    is_deeply $got2, $want, 'audit subjectId: cursor walk = page walk';

    my $c = first_cursor('/api/audit', [[actorId => $actor]], 2,
                         $super->{token});
    for my $extra ([action => 'cursor.odd'], [actorId => $actor],
                   [from => '2024-01-01T00:00:00Z'], [page => 1]) {
        my ($r) = api(GET => '/api/audit?' . q_enc([cursor => $c], $extra),
                      token => $super->{token});
        ok problem_ok($r, 400, 'invalid_query'),
            "audit: cursor with $extra->[0] -> 400 invalid_query";
    }
    for my $bad (bad_cursors($c)) {
        my ($rb) = api(GET => '/api/audit?' . q_enc([cursor => $bad]),
                       token => $super->{token});
        ok problem_ok($rb, 400, 'invalid_query'),
            'audit: bad cursor ' . substr($bad, 0, 10) . '... -> 400';
    }
    my ($r) = api(GET => '/api/audit?' . q_enc([cursor => $c]),
                  token => $admin->{token});
    ok problem_ok($r, 403, 'forbidden'), 'audit: a cursor does not let an ADMIN in';
    ($r) = api(GET => '/api/audit?' . q_enc([cursor => $c]),
               token => $ua->{token});
    ok problem_ok($r, 403, 'forbidden'), 'audit: nor a USER';
    # other endpoints' cursors
    my $kc = first_cursor('/api/keys', [], 1, $super->{token});
    ($r) = api(GET => '/api/audit?' . q_enc([cursor => $kc]),
               token => $super->{token});
    ok problem_ok($r, 400, 'invalid_query'), 'a keys cursor on /api/audit -> 400';
    ($r) = api(GET => '/api/keys?' . q_enc([cursor => $c]),
               token => $super->{token});
    ok problem_ok($r, 400, 'invalid_query'), 'an audit cursor on /api/keys -> 400';
    ($r) = api(GET => '/api/notifications?' . q_enc([cursor => $c]),
               token => $super->{token});
    ok problem_ok($r, 400, 'invalid_query'),
        'an audit cursor on /api/notifications -> 400';
}

# ---- /api/notifications ---------------------------------------------------------
# 8 outbox rows to one address (3 share created_at, mixed case), SENT/FAILED.
my $to = "$TAG\@example.com";
db(<<'SQL', $to);
INSERT INTO mail_outbox (kind, to_addr, subject, status, attempts, created_at,
                         sent_at, last_error)
SELECT 'lead_alert', CASE WHEN i = 2 THEN upper(:'p1') ELSE :'p1' END,
       'S' || i, CASE WHEN i % 2 = 0 THEN 'SENT' ELSE 'FAILED' END, 1,
       CASE WHEN i <= 3 THEN timestamptz '2024-07-07 07:07:07.7+00'
            ELSE timestamptz '2024-07-07 07:00+00' + i * interval '1 second'
       END,
       CASE WHEN i % 2 = 0 THEN now() END,
       CASE WHEN i % 2 = 1 THEN '550 no such user' END
FROM generate_series(1, 8) i
SQL
for my $limit (1, 3) {
    my ($want, $got, $shape, $pages) = walk('/api/notifications',
        [[recipient => $to]], $limit, $super->{token});
    is scalar(@$want), 8, "notifications limit=$limit: 8 rows by page";
    is_deeply $got, $want, "notifications limit=$limit: cursor walk = page walk";
    ok uniq_ok($got), "notifications limit=$limit: no duplicates";
    ok $shape, "notifications limit=$limit: cursor pages carry {limit, nextCursor}";
    ok $pages, "notifications limit=$limit: page responses carry nextCursor";
}
{
    my $order = db(<<'SQL', $to);
SELECT string_agg(CAST(id AS text), ',' ORDER BY created_at DESC, id DESC)
FROM mail_outbox WHERE lower(to_addr) = lower(:'p1')
SQL
    my (undef, $got) = walk('/api/notifications', [[recipient => $to]], 2,
                            $super->{token});
    is join(',', @$got), $order,
        'notifications: newest first, ties by id descending';
    my ($want, $got2) = walk('/api/notifications',
        [[recipient => uc $to], [status => 'SENT'], [kind => 'lead_alert'],
         [to => '2024-07-07T07:07:07.700Z']], 1, $super->{token});
    is scalar(@$want), 3, 'notifications filters: 3 rows';
    is_deeply $got2, $want, 'notifications filters kept across cursor pages';

    my $c = first_cursor('/api/notifications', [[recipient => $to]], 2,
                         $super->{token});
    for my $extra ([status => 'SENT'], [recipient => $to], [kind => 'lead_alert'],
                   [to => '2030-01-01T00:00:00Z'], [page => 2]) {
        my ($r) = api(GET => '/api/notifications?' . q_enc([cursor => $c],
                                                           $extra),
                      token => $super->{token});
        ok problem_ok($r, 400, 'invalid_query'),
            "notifications: cursor with $extra->[0] -> 400 invalid_query";
    }
    for my $bad (bad_cursors($c)) {
        my ($rb) = api(GET => '/api/notifications?' . q_enc([cursor => $bad]),
                       token => $super->{token});
        ok problem_ok($rb, 400, 'invalid_query'),
            'notifications: bad cursor ' . substr($bad, 0, 10) . '... -> 400';
    }
    my ($r) = api(GET => '/api/notifications?' . q_enc([cursor => $c]),
                  token => $admin->{token});
    ok problem_ok($r, 403, 'forbidden'),
        'notifications: a cursor does not let an ADMIN in';
    ($r) = api(GET => '/api/audit?' . q_enc([cursor => $c]),
               token => $super->{token});
    ok problem_ok($r, 400, 'invalid_query'),
        'a notifications cursor on /api/audit -> 400';
    ($r) = api(GET => '/api/leads?' . q_enc([cursor => $c]),
               token => $super->{token});
    ok problem_ok($r, 400, 'invalid_query'),
        'a notifications cursor on /api/leads -> 400';
    my $lc = first_cursor('/api/users', [], 1, $super->{token});
    ($r) = api(GET => '/api/notifications?' . q_enc([cursor => $lc]),
               token => $super->{token});
    ok problem_ok($r, 400, 'invalid_query'),
        'a users cursor on /api/notifications -> 400';
}

done_testing;
