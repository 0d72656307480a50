# Exact list totals from the counter rows of sql/0010_lead_counts.sql
# (issue 11): the common lead filters (none, status, source, assignedToId;
# a USER's own leads) report exact totals beyond the 10,001 cap, and the
# counters stay equal to count(*) under concurrent inserts, updates, soft
# deletes, deletes and rolled-back transactions from several sessions.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(-withtestmore);
use LeadCRM::Test;
use File::Temp ();

my $admin = make_user(role => 'ADMIN');
my $owner = make_user(role => 'ADMIN');
my $user = make_user();
my $TAG = 'cnt' . $$ . 'z' . int(rand(1_000_000));

# the counters against count(*): mismatching (dim, key) pairs
my $MISMATCH = <<'SQL';
WITH real AS (
    SELECT k.dim, k.key, count(*) AS n FROM leads r,
           lcrm_lead_count_keys(r.status, r.source, r.assigned_to_id, r.user_id) k
    WHERE r.deleted_at IS NULL GROUP BY 1, 2),
counted AS (SELECT dim, key, sum(n) AS n FROM lead_counts GROUP BY 1, 2)
SELECT count(*) FROM real FULL JOIN counted USING (dim, key)
WHERE coalesce(real.n, 0) <> coalesce(counted.n, 0)
SQL

is db($MISMATCH), 0, 'counters equal count(*) at the start';

{   # beyond the cap: exact for a single common filter
    db("INSERT INTO leads (name, email, assigned_to_id, user_id) SELECT :'p1',"
       . " 'c' || i || '\@ex.com', CAST(:'p2' AS uuid),"
       . " CASE WHEN i <= 10020 THEN CAST(:'p3' AS uuid) END"
       . " FROM generate_series(1, 10050) i", $TAG, $owner->{id}, $user->{id});
    my ($res, $j) = api(GET => "/api/leads?assignedToId=$owner->{id}&limit=1",
                        token => $admin->{token});
    is $j->{pagination}{total}, 10050, 'assignedToId: exact total beyond 10,001';
    ok $j->{pagination}{totalIsExact}, '... totalIsExact';
    is $j->{pagination}{totalPages}, 10050, '... totalPages from it';
    ($res, $j) = api(GET => "/api/leads?limit=1", token => $user->{token});
    is $j->{pagination}{total}, 10020, "USER: exact total of their own leads";
    ok $j->{pagination}{totalIsExact}, '... totalIsExact';
    ($res, $j) = api(GET => "/api/leads?search=$TAG&limit=1",
                     token => $admin->{token});
    is $j->{pagination}{total}, 10001, 'search keeps the capped count';
    ok !$j->{pagination}{totalIsExact}, '... as a lower bound';
    ($res, $j) = api(GET => "/api/leads?assignedToId=$owner->{id}&status=NEW&limit=1",
                     token => $admin->{token});
    ok !$j->{pagination}{totalIsExact}, 'two filters keep the capped count';
    for my $f (['', ''], [status => 'NEW'], [source => 'WEBSITE']) {
        my $q = $f->[0] ? "$f->[0]=$f->[1]&" : '';
        ($res, $j) = api(GET => "/api/leads?${q}limit=1", token => $admin->{token});
        my $want = db('SELECT count(*) FROM leads WHERE deleted_at IS NULL'
                      . ($f->[0] ? ' AND ' . ($f->[0] eq 'status' ? 'status' : 'source')
                                   . " = :'p1'" : ''), $f->[1] || ());
        is $j->{pagination}{total}, $want, "filter '$q': total = count(*)";
        ok $j->{pagination}{totalIsExact}, "filter '$q': exact";
    }
}

{   # concurrent writers
    my @sets = ("status = 'CONTACTED'", "status = 'LOST', lost_reason = 'x'",
                "source = 'ADS'", "assigned_to_id = NULL",
                "assigned_to_id = '$owner->{id}'", "deleted_at = now()",
                "status = 'CONVERTED', converted_at = now()", "notes = 'n'");
    my @kids;
    for my $w (1 .. 6) {
        my $f = File::Temp->new(SUFFIX => '.sql', UNLINK => 0);
        for my $i (1 .. 150) {
            my $pick = "(SELECT id FROM leads WHERE name = '$TAG' AND deleted_at IS NULL"
                     . " ORDER BY random() LIMIT 1)";
            my $op = ($w * 7 + $i) % 6;
            print $f $op == 0 ? "INSERT INTO leads (name, email, source, user_id) VALUES"
                               . " ('$TAG', 'w$w.$i\@ex.com', 'EVENT', '$user->{id}');\n"
                   : $op == 1 ? "UPDATE leads SET $sets[$i % @sets] WHERE id = $pick;\n"
                   : $op == 2 ? "DELETE FROM leads WHERE id = $pick;\n"
                   : $op == 3 ? "BEGIN; INSERT INTO leads (name, email) VALUES"
                                . " ('$TAG', 'rb$w.$i\@ex.com'); UPDATE leads SET"
                                . " status = 'QUALIFIED' WHERE id = $pick; ROLLBACK;\n"
                   : $op == 4 ? "UPDATE leads SET $sets[($i + $w) % @sets] WHERE id IN"
                                . " (SELECT id FROM leads WHERE name = '$TAG' AND"
                                . " deleted_at IS NULL ORDER BY random() LIMIT 5);\n"
                   : "INSERT INTO leads (name, email, status, assigned_to_id) SELECT"
                     . " '$TAG', 'm$w.$i.' || g || '\@ex.com', 'PROPOSAL',"
                     . " '$owner->{id}' FROM generate_series(1, 3) g;\n";
        }
        close $f;
        my $pid = fork // die "fork: $!";
        if (!$pid) {
            exec 'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-o', '/dev/null', '-f', $f->filename;
            exit 1;
        }
        push @kids, [$pid, $f->filename];
    }
    my $ok = 1;
    for my $k (@kids) {
        waitpid $k->[0], 0;
        $ok &&= $? == 0;
        unlink $k->[1];
    }
    ok $ok, 'six concurrent writer sessions ran (no deadlock, no error)';
    is db($MISMATCH), 0, 'counters still equal count(*) for every key';
    my ($res, $j) = api(GET => "/api/leads?assignedToId=$owner->{id}&limit=1",
                        token => $admin->{token});
    is $j->{pagination}{total}, db("SELECT count(*) FROM leads WHERE deleted_at IS NULL"
                                   . " AND assigned_to_id = :'p1'", $owner->{id}),
        'API total after the concurrent writes = count(*)';
}
db("DELETE FROM leads WHERE name = :'p1'", $TAG);
is db($MISMATCH), 0, 'counters equal count(*) after a bulk delete';

done_testing;
