# /api/leads (API.md "Leads" and the "Details that clients rely on"):
# public capture, field rules, USER isolation, the list (filters, search,
# sorts, pagination, capped count), updates with the status and assignee
# rules, soft delete, and the stats arithmetic.
#
# Data for lists and stats is inserted directly (db()) with chosen values:
# list rows carry a per-run tag that a `search` isolates; stats rows live in
# year 2001, a window no other test uses.
use strict;
use warnings FATAL => 'all';
use utf8;
use Apache::Test qw(-withtestmore);
use LeadCRM::Test;
use URI::Escape qw(uri_escape_utf8);
use Encode qw(encode decode);
use Time::HiRes qw(sleep);

binmode(Test::More->builder->$_, ':encoding(UTF-8)')
    for qw(output failure_output todo_output);

my $UUID_RE = qr/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
my $TS_RE = qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
my @LEAD_KEYS = sort qw(id name email phone company jobTitle message source
    utmSource utmMedium utmCampaign utmTerm utmContent referrer landingPage
    status score estimatedValue assignedToId userId lostReason notes
    convertedAt createdAt updatedAt);
my @STATUSES = qw(NEW CONTACTED QUALIFIED PROPOSAL CONVERTED LOST);
my @SOURCES = qw(WEBSITE REFERRAL SOCIAL EMAIL ADS EVENT OTHER);
my $NOWHERE = '00000000-0000-4000-8000-000000000000';

my $admin = make_user(role => 'ADMIN');
my $super = make_user(role => 'SUPER_ADMIN');
my $u1 = make_user();
my $u2 = make_user();
my $TAG = 'lt' . $$ . 'q' . int(rand(1_000_000));
my $seq = 0;
sub lead_email { sprintf '%s.%d.%d@example.com', $TAG, ++$seq, time }

