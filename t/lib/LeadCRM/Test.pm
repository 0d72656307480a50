package LeadCRM::Test;
# Helpers for the HTTP tests: JSON requests, users, tokens, and direct
# database access (psql) to check what the API changed.
#
# Every response api() receives for a path of the API is validated against
# docs/openapi.yaml (see "OpenAPI validation" below); violations are
# appended to $LEADCRM_TEST_DIR/openapi-violations.log and
# t/api/zz_openapi.t, which runs last, fails on any.
use strict;
use warnings;
use Exporter 'import';
use JSON::PP ();
use Apache::TestRequest ();
use HTTP::Request ();
use LWP::UserAgent ();

our @EXPORT = qw(api json_of db db_exec new_email register login
                 problem_ok cookie_of pg_ctl url ua make_user);
our @EXPORT_OK = qw(openapi_spec openapi_spec_file openapi_log
                    openapi_validate);

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
    openapi_validate($req, $res);
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
    # the instance is the random request id (mod_unique_id: base64url, so
    # e.g. "-PQAAAAI" looked like a libpq name) and trace id: not scanned
    $body =~ s/"instance":"urn:request:[A-Za-z0-9_@-]*(?:;trace=[0-9a-f]{32})?"//g;
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

# ---- OpenAPI validation ------------------------------------------------------
#
# docs/openapi.yaml is loaded once per test process (JSON::Validator, Debian's
# libjson-validator-perl).  openapi_validate() checks one response:
#  - paths outside the API (/static-admin, /no/such/url, /openapi.yaml, /docs)
#    are skipped;
#  - TRACE must match components/responses/TraceDisabled (httpd's 405);
#  - a CORS preflight must match components/responses/Preflight (204);
#  - a path no template matches must be components/responses/NotFound (404);
#  - a method none of the matching templates has must be
#    components/responses/MethodNotAllowed (405) whose Allow lists exactly
#    the methods of those templates (the router's answer);
#  - otherwise the status must be listed under the operation, the content
#    type must be one the response declares (and a body-less response must
#    have no body), a JSON body must match its schema, and the declared
#    headers must be present when required and match their schemas.
# A violation is one line in $LEADCRM_TEST_DIR/openapi-violations.log (and a
# "# openapi:" comment in the test output); every validated response is one
# line in openapi-validated.log, which t/api/zz_openapi.t reads.

my $API_PATHS =
    qr{^/(?:health|auth|metrics|api/(?:users|leads|consultations|keys|audit|notifications))(?:/|\z)};
my @HTTP_METHODS = qw(get put post delete options head patch trace);
my $OPENAPI;    # {spec => JSON::Validator::Schema::OpenAPIv3, routes => [...]}

sub openapi_spec_file {
    require File::Basename;
    require File::Spec;
    my $here = File::Basename::dirname(File::Spec->rel2abs(__FILE__));
    return File::Spec->catfile($here, qw(.. .. .. docs openapi.yaml));
}

