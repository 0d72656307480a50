# Rate limits (API.md "Rate limits"): headers on limited routes, 429
# problem with Retry-After, exact counts across child processes, the
# failed-login rule per (account, address) decided before hashing, and
# client addresses only from trusted proxies (mod_remoteip).
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(plan ok);
use LeadCRM::Test;
use LWP::UserAgent;
use POSIX ();

plan tests => 27;

# a fresh client address for each use
my $n = 0;
sub client { sprintf '10.%d.%d.%d', $$ % 250, int(time / 60) % 250, ++$n }
sub limited { my ($ip, @req) = @_;
    my ($m, $p, %o) = @req;
    $o{headers} = { %{ $o{headers} || {} }, 'X-Test-Limits' => 'on',
                    'X-Forwarded-For' => $ip };
    return api($m, $p, %o);
}

# general class (25/day in the test config): headers, then 429
my $ip = '203.0.113.' . (10 + $$ % 200);
my ($res) = limited($ip, GET => '/health');
ok $res->code == 200;
ok(($res->header('RateLimit-Limit') // '') eq '25');
ok(($res->header('RateLimit-Remaining') // '') eq '24');
my $reset = $res->header('RateLimit-Reset') // -1;
ok $reset >= 1 && $reset <= 86400;
limited($ip, GET => '/health') for 2 .. 25;
($res) = limited($ip, GET => '/health');
ok problem_ok($res, 429, 'rate_limited');
ok(($res->header('Retry-After') // '') =~ /^\d+$/ && $res->header('Retry-After') >= 1);
ok(($res->header('RateLimit-Remaining') // '') eq '0');
# another address is not affected
($res) = limited('203.0.113.250', GET => '/health');
ok $res->code == 200;

# exact across processes: 40 concurrent requests, limit 25
my $burst_ip = '192.0.2.' . (1 + $$ % 250);
my @kids;
pipe(my $rd, my $wr) or die;
for my $i (1 .. 40) {
    my $pid = fork // die;
    if (!$pid) {
        close $rd;
        my $ua = LWP::UserAgent->new(keep_alive => 0);
        my $r = $ua->get(url('/health'), 'X-Test-Limits' => 'on',
                         'X-Forwarded-For' => $burst_ip);
        syswrite $wr, $r->code . "\n";
        POSIX::_exit(0);
    }
    push @kids, $pid;
}
close $wr;
my @codes = <$rd>;
waitpid $_, 0 for @kids;
chomp @codes;
ok scalar(@codes) == 40;
ok((grep { $_ eq '200' } @codes) == 25) or print "# 200s: ", scalar(grep { $_ eq '200' } @codes), "\n";
ok((grep { $_ eq '429' } @codes) == 15);
# ...and more than one child process served them
sleep 1;
my $log = Apache::Test::vars('t_logs') . '/leadcrm_access.log';
open my $lf, '<', $log or die $!;
my %pids;
while (<$lf>) { $pids{$1} = 1 if /^\Q$burst_ip\E .* (\d+)$/ }
ok keys(%pids) >= 2 or print "# pids: ", join(',', keys %pids), "\n";

# auth class: 6/day for login+register
my $aip = client();
my @a = map { (limited($aip, POST => '/auth/login',
                        body => { email => "nobody$_\@example.com", password => 'x' x 10 }))[0]->code } 1 .. 7;
ok "@a[0..5]" eq '401 401 401 401 401 401' && $a[6] == 429;

# refresh class: 4/day
my $rip = client();
my @r = map { (limited($rip, POST => '/auth/refresh'))[0]->code } 1 .. 5;
ok "@r[0..3]" eq '401 401 401 401' && $r[4] == 429;

# failed logins per (account, address): 3 in the test config
my $u = make_user();
my $fip = client();
my @f = map { (limited($fip, POST => '/auth/login',
                        body => { email => $u->{email}, password => 'wrong password' }))[0]->code } 1 .. 3;
ok "@f" eq '401 401 401';
($res) = limited($fip, POST => '/auth/login', body => { email => $u->{email}, password => $u->{password} });
ok problem_ok($res, 429, 'rate_limited')          # even the right password
    or print "# got ", $res->code, " ", $res->content, "\n";
ok(($res->header('Retry-After') // '') =~ /^\d+$/);
# same account from another address still works (no lock-out of the real user)
($res) = limited(client(), POST => '/auth/login', body => { email => $u->{email}, password => $u->{password} });
ok $res->code == 200;
# another account from the locked address still works
my $v = make_user();
($res) = limited($fip, POST => '/auth/login', body => { email => $v->{email}, password => $v->{password} });
ok $res->code == 200;
# the account key is the normalised email
($res) = limited($fip, POST => '/auth/login', body => { email => ' ' . uc($u->{email}), password => $u->{password} });
ok problem_ok($res, 429, 'rate_limited');

# a spoofed X-Forwarded-For from an untrusted address changes nothing
my $ua2 = LWP::UserAgent->new(local_address => '127.0.0.2', keep_alive => 0);
my @s;
for my $i (1 .. 26) {
    my $r = $ua2->get(url('/health'), 'X-Test-Limits' => 'on',
                      'X-Forwarded-For' => "198.18.0.$i");
    push @s, $r->code;
}
ok $s[24] == 200 && $s[25] == 429;      # all counted for 127.0.0.2 itself
# and the access log shows the real peer, not the spoofed address
open $lf, '<', $log or die $!;
my $spoofed = grep { /^198\.18\.0\./ } <$lf>;
ok $spoofed == 0;

# errors keep the headers (httpd's error path): 429 on a POST with a body
my $pip = client();
my @p = map { (limited($pip, POST => '/auth/register', body => '{'))[0] } 1 .. 7;
ok $p[5]->code == 400 && defined $p[5]->header('RateLimit-Limit');
ok $p[6]->code == 429;
# limits off (the default here): no headers
($res) = api(GET => '/health');
ok !defined $res->header('RateLimit-Limit');

# public writes (3/day in the test config): lead capture is in that class
my $lip = client();
my @l = map { (limited($lip, POST => '/api/leads',
                        body => { name => 'Rate Test', email => "rl$_\@example.com" }))[0]->code } 1 .. 4;
ok "@l" eq '201 201 201 429' or print "# @l\n";

# wrong current passwords on change-password count as failed logins
my $cpu = make_user();
my $cip = client();
my @cp = map { (limited($cip, POST => "/api/users/$cpu->{id}/change-password", token => $cpu->{token},
                         body => { currentPassword => 'not it', newPassword => 'new password 1' }))[0]->code } 1 .. 4;
ok "@cp" eq '403 403 403 429' or print "# @cp\n";
