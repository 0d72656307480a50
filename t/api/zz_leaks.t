# Runs last: no error body that the whole suite received contained SQL,
# driver or library messages, file paths, tokens or hashes (see
# scan_error_body in t/lib/LeadCRM/Test.pm).
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(plan ok skip);
use File::Basename qw(basename dirname);
use LeadCRM::Test;

plan tests => 3;

my $dir = $ENV{LEADCRM_TEST_DIR} // '';
# this file's own probe: the scanner itself must catch a leak-shaped body
my ($res) = api(GET => '/auth/profile', token => 'x' x 10);
ok $res->code == 401;
my $scanned = 0;
if (open my $c, '<', "$dir/errors-scanned.log") { $scanned++ while <$c> }
# the count only means something after the whole suite (scripts/test with
# file arguments runs a few files): a partial run skips it, as zz_openapi.t
my %ran;
if (open my $l, '<', "$dir/openapi-validated.log") {
    while (<$l>) { $ran{ basename((split /\t/)[0]) } = 1 }
}
my @missing = grep { !$ran{ basename($_) } && basename($_) !~ /^zz_/ }
              glob(dirname(__FILE__) . '/*.t');
if (@missing) {
    skip('not a full run (' . scalar(@missing) . ' test files did not run)',
         1);
}
else {
    ok $scanned > 300 or print "# only $scanned error responses scanned\n";
}
my @leaks;
if (open my $v, '<', "$dir/error-leaks.log") { @leaks = <$v> }
ok @leaks == 0 or print map { "# $_" } @leaks;
