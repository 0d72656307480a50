# /api/users: list (filters, search, sort, pagination), read, update,
# soft delete, change-password, the role hierarchy and the last
# SUPER_ADMIN rule under concurrency (API.md "Users" and "Details that
# clients rely on").
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(plan ok);
use LeadCRM::Test;
use HTTP::Request ();
use JSON::PP ();
use LWP::UserAgent ();
use POSIX ();

plan tests => 219;

my $JSON = JSON::PP->new->utf8->canonical;
my $NIL = '00000000-0000-4000-8000-000000000000';

# ok() with a name printed when it fails
sub t {
    my ($cond, $name) = @_;
    ok($cond ? 1 : 0) or print "# failed: $name\n";
}

sub names { [ map { $_->{name} } @{ $_[0]{data} || [] } ] }
sub same { join('|', @{ $_[0] }) eq join('|', @{ $_[1] }) }
sub err_field {
    my ($j, $field) = @_;
    return scalar grep { ($_->{field} // '') eq $field } @{ $j->{errors} || [] };
}
sub profile_code {
    my ($token) = @_;
    my ($res) = api(GET => '/auth/profile', token => $token);
    return $res->code;
}

my $tag = sprintf 'zq%dx%d', $$, time;
my $super = make_user(role => 'SUPER_ADMIN', name => "Super $tag");
my $admin = make_user(role => 'ADMIN', name => "Admin $tag");
my $user = make_user(name => "User $tag");

# ---- who may call ---------------------------------------------------------
my ($res, $j) = api(GET => '/api/users');
t(problem_ok($res, 401, 'unauthorized'), 'no token');
($res) = api(GET => '/api/users', token => 'not.a.token');
t(problem_ok($res, 401, 'invalid_token'), 'bad token');
# a USER gets 403 on every admin route whatever the id
for my $id ($user->{id}, $admin->{id}, $NIL, 'not-a-uuid') {
    for my $m (qw(GET PUT PATCH DELETE)) {
        ($res) = api($m => "/api/users/$id", token => $user->{token},
                     $m =~ /^P/ ? (body => { name => 'X' }) : ());
        t(problem_ok($res, 403, 'forbidden'), "USER $m $id");
    }
}
($res) = api(GET => '/api/users', token => $user->{token});
t(problem_ok($res, 403, 'forbidden'), 'USER list');

# ---- read -----------------------------------------------------------------
($res, $j) = api(GET => '/api/users', token => $admin->{token});
t($res->code == 200, 'admin list');
t(($res->header('Cache-Control') // '') =~ /no-store/, 'list no-store');
t(ref $j->{data} eq 'ARRAY' && $j->{pagination}{page} == 1
  && $j->{pagination}{limit} == 20 && $j->{pagination}{totalIsExact}, 'list shape');
my $keys = join ',', sort qw(id email name company phone jobTitle bio role
    emailVerified mfaEnabled isActive lastLoginAt createdAt updatedAt);
t(!grep({ join(',', sort keys %$_) ne $keys } @{ $j->{data} }), 'list user keys');
t($res->content !~ /password|hash|\$2[aby]\$/i, 'no password material');

# an ADMIN reads everyone, other admins included (choice: reads are open)
($res, $j) = api(GET => "/api/users/$super->{id}", token => $admin->{token});
t($res->code == 200 && $j->{id} eq $super->{id} && $j->{role} eq 'SUPER_ADMIN',
  'admin reads super');
t(join(',', sort keys %$j) eq $keys, 'user keys');
t(($res->header('Cache-Control') // '') =~ /no-store/, 'get no-store');
($res, $j) = api(GET => '/api/users/' . uc $user->{id}, token => $admin->{token});
t($res->code == 200 && $j->{id} eq $user->{id}, 'uppercase id');
($res) = api(GET => "/api/users/$NIL", token => $admin->{token});
t(problem_ok($res, 404, 'not_found'), 'unknown id');
($res) = api(GET => '/api/users/not-a-uuid', token => $admin->{token});
t(problem_ok($res, 404, 'not_found'), 'malformed id');
($res) = api(GET => "/api/users/$user->{id}x", token => $admin->{token});
t(problem_ok($res, 404, 'not_found'), 'malformed id 2');

# ---- list: filters, search, sort, pagination ----------------------------------
my $ft = "${tag}f";    # the fixtures' tag: in no other user's fields
my @fx = (
    [ 'Charlie', "$ft.d\@example.com", 'Acme',          '2020-01-01', '2021-03-01' ],
    [ 'Alpha',   "$ft.b\@example.com", "Co${ft}X",     '2020-01-02', undef ],
    [ 'Bravo',   "$ft.a\@example.com", undef,           '2020-01-03', '2021-01-01' ],
    [ 'Delta',   "$ft.c\@example.com", 'Initech',       '2020-01-04', '2021-02-01' ],
);
my %fx;
for my $f (@fx) {
    my $u = make_user(name => "$ft $f->[0]", email => $f->[1]);
    db("UPDATE users SET company = :'p1', created_at = :'p2',"
       . " last_login_at = nullif(:'p3', '')::timestamptz WHERE id = :'p4'",
       $f->[2] // '', $f->[3], $f->[4] // '', $u->{id});
    db("UPDATE users SET company = NULL WHERE id = :'p1'", $u->{id}) unless defined $f->[2];
    $fx{ $f->[0] } = $u;
}
sub list { my ($q, $tok) = @_; api(GET => "/api/users?$q", token => $tok // $admin->{token}) }
sub fx_names { [ map { "$ft $_" } @_ ] }

($res, $j) = list("search=$ft");
t($res->code == 200 && $j->{pagination}{total} == 4, 'search total');
t(same(names($j), fx_names(qw(Delta Bravo Alpha Charlie))), 'default -createdAt');
my %sorts = (
    'createdAt'    => [qw(Charlie Alpha Bravo Delta)],
    '-createdAt'   => [qw(Delta Bravo Alpha Charlie)],
    'name'         => [qw(Alpha Bravo Charlie Delta)],
    '-name'        => [qw(Delta Charlie Bravo Alpha)],
    'email'        => [qw(Bravo Alpha Delta Charlie)],
    '-email'       => [qw(Charlie Delta Alpha Bravo)],
    'lastLoginAt'  => [qw(Bravo Delta Charlie Alpha)],
    '-lastLoginAt' => [qw(Charlie Delta Bravo Alpha)],
);
for my $s (sort keys %sorts) {
    ($res, $j) = list("search=$ft&sort=$s");
    t($res->code == 200 && same(names($j), fx_names(@{ $sorts{$s} })), "sort $s");
}
# search: case-insensitive, over email, name, company only, one field at a time
($res, $j) = list('search=' . uc("$ft.a\@"));
t(same(names($j), fx_names('Bravo')), 'search email');
($res, $j) = list("search=$ft%20bRAVO");
t(same(names($j), fx_names('Bravo')), 'search name');
($res, $j) = list("search=co${ft}x");
t(same(names($j), fx_names('Alpha')), 'search company');
($res, $j) = list("search=$ft%20Delta%20Initech");
t($res->code == 200 && $j->{pagination}{total} == 0, 'no match across fields');
($res, $j) = list('search=');
t($res->code == 200 && $j->{pagination}{total} >= 7, 'empty search = no filter');
# filters
db("UPDATE users SET role = 'ADMIN' WHERE id = :'p1'", $fx{Delta}{id});
db("UPDATE users SET is_active = false WHERE id = :'p1'", $fx{Bravo}{id});
($res, $j) = list("search=$ft&role=ADMIN");
t(same(names($j), fx_names('Delta')), 'role filter');
($res, $j) = list("search=$ft&isActive=false");
t(same(names($j), fx_names('Bravo')) && !$j->{data}[0]{isActive}, 'isActive=false');
($res, $j) = list("search=$ft&isActive=true&sort=name");
t(same(names($j), fx_names(qw(Alpha Charlie Delta))), 'isActive=true');
($res, $j) = list("search=$ft&isActive=true&role=USER&sort=name");
t(same(names($j), fx_names(qw(Alpha Charlie))), 'combined filters');
($res, $j) = list('role=SUPER_ADMIN&limit=100');
t($res->code == 200 && !grep({ $_->{role} ne 'SUPER_ADMIN' } @{ $j->{data} })
  && grep({ $_->{id} eq $super->{id} } @{ $j->{data} }), 'role filter alone');
# pagination
($res, $j) = list("search=$ft&sort=createdAt&limit=3");
t(same(names($j), fx_names(qw(Charlie Alpha Bravo))), 'page 1');
t($j->{pagination}{page} == 1 && $j->{pagination}{limit} == 3
  && $j->{pagination}{total} == 4 && $j->{pagination}{totalPages} == 2
  && $j->{pagination}{totalIsExact}, 'page 1 pagination');
($res, $j) = list("search=$ft&sort=createdAt&limit=3&page=2");
t(same(names($j), fx_names('Delta')) && $j->{pagination}{page} == 2, 'page 2');
($res, $j) = list("search=$ft&limit=3&page=7");
t($res->code == 200 && @{ $j->{data} } == 0 && $j->{pagination}{total} == 4
  && $j->{pagination}{totalPages} == 2, 'page past the end');
($res, $j) = list("search=nothing-matches-$ft");
t($res->code == 200 && ref $j->{data} eq 'ARRAY' && @{ $j->{data} } == 0
  && $j->{pagination}{total} == 0 && $j->{pagination}{totalPages} == 0,
  'empty list');
# % _ and \ are literal
my $t2 = "w$tag";
for my $n ('5%off', '5xoff', '5off', 'a_b', 'axb', 'c\\d', 'cd') {
    make_user(name => "$t2 $n");
}
for my $c (['5%25off', '5%off'], ['a_b', 'a_b'], ['c%5Cd', 'c\\d']) {
    ($res, $j) = list("search=$t2%20$c->[0]");
    t($res->code == 200 && same(names($j), ["$t2 $c->[1]"]), "literal $c->[1]");
}
# bad query values -> 400 invalid_query naming the parameter
for my $c (['role=admin', 'role'], ['role=', 'role'], ['isActive=1', 'isActive'],
           ['isActive=TRUE', 'isActive'], ['isActive=', 'isActive'],
           ['sort=password', 'sort'], ['sort=--email', 'sort'],
           ['sort=-', 'sort'], ['sort=createdAt,name', 'sort'], ['page=0', 'page'],
           ['page=x', 'page'], ['limit=0', 'limit'], ['limit=101', 'limit'],
           ['limit=-1', 'limit'], ['isactive=true', 'isactive'],
           ['role=USER&role=ADMIN', 'role']) {
    ($res, $j) = list($c->[0]);
    t(problem_ok($res, 400, 'invalid_query') && err_field($j, $c->[1]),
      "bad query $c->[0]");
}

# ---- update -------------------------------------------------------------------
my $target = make_user(name => "Target $tag");
db("UPDATE users SET company = 'Keep Co', bio = 'old bio' WHERE id = :'p1'", $target->{id});
($res, $j) = api(PATCH => "/api/users/$target->{id}", token => $admin->{token},
                 body => { name => 'Renamed', jobTitle => 'CFO' });
t($res->code == 200 && $j->{name} eq 'Renamed' && $j->{jobTitle} eq 'CFO'
  && $j->{company} eq 'Keep Co' && $j->{bio} eq 'old bio', 'PATCH partial');
t(($res->header('Cache-Control') // '') =~ /no-store/, 'update no-store');
t(join(',', sort keys %$j) eq $keys, 'update keys');
($res, $j) = api(PUT => "/api/users/$target->{id}", token => $admin->{token},
                 body => { company => undef, bio => "line1\nline2", phone => '+1 555' });
t($res->code == 200 && !defined $j->{company} && $j->{bio} eq "line1\nline2"
  && $j->{name} eq 'Renamed' && $j->{phone} eq '+1 555', 'PUT partial, null clears');
my $new_email = "$tag.moved\@example.com";
($res, $j) = api(PUT => "/api/users/$target->{id}", token => $admin->{token},
                 body => { email => '  ' . uc($new_email) . ' ' });
t($res->code == 200 && $j->{email} eq $new_email, 'email trimmed and lowercased');
($res) = login($new_email, $target->{password});
t($res->code == 200, 'login with the new email');
($res) = api(PATCH => "/api/users/$target->{id}", token => $admin->{token},
             body => { email => uc $user->{email} });
t(problem_ok($res, 409, 'email_taken'), 'email taken');
($res) = api(PATCH => "/api/users/$target->{id}", token => $admin->{token},
             body => { email => $new_email });
t($res->code == 200, 'own email again');
($res, $j) = api(PATCH => "/api/users/$target->{id}", token => $admin->{token}, body => {});
t($res->code == 200 && $j->{name} eq 'Renamed', 'empty body');
# no mass assignment, strict types and lengths
for my $c ([{ passwordHash => 'x' }, 'passwordHash'], [{ id => $NIL }, 'id'],
           [{ deletedAt => undef }, 'deletedAt'], [{ createdAt => '2020-01-01T00:00:00.000Z' }, 'createdAt'],
           [{ emailVerified => JSON::PP::true }, 'emailVerified'],
           [{ password => 'new password 1' }, 'password'],
           [{ isActive => 'false' }, 'isActive'], [{ role => 'admin' }, 'role'],
           [{ role => undef }, 'role'], [{ isActive => undef }, 'isActive'],
           [{ name => '' }, 'name'], [{ name => undef }, 'name'], [{ name => 'n' x 101 }, 'name'],
           [{ email => 'nope' }, 'email'], [{ email => undef }, 'email'],
           [{ phone => 'call me' }, 'phone'], [{ bio => 'b' x 2001 }, 'bio'],
           [{ jobTitle => "a\nb" }, 'jobTitle']) {
    ($res, $j) = api(PATCH => "/api/users/$target->{id}", token => $super->{token},
                     body => $c->[0]);
    t(problem_ok($res, 400, 'validation_failed') && err_field($j, $c->[1]),
      "invalid body $c->[1]");
}
t(db("SELECT role || ',' || is_active || ',' || (deleted_at IS NULL) FROM users WHERE id = :'p1'",
     $target->{id}) eq 'USER,true,true', 'nothing changed by refused bodies');
($res) = api(PATCH => "/api/users/$NIL", token => $admin->{token}, body => { name => 'X' });
t(problem_ok($res, 404, 'not_found'), 'update unknown id');
($res) = api(PUT => '/api/users/xyz', token => $admin->{token}, body => { name => 'X' });
t(problem_ok($res, 404, 'not_found'), 'update malformed id');

# ---- hierarchy ------------------------------------------------------------------
my $admin2 = make_user(role => 'ADMIN');
my $super2 = make_user(role => 'SUPER_ADMIN');
my @h = (
    # [actor, method, target, body, status, name]
    [$admin, 'PATCH', $target, { role => 'ADMIN' }, 403, 'ADMIN grants ADMIN'],
    [$admin, 'PATCH', $target, { role => 'SUPER_ADMIN' }, 403, 'ADMIN grants SUPER_ADMIN'],
    [$admin, 'PATCH', $target, { role => 'USER' }, 200, 'ADMIN sets USER on a USER'],
    [$admin, 'PATCH', $admin2, { name => 'Nope' }, 403, 'ADMIN edits ADMIN'],
    [$admin, 'PATCH', $super, { name => 'Nope' }, 403, 'ADMIN edits SUPER_ADMIN'],
    [$admin, 'PATCH', $admin2, { isActive => JSON::PP::false }, 403, 'ADMIN deactivates ADMIN'],
    [$admin, 'DELETE', $admin2, undef, 403, 'ADMIN deletes ADMIN'],
    [$admin, 'DELETE', $super, undef, 403, 'ADMIN deletes SUPER_ADMIN'],
    [$admin, 'PATCH', $admin, { role => 'USER' }, 403, 'ADMIN demotes self'],
    [$admin, 'PATCH', $admin, { role => 'SUPER_ADMIN' }, 403, 'ADMIN promotes self'],
    [$admin, 'PATCH', $admin, { isActive => JSON::PP::false }, 403, 'ADMIN deactivates self'],
    [$admin, 'DELETE', $admin, undef, 403, 'ADMIN deletes self'],
    [$admin, 'PATCH', $admin, { name => "Admin $tag", role => 'ADMIN' }, 200, 'ADMIN edits own profile'],
    [$super, 'PATCH', $super, { role => 'ADMIN' }, 403, 'SUPER_ADMIN demotes self'],
    [$super, 'PATCH', $super, { isActive => JSON::PP::false }, 403, 'SUPER_ADMIN deactivates self'],
    [$super, 'DELETE', $super, undef, 403, 'SUPER_ADMIN deletes self'],
    [$super, 'PATCH', $super2, { name => 'Other Super' }, 200, 'SUPER_ADMIN edits SUPER_ADMIN'],
    [$super, 'PATCH', $admin2, { jobTitle => 'Ops' }, 200, 'SUPER_ADMIN edits ADMIN'],
);
for my $c (@h) {
    my ($actor, $m, $tgt, $body, $status, $name) = @$c;
    ($res, $j) = api($m => "/api/users/$tgt->{id}", token => $actor->{token},
                     defined $body ? (body => $body) : ());
    t($status == 403 ? problem_ok($res, 403, 'forbidden') : $res->code == $status, $name);
}
t(db("SELECT string_agg(role::text || is_active || (deleted_at IS NULL), ',' ORDER BY x)"
     . " FROM (VALUES (1, CAST(:'p1' AS uuid)), (2, :'p2'), (3, :'p3')) v(x, id) JOIN users USING (id)",
     $admin->{id}, $admin2->{id}, $super->{id})
  eq 'ADMINtruetrue,ADMINtruetrue,SUPER_ADMINtruetrue', 'refused changes changed nothing');
# SUPER_ADMIN grants and demotes; a demoted admin is refused at once
my $promoted = make_user();
($res, $j) = api(PATCH => "/api/users/$promoted->{id}", token => $super->{token},
                 body => { role => 'ADMIN' });
t($res->code == 200 && $j->{role} eq 'ADMIN', 'SUPER_ADMIN grants ADMIN');
($res) = list('limit=1', $promoted->{token});
t($res->code == 200, 'promotion effective at once');
($res, $j) = api(PATCH => "/api/users/$promoted->{id}", token => $super->{token},
                 body => { role => 'USER' });
t($res->code == 200 && $j->{role} eq 'USER', 'SUPER_ADMIN demotes ADMIN');
($res) = list('limit=1', $promoted->{token});
t(problem_ok($res, 403, 'forbidden'), 'demoted admin refused at once');
t(profile_code($promoted->{token}) == 200, 'demoted admin keeps a valid token');

# ---- deactivation ---------------------------------------------------------------
my $inactive = make_user();
login($inactive->{email}, $inactive->{password});    # a second session
($res, $j) = api(PATCH => "/api/users/$inactive->{id}", token => $admin->{token},
                 body => { isActive => JSON::PP::false });
t($res->code == 200 && !$j->{isActive}, 'deactivate');
t(problem_ok((api(GET => '/auth/profile', token => $inactive->{token}))[0], 401,
             'invalid_token'), 'deactivated token refused');
t(problem_ok((login($inactive->{email}, $inactive->{password}))[0], 401,
             'invalid_credentials'), 'deactivated login refused');
t(db("SELECT count(*) FROM sessions WHERE user_id = :'p1' AND (revoked_at IS NULL"
     . " OR revoked_reason <> 'user_deactivated')", $inactive->{id}) eq '0',
  'sessions revoked: user_deactivated');
($res) = api(POST => '/auth/refresh',
             headers => { Cookie => "leadcrm_refresh=$inactive->{refresh}" });
t($res->code == 401, 'deactivated refresh refused');
($res, $j) = api(GET => "/api/users/$inactive->{id}", token => $admin->{token});
t($res->code == 200 && !$j->{isActive}, 'deactivated user still listed');
($res, $j) = api(PATCH => "/api/users/$inactive->{id}", token => $admin->{token},
                 body => { isActive => JSON::PP::true });
t($res->code == 200 && $j->{isActive}, 'reactivate');
t((login($inactive->{email}, $inactive->{password}))[0]->code == 200, 'reactivated login');
t(profile_code($inactive->{token}) == 401, 'old sessions stay revoked');

# ---- delete ------------------------------------------------------------------------
my $gone = $fx{Charlie};
($res) = api(DELETE => "/api/users/$gone->{id}", token => $admin->{token});
t($res->code == 204 && $res->content eq '', 'delete 204');
t(db("SELECT deleted_at IS NOT NULL FROM users WHERE id = :'p1'", $gone->{id}) eq 't',
  'soft delete');
t(db("SELECT count(*) FROM sessions WHERE user_id = :'p1' AND (revoked_at IS NULL"
     . " OR revoked_reason <> 'user_deleted')", $gone->{id}) eq '0',
  'sessions revoked: user_deleted');
t(problem_ok((api(GET => '/auth/profile', token => $gone->{token}))[0], 401,
             'invalid_token'), 'deleted token refused');
t(problem_ok((login($gone->{email}, $gone->{password}))[0], 401,
             'invalid_credentials'), 'deleted login refused');
($res) = api(POST => '/auth/refresh',
             headers => { Cookie => "leadcrm_refresh=$gone->{refresh}" });
t($res->code == 401, 'deleted refresh refused');
($res) = api(GET => "/api/users/$gone->{id}", token => $admin->{token});
t(problem_ok($res, 404, 'not_found'), 'deleted get 404');
($res, $j) = list("search=$ft&limit=100", $super->{token});
t(!grep({ $_->{id} eq $gone->{id} } @{ $j->{data} }) && $j->{pagination}{total} == 3,
  'deleted not listed');
($res, $j) = list("search=$ft.d\@");
t($j->{pagination}{total} == 0, 'deleted not found by search');
($res) = api(PATCH => "/api/users/$gone->{id}", token => $super->{token}, body => { name => 'Z' });
t(problem_ok($res, 404, 'not_found'), 'deleted update 404');
($res) = api(DELETE => "/api/users/$gone->{id}", token => $super->{token});
t(problem_ok($res, 404, 'not_found'), 'delete twice 404');
($res) = api(POST => "/api/users/$gone->{id}/change-password", token => $super->{token},
             body => { newPassword => 'another pass 1' });
t(problem_ok($res, 404, 'not_found'), 'deleted change-password 404');
($res) = api(DELETE => "/api/users/$NIL", token => $admin->{token});
t(problem_ok($res, 404, 'not_found'), 'delete unknown');
($res) = api(DELETE => '/api/users/nope', token => $admin->{token});
t(problem_ok($res, 404, 'not_found'), 'delete malformed');
($res) = api(DELETE => "/api/users/$target->{id}", token => $admin->{token}, body => { a => 1 });
t(problem_ok($res, 400), 'delete with a body');
# the email is free again, for registration and for an update
($res, $j) = register(email => $gone->{email}, password => 'brand new pass');
t($res->code == 201 && $j->{user}{id} ne $gone->{id}, 'email reusable after delete');
my $reuse = make_user();
api(DELETE => "/api/users/$reuse->{id}", token => $admin->{token});
($res, $j) = api(PATCH => "/api/users/$target->{id}", token => $admin->{token},
                 body => { email => $reuse->{email} });
t($res->code == 200 && $j->{email} eq $reuse->{email}, 'deleted email usable by update');

# ---- change-password -------------------------------------------------------------
my $cp = make_user();
my (undef, $other) = login($cp->{email}, $cp->{password});
my $other_token = $other->{accessToken};
my $cpath = "/api/users/$cp->{id}/change-password";
($res, $j) = api(POST => $cpath, token => $cp->{token}, body => { newPassword => 'new password 1' });
t(problem_ok($res, 400, 'validation_failed') && err_field($j, 'currentPassword'),
  'self needs currentPassword');
($res) = api(POST => $cpath, token => $cp->{token},
             body => { currentPassword => 'wrong password', newPassword => 'new password 1' });
t(problem_ok($res, 403, 'invalid_current_password'), 'wrong currentPassword');
($res) = api(POST => $cpath, token => $cp->{token},
             body => { currentPassword => 'x' x 80, newPassword => 'new password 1' });
t(problem_ok($res, 403, 'invalid_current_password'), 'over-long currentPassword');
($res, $j) = api(POST => $cpath, token => $cp->{token},
                 body => { currentPassword => $cp->{password}, newPassword => 'short' });
t(problem_ok($res, 400, 'validation_failed') && err_field($j, 'newPassword'), 'newPassword too short');
($res, $j) = api(POST => $cpath, token => $cp->{token},
                 body => { currentPassword => $cp->{password}, newPassword => 'n' x 73 });
t(problem_ok($res, 400, 'validation_failed') && err_field($j, 'newPassword'), 'newPassword too long');
($res, $j) = api(POST => $cpath, token => $cp->{token},
                 body => { currentPassword => $cp->{password} });
t(problem_ok($res, 400, 'validation_failed') && err_field($j, 'newPassword'), 'newPassword required');
($res, $j) = api(POST => $cpath, token => $cp->{token},
                 body => { currentPassword => $cp->{password}, newPassword => 'new password 1',
                           userId => $NIL });
t(problem_ok($res, 400, 'validation_failed') && err_field($j, 'userId'), 'unknown field');
t((login($cp->{email}, $cp->{password}))[0]->code == 200, 'password unchanged so far');
my $newpw = "Fresh-$tag-pw";
($res) = api(POST => $cpath, token => $cp->{token},
             body => { currentPassword => $cp->{password}, newPassword => $newpw });
t($res->code == 204 && $res->content eq '', 'self change-password 204');
t(profile_code($cp->{token}) == 200, 'caller session kept');
t(problem_ok((api(GET => '/auth/profile', token => $other_token))[0], 401, 'invalid_token'),
  'other session revoked');
t(db("SELECT count(*) FROM sessions WHERE user_id = :'p1' AND revoked_at IS NULL",
     $cp->{id}) eq '1', 'one live session left');
t(db("SELECT count(*) > 0 FROM sessions WHERE user_id = :'p1' AND revoked_reason = 'password_change'",
     $cp->{id}) eq 't', 'reason password_change');
t(problem_ok((login($cp->{email}, $cp->{password}))[0], 401, 'invalid_credentials'),
  'old password refused');
t((login($cp->{email}, $newpw))[0]->code == 200, 'new password works');
t(db("SELECT password_hash LIKE '\$2_\$%' FROM users WHERE id = :'p1'", $cp->{id}) eq 't',
  'stored as bcrypt');
# a USER for anyone else: 403 whatever the id
for my $id ($user->{id}, $admin->{id}, $NIL, 'not-a-uuid') {
    ($res) = api(POST => "/api/users/$id/change-password", token => $cp->{token},
                 body => { currentPassword => $newpw, newPassword => 'whatever pass 1' });
    t(problem_ok($res, 403, 'forbidden'), "USER change-password of $id");
}
# an admin for users below their role, no currentPassword needed
my $victim = make_user();
my $vsecond = (login($victim->{email}, $victim->{password}))[1]{accessToken};
($res) = api(POST => "/api/users/$victim->{id}/change-password", token => $admin->{token},
             body => { newPassword => 'set by admin 1' });
t($res->code == 204, 'ADMIN sets USER password');
t(profile_code($victim->{token}) == 401 && profile_code($vsecond) == 401,
  'all sessions of the user revoked');
t(profile_code($admin->{token}) == 200, 'admin session untouched');
t((login($victim->{email}, 'set by admin 1'))[0]->code == 200, 'admin-set password works');
t((login($victim->{email}, $victim->{password}))[0]->code == 401, 'old one does not');
for my $c ([$admin, $admin2, 403, 'ADMIN for ADMIN'], [$admin, $super, 403, 'ADMIN for SUPER_ADMIN'],
           [$super, $super2, 403, 'SUPER_ADMIN for SUPER_ADMIN'],
           [$super, $admin2, 204, 'SUPER_ADMIN for ADMIN'],
           [$super, $victim, 204, 'SUPER_ADMIN for USER']) {
    ($res) = api(POST => "/api/users/$c->[1]{id}/change-password", token => $c->[0]{token},
                 body => { newPassword => 'set by super 1' });
    t($c->[2] == 403 ? problem_ok($res, 403, 'forbidden') : $res->code == 204, $c->[3]);
}
t((login($admin2->{email}, 'set by super 1'))[0]->code == 200, 'super-set ADMIN password works');
t((login($super2->{email}, $super2->{password}))[0]->code == 200, 'refused change changed nothing');
($res) = api(POST => "/api/users/$NIL/change-password", token => $admin->{token},
             body => { newPassword => 'whatever pass 1' });
t(problem_ok($res, 404, 'not_found'), 'admin change-password unknown id');
($res) = api(POST => '/api/users/zzz/change-password', token => $admin->{token},
             body => { newPassword => 'whatever pass 1' });
t(problem_ok($res, 404, 'not_found'), 'admin change-password malformed id');
# an admin on their own id is "self": currentPassword required
($res, $j) = api(POST => "/api/users/$admin->{id}/change-password", token => $admin->{token},
                 body => { newPassword => 'admin new pass 1' });
t(problem_ok($res, 400, 'validation_failed') && err_field($j, 'currentPassword'),
  'admin self needs currentPassword');
($res) = api(POST => "/api/users/$cp->{id}/change-password",
             body => { currentPassword => $newpw, newPassword => 'whatever pass 1' });
t(problem_ok($res, 401, 'unauthorized'), 'change-password needs a token');
# logged, without the password
my $log = Apache::Test::vars('t_logs') . '/error_log';
my $logtext = do { local (@ARGV, $/) = ($log); <> } // '';
t($logtext =~ /LCRM00601: password of user \Q$cp->{id}\E changed by \Q$cp->{id}\E/,
  'change-password logged');
t(index($logtext, $newpw) < 0 && index($logtext, 'set by admin 1') < 0, 'password never logged');

# ---- the last active SUPER_ADMIN, under concurrency --------------------------------
# Each round isolates two fresh SUPER_ADMINs (every other active one is
# deactivated for the round and restored at the end), who then change each
# other at the same moment.  Exactly one may win; one stays active.
my %restore;
END {
    db("UPDATE users SET is_active = true WHERE id = :'p1'", $_) for keys %restore;
}

# fires the requests together from forked children; returns their statuses
sub race {
    my (@reqs) = @_;
    pipe(my $gate_r, my $gate_w) or die "pipe: $!";
    my @kids;
    for my $rq (@reqs) {
        pipe(my $rd, my $wr) or die "pipe: $!";
        my $pid = fork // die "fork: $!";
        if (!$pid) {
            close $gate_w;
            close $rd;
            # connect first, so both requests leave at the same moment
            my $ua = LWP::UserAgent->new(keep_alive => 1, max_redirect => 0);
            $ua->get(url('/health'));
            my $req = HTTP::Request->new($rq->[0] => url($rq->[1]));
            $req->header(Authorization => "Bearer $rq->[2]");
            if ($rq->[3]) {
                $req->header('Content-Type' => 'application/json');
                $req->content($JSON->encode($rq->[3]));
            }
            sysread $gate_r, my $buf, 1;    # EOF when the parent opens the gate
            my $r = $ua->request($req);
            syswrite $wr, $r->code;
            POSIX::_exit(0);
        }
        close $wr;
        push @kids, [$pid, $rd];
    }
    close $gate_r;
    select undef, undef, undef, 0.3;
    close $gate_w;
    my @codes;
    for my $k (@kids) {
        my $fh = $k->[1];
        local $/;
        push @codes, <$fh> // 0;
        waitpid $k->[0], 0;
    }
    return @codes;
}

my @rounds = (
    ['PATCH', { role => 'ADMIN' }, 'PATCH', { role => 'ADMIN' }, 'demote each other'],
    ['PATCH', { role => 'USER' }, 'PATCH', { isActive => JSON::PP::false }, 'demote vs deactivate'],
    ['PATCH', { isActive => JSON::PP::false }, 'PATCH', { isActive => JSON::PP::false }, 'deactivate each other'],
    ['DELETE', undef, 'DELETE', undef, 'delete each other'],
    ['DELETE', undef, 'PATCH', { role => 'ADMIN' }, 'delete vs demote'],
    ['PATCH', { role => 'ADMIN' }, 'PATCH', { role => 'ADMIN' }, 'demote each other again'],
);
my $live_supers = "SELECT string_agg(id::text, ',') FROM users"
    . " WHERE role = 'SUPER_ADMIN' AND is_active AND deleted_at IS NULL";
for my $rd (@rounds, @rounds) {
    my ($s1, $s2) = (make_user(role => 'SUPER_ADMIN'), make_user(role => 'SUPER_ADMIN'));
    for my $id (split /,/, db($live_supers) // '') {
        next if $id eq $s1->{id} || $id eq $s2->{id};
        db("UPDATE users SET is_active = false WHERE id = :'p1'", $id);
        $restore{$id} = 1;
    }
    my @codes = race([$rd->[0], "/api/users/$s2->{id}", $s1->{token}, $rd->[1]],
                     [$rd->[2], "/api/users/$s1->{id}", $s2->{token}, $rd->[3]]);
    my $wins = grep { /^20[04]$/ } @codes;
    my $lost = grep { /^40[13]$/ } @codes;    # 401 when the loser was already out
    my $left = db("SELECT count(*) FROM users WHERE role = 'SUPER_ADMIN' AND is_active"
                  . " AND deleted_at IS NULL AND id IN (:'p1', :'p2')", $s1->{id}, $s2->{id});
    t($wins == 1 && $lost == 1, "$rd->[4]: one wins (@codes)");
    t($left eq '1', "$rd->[4]: one active SUPER_ADMIN left ($left)");
}
# and with the others restored, the rule still counts every active one
db("UPDATE users SET is_active = true WHERE id = :'p1'", $_) for keys %restore;
%restore = ();
t(db("SELECT count(*) >= 1 FROM users WHERE role = 'SUPER_ADMIN' AND is_active"
     . " AND deleted_at IS NULL") eq 't', 'SUPER_ADMINs remain');
my ($r1, $r2) = (make_user(role => 'SUPER_ADMIN'), make_user(role => 'SUPER_ADMIN'));
my @codes = race(['PATCH', "/api/users/$r2->{id}", $r1->{token}, { role => 'ADMIN' }],
                 ['PATCH', "/api/users/$r1->{id}", $r2->{token}, { role => 'ADMIN' }]);
t((grep { $_ eq '200' } @codes) == 1, "demoted actor cannot demote (@codes)");
