# Sign-in with an OpenID Connect provider (API.md part 2): the whole
# browser flow through httpd + mod_auth_openidc and a real OpenID provider
# on loopback (t/oidc/provider.mjs), then GET/DELETE /auth/identities.
# The sign-in policy is chosen per request with X-Test-OIDC (see
# t/conf/extra.conf.in: "link" and/or "provision").
#
# Also: an MFA user's #mfaToken= answer completed at /auth/mfa/verify, and
# the audit entries and the "a sign-in method was added" mail of a link.
# #error=email_not_verified through HTTP needs LeadCRMRequireVerifiedEmail
# (off in this server); its database branch is tested below.
use strict;
use warnings FATAL => 'all';
use utf8;
use Apache::Test qw(plan ok);
use LeadCRM::Test;
use LeadCRM::OIDC;
use LeadCRM::TOTP;
use HTTP::Request;
use POSIX ();

plan tests => 99;

my $LANDING = 'https://app.example.com/signed-in';
my $ISS = provider_url();
my $n = 0;

sub t { my ($cond, $name) = @_; ok($cond) or print "# failed: $name\n"; }

# A provider account with fresh claims; returns its sub.
sub account {
    my (%c) = @_;
    my $sub = $c{sub} // sprintf('sub-%d-%d-%d', $$, time, ++$n);
    provider_account(sub => $sub, %c);
    return $sub;
}

sub refresh_cookie {
    my ($res) = @_;
    for my $sc ($res->header('Set-Cookie')) {
        return $1 if $sc =~ /^leadcrm_refresh=([A-Za-z0-9_-]{43});/;
    }
    return undef;
}

# The access token and user behind a sign-in's refresh cookie.
sub session_of {
    my ($o) = @_;
    my $c = refresh_cookie($o->{res}) or return;
    my ($res, $j) = api(POST => '/auth/refresh',
                        headers => { Cookie => "leadcrm_refresh=$c" });
    return unless $res->code == 200;
    my ($r2, $user) = api(GET => '/auth/profile', token => $j->{accessToken});
    return ($j->{accessToken}, $user);
}

