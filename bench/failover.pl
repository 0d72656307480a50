# Load and checks of bench/failover (TAP lines; the test count goes to
# $FO_DIR/tapcount, the shell adds the database checks).  Environment:
# FO_URL, FO_DIR, FO_KILL (kills the primary), FO_PROMOTE (promotes).
use strict; use warnings;
use LWP::UserAgent; use JSON::PP; use POSIX (); use Time::HiRes qw(time sleep);

my ($url, $dir) = @ENV{qw(FO_URL FO_DIR)};
my ($n, $fails) = (0, 0);
sub ok { my ($c, $m) = @_; $n++; $fails++ unless $c;
         print(($c ? "ok" : "not ok") . " $n - $m\n"); $c }
sub req {
    my ($ua, $m, $p, $body, %h) = @_;
    my $r = HTTP::Request->new($m => "$url$p");
    if (defined $body) { $r->content(encode_json($body)); $r->header('Content-Type' => 'application/json') }
    $r->header($_ => $h{$_}) for keys %h;
    my $res = $ua->request($r);
    my $j = eval { decode_json($res->content) };
    return ($res, $j);
}
sub cookie { my ($res) = @_; for ($res->header('Set-Cookie')) { return $1 if defined && /leadcrm_refresh=([^;]+)/ } undef }
sub code {   # 'X' for a client-side failure (timeout, reset): never expected
    my ($res) = @_;
    return ($res->header('Client-Warning') // '') eq 'Internal response' ? 'X' : $res->code;
}
sub iso { POSIX::strftime('%Y-%m-%dT%H:%M:%SZ', gmtime $_[0]) }
$| = 1;

my $ua = LWP::UserAgent->new(timeout => 20, keep_alive => 1);
my $pw = 'failover password';

# a refresh token rotated before the failover
my ($r, $j) = req($ua, POST => '/auth/register', { email => "pre$$\@example.com", password => $pw, name => 'Pre' });
my $c0 = cookie($r);
($r) = req($ua, POST => '/auth/refresh', undef, Cookie => "leadcrm_refresh=" . ($c0 // ''));
my $pre = cookie($r);
ok($r->code == 200 && $pre, 'a refresh token is rotated before the failover');

my $base = (int(time / 86400) + 1) * 86400;   # tomorrow 00:00 UTC
my @kinds = qw(lead booking register refresh profile lead);
my @kids;
for my $w (1 .. 6) {
    my $pid = fork // die;
    if (!$pid) {
        my $u = LWP::UserAgent->new(timeout => 20, keep_alive => 1);
        my ($r, $j) = req($u, POST => '/auth/register', { email => "w$w.$$\@example.com", password => $pw, name => "W$w" });
        my $chain = cookie($r); my $tok = $j->{accessToken} // '';
        open my $fh, '>', "$dir/load.$w" or die;
        my $i = 0; my $end = time + 40;
        while (!-e "$dir/stop" && time < $end) {
            $i++;
            my $kind = $kinds[$i % @kinds]; my $t0 = time; my $id = '-';
            if ($kind eq 'lead') {
                ($r, $j) = req($u, POST => '/api/leads', { name => "Fo $w-$i", email => "fo$w.$i.$$\@example.com" });
                $id = $j->{id} if $r->code == 201 && $j;
            } elsif ($kind eq 'booking') {
                ($r, $j) = req($u, POST => '/api/consultations', { name => "Fo $w-$i", email => "fb$w.$i.$$\@example.com",
                    topic => 'failover', scheduledAt => iso($base + ($w * 300 + $i) * 1800) });
                $id = $j->{id} if $r->code == 201 && $j;
            } elsif ($kind eq 'register') {
                ($r, $j) = req($u, POST => '/auth/register', { email => "fr$w.$i.$$\@example.com", password => $pw, name => 'R' });
                $id = $j->{user}{id} if $r->code == 201 && $j;
            } elsif ($kind eq 'refresh') {
                next unless $chain;
                ($r, $j) = req($u, POST => '/auth/refresh', undef, Cookie => "leadcrm_refresh=$chain");
                # like a browser: keep the cookie until a new one arrives (a
                # rotation whose answer was lost is covered by the grace)
                $chain = cookie($r) // $chain if $r->code == 200;
            } else {
                ($r, $j) = req($u, GET => '/auth/profile', undef, Authorization => "Bearer $tok");
            }
            my $pj = ($r->header('Content-Type') // '') =~ m{^application/problem\+json}
                     && $j && defined $j->{code} ? 1 : 0;
            printf $fh "%d %s %s %.3f %s %.3f %d\n", $w, $kind, code($r), time - $t0, $id, $t0, $pj;
            if ($r->code == 503 && !$pj) {   # diagnostics for the report
                printf $fh "# %s %s %s\n", $kind, $r->header('Content-Type') // '-', substr($r->content // '', 0, 200) =~ s/\s+/ /gr;
            }
        }
        close $fh;
        if ($chain) { open my $c, '>', "$dir/chain.$w"; print $c $chain; close $c }
        POSIX::_exit(0);
    }
    push @kids, $pid;
}

sleep 3;
system($ENV{FO_KILL}) == 0 or die "cannot stop the primary";
# from here the primary is down (pg_ctl stop waits for it): taking the time
# before the command counted reads that started while a loaded machine was
# still running pg_ctl and the primary still answered
my $t_kill = time;
sleep 3;
# the standby accepts writes before pg_ctl promote returns: the gap ends
# when the command starts
my $t_gap_end = time;
system($ENV{FO_PROMOTE}) == 0 or die "cannot promote the standby";
my $t_prom = time;
# writes again: the first 201 after the promotion
my $t_ok; my $k = 0;
open my $ph, '>', "$dir/load.probe" or die;
while (time < $t_prom + 10) {
    $k++;
    my $t0 = time;
    my ($r, $j) = req($ua, POST => '/api/leads', { name => "Probe $k", email => "probe$k.$$\@example.com" });
    printf $ph "0 lead %s %.3f %s %.3f 0\n", code($r), time - $t0, ($r->code == 201 ? $j->{id} : '-'), $t0;
    if ($r->code == 201) { $t_ok = time; last }
    sleep 0.1;
}
close $ph;
sleep 4;
open my $s, '>', "$dir/stop"; close $s;
waitpid $_, 0 for @kids;

my @lines;
for my $f (glob "$dir/load.*") { open my $fh, '<', $f; push @lines, map { [split] } grep { !/^#/ } <$fh> }
my %st; $st{$_->[2]}++ for @lines;
print "# ", scalar(@lines), " requests; statuses: ", join(' ', map { "$_:$st{$_}" } sort keys %st), "\n";
ok(!$st{500} && !$st{X}, 'no 500 and no request left unanswered (client timeouts or resets)');
ok(!grep({ $_->[2] !~ /^(200|201|503)$/ } @lines), 'only 200, 201 and 503 answered');
ok(!grep({ $_->[2] == 503 && !$_->[6] } grep { $_->[2] =~ /^\d+$/ } @lines), 'every 503 is a problem+json document')
    or system("grep -h '^#' $dir/load.*");
my @gap = grep { $_->[1] eq 'profile' && $_->[5] > $t_kill + 0.5 && $_->[5] + $_->[3] < $t_gap_end } @lines;
ok(@gap && !grep({ $_->[2] ne '503' } @gap),
   'reads between the kill and the promotion answer 503 (' . scalar(@gap) . ' reads)')
    or do {
        printf "# gap read: status %s, started %.3f s after the kill, took %.3f s\n",
               $_->[2], $_->[5] - $t_kill, $_->[3] for grep { $_->[2] ne '503' } @gap;
    };
ok(!grep({ $_->[3] > 15 } @lines), 'no request hung (each answered within the client timeout)');
ok(defined $t_ok, sprintf('writes succeed again within 10 s of the promotion (%s)',
   defined $t_ok ? sprintf('%.1f s', $t_ok - $t_prom) : 'never'));
my @after = grep { defined $t_ok && $_->[5] > $t_ok + 1 } @lines;
ok(@after && !grep({ $_->[2] !~ /^20[01]$/ } @after), 'after that every request succeeds (' . scalar(@after) . ')');
($r, $j) = req($ua, POST => '/auth/refresh', undef, Cookie => "leadcrm_refresh=$pre");
ok($r->code == 200 && cookie($r), 'the refresh token rotated before the failover works after it')
    or print "# got ", $r->code, " ", ($j->{code} // '-'), "\n";
my ($chains, $good) = (0, 0);
for my $f (glob "$dir/chain.*") {
    open my $c, '<', $f; my $v = <$c>; $chains++;
    ($r) = req($ua, POST => '/auth/refresh', undef, Cookie => "leadcrm_refresh=$v");
    $good++ if $r->code == 200;
}
ok($chains == 6 && $good == $chains, "refresh chains rotated during the load work after it ($good of $chains)");
open my $tc, '>', "$dir/tapcount"; print $tc $n; close $tc;
exit($fails ? 1 : 0);
