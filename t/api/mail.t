# Email verification, password reset and the outbox list (API.md part 2
# "Email verification and password reset", "Mail and notifications").  The
# test server has mail on towards a closed port, so these tests see the
# answers, the tokens and the outbox rows; delivery itself (links, MIME,
# .ics, outages, two nodes) is t/scripts/mail.sh with a real SMTP server.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(plan ok);
use LeadCRM::Test;
use Digest::SHA qw(sha256_hex);
use Time::HiRes qw(sleep);

plan tests => 42;

sub t {
    my ($cond, $name) = @_;
    ok($cond ? 1 : 0) or print "# failed: $name\n";
}

sub wait_until {
    my ($code, $secs) = @_;
    for (1 .. $secs * 5) { my $v = $code->(); return $v if $v; sleep 0.2 }
    return undef;
}

# A token the way the worker makes one, stored by hash only.
my $n = 0;
sub token_for {
    my ($user_id, $purpose, $email, $expires) = @_;
    my $tok = sprintf('%-43s', "tok$$" . 'x' . ++$n . 'y' . time);
    $tok =~ tr/ /A/;
    db("INSERT INTO email_tokens (user_id, purpose, token_hash, email,"
       . " expires_at) VALUES (:'p1', :'p2', decode(:'p3', 'hex'), :'p4',"
       . " now() + CAST(:'p5' AS interval))",
       $user_id, $purpose, sha256_hex($tok), $email, $expires // '1 hour');
    return $tok;
}

my $user = make_user();
my $super = make_user(role => 'SUPER_ADMIN');

# ---- forgot
my ($res, $j) = api(POST => '/auth/password/forgot',
                    body => { email => $user->{email} });
t($res->code == 202 && $j->{status} eq 'accepted',
  'forgot a known address -> 202 {status: accepted}');
t(($res->header('Cache-Control') // '') =~ /no-store/, 'no-store');
($res, $j) = api(POST => '/auth/password/forgot',
                 body => { email => 'nobody-' . $$ . '@example.com' });
t($res->code == 202 && $j->{status} eq 'accepted',
  'forgot an unknown address -> the same 202');
($res) = api(POST => '/auth/password/forgot', body => { email => 'nope' });
t(problem_ok($res, 400, 'validation_failed'), 'forgot a bad email -> 400');
($res) = api(POST => '/auth/password/forgot', body => '{"email":',
             headers => {});
t(problem_ok($res, 400), 'forgot bad JSON -> 400');
($res) = api(POST => '/auth/password/forgot',
             body => '{"email":"a@example.com"}',
             headers => { 'Content-Type' => 'text/plain' });
t(problem_ok($res, 415, 'unsupported_media_type'), 'forgot text/plain -> 415');
($res) = api(POST => '/auth/password/forgot',
             body => { email => $user->{email}, extra => 1 });
t(problem_ok($res, 400, 'validation_failed'), 'unknown fields -> 400');
t(wait_until(sub {
      db("SELECT count(*) FROM email_tokens WHERE user_id = :'p1'"
         . " AND purpose = 'reset'", $user->{id}) >= 1 }, 15),
  'the worker made a reset token for the known account');
t(db("SELECT count(*) FROM mail_outbox WHERE to_addr LIKE 'nobody-%'") == 0,
  'and nothing for the unknown address');

t(wait_until(sub {
      db("SELECT count(*) FROM audit_log WHERE action = 'auth.password_reset_requested'"
         . " AND subject_id = :'p1'", $user->{id}) >= 1 }, 15),
  'the request is audited for the existing account (auth.password_reset_requested)');

# ---- reset
# an API key of the user: a reset revokes every key (API.md part 2)
my ($kres, $key) = api(POST => '/api/keys', token => $user->{token},
                       body => { name => 'reset test', scopes => ['leads:read'],
                                 password => $user->{password} });
my $tok = token_for($user->{id}, 'reset', $user->{email});
($res) = api(POST => '/auth/password/reset',
             body => { token => $tok, newPassword => 'short' });
t(problem_ok($res, 400, 'validation_failed'), 'reset, short password -> 400');
($res) = api(POST => '/auth/password/reset',
             body => { token => 'A' x 43, newPassword => 'long enough pw' });
t(problem_ok($res, 400, 'invalid_or_expired_token'),
  'reset, unknown token -> 400 invalid_or_expired_token');
($res) = api(POST => '/auth/password/reset',
             body => { token => $tok, newPassword => 'a new password 1' });
t($res->code == 204, 'reset -> 204 (the refused attempt did not use it)');
($res) = api(GET => '/auth/profile', token => $user->{token});
t($res->code == 401, 'the reset revoked the access token at once');
($res) = api(GET => '/api/leads?limit=1', token => $key->{key});
t($kres->code == 201 && $res->code == 401, 'and the API keys of the user');
t(db("SELECT count(*) FROM audit_log WHERE action = 'auth.password_reset'"
     . " AND subject_id = :'p1' AND request_id IS NOT NULL", $user->{id}) == 1,
  'the reset is audited (auth.password_reset) with its request id');
($res) = api(POST => '/auth/password/reset',
             body => { token => $tok, newPassword => 'a new password 2' });
t(problem_ok($res, 400, 'invalid_or_expired_token'), 'a used token -> 400');
($res, $j) = login($user->{email}, 'a new password 1');
t($res->code == 200 && $j->{user}{emailVerified},
  'login with the new password; the reset verified the email');
my $token = $j->{accessToken};
my $expired = token_for($user->{id}, 'reset', $user->{email}, '-1 second');
($res) = api(POST => '/auth/password/reset',
             body => { token => $expired, newPassword => 'a new password 3' });
t(problem_ok($res, 400, 'invalid_or_expired_token'), 'an expired token -> 400');

# ---- verify-email
# (registration queues a verification job; once the worker has made its
# token, a newer one inserted here is the live one)
sub worker_token_made {
    my ($u) = @_;
    return wait_until(sub {
        db("SELECT count(*) FROM email_tokens WHERE user_id = :'p1'"
           . " AND purpose = 'verify'", $u->{id}) >= 1 }, 15);
}
my $fresh = make_user();
worker_token_made($fresh);
$tok = token_for($fresh->{id}, 'verify', $fresh->{email});
($res, $j) = api(POST => '/auth/verify-email', body => { token => $tok },
                 token => 'ignored.bearer.token');
t($res->code == 200 && $j->{user}{emailVerified} && $j->{user}{id} eq $fresh->{id},
  'verify-email -> 200 {user} with emailVerified (a Bearer is ignored)');
($res, $j) = api(POST => '/auth/verify-email', body => { token => $tok });
t($res->code == 200, 'a used token answers 200 again');
t(db("SELECT count(*) FROM audit_log WHERE action = 'auth.email_verified'"
     . " AND subject_id = :'p1'", $fresh->{id}) == 1,
  'verification is audited once (auth.email_verified)');
($res) = api(POST => '/auth/verify-email', body => { token => 'B' x 43 });
t(problem_ok($res, 400, 'invalid_or_expired_token'), 'unknown -> 400');
($res) = api(POST => '/auth/verify-email', body => { token => 42 });
t(problem_ok($res, 400, 'validation_failed'), 'a number -> 400');
my $other = make_user();
worker_token_made($other);
$tok = token_for($other->{id}, 'verify', 'someone-else@example.com');
($res) = api(POST => '/auth/verify-email', body => { token => $tok });
t(problem_ok($res, 400, 'invalid_or_expired_token'),
  'a token verifies only the address it was mailed to');

# ---- resend
($res, $j) = api(POST => '/auth/verify-email/resend', token => $other->{token});
t($res->code == 202 && $j->{status} eq 'accepted',
  'resend with Bearer, no body -> 202');
($res, $j) = api(POST => '/auth/verify-email/resend', token => $fresh->{token});
t(problem_ok($res, 409, 'email_already_verified'),
  'resend when verified -> 409 email_already_verified');
($res, $j) = api(POST => '/auth/verify-email/resend',
                 body => { email => $other->{email} });
t($res->code == 202, 'resend without Bearer {email} -> 202');
($res) = api(POST => '/auth/verify-email/resend');
t(problem_ok($res, 415) || problem_ok($res, 400),
  'resend without Bearer and without a body -> 415/400');
($res) = api(POST => '/auth/verify-email/resend', token => 'bad.token.here');
t(problem_ok($res, 401, 'invalid_token'), 'resend with a bad Bearer -> 401');
t(wait_until(sub {
      db("SELECT count(*) FROM email_tokens WHERE user_id = :'p1'"
         . " AND purpose = 'verify' AND voided_at IS NULL AND used_at IS NULL",
         $other->{id}) == 1
      && db("SELECT count(*) FROM email_tokens WHERE user_id = :'p1'"
            . " AND purpose = 'verify'", $other->{id}) >= 3 }, 15),
  'only the newest verification token stays live');

# ---- rate limits: mail (per address) and mail-target (per email)
my %lim = ('X-Test-Limits' => 'on',
           'X-Forwarded-For' => '198.18.' . ($$ % 250) . '.' . (time % 250));
my $target = make_user();
my @codes;
for (1 .. 3) {
    ($res) = api(POST => '/auth/password/forgot',
                 body => { email => $target->{email} }, headers => \%lim);
    push @codes, $res->code;
}
print "# codes @codes, Retry-After ", $res->header('Retry-After') // '-',
      ", RateLimit-Limit ", $res->header('RateLimit-Limit') // '-', "\n";
t("@codes" eq '202 202 202' && !defined $res->header('Retry-After')
  && ($res->header('RateLimit-Limit') // '') eq '3',
  'past mail-target the answer stays 202 (RateLimit-* of the mail class)');
($res) = api(POST => '/auth/password/forgot',
             body => { email => $target->{email} }, headers => \%lim);
t(problem_ok($res, 429, 'rate_limited') && $res->header('Retry-After'),
  'the mail class (per address) -> 429');
t(wait_until(sub {
      db("SELECT count(*) FROM email_tokens WHERE user_id = :'p1'"
         . " AND purpose = 'reset'", $target->{id}) == 2 }, 15),
  'only 2 of the 3 accepted requests made a mail');

# ---- the outbox list
($res, $j) = api(GET => '/api/notifications?limit=3&kind=password_reset',
                 token => $super->{token});
t($res->code == 200 && @{ $j->{data} } >= 1
  && !grep({ $_->{kind} ne 'password_reset' } @{ $j->{data} }),
  'GET /api/notifications?kind= lists outbox entries');
t(!grep({ exists $_->{body} || exists $_->{payload} } @{ $j->{data} }),
  'never a body');
($res, $j) = api(GET => '/api/notifications?recipient=' . uc($user->{email}),
                 token => $super->{token});
t($res->code == 200 && @{ $j->{data} } >= 1
  && !grep({ $_->{to} ne $user->{email} } @{ $j->{data} }),
  'recipient matches case-insensitively');
($res) = api(GET => '/api/notifications?status=LOST', token => $super->{token});
t(problem_ok($res, 400, 'invalid_query'), 'a bad status -> 400');
($res) = api(GET => '/api/notifications?from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z',
             token => $super->{token});
t(problem_ok($res, 400, 'invalid_query'), 'to before from -> 400');
($res) = api(GET => '/api/notifications?page=1000', token => $super->{token});
t($res->code == 200, 'a page past the end -> 200');
($res) = api(GET => '/api/notifications', token => $token);
t(problem_ok($res, 403, 'forbidden'), 'a USER -> 403');
($res) = api(GET => '/api/notifications');
t(problem_ok($res, 401, 'unauthorized'), 'no token -> 401');