sub landed {
    my ($o, $fragment) = @_;
    my $want = defined $fragment ? "$LANDING#$fragment" : $LANDING;
    return $o->{res} && $o->{res}->code == 302
        && ($o->{location} // '') eq $want
        && ($o->{res}->header('Location') // '') eq $want
        && ($o->{res}->header('Cache-Control') // '') eq 'no-store';
}

sub refused {
    my ($o, $code) = @_;
    return landed($o, "error=$code") && !defined refresh_cookie($o->{res});
}

sub user_row { db("SELECT id, coalesce(password_hash, 'NULL'), email_verified, role, name FROM users WHERE lower(email) = lower(:'p1') AND deleted_at IS NULL", $_[0]) }
sub links_of { db("SELECT count(*) FROM user_identities WHERE user_id = :'p1'", $_[0]) }
sub verify_email { db("UPDATE users SET email_verified = true WHERE id = :'p1'", $_[0]) }

# ---- first sign-in: provisioning off and on -------------------------------
my $email = new_email();
my $sub = account(email => $email, email_verified => 1, name => 'Zoë Provider');
my $o = signin(sub => $sub);
t refused($o, 'oidc_not_provisioned'), 'unknown email, provisioning off';
t $o->{provider_login} == 1, 'the provider login form was used';
t !user_row($email), 'no account created';
t join("\n", $o->{res}->header('Set-Cookie')) =~ /^mod_auth_openidc_session=; Path=\/; Max-Age=0/m,
  "mod_auth_openidc's session cookie is expired on a refusal too";

$o = signin(sub => $sub, policy => 'provision');
t landed($o), 'provisioned: 302 to the landing URL without a fragment';
my $cookies = join "\n", $o->{res}->header('Set-Cookie');
t $cookies =~ /^leadcrm_refresh=[A-Za-z0-9_-]{43}; Path=\/auth; Max-Age=604800; HttpOnly; SameSite=Strict$/m,
  'the refresh cookie of a login';
t $cookies =~ /^mod_auth_openidc_session=; Path=\/; Max-Age=0;/m, "mod_auth_openidc's session ended";
my ($token, $user) = session_of($o);
t $token && $user->{email} eq $email, 'the session is the new account';
t $user->{role} eq 'USER' && $user->{emailVerified} && $user->{name} eq 'Zoë Provider',
  'USER, emailVerified from the provider, name from the claim (UTF-8 intact)';
my ($uid, $hash) = split /\|/, user_row($email);
t $hash eq 'NULL', 'no password';
t links_of($uid) == 1, 'one identity linked';
my ($res, $j) = api(GET => '/auth/identities', token => $token);
t $res->code == 200 && ($res->header('Cache-Control') // '') eq 'no-store', 'identities: 200 no-store';
t @{ $j->{data} } == 1 && $j->{data}[0]{issuer} eq $ISS && $j->{data}[0]{subject} eq $sub
  && $j->{data}[0]{email} eq $email && $j->{data}[0]{createdAt} =~ /Z$/, 'identity: iss, sub, email at link time';
($res) = login($email, 'any password at all');
t problem_ok($res, 401, 'invalid_credentials'), 'an account without a password cannot log in with one';

# the same identity again, provisioning off: the link is found (iss + sub)
my $o2 = signin(sub => $sub);
t landed($o2), 'second sign-in through the link';
my ($t2, $u2) = session_of($o2);
t $u2 && $u2->{id} eq $uid, 'same account';
t links_of($uid) == 1, 'no second link';

# mod_auth_openidc's session was ended: the same browser goes back to the
# provider instead of being let straight through
my $ua = browser();
$o = signin(sub => $sub, ua => $ua);
t landed($o), 'sign-in with a kept browser';
$o2 = signin(sub => $sub, ua => $ua);
t $o2->{first}->code == 302 && index($o2->{first}->header('Location'), $ISS) == 0,
  'next visit starts at the provider again (no mod_auth_openidc session left)';
t landed($o2), 'and signs in again';

# unverified provider email and no name claim
my $email2 = new_email();
my $sub2 = account(email => uc $email2, email_verified => 0);
$o = signin(sub => $sub2, policy => 'provision');
t landed($o), 'provisioned with an unverified email';
(undef, $user) = session_of($o);
t $user && $user->{email} eq $email2 && !$user->{emailVerified}, 'email lowercased, emailVerified false';
t $user && $user->{name} eq ($email2 =~ /^([^@]+)/)[0], 'name from the local part';
# a long name is cut to 100 code points
my $email3 = new_email();
$o = signin(sub => account(email => $email3, email_verified => 1, name => 'Ω' x 150),
            policy => 'provision');
(undef, $user) = session_of($o);
t $user && $user->{name} eq 'Ω' x 100, 'name cut to 100 code points';
# no email at all: nothing to provision
$o = signin(sub => account(name => 'No Mail'), policy => 'provision,link');
t refused($o, 'oidc_not_provisioned'), 'no email claim: oidc_not_provisioned';

# email_not_verified: the database function's branch (its C switch,
# LeadCRMRequireVerifiedEmail, is not on this branch)
my $fn = "SELECT outcome FROM lcrm_oidc_signin(:'p1', :'p2', :'p3', CAST(:'p4' AS boolean), 'n', false, false, true, md5(random()::text) || md5(random()::text), 3600, NULL, NULL, NULL)";
t db($fn, $ISS, $sub2, $email2, 'false') eq 'email_not_verified', 'required verification: unverified account refused';
t db($fn, $ISS, $sub2, $email2, 'true') eq 'ok'
  && db("SELECT email_verified FROM users WHERE lower(email) = :'p1' AND deleted_at IS NULL", $email2) eq 't',
  "the provider's email_verified verifies the account's own address";

# ---- linking by email ------------------------------------------------------
my $pw = make_user();
verify_email($pw->{id});
my $psub = account(email => uc $pw->{email}, email_verified => 1, name => 'P');
$o = signin(sub => $psub, policy => 'provision');
t refused($o, 'identity_link_required'), 'link off (default): identity_link_required, even with provisioning';
t links_of($pw->{id}) == 0, 'not linked';
$o = signin(sub => $psub, policy => 'link');
t landed($o), 'link on, both verified: signed in';
(undef, $user) = session_of($o);
t $user && $user->{id} eq $pw->{id}, 'the existing account';
t links_of($pw->{id}) == 1, 'linked';
($res) = login($pw->{email}, $pw->{password});
t $res->code == 200, 'the password still works';

# provider email not verified
my $u1 = make_user();
verify_email($u1->{id});
$o = signin(sub => account(email => $u1->{email}, email_verified => 0), policy => 'link,provision');
t refused($o, 'identity_link_required'), 'provider email unverified: refused';
t links_of($u1->{id}) == 0, 'not linked (provider unverified)';
# account not verified (someone registered the victim's address first)
my $u2x = make_user();
$o = signin(sub => account(email => $u2x->{email}, email_verified => 1), policy => 'link,provision');
t refused($o, 'identity_link_required'), 'account unverified: refused';
t links_of($u2x->{id}) == 0, 'not linked (account unverified)';
# admins are never linked by email
for my $role (qw(ADMIN SUPER_ADMIN)) {
    my $adm = make_user(role => $role);
    verify_email($adm->{id});
    $o = signin(sub => account(email => $adm->{email}, email_verified => 1), policy => 'link,provision');
    t refused($o, 'identity_link_required'), "$role: refused";
    t links_of($adm->{id}) == 0, "$role: not linked";
}

# ---- deactivated and deleted users ----------------------------------------
my $root = make_user(role => 'SUPER_ADMIN');
my $demail = new_email();
my $dsub = account(email => $demail, email_verified => 1);
$o = signin(sub => $dsub, policy => 'provision');
(undef, $user) = session_of($o);
my $did = $user->{id};
($res) = api(PATCH => "/api/users/$did", token => $root->{token}, body => { isActive => JSON::PP::false });
t $res->code == 200, 'deactivated';
$o = signin(sub => $dsub, policy => 'provision,link');
t refused($o, 'account_disabled'), 'deactivated (linked): account_disabled';
# a deactivated account that linking would pick
my $v = make_user();
verify_email($v->{id});
($res) = api(PATCH => "/api/users/$v->{id}", token => $root->{token}, body => { isActive => JSON::PP::false });
$o = signin(sub => account(email => $v->{email}, email_verified => 1), policy => 'link');
t refused($o, 'account_disabled'), 'deactivated (by email): account_disabled';
t links_of($v->{id}) == 0, 'deactivated: not linked';
# deleting removes the links; the identity no longer reaches the account
($res) = api(PATCH => "/api/users/$did", token => $root->{token}, body => { isActive => JSON::PP::true });
($res) = api(DELETE => "/api/users/$did", token => $root->{token});
t $res->code == 204, 'deleted';
t db("SELECT count(*) FROM user_identities WHERE user_id = :'p1'", $did) == 0, "the deleted user's links are gone";
$o = signin(sub => $dsub);
t refused($o, 'oidc_not_provisioned'), 'deleted: the identity is unknown again';
$o = signin(sub => $dsub, policy => 'provision');
(undef, $user) = session_of($o);
t landed($o) && $user && $user->{id} ne $did, 'provisioning then creates a new account';

# ---- forged headers and an unauthenticated handler -------------------------
my $victim_email = $pw->{email};
my $asub = account(email => new_email(), email_verified => 1, name => 'Attacker');
$o = signin(sub => $asub, policy => 'provision,link', headers => {
    ':OIDC_CLAIM_email' => $victim_email, ':OIDC_CLAIM_sub' => $psub,
    ':OIDC_CLAIM_iss' => $ISS, ':OIDC_CLAIM_email_verified' => 'true',
    'OIDC-CLAIM-email' => $victim_email, 'OIDC-CLAIM-sub' => $psub });
(undef, $user) = session_of($o);
t landed($o) && $user && $user->{id} ne $pw->{id} && $user->{name} eq 'Attacker',
  'forged OIDC_CLAIM_* headers change nothing';
my $unprot = { 'X-Test-OIDC-Unprotected' => 'on', Accept => 'text/html',
               ':OIDC_CLAIM_email' => $victim_email, ':OIDC_CLAIM_sub' => $psub,
               ':OIDC_CLAIM_iss' => $ISS };
($res) = api(GET => '/auth/oidc/login', headers => $unprot);
t problem_ok($res, 500, 'internal_error'), 'not authenticated by mod_auth_openidc: 500 problem';
t !defined refresh_cookie($res) && !defined $res->header('Location'), 'no cookie, no redirect';
t `grep -c 'LCRM02001: .*leadcrm-oidc refused: the request was not authenticated' t/logs/error_log` > 0,
  'the refusal is logged';

# ---- the landing URL cannot be chosen by the request ----------------------
$o = signin(sub => $sub, path => '/auth/oidc/login?redirect=https://evil.example/');
t $o->{res} && problem_ok($o->{res}, 400, 'invalid_query') && !$o->{res}->header('Location'),
  'a query parameter is refused, never followed';
$o = signin(sub => $sub, headers => { Referer => 'https://evil.example/', Host => 'evil.example' });
t !$o->{location} || $o->{location} !~ /evil/, 'Host and Referer do not choose the target';

# ---- identities: list and unlink rules -------------------------------------
($res) = api(GET => '/auth/identities');
t problem_ok($res, 401, 'unauthorized'), 'identities need a Bearer token';
($res) = api(GET => '/auth/identities?page=1', token => $token);
t problem_ok($res, 400, 'invalid_query'), 'no query parameters';
# the provisioned account (no password) with one identity
($res, $j) = api(GET => '/auth/identities', token => $token);
my $only = $j->{data}[0]{id};
($res) = api(DELETE => "/auth/identities/$only", token => $token);
t problem_ok($res, 409, 'last_sign_in_method'), 'no password, one identity: 409';
t links_of($uid) == 1, 'still linked';
# a second identity with the same (verified) email, linked by email
my $sub_b = account(email => $email, email_verified => 1);
$o = signin(sub => $sub_b, policy => 'link');
(undef, $user) = session_of($o);
t landed($o) && $user && $user->{id} eq $uid, 'a second identity linked to the provisioned account';
($res, $j) = api(GET => '/auth/identities', token => $token);
t @{ $j->{data} } == 2 && $j->{data}[0]{subject} eq $sub_b, 'two identities, newest first';
($res) = api(DELETE => '/auth/identities/' . uc $only, token => $token);
t $res->code == 204, 'one of two: 204 (uppercase id accepted)';
($res, $j) = api(GET => '/auth/identities', token => $token);
t @{ $j->{data} } == 1 && $j->{data}[0]{subject} eq $sub_b, 'one left';
$o = signin(sub => $sub);
t refused($o, 'identity_link_required'), 'the unlinked identity no longer signs in (its email is taken)';
($res) = api(DELETE => "/auth/identities/$j->{data}[0]{id}", token => $token);
t problem_ok($res, 409, 'last_sign_in_method'), 'the last one: 409';
# another user's identity, unknown and malformed ids
my ($pt) = session_of(signin(sub => $psub));
($res, $j) = api(GET => '/auth/identities', token => $pt);
my $pid = $j->{data}[0]{id};
($res) = api(DELETE => "/auth/identities/$pid", token => $token);
t problem_ok($res, 404, 'not_found'), "another user's identity: 404";
($res) = api(DELETE => '/auth/identities/00000000-0000-4000-8000-000000000000', token => $token);
t problem_ok($res, 404, 'not_found'), 'unknown id: 404';
($res) = api(DELETE => '/auth/identities/nope', token => $token);
t problem_ok($res, 404, 'not_found'), 'malformed id: 404';
# a password account may drop its only identity
($res) = api(DELETE => "/auth/identities/$pid", token => $pt);
t $res->code == 204, 'password account: its only identity unlinked';
t links_of($pw->{id}) == 0, 'unlinked in the database';
($res) = api(DELETE => "/auth/identities/$pid", token => $pt);
t problem_ok($res, 404, 'not_found'), 'unlinked twice: 404';
($res) = api(POST => '/auth/identities', token => $pt, body => {});
t $res->code == 405, 'POST /auth/identities: 405';

# ---- concurrency: two unlinks of the last two identities -------------------
my $cemail = new_email();
my ($ca, $cb) = (account(email => $cemail, email_verified => 1),
                 account(email => $cemail, email_verified => 1));
$o = signin(sub => $ca, policy => 'provision');
my ($ct) = session_of($o);
$o = signin(sub => $cb, policy => 'link');
t landed($o), 'second identity for the race';
($res, $j) = api(GET => '/auth/identities', token => $ct);
my @ids = map { $_->{id} } @{ $j->{data} };
my @pids;
for my $id (@ids) {
    my $pid2 = fork;
    if (!$pid2) {
        my $r = browser()->request(HTTP::Request->new(
            DELETE => server_base() . "/auth/identities/$id",
            [Authorization => "Bearer $ct"]));
        POSIX::_exit($r->code == 204 ? 0 : $r->code == 409 ? 1 : 2);
    }
    push @pids, $pid2;
}
my @rc = map { waitpid($_, 0); $? >> 8 } @pids;
t join(',', sort @rc) eq '0,1', 'concurrent unlinks: one 204, one 409 (' . join(',', @rc) . ')';
($res, $j) = api(GET => '/auth/identities', token => $ct);
t @{ $j->{data} } == 1, 'one identity remains';

# ---- rate limit: /auth/oidc/login counts in the refresh class --------------
# (limits on: refresh 4 a day per address; reached through the unprotected
# test switch, since mod_auth_openidc answers before the module otherwise)
my $rl_ip = sprintf '10.%d.%d.77', $$ % 250, int(time / 60) % 250;
my %rl = ('X-Test-Limits' => 'on', 'X-Forwarded-For' => $rl_ip,
          'X-Test-OIDC-Unprotected' => 'on');
my @codes = map { (api(GET => '/auth/oidc/login', headers => \%rl))[0]->code } 1 .. 5;
t join(',', @codes) eq '500,500,500,500,429', 'refresh class: the fifth request is 429 (' . join(',', @codes) . ')';
($res) = api(POST => '/auth/refresh', headers => { %rl, Cookie => 'leadcrm_refresh=x' });
t problem_ok($res, 429, 'rate_limited'), 'and /auth/refresh shares the counter';


# ---- an account with MFA: #mfaToken=, never a cookie; audit and mail -------
{
    my $mu = make_user();
    verify_email($mu->{id});
    my $msub = account(email => $mu->{email}, email_verified => 1);
    my $mo = signin(sub => $msub, policy => 'link');
    t landed($mo) && refresh_cookie($mo->{res}), 'a verified USER is linked by email (before MFA)';
    t db("SELECT count(*) FROM audit_log WHERE action = 'identity.linked' AND subject_id = :'p1'", $mu->{id}) == 1,
      'the link is audited (identity.linked)';
    t db("SELECT count(*) FROM mail_outbox WHERE kind = 'identity_linked' AND ref_id = :'p1'", $mu->{id}) == 1,
      'and mailed to the account ("a sign-in method was added")';
    my ($r1, $s1) = api(POST => '/auth/mfa/totp/setup', token => $mu->{token},
                        body => { password => $mu->{password} });
    my ($r2, $e2) = api(POST => '/auth/mfa/totp/enable', token => $mu->{token},
                        body => { code => totp_code($s1->{secret}, safe_step()) });
    t $r2->code == 200 && @{ $e2->{recoveryCodes} // [] } == 10, 'MFA enabled for that account';
    my $before = db("SELECT count(*) FROM sessions WHERE user_id = :'p1'", $mu->{id});
    $mo = signin(sub => $msub);
    my ($tok) = ($mo->{location} // '') =~ /^\Q$LANDING\E#mfaToken=([A-Za-z0-9_-]+)$/;
    t $mo->{res} && $mo->{res}->code == 302 && defined $tok && !defined refresh_cookie($mo->{res}),
      'an MFA user lands with #mfaToken= and no cookie';
    t db("SELECT count(*) FROM sessions WHERE user_id = :'p1'", $mu->{id}) == $before,
      'and no session was opened';
    my ($r3, $j3) = api(POST => '/auth/mfa/verify', body => { mfaToken => $tok, code => '000000' });
    t problem_ok($r3, 401, 'invalid_code'), 'a wrong code at /auth/mfa/verify is refused';
    ($r3, $j3) = api(POST => '/auth/mfa/verify', body => { mfaToken => $tok, recoveryCode => $e2->{recoveryCodes}[0] });
    t $r3->code == 200 && $j3->{accessToken} && cookie_of($r3), 'the mfaToken completes the sign-in at /auth/mfa/verify';
    my $iid = db("SELECT id FROM user_identities WHERE user_id = :'p1'", $mu->{id});
    my ($r4) = api(DELETE => "/auth/identities/$iid", token => $j3->{accessToken});
    t $r4->code == 204 && db("SELECT count(*) FROM audit_log WHERE action = 'identity.unlinked' AND subject_id = :'p1'", $mu->{id}) == 1,
      'unlinking is audited (identity.unlinked)';
}

# ---- response details --------------------------------------------------------
$o = signin(sub => $sub_b);
t landed($o), 'signed in';
t !defined $o->{res}->header('Content-Type') || $o->{res}->content eq '', 'the redirect has no body';
t db("SELECT count(*) FROM sessions WHERE user_id = :'p1' AND revoked_at IS NULL", $uid) >= 1,
  'sessions are ordinary login sessions';
t db("SELECT last_login_at IS NOT NULL FROM users WHERE id = :'p1'", $uid) eq 't', 'lastLoginAt set';
my $verified_by_provider = make_user();
$o = signin(sub => account(email => $verified_by_provider->{email}, email_verified => 1), policy => 'link');
t refused($o, 'identity_link_required'), 'unverified account is not linked';
t db("SELECT email_verified FROM users WHERE id = :'p1'", $verified_by_provider->{id}) eq 'f',
  'and a refusal changes nothing';
# mod_auth_openidc's own answers (not the module's: not validated)
sub raw_get {
    my ($path, %h) = @_;
    return browser()->request(HTTP::Request->new(GET => server_base() . $path, [%h]));
}
$res = raw_get('/auth/oidc/login', Accept => 'text/html');
my $to = $res->header('Location') // '';
t $res->code == 302 && index($to, "$ISS/auth?") == 0,
  'unauthenticated browsers are sent to the provider by mod_auth_openidc';
t $to =~ /code_challenge_method=S256/, 'with PKCE (S256)';
t $to =~ /redirect_uri=http%3A%2F%2F127\.0\.0\.1%3A\d+%2Fauth%2Foidc%2Fcallback/, 'and the callback URI';
t $to =~ /scope=openid(?:%20|\+)email(?:%20|\+)profile/, 'scopes openid email profile';
t $to =~ /client_id=leadcrm(?:&|$)/, 'the leadcrm client';
t $to =~ /[?&]state=/ && $to =~ /[?&]nonce=/, 'state and nonce';
$res = raw_get('/auth/oidc/login', Accept => 'application/json');
t $res->code == 401, 'non-browser requests get 401 from mod_auth_openidc';
