# What the planner makes of the statements that issue 11 made cheaper:
#  - lcrm_ts() is inlined (sql/0046): before, IMMUTABLE over a STABLE
#    to_char() made every call a separate SQL function run;
#  - the consultation search uses its trigram index (sql/0045): the list's
#    search expression (read from api/lcrm_consultations.c, so the test
#    follows the code) must be the index's to the letter;
#  - and the answers do not change: timestamps render as before, the search
#    finds what the old concat_ws() expression found.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(plan ok);
use LeadCRM::Test;
use File::Basename ();
use File::Spec;

plan tests => 14;

sub t {
    my ($cond, $name, $info) = @_;
    ok($cond ? 1 : 0) or print "# failed: $name\n", map({ "# $_\n" } split /\n/, $info // '');
}

# ---- lcrm_ts is inlined, and renders as before ------------------------------
my $plan = db("EXPLAIN (VERBOSE, COSTS OFF) SELECT lcrm_user_json(u) FROM users u"
              . " WHERE u.id = '00000000-0000-4000-8000-000000000000'");
t($plan !~ /lcrm_ts\(/ && $plan =~ /to_char\(/, 'lcrm_user_json: lcrm_ts inlined', $plan);
t(db("SELECT provolatile FROM pg_proc WHERE proname = 'lcrm_ts'") eq 's', 'lcrm_ts STABLE');
t(db("SELECT lcrm_ts('2026-11-24 06:40:36.1234+00')") eq '2026-11-24T06:40:36.123Z',
  'lcrm_ts: milliseconds');
t(db("SELECT lcrm_ts('2026-11-24 08:40:36.9996+02')") eq '2026-11-24T06:40:37.000Z',
  'lcrm_ts: UTC, rounds like a timestamptz(3) column');
t(db("SELECT lcrm_ts(NULL) IS NULL") eq 't', 'lcrm_ts: NULL');

# ---- the consultation search expression is the index's ----------------------
my $src = File::Spec->catfile(File::Basename::dirname(File::Spec->rel2abs(__FILE__)),
                              qw(.. .. mod_leadcrm api lcrm_consultations.c));
open my $fh, '<', $src or die "$src: $!";
my $c = do { local $/; <$fh> };
close $fh;
my ($frag) = $c =~ /\{"search",\s*((?:"[^"]*"\s*)+),\s*1,\s*lcrm_list_search\}/;
t(defined $frag, 'search fragment found in api/lcrm_consultations.c');
$frag = join '', $frag =~ /"([^"]*)"/g;
(my $where = $frag) =~ s/^\s*AND\s+//;
$where =~ s/%s/'%abc%'/;
# only bitmap paths (or a penalised seq scan): a trigram bitmap is the
# plan exactly when the expression matches the index
$plan = db("SET enable_seqscan = off; SET enable_indexscan = off;"
           . " EXPLAIN (COSTS OFF) SELECT 1 FROM consultations c WHERE $where");
t($plan =~ /Bitmap Index Scan on consultations_search_trgm_idx/,
  'consultation search uses the trigram index', "$where\n$plan");

# ---- the search finds the same consultations as before -------------------------
my $admin = make_user(role => 'ADMIN');
my $tag = "zq$$" . time;
my @rows = (["Ann $tag", "ann.$tag\@example.com", 'Pricing'],
            ['Bob Smith', "bob.$tag\@example.com", 'Onboarding'],
            ['Cy Jones', "cy.$$\@example.com", "Ideas about ETE \U$tag"],
            ['Di Lane', "di.$$\@example.com", 'Nothing here']);
my $i = 0;
for my $r (@rows) {
    $i++;
    db("INSERT INTO consultations (name, email, topic, scheduled_at)"
       . " VALUES (:'p1', :'p2', :'p3', now() + make_interval(days => 300 + 7 * :'p4'))",
       @$r, $i);
}
sub api_ids {
    my ($q) = @_;
    my ($res, $j) = api(GET => "/api/consultations?limit=100&search=$q", token => $admin->{token});
    return $res->code == 200 ? join(',', sort map { $_->{email} } @{ $j->{data} }) : 'HTTP ' . $res->code;
}
sub old_ids {
    my ($s) = @_;
    my $out = db("SELECT string_agg(email, ',' ORDER BY email) FROM consultations c"
                 . " WHERE lower(concat_ws(chr(10), c.name, c.email, c.topic))"
                 . " LIKE lower('%' || :'p1' || '%')", $s);
    return $out // '';
}
for my $s ($tag, uc($tag), "ann.$tag\@", "ete $tag", "bob smith", "$tag\@example", 'nomatch' . $tag) {
    (my $enc = $s) =~ s/([^A-Za-z0-9.])/sprintf '%%%02X', ord $1/ge;
    my ($got, $want) = (api_ids($enc), old_ids($s));
    t($got eq $want && ($s =~ /^nomatch/ || length $got), "search '$s': same result",
      "api: $got\nold: $want");
}
