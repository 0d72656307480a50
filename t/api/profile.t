# GET /auth/profile reads the user in the statement that checks the session
# (issue 11): what it answers is always the database's current row, never a
# copy kept from an earlier request, and every revocation still bites on
# the very next request.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(plan ok);
use LeadCRM::Test;
use JSON::PP ();

plan tests => 23;

our ($res, $j);
sub t {
    my ($cond, $name) = @_;
    ok($cond ? 1 : 0) or print "# failed: $name\n# ",
        ($res ? $res->code . ' ' . substr($res->content, 0, 300) : ''), "\n";
}
sub profile { ($res, $j) = api(GET => '/auth/profile', token => $_[0]); }
# the document the database renders for that user right now
sub db_user {
    JSON::PP->new->utf8->decode(
        db("SELECT lcrm_user_json(u) FROM users u WHERE u.id = :'p1'", $_[0]));
}
sub same_doc {
    my ($a, $b) = @_;
    my $c = JSON::PP->new->canonical;
    return $c->encode($a) eq $c->encode($b);
}

# ---- the document is the database's, field for field ------------------------
my $u = make_user();
profile($u->{token});
t($res->code == 200 && ($res->header('Cache-Control') // '') =~ /no-store/,
  'profile 200, no-store');
t(same_doc($j, db_user($u->{id})), 'same document as lcrm_user_json');

# ---- writes made behind the module's back show on the very next request ------
# (a profile served from any cache, per process or shared, would lag here)
for my $n (1 .. 3) {
    db("UPDATE users SET name = :'p1', company = :'p2' WHERE id = :'p3'",
       "Renamed $n", "Co $n", $u->{id});
    profile($u->{token});
    t($res->code == 200 && $j->{name} eq "Renamed $n" && $j->{company} eq "Co $n",
      "name change $n seen at once");
}
db("UPDATE users SET role = 'ADMIN' WHERE id = :'p1'", $u->{id});
profile($u->{token});
t($res->code == 200 && $j->{role} eq 'ADMIN', 'promotion seen at once');
# the caller's rights follow too: an admin route is open now ...
($res) = api(GET => '/api/users', token => $u->{token});
t($res->code == 200, 'promoted: admin route open');
db("UPDATE users SET role = 'USER' WHERE id = :'p1'", $u->{id});
profile($u->{token});
t($res->code == 200 && $j->{role} eq 'USER', 'demotion seen at once');
# ... and closed again on the next request
($res) = api(GET => '/api/users', token => $u->{token});
t(problem_ok($res, 403, 'forbidden'), 'demoted: admin route closed');
db("UPDATE users SET mfa_enabled = true WHERE id = :'p1'", $u->{id});
profile($u->{token});
t($res->code == 200 && $j->{mfaEnabled}, 'mfaEnabled seen at once');
db("UPDATE users SET mfa_enabled = false WHERE id = :'p1'", $u->{id});
# a PUT answers the new document, and the next GET agrees
($res, $j) = api(PUT => '/auth/profile', token => $u->{token}, body => { jobTitle => 'CTO' });
t($res->code == 200 && $j->{jobTitle} eq 'CTO', 'PUT profile');
profile($u->{token});
t($res->code == 200 && $j->{jobTitle} eq 'CTO' && same_doc($j, db_user($u->{id})),
  'GET after PUT');

# ---- revocation bites on the next request ---------------------------------------
# logout (the refresh cookie's session)
my $a = make_user();
profile($a->{token});
t($res->code == 200, 'before logout');
($res) = api(POST => '/auth/logout', headers => { Cookie => "leadcrm_refresh=$a->{refresh}" });
t($res->code == 204, 'logout');
profile($a->{token});
t(problem_ok($res, 401, 'invalid_token'), 'logged out: 401');
# logout-all, through a second session of the same user
my ($lr, $lj) = login($a->{email}, $a->{password});
my $second = $lj->{accessToken};
($lr, $lj) = login($a->{email}, $a->{password});
my $third = $lj->{accessToken};
profile($second);
t($res->code == 200, 'second session live');
($res) = api(POST => '/auth/logout-all', token => $third);
t($res->code == 204, 'logout-all');
profile($second);
t(problem_ok($res, 401, 'invalid_token'), 'logout-all: 401');
# a session revoked in the database (another node, an admin)
my $b = make_user();
db("UPDATE sessions SET revoked_at = now(), revoked_reason = 'admin' WHERE user_id = :'p1'",
   $b->{id});
profile($b->{token});
t(problem_ok($res, 401, 'invalid_token'), 'revoked session: 401');
# deactivation and deletion
my $c = make_user();
db("UPDATE users SET is_active = false WHERE id = :'p1'", $c->{id});
profile($c->{token});
t(problem_ok($res, 401, 'invalid_token'), 'deactivated: 401');
my $d = make_user();
db("UPDATE users SET deleted_at = now() WHERE id = :'p1'", $d->{id});
profile($d->{token});
t(problem_ok($res, 401, 'invalid_token'), 'deleted: 401');
# a password change revokes the user's other sessions
my $e = make_user();
($lr, $lj) = login($e->{email}, $e->{password});
my $other = $lj->{accessToken};
($res) = api(POST => "/api/users/$e->{id}/change-password", token => $e->{token},
             body => { currentPassword => $e->{password}, newPassword => 'another horse battery' });
t($res->code == 204, 'change-password');
profile($other);
t(problem_ok($res, 401, 'invalid_token'), 'password changed: other session 401');
