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
use JSON::PP ();

plan tests => 42;

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

# ---- hardening round 2 (issue 10) -----------------------------------------

# login-account-failures (5 in the test config): failures from several
# addresses add up per account; then even the right password from a new
# address gets 429, answered like the per-pair rule
my $acc = make_user();
my ($i1, $i2) = (client(), client());
my @af = map { (limited($_, POST => '/auth/login',
                        body => { email => $acc->{email}, password => 'wrong password' }))[0]->code }
         ($i1, $i1, $i1, $i2, $i2);
ok "@af" eq '401 401 401 401 401' or print "# @af\n";
($res) = limited(client(), POST => '/auth/login', body => { email => $acc->{email}, password => $acc->{password} });
ok problem_ok($res, 429, 'rate_limited') or print "# got ", $res->code, "\n";
ok(($res->header('Retry-After') // '') =~ /^\d+$/);

# the failed-login key is the account, whatever the spelling: PostgreSQL's
# lower() (C.UTF-8) folds U+212A KELVIN SIGN to k, so a locked account
# stays locked when its email is spelled with it
my $kim = make_user(email => sprintf('kim%d.%d@example.com', $$, time));
my $kip = client();
limited($kip, POST => '/auth/login', body => { email => $kim->{email}, password => 'wrong password' }) for 1 .. 3;
(my $kelvin = $kim->{email}) =~ s/^k/\x{212A}/;
($res) = limited($kip, POST => '/auth/login', body => { email => $kelvin, password => $kim->{password} });
ok problem_ok($res, 429, 'rate_limited') or print "# got ", $res->code, "\n";
# ...and an unknown email is keyed on the database's form of it too
my $ghost = sprintf('kate%d.%d@example.com', $$, time);
(my $ghost_kelvin = $ghost) =~ s/^k/\x{212A}/;
my $gip = client();
my @g = map { (limited($gip, POST => '/auth/login',
                       body => { email => $_, password => 'wrong password' }))[0]->code }
        ($ghost, $ghost_kelvin, uc $ghost, $ghost_kelvin);
ok "@g" eq '401 401 401 429' or print "# @g\n";

# the attempt is reserved before bcrypt: 10 concurrent wrong passwords
# from one address (limit 3) verify at most 3
my $cc = make_user();
my $ccip = client();
pipe($rd, $wr) or die;
@kids = ();
for my $i (1 .. 10) {
    my $pid = fork // die;
    if (!$pid) {
        close $rd;
        my $ua = LWP::UserAgent->new(keep_alive => 0);
        my $r = $ua->post(url('/auth/login'), 'X-Test-Limits' => 'on',
                          'X-Forwarded-For' => $ccip,
                          'Content-Type' => 'application/json',
                          Content => qq({"email":"$cc->{email}","password":"wrong password"}));
        syswrite $wr, $r->code . "\n";
        POSIX::_exit(0);
    }
    push @kids, $pid;
}
close $wr;
@codes = <$rd>;
waitpid $_, 0 for @kids;
chomp @codes;
my $verified = grep { $_ eq '401' } @codes;
ok scalar(@codes) == 10 && $verified <= 3 && (grep { $_ eq '429' } @codes) == 10 - $verified
    or print "# @codes\n";

# IPv6 clients share the budget of their /64 (25/day): hosts of one /64
# together get 25, another /64 is separate
my ($v6a, $v6b) = ($$ % 65536, int(time / 60) % 65000);
my $v6 = sprintf '2001:db8:%x:%x', $v6a, $v6b;
my @v6 = map { (limited("$v6:0:0:0:" . sprintf('%x', $_), GET => '/health'))[0]->code } 1 .. 26;
ok "@v6[0..24]" eq join(' ', ('200') x 25) && $v6[25] == 429 or print "# @v6\n";
($res) = limited(sprintf('2001:db8:%x:%x::1', $v6a, $v6b + 1), GET => '/health');
ok $res->code == 200;
# an IPv4-mapped address is its IPv4 address
my $m4 = '198.51.100.' . (1 + $$ % 250);
limited($m4, GET => '/health') for 1 .. 24;
($res) = limited("::ffff:$m4", GET => '/health');
ok $res->code == 200;
($res) = limited($m4, GET => '/health');
ok $res->code == 429 or print "# got ", $res->code, "\n";

# one class with two windows (25/day and 5/hour): alternating requests
# keep separate counters, so the tighter one is reached
my $wip = client();
my (@day, @hour);
for (1 .. 6) {
    push @day, (limited($wip, GET => '/health'))[0]->code;
    push @hour, (api(GET => '/health', headers => { 'X-Test-Limits' => 'alt',
                                                   'X-Forwarded-For' => $wip }))[0]->code;
}
ok "@hour" eq '200 200 200 200 200 429' or print "# hour: @hour\n";
ok "@day" eq '200 200 200 200 200 200' or print "# day: @day\n";

# a graceful restart (logrotate's daily reload) keeps every lockout
my $gr = make_user();
my $grip = client();
limited($grip, POST => '/auth/login', body => { email => $gr->{email}, password => 'wrong password' }) for 1 .. 3;
($res) = limited($grip, POST => '/auth/login', body => { email => $gr->{email}, password => $gr->{password} });
ok $res->code == 429;
my (undef, $h0) = api(GET => '/health');
my $pidfile = Apache::Test::vars('t_logs') . '/httpd.pid';
open my $pf, '<', $pidfile or die "$pidfile: $!";
chomp(my $ppid = <$pf>);
kill 'USR1', $ppid or die "USR1: $!";
# the new generation answers with its own (smaller) uptime
my $restarted = 0;
for (1 .. 60) {
    sleep 1;
    my $ua = LWP::UserAgent->new(keep_alive => 0, timeout => 5);
    my $r = $ua->get(url('/health'));
    next unless $r->code == 200;
    my $up = eval { JSON::PP::decode_json($r->content)->{uptimeSeconds} } // next;
    if ($up < $h0->{uptimeSeconds}) { $restarted = 1; last }
}
ok $restarted;
sleep 1;
($res) = limited($grip, POST => '/auth/login', body => { email => $gr->{email}, password => $gr->{password} });
ok problem_ok($res, 429, 'rate_limited') or print "# after the restart: ", $res->code, "\n";
