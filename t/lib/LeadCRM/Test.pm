package LeadCRM::Test;
# Helpers for the HTTP tests: JSON requests, users, tokens, and direct
# database access (psql) to check what the API changed.
use strict;
use warnings;
use Exporter 'import';
use JSON::PP ();
use Apache::TestRequest ();
use HTTP::Request ();
use LWP::UserAgent ();

our @EXPORT = qw(api json_of db db_exec new_email register login
                 problem_ok cookie_of pg_ctl url ua make_user);

my $JSON = JSON::PP->new->utf8->canonical;
my $seq = 0;

sub url { Apache::TestRequest::resolve_url($_[0]) }

my $UA;
sub ua {
    $UA ||= LWP::UserAgent->new(keep_alive => 1, max_redirect => 0);
    return $UA;
}

# api(METHOD, PATH, body => HASHREF|STRING, headers => {..}, token => T)
# returns (HTTP::Response, decoded JSON or undef)
sub api {
    my ($method, $path, %o) = @_;
    my $req = HTTP::Request->new($method => url($path));
    if (exists $o{body}) {
        my $b = ref $o{body} ? $JSON->encode($o{body}) : $o{body};
        $req->content($b);
        $req->header('Content-Type' => 'application/json')
            unless exists(($o{headers} || {})->{'Content-Type'});
    }
    $req->header(Authorization => "Bearer $o{token}") if $o{token};
    my %h = %{ $o{headers} || {} };
    for my $k (keys %h) {
        defined $h{$k} ? $req->header($k => $h{$k}) : $req->remove_header($k);
    }
    my $res = ua()->request($req);
    scan_error_body($res);
    return ($res, json_of($res));
}

# Every error body the suite receives is scanned for internals (SQL, driver
# or library messages, file paths, tokens, hashes); t/api/zz_leaks.t fails
# if any was seen.  Results go to files in the test run's directory.
my $LEAK = qr{\b(?:SELECT|INSERT INTO|DELETE FROM|UPDATE \w+ SET)\b|ERROR:|violates
              |constraint|syntax\ error|\bPQ\w+|\bapr_\w+|libjwt|json-c|jansson
              |\.c:\d+|/work/|/usr/|/tmp/|/etc/|/var/|eyJ[A-Za-z0-9_-]{8,}
              |\$2[aby]\$|Segmentation|stack\ trace|Traceback}x;
sub scan_error_body {
    my ($res) = @_;
    my $dir = $ENV{LEADCRM_TEST_DIR} or return;
    return if $res->code < 400;
    my $body = $res->content // '';
    open my $c, '>>', "$dir/errors-scanned.log" or return;
    print $c $res->code, "\n";
    close $c;
    if ($body =~ $LEAK) {
        open my $v, '>>', "$dir/error-leaks.log" or return;
        print $v $res->request->method, ' ', $res->request->uri->path, ' ',
            $res->code, ': ', substr($body, 0, 300), "\n";
        close $v;
    }
}

sub json_of {
    my ($res) = @_;
    my $c = $res->decoded_content // $res->content;
    return undef unless defined $c && length $c;
    my $v = eval { JSON::PP->new->utf8->decode($res->content) };
    return $v;
}

sub new_email { sprintf 'user%d.%d.%d@example.com', $$, time, ++$seq }

# register(email => .., password => ..) -> (res, json)
sub register {
    my (%o) = @_;
    my %body = (email => $o{email} // new_email(),
                password => $o{password} // 'correct horse battery',
                name => $o{name} // 'Test User');
    return api(POST => '/auth/register', body => \%body);
}

# make_user(role => 'USER'|'ADMIN'|'SUPER_ADMIN', %register_args)
# Registers a user through the API, sets its role in the database, logs in
# again so the token is fresh, and returns a hashref
# {id, email, password, token, refresh, user}.
sub make_user {
    my (%o) = @_;
    my $role = delete $o{role} // 'USER';
    my $email = $o{email} // new_email();
    my $password = $o{password} // 'correct horse battery';
    my ($res, $j) = register(%o, email => $email, password => $password);
    die 'register failed: ' . $res->status_line . ' ' . ($res->content // '')
        unless $res->code == 201;
    my $id = $j->{user}{id};
    db("UPDATE users SET role = :'p1' WHERE id = :'p2'", $role, $id)
        if $role ne 'USER';
    ($res, $j) = login($email, $password);
    die 'login failed: ' . $res->status_line unless $res->code == 200;
    return { id => $id, email => $email, password => $password,
             token => $j->{accessToken}, refresh => cookie_of($res),
             user => $j->{user} };
}

sub login {
    my ($email, $password) = @_;
    return api(POST => '/auth/login',
               body => { email => $email, password => $password });
}

# The value of the refresh cookie set by a response, or undef.
sub cookie_of {
    my ($res, $name) = @_;
    $name //= 'leadcrm_refresh';
    for my $sc ($res->header('Set-Cookie')) {
        return $1 if $sc =~ /^\Q$name\E=([^;]*)/;
    }
    return undef;
}

# Runs SQL on the test database (as the module's role) and returns its
# output: one line per row, columns joined by '|'.  Arguments are bound as
# psql variables :'p1', :'p2'... (quoted literals, never interpolated).
sub db {
    my ($sql, @args) = @_;
    require File::Temp;
    my $tmp = File::Temp->new(SUFFIX => '.sql');
    print $tmp $sql, "\n";
    close $tmp;
    my @cmd = ('psql', '-X', '-qAt', '-v', 'ON_ERROR_STOP=1');
    my $i = 0;
    for my $a (@args) { push @cmd, '-v', 'p' . (++$i) . "=$a" }
    push @cmd, '-f', $tmp->filename;
    open(my $fh, '-|', @cmd) or die "psql: $!";
    local $/;
    my $out = <$fh>;
    close $fh or die "psql failed for: $sql\n";
    $out =~ s/\s+\z// if defined $out;
    return $out;
}

sub db_exec { db(@_) }

# pg_ctl('stop'|'start')
sub pg_ctl {
    my ($what) = @_;
    my $cmd = $ENV{LEADCRM_PG_CTL} or die 'LEADCRM_PG_CTL not set';
    system("$cmd $what >/dev/null 2>&1") == 0 or die "pg_ctl $what failed";
}

# Checks the problem+json shape; returns true when all parts are right.
sub problem_ok {
    my ($res, $status, $code) = @_;
    my $j = json_of($res);
    return 0 unless $res->code == $status;
    return 0 unless ($res->header('Content-Type') // '') =~ m{^application/problem\+json};
    return 0 unless ref $j eq 'HASH';
    return 0 unless ($j->{status} // 0) == $status && defined $j->{title}
        && defined $j->{type} && defined $j->{detail};
    return 0 if defined $code && ($j->{code} // '') ne $code;
    return 1;
}

1;
