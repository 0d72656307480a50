# Keyset cursors on every list (API.md part 2 "Lists: cursors"), through the
# shared list toolkit (httpd/lcrm_list.c): walking a list by nextCursor gives
# exactly the rows of the page-number walk, in order, for every sort
# (ties on the sort key, nulls last, mixed directions); with a cursor only
# limit may come along; malformed, tampered and other-endpoint cursors are
# 400 invalid_query; what a USER sees comes from the caller, never from the
# cursor.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(-withtestmore);
use LeadCRM::Test;
use URI::Escape qw(uri_escape);

my $admin = make_user(role => 'ADMIN');
my $u1 = make_user();
my $u2 = make_user();
my $TAG = 'cur' . $$ . 'x' . int(rand(1_000_000));

sub ids_of { [map { $_->{id} } @{ $_[0]{data} || [] }] }
sub q_enc { join '&', map { "$_->[0]=" . uri_escape($_->[1]) } @_ }

# 23 leads: 3 share one created_at (id breaks the tie), scores and values
# partly NULL, statuses and sources mixed; 5 belong to u1, 3 to u2.
db(<<"SQL", $TAG, $u1->{id}, $u2->{id});
INSERT INTO leads (name, email, company, status, source, score,
                   estimated_value, lost_reason, converted_at, user_id,
                   created_at)
SELECT :'p1' || ' n' || (i % 7), :'p1' || '.' || i || '\@ex.com', 'C' || i,
       (ARRAY['NEW','CONTACTED','QUALIFIED','PROPOSAL','CONVERTED','LOST']
        ::lcrm_lead_status[])[1 + i % 6],
       (ARRAY['WEBSITE','REFERRAL','ADS']::lcrm_lead_source[])[1 + i % 3],
       CASE WHEN i % 4 = 0 THEN NULL ELSE i % 5 END,
       CASE WHEN i % 3 = 0 THEN NULL ELSE (i % 4) * 10.5 END,
       CASE WHEN i % 6 = 5 THEN 'gone' END,
       CASE WHEN i % 6 = 4 THEN now() END,
       CASE WHEN i <= 5 THEN CAST(:'p2' AS uuid)
            WHEN i <= 8 THEN CAST(:'p3' AS uuid) END,
       CASE WHEN i <= 3 THEN timestamptz '2020-01-01 00:00:00.123+00'
            ELSE timestamptz '2020-01-01' + i * interval '1 minute' END
FROM generate_series(1, 23) i
SQL

# Page-number walk with limit 100 (the reference order) vs cursor walk.
sub walk {
    my ($path, $params, $limit, $token) = @_;
    my ($res, $j) = api(GET => "$path?" . q_enc(@$params, [limit => 100]),
                        token => $token);
    my $want = ids_of($j);
    my @got;
    ($res, $j) = api(GET => "$path?" . q_enc(@$params, [limit => $limit]),
                     token => $token);
    push @got, @{ ids_of($j) };
    my ($pages, $ok_shape) = (1, 1);
    while (defined(my $c = $j->{pagination}{nextCursor})) {
        ($res, $j) = api(GET => "$path?" . q_enc([cursor => $c],
                                                 [limit => $limit]),
                         token => $token);
        last unless $res->code == 200 && ++$pages < 50;
        $ok_shape &&= join(',', sort keys %{ $j->{pagination} })
                      eq 'limit,nextCursor';
        push @got, @{ ids_of($j) };
    }
    return ($want, \@got, $ok_shape);
}

for my $sort (qw(-createdAt createdAt updatedAt -updatedAt name -name email
                 -email status -status score -score estimatedValue
                 -estimatedValue)) {
    my ($want, $got, $shape) = walk('/api/leads',
        [[search => $TAG], [sort => $sort]], 4, $admin->{token});
    is scalar(@$want), 23, "leads sort=$sort: 23 rows";
    is_deeply $got, $want, "leads sort=$sort: cursor walk = page walk";
    ok $shape, "leads sort=$sort: cursor pages carry {limit, nextCursor}";
}

{   # filters travel inside the cursor
    my ($want, $got) = walk('/api/leads',
        [[search => $TAG], [status => 'NEW'], [sort => 'name']], 1,
        $admin->{token});
    ok @$want >= 3, 'status filter: several rows';
    is_deeply $got, $want, 'status filter: kept across cursor pages';
}

