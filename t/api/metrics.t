# leadcrm-metrics: Prometheus text, protected by Require, counters exact
# across child processes (shared memory, atomic adds).
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(plan ok);
use LeadCRM::Test;
use LWP::UserAgent;
use POSIX ();

plan tests => 14;

sub scrape {
    my ($res) = api(GET => '/metrics');
    my %m;
    for (split /\n/, $res->content // '') {
        next if /^#/;
        $m{$1} = $2 if /^(.+) (\S+)$/;
    }
    return ($res, \%m);
}
my $h2xx = 'leadcrm_requests_total{route="GET /health",class="2xx"}';

my ($res, $m0) = scrape();
ok $res->code == 200;
ok(($res->header('Content-Type') // '') =~ m{^text/plain; version=0\.0\.4});
ok $res->content =~ /^# TYPE leadcrm_requests_total counter$/m
    && $res->content =~ /^# TYPE leadcrm_request_duration_seconds histogram$/m;

api(GET => '/health') for 1 .. 3;
my ($r1, $m1) = scrape();
ok(($m1->{$h2xx} // 0) - ($m0->{$h2xx} // 0) == 3);

# 30 concurrent requests over several processes: counted exactly
my @kids;
for (1 .. 30) {
    my $pid = fork // die;
    if (!$pid) { LWP::UserAgent->new(keep_alive => 0)->get(url('/health')); POSIX::_exit(0) }
    push @kids, $pid;
}
waitpid $_, 0 for @kids;
my ($r2, $m2) = scrape();
ok(($m2->{$h2xx} // 0) - ($m1->{$h2xx} // 0) == 30);
# the histogram agrees with the class counts
my $count = $m2->{'leadcrm_request_duration_seconds_count{route="GET /health"}'} // -1;
my $classes = 0;
$classes += $m2->{"leadcrm_requests_total{route=\"GET /health\",class=\"$_\"}"} // 0 for qw(2xx 4xx 5xx);
ok $count == $classes;
ok(($m2->{'leadcrm_request_duration_seconds_bucket{route="GET /health",le="+Inf"}'} // -2) == $count);
my @b = map { $m2->{"leadcrm_request_duration_seconds_bucket{route=\"GET /health\",le=\"$_\"}"} // 0 }
        qw(0.001 0.0025 0.005 0.01 0.025 0.05 0.1 0.25 1 2.5);
ok !grep { $b[$_] > $b[$_ + 1] } 0 .. $#b - 1;              # cumulative

# events
my $u = make_user();
my ($r3, $m3) = scrape();
login($u->{email}, 'wrong password') for 1 .. 2;
login($u->{email}, $u->{password});
api(POST => '/api/leads', body => { name => 'Metrics', email => 'metrics@example.com' });
my ($r4, $m4) = scrape();
my $d = sub { ($m4->{$_[0]} // 0) - ($m3->{$_[0]} // 0) };
ok $d->('leadcrm_logins_total{result="failed"}') == 2;
ok $d->('leadcrm_logins_total{result="ok"}') == 1;
ok $d->('leadcrm_leads_created_total') == 1;
ok $d->('leadcrm_requests_total{route="POST /auth/login",class="4xx"}') == 2;
ok $d->('leadcrm_requests_total{route="POST /api/leads",class="2xx"}') == 1;

# protected: only 127.0.0.1 may scrape
my $other = LWP::UserAgent->new(local_address => '127.0.0.2');
ok $other->get(url('/metrics'))->code == 403;
