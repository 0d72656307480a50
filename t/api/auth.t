# Register, login, refresh rotation (grace, reuse, concurrency), logout,
# logout-all, profile: API.md "Auth" and its "Details that clients rely on".
use strict;
use warnings FATAL => 'all';
use utf8;
use Apache::Test qw(plan ok);
use LeadCRM::Test;
use Digest::SHA qw(sha256_hex);
use POSIX ();

plan tests => 102;

sub cookie_header { my ($res) = @_; join "\n", $res->header('Set-Cookie') }
sub refresh_with { my ($c, %h) = @_;
    api(POST => '/auth/refresh', headers => { Cookie => "leadcrm_refresh=$c", %h }) }

# ---- register ---------------------------------------------------------------
my $email = new_email();
my ($res, $j) = api(POST => '/auth/register', body => {
    email => '  ' . uc($email) . ' ', password => 'correct horse battery',
    name => 'Zoë Ω 日本', company => 'ACME', phone => '+1 (555) 010-0000',
    jobTitle => 'CTO' });
ok $res->code == 201;
ok(($res->header('Location') // '') eq '/auth/profile');
ok(($res->header('Cache-Control') // '') =~ /no-store/);
ok $j->{tokenType} eq 'Bearer' && $j->{expiresIn} == 900 && length $j->{accessToken} > 20;
my $user = $j->{user};
ok $user->{email} eq $email;                      # trimmed and lowercased
ok $user->{role} eq 'USER' && $user->{name} eq 'Zoë Ω 日本';
ok !grep { /password|hash|token/i } keys %$user;
ok join(',', sort keys %$user) eq join(',', sort qw(id email name company phone
    jobTitle bio role emailVerified mfaEnabled isActive lastLoginAt createdAt updatedAt));
ok $user->{createdAt} =~ /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
my $cookies = cookie_header($res);
ok $cookies =~ /leadcrm_refresh=[A-Za-z0-9_-]{43};/;
ok $cookies =~ /HttpOnly/ && $cookies =~ /SameSite=Strict/ && $cookies =~ /Path=\/auth/
    && $cookies =~ /Max-Age=604800/;
ok $res->content !~ /leadcrm_refresh|\Q@{[cookie_of($res)]}\E/;   # never in the body
my $rt = cookie_of($res);
# only the SHA-256 of the refresh token is stored; the password as bcrypt
ok db("SELECT count(*) FROM refresh_tokens WHERE token_hash = decode(:'p1', 'hex')",
      sha256_hex($rt)) eq '1';
ok db("SELECT password_hash LIKE '\$2_\$10\$%' FROM users WHERE id = :'p1'", $user->{id}) eq 't';

# duplicate, case-insensitive
($res) = api(POST => '/auth/register', body => { email => uc $email,
    password => 'another password', name => 'X' });
ok problem_ok($res, 409, 'email_taken');
# role can never be set
($res, $j) = api(POST => '/auth/register', body => { email => new_email(),
    password => 'correct horse battery', name => 'X', role => 'SUPER_ADMIN' });
ok problem_ok($res, 400, 'validation_failed') && $j->{errors}[0]{field} eq 'role';
# password rules: 8 code points .. 72 bytes, no NUL
for my $case ([ 'seven77', 400 ], [ 'ééééééé', 400 ], [ 'éééééééé', 201 ],
              [ 'a' x 72, 201 ], [ 'a' x 73, 400 ], [ "abc\x{0}defgh", 400 ]) {
    ($res) = api(POST => '/auth/register', body => JSON::PP->new->utf8->encode({
        email => new_email(), password => $case->[0], name => 'P' }));
    ok $res->code == $case->[1];
}
($res, $j) = api(POST => '/auth/register', body => { email => 'not-an-email',
    password => 'correct horse battery', name => '' });
ok problem_ok($res, 400, 'validation_failed') && @{ $j->{errors} } == 2;
($res) = api(POST => '/auth/register', body => { email => new_email(),
    password => 'correct horse battery', name => 'x' x 101 });
ok problem_ok($res, 400, 'validation_failed');

# ---- login ------------------------------------------------------------------
($res, $j) = login(uc($email), 'correct horse battery');
ok $res->code == 200 && $j->{user}{id} eq $user->{id} && cookie_of($res);
ok(($res->header('Cache-Control') // '') =~ /no-store/);
ok db("SELECT last_login_at IS NOT NULL FROM users WHERE id = :'p1'", $user->{id}) eq 't';
my ($r1, $j1) = login($email, 'wrong password');
my ($r2, $j2) = login(new_email(), 'wrong password');
ok problem_ok($r1, 401, 'invalid_credentials') && problem_ok($r2, 401, 'invalid_credentials');
ok $j1->{detail} eq $j2->{detail} && $j1->{title} eq $j2->{title};   # same answer
($res) = login($email, 'correct horse battery' . 'x' x 60);      # > 72 bytes
ok problem_ok($res, 401, 'invalid_credentials');
# deactivated and deleted users cannot log in; their tokens stop at once
my $d = make_user();
db("UPDATE users SET is_active = false WHERE id = :'p1'", $d->{id});
($res) = login($d->{email}, $d->{password});
ok problem_ok($res, 401, 'invalid_credentials');
($res) = api(GET => '/auth/profile', token => $d->{token});
ok problem_ok($res, 401, 'invalid_token');
my $del = make_user();
db("UPDATE users SET deleted_at = now() WHERE id = :'p1'", $del->{id});
($res) = login($del->{email}, $del->{password});
ok problem_ok($res, 401, 'invalid_credentials');
($res) = api(GET => '/auth/profile', token => $del->{token});
ok problem_ok($res, 401, 'invalid_token');
# the email of a deleted user is free again
($res) = register(email => $del->{email});
ok $res->code == 201;

# ---- profile ------------------------------------------------------------------
my $p = make_user();
($res, $j) = api(GET => '/auth/profile', token => $p->{token});
ok $res->code == 200 && $j->{id} eq $p->{id} && $j->{email} eq $p->{email};
ok(($res->header('Cache-Control') // '') =~ /no-store/);
($res, $j) = api(PUT => '/auth/profile', token => $p->{token},
                 body => { bio => "line 1\nline\t2", company => undef });
ok $res->code == 200 && $j->{bio} eq "line 1\nline\t2" && !defined $j->{company}
    && $j->{name} eq 'Test User';
ok db("SELECT updated_at > created_at FROM users WHERE id = :'p1'", $p->{id}) eq 't';
for my $body ({ role => 'ADMIN' }, { email => 'x@y.zz' }, { name => '' },
              { name => undef }, { phone => 'call me' }, { bio => 'x' x 2001 },
              { name => "a\x{1}b" }, { company => "a\nb" }, { isActive => JSON::PP::false }) {
    ($res) = api(PUT => '/auth/profile', token => $p->{token}, body => $body);
    ok problem_ok($res, 400, 'validation_failed');
}
($res, $j) = api(GET => '/auth/profile', token => $p->{token});
ok $j->{role} eq 'USER' && $j->{bio} eq "line 1\nline\t2";          # nothing changed
($res) = api(PATCH => '/auth/profile', token => $p->{token}, body => {});
ok problem_ok($res, 405, 'method_not_allowed');

# ---- refresh rotation -----------------------------------------------------------
my $s = make_user();
my $c0 = $s->{refresh};
($res, $j) = refresh_with($c0);
ok $res->code == 200 && $j->{tokenType} eq 'Bearer' && $j->{accessToken};
ok !exists $j->{user} && $res->content !~ /refresh/i;
my $c1 = cookie_of($res);
ok defined $c1 && $c1 ne $c0 && length $c1 == 43;
ok(($res->header('Cache-Control') // '') =~ /no-store/);
my $access1 = $j->{accessToken};
($res) = api(GET => '/auth/profile', token => $access1);
ok $res->code == 200;
# the previous token again within the grace period: 200, no new cookie
($res, $j) = refresh_with($c0);
ok $res->code == 200 && !defined cookie_of($res) && $j->{accessToken};
# the live token rotates again
($res) = refresh_with($c1);
my $c2 = cookie_of($res);
ok $res->code == 200 && defined $c2 && $c2 ne $c1;
# c0 is no longer the immediately previous token: reuse -> family revoked
($res) = refresh_with($c0);
ok problem_ok($res, 401, 'token_reused');
ok cookie_header($res) =~ /leadcrm_refresh=;.*Max-Age=0/;
($res) = refresh_with($c2);
ok problem_ok($res, 401, 'invalid_token');
($res) = api(GET => '/auth/profile', token => $access1);
ok problem_ok($res, 401, 'invalid_token');            # the session's access tokens too
ok db("SELECT revoked_reason FROM sessions s JOIN refresh_tokens t ON t.session_id = s.id"
      . " WHERE t.token_hash = decode(:'p1','hex')", sha256_hex($c0)) eq 'reuse';
# grace expiry: the previous token after the grace period is reuse
my $g = make_user();
($res) = refresh_with($g->{refresh});
my $g1 = cookie_of($res);
sleep 4;                                       # LeadCRMRefreshGrace 3s in tests
($res) = refresh_with($g->{refresh});
ok problem_ok($res, 401, 'token_reused');
($res) = refresh_with($g1);
ok problem_ok($res, 401, 'invalid_token');
# malformed, unknown, missing cookies
($res) = refresh_with('short');
ok problem_ok($res, 401, 'invalid_token');
($res) = refresh_with('A' x 43);
ok problem_ok($res, 401, 'invalid_token');
($res) = api(POST => '/auth/refresh');
ok problem_ok($res, 401, 'unauthorized');
# absolute lifetime is fixed at login: an expired session cannot refresh
my $x = make_user();
db("UPDATE sessions SET expires_at = now() - interval '1 second' WHERE id IN"
   . " (SELECT session_id FROM refresh_tokens WHERE token_hash = decode(:'p1','hex'))",
   sha256_hex($x->{refresh}));
($res) = refresh_with($x->{refresh});
ok problem_ok($res, 401, 'invalid_token');
ok db("SELECT count(*) FROM sessions WHERE user_id = :'p1' AND expires_at > now() + interval '6 days 23 hours'", $g->{id}) >= 1;

# ---- Origin on cookie-authenticated endpoints ---------------------------------------
my $o = make_user();
($res) = refresh_with($o->{refresh}, Origin => 'https://evil.example');
ok problem_ok($res, 403, 'origin_not_allowed');
($res) = refresh_with($o->{refresh}, Origin => 'null');
ok problem_ok($res, 403, 'origin_not_allowed');
($res) = refresh_with($o->{refresh}, Origin => 'https://app.example.com');
ok $res->code == 200;
my $oc = cookie_of($res);
my $own = 'http://' . Apache::TestRequest::hostport();
($res) = refresh_with($oc, Origin => $own);
ok $res->code == 200;
$oc = cookie_of($res);
($res) = api(POST => '/auth/logout', headers => { Cookie => "leadcrm_refresh=$oc",
             Origin => 'https://evil.example' });
ok problem_ok($res, 403, 'origin_not_allowed');

# ---- concurrent refreshes of one token: exactly one live token --------------------
my $cc = make_user();
my $n = 10;
my @kids;
pipe(my $rd, my $wr) or die;
for my $i (1 .. $n) {
    my $pid = fork // die;
    if (!$pid) {
        close $rd;
        my $ua = LWP::UserAgent->new;
        my $r = $ua->post(url('/auth/refresh'), Cookie => "leadcrm_refresh=$cc->{refresh}");
        my $newc = defined cookie_of($r) ? 1 : 0;
        syswrite $wr, $r->code . ":$newc\n";
        POSIX::_exit(0);
    }
    push @kids, $pid;
}
close $wr;
my @results = <$rd>;
waitpid $_, 0 for @kids;
chomp @results;
ok @results == $n;
ok((grep { /^200:/ } @results) == $n);                 # rotation + grace
ok((grep { /:1$/ } @results) == 1);                    # one new cookie
ok db("SELECT count(*) FROM refresh_tokens t JOIN sessions s ON s.id = t.session_id"
      . " WHERE s.user_id = :'p1' AND t.replaced_at IS NULL AND s.revoked_at IS NULL"
      . " AND s.id = (SELECT session_id FROM refresh_tokens WHERE token_hash = decode(:'p2','hex'))",
      $cc->{id}, sha256_hex($cc->{refresh})) eq '1';

# ---- logout ----------------------------------------------------------------------
my $l = make_user();
($res) = api(POST => '/auth/logout', headers => { Cookie => "leadcrm_refresh=$l->{refresh}" });
ok $res->code == 204 && cookie_header($res) =~ /leadcrm_refresh=;.*Max-Age=0/;
($res) = api(GET => '/auth/profile', token => $l->{token});
ok problem_ok($res, 401, 'invalid_token');               # that session's access token
($res) = refresh_with($l->{refresh});
ok problem_ok($res, 401, 'invalid_token');
ok db("SELECT revoked_reason FROM sessions WHERE user_id = :'p1' ORDER BY created_at DESC LIMIT 1", $l->{id}) eq 'logout';
($res) = api(POST => '/auth/logout');
ok $res->code == 204;                                     # no cookie: still 204
($res) = api(POST => '/auth/logout', body => '{"x":1}');
ok problem_ok($res, 400);

# ---- logout-all --------------------------------------------------------------------
my $a = make_user();
my ($ra, $ja) = login($a->{email}, $a->{password});      # a second session
my $second = $ja->{accessToken};
($res) = api(POST => '/auth/logout-all');
ok problem_ok($res, 401, 'unauthorized');
($res) = api(POST => '/auth/logout-all', token => $a->{token});
ok $res->code == 204;
($res) = api(GET => '/auth/profile', token => $a->{token});
ok problem_ok($res, 401, 'invalid_token');
($res) = api(GET => '/auth/profile', token => $second);
ok problem_ok($res, 401, 'invalid_token');
($res) = refresh_with(cookie_of($ra));
ok problem_ok($res, 401, 'invalid_token');
ok db("SELECT count(*) FROM sessions WHERE user_id = :'p1' AND revoked_at IS NULL", $a->{id}) eq '0';
# tokens issued after logout-all work immediately
($res, $j) = login($a->{email}, $a->{password});
($res) = api(GET => '/auth/profile', token => $j->{accessToken});
ok $res->code == 200;

# ---- bcrypt interoperability: CLI <-> module, and other implementations -------------
my $cli = "$ENV{LEADCRM_ROOT}/leadcrm-admin";
my $ce = new_email();
open my $ph, '|-', $cli, 'create-admin', '--email', $ce, '--name', 'CLI Admin',
    '--password-stdin' or die;
print $ph "cli password 1\n";
close $ph;
($res, $j) = login($ce, 'cli password 1');
ok $res->code == 200 && $j->{user}{role} eq 'ADMIN';     # CLI hash verifies in the module
my $me = make_user(password => 'module password 1');
open $ph, '|-', "$cli verify-password --email $me->{email} --password-stdin" or die;
print $ph "module password 1\n";
ok close($ph);                                            # module hash verifies in the CLI
my $vectors = "$ENV{LEADCRM_ROOT}/t/unit/data/bcrypt_vectors.txt";
my @vec;
if (open my $vf, '<:encoding(UTF-8)', $vectors) {
    while (<$vf>) { chomp; next if /^#/ || !length; push @vec, [split /\t/] }
}
my %seen;
my @pick = grep { !$seen{$_->[2] =~ /node|bcryptjs/i ? 'node' : 'python'}++ } @vec;
ok @pick >= 2;
for my $v (@pick[0 .. 1]) {
    my $ve = new_email();
    db("INSERT INTO users (email, password_hash, name) VALUES (:'p1', :'p2', 'Vector')",
       $ve, $v->[1]);
    ($res) = login($ve, $v->[0]);
    ok $res->code == 200 or print "# vector from $v->[2] failed\n";
}
# non-bcrypt hashes are never accepted (apr would accept {SHA} and $apr1$)
my $sha = new_email();
db("INSERT INTO users (email, password_hash, name) VALUES (:'p1', :'p2', 'SHA')",
   $sha, '{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=');             # "password"
($res) = login($sha, 'password');
ok problem_ok($res, 401, 'invalid_credentials');

# ---- issue 10.13: a hash of another cost is rehashed at the configured one --
{
    my $pw = 'rehash me please';
    my $u = make_user(password => $pw);
    my $h4 = `htpasswd -nbB -C 4 x '$pw'`;
    $h4 =~ s/^x://; $h4 =~ s/\s+\z//;
    db("UPDATE users SET password_hash = :'p1' WHERE id = :'p2'", $h4, $u->{id});
    my $hash = sub { db("SELECT password_hash FROM users WHERE id = :'p1'", $u->{id}) };
    ok $hash->() =~ /^\$2y\$04\$/;
    ($res) = login($u->{email}, 'wrong ' . $pw);
    ok $res->code == 401 && $hash->() =~ /^\$2y\$04\$/;   # no rehash on failure
    ($res) = login($u->{email}, $pw);
    ok $res->code == 200;
    ok $hash->() =~ /^\$2[aby]\$10\$/;                     # LeadCRMBcryptCost 10
    ($res) = login($u->{email}, $pw);
    ok $res->code == 200;                                  # the new hash verifies
}