{   # page-number responses carry nextCursor; the last page null
    my ($res, $j) = api(GET => "/api/leads?search=$TAG&limit=10&page=3",
                        token => $admin->{token});
    is scalar(@{ $j->{data} }), 3, 'page 3 of 3';
    ok exists $j->{pagination}{nextCursor}
        && !defined $j->{pagination}{nextCursor}, 'last page: nextCursor null';
    ($res, $j) = api(GET => "/api/leads?search=$TAG&limit=10&page=2",
                     token => $admin->{token});
    my $c = $j->{pagination}{nextCursor};
    ok defined $c, 'page 2: nextCursor';
    my ($r3, $j3) = api(GET => "/api/leads?" . q_enc([cursor => $c]),
                        token => $admin->{token});
    my ($rp, $jp) = api(GET => "/api/leads?search=$TAG&limit=20&page=2",
                        token => $admin->{token});
    is_deeply ids_of($j3), [@{ ids_of($jp) }[0 .. 2]],
        'cursor of page 2 continues with page 3 (default limit 20)';
    is $j3->{pagination}{limit}, 20, 'limit defaults to 20 with a cursor';

    # only limit may accompany a cursor
    for my $extra ([page => 2], [sort => 'name'], [search => 'x'],
                   [status => 'NEW']) {
        my ($r) = api(GET => "/api/leads?" . q_enc([cursor => $c], $extra),
                      token => $admin->{token});
        ok problem_ok($r, 400, 'invalid_query'),
            "cursor with $extra->[0] -> 400 invalid_query";
    }
    my ($r) = api(GET => "/api/leads?" . q_enc([cursor => $c], [limit => 0]),
                  token => $admin->{token});
    ok problem_ok($r, 400, 'invalid_query'), 'cursor with limit=0 -> 400';

    # malformed and tampered
    my ($body, $sig) = split /\./, $c;
    my $flip = sub { my ($s, $i) = @_;
                     substr($s, $i, 1) = substr($s, $i, 1) eq 'A' ? 'B' : 'A';
                     $s };
    for my $bad ('', 'x', 'abc.def', "$body.", ".$sig", "$body$sig",
                 $flip->($body, 5) . ".$sig", "$body." . $flip->($sig, 0),
                 "$body." . $flip->($sig, length($sig) - 1), "$c.x",
                 "$body=.$sig", 'eyJzIjoibmFtZSJ9.' . $sig) {
        my ($rb) = api(GET => "/api/leads?" . q_enc([cursor => $bad]),
                       token => $admin->{token});
        ok problem_ok($rb, 400, 'invalid_query'),
            'bad cursor ' . substr($bad, 0, 12) . '... -> 400 invalid_query';
    }
    # another endpoint's cursor
    ($r) = api(GET => "/api/consultations?" . q_enc([cursor => $c]),
               token => $admin->{token});
    ok problem_ok($r, 400, 'invalid_query'),
        'a leads cursor on /api/consultations -> 400';
    ($r) = api(GET => "/api/users?" . q_enc([cursor => $c]),
               token => $admin->{token});
    ok problem_ok($r, 400, 'invalid_query'), 'a leads cursor on /api/users -> 400';
}

{   # visibility comes from the caller, never from the cursor
    my ($want, $got) = walk('/api/leads', [[search => $TAG]], 2, $u1->{token});
    is scalar(@$want), 5, 'USER u1 sees their 5 leads';
    is_deeply $got, $want, 'USER cursor walk = page walk';

    my ($res, $j) = api(GET => "/api/leads?search=$TAG&limit=1",
                        token => $admin->{token});
    my $c = $j->{pagination}{nextCursor};
    ($res, $j) = api(GET => "/api/leads?" . q_enc([cursor => $c],
                                                 [limit => 100]),
                     token => $u2->{token});
    is $res->code, 200, "an admin's cursor replayed by a USER -> 200";
    my %u2 = map { $_ => 1 } split /\n/,
        db("SELECT id FROM leads WHERE user_id = :'p1'", $u2->{id});
    ok @{ $j->{data} } && !grep({ !$u2{$_} } @{ ids_of($j) }),
        "... but only that USER's own leads";
}

{   # users list
    for my $i (1 .. 5) {
        make_user(email => "$TAG.u$i\@example.com", name => "$TAG u$i");
    }
    db("UPDATE users SET last_login_at = NULL WHERE email LIKE :'p1'",
       "$TAG.u1%");
    for my $sort (qw(-createdAt createdAt email -email name -name lastLoginAt
                     -lastLoginAt)) {
        my ($want, $got, $shape) = walk('/api/users',
            [[search => $TAG], [sort => $sort]], 2, $admin->{token});
        is scalar(@$want), 5, "users sort=$sort: 5 rows";
        is_deeply $got, $want, "users sort=$sort: cursor walk = page walk";
    }
}

{   # consultations list
    db(<<"SQL", $TAG, $u1->{id});
INSERT INTO consultations (user_id, name, email, topic, scheduled_at, status)
SELECT CASE WHEN i <= 4 THEN CAST(:'p2' AS uuid) END, :'p1', 'c\@ex.com',
       'T' || i, timestamptz '2031-03-03 10:00+00' + (i / 3) * interval '1 hour',
       (ARRAY['SCHEDULED','COMPLETED','CANCELLED']
        ::lcrm_consultation_status[])[1 + i % 3]
FROM generate_series(1, 11) i
SQL
    for my $sort (qw(scheduledAt -scheduledAt createdAt -createdAt status
                     -status)) {
        my ($want, $got, $shape) = walk('/api/consultations',
            [[search => $TAG], [sort => $sort]], 3, $admin->{token});
        is scalar(@$want), 11, "consultations sort=$sort: 11 rows";
        is_deeply $got, $want,
            "consultations sort=$sort: cursor walk = page walk";
    }
    my ($want, $got) = walk('/api/consultations', [[search => $TAG]], 3,
                            $u1->{token});
    is scalar(@$want), 4, 'USER sees their 4 consultations';
    is_deeply $got, $want, 'USER consultations: cursor walk = page walk';
}

done_testing;
