package LeadCRM::OIDC;
# A scripted browser for sign-in through mod_auth_openidc and the test
# OpenID provider (t/oidc/provider.mjs, started by scripts/test): follows
# redirects with a cookie jar, fills the provider's login form (the login
# name is the account id; any password) and confirms its consent form,
# and stops at the redirect to the landing URL (never fetched).
use strict;
use warnings;
use Exporter 'import';
use HTML::Form;
use HTTP::Cookies;
use HTTP::Request;
use JSON::PP;
use LWP::UserAgent;
use URI;
use LeadCRM::Test;

our @EXPORT = qw(provider_url provider_account browser signin server_base);

sub provider_url {
    return $ENV{LEADCRM_TEST_OIDC_URL}
        // die "LEADCRM_TEST_OIDC_URL is not set (run through scripts/test)\n";
}

# The test server as http://127.0.0.1:PORT (the provider accepts that
# redirect URI only).
sub server_base {
    my $u = URI->new(LeadCRM::Test::url('/'));
    return 'http://127.0.0.1:' . $u->port;
}

# provider_account(sub => S, email => E, email_verified => B, name => N):
# adds (or replaces) an account at the provider; claims left out are absent.
sub provider_account {
    my (%a) = @_;
    my %c = (sub => $a{sub});
    $c{email} = $a{email} if exists $a{email};
    $c{email_verified} = $a{email_verified} ? JSON::PP::true : JSON::PP::false
        if exists $a{email_verified};
    $c{name} = $a{name} if exists $a{name};
    my $res = LWP::UserAgent->new->post(provider_url() . '/test/accounts',
        'Content-Type' => 'application/json',
        Content => JSON::PP->new->utf8->encode(\%c));
    die 'provider account: ' . $res->status_line unless $res->code == 204;
}

# A fresh browser: its own cookie jar, no automatic redirects.
sub browser {
    return LWP::UserAgent->new(max_redirect => 0,
                               cookie_jar => HTTP::Cookies->new);
}

sub _ours {
    my ($uri) = @_;
    return index($uri, server_base() . '/') == 0;
}

# signin(sub => S, policy => 'link,provision', ua => BROWSER,
#        headers => {..}, path => '/auth/oidc/login?...') -> {res => the
#        last response of /auth/oidc/login, first => its first response,
#        location => where the browser was sent outside the test servers,
#        provider_login => 1 when the provider's login form was filled}
sub signin {
    my (%o) = @_;
    my $ua = $o{ua} // browser();
    # mod_auth_openidc redirects browsers only (others get 401)
    my %h = (Accept => 'text/html,application/xhtml+xml;q=0.9,*/*;q=0.8',
             %{ $o{headers} // {} });
    $h{'X-Test-OIDC'} = $o{policy} if $o{policy};
    my $req = HTTP::Request->new(
        GET => server_base() . ($o{path} // '/auth/oidc/login'));
    my %out = (provider_login => 0, hops => 0);
    for my $hop (1 .. 30) {
        $out{hops} = $hop;
        $req->header($_ => $h{$_}) for keys %h;
        my $res = $ua->request($req);
        my $loc = $res->is_redirect
                  ? URI->new_abs($res->header('Location'), $req->uri) : undef;
        if (_ours($req->uri) && $req->uri->path eq '/auth/oidc/login') {
            # mod_auth_openidc's own redirects are not the module's answers
            if (!$loc || (!_ours($loc) && index($loc, provider_url()) != 0)) {
                LeadCRM::Test::scan_error_body($res);
                LeadCRM::Test::openapi_validate($req, $res);
            }
            $out{first} //= $res;
            $out{res} = $res;
        }
        $out{last} = $res;
        if ($loc) {
            if (!_ours($loc) && index($loc, provider_url()) != 0) {
                $out{location} = "$loc";
                return \%out;
            }
            $req = HTTP::Request->new(GET => $loc);
            next;
        }
        my @forms = $res->code == 200 ? HTML::Form->parse($res) : ();
        return \%out unless @forms;
        my $form = $forms[0];
        if ($form->find_input('login')) {
            $form->value(login => $o{sub});
            $form->value(password => 'any password') if $form->find_input('password');
            $out{provider_login} = 1;
        }
        $req = $form->click;
    }
    return \%out;
}

1;
