# GET /api/leads/stats/series (API.md part 2 "Leads: series and export"):
# calendar buckets in LeadCRMTimeZone (UTC in the test server) overlapping
# [from, to), every one present with zeros, partial first and last buckets
# counting only leads inside [from, to), ISO weeks from Monday, bySource
# listing every source, converted = now CONVERTED; the parameter rules.
# Rows live in 2003, a window no other test uses.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(-withtestmore);
use LeadCRM::Test;

my $admin = make_user(role => 'ADMIN');
my $user = make_user();
my @SOURCES = qw(ADS EMAIL EVENT OTHER REFERRAL SOCIAL WEBSITE);

db(<<'SQL');
INSERT INTO leads (name, email, source, status, converted_at, lost_reason,
                   created_at, deleted_at) VALUES
 ('s0', 's0@ex.com', 'WEBSITE', 'NEW', NULL, NULL, '2003-03-01 11:59:59.999+00', NULL),
 ('s1', 's1@ex.com', 'WEBSITE', 'NEW', NULL, NULL, '2003-03-01 12:00:00+00', NULL),
 ('s2', 's2@ex.com', 'ADS', 'CONVERTED', now(), NULL, '2003-03-02 05:00:00+00', NULL),
 ('s3', 's3@ex.com', 'ADS', 'LOST', NULL, 'x', '2003-03-02 06:00:00+00', NULL),
 ('s4', 's4@ex.com', 'REFERRAL', 'NEW', NULL, NULL, '2003-03-03 23:59:59.999+00', NULL),
 ('s5', 's5@ex.com', 'REFERRAL', 'NEW', NULL, NULL, '2003-03-04 00:00:00+00', NULL),
 ('s6', 's6@ex.com', 'EVENT', 'NEW', NULL, NULL, '2003-03-02 07:00:00+00', now())
SQL

sub series {
    my ($q, $token) = @_;
    return api(GET => "/api/leads/stats/series?$q",
               token => $token // $admin->{token});
}
sub src { my %h = map { $_ => 0 } @SOURCES; %h = (%h, @_); \%h }

{
    my ($res, $j) = series('from=2003-03-01T12:00:00.000Z'
                           . '&to=2003-03-04T00:00:00.000Z&interval=day');
    is $res->code, 200, 'day series -> 200' or diag $res->content;
    like $res->header('Cache-Control') // '', qr/no-store/, 'no-store';
    is $j->{interval}, 'day', 'interval';
    is $j->{timezone}, 'UTC', 'timezone is LeadCRMTimeZone';
    is_deeply [map { $_->{start} } @{ $j->{buckets} }],
        ['2003-03-01T00:00:00.000Z', '2003-03-02T00:00:00.000Z',
         '2003-03-03T00:00:00.000Z'], 'three day buckets, partial first';
    is_deeply $j->{buckets}[0], { start => '2003-03-01T00:00:00.000Z',
        total => 1, converted => 0, bySource => src(WEBSITE => 1) },
        'first bucket counts only leads from `from` on';
    is_deeply $j->{buckets}[1], { start => '2003-03-02T00:00:00.000Z',
        total => 2, converted => 1, bySource => src(ADS => 2) },
        'second bucket: converted counts CONVERTED only; deleted excluded';
    is_deeply $j->{buckets}[2], { start => '2003-03-03T00:00:00.000Z',
        total => 1, converted => 0, bySource => src(REFERRAL => 1) },
        'last bucket: `to` exclusive';
}
{
    my ($res, $j) = series('from=2003-03-01T12:00:00.000Z'
                           . '&to=2003-03-04T00:00:00.000Z&interval=week');
    is_deeply [map { [$_->{start}, $_->{total}] } @{ $j->{buckets} }],
        [['2003-02-24T00:00:00.000Z', 3], ['2003-03-03T00:00:00.000Z', 1]],
        'ISO weeks start on Monday';
    ($res, $j) = series('from=2003-02-15T00:00:00.000Z'
                        . '&to=2003-05-01T00:00:00.000Z&interval=month');
    is_deeply [map { [$_->{start}, $_->{total}] } @{ $j->{buckets} }],
        [['2003-02-01T00:00:00.000Z', 0], ['2003-03-01T00:00:00.000Z', 6],
         ['2003-04-01T00:00:00.000Z', 0]],
        'months, empty ones included';
    is_deeply $j->{buckets}[0]{bySource}, src(), 'an empty bucket lists every source';
    ($res, $j) = series('from=2003-01-01T00:00:00.000Z'
                        . '&to=2004-02-05T00:00:00.000Z&interval=day');
    is $res->code, 200, '400 day buckets -> 200';
    is scalar @{ $j->{buckets} || [] }, 400, '... all 400 present';
}

for my $bad ('to=2003-03-04T00:00:00.000Z&interval=day',
             'from=2003-03-01T00:00:00.000Z&interval=day',
             'from=2003-03-01T00:00:00.000Z&to=2003-03-04T00:00:00.000Z',
             'from=2003-03-01T00:00:00.000Z&to=2003-03-04T00:00:00.000Z&interval=year',
             'from=2003-03-01T00:00:00.000Z&to=2003-03-01T00:00:00.000Z&interval=day',
             'from=2003-03-04T00:00:00.000Z&to=2003-03-01T00:00:00.000Z&interval=day',
             'from=2003-03-01&to=2003-03-04T00:00:00.000Z&interval=day',
             'from=2003-01-01T00:00:00.000Z&to=2004-02-05T00:00:00.001Z&interval=day',
             'from=0001-01-01T00:00:00.000Z&to=9999-01-01T00:00:00.000Z&interval=month',
             'from=2003-03-01T00:00:00.000Z&to=2003-03-04T00:00:00.000Z&interval=day&page=1') {
    my ($res) = series($bad);
    ok problem_ok($res, 400, 'invalid_query'), "400 invalid_query: $bad";
}
{
    my ($res) = series('from=2003-03-01T00:00:00.000Z'
                       . '&to=2003-03-04T00:00:00.000Z&interval=day',
                       $user->{token});
    ok problem_ok($res, 403, 'forbidden'), 'USER -> 403';
    ($res) = api(GET => '/api/leads/stats/series?from=2003-03-01T00:00:00.000Z'
                 . '&to=2003-03-04T00:00:00.000Z&interval=day');
    is $res->code, 401, 'no token -> 401';
}

done_testing;
