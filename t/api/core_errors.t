# issue 10.16: errors that httpd itself raises on the module's locations,
# before or instead of the module, are the contract's problem+json with the
# usual security headers and CORS: an encoded slash (404), a malformed
# header (400), an over-long request line (414), an over-long header
# or too many headers (400).
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(plan ok);
use LeadCRM::Test;
use IO::Socket::INET;

plan tests => 14;

my $origin = 'https://app.example.com';

sub raw {
    my ($bytes) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => Apache::TestRequest::hostport(),
                                  Timeout => 10) or die $!;
    print $s $bytes;
    local $/;
    my $out = <$s>;
    close $s;
    return $out // '';
}

# status line, problem+json body with that status and code, nosniff, CORS
sub problem_raw_ok {
    my ($out, $status, $code) = @_;
    my ($head, $body) = split /\r\n\r\n/, $out, 2;
    $head //= '';
    my $j = eval { JSON::PP::decode_json($body // '') } || {};
    my $good = $head =~ m{^HTTP/1\.1 $status }
        && $head =~ m{^Content-Type: application/problem\+json}mi
        && ($j->{status} // 0) == $status && ($j->{code} // '') eq $code
        && $head =~ m{^X-Content-Type-Options: nosniff}mi;
    print "# got: ", substr($out, 0, 400), "\n" unless $good;
    return $good;
}

# 404: %2F in the path (AllowEncodedSlashes Off), through the client lib too
my ($res, $j) = api(GET => '/api/leads/..%2f..%2fetc%2fpasswd');
ok problem_ok($res, 404, 'not_found');
ok(($res->header('X-Content-Type-Options') // '') eq 'nosniff');
($res) = api(GET => '/api/leads/..%2f..%2fetc%2fpasswd',
             headers => { Origin => $origin });
ok(($res->header('Access-Control-Allow-Origin') // '') eq $origin);
ok problem_raw_ok(raw("GET /auth/x%2Fy HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
                  404, 'not_found');

# 400: a header line without a colon
ok problem_raw_ok(raw("GET /api/leads HTTP/1.1\r\nHost: x\r\nno colon here\r\n"
                      . "Connection: close\r\n\r\n"), 400, 'bad_request');
my $out = raw("GET /api/leads HTTP/1.1\r\nHost: x\r\nOrigin: $origin\r\nbad\r\n\r\n");
ok $out =~ /^Access-Control-Allow-Origin: \Q$origin\E\r$/mi;

# 414: request line over LimitRequestLine (8190)
ok problem_raw_ok(raw("GET /api/leads/" . ('a' x 9000) . " HTTP/1.1\r\nHost: x\r\n"
                      . "Connection: close\r\n\r\n"), 414, 'uri_too_long');
ok problem_raw_ok(raw("GET /health?" . ('a=1&' x 2500) . " HTTP/1.1\r\nHost: x\r\n\r\n"),
                  414, 'uri_too_long');

# one header over LimitRequestFieldSize (8190): httpd 2.4 answers 400 (it
# raises 431 nowhere; the code exists should it ever)
ok problem_raw_ok(raw("GET /auth/profile HTTP/1.1\r\nHost: x\r\nX-Big: " . ('b' x 9000)
                      . "\r\nConnection: close\r\n\r\n"), 400, 'bad_request');
# too many header fields (LimitRequestFields 100) is a 400
ok problem_raw_ok(raw("GET /api/consultations HTTP/1.1\r\nHost: x\r\n"
                      . join('', map { "X-H$_: v\r\n" } 1 .. 120)
                      . "Connection: close\r\n\r\n"), 400, 'bad_request');

# a Bearer-protected location that is not the module's is the module's too
ok problem_raw_ok(raw("GET /static-admin/a%2Fb HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
                  404, 'not_found');

# other sites stay httpd's: the same errors outside the module's locations
$out = raw("GET /index%2Fhtml HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
ok $out =~ m{^HTTP/1\.1 404 } && $out !~ /problem\+json/;
$out = raw("GET /" . ('a' x 9000) . " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
ok $out =~ m{^HTTP/1\.1 414 } && $out !~ /problem\+json/;

# the module's own 404 for an unknown path is unchanged
($res) = api(GET => '/api/leads/a/b/c');
ok problem_ok($res, 404, 'not_found');
