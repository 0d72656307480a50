# Two-factor authentication (API.md part 2 "Two-factor authentication"):
# setup, enable, the login step-up, replay and skew, recovery codes,
# disable, the mfa-failures limit across processes, the admin reset and
# LeadCRMRequireMFA.  Codes are computed here from the secret (RFC 6238 in
# LeadCRM::TOTP), never by the module.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(plan ok);
use Apache::TestRequest ();
use LeadCRM::Test;
use LeadCRM::TOTP;
use HTTP::Request ();
use JSON::PP ();
use LWP::UserAgent ();
use POSIX ();

plan tests => 89;

sub t {
    my ($cond, $name) = @_;
    ok($cond ? 1 : 0) or print "# failed: $name\n# ", ($main::res ? $main::res->code . " " . $main::res->content : ""), "\n";
}

my $PW = 'correct horse battery';

sub setup {
    my ($u) = @_;
    my ($res, $j) = api(POST => '/auth/mfa/totp/setup', token => $u->{token},
                        body => { password => $PW });
    die 'setup: ' . $res->status_line unless $res->code == 200;
    return $j->{secret};
}

# Sets MFA up and enables it with the code of step $s (default: now - 1).
sub enable {
    my ($u, $step) = @_;
    my $secret = setup($u);
    $step //= safe_step() - 1;
    my ($res, $j) = api(POST => '/auth/mfa/totp/enable', token => $u->{token},
                        body => { code => totp_code($secret, $step) });
    die 'enable: ' . $res->status_line unless $res->code == 200;
    return ($secret, $j->{recoveryCodes}, $step);
}

sub challenge {
    my ($u) = @_;
    my ($res, $j) = login($u->{email}, $PW);
    return $j->{mfaToken};
}

sub verify { api(POST => '/auth/mfa/verify', body => { @_ }) }

# ---- setup -------------------------------------------------------------------
my $alice = make_user();
our ($res, $j); ($res, $j) = api(POST => '/auth/mfa/totp/setup', token => $alice->{token},
                    body => { password => 'wrong password!' });
t(problem_ok($res, 403, 'invalid_current_password'), 'setup: wrong password');
($res, $j) = api(POST => '/auth/mfa/totp/setup', token => $alice->{token}, body => {});
t(problem_ok($res, 400, 'validation_failed'), 'setup: no password');
($res, $j) = api(POST => '/auth/mfa/totp/setup', body => { password => $PW });
t(problem_ok($res, 401, 'unauthorized'), 'setup: no token');
($res, $j) = api(POST => '/auth/mfa/totp/setup', token => $alice->{token},
                 body => { password => $PW });
