# The OpenAPI description cannot drift from the implementation: runs last
# (zz_) and reads what LeadCRM::Test::api() recorded while every other test
# file ran (each response validated against docs/openapi.yaml).  Fails on
# any violation, on too few validated responses, and on a documented
# operation that no test answered with a success; also checks the spec
# itself against the OpenAPI 3.0 schema and that httpd serves it
# (/openapi.yaml) and the built docs (/docs/).
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(-withtestmore);
use LeadCRM::Test;
use LeadCRM::Test qw(openapi_spec openapi_spec_file);
use File::Basename qw(basename dirname);

my $MIN_VALIDATED = 500;    # a full run validates well over a thousand
my $dir = $ENV{LEADCRM_TEST_DIR};
plan skip_all => 'LEADCRM_TEST_DIR not set (run through scripts/test)'
    unless $dir;

sub lines_of {
    my ($file) = @_;
    open my $fh, '<', "$dir/$file" or return ();
    chomp(my @l = <$fh>);
    return @l;
}

# ---- the document itself
my $spec = openapi_spec();
my @spec_errors = @{ $spec->errors };
ok !@spec_errors, 'docs/openapi.yaml is a valid OpenAPI 3.0 document'
    or diag join "\n", @spec_errors;

# ---- served by httpd (conf/leadcrm.conf Alias, LEADCRM_DOCS_DIR)
my $text = do {
    open my $fh, '<:raw', openapi_spec_file() or die $!;
    local $/;
    <$fh>;
};
my ($res) = api(GET => '/openapi.yaml');
is $res->code, 200, 'GET /openapi.yaml';
ok $res->content eq $text, '/openapi.yaml is docs/openapi.yaml';
SKIP: {
    my $site = dirname(openapi_spec_file()) . '/site/index.html';
    skip 'docs not built (scripts/docs)', 2 unless -f $site;
    ($res) = api(GET => '/docs/');
    is $res->code, 200, 'GET /docs/';
    like $res->content, qr/mod_leadcrm API/, '/docs/ is the Redoc page';
}

# ---- what the other test files saw
my @violations = lines_of('openapi-violations.log');
ok !@violations, 'every response matched docs/openapi.yaml'
    or diag scalar(@violations) . " violation(s):\n" . join "\n", @violations;

my @validated = map { [split /\t/] } lines_of('openapi-validated.log');
my %files = map { (basename($_->[0]) => 1) } @validated;
my @suite = grep { basename($_) ne basename($0) }
            glob(dirname(__FILE__) . '/*.t');
my @missing = grep { !$files{ basename($_) } } @suite;
diag scalar(@validated) . ' responses validated from ' . keys(%files)
     . ' test files';
SKIP: {
    skip 'not a full run (' . scalar(@missing) . ' test files did not run)', 2
        if @missing;
    cmp_ok scalar(@validated), '>', $MIN_VALIDATED,
        "more than $MIN_VALIDATED responses validated";
    # every documented operation got at least one success
    my %ok;
    for my $v (@validated) {
        my (undef, undef, $label, $status) = @$v;
        # (a redirect is the success of GET /auth/oidc/login)
        $ok{$label} = 1 if $status =~ /^2/ || "$label $status" eq 'get /auth/oidc/login 302';
    }
    my @untested;
    my $paths = $spec->data->{paths};
    for my $p (sort keys %$paths) {
        for my $m (qw(get put post delete patch)) {
            push @untested, "$m $p" if $paths->{$p}{$m} && !$ok{"$m $p"};
        }
    }
    ok !@untested, 'every documented operation answered a success'
        or diag "never a 2xx: @untested";
}

done_testing();
