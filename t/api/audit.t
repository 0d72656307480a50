# The audit log (API.md part 2 "Audit log"): a whole story in order with
# its actors, the list and its filters, no secrets in details, append-only
# enforced by the database (the app role httpd uses cannot UPDATE or
# DELETE), and the retention purge in the background.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(plan ok);
use LeadCRM::Test;
use Time::HiRes ();

plan tests => 33;

our ($res, $j);
sub t {
    my ($cond, $name) = @_;
    ok($cond ? 1 : 0) or print "# failed: $name\n# ",
        ($res ? $res->code . ' ' . substr($res->content, 0, 300) : ''), "\n";
}

my $PW = 'correct horse battery';
my $super = make_user(role => 'SUPER_ADMIN');
my $IP = '192.0.2.44';
my %H = ('X-Forwarded-For' => $IP);

# ---- the story -----------------------------------------------------------------
my $email = new_email();
($res, $j) = api(POST => '/auth/register', headers => \%H,
                 body => { email => $email, password => $PW, name => 'Story' });
my $id = $j->{user}{id};
my $register_rid = $res->header('X-Request-Id');
($res) = api(POST => '/auth/login', headers => \%H,
             body => { email => $email, password => 'not the password' });
($res) = api(POST => '/auth/login', headers => \%H,
             body => { email => $email, password => 'not the password 2' });
($res, $j) = api(POST => '/auth/login', headers => \%H,
                 body => { email => $email, password => $PW });
my $token = $j->{accessToken};
($res) = api(PATCH => "/api/users/$id", token => $super->{token}, headers => \%H,
             body => { role => 'ADMIN', jobTitle => 'Lead' });
($res, $j) = api(POST => '/api/keys', token => $token, headers => \%H,
                 body => { name => 'story', scopes => ['leads:read'], password => $PW });
my ($key_id, $key) = ($j->{id}, $j->{key});
api(GET => '/api/leads', token => $key);
($res) = api(DELETE => "/api/keys/$key_id", token => $token, headers => \%H);
($res) = api(POST => "/api/users/$id/change-password", token => $token, headers => \%H,
             body => { currentPassword => $PW, newPassword => 'brand new password' });
($res) = api(POST => '/auth/logout-all', token => $token, headers => \%H);
($res) = api(DELETE => "/api/users/$id", token => $super->{token}, headers => \%H);
t($res->code == 204, 'story ran');

my @entries;
for my $q ("subjectId=$id", "subjectId=$key_id") {
    ($res, $j) = api(GET => "/api/audit?$q&limit=100", token => $super->{token});
    push @entries, @{ $j->{data} };
}
($res, $j) = api(GET => "/api/audit?actorId=$id&action=auth.logout_all", token => $super->{token});
push @entries, @{ $j->{data} };
my %seen;
@entries = sort { $a->{id} <=> $b->{id} } grep { !$seen{$_->{id}}++ } @entries;
my @story = map { $_->{action} } @entries;
my @want = qw(user.created auth.login_failed auth.login_failed auth.login
              user.role_changed user.updated apikey.created apikey.revoked
              auth.password_changed auth.logout_all user.deleted);
t(join(' ', @story) eq join(' ', @want), 'the story in order')
    or print "# got: @story\n";
