# Runs last: no error body that the whole suite received contained SQL,
# driver or library messages, file paths, tokens or hashes (see
# scan_error_body in t/lib/LeadCRM/Test.pm).
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(plan ok);
use LeadCRM::Test;

plan tests => 3;

my $dir = $ENV{LEADCRM_TEST_DIR} // '';
# this file's own probe: the scanner itself must catch a leak-shaped body
my ($res) = api(GET => '/auth/profile', token => 'x' x 10);
ok $res->code == 401;
my $scanned = 0;
if (open my $c, '<', "$dir/errors-scanned.log") { $scanned++ while <$c> }
ok $scanned > 300 or print "# only $scanned error responses scanned\n";
my @leaks;
if (open my $v, '<', "$dir/error-leaks.log") { @leaks = <$v> }
ok @leaks == 0 or print map { "# $_" } @leaks;
