# Apache-native access control: AuthType Bearer + "Require leadcrm-role"
# protect a location the module does not serve (t/htdocs/static-admin);
# preflights pass; the role comes from the database (demotion is
# immediate); logs carry ids, never secrets.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(plan ok);
use Apache::TestUtil qw(t_cmp);
use LeadCRM::Test;

plan tests => 26;

my $path = '/static-admin/secret.txt';
my ($res, $j) = api(GET => $path);
ok problem_ok($res, 401, 'unauthorized');
ok(($res->header('WWW-Authenticate') // '') =~ /^Bearer realm="leadcrm"/);

($res) = api(GET => $path, token => 'garbage.token.here');
ok problem_ok($res, 401, 'invalid_token');

my $user = make_user();
($res) = api(GET => $path, token => $user->{token});
ok problem_ok($res, 403, 'forbidden');

my $admin = make_user(role => 'ADMIN');
($res) = api(GET => $path, token => $admin->{token});
ok $res->code == 200 && $res->content =~ /only for admins/;

# demotion takes effect on the very next request
db("UPDATE users SET role = 'USER' WHERE id = :'p1'", $admin->{id});
($res) = api(GET => $path, token => $admin->{token});
ok problem_ok($res, 403, 'forbidden');

# a CORS preflight is not rejected by authentication
($res) = api(OPTIONS => $path, headers => {
    Origin => 'https://app.example.com',
    'Access-Control-Request-Method' => 'GET' });
ok $res->code != 401 && $res->code != 403;
# a plain OPTIONS without preflight headers is authenticated as usual
($res) = api(OPTIONS => $path);
ok $res->code == 401;

# issue 10.11: with no CORS origin on the location, an unauthenticated
# preflight is still answered by the module (204, no grants), and the
# protected handler (here httpd's static-file handler, which would answer
# OPTIONS 200 with Allow) never runs
($res) = api(OPTIONS => '/static-plain/secret.txt', headers => {
    Origin => 'https://app.example.com',
    'Access-Control-Request-Method' => 'GET' });
ok($res->code == 204 && !defined $res->header('Allow')
   && ($res->content // '') eq '');
# no CORS grant (no origin configured there)
ok(!defined $res->header('Access-Control-Allow-Origin')
   && !defined $res->header('Access-Control-Allow-Methods'));
($res) = api(GET => '/static-plain/secret.txt');
ok problem_ok($res, 401, 'unauthorized');
($res) = api(OPTIONS => '/static-plain/secret.txt',
             headers => { Origin => 'https://app.example.com' });
ok $res->code == 401;   # not a preflight: authenticated as usual

# access log carries the user id note; error log carries no secrets
my $logs = Apache::Test::vars('t_logs');
my $password = 'Sup3r secret passphrase!';
my $lu = make_user(password => $password);
login($lu->{email}, 'wrong ' . $password);
my ($r2) = api(GET => '/auth/profile', token => $lu->{token});
ok $r2->code == 200;
# logs are written after the response: wait (bounded) for the lines
sub slurp_until {
    my ($file, $re) = @_;
    my $text = '';
    for (1 .. 20) {
        if (open my $fh, '<', $file) { local $/; $text = <$fh> // '' }
        last if $text =~ $re;
        select undef, undef, undef, 0.5;
    }
    return $text;
}
my $access = slurp_until("$logs/leadcrm_access.log", qr/\Q$lu->{id}\E "GET \/auth\/profile/);
ok $access =~ /\Q$lu->{id}\E "GET \/auth\/profile/;
# (only the module's own lines: Apache::Test runs core modules at trace
# levels that dump headers, which no production LogLevel does)
my $errors = join '', grep { /LCRM\d{5}/ } split /^/m,
    slurp_until("$logs/error_log", qr/login failed for \Q$lu->{id}\E/);
ok $errors =~ /LCRM00502: login failed for \Q$lu->{id}\E from 127\.0\.0\.1/;
ok index($errors, $password) < 0;
ok index($errors, $lu->{token}) < 0 && index($errors, $lu->{refresh}) < 0;
my $hash = db("SELECT password_hash FROM users WHERE id = :'p1'", $lu->{id});
ok index($errors, $hash) < 0 && index($access, $lu->{token}) < 0;

# the JSON access log: one JSON object per line with id, user and route
{
    require JSON::PP;
    # hostile URLs: UTF-8 (httpd's own %U would write caf\xc3\xa9, not
    # JSON), control bytes, invalid UTF-8, quotes and backslashes
    my @hostile = ('/api/leads/caf%C3%A9', '/api/leads/a%01b%1Fc%7F',
                   '/api/leads/%FF%FE%C0%AF', '/api/leads/q%22%5C%22',
                   '/no/such/%E2%80%A8line');
    api(GET => $_) for @hostile;
    my @lines = split /^/m, slurp_until("$logs/leadcrm_access.json.log",
        qr/\xe2\x80\xa8line"/);
    my $bad = grep { !eval { JSON::PP->new->utf8->decode($_); 1 } } @lines;
    ok @lines > 10 && $bad == 0;
    my %uris = map { my $o = eval { JSON::PP->new->utf8->decode($_) }; $o ? ($o->{uri} => 1) : () } @lines;
    ok $uris{"/api/leads/caf\x{e9}"};
    ok $uris{"/api/leads/a\x{01}b\x{1f}c\x{7f}"} && $uris{'/api/leads/q"\\"'};
    ok $uris{"/api/leads/\x{fffd}\x{fffd}\x{fffd}\x{fffd}"};
    my ($mine) = grep { /"user":"\Q$lu->{id}\E"/ && /"route":"GET \/auth\/profile"/ } @lines;
    ok defined $mine && $mine =~ /"id":"[A-Za-z0-9\@_-]{20,}"/ && $mine =~ /"status":200/;
    # module error-log lines carry the request id
    ok $errors =~ /\[req [A-Za-z0-9\@_-]{20,}\] LCRM00502: /;
}
# issue 10.21 / 16.8: each error line carries one id: module lines do not
# repeat the id ErrorLogFormat prints, and lines without a request drop the
# whole "[client ...]" / "[req ...]" fields (never "[client [req")
{
    my $all = do { local (@ARGV, $/) = ("$logs/error_log"); <> } // '';
    ok $all !~ /\[req ([A-Za-z0-9\@_-]{20,})\] LCRM\d{5}: \[\1\]/;
    ok index($all, '[client [req') < 0 && index($all, '[req ]') < 0;
}