my %by = map { $_->{action} => $_ } reverse @entries;
t(($by{'user.created'}{actorId} // '') eq $id, 'register: the new user acts');
t(!defined $by{'auth.login_failed'}{actorId} && $by{'auth.login_failed'}{subjectId} eq $id
  && $by{'auth.login_failed'}{details}{step} eq 'password', 'failed login: no actor, subject');
t($by{'auth.login'}{actorId} eq $id, 'login: the user');
t($by{'user.role_changed'}{actorId} eq $super->{id}
  && $by{'user.role_changed'}{actorRole} eq 'SUPER_ADMIN'
  && $by{'user.role_changed'}{details}{from} eq 'USER'
  && $by{'user.role_changed'}{details}{to} eq 'ADMIN', 'role change: super, old and new');
t(join(',', sort @{ $by{'user.updated'}{details}{fields} }) eq 'jobTitle,role',
  'user.updated: the changed field names');
t($by{'apikey.created'}{actorId} eq $id && $by{'apikey.created'}{subjectId} eq $key_id
  && $by{'apikey.created'}{actorRole} eq 'ADMIN', 'key created by the user (now ADMIN)');
t($by{'apikey.revoked'}{actorId} eq $id, 'key revoked');
t($by{'auth.password_changed'}{actorId} eq $id, 'password changed');
t($by{'user.deleted'}{actorId} eq $super->{id}, 'deleted by super');
t(!grep({ ($_->{ipAddress} // '') ne $IP } @entries), 'every entry has the client address');
my @bad_ids = grep { ($_->{requestId} // '') !~ /^[A-Za-z0-9\@_-]{10,}$/ } @entries;
print "# entry without a request id: $_->{action} ", ($_->{requestId} // 'null'), "\n" for @bad_ids;
t(!@bad_ids, 'request ids')
    or print map({ "# $_->{action} " . ($_->{requestId} // 'null') . "\n" } @entries);
t(!$register_rid || $by{'user.created'}{requestId} eq $register_rid,
  'requestId is the X-Request-Id of the request');
my $all = join "\n", map { JSON::PP->new->canonical->encode($_) } @entries;
t($all !~ /\Q$PW\E|brand new password|not the password|\Q$key\E|\Q$token\E|\$2[aby]\$/,
  'no password, token, key or hash in the log');
t($entries[0]{at} =~ /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/, 'at: RFC 3339 ms');

# ---- the list --------------------------------------------------------------------
($res, $j) = api(GET => '/api/audit?limit=5', token => $super->{token});
t($res->code == 200 && @{ $j->{data} } == 5 && $j->{pagination}{limit} == 5, 'list');
my @d = @{ $j->{data} };
t(!grep({ $d[$_]{at} lt $d[$_ + 1]{at}
          || ($d[$_]{at} eq $d[$_ + 1]{at} && $d[$_]{id} < $d[$_ + 1]{id}) } 0 .. 3),
  'newest first, ties by id');
($res, $j) = api(GET => "/api/audit?action=user.deleted&subjectId=$id", token => $super->{token});
t(@{ $j->{data} } == 1, 'filter by action');
my $at = $by{'apikey.created'}{at};
($res, $j) = api(GET => "/api/audit?subjectId=$id&from=$at&to=$by{'user.deleted'}{at}",
                 token => $super->{token});
t(!grep({ $_->{at} lt $at || $_->{action} eq 'user.deleted' } @{ $j->{data} })
  && @{ $j->{data} } >= 1, 'from inclusive, to exclusive');
for my $bad ('action=DROP', 'actorId=1', 'from=yesterday', 'cursor=abc', 'page=0') {
    ($res) = api(GET => "/api/audit?$bad", token => $super->{token});
    t(problem_ok($res, 400, 'invalid_query'), "bad query $bad");
}
my $admin = make_user(role => 'ADMIN');
($res) = api(GET => '/api/audit', token => $admin->{token});
t(problem_ok($res, 403, 'forbidden'), 'ADMIN: 403');

# ---- append-only, enforced by the database ----------------------------------------
sub as_app {
    my ($sql) = @_;
    local $ENV{PGUSER} = 'leadcrm_app';
    local $SIG{__WARN__} = sub {};
    return eval { db($sql); 1 } ? 1 : 0;
}
t(as_app("SELECT count(*) FROM audit_log"), 'app role: SELECT');
t(as_app("INSERT INTO audit_log (action) VALUES ('test.insert')"), 'app role: INSERT');
t(!as_app("UPDATE audit_log SET action = 'x.y' WHERE id = $entries[0]{id}"), 'app role: no UPDATE');
t(!as_app("DELETE FROM audit_log WHERE id = $entries[0]{id}")
  && !as_app("TRUNCATE audit_log"), 'app role: no DELETE, no TRUNCATE');
t(db("SELECT action FROM audit_log WHERE id = :'p1'", $entries[0]{id}) eq 'user.created',
  'the entry is unchanged');

# ---- retention: the purge function and the background purge -----------------------
sub old_entry {
    db("INSERT INTO audit_log (action, at) VALUES ('test.purge',"
       . " now() - make_interval(days => :'p1')) RETURNING id", $_[0]);
}
my ($d31, $young) = (old_entry(31), old_entry(29));
t(as_app("SELECT lcrm_audit_purge(0)")
  && db("SELECT count(*) FROM audit_log WHERE id = :'p1'", $young) == 1
  && db("SELECT count(*) FROM audit_log WHERE id = :'p1'", $d31) == 0,
  'purge never deletes anything younger than 30 days');
my ($old, $mid) = (old_entry(400), old_entry(100));
# LeadCRMAuditRetention 365d (default): the background purge (every 5 s in
# the test config) removes the 400-day-old entry and keeps the others
my $gone = 0;
for (1 .. 120) {
    last if ($gone = db("SELECT count(*) FROM audit_log WHERE id = :'p1'", $old) == 0);
    Time::HiRes::sleep(0.5);
}
t($gone && db("SELECT count(*) FROM audit_log WHERE id IN (:'p1', :'p2')", $mid, $young) == 2,
  'background purge honours LeadCRMAuditRetention');