# The spec and its path templates, most literal segments first (the
# router prefers literal segments: /api/leads/stats over /api/leads/{id}).
sub _openapi {
    return $OPENAPI if $OPENAPI;
    require JSON::Validator::Schema::OpenAPIv3;
    require YAML::XS;
    no warnings "once";
    local $YAML::XS::Boolean = "JSON::PP";
    my $spec = JSON::Validator::Schema::OpenAPIv3->new(
        YAML::XS::LoadFile(openapi_spec_file()));
    my @routes;
    for my $t (keys %{ $spec->data->{paths} }) {
        my @segs = split m{/}, $t, -1;
        my $re = join '/', map { /^\{/ ? '[^/]+' : quotemeta } @segs;
        my $item = $spec->data->{paths}{$t};
        push @routes, { path => $t, re => qr{^$re\z},
                        literal => scalar(grep { !/^\{/ } @segs),
                        methods => [grep { $item->{$_} } @HTTP_METHODS] };
    }
    @routes = sort { $b->{literal} <=> $a->{literal} || $a->{path} cmp $b->{path} }
              @routes;
    return $OPENAPI = { spec => $spec, routes => \@routes };
}

sub openapi_spec { _openapi()->{spec} }

# Follows local $refs ("#/components/...") to the object they name.
sub _deref {
    my ($spec, $node) = @_;
    my $n = 0;
    while (ref $node eq 'HASH' && defined $node->{'$ref'}) {
        die "\$ref loop at $node->{'$ref'}\n" if ++$n > 20;
        (my $ptr = $node->{'$ref'}) =~ s/^#//;
        $node = $spec->get($ptr) // die "unresolved \$ref $node->{'$ref'}\n";
    }
    return $node;
}

# Appends a line to a log in $LEADCRM_TEST_DIR (several processes append).
sub openapi_log {
    my ($name, $line) = @_;
    my $dir = $ENV{LEADCRM_TEST_DIR} or return;
    open my $fh, '>>', "$dir/$name" or return;
    print $fh "$line\n";
    close $fh;
}

sub _media_type {
    my ($ct) = @_;
    return '' unless defined $ct;
    $ct =~ s/;.*//s;
    $ct =~ s/\s+//g;
    return lc $ct;
}

# Checks one header value against its schema (header values are strings;
# integer and number schemas get the numeric value).
sub _header_errors {
    my ($spec, $name, $value, $schema) = @_;
    $schema = _deref($spec, $schema);
    my $type = $schema->{type} // 'string';
    if ($type eq 'integer' || $type eq 'number') {
        return ("header $name: '$value' is not a number")
            unless $value =~ /^-?[0-9]+(?:\.[0-9]+)?\z/;
        $value += 0;
    }
    return map { "header $name: $_" } $spec->validate($value, $schema);
}

# Validates $res against one response object; returns the violations.
sub _response_errors {
    my ($spec, $resp, $res, $head) = @_;
    my @e;
    $resp = _deref($spec, $resp);
    my $headers = $resp->{headers} || {};
    for my $name (sort keys %$headers) {
        my $h = _deref($spec, $headers->{$name});
        my @vals = $res->header($name);
        if (!@vals) {
            push @e, "header $name is required" if $h->{required};
            next;
        }
        push @e, _header_errors($spec, $name, join(', ', @vals),
                                $h->{schema} || {});
    }
    return @e if $head;
    my $content = $resp->{content} || {};
    my $body = $res->content // '';
    if (!%$content) {
        push @e, 'body present but the response declares none' if length $body;
        return @e;
    }
    return (@e, 'body missing') unless length $body;
    my $mt = _media_type(scalar $res->header('Content-Type'));
    my $media = $content->{$mt};
    return (@e, "content type '$mt' not declared (declared: "
                . join(', ', sort keys %$content) . ')') unless $media;
    if ($mt !~ m{^application/(?:[a-z.+-]+\+)?json\z}) {   # text
        local $spec->{validate_response} = 1;
        push @e, map { "body $_" }
                 $spec->validate($body, $media->{schema} || {});
        return @e;
    }
    require Mojo::JSON;
    my $data = eval { Mojo::JSON::decode_json($body) };
    return (@e, "body is not JSON: $@") if $@;
    local $spec->{validate_response} = 1;
    push @e, map { "body $_" } $spec->validate($data, $media->{schema} || {});
    return @e;
}

sub _is_preflight {
    my ($req) = @_;
    return uc($req->method) eq 'OPTIONS' && defined $req->header('Origin')
        && defined $req->header('Access-Control-Request-Method');
}

# Picks what the response must match: (label, response object, expected
# status or undef, extra violations).
sub _expected {
    my ($o, $req, $res, $path) = @_;
    my $spec = $o->{spec};
    my $method = uc $req->method;
    if ($method eq 'TRACE') {    # httpd's own answer (TraceEnable off)
        return ('trace', $spec->get('/components/responses/TraceDisabled'),
                405);
    }
    if (_is_preflight($req)) {
        return ('preflight', $spec->get('/components/responses/Preflight'), 204);
    }
    my @match = grep { $path =~ $_->{re} } @{ $o->{routes} };
    if (!@match) {
        return ('unknown path', $spec->get('/components/responses/NotFound'),
                404);
    }
    my $m = $method eq 'HEAD' ? 'get' : lc $method;
    for my $r (@match) {
        my $op = $spec->data->{paths}{ $r->{path} }{$m} or next;
        my $resp = $op->{responses}{ $res->code };
        return ("$m $r->{path}", $resp, undef,
                $resp ? () : ('status ' . $res->code . ' not documented'));
    }
    my %want = map { (uc($_) => 1) } map { @{ $_->{methods} } } @match;
    my %got = map { (uc($_) => 1) }
              split /\s*,\s*/, ($res->header('Allow') // '');
    my @extra;
    push @extra, 'Allow "' . ($res->header('Allow') // '') . '" is not '
        . join(', ', sort keys %want)
        if join(',', sort keys %got) ne join(',', sort keys %want);
    return ("other method on $match[0]{path}",
            $spec->get('/components/responses/MethodNotAllowed'), 405, @extra);
}

# Validates one response of api(); records it and any violation.
sub openapi_validate {
    my ($req, $res) = @_;
    my $path = $req->uri->path;
    return 1 unless $path =~ $API_PATHS;    # not an API path: skipped
    my $method = uc $req->method;
    my ($label, @e) = ('?');
    eval {
        my $o = _openapi();
        my ($what, $resp, $status, @extra) = _expected($o, $req, $res, $path);
        $label = $what;
        @e = @extra;
        push @e, "status " . $res->code . ", expected $status"
            if defined $status && $res->code != $status;
        push @e, _response_errors($o->{spec}, $resp, $res, $method eq 'HEAD')
            if $resp;
        1;
    } or push @e, "validator failed: $@";
    openapi_log('openapi-validated.log',
                join "\t", $0, $method, $label, $res->code);
    for my $e (@e) {
        (my $line = "$0: $method $path -> " . $res->code . " ($label): $e")
            =~ s/\s*\n\s*/ /g;
        openapi_log('openapi-violations.log', $line);
        print "# openapi: $line\n";
    }
    return !@e;
}

1;
