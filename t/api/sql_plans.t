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

plan tests => 20;

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

# ---- a search page: every match (m) below the cap, the index walk above ------
# Lead lists (lcrm_list narrow_page_sql): the page, its order, the capped
# total and the next cursor are those of the plain ORDER BY over the
# matches, for a term with fewer matches than the cap (sorted from m) and
# one with more (the sort's index walked).
my $few = "qx$$" . time;
my $many = "qy$$" . time;
db("INSERT INTO leads (name, email, company, created_at)"
   . " SELECT 'Lead ' || i, 'l' || i || '.' || :'p1' || '\@example.com', 'Co ' || (i % 7),"
   . " now() - make_interval(secs => i % 40)"       # ties on created_at: id decides
   . " FROM generate_series(1, 37) i", $few);
db("INSERT INTO leads (name, email, created_at)"
   . " SELECT 'Bulk ' || i || ' ' || :'p1', 'b' || i || '\@example.com',"
   . " now() - make_interval(secs => i % 500) FROM generate_series(1, 10050) i", $many);
sub want_ids {
    my ($term, $order, $limit, $offset) = @_;
    my $out = db("SELECT string_agg(id::text, ',' ORDER BY rn) FROM (SELECT id,"
                 . " row_number() OVER (ORDER BY $order) AS rn FROM leads l"
                 . " WHERE deleted_at IS NULL AND (l.name || ' ' || l.email || ' '"
                 . " || coalesce(l.company, '')) ILIKE '%' || :'p1' || '%'"
                 . " ORDER BY $order LIMIT $limit OFFSET $offset) s", $term);
    return $out // '';
}
sub page_of {
    my ($q) = @_;
    my ($res, $j) = api(GET => "/api/leads?$q", token => $admin->{token});
    return ($res->code == 200 ? join(',', map { $_->{id} } @{ $j->{data} }) : 'HTTP ' . $res->code,
            $j->{pagination} || {});
}
my ($got, $p);
($got, $p) = page_of("search=$few&limit=10&page=2");
t($got eq want_ids($few, 'created_at DESC, id DESC', 10, 10) && $p->{total} == 37
  && $p->{totalIsExact} && defined $p->{nextCursor}, 'few: page 2 of 4', $got);
($got, $p) = page_of("search=$few&limit=10&page=4&sort=name");
t($got eq want_ids($few, 'name, id', 10, 30) && $p->{total} == 37 && !defined $p->{nextCursor},
  'few: last page by name', $got);
($got, $p) = page_of("search=" . uc($few) . "&limit=15&sort=-createdAt&page=3");
t($got eq want_ids($few, 'created_at DESC, id DESC', 15, 30) && $p->{total} == 37,
  'few: upper-case term, partial last page', $got);
($got, $p) = page_of("search=$many&limit=20&page=2");
t($got eq want_ids($many, 'created_at DESC, id DESC', 20, 20) && $p->{total} == 10001
  && !$p->{totalIsExact} && defined $p->{nextCursor}, 'many: capped total, walked page', $got);
($got, $p) = page_of("search=bulk+1+$many&limit=20&sort=email");
t($got eq want_ids("bulk 1 $many", 'email, id', 20, 0) && $p->{total} == 1
  && $p->{totalIsExact}, 'term with a space: per-field match', $got);
# the cursor of a search page continues it
($got, $p) = page_of("search=$few&limit=10");
my ($next) = page_of("cursor=$p->{nextCursor}&limit=10");
t($next eq want_ids($few, 'created_at DESC, id DESC', 10, 10), 'few: cursor after page 1', $next);
db("DELETE FROM leads WHERE email LIKE '%' || :'p1' || '%' OR name LIKE '%' || :'p2'", $few, $many);