sub q_enc { join '&', map { "$_->[0]=" . uri_escape_utf8($_->[1]) } @_ }
sub errors_on {
    my ($j, $field) = @_;
    return scalar grep { ($_->{field} // '') eq $field } @{ $j->{errors} || [] };
}
# a short, one-line rendering of a value for test names
sub printable { substr($_[0], 0, $_[1]) =~ s/[\x00-\x1f\x7f]/?/gr }
sub ids_of { [map { $_->{id} } @{ $_[0]{data} || [] }] }
# db() with character strings in and out (psql speaks UTF-8)
sub udb { my ($sql, @a) = @_; decode('UTF-8', db($sql, map { encode('UTF-8', $_) } @a)) }
sub db_count { udb("SELECT count(*) FROM leads WHERE email = :'p1'", $_[0]) }

# ---------------------------------------------------------------- capture

{
    my ($res, $j) = api(POST => '/api/leads',
                        body => { name => 'Ann', email => '  Ann.X@Example.COM ' });
    is $res->code, 201, 'public capture without token -> 201';
    is_deeply [sort keys %{ $j || {} }], \@LEAD_KEYS, 'lead object has every field';
    like $j->{id} // '', $UUID_RE, 'id is a lowercase uuid';
    is $res->header('Location') // '', "/api/leads/" . ($j->{id} // ''), 'Location';
    is $j->{status}, 'NEW', 'status NEW';
    is $j->{source}, 'WEBSITE', 'source defaults to WEBSITE';
    ok !defined $j->{userId}, 'anonymous capture has no userId';
    is $j->{email}, 'ann.x@example.com', 'email trimmed and lowercased';
    like $j->{createdAt} // '', $TS_RE, 'createdAt RFC 3339 ms';
    ok !defined $j->{convertedAt} && !defined $j->{score}, 'no convertedAt, no score';
    like $res->header('Cache-Control') // '', qr/no-store/, 'no-store';
    my ($r2, $j2) = api(GET => "/api/leads/$j->{id}", token => $admin->{token});
    is_deeply $j2, $j, 'GET returns the created lead';
}

my %full = (
    name => 'Zoë 日本 🚀', email => lead_email(), phone => '+1 (555) 123-4567',
    company => 'Ünïcode GmbH ✓', jobTitle => 'Chef 🍳',
    message => "line one\nline two\twith tab — ✓", source => 'REFERRAL',
    utmSource => 'google', utmMedium => 'cpc', utmCampaign => 'spring ☀',
    utmTerm => 'crm', utmContent => 'ad-1',
    referrer => 'https://www.example.org/page?q=1',
    landingPage => 'http://example.com/landing#x',
);
my $u1_lead;
{
    my ($res, $j) = api(POST => '/api/leads', body => \%full, token => $u1->{token});
    is $res->code, 201, 'capture with a valid token -> 201';
    is $j->{userId}, $u1->{id}, 'userId is the caller';
    is $j->{$_}, $full{$_}, "$_ round-trips exactly" for sort keys %full;
    $u1_lead = $j;
    my ($r2, $j2) = api(GET => "/api/leads/$j->{id}", token => $u1->{token});
    is $j2->{name}, 'Zoë 日本 🚀', 'Unicode name read back exactly';
    is udb("SELECT name FROM leads WHERE id = :'p1'", $j->{id}), 'Zoë 日本 🚀',
        'stored exactly';
    ($res, $j) = api(POST => '/api/leads', body => { name => 'A', email => lead_email() },
                     token => 'not.a.token');
    ok problem_ok($res, 401, 'invalid_token'), 'invalid token on public capture -> 401';
    like $res->header('WWW-Authenticate') // '', qr/invalid_token/, 'WWW-Authenticate';
    my $email = lead_email();
    ($res) = api(POST => '/api/leads', body => { name => 'A', email => $email },
                 headers => { Authorization => 'Basic Zm9vOmJhcg==' });
    is $res->code, 401, 'non-Bearer credentials -> 401';
    is db_count($email), 0, 'nothing stored on 401';
    ($res, $j) = api(POST => '/api/leads', body => { name => 'Adm', email => lead_email() },
                     token => $admin->{token});
    is $j->{userId}, $admin->{id}, 'admin capture carries the admin id';
}

# unknown and non-client fields are refused, nothing stored
for my $f (qw(status score userId id assignedToId notes lostReason estimatedValue
              convertedAt createdAt updatedAt deletedAt foo)) {
    my $email = lead_email();
    my ($res, $j) = api(POST => '/api/leads',
                        body => { name => 'X', email => $email, $f => 'x' });
    ok problem_ok($res, 400, 'validation_failed') && errors_on($j, $f),
        "unknown field $f -> 400 naming it";
    is db_count($email), 0, "nothing stored for $f";
}

# field rules: [field, value, expected status]
my $url2048 = 'https://example.com/' . ('a' x (2048 - 20));
my @rules = (
    [name => '', 400], [name => 'a' x 101, 400], [name => 'é' x 100, 201],
    [name => '🚀' x 101, 400], [name => undef, 400], [name => 5, 400],
    [name => "a\nb", 400], [name => "a\x{1}b", 400],
    [email => 'not-an-email', 400], [email => ('a' x 64) . '@' . ('b' x 186) . '.com', 400],
    [email => 5, 400],
    [phone => 'call me', 400], [phone => '1' x 33, 400], [phone => 12345, 400],
    [phone => '+44 20 7946-0958', 201], [phone => undef, 201],
    [company => 'c' x 201, 400], [company => 'ç' x 200, 201],
    [jobTitle => 'j' x 101, 400], [jobTitle => 'j' x 100, 201],
    [message => 'm' x 5001, 400], [message => ("m\n" x 2500), 201],
    [message => "bad\x{0}nul", 400], [message => "bell\x{7}", 400],
    [source => 'website', 400], [source => 'PARTNER', 400], [source => undef, 400],
    [source => 'EVENT', 201],
    (map { ([$_ => 'u' x 201, 400], [$_ => 'ü' x 200, 201]) }
         qw(utmSource utmMedium utmCampaign utmTerm utmContent)),
    (map { ([$_ => 'ftp://example.com/x', 400], [$_ => 'javascript:alert(1)', 400],
            [$_ => 'example.com', 400], [$_ => $url2048 . 'a', 400],
            [$_ => $url2048, 201], [$_ => 'http://a.example/p q', 400]) }
         qw(referrer landingPage)),
);
for my $c (@rules) {
    my ($f, $v, $want) = @$c;
    my $email = lead_email();
    my %body = (name => 'Rule', email => $email, $f => $v);
    $body{email} = $v if $f eq 'email';
    my ($res, $j) = api(POST => '/api/leads', body => \%body);
    my $desc = sprintf '%s=%s -> %d', $f, defined $v ? printable($v, 12) . '(' . length($v) . ')' : 'null', $want;
    if ($want == 400) {
        ok problem_ok($res, 400, 'validation_failed') && errors_on($j, $f), $desc;
        is db_count($email), 0, "$desc: not stored (never truncated)" if $f ne 'email';
    }
    else {
        is $res->code, 201, $desc;
        is $j->{$f}, $v, "$f stored exactly";
    }
}
{
    my ($res, $j) = api(POST => '/api/leads', body => { name => 'No email' });
    ok problem_ok($res, 400, 'validation_failed') && errors_on($j, 'email'), 'email required';
    ($res, $j) = api(POST => '/api/leads', body => { email => lead_email() });
    ok problem_ok($res, 400, 'validation_failed') && errors_on($j, 'name'), 'name required';
    ($res) = api(POST => '/api/leads', body => '{"name":"a","email":"b@c.de"',);
    ok problem_ok($res, 400, 'invalid_json'), 'invalid JSON -> 400';
    ($res) = api(POST => '/api/leads', body => '{"name":"a","email":"b@c.de"}',
                 headers => { 'Content-Type' => 'text/plain' });
    ok problem_ok($res, 415, 'unsupported_media_type'), 'text/plain body -> 415';
    ($res) = api(POST => '/api/leads?x=1', body => { name => 'a', email => lead_email() });
    ok problem_ok($res, 400, 'invalid_query'), 'query parameters on POST -> 400';
}

# ---------------------------------------------------------------- access

my $anon_lead;
{
    my ($res, $j) = api(POST => '/api/leads', body => { name => 'Anon', email => lead_email() });
    $anon_lead = $j;
    my $id = $u1_lead->{id};
    ($res, $j) = api(GET => "/api/leads/$id", token => $u1->{token});
    is $res->code, 200, 'USER reads own lead';
    like $res->header('Cache-Control') // '', qr/no-store/, 'no-store on GET';
    ($res) = api(GET => "/api/leads/$id", token => $u2->{token});
    ok problem_ok($res, 404, 'not_found'), "another user's lead -> 404";
    ($res) = api(GET => "/api/leads/$anon_lead->{id}", token => $u1->{token});
    ok problem_ok($res, 404, 'not_found'), 'anonymous lead hidden from USER';
    ($res) = api(GET => "/api/leads/$NOWHERE", token => $u1->{token});
    ok problem_ok($res, 404, 'not_found'), 'USER: missing id -> same 404';
    ($res) = api(GET => "/api/leads/$id", token => $admin->{token});
    is $res->code, 200, 'ADMIN reads any lead';
    ($res) = api(GET => "/api/leads/$id", token => $super->{token});
    is $res->code, 200, 'SUPER_ADMIN reads any lead';
    ($res, $j) = api(GET => '/api/leads/' . uc($id), token => $admin->{token});
    is $j->{id}, $id, 'uppercase UUID in path accepted';
    ($res) = api(GET => '/api/leads/not-a-uuid', token => $admin->{token});
    ok problem_ok($res, 404, 'not_found'), 'malformed id -> 404';
    ($res) = api(GET => "/api/leads/$NOWHERE", token => $admin->{token});
    ok problem_ok($res, 404, 'not_found'), 'missing id -> 404';
    ($res) = api(GET => "/api/leads/$id");
    ok problem_ok($res, 401, 'unauthorized'), 'GET one without token -> 401';
    ($res) = api(GET => '/api/leads');
    ok problem_ok($res, 401, 'unauthorized'), 'list without token -> 401';
    ($res) = api(GET => "/api/leads/$id?x=1", token => $admin->{token});
    ok problem_ok($res, 400, 'invalid_query'), 'query on GET one -> 400';
    for my $m (qw(PUT PATCH)) {
        for my $target ($id, $NOWHERE, 'not-a-uuid') {
            ($res) = api($m => "/api/leads/$target", body => { notes => 'x' },
                         token => $u1->{token});
            ok problem_ok($res, 403, 'forbidden'), "USER $m $target -> 403";
        }
    }
    for my $target ($id, $NOWHERE, 'not-a-uuid') {
        ($res) = api(DELETE => "/api/leads/$target", token => $u1->{token});
        ok problem_ok($res, 403, 'forbidden'), "USER DELETE $target -> 403";
    }
    is db("SELECT deleted_at IS NULL AND notes IS NULL FROM leads WHERE id = :'p1'", $id),
        't', 'USER attempts changed nothing';
    ($res) = api(GET => '/api/leads/stats', token => $u1->{token});
    ok problem_ok($res, 403, 'forbidden'), 'USER stats -> 403';
    ($res) = api(PUT => "/api/leads/$id", body => { notes => 'x' });
    ok problem_ok($res, 401, 'unauthorized'), 'PUT without token -> 401';
    ($res) = api(POST => "/api/leads/$id", body => {}, token => $admin->{token});
    is $res->code, 405, 'POST on one lead -> 405';
}

# ---------------------------------------------------------------- list data

# One row per lead: name word, email prefix, status, source, score, value,
# created_at, updated_at, assignee, owner.
my @rows = (
    ['alpha',   'hh', 'NEW',       'WEBSITE',  50,    '500.00',   '2002-03-01T10:00:00.000Z', '2002-04-05T00:00:00.000Z', 'admin', undef],
    ['bravo',   'cc', 'CONTACTED', 'REFERRAL', undef, '100.50',   '2002-03-02T10:00:00.000Z', '2002-04-02T00:00:00.000Z', undef,   'u1'],
    ['charlie', 'aa', 'QUALIFIED', 'SOCIAL',   10,    undef,      '2002-03-03T10:00:00.000Z', '2002-04-08T00:00:00.000Z', 'admin', undef],
    ['delta',   'gg', 'PROPOSAL',  'EMAIL',    90,    '2500.00',  '2002-03-04T10:00:00.000Z', '2002-04-01T00:00:00.000Z', undef,   'u2'],
    ['echo',    'bb', 'CONVERTED', 'ADS',      undef, '0.00',     '2002-03-05T10:00:00.123Z', '2002-04-07T00:00:00.000Z', 'super', undef],
    ['foxtrot', 'ff', 'LOST',      'WEBSITE',  0,     undef,      '2002-03-05T10:00:00.124Z', '2002-04-03T00:00:00.000Z', undef,   undef],
    ['golf',    'dd', 'NEW',       'EVENT',    100,   '99999.99', '2002-03-07T10:00:00.000Z', '2002-04-06T00:00:00.000Z', 'admin', undef],
    ['hotel',   'ee', 'NEW',       'OTHER',    75,    '1.00',     '2002-03-08T10:00:00.000Z', '2002-04-04T00:00:00.000Z', undef,   undef],
);
my %who = (admin => $admin->{id}, super => $super->{id}, u1 => $u1->{id}, u2 => $u2->{id});
my @L;    # hashes: id, name, email, status, source, score, ev, created, updated
for my $r (@rows) {
    my %l = (name => "$TAG-$r->[0]", email => "$r->[1].$TAG\@ex.com",
             company => "Co $r->[0]", status => $r->[2], source => $r->[3],
             score => $r->[4], ev => $r->[5], created => $r->[6],
             updated => $r->[7], assigned => $r->[8] ? $who{ $r->[8] } : undef,
             owner => $r->[9] ? $who{ $r->[9] } : undef);
    $l{id} = db(<<'SQL', map { $_ // '' } @l{qw(name email company status source score ev created updated assigned owner)});
INSERT INTO leads (name, email, company, status, source, score, estimated_value,
                   created_at, updated_at, assigned_to_id, user_id,
                   lost_reason, converted_at)
VALUES (:'p1', :'p2', :'p3', CAST(:'p4' AS lcrm_lead_status),
        CAST(:'p5' AS lcrm_lead_source), CAST(NULLIF(:'p6', '') AS integer),
        CAST(NULLIF(:'p7', '') AS numeric), CAST(:'p8' AS timestamptz),
        CAST(:'p9' AS timestamptz), CAST(NULLIF(:'p10', '') AS uuid),
        CAST(NULLIF(:'p11', '') AS uuid),
        CASE WHEN :'p4' = 'LOST' THEN 'lost' END,
        CASE WHEN :'p4' = 'CONVERTED' THEN CAST(:'p8' AS timestamptz) + interval '1 day' END)
RETURNING id
SQL
    push @L, \%l;
}

sub list {
    my ($token, @q) = @_;
    my ($res, $j) = api(GET => '/api/leads?' . q_enc(@q), token => $token);
    return ($res, $j);
}
sub tagged { list($admin->{token}, [search => "$TAG-"], @_) }
sub want_ids { [map { $_->{id} } @_] }

{
    my ($res, $j) = tagged();
    is $res->code, 200, 'list -> 200';
    like $res->header('Cache-Control') // '', qr/no-store/, 'list no-store';
    my @default = sort { $b->{created} cmp $a->{created} } @L;
    is_deeply ids_of($j), want_ids(@default), 'default sort -createdAt; ADMIN sees all';
    is_deeply $j->{pagination}, { page => 1, limit => 20, total => 8, totalPages => 1,
                                  totalIsExact => JSON::PP::true(), nextCursor => undef },
        'pagination (last page: nextCursor null)';
    is_deeply [sort keys %{ $j->{data}[0] || {} }], \@LEAD_KEYS, 'list items are leads';

    ($res, $j) = list($u1->{token}, [search => "$TAG-"]);
    is_deeply ids_of($j), [$L[1]{id}], 'USER lists only own leads';
    ($res, $j) = list($u1->{token});
    my $own = db("SELECT count(*) FROM leads WHERE user_id = :'p1' AND deleted_at IS NULL", $u1->{id});
    ok $j->{pagination}{total} == $own && !grep({ ($_->{userId} // '') ne $u1->{id} } @{ $j->{data} }),
        'USER list: every item is theirs, total matches';
    ($res, $j) = list($u2->{token}, [search => "$TAG-"], [status => 'PROPOSAL']);
    is_deeply ids_of($j), [$L[3]{id}], 'USER list with a filter';
}

# filters
{
    my %cases = (
        'status=NEW'         => [[[status => 'NEW']], sub { $_[0]{status} eq 'NEW' }],
        'status=LOST'        => [[[status => 'LOST']], sub { $_[0]{status} eq 'LOST' }],
        'source=WEBSITE'     => [[[source => 'WEBSITE']], sub { $_[0]{source} eq 'WEBSITE' }],
        'status+source'      => [[[status => 'NEW'], [source => 'EVENT']],
                                 sub { $_[0]{status} eq 'NEW' && $_[0]{source} eq 'EVENT' }],
        'assignedToId admin' => [[[assignedToId => $admin->{id}]],
                                 sub { ($_[0]{assigned} // '') eq $admin->{id} }],
        'assignedToId upper' => [[[assignedToId => uc $super->{id}]],
                                 sub { ($_[0]{assigned} // '') eq $super->{id} }],
        'assignedToId none'  => [[[assignedToId => $NOWHERE]], sub { 0 }],
    );
    for my $name (sort keys %cases) {
        my ($q, $pred) = @{ $cases{$name} };
        my ($res, $j) = tagged(@$q);
        my @want = sort { $b->{created} cmp $a->{created} } grep { $pred->($_) } @L;
        is_deeply ids_of($j), want_ids(@want), "filter $name";
        is $j->{pagination}{total}, scalar @want, "filter $name: total";
    }
}

# createdFrom / createdTo with a createdAt read back (ms precision)
{
    my ($r4, $e) = api(GET => "/api/leads/$L[4]{id}", token => $admin->{token});
    my ($r5, $f) = api(GET => "/api/leads/$L[5]{id}", token => $admin->{token});
    is $e->{createdAt}, '2002-03-05T10:00:00.123Z', 'createdAt read back';
    my $c4 = $e->{createdAt};
    my $c5 = $f->{createdAt};
    my @newest = sort { $b->{created} cmp $a->{created} } @L;
    my ($res, $j) = tagged([createdFrom => $c4]);
    is_deeply ids_of($j), want_ids(grep { $_->{created} ge $c4 } @newest), 'createdFrom inclusive';
    ($res, $j) = tagged([createdTo => $c4]);
    is_deeply ids_of($j), want_ids(grep { $_->{created} lt $c4 } @newest), 'createdTo exclusive';
    ($res, $j) = tagged([createdFrom => $c4], [createdTo => $c5]);
    is_deeply ids_of($j), [$L[4]{id}], '1 ms window holds exactly one lead';
    ($res, $j) = tagged([createdFrom => $c4], [createdTo => $c4]);
    is_deeply ids_of($j), [], 'empty window';
    ($res, $j) = tagged([createdFrom => '2002-03-05T12:00:00.123+02:00'],
                        [createdTo => '2002-03-05T10:00:00.124Z']);
    is_deeply ids_of($j), [$L[4]{id}], 'offset form is the same instant';
    ($res, $j) = tagged([createdFrom => '2002-03-05T10:00:00.12Z'], [createdTo => '2002-03-05T10:00:00.124Z']);
    is_deeply ids_of($j), [$L[4]{id}], 'two fraction digits are hundredths';
}

# sorts
{
    my $by = sub {
        my ($key, $desc, $num) = @_;
        return sub {
            my ($x, $y) = @_;
            my ($a1, $b1) = ($x->{$key}, $y->{$key});
            return 1 if !defined $a1 && defined $b1;     # nulls last
            return -1 if defined $a1 && !defined $b1;
            my $c = !defined $a1 ? 0 : $num ? $a1 <=> $b1 : $a1 cmp $b1;
            $c = $x->{id} cmp $y->{id} if $c == 0;
            return $desc ? -$c : $c;
        };
    };
    my %rank = map { $STATUSES[$_] => $_ } 0 .. $#STATUSES;
    my $status_cmp = sub {
        my ($x, $y) = @_;
        return $rank{ $x->{status} } <=> $rank{ $y->{status} }
            || $y->{created} cmp $x->{created} || $y->{id} cmp $x->{id};
    };
    my %sorts = (
        createdAt => $by->('created', 0), '-createdAt' => $by->('created', 1),
        updatedAt => $by->('updated', 0), '-updatedAt' => $by->('updated', 1),
        name => $by->('name', 0), '-name' => $by->('name', 1),
        email => $by->('email', 0), '-email' => $by->('email', 1),
        status => $status_cmp, '-status' => sub { -$status_cmp->(@_) },
        score => $by->('score', 0, 1),
        estimatedValue => $by->('ev', 0, 1),
    );
    # descending numeric sorts keep nulls last too
    for my $k (['-score', 'score'], ['-estimatedValue', 'ev']) {
        my ($name, $key) = @$k;
        $sorts{$name} = sub {
            my ($x, $y) = @_;
            my ($a1, $b1) = ($x->{$key}, $y->{$key});
            return 1 if !defined $a1 && defined $b1;
            return -1 if defined $a1 && !defined $b1;
            my $c = defined $a1 ? $b1 <=> $a1 : 0;
            return $c || $y->{id} cmp $x->{id};
        };
    }
    for my $s (sort keys %sorts) {
        my ($res, $j) = tagged([sort => $s]);
        my $cmp = $sorts{$s};
        my @want = sort { $cmp->($a, $b) } @L;
        is_deeply ids_of($j), want_ids(@want), "sort=$s order";
    }
    my ($res, $j) = tagged([sort => '-score']);
    ok !defined $j->{data}[-1]{score} && $j->{data}[0]{score} == 100, '-score: 100 first, nulls last';
    ($res, $j) = tagged([sort => 'estimatedValue']);
    is $j->{data}[1]{estimatedValue}, 1, 'estimatedValue is a JSON number';
}

# pagination
{
    my @newest = sort { $b->{created} cmp $a->{created} } @L;
    my @seen;
    for my $page (1 .. 3) {
        my ($res, $j) = tagged([limit => 3], [page => $page]);
        push @seen, @{ ids_of($j) };
        my %pg = %{ $j->{pagination} || {} };
        my $next = delete $pg{nextCursor};
        is_deeply \%pg, { page => $page, limit => 3, total => 8, totalPages => 3,
                          totalIsExact => JSON::PP::true() }, "page $page pagination";
        ok $page < 3 ? defined $next : (exists $j->{pagination}{nextCursor} && !defined $next),
            "page $page: nextCursor " . ($page < 3 ? 'set' : 'null');
    }
    is_deeply \@seen, want_ids(@newest), 'pages concatenate to the whole list';
    my ($res, $j) = tagged([limit => 3], [page => 4]);
    ok $res->code == 200 && ref $j->{data} eq 'ARRAY' && !@{ $j->{data} }
        && $j->{pagination}{total} == 8, 'page past the end -> 200, empty data';
    ($res, $j) = list($admin->{token}, [search => "$TAG-nothing-matches"]);
    is_deeply $j, { data => [], pagination => { page => 1, limit => 20, total => 0,
        totalPages => 0, totalIsExact => JSON::PP::true(), nextCursor => undef } },
        'no match: totalPages 0';
    ($res, $j) = tagged([limit => 100]);
    is $j->{pagination}{limit}, 100, 'limit 100 accepted';
}

# search: case-insensitive, % and _ literal, per field
{
    my $S = $TAG . 's';
    my %s;
    for my $r (['pct',  "n1 ${S}9%z", "p1.$S\@ex.com", undef],
               ['npct', "n2 ${S}9Az", "p2.$S\@ex.com", undef],
               ['und',  "n3 ${S}a_b", "p3.$S\@ex.com", undef],
               ['nund', "n4 ${S}axb", "p4.$S\@ex.com", undef],
               ['mail', 'plain name', "only.${S}mail\@ex.com", undef],
               ['comp', 'plain name', 'other@ex.com', "Big ${S}COMPANY Ltd"],
               ['uni',  "Zoë ${S} 日本", "p5.$S\@ex.com", undef],
               ['gap',  "zz${S}end", "start${S}x\@ex.com", undef]) {
        $s{ $r->[0] } = udb("INSERT INTO leads (name, email, company) VALUES (:'p1', :'p2', NULLIF(:'p3', '')) RETURNING id",
                           $r->[1], $r->[2], $r->[3] // '');
    }
    my @cases = (
        ["${S}9%z", ['pct'], '% is literal'],
        ["${S}9_z", [], '_ is literal (no single-char wildcard)'],
        ["${S}a_b", ['und'], '_ matches itself'],
        ["${S}a%b", [], '% is not a wildcard'],
        [uc("${S}MAIL"), ['mail'], 'email field, case-insensitive'],
        ["${S}company", ['comp'], 'company field, case-insensitive'],
        ["${S} 日本", ['uni'], 'Unicode search'],
        ["${S}end start${S}", [], 'no match across field boundaries'],
        ["${S}9\\z", [], 'backslash is literal'],
        ["${S}end\\", [], 'trailing backslash is literal (no LIKE escape error)'],
        ["${S}end", ['gap'], 'plain substring'],
    );
    for my $c (@cases) {
        my ($res, $j) = list($admin->{token}, [search => $c->[0]]);
        is_deeply [sort @{ ids_of($j) }], [sort map { $s{$_} } @{ $c->[1] }], "search: $c->[2]";
    }
    my ($res, $j) = list($admin->{token}, [search => $S]);
    is $j->{pagination}{total}, 8, 'search over name, email and company';
    ($res, $j) = list($admin->{token}, [search => 'ZOË ' . uc($S)]);
    is_deeply ids_of($j), [$s{uni}], 'search lowercases non-ASCII letters too';
}

# bad, unknown and repeated query parameters
{
    my @bad = (
        [[status => 'new'], 'status'], [[status => 'WON'], 'status'], [[status => ''], 'status'],
        [[source => 'web'], 'source'], [[assignedToId => 'abc'], 'assignedToId'],
        [[assignedToId => "$NOWHERE-0"], 'assignedToId'],
        [[createdFrom => '2002-03-01'], 'createdFrom'],
        [[createdFrom => 'yesterday'], 'createdFrom'],
        [[createdTo => '2002-03-01T10:00:00.1234Z'], 'createdTo'],
        [[createdTo => '2002-13-01T10:00:00Z'], 'createdTo'],
        [[createdFrom => '2002-03-02T00:00:00Z'], [createdTo => '2002-03-01T00:00:00Z'], 'createdTo'],
        [[sort => 'password'], 'sort'], [[sort => 'created_at'], 'sort'],
        [[sort => '+name'], 'sort'], [[sort => '-'], 'sort'], [[sort => ''], 'sort'],
        [[sort => 'Name'], 'sort'],
        [[page => 0], 'page'], [[page => 'x'], 'page'], [[page => -1], 'page'],
        [[limit => 0], 'limit'], [[limit => 101], 'limit'], [[limit => '1.5'], 'limit'],
        [[search => 'x' x 201], 'search'],
        [[foo => 1], 'foo'], [[userId => $u1->{id}], 'userId'],
        [[status => 'NEW'], [status => 'LOST'], 'status'],
        [[page => 1], [page => 1], 'page'],
    );
    for my $b (@bad) {
        my @q = @$b;
        my $field = pop @q;
        my ($res, $j) = list($admin->{token}, @q);
        ok problem_ok($res, 400, 'invalid_query') && errors_on($j, $field),
            'bad query ' . q_enc(@q) =~ s/^(.{60}).*/$1.../r . " -> 400 on $field";
    }
    my ($res) = api(GET => '/api/leads?search=%ZZ', token => $admin->{token});
    ok problem_ok($res, 400, 'invalid_query'), 'bad percent-escape -> 400';
}

# the count is capped: exact up to 10000 matching rows, then a lower bound
{
    my $B = $TAG . 'bulk';
    db("INSERT INTO leads (name, email) SELECT :'p1' || ' ' || i, 'b' || i || '\@ex.com' FROM generate_series(1, 10000) i", $B);
    my ($res, $j) = list($admin->{token}, [search => $B], [limit => 100]);
    ok defined(delete $j->{pagination}{nextCursor}), '10000 rows: nextCursor on page 1';
    is_deeply $j->{pagination}, { page => 1, limit => 100, total => 10000, totalPages => 100,
                                  totalIsExact => JSON::PP::true() }, '10000 rows: exact';
    is scalar @{ $j->{data} }, 100, 'full page';
    db("INSERT INTO leads (name, email) VALUES (:'p1' || ' last', 'blast\@ex.com')", $B);
    ($res, $j) = list($admin->{token}, [search => $B], [limit => 100], [page => 101]);
    is_deeply $j->{pagination}, { page => 101, limit => 100, total => 10001, totalPages => 101,
                                  totalIsExact => JSON::PP::false(), nextCursor => undef },
        '10001 rows: lower bound';
    is scalar @{ $j->{data} }, 1, 'last page reachable';
    db("DELETE FROM leads WHERE name LIKE :'p1' || ' %'", $B);
}

# ---------------------------------------------------------------- update

sub put { my ($id, $body, %o) = @_;
          api($o{method} // 'PUT', "/api/leads/$id", body => $body, token => $o{token} // $admin->{token}) }
{
    my ($res, $lead) = api(POST => '/api/leads', body => { name => 'Upd', email => lead_email() });
    my $id = $lead->{id};
    my %set = (name => 'Upd 2 ✓', email => ' NEW.Addr@Example.com', phone => '+49 30 1234',
               company => 'NewCo', jobTitle => 'CTO', message => "m\n2",
               source => 'ADS', utmSource => 'a', utmMedium => 'b', utmCampaign => 'c',
               utmTerm => 'd', utmContent => 'e', referrer => 'https://r.example/',
               landingPage => 'https://l.example/', status => 'QUALIFIED', score => 88,
               estimatedValue => 1234.5, assignedToId => $admin->{id},
               lostReason => "not\tyet", notes => "line\nline");
    sleep 0.01;
    my $j;
    ($res, $j) = put($id, \%set);
    is $res->code, 200, 'PUT every updatable field -> 200';
    my %want = (%set, email => 'new.addr@example.com');
    is $j->{$_}, $want{$_}, "PUT sets $_" for sort keys %want;
    is $j->{userId}, undef, 'userId untouched';
    is $j->{createdAt}, $lead->{createdAt}, 'createdAt untouched';
    ok $j->{updatedAt} ne $lead->{updatedAt}, 'updatedAt moved';
    like $res->header('Cache-Control') // '', qr/no-store/, 'PUT no-store';

    my $before = $j;
    ($res, $j) = put($id, { notes => undef, score => undef, estimatedValue => undef,
                            assignedToId => undef, phone => undef }, method => 'PATCH');
    is $res->code, 200, 'PATCH with nulls -> 200';
    ok !defined $j->{$_}, "PATCH clears $_" for qw(notes score estimatedValue assignedToId phone);
    is $j->{$_}, $before->{$_}, "PATCH leaves $_" for qw(name email company status source lostReason message);

    ($res, $j) = put($id, {});
    is $res->code, 200, 'empty body -> 200';
    my $again;
    (undef, $again) = api(GET => "/api/leads/$id", token => $admin->{token});
    is $j->{updatedAt}, $again->{updatedAt}, 'empty body changes nothing';

    for my $f (qw(id userId convertedAt createdAt updatedAt deletedAt foo)) {
        ($res, $j) = put($id, { $f => undef, name => 'Should not apply' });
        ok problem_ok($res, 400, 'validation_failed') && errors_on($j, $f), "PUT $f -> 400";
    }
    is udb("SELECT name FROM leads WHERE id = :'p1'", $id), 'Upd 2 ✓', 'refused PUTs changed nothing';

    my @urules = (
        [score => 101, 400], [score => -1, 400], [score => 50.5, 400], [score => '5', 400],
        [score => 0, 200], [score => 100, 200],
        [estimatedValue => 1e12, 200], [estimatedValue => \'1000000000000.01', 400],
        [estimatedValue => \'1e13', 400], [estimatedValue => \'12.5e1', 200],
        [estimatedValue => 12.345, 400], [estimatedValue => -0.01, 400],
        [estimatedValue => '12', 400], [estimatedValue => 0, 200], [estimatedValue => 19.99, 200],
        [status => 'WON', 400], [status => 'new', 400], [status => undef, 400],
        [source => undef, 400], [name => undef, 400], [name => '', 400], [email => undef, 400],
        [email => 'bad', 400], [lostReason => 'r' x 501, 400], [lostReason => "r\n" x 250, 200],
        [notes => 'n' x 10001, 400], [notes => "n\t" x 5000, 200], [notes => "n\x{1}", 400],
        [message => 'm' x 5001, 400], [referrer => 'ftp://x.example', 400],
        [assignedToId => 'abc', 400], [phone => 'x', 400], [jobTitle => 'j' x 101, 400],
    );
    for my $c (@urules) {
        my ($f, $v, $want) = @$c;
        my $raw = ref $v eq 'SCALAR';    # a JSON number written as is
        ($res, $j) = put($id, $raw ? qq({"$f":$$v}) : { $f => $v });
        my $desc = sprintf 'PUT %s=%s', $f, $raw ? $$v : defined $v ? printable($v, 14) : 'null';
        if ($want == 400) {
            ok problem_ok($res, 400, 'validation_failed') && errors_on($j, $f), "$desc -> 400";
        }
        else {
            ok $res->code == 200 && defined $j->{$f}
                && ($raw ? $j->{$f} == $$v : $j->{$f} eq $v), "$desc -> 200, stored";
        }
    }
    is db("SELECT estimated_value FROM leads WHERE id = :'p1'", $id), '19.99', 'money stored exactly';
}

# assignedToId must be an active, live ADMIN or SUPER_ADMIN
{
    my ($res, $lead) = api(POST => '/api/leads', body => { name => 'Asg', email => lead_email() });
    my $id = $lead->{id};
    my $inactive = make_user(role => 'ADMIN');
    db("UPDATE users SET is_active = false WHERE id = :'p1'", $inactive->{id});
    my $gone = make_user(role => 'ADMIN');
    db("UPDATE users SET deleted_at = now() WHERE id = :'p1'", $gone->{id});
    my $j;
    for my $c ([$u1->{id}, 'a USER'], [$inactive->{id}, 'an inactive ADMIN'],
               [$gone->{id}, 'a deleted ADMIN'], [$NOWHERE, 'nobody']) {
        ($res, $j) = put($id, { assignedToId => $c->[0] });
        ok problem_ok($res, 400, 'validation_failed') && errors_on($j, 'assignedToId'),
            "assign to $c->[1] -> 400";
    }
    ($res, $j) = put($id, { assignedToId => $admin->{id} });
    is $j->{assignedToId}, $admin->{id}, 'assign to an ADMIN';
    ($res, $j) = put($id, { assignedToId => uc $super->{id} });
    is $j->{assignedToId}, $super->{id}, 'assign to a SUPER_ADMIN (uuid lowercased)';
    ($res, $j) = put($id, { assignedToId => undef });
    ok $res->code == 200 && !defined $j->{assignedToId}, 'unassign with null';
    ($res, $j) = put($id, { assignedToId => $u1->{id}, status => 'LOST' });
    ok problem_ok($res, 400, 'validation_failed') && errors_on($j, 'assignedToId')
        && errors_on($j, 'lostReason'), 'both rule violations reported';
    is db("SELECT status FROM leads WHERE id = :'p1'", $id), 'NEW', 'nothing applied';
}

# status rules
{
    my ($res, $lead) = api(POST => '/api/leads', body => { name => 'St', email => lead_email() });
    my $id = $lead->{id};
    my $j;
    ($res, $j) = put($id, { status => 'CONVERTED' });
    is $j->{status}, 'CONVERTED', 'status CONVERTED';
    like $j->{convertedAt} // '', $TS_RE, 'CONVERTED sets convertedAt';
    is $j->{convertedAt}, $j->{updatedAt}, 'convertedAt is the time of the change';
    my $conv = $j->{convertedAt};
    sleep 0.02;
    ($res, $j) = put($id, { status => 'CONVERTED', notes => 'still' });
    is $j->{convertedAt}, $conv, 'staying CONVERTED keeps convertedAt';
    ok $j->{updatedAt} ne $conv, '... while updatedAt moves';
    ($res, $j) = put($id, { notes => 'other' }, method => 'PATCH');
    is $j->{convertedAt}, $conv, 'other changes keep convertedAt';
    ($res, $j) = put($id, { status => 'LOST' });
    ok problem_ok($res, 400, 'validation_failed') && errors_on($j, 'lostReason'),
        'LOST without lostReason -> 400';
    ($res, $j) = put($id, { status => 'LOST', lostReason => "  \n\t" });
    ok problem_ok($res, 400, 'validation_failed') && errors_on($j, 'lostReason'),
        'LOST with a blank lostReason -> 400';
    ($res, $j) = put($id, { status => 'LOST', lostReason => undef });
    ok problem_ok($res, 400, 'validation_failed'), 'LOST with null lostReason -> 400';
    is db("SELECT status FROM leads WHERE id = :'p1'", $id), 'CONVERTED', 'still CONVERTED';
    ($res, $j) = put($id, { status => 'LOST', lostReason => 'Budget' });
    ok $res->code == 200 && $j->{status} eq 'LOST' && $j->{lostReason} eq 'Budget',
        'LOST with lostReason -> 200';
    ok !defined $j->{convertedAt}, 'leaving CONVERTED clears convertedAt';
    ($res, $j) = put($id, { lostReason => undef });
    ok problem_ok($res, 400, 'validation_failed') && errors_on($j, 'lostReason'),
        'clearing lostReason of a LOST lead -> 400';
    ($res, $j) = put($id, { status => 'CONTACTED' });
    ok $res->code == 200 && $j->{lostReason} eq 'Budget', 'leaving LOST keeps the reason';
    ($res, $j) = put($id, { status => 'LOST' });
    ok $res->code == 200 && $j->{status} eq 'LOST', 'LOST with a stored lostReason -> 200';
    ($res, $j) = put($id, { status => 'CONVERTED' });
    ok defined $j->{convertedAt} && $j->{convertedAt} ne $conv, 'converting again sets a new convertedAt';
    ($res, $j) = put($id, { status => 'QUALIFIED' });
    ok $res->code == 200 && !defined $j->{convertedAt}, 'CONVERTED -> QUALIFIED clears convertedAt';
    ($res) = put($NOWHERE, { notes => 'x' });
    ok problem_ok($res, 404, 'not_found'), 'PUT missing id -> 404';
    ($res) = put('nope', { notes => 'x' });
    ok problem_ok($res, 404, 'not_found'), 'PUT malformed id -> 404';
    ($res) = put($id, { notes => 'x' }, token => $super->{token}, method => 'PATCH');
    is $res->code, 200, 'SUPER_ADMIN may update';
}

# ---------------------------------------------------------------- delete

{
    my ($res, $lead) = api(POST => '/api/leads', body => { name => "$TAG del", email => lead_email() },
                           token => $u1->{token});
    my $id = $lead->{id};
    ($res) = api(DELETE => "/api/leads/$id", token => $admin->{token});
    is $res->code, 204, 'DELETE -> 204';
    is $res->content, '', '204 has no body';
    ok db("SELECT deleted_at IS NOT NULL FROM leads WHERE id = :'p1'", $id) eq 't',
        'soft delete: row kept with deleted_at';
    ($res) = api(GET => "/api/leads/$id", token => $admin->{token});
    ok problem_ok($res, 404, 'not_found'), 'deleted lead: GET -> 404';
    ($res) = api(GET => "/api/leads/$id", token => $u1->{token});
    ok problem_ok($res, 404, 'not_found'), 'deleted lead: owner GET -> 404';
    my $j;
    ($res, $j) = list($admin->{token}, [search => "$TAG del"]);
    is_deeply ids_of($j), [], 'deleted lead not listed';
    ($res, $j) = list($u1->{token}, [search => "$TAG del"]);
    is_deeply ids_of($j), [], 'deleted lead not listed for its owner';
    ($res) = put($id, { notes => 'x' });
    ok problem_ok($res, 404, 'not_found'), 'deleted lead: PUT -> 404';
    ($res) = api(DELETE => "/api/leads/$id", token => $admin->{token});
    ok problem_ok($res, 404, 'not_found'), 'DELETE twice -> 404';
    ($res) = api(DELETE => "/api/leads/$NOWHERE", token => $super->{token});
    ok problem_ok($res, 404, 'not_found'), 'DELETE missing -> 404';
    ($res) = api(DELETE => '/api/leads/xyz', token => $admin->{token});
    ok problem_ok($res, 404, 'not_found'), 'DELETE malformed -> 404';
    ($res) = api(DELETE => "/api/leads/$NOWHERE", body => { x => 1 }, token => $admin->{token});
    is $res->code, 400, 'DELETE with a body -> 400';
}

# ---------------------------------------------------------------- stats

sub stat_lead {
    my ($created, $status, $source, $converted, $deleted) = @_;
    return db(<<'SQL', $created, $status, $source, $converted // '', $deleted // '');
INSERT INTO leads (name, email, status, source, created_at, converted_at,
                   deleted_at, lost_reason)
VALUES ('stats', 'stats@ex.com', CAST(:'p2' AS lcrm_lead_status),
        CAST(:'p3' AS lcrm_lead_source), CAST(:'p1' AS timestamptz),
        CAST(NULLIF(:'p4', '') AS timestamptz),
        CAST(NULLIF(:'p5', '') AS timestamptz),
        CASE WHEN :'p2' = 'LOST' THEN 'r' END)
RETURNING id
SQL
}
sub stats {
    my ($token, @q) = @_;
    return api(GET => '/api/leads/stats' . (@q ? '?' . q_enc(@q) : ''), token => $token // $admin->{token});
}
sub zero_status { map { $_ => 0 } @STATUSES }
sub zero_source { map { $_ => { total => 0, converted => 0, conversionRate => 0 } } @SOURCES }
# compares numbers numerically, everything else exactly
sub same {
    my ($got, $want) = @_;
    return 0 if ref $got ne ref $want;
    if (ref $want eq 'HASH') {
        return 0 unless join(',', sort keys %$got) eq join(',', sort keys %$want);
        return !grep { !same($got->{$_}, $want->{$_}) } keys %$want;
    }
    return !defined $got if !defined $want;
    return defined $got && $got =~ /^-?[0-9.e+-]+$/ && $got == $want;
}
{
    my $FROM = '2001-01-01T00:00:00.000Z';
    my $TO = '2002-01-01T00:00:00.000Z';
    stat_lead($FROM, 'NEW', 'WEBSITE');
    stat_lead('2001-02-01T00:00:00Z', 'CONVERTED', 'WEBSITE', '2001-02-03T12:00:00Z');   # 2.5 d
    stat_lead('2001-03-01T00:00:00Z', 'CONVERTED', 'REFERRAL', '2001-03-02T00:00:00Z');  # 1 d
    stat_lead('2001-04-01T00:00:00Z', 'CONVERTED', 'WEBSITE', '2001-04-01T08:00:00Z');   # 1/3 d
    stat_lead('2001-05-01T00:00:00Z', 'LOST', 'ADS');
    stat_lead('2001-06-01T00:00:00Z', 'CONTACTED', 'WEBSITE');
    stat_lead('2001-07-01T00:00:00Z', 'QUALIFIED', 'SOCIAL');
    stat_lead('2001-12-31T23:59:59.999Z', 'PROPOSAL', 'WEBSITE');
    stat_lead('2001-09-01T00:00:00Z', 'CONVERTED', 'REFERRAL', '2001-09-02T01:00:00Z');  # 25/24 d
    stat_lead('2001-10-01T00:00:00Z', 'NEW', 'REFERRAL');
    stat_lead('2001-11-01T00:00:00Z', 'NEW', 'EMAIL');
    # outside the window, or deleted
    stat_lead($TO, 'CONVERTED', 'EVENT', '2002-01-02T00:00:00Z');
    stat_lead('2000-12-31T23:59:59.999Z', 'CONVERTED', 'OTHER', '2001-01-05T00:00:00Z');
    stat_lead('2001-08-01T00:00:00Z', 'CONVERTED', 'WEBSITE', '2001-08-01T01:00:00Z', '2001-08-02T00:00:00Z');
    my $extra = stat_lead('2001-08-15T00:00:00Z', 'CONVERTED', 'EVENT', '2001-08-25T00:00:00Z');

    my ($res, $j) = stats(undef, [from => $FROM], [to => $TO]);
    is $res->code, 200, 'stats -> 200';
    like $res->header('Cache-Control') // '', qr/no-store/, 'stats no-store';
    is $j->{total}, 12, 'stats include a lead until the API deletes it';
    ($res) = api(DELETE => "/api/leads/$extra", token => $admin->{token});
    is $res->code, 204, 'delete one lead of the window';

    ($res, $j) = stats(undef, [from => $FROM], [to => $TO]);
    my %want = (
        total => 11,
        byStatus => { NEW => 3, CONTACTED => 1, QUALIFIED => 1, PROPOSAL => 1, CONVERTED => 4, LOST => 1 },
        bySource => { zero_source(),
            WEBSITE  => { total => 5, converted => 2, conversionRate => 0.4 },
            REFERRAL => { total => 3, converted => 2, conversionRate => 0.6667 },
            SOCIAL   => { total => 1, converted => 0, conversionRate => 0 },
            EMAIL    => { total => 1, converted => 0, conversionRate => 0 },
            ADS      => { total => 1, converted => 0, conversionRate => 0 } },
        conversionRate => 0.3636,
        avgDaysToConvert => 1.22,
    );
    ok same($j, \%want), 'stats for 2001: every number, zeros included'
        or diag explain $j;
    my ($bs) = $res->content =~ /"byStatus"\s*:\s*\{([^}]*)\}/;
    is_deeply [($bs // '') =~ /"(\w+)"/g], \@STATUSES, 'byStatus keys in enum order';
    my $src = join '|', @SOURCES;
    is_deeply [$res->content =~ /"($src)"\s*:\s*\{/g], \@SOURCES, 'bySource keys in enum order';
    like $res->content, qr/"conversionRate" ?: ?0\.3636\b/, '4 decimals in the JSON text';
    like $res->content, qr/"avgDaysToConvert" ?: ?1\.22\b/, '2 decimals in the JSON text';

    ($res, $j) = stats(undef, [from => '2001-06-01T00:00:00.000Z'], [to => $TO]);
    ok same($j, { total => 6,
        byStatus => { zero_status(), NEW => 2, CONTACTED => 1, QUALIFIED => 1, PROPOSAL => 1, CONVERTED => 1 },
        bySource => { zero_source(),
            WEBSITE  => { total => 2, converted => 0, conversionRate => 0 },
            REFERRAL => { total => 2, converted => 1, conversionRate => 0.5 },
            SOCIAL   => { total => 1, converted => 0, conversionRate => 0 },
            EMAIL    => { total => 1, converted => 0, conversionRate => 0 } },
        conversionRate => 0.1667, avgDaysToConvert => 1.04 }), 'second half of 2001: rounding up'
        or diag explain $j;

    ($res, $j) = stats(undef, [from => '2001-01-01T02:00:00+02:00'], [to => '2001-02-01T00:00:00.001Z']);
    ok same($j, { total => 2, byStatus => { zero_status(), NEW => 1, CONVERTED => 1 },
        bySource => { zero_source(), WEBSITE => { total => 2, converted => 1, conversionRate => 0.5 } },
        conversionRate => 0.5, avgDaysToConvert => 2.5 }), 'from inclusive (offset form), to exclusive'
        or diag explain $j;

    ($res, $j) = stats(undef, [from => '1999-01-01T00:00:00Z'], [to => '1999-12-31T00:00:00Z']);
    ok same($j, { total => 0, byStatus => { zero_status() }, bySource => { zero_source() },
        conversionRate => 0, avgDaysToConvert => undef }), 'empty window: zeros and null'
        or diag explain $j;
    ok exists $j->{avgDaysToConvert} && !defined $j->{avgDaysToConvert}, 'avgDaysToConvert is null';

    ($res, $j) = stats(undef, [to => $TO]);
    ok $j->{total} >= 11 && $j->{total} < 20, 'only to';
    ($res, $j) = stats(undef, [from => '2001-12-01T00:00:00Z']);
    ok $j->{total} > 1 && $j->{byStatus}{PROPOSAL} >= 1, 'only from';
    ($res, $j) = stats();
    my $live = db('SELECT count(*) FROM leads WHERE deleted_at IS NULL');
    is $j->{total}, $live, 'no window: every live lead';

    for my $b ([[from => 'x'], 'from'], [[to => '2001-02-30T00:00:00Z'], 'to'],
               [[from => '2001-01-01'], 'from'], [[from => '2002-01-01T00:00:00Z'], [to => $FROM], 'to'],
               [[since => $FROM], 'since'], [[from => $FROM], [from => $FROM], 'from'],
               [[page => 1], 'page']) {
        my @q = @$b;
        my $field = pop @q;
        ($res, $j) = stats(undef, @q);
        ok problem_ok($res, 400, 'invalid_query') && errors_on($j, $field), "stats bad query on $field";
    }
    ($res) = stats($super->{token});
    is $res->code, 200, 'SUPER_ADMIN reads stats';
    ($res) = api(GET => '/api/leads/stats');
    ok problem_ok($res, 401, 'unauthorized'), 'stats without token -> 401';
}

done_testing();
