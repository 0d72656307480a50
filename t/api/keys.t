# Scoped API keys (API.md part 2 "API keys"): creation, reads, revocation,
# use through the Bearer hook and the Require leadcrm-role provider, a
# missing scope on every route family, the owner's current role (demoted,
# deactivated, deleted), routes no key may use.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(plan ok);
use LeadCRM::Test;
use Digest::SHA qw(sha256_hex);
use JSON::PP ();
use POSIX ();

plan tests => 73;

our ($res, $j);
sub t {
    my ($cond, $name) = @_;
    ok($cond ? 1 : 0) or print "# failed: $name\n# ",
        ($res ? $res->code . ' ' . substr($res->content, 0, 300) : ''), "\n";
}

my $PW = 'correct horse battery';
my $NIL = '00000000-0000-4000-8000-000000000000';
my $super = make_user(role => 'SUPER_ADMIN');
my $admin = make_user(role => 'ADMIN');
my $user = make_user();

sub create {
    my ($u, %b) = @_;
    return api(POST => '/api/keys', token => $u->{token},
               body => { name => 'k', password => $PW, %b });
}

# ---- creation ----------------------------------------------------------------
($res, $j) = create($admin, scopes => ['leads:read']);
t($res->code == 201, 'create: 201');
t($j->{key} =~ /^lcrm_[A-Za-z0-9]{40,}$/, 'key shape');
t($j->{prefix} eq substr($j->{key}, 0, 12), 'prefix = first 12 characters');
t(($res->header('Location') // '') eq "/api/keys/$j->{id}", 'Location');
t(($res->header('Cache-Control') // '') =~ /no-store/, 'no-store');
t(!defined $j->{lastUsedAt} && $j->{expiresAt} =~ /^\d{4}-/, 'lastUsedAt null, expiresAt set');
my $year = POSIX::strftime('%Y', gmtime(time + 365 * 86400));
t(substr($j->{expiresAt}, 0, 4) eq $year, 'default lifetime 365d');
my %k1 = %$j;
t(db("SELECT encode(key_hash, 'hex') FROM api_keys WHERE id = :'p1'", $k1{id})
  eq sha256_hex($k1{key}), 'stored as SHA-256 only');
t(db("SELECT count(*) FROM api_keys WHERE key_hash::text LIKE '%' || :'p1' || '%'",
     substr($k1{key}, 5)) == 0, 'no clear key in the database');
($res) = create($admin, scopes => ['leads:read'], password => 'wrong password!');
t(problem_ok($res, 403, 'invalid_current_password'), 'wrong password: 403');
for my $bad ([], ['nope:read'], ['leads:read', 'leads:read'], 'leads:read', [1]) {
    ($res, $j) = create($admin, scopes => $bad);
    t(problem_ok($res, 400, 'validation_failed')
      && grep({ $_->{field} eq 'scopes' } @{ $j->{errors} }), 'bad scopes: 400');
}
($res, $j) = create($user, scopes => ['users:read']);
t(problem_ok($res, 400, 'validation_failed'), 'scope beyond the role: 400');
($res, $j) = create($admin, scopes => ['leads:read'], expiresAt => '2020-01-01T00:00:00.000Z');
t(problem_ok($res, 400, 'validation_failed'), 'expiresAt in the past');
($res, $j) = create($admin, scopes => ['leads:read'], expiresAt => '2099-01-01T00:00:00.000Z');
t(problem_ok($res, 400, 'validation_failed'), 'expiresAt beyond the lifetime');
($res, $j) = create($admin, scopes => ['leads:read'], role => 'SUPER_ADMIN');
t(problem_ok($res, 400, 'validation_failed'), 'unknown field');
($res) = create($admin, scopes => ['leads:read']);
my $userkey = do { my (undef, $x) = create($user, scopes => ['leads:read', 'consultations:read']); $x };

# ---- reads -------------------------------------------------------------------------
($res, $j) = api(GET => '/api/keys', token => $admin->{token});
t($res->code == 200 && @{ $j->{data} } == 2 && $j->{pagination}{total} == 2,
  'list: own keys');
t(!grep({ exists $_->{key} } @{ $j->{data} }), 'list: no key');
t($j->{data}[0]{createdAt} ge $j->{data}[1]{createdAt}, 'list: newest first');
($res, $j) = api(GET => "/api/keys?userId=$admin->{id}", token => $admin->{token});
t(problem_ok($res, 403, 'forbidden'), 'userId: SUPER_ADMIN only');
($res, $j) = api(GET => "/api/keys?userId=$admin->{id}", token => $super->{token});
t($res->code == 200 && @{ $j->{data} } == 2, 'super: list of another user');
($res, $j) = api(GET => '/api/keys?limit=0', token => $admin->{token});
t(problem_ok($res, 400, 'invalid_query'), 'list: bad limit');
($res, $j) = api(GET => "/api/keys/$k1{id}", token => $admin->{token});
t($res->code == 200 && $j->{id} eq $k1{id} && !exists $j->{key}, 'get own');
($res) = api(GET => "/api/keys/$k1{id}", token => $user->{token});
t(problem_ok($res, 404, 'not_found'), 'get another user\'s: 404');
($res) = api(GET => "/api/keys/$k1{id}", token => $super->{token});
t($res->code == 200, 'super gets any');

# ---- use ------------------------------------------------------------------------------
($res, $j) = api(GET => '/api/leads', token => $k1{key});
t($res->code == 200 && $j->{pagination}, 'key reads leads');
t(db("SELECT last_used_at IS NOT NULL FROM api_keys WHERE id = :'p1'", $k1{id}) eq 't',
  'lastUsedAt set');
my $used = db("SELECT last_used_at FROM api_keys WHERE id = :'p1'", $k1{id});
api(GET => '/api/leads', token => $k1{key}) for 1 .. 3;
t(db("SELECT last_used_at FROM api_keys WHERE id = :'p1'", $k1{id}) eq $used,
  'lastUsedAt written at most once a minute');
db("UPDATE api_keys SET last_used_at = now() - interval '2 minutes' WHERE id = :'p1'", $k1{id});
api(GET => '/api/leads', token => $k1{key});
t(db("SELECT last_used_at > now() - interval '1 minute' FROM api_keys WHERE id = :'p1'",
     $k1{id}) eq 't', 'lastUsedAt refreshed after a minute');
($res) = api(GET => '/api/leads', token => 'lcrm_' . ('A' x 43));
t(problem_ok($res, 401, 'invalid_token'), 'unknown key: 401');
($res) = api(GET => '/api/leads', token => 'lcrm_short');
t(problem_ok($res, 401, 'invalid_token'), 'malformed key: 401');

# a missing scope on every route family: 403 insufficient_scope + WWW-Authenticate
my (undef, $none) = create($admin, scopes => ['consultations:read']);
my $nk = $none->{key};
my $lead_id = do { my (undef, $l) = api(POST => '/api/leads',
    body => { name => 'Scope', email => new_email() }); $l->{id} };
for my $case (['GET', '/api/leads', 'leads:read'],
              ['GET', "/api/leads/$lead_id", 'leads:read'],
              ['PATCH', "/api/leads/$lead_id", 'leads:write', { notes => 'x' }],
              ['DELETE', "/api/leads/$lead_id", 'leads:write'],
              ['GET', '/api/leads/stats', 'stats:read'],
              ['PATCH', "/api/consultations/$NIL", 'consultations:write', { notes => 'x' }],
              ['GET', '/api/users', 'users:read'],
              ['GET', "/api/users/$user->{id}", 'users:read'],
              ['PATCH', "/api/users/$user->{id}", 'users:write', { name => 'x' }]) {
    my ($m, $p, $scope, $body) = @$case;
    ($res, $j) = api($m => $p, token => $nk, $body ? (body => $body) : ());
    t(problem_ok($res, 403, 'insufficient_scope')
      && ($res->header('WWW-Authenticate') // '')
         =~ /^Bearer realm="leadcrm", error="insufficient_scope", scope="\Q$scope\E"$/,
      "$m $p without $scope");
}
($res) = api(GET => '/api/consultations', token => $nk);
t($res->code == 200, 'the scope it has works');
# public routes accept any valid key (it sets userId); a bad key is refused
($res, $j) = api(POST => '/api/leads', token => $nk,
                 body => { name => 'By key', email => new_email() });
t($res->code == 201 && $j->{userId} eq $admin->{id}, 'public route: userId of the owner');
($res) = api(POST => '/api/leads', token => 'lcrm_' . ('B' x 43),
             body => { name => 'By key', email => new_email() });
t(problem_ok($res, 401, 'invalid_token'), 'public route: bad key 401');

# routes no key may use
for my $case (['POST', '/auth/login', { email => $admin->{email}, password => $PW }],
              ['GET', '/auth/profile'], ['GET', '/auth/sessions'],
              ['GET', '/api/keys'], ['GET', '/api/audit'],
              ['POST', "/api/users/$admin->{id}/change-password",
               { currentPassword => $PW, newPassword => 'another password 1' }],
              ['DELETE', "/api/users/$user->{id}/mfa"],
              ['GET', "/api/users/$user->{id}/sessions"]) {
    my ($m, $p, $body) = @$case;
    my (undef, $all) = create($super, scopes => ['users:read', 'users:write',
                                                 'leads:read']);
    ($res) = api($m => $p, token => $all->{key}, $body ? (body => $body) : ());
    t(problem_ok($res, 403, 'forbidden'), "no key on $m $p");
}
my (undef, $uw) = create($admin, scopes => ['users:write']);
($res) = api(PATCH => "/api/users/$admin->{id}", token => $uw->{key}, body => { name => 'Me' });
t(problem_ok($res, 403, 'forbidden'), 'users:write on the owner\'s own id: 403');
($res, $j) = api(PATCH => "/api/users/$user->{id}", token => $uw->{key}, body => { name => 'Via key' });
t($res->code == 200 && $j->{name} eq 'Via key', 'users:write on another user');
t(db("SELECT details->>'apiKeyId' FROM audit_log WHERE action = 'user.updated'"
     . " AND subject_id = :'p1' ORDER BY id DESC LIMIT 1", $user->{id}) eq $uw->{id},
  'audit entries made through a key carry details.apiKeyId');

# the same Bearer hook and Require leadcrm-role provider
my $r = ua()->get(url('/static-admin/secret.txt'), Authorization => "Bearer $k1{key}");
t($r->code == 200, 'Require leadcrm-role: an admin\'s key passes');
$r = ua()->get(url('/static-admin/secret.txt'), Authorization => "Bearer $userkey->{key}");
t($r->code == 403, 'Require leadcrm-role: a user\'s key is refused');

# ---- the owner's current role ------------------------------------------------------
my $owner = make_user(role => 'ADMIN');
my (undef, $ok) = create($owner, scopes => ['leads:read', 'stats:read']);
($res) = api(GET => '/api/leads/stats', token => $ok->{key});
t($res->code == 200, 'admin key: stats');
db("UPDATE users SET role = 'USER' WHERE id = :'p1'", $owner->{id});
($res) = api(GET => '/api/leads/stats', token => $ok->{key});
t(problem_ok($res, 403, 'forbidden'), 'owner demoted: admin route gone at once');
($res, $j) = api(GET => '/api/leads', token => $ok->{key});
t($res->code == 200 && !grep({ ($_->{userId} // '') ne $owner->{id} } @{ $j->{data} }),
  'owner demoted: leads of a USER only');
db("UPDATE users SET is_active = false WHERE id = :'p1'", $owner->{id});
($res) = api(GET => '/api/leads', token => $ok->{key});
t(problem_ok($res, 401, 'invalid_token'), 'owner deactivated: 401');
db("UPDATE users SET is_active = true, deleted_at = now() WHERE id = :'p1'", $owner->{id});
($res) = api(GET => '/api/leads', token => $ok->{key});
t(problem_ok($res, 401, 'invalid_token'), 'owner deleted: 401');

# expired and revoked keys; what does not revoke keys
db("UPDATE api_keys SET expires_at = now() - interval '1 second' WHERE id = :'p1'",
   $none->{id});
($res) = api(GET => '/api/consultations', token => $nk);
t(problem_ok($res, 401, 'invalid_token'), 'expired key: 401');
($res, $j) = api(GET => '/api/keys', token => $admin->{token});
t(grep({ $_->{id} eq $none->{id} } @{ $j->{data} }), 'expired keys are listed');
($res) = api(POST => '/auth/logout-all', token => $admin->{token});
my (undef, $lj) = login($admin->{email}, $PW);
$admin->{token} = $lj->{accessToken};
($res) = api(GET => '/api/leads', token => $k1{key});
t($res->code == 200, 'logout-all does not revoke keys');
($res) = api(DELETE => "/api/keys/$k1{id}", token => $user->{token});
t(problem_ok($res, 404, 'not_found'), 'revoke another user\'s key: 404');
($res) = api(DELETE => "/api/keys/$k1{id}", token => $admin->{token});
t($res->code == 204, 'revoke: 204');
($res) = api(GET => '/api/leads', token => $k1{key});
t(problem_ok($res, 401, 'invalid_token'), 'revoked key: 401 at once');
($res) = api(GET => "/api/keys/$k1{id}", token => $admin->{token});
t(problem_ok($res, 404, 'not_found'), 'revoked key: gone from reads');
($res) = api(DELETE => "/api/keys/$k1{id}", token => $admin->{token});
t(problem_ok($res, 404, 'not_found'), 'revoke twice: 404');
($res) = api(DELETE => "/api/keys/$uw->{id}", token => $super->{token});
t($res->code == 204, 'super revokes any key');
