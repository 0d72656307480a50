# GET /health: 200 with the database check, 503 problem while PostgreSQL
# is stopped, 200 again after it restarts (no httpd restart).
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(plan ok);
use LeadCRM::Test;
use Time::HiRes qw(time);

plan tests => 14;

my ($res, $j) = api(GET => '/health');
ok $res->code == 200;
ok $j->{status} eq 'ok' && $j->{checks}{database}{status} eq 'ok';
ok defined $j->{checks}{database}{latencyMs} && defined $j->{version}
    && $j->{uptimeSeconds} =~ /^\d+$/;
ok(($res->header('Content-Type') // '') =~ m{^application/json});

# warm several pooled connections so the restart hits stale ones
api(GET => '/health') for 1 .. 8;

pg_ctl('stop');
my $stopped = 1;
END { pg_ctl('start') if $stopped }
my $t0 = time;
($res, $j) = api(GET => '/health');
my $took = time - $t0;
ok $res->code == 503;
ok(($j->{status} // '') eq 'down'
    && ($j->{checks}{database}{status} // '') eq 'down');
ok(($res->header('Content-Type') // '') =~ m{^application/problem\+json});
ok(($j->{code} // '') eq 'service_unavailable');
ok $took < 3;
# an endpoint that needs the database also answers 503, not 500
my ($r2) = api(POST => '/auth/login',
               body => { email => 'a@b.co', password => 'whatever1' });
ok problem_ok($r2, 503, 'service_unavailable');
pg_ctl('start');
$stopped = 0;

# every pooled connection recovers by itself
my $all_ok = 1;
for (1 .. 12) {
    my ($r) = api(GET => '/health');
    $all_ok = 0 unless $r->code == 200;
}
ok $all_ok;
($res, $j) = api(GET => '/health');
ok $res->code == 200 && $j->{status} eq 'ok';
($res) = api(POST => '/health');
ok problem_ok($res, 405, 'method_not_allowed');
ok(($res->header('Allow') // '') eq 'GET');
