# Security headers on every response (errors and unknown URLs included),
# Server without version, and CORS (API.md "Cross-cutting", "Browser and
# headers").
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(plan ok);
use LeadCRM::Test;

my %security = (
    'Content-Security-Policy' => qr/default-src 'none'/,
    'Strict-Transport-Security' => qr/max-age=\d+/,
    'X-Content-Type-Options' => qr/^nosniff$/,
    'X-Frame-Options' => qr/^(DENY|SAMEORIGIN)$/,
    'Referrer-Policy' => qr/^no-referrer$/,
    'Cross-Origin-Opener-Policy' => qr/^same-origin$/,
    'Cross-Origin-Resource-Policy' => qr/^same-origin$/,
    'X-Permitted-Cross-Domain-Policies' => qr/^none$/,
);
my @responses = (
    [GET => '/health'],
    [GET => '/no/such/url'],                  # httpd's own 404
    [GET => '/auth/profile'],                 # module 401
    [POST => '/auth/login', body => '{'],     # module 400
    [GET => '/static-admin/secret.txt'],      # authn hook 401
    [TRACE => '/health'],                     # TraceEnable off: 405
);

plan tests => @responses * (keys(%security) + 3) + 26;

for my $req (@responses) {
    my ($res) = api(@$req);
    for my $h (sort keys %security) {
        ok(($res->header($h) // '') =~ $security{$h})
            or print "# $h missing on $req->[0] $req->[1] (", $res->code, ")\n";
    }
    ok(($res->header('Server') // '') eq 'Apache');
    ok(($res->header('X-Request-Id') // '') =~ /^[A-Za-z0-9\@_-]{20,}$/);
    ok !defined $res->header('X-Powered-By');
}

my $origin = 'https://app.example.com';
# allowed origin: echoed exactly, with credentials and Vary
my ($res) = api(GET => '/health', headers => { Origin => $origin });
ok(($res->header('Access-Control-Allow-Origin') // '') eq $origin);
ok(($res->header('Access-Control-Allow-Credentials') // '') eq 'true');
ok(($res->header('Vary') // '') =~ /\bOrigin\b/);
my $expose = $res->header('Access-Control-Expose-Headers') // '';
ok $expose =~ /Location/ && $expose =~ /Retry-After/ && $expose =~ /RateLimit-Limit/
    && $expose =~ /RateLimit-Remaining/ && $expose =~ /RateLimit-Reset/;
# with a port
($res) = api(GET => '/health', headers => { Origin => 'https://admin.example.com:8443' });
ok(($res->header('Access-Control-Allow-Origin') // '') eq 'https://admin.example.com:8443');
# other origins, null, and look-alikes: no CORS headers, but Vary
for my $o ('https://evil.example', 'null', 'https://app.example.com.evil.io',
           'http://app.example.com', 'https://APP.example.com') {
    ($res) = api(GET => '/health', headers => { Origin => $o });
    ok !defined $res->header('Access-Control-Allow-Origin')
        && !defined $res->header('Access-Control-Allow-Credentials');
}
($res) = api(GET => '/health');
ok(($res->header('Vary') // '') =~ /\bOrigin\b/);
# on errors too
($res) = api(GET => '/auth/profile', headers => { Origin => $origin });
ok $res->code == 401 && ($res->header('Access-Control-Allow-Origin') // '') eq $origin;
($res) = api(POST => '/auth/login', body => '{', headers => { Origin => $origin });
ok $res->code == 400 && ($res->header('Access-Control-Allow-Origin') // '') eq $origin;
# preflight: 204, methods, headers, max-age, no authentication needed
($res) = api(OPTIONS => '/auth/profile', headers => { Origin => $origin,
    'Access-Control-Request-Method' => 'PUT',
    'Access-Control-Request-Headers' => 'authorization, content-type' });
ok $res->code == 204;
ok(($res->header('Access-Control-Allow-Origin') // '') eq $origin);
ok(($res->header('Access-Control-Allow-Methods') // '') =~ /PUT/);
ok(($res->header('Access-Control-Allow-Headers') // '') =~ /Authorization/i
    && ($res->header('Access-Control-Allow-Headers') // '') =~ /Content-Type/i);
ok(($res->header('Access-Control-Max-Age') // '') eq '600');
ok(($res->header('X-Content-Type-Options') // '') eq 'nosniff');   # like any response
# preflight from a foreign origin: no CORS headers
($res) = api(OPTIONS => '/auth/profile', headers => { Origin => 'https://evil.example',
    'Access-Control-Request-Method' => 'PUT' });
ok !defined $res->header('Access-Control-Allow-Origin')
    && !defined $res->header('Access-Control-Allow-Methods');
# preflight on a location protected by AuthType Bearer passes too
($res) = api(OPTIONS => '/static-admin/secret.txt', headers => { Origin => $origin,
    'Access-Control-Request-Method' => 'GET' });
ok $res->code == 204;
# problem+json "instance" carries the same request id and the trace id of
# the traceparent response header
($res, my $pj) = api(GET => '/auth/profile');
my ($tid) = ($res->header('traceparent') // '') =~ /^00-([0-9a-f]{32})-[0-9a-f]{16}-0[01]$/;
ok(defined $tid && ($pj->{instance} // '') eq 'urn:request:'
    . ($res->header('X-Request-Id') // 'none') . ";trace=$tid");
# an incoming traceparent is continued: same trace id, a new span id
my $in = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
($res, $pj) = api(GET => '/auth/profile', headers => { traceparent => $in });
ok(($res->header('traceparent') // '') =~ /^00-4bf92f3577b34da6a3ce929d0e0e4736-(?!00f067aa0ba902b7)[0-9a-f]{16}-01$/
    && ($pj->{instance} // '') =~ /;trace=4bf92f3577b34da6a3ce929d0e0e4736$/);
# a malformed one starts a new trace
($res) = api(GET => '/health', headers => { traceparent => '00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01' });
ok(($res->header('traceparent') // '') =~ /^00-(?!4bf92f3577b34da6a3ce929d0e0e4736)[0-9a-f]{32}-/);
# TRACE, refused by httpd itself, is a problem document too
($res) = api(TRACE => '/health');
ok problem_ok($res, 405, 'method_not_allowed');
# never "*"
($res) = api(GET => '/health', headers => { Origin => '*' });
ok !defined $res->header('Access-Control-Allow-Origin');
