# Access-token verification: a correctly built token works; every forged,
# tampered, expired, not-yet-valid, wrong-issuer/audience, none/NoNe,
# HS384/HS512/RS256 or garbage token -> 401 invalid_token with
# WWW-Authenticate (API.md "Access token", PITFALLS.md libjwt).
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(plan ok);
use LeadCRM::Test;
use LeadCRM::JWT;

my $u = make_user();
my ($sid) = db("SELECT id FROM sessions WHERE user_id = :'p1' AND revoked_at IS NULL"
               . " ORDER BY created_at DESC LIMIT 1", $u->{id});
my $now = time;
my %good = (sub => $u->{id}, role => 'USER', sid => $sid, jti => 'abc',
            iss => 'leadcrm-test', aud => 'leadcrm-test-api',
            iat => $now, exp => $now + 600);
my %hdr = (alg => 'HS256', typ => 'JWT');

sub claims { my %c = (%good, @_); delete $c{$_} for grep { !defined $c{$_} } keys %c; \%c }

my @bad = (
    ['tampered payload', do {
        my $t = jwt_sign(header => \%hdr, claims => claims());
        my ($h, $p, $s) = split /\./, $t;
        my $p2 = b64url(JSON::PP->new->canonical->encode(claims(role => 'SUPER_ADMIN')));
        "$h.$p2.$s" }],
    ['tampered signature', do {
        my $t = jwt_sign(header => \%hdr, claims => claims());
        substr($t, -3, 1) = substr($t, -3, 1) eq 'A' ? 'B' : 'A'; $t }],
    ['wrong key', jwt_sign(header => \%hdr, claims => claims(), key => 'x' x 48)],
    ['alg none, no sig', jwt_sign(header => { alg => 'none', typ => 'JWT' }, claims => claims(), alg => 'none')],
    ['alg NoNe', jwt_sign(header => { alg => 'NoNe', typ => 'JWT' }, claims => claims(), alg => 'none')],
    ['alg none with sig', do {
        my $t = jwt_sign(header => { alg => 'none', typ => 'JWT' }, claims => claims());
        $t }],
    ['HS384 same key', jwt_sign(header => { alg => 'HS384', typ => 'JWT' }, claims => claims(), alg => 'HS384')],
    ['HS512 same key', jwt_sign(header => { alg => 'HS512', typ => 'JWT' }, claims => claims(), alg => 'HS512')],
    ['hs256 lowercase', jwt_sign(header => { alg => 'hs256', typ => 'JWT' }, claims => claims())],
    ['RS256 header', jwt_sign(header => { alg => 'RS256', typ => 'JWT' }, claims => claims())],
    ['expired', jwt_sign(header => \%hdr, claims => claims(iat => $now - 1000, exp => $now - 400))],
    ['nbf in future', jwt_sign(header => \%hdr, claims => claims(nbf => $now + 300))],
    ['iat in future', jwt_sign(header => \%hdr, claims => claims(iat => $now + 300, exp => $now + 900))],
    ['exp string', jwt_sign(header => \%hdr, claims => '{"aud":"leadcrm-test-api","exp":"' . ($now + 600) . '","iat":' . $now . ',"iss":"leadcrm-test","jti":"a","role":"USER","sid":"' . $sid . '","sub":"' . $u->{id} . '"}')],
    ['exp float', jwt_sign(header => \%hdr, claims => '{"aud":"leadcrm-test-api","exp":' . ($now + 600) . '.5,"iat":' . $now . ',"iss":"leadcrm-test","jti":"a","role":"USER","sid":"' . $sid . '","sub":"' . $u->{id} . '"}')],
    ['no exp', jwt_sign(header => \%hdr, claims => claims(exp => undef))],
    ['no iat', jwt_sign(header => \%hdr, claims => claims(iat => undef))],
    ['wrong iss', jwt_sign(header => \%hdr, claims => claims(iss => 'someone-else'))],
    ['wrong aud', jwt_sign(header => \%hdr, claims => claims(aud => 'other-api'))],
    ['aud array', jwt_sign(header => \%hdr, claims => claims(aud => ['leadcrm-test-api']))],
    ['lifetime too long', jwt_sign(header => \%hdr, claims => claims(exp => $now + 100000))],
    ['no sid', jwt_sign(header => \%hdr, claims => claims(sid => undef))],
    ['unknown session', jwt_sign(header => \%hdr, claims => claims(sid => '00000000-0000-4000-8000-000000000000'))],
    ['sub of another user', jwt_sign(header => \%hdr, claims => claims(sub => '00000000-0000-4000-8000-000000000001'))],
    ['bad role', jwt_sign(header => \%hdr, claims => claims(role => 'ROOT'))],
    ['unknown kid', jwt_sign(header => { %hdr, kid => 'nope' }, claims => claims())],
    ['duplicate claim keys', jwt_sign(header => \%hdr, claims => '{"sub":"x","sub":"' . $u->{id} . '"}')],
    ['garbage', 'not-a-token'],
    ['two parts', 'abc.def'],
    ['four parts', 'a.b.c.d'],
    ['bad base64', '!!!.???.***'],
    ['oversized', 'a' x 5000 . '.b.c'],
);

plan tests => 6 + 3 * @bad;

# the test's own signing is right: a well-formed token works
my $mine = jwt_sign(header => \%hdr, claims => claims());
my ($res, $j) = api(GET => '/auth/profile', token => $mine);
ok $res->code == 200;
ok(($j->{id} // '') eq $u->{id});
# and the server's token works too
($res) = api(GET => '/auth/profile', token => $u->{token});
ok $res->code == 200;

for my $b (@bad) {
    my ($r) = api(GET => '/auth/profile', token => $b->[1]);
    ok problem_ok($r, 401, 'invalid_token') or print "# $b->[0]: ", $r->code, "\n";
    my $www = $r->header('WWW-Authenticate') // '';
    ok $www =~ /^Bearer / && $www =~ /error="invalid_token"/;
    ok $r->content !~ /\Q$b->[1]\E/ || length($b->[1]) < 4;
}

# missing token: unauthorized, realm only
($res) = api(GET => '/auth/profile');
ok problem_ok($res, 401, 'unauthorized');
ok(($res->header('WWW-Authenticate') // '') eq 'Bearer realm="leadcrm"');
# another scheme is not a Bearer token
($res) = api(GET => '/auth/profile', headers => { Authorization => 'Basic dXNlcjpwYXNz' });
ok problem_ok($res, 401, 'unauthorized');
