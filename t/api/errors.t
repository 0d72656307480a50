# The request rules shared by every body endpoint (API.md "General rules"),
# exercised on POST /auth/login: 415, 400 (strict JSON), 413, and the
# problem+json shape; unknown routes 404; wrong methods 405 + Allow.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(plan ok);
use LeadCRM::Test;
use IO::Socket::INET;

sub raw_request {
    my ($bytes) = @_;
    my $hostport = Apache::TestRequest::hostport();
    my $s = IO::Socket::INET->new(PeerAddr => $hostport, Timeout => 10) or die $!;
    print $s $bytes;
    local $/;
    my $out = <$s>;
    close $s;
    return $out // '';
}

my @bad_json = (
    ['trailing data',      '{"email":"a@b.co","password":"x"} x'],
    ['two values',         '{"email":"a@b.co"}{"password":"x"}'],
    ['NaN',                '{"email":"a@b.co","password":NaN}'],
    ['Infinity',           '{"email":"a@b.co","password":Infinity}'],
    ['-Infinity',          '{"a":-Infinity}'],
    ['invalid UTF-8',      "{\"email\":\"\xff\xfe\",\"password\":\"x\"}"],
    ['duplicate keys',     '{"email":"a@b.co","email":"c@d.co","password":"x"}'],
    ['nested duplicate',   '{"email":"a@b.co","password":"x","o":{"k":1,"k":2}}'],
    ['top-level array',    '[{"email":"a@b.co"}]'],
    ['top-level string',   '"hello"'],
    ['too deep',           '{"a":' x 17 . '1' . '}' x 17],
    ['not JSON',           'email=a@b.co'],
    ['empty',              ''],
    ['single quotes',      "{'email':'a'}"],
    ['comment',            '{"email":"a@b.co" /* c */}'],
    ['raw control char',   "{\"email\":\"a\x01b\",\"password\":\"x\"}"],
);
my @bad_fields = (
    ['number for string',  { email => 5, password => 'secret123' }, 'email'],
    ['unknown field',      { email => 'a@b.co', password => 'secret123', role => 'ADMIN' }, 'role'],
    ['null',               { email => undef, password => 'secret123' }, 'email'],
    ['missing',            { email => 'a@b.co' }, 'password'],
    ['embedded NUL',       '{"email":"a\u0000@b.co","password":"secret123"}', 'email'],
);

plan tests => 14 + 2 * @bad_json + 2 * @bad_fields;

# 415
my ($res) = api(POST => '/auth/login', body => '{"email":"a@b.co","password":"x"}',
                headers => { 'Content-Type' => 'text/plain' });
ok problem_ok($res, 415, 'unsupported_media_type');
($res) = api(POST => '/auth/login', body => '{"email":"a@b.co","password":"x"}',
             headers => { 'Content-Type' => undef });
ok problem_ok($res, 415, 'unsupported_media_type');
($res) = api(POST => '/auth/login', body => '{"email":"a@b.co","password":"x"}',
             headers => { 'Content-Type' => 'application/json; charset=latin1' });
ok problem_ok($res, 415, 'unsupported_media_type');
($res) = api(POST => '/auth/login', body => '{"email":"nobody@b.co","password":"xxxxxxxx"}',
             headers => { 'Content-Type' => 'application/json; charset=UTF-8' });
ok problem_ok($res, 401, 'invalid_credentials');

for my $c (@bad_json) {
    my ($r, $j) = api(POST => '/auth/login', body => $c->[1]);
    ok problem_ok($r, 400);
    ok(($j->{code} // '') eq 'invalid_json') or print "# $c->[0]: $j->{code}\n";
}
for my $c (@bad_fields) {
    my ($r, $j) = api(POST => '/auth/login', body => $c->[1]);
    ok problem_ok($r, 400, 'validation_failed');
    ok((grep { $_->{field} eq $c->[2] } @{ $j->{errors} || [] }) == 1)
        or print "# $c->[0]\n";
}

# 16 levels are fine (the body is then refused for its unknown field)
my ($r16, $j16) = api(POST => '/auth/login',
                      body => '{"a":' x 16 . '1' . '}' x 16);
ok(problem_ok($r16, 400, 'validation_failed'));

# 413: over the 64 KiB default, with and without Content-Length
# (raw socket: the server answers before reading a body it will refuse)
my $raw = raw_request("POST /auth/login HTTP/1.1\r\nHost: x\r\n"
    . "Content-Type: application/json\r\nContent-Length: 70000\r\n"
    . "Connection: close\r\n\r\n" . '{"email":"' . ('a' x 1000));
ok $raw =~ m{^HTTP/1\.1 413 } && $raw =~ m{application/problem\+json}
    && $raw =~ /"code":"payload_too_large"/;

# problem+json carries no internals
my ($r404, $j404) = api(GET => '/auth/nowhere');
ok problem_ok($r404, 404, 'not_found');
($res) = api(GET => '/auth/login');
ok problem_ok($res, 405, 'method_not_allowed');
ok(($res->header('Allow') // '') eq 'POST');
($res) = api(DELETE => '/auth/profile');
ok(($res->header('Allow') // '') eq 'GET, PUT');
# unknown query parameters are refused everywhere
($res) = api(GET => '/health?verbose=1');
ok problem_ok($res, 400, 'invalid_query');
# trailing slash is not the same route
($res) = api(GET => '/health/');
ok problem_ok($res, 404, 'not_found');
# body-less POSTs need no Content-Type
($res) = api(POST => '/auth/logout');
ok $res->code == 204;
# lone surrogate escapes are not text: refused, never turned into U+FFFD
my ($rs, $js) = api(POST => '/auth/register', body => '{"email":"s@example.com","password":"password1","name":"a\ud800b"}');
ok problem_ok($rs, 400, 'invalid_json');