t($res->code == 200 && $j->{secret} =~ /^[A-Z2-7]{32}$/, 'setup: 160-bit base32');
t(($res->header('Cache-Control') // '') =~ /no-store/, 'setup: no-store');
my $uri = $j->{otpauthUri} // '';
my $enc = $alice->{email}; $enc =~ s/@/%40/;
t($uri eq "otpauth://totp/LeadCRM:$enc?secret=$j->{secret}&issuer=LeadCRM"
         . '&algorithm=SHA1&digits=6&period=30', 'setup: otpauth URI');
my $first = $j->{secret};
t(db("SELECT pending_sealed LIKE 'v1.%' AND position(:'p1' in pending_sealed) = 0"
     . " FROM user_mfa WHERE user_id = :'p2'", $first, $alice->{id}) eq 't',
  'setup: secret sealed at rest');
# a second setup replaces the pending secret
my $secret = setup($alice);
t($secret ne $first, 'setup again: new secret');

# ---- enable --------------------------------------------------------------------
my (undef, $oj) = login($alice->{email}, $PW);
my $s = safe_step();
($res, $j) = api(POST => '/auth/mfa/totp/enable', token => $alice->{token},
                 body => { code => totp_code($first, $s) });
t(problem_ok($res, 400, 'invalid_code'), 'enable: code of the replaced secret');
($res, $j) = api(POST => '/auth/mfa/totp/enable', token => $alice->{token},
                 body => { code => totp_code($secret, $s + 2) });
t(problem_ok($res, 400, 'invalid_code'), 'enable: two steps ahead refused');
# one step of skew in the past is accepted
($res, $j) = api(POST => '/auth/mfa/totp/enable', token => $alice->{token},
                 body => { code => totp_code($secret, $s - 1) });
t($res->code == 200 && @{ $j->{recoveryCodes} || [] } == 10, 'enable: 10 codes');
t(!grep({ !/^[a-z0-9]{5}-[a-z0-9]{5}$/ } @{ $j->{recoveryCodes} }), 'codes shape');
my @codes = @{ $j->{recoveryCodes} };
t(db("SELECT count(*) FROM mfa_recovery_codes WHERE user_id = :'p1'", $alice->{id}) == 10
  && db("SELECT count(*) FROM mfa_recovery_codes WHERE user_id = :'p1'"
        . " AND encode(code_hash, 'hex') = :'p2'", $alice->{id}, $codes[0]) == 0,
  'codes stored hashed');
($res) = api(GET => '/auth/profile', token => $oj->{accessToken});
t(problem_ok($res, 401, 'invalid_token'), 'enable revokes the other sessions');
($res, $j) = api(GET => '/auth/profile', token => $alice->{token});
t($res->code == 200 && $j->{mfaEnabled}, 'enable keeps this session; mfaEnabled');
($res) = api(POST => '/auth/mfa/totp/enable', token => $alice->{token},
             body => { code => totp_code($secret, $s) });
t(problem_ok($res, 409, 'mfa_already_enabled'), 'enable twice: 409');
($res) = api(POST => '/auth/mfa/totp/setup', token => $alice->{token},
             body => { password => $PW });
t(problem_ok($res, 409, 'mfa_already_enabled'), 'setup when on: 409');
my $bob = make_user();
($res) = api(POST => '/auth/mfa/totp/enable', token => $bob->{token},
             body => { code => '123456' });
t(problem_ok($res, 409, 'mfa_setup_required'), 'enable without setup: 409');
db("UPDATE user_mfa SET pending_expires_at = now() - interval '1 second'"
   . " WHERE user_id = :'p1'", $bob->{id}) if setup($bob);
($res) = api(POST => '/auth/mfa/totp/enable', token => $bob->{token},
             body => { code => '123456' });
t(problem_ok($res, 409, 'mfa_setup_required'), 'enable after 10 minutes: 409');

# ---- login step-up ---------------------------------------------------------------
my $last = db("SELECT last_login_at FROM users WHERE id = :'p1'", $alice->{id});
($res, $j) = login($alice->{email}, $PW);
t($res->code == 200 && $j->{mfaRequired} && $j->{expiresIn} == 300
  && $j->{mfaToken} =~ /^[A-Za-z0-9_-]{43}$/, 'login: step-up answer');
t(join(',', sort keys %$j) eq 'expiresIn,mfaRequired,mfaToken', 'login: nothing else');
t(!defined cookie_of($res), 'login: no cookie');
t(db("SELECT last_login_at FROM users WHERE id = :'p1'", $alice->{id}) eq $last,
  'lastLoginAt unchanged before verify');
my $mt = $j->{mfaToken};
($res) = api(GET => '/auth/profile', token => $mt);
t(problem_ok($res, 401, 'invalid_token'), 'mfaToken is no Bearer token');
t(db("SELECT count(*) FROM mfa_challenges WHERE token_hash ="
     . " sha256(convert_to(:'p1', 'UTF8'))", $mt) == 1, 'mfaToken stored hashed');
($res) = login($alice->{email}, 'wrong password!');
t(problem_ok($res, 401, 'invalid_credentials'), 'wrong password: no step-up');
($res) = verify(mfaToken => $mt, code => '000000' eq totp_code($secret, $s) ? '111111' : '000000');
t(problem_ok($res, 401, 'invalid_code'), 'verify: wrong code');
($res) = verify(mfaToken => $mt, code => totp_code($secret, $s - 1));
t(problem_ok($res, 401, 'invalid_code'), 'verify: replay of the enable code');
($res) = verify(mfaToken => 'x' x 43, code => totp_code($secret, $s));
t(problem_ok($res, 401, 'invalid_code'), 'verify: unknown mfaToken');
($res) = verify(mfaToken => $mt, code => '123456', recoveryCode => $codes[0]);
t(problem_ok($res, 400, 'validation_failed'), 'verify: both factors');
($res) = verify(mfaToken => $mt);
t(problem_ok($res, 400, 'validation_failed'), 'verify: no factor');
# one step of skew in the future is accepted
($res, $j) = verify(mfaToken => $mt, code => totp_code($secret, $s + 1));
t($res->code == 200 && $j->{accessToken} && $j->{user}{mfaEnabled}, 'verify: login');
t(defined cookie_of($res), 'verify: refresh cookie');
t(db("SELECT last_login_at > :'p2' FROM users WHERE id = :'p1'", $alice->{id}, $last) eq 't',
  'lastLoginAt set by verify');
my $session_token = $j->{accessToken};
my $refresh = cookie_of($res);
($res) = verify(mfaToken => $mt, code => totp_code($secret, $s + 1));
t(problem_ok($res, 401, 'invalid_code'), 'verify: mfaToken single-use');
($res) = verify(mfaToken => challenge($alice), code => totp_code($secret, $s + 1));
t(problem_ok($res, 401, 'invalid_code'), 'verify: replayed step on a new login');
($res) = verify(mfaToken => challenge($alice), code => totp_code($secret, $s));
t(problem_ok($res, 401, 'invalid_code'), 'verify: an earlier step');
# refresh and revocation work the same for an MFA session
($res, $j) = api(POST => '/auth/refresh', headers => { Cookie => "leadcrm_refresh=$refresh" });
t($res->code == 200 && $j->{accessToken}, 'MFA session refreshes');

# ---- recovery codes ---------------------------------------------------------------
my $typed = uc $codes[0]; $typed =~ s/-/ - /;
($res, $j) = verify(mfaToken => challenge($alice), recoveryCode => $typed);
t($res->code == 200 && $j->{accessToken}, 'verify: recovery code (case, spaces)');
($res) = verify(mfaToken => challenge($alice), recoveryCode => $codes[0]);
t(problem_ok($res, 401, 'invalid_code'), 'recovery code single-use');
($res, $j) = api(POST => '/auth/mfa/recovery-codes', token => $session_token,
                 body => { password => $PW, recoveryCode => $codes[1] });
t($res->code == 200 && @{ $j->{recoveryCodes} } == 10, 'new recovery codes');
my @new = @{ $j->{recoveryCodes} };
($res) = verify(mfaToken => challenge($alice), recoveryCode => $codes[2]);
t(problem_ok($res, 401, 'invalid_code'), 'old codes stop working');
($res) = api(POST => '/auth/mfa/recovery-codes', token => $session_token,
             body => { password => 'wrong password!', recoveryCode => $new[0] });
t(problem_ok($res, 403, 'invalid_current_password'), 'codes: wrong password');

# ---- five wrong codes kill an mfaToken (another account: alice has spent
# most of her 10 wrong codes above) ----------------------------------------------------------
my $dave = make_user();
my ($dsecret, $dcodes) = enable($dave);
$mt = challenge($dave);
verify(mfaToken => $mt, code => '000001') for 1 .. 5;
($res) = verify(mfaToken => $mt, recoveryCode => $dcodes->[0]);
t(problem_ok($res, 401, 'invalid_code'), 'dead after 5 wrong codes');
t(db("SELECT count(*) FROM audit_log WHERE action = 'auth.login_failed'"
     . " AND subject_id = :'p1' AND details->>'step' = 'mfa'", $dave->{id}) == 5,
  'wrong codes audited as auth.login_failed step mfa');
($res) = api(POST => '/auth/mfa/totp/disable', token => $dave->{token},
             body => { password => $PW, code => '999999' });
t(problem_ok($res, 400, 'invalid_code'), 'disable: wrong code');
($res) = api(POST => '/auth/mfa/totp/disable', token => $dave->{token},
             body => { password => $PW, code => 'abcdef' });
t(problem_ok($res, 400, 'invalid_code'), 'disable: not digits');
($res) = verify(mfaToken => challenge($dave), recoveryCode => 'not-a-code!');
t(problem_ok($res, 401, 'invalid_code'), 'malformed recovery code');

# ---- disable --------------------------------------------------------------------------
($res) = api(POST => '/auth/mfa/totp/disable', token => $session_token,
             body => { password => 'wrong password!', recoveryCode => $new[0] });
t(problem_ok($res, 403, 'invalid_current_password'), 'disable: wrong password');
(undef, $oj) = verify(mfaToken => challenge($alice), recoveryCode => $new[1]);
($res) = api(POST => '/auth/mfa/totp/disable', token => $session_token,
             body => { password => $PW, recoveryCode => $new[2] });
t($res->code == 204, 'disable with a recovery code');
($res) = api(GET => '/auth/profile', token => $oj->{accessToken});
t(problem_ok($res, 401, 'invalid_token'), 'disable revokes the other sessions');
($res, $j) = api(GET => '/auth/profile', token => $session_token);
t($res->code == 200 && !$j->{mfaEnabled}, 'mfaEnabled false');
($res, $j) = login($alice->{email}, $PW);
t($res->code == 200 && $j->{accessToken} && !$j->{mfaRequired}, 'login without step-up');
($res) = api(POST => '/auth/mfa/totp/disable', token => $session_token,
             body => { password => $PW, recoveryCode => $new[3] });
t(problem_ok($res, 409, 'mfa_not_enabled'), 'disable when off: 409');
($res) = api(POST => '/auth/mfa/recovery-codes', token => $session_token,
             body => { password => $PW, code => '123456' });
t(problem_ok($res, 409, 'mfa_not_enabled'), 'codes when off: 409');
# a TOTP code disables too (user b: enabled with the previous step)
my ($bsecret, undef, $bs) = enable($bob);
($res) = api(POST => '/auth/mfa/totp/disable', token => $bob->{token},
             body => { password => $PW, code => totp_code($bsecret, $bs + 1) });
t($res->code == 204, 'disable with a code');

# ---- mfa-failures: 10 wrong codes per account, counted across processes ----------
my $carol = make_user();
my ($csecret, $ccodes) = enable($carol);
my @pids;
for my $i (1 .. 10) {
    my $pid = fork // die "fork: $!";
    if (!$pid) {
        # a fresh connection per process: requests land on several children
        my $ua = LWP::UserAgent->new(keep_alive => 0);
        my $r = HTTP::Request->new(POST => url('/auth/mfa/totp/disable'));
        $r->header('Content-Type' => 'application/json');
        $r->header(Authorization => "Bearer $carol->{token}");
        $r->content(qq({"password":"$PW","code":"00000$i"}));
        my $code = $ua->request($r)->code;
        POSIX::_exit($code == 400 ? 0 : 1);
    }
    push @pids, $pid;
}
my $bad = 0;
for (@pids) { waitpid($_, 0); $bad++ if $? }
t($bad == 0, 'ten wrong codes: 400 each');
($res) = api(POST => '/auth/mfa/totp/disable', token => $carol->{token},
             body => { password => $PW, recoveryCode => $ccodes->[0] });
t(problem_ok($res, 429, 'rate_limited') && $res->header('Retry-After'),
  'eleventh attempt, right code: 429');
($res) = verify(mfaToken => challenge($carol), recoveryCode => $ccodes->[1]);
t(problem_ok($res, 429, 'rate_limited'), 'verify of the same account: 429');
($res, $j) = api(GET => '/auth/profile', token => $carol->{token});
t($j->{mfaEnabled}, 'nothing changed while limited');

# ---- admin reset -------------------------------------------------------------------------
my $admin = make_user(role => 'ADMIN');
my $admin2 = make_user(role => 'ADMIN');
my $super = make_user(role => 'SUPER_ADMIN');
($res) = api(DELETE => "/api/users/$carol->{id}/mfa", token => $session_token);
t(problem_ok($res, 403, 'forbidden'), 'reset: USER 403');
($res) = api(DELETE => "/api/users/$admin->{id}/mfa", token => $admin->{token});
t(problem_ok($res, 403, 'forbidden'), 'reset: own id 403');
($res) = api(DELETE => "/api/users/$admin2->{id}/mfa", token => $admin->{token});
t(problem_ok($res, 403, 'forbidden'), 'reset: ADMIN on ADMIN 403');
($res) = api(DELETE => '/api/users/00000000-0000-4000-8000-000000000000/mfa',
             token => $admin->{token});
t(problem_ok($res, 404, 'not_found'), 'reset: unknown 404');
($res) = api(DELETE => "/api/users/$alice->{id}/mfa", token => $admin->{token});
t(problem_ok($res, 409, 'mfa_not_enabled'), 'reset: MFA off 409');
($res, $j) = api(POST => '/api/keys', token => $carol->{token},
                 body => { name => 'k', scopes => ['leads:read'], password => $PW });
my $ckey = $j->{key};
($res) = api(DELETE => "/api/users/$carol->{id}/mfa", token => $admin->{token});
t($res->code == 204, 'reset: 204');
($res) = api(GET => '/auth/profile', token => $carol->{token});
t(problem_ok($res, 401, 'invalid_token'), 'reset revokes sessions');
($res) = api(GET => '/api/leads', token => $ckey);
t(problem_ok($res, 401, 'invalid_token'), 'reset revokes API keys');
t(db("SELECT mfa_enabled FROM users WHERE id = :'p1'", $carol->{id}) eq 'f'
  && db("SELECT count(*) FROM mfa_recovery_codes WHERE user_id = :'p1'", $carol->{id}) == 0,
  'reset: off, codes deleted');
t(db("SELECT actor_id FROM audit_log WHERE action = 'user.mfa_reset'"
     . " AND subject_id = :'p1'", $carol->{id}) eq $admin->{id}, 'reset audited');
($res, $j) = api(PATCH => "/api/users/$carol->{id}", token => $super->{token},
                 body => { mfaEnabled => JSON::PP::true });
t(problem_ok($res, 400, 'validation_failed'), 'mfaEnabled is read-only');

# ---- leadcrm-admin for locked-out operators ---------------------------------------------
my $eve = make_user();
enable($eve);
my $cli = "$ENV{LEADCRM_ROOT}/leadcrm-admin";
sub cli { system("$cli @_ >/dev/null 2>&1"); return $? >> 8 }
t(cli('disable-mfa', '--email', $eve->{email}) == 0
  && db("SELECT mfa_enabled FROM users WHERE id = :'p1'", $eve->{id}) eq 'f',
  'leadcrm-admin disable-mfa');
($res) = api(GET => '/auth/profile', token => $eve->{token});
t(problem_ok($res, 401, 'invalid_token'), 'disable-mfa revokes the sessions');
t(cli('disable-mfa', '--email', $eve->{email}) == 1, 'disable-mfa when off: exit 1');
(undef, $j) = login($eve->{email}, $PW);
t(cli('revoke-sessions', '--email', $eve->{email}) == 0, 'leadcrm-admin revoke-sessions');
($res) = api(GET => '/auth/profile', token => $j->{accessToken});
t(problem_ok($res, 401, 'invalid_token'), 'revoke-sessions: tokens stop');
my $eve2 = make_user(role => 'ADMIN');
(undef, $j) = api(POST => '/api/keys', token => $eve2->{token},
                  body => { name => 'cli', scopes => ['leads:read'], password => $PW });
t(cli('revoke-key', '--key-id', $j->{id}) == 0, 'leadcrm-admin revoke-key');
($res) = api(GET => '/api/leads', token => $j->{key});
t(problem_ok($res, 401, 'invalid_token'), 'revoke-key: the key stops');
t(cli('revoke-key', '--key-id', 'nope') == 2 && cli('revoke-key', '--key-id', $j->{id}) == 1,
  'revoke-key: malformed 2, unknown 1');
t(db("SELECT count(*) FROM audit_log WHERE details->>'via' = 'cli'"
     . " AND subject_id IN (:'p1', :'p2')", $eve->{id}, $j->{id}) == 3, 'CLI changes audited');

# ---- LeadCRMRequireMFA ADMIN (a virtual host of the test server) ----------------------
{
    my $hostport = Apache::TestRequest::module2url('leadcrm_mfa', { path => '/' });
    $hostport =~ s{/\z}{};
    $Apache::TestRequest::Module = undef;   # module2url switched the default
    local *LeadCRM::Test::url = sub { $hostport . $_[0] };
    my ($r2, $j2) = login($admin->{email}, $PW);
    my $tok = $j2->{accessToken};
    t($r2->code == 200 && $tok, 'require MFA: an admin without MFA logs in');
    ($r2) = api(GET => '/api/leads', token => $tok);
    t(problem_ok($r2, 403, 'mfa_enrollment_required'), 'require MFA: 403 outside /auth');
    ($r2) = api(GET => '/api/users/00000000-0000-4000-8000-000000000000', token => $tok);
    t(problem_ok($r2, 403, 'mfa_enrollment_required'), 'checked before existence');
    ($r2) = api(GET => '/auth/profile', token => $tok);
    t($r2->code == 200, 'require MFA: /auth still works');
    ($r2, $j2) = api(POST => '/api/leads', token => $tok,
                     body => { name => 'Anon', email => new_email() });
    t($r2->code == 201 && !defined $j2->{userId}, 'public route: caller anonymous');
    ($r2) = api(GET => '/api/leads', token => $session_token);
    t($r2->code == 200, 'require MFA ADMIN: a USER is not concerned');
    my $secret2 = setup({ token => $tok });
    ($r2) = api(POST => '/auth/mfa/totp/enable', token => $tok,
                body => { code => totp_code($secret2, safe_step()) });
    ($r2) = api(GET => '/api/leads', token => $tok);
    t($r2->code == 200, 'require MFA: works once enrolled');
    my $r3 = ua()->get($hostport . '/static-admin/secret.txt',
                       Authorization => "Bearer $super->{token}");
    t($r3->code == 403 && $r3->content =~ /mfa_enrollment_required/,
      'Require leadcrm-role location: 403 mfa_enrollment_required');
}
($res) = api(GET => '/api/leads', token => $super->{token});
t($res->code == 200, 'main host: no MFA requirement');
