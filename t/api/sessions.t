# Session management (API.md part 2 "Sessions"): the caller's sessions
# with client and times from login and refresh, revoking one (its access
# tokens stop at once), and the admin routes under /api/users/:id/sessions.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(plan ok);
use LeadCRM::Test;

plan tests => 30;

our ($res, $j);
sub t {
    my ($cond, $name) = @_;
    ok($cond ? 1 : 0) or print "# failed: $name\n# ",
        ($res ? $res->code . ' ' . substr($res->content, 0, 300) : ''), "\n";
}

my $PW = 'correct horse battery';
my $u = make_user();
sub login_as {
    my ($ua, $ip) = @_;
    my ($r, $x) = api(POST => '/auth/login', body => { email => $u->{email}, password => $PW },
                      headers => { 'User-Agent' => $ua, 'X-Forwarded-For' => $ip });
    return { token => $x->{accessToken}, refresh => cookie_of($r) };
}
my $s1 = login_as('Browser One/1.0', '203.0.113.1');
my $s2 = login_as('Browser Two/2.0 ' . ('x' x 600), '203.0.113.2');

($res, $j) = api(GET => '/auth/sessions', token => $s2->{token});
t($res->code == 200 && ($res->header('Cache-Control') // '') =~ /no-store/, 'list: 200');
my @d = @{ $j->{data} };
t(@d == 4, 'four live sessions (make_user\'s two and two)');
t($d[0]{current} && !grep({ $_->{current} } @d[1 .. 3]), 'newest first, current flagged');
t($d[0]{ipAddress} eq '203.0.113.2' && length($d[0]{userAgent}) == 512
  && $d[0]{userAgent} =~ /^Browser Two/, 'login client recorded, user agent cut at 512');
t($d[1]{userAgent} eq 'Browser One/1.0' && $d[1]{ipAddress} eq '203.0.113.1', 'other session');
t(join(',', sort keys %{ $d[0] }) eq
  'createdAt,current,expiresAt,id,ipAddress,lastUsedAt,userAgent', 'fields');
my ($id1, $id2) = ($d[1]{id}, $d[0]{id});
($res) = api(GET => '/auth/sessions?page=1', token => $s2->{token});
t(problem_ok($res, 400, 'invalid_query'), 'no query parameters');

# refresh records the client of the refresh
db("UPDATE sessions SET last_used_at = now() - interval '1 hour' WHERE id = :'p1'", $id1);
($res) = api(POST => '/auth/refresh', headers => {
    Cookie => "leadcrm_refresh=$s1->{refresh}", 'User-Agent' => 'Refresher/3',
    'X-Forwarded-For' => '198.51.100.7' });
t($res->code == 200, 'refresh');
($res, $j) = api(GET => '/auth/sessions', token => $s2->{token});
my ($e1) = grep { $_->{id} eq $id1 } @{ $j->{data} };
t($e1->{userAgent} eq 'Refresher/3' && $e1->{ipAddress} eq '198.51.100.7',
  'refresh: client of the refresh');
t(db("SELECT last_used_at > now() - interval '1 minute' FROM sessions WHERE id = :'p1'",
     $id1) eq 't', 'refresh: lastUsedAt');
my $before = db("SELECT last_used_at FROM sessions WHERE id = :'p1'", $id2);
api(GET => '/auth/profile', token => $s2->{token}) for 1 .. 3;
t(db("SELECT last_used_at FROM sessions WHERE id = :'p1'", $id2) eq $before,
  'no write per request');

# revoke one
my $other = make_user();
($res) = api(DELETE => "/auth/sessions/$id1", token => $other->{token});
t(problem_ok($res, 404, 'not_found'), 'another user\'s session: 404');
($res) = api(DELETE => '/auth/sessions/00000000-0000-4000-8000-000000000000',
             token => $s2->{token});
t(problem_ok($res, 404, 'not_found'), 'unknown: 404');
($res) = api(DELETE => '/auth/sessions/nope', token => $s2->{token});
t(problem_ok($res, 404, 'not_found'), 'malformed: 404');
($res) = api(DELETE => "/auth/sessions/$id1", token => $s2->{token});
t($res->code == 204 && !$res->header('Set-Cookie'), 'revoke other: 204, cookie kept');
($res) = api(GET => '/auth/profile', token => $s1->{token});
t(problem_ok($res, 401, 'invalid_token'), 'its access token stops at once');
($res) = api(DELETE => "/auth/sessions/$id1", token => $s2->{token});
t(problem_ok($res, 404, 'not_found'), 'revoked: 404');
t(db("SELECT count(*) FROM audit_log WHERE action = 'session.revoked'"
     . " AND subject_id = :'p1' AND actor_id = :'p2'", $id1, $u->{id}) == 1, 'audited');

# admin routes
my $admin = make_user(role => 'ADMIN');
my $admin2 = make_user(role => 'ADMIN');
($res) = api(GET => "/api/users/$u->{id}/sessions", token => $other->{token});
t(problem_ok($res, 403, 'forbidden'), 'USER: 403');
($res) = api(GET => "/api/users/$admin->{id}/sessions", token => $admin->{token});
t(problem_ok($res, 403, 'forbidden'), 'own id: 403');
($res) = api(GET => "/api/users/$admin2->{id}/sessions", token => $admin->{token});
t(problem_ok($res, 403, 'forbidden'), 'ADMIN on ADMIN: 403');
($res) = api(DELETE => "/api/users/$admin2->{id}/sessions", token => $admin->{token});
t(problem_ok($res, 403, 'forbidden'), 'ADMIN revokes ADMIN: 403');
($res) = api(GET => '/api/users/00000000-0000-4000-8000-000000000000/sessions',
             token => $admin->{token});
t(problem_ok($res, 404, 'not_found'), 'unknown user: 404');
($res, $j) = api(GET => "/api/users/$u->{id}/sessions", token => $admin->{token});
my $live = @{ $j->{data} };
t($res->code == 200 && $live == 3 && !grep({ $_->{current} } @{ $j->{data} }),
  'admin lists a user\'s sessions, current always false');
($res) = api(DELETE => "/api/users/$u->{id}/sessions", token => $admin->{token});
t($res->code == 204, 'admin revokes all');
($res) = api(GET => '/auth/profile', token => $s2->{token});
t(problem_ok($res, 401, 'invalid_token'), 'every session stops');
($res, $j) = api(GET => "/api/users/$u->{id}/sessions", token => $admin->{token});
t(@{ $j->{data} } == 0, 'none left');
t(db("SELECT details->>'sessions' FROM audit_log WHERE action = 'user.sessions_revoked'"
     . " AND subject_id = :'p1' AND actor_id = :'p2'", $u->{id}, $admin->{id}) eq $live,
  'user.sessions_revoked audited with the count');

# revoking the current session clears the cookie
my (undef, $lj) = login($other->{email}, $PW);
($res, $j) = api(GET => '/auth/sessions', token => $lj->{accessToken});
my ($cur) = grep { $_->{current} } @{ $j->{data} };
($res) = api(DELETE => "/auth/sessions/$cur->{id}", token => $lj->{accessToken});
t($res->code == 204 && ($res->header('Set-Cookie') // '') =~ /^leadcrm_refresh=;.*Max-Age=0/,
  'current: cookie cleared');
($res) = api(GET => '/auth/profile', token => $lj->{accessToken});
t(problem_ok($res, 401, 'invalid_token'), 'current: token stops');
