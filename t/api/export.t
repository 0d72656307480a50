# GET /api/leads/export (API.md part 2 "Leads: series and export"): CSV of
# the lead fields in API order (RFC 4180, CRLF, no BOM), the list's filters
# and sort, formula-injection guard on text cells, several database batches
# in one snapshot, a failure after the header aborts without the final
# chunk, and the parameter and role rules.
use strict;
use warnings FATAL => 'all';
use utf8;
use Apache::Test qw(-withtestmore);
use Apache::TestRequest ();
use LeadCRM::Test;
use Encode qw(decode encode);
use IO::Socket::INET;
use IO::Select;
use POSIX qw(strftime);

my $admin = make_user(role => 'ADMIN');
my $user = make_user();
my $TAG = 'ex' . $$ . 'y' . int(rand(1_000_000));
my @FIELDS = qw(id name email phone company jobTitle message source utmSource
    utmMedium utmCampaign utmTerm utmContent referrer landingPage status score
    estimatedValue assignedToId userId lostReason notes convertedAt createdAt
    updatedAt);
my %NUMERIC = (score => 1, estimatedValue => 1);

# RFC 4180 parser: rows of cells; dies on a malformed document.
sub parse_csv {
    my ($text) = @_;
    my (@rows, @row, $cell);
    pos($text) = 0;
    while (pos($text) < length $text) {
        if ($text =~ /\G"((?:[^"]|"")*)"/gc) { ($cell = $1) =~ s/""/"/g }
        elsif ($text =~ /\G([^,"\r\n]*)/gc) { $cell = $1 }
        push @row, $cell;
        if ($text =~ /\G,/gc) { next }
        elsif ($text =~ /\G\r\n/gc) { push @rows, [@row]; @row = () }
        else { die 'malformed CSV at ' . pos($text) }
    }
    die 'missing final CRLF' if @row;
    return \@rows;
}
sub export {
    my ($q, $token) = @_;
    return api(GET => "/api/leads/export?$q", token => $token // $admin->{token});
}
sub guard { my $v = shift; defined $v && $v =~ /^[=+\-\@\t\r]/ ? "'$v" : $v }

# tricky values
my @tricky = (
    { name => '=1+2', company => 'a,"b"', message => "l1\r\nl2", phone => '+1 555',
      notes => '@SUM(A1)', utm_source => "\tx", lost_reason => '-x' },
    { name => 'Zoë 日本 🚀', company => undef, message => 'plain', phone => undef,
      notes => undef, utm_source => undef, lost_reason => undef },
);
for my $i (0 .. $#tricky) {
    my $t = $tricky[$i];
    db("INSERT INTO leads (name, email, company, message, phone, notes, utm_source,"
       . " lost_reason, status, score, estimated_value, created_at) VALUES (:'p1', :'p2',"
       . " NULLIF(:'p3', '~'), :'p4', NULLIF(:'p5', '~'), NULLIF(:'p6', '~'),"
       . " NULLIF(:'p7', '~'), NULLIF(:'p8', '~'), CASE WHEN :'p8' = '~' THEN 'NEW'"
       . " ELSE 'LOST' END::lcrm_lead_status, :'p9', :'p10', now() - interval '1 day')",
       map { encode('UTF-8', $_ // '~') } $t->{name}, "$TAG.$i\@ex.com",
       $t->{company}, $t->{message}, $t->{phone}, $t->{notes}, $t->{utm_source},
       $t->{lost_reason}, $i ? 7 : 0, $i ? '25000.50' : '0');
}

{
    my ($res) = export("search=$TAG&sort=email");
    is $res->code, 200, 'export -> 200';
    is $res->header('Content-Type'), 'text/csv; charset=utf-8', 'text/csv; charset=utf-8';
    my $day = strftime('%Y%m%d', gmtime);
    like $res->header('Content-Disposition') // '',
        qr/^attachment; filename="leads-\d{8}\.csv"$/, 'Content-Disposition';
    like $res->header('Content-Disposition') // '', qr/leads-\Q$day\E|leads-\d{8}/,
        'filename carries the date in LeadCRMTimeZone';
    like $res->header('Cache-Control') // '', qr/no-store/, 'no-store';
    my $body = $res->content;
    ok substr($body, 0, 3) ne "\xEF\xBB\xBF", 'no BOM';
    my $rows = eval { parse_csv(decode('UTF-8', $body)) };
    ok $rows, 'valid RFC 4180 with CRLF line ends' or diag $@;
    $rows ||= [[]];
    is_deeply $rows->[0], \@FIELDS, 'header row: lead fields in API order';
    is scalar(@$rows), 3, 'two leads';
    my ($lr, $list) = api(GET => "/api/leads?search=$TAG&sort=email",
                          token => $admin->{token});
    for my $i (0 .. 1) {
        my %got; @got{@FIELDS} = @{ $rows->[$i + 1] || [] };
        my $want = $list->{data}[$i];
        my @diff = grep {
            my $w = $want->{$_};
            $NUMERIC{$_} ? (defined $w ? $got{$_} != $w : $got{$_} ne '')
                         : (guard($w) // '') ne $got{$_};
        } @FIELDS;
        ok !@diff, "row $i equals the list's lead (text guarded, null empty)"
            or diag "differs: @diff";
    }
    like $body, qr/,"'=1\+2",|,'=1\+2,/, 'formula cell prefixed with a quote';
    like $body, qr/,'\+1 555,/, 'phone beginning with + is guarded';
    like $body, qr/"a,""b"""/, 'comma and quote cell quoted, quote doubled';
    like $body, qr/"l1\r\nl2"/, 'CRLF inside a cell is quoted';
}

{   # several batches (1000 rows each), every row once, in the sort order
    my $B = "${TAG}b";
    db("INSERT INTO leads (name, email, created_at) SELECT :'p1' || ' ' || (i % 37),"
       . " :'p1' || i || '\@ex.com', timestamptz '2020-01-01' + (i % 500) * interval '1 s'"
       . " FROM generate_series(1, 2345) i", $B);
    for my $sort ('-createdAt', 'name', '-status') {
        my ($res) = export("search=$B&sort=$sort");
        my $rows = eval { parse_csv(decode('UTF-8', $res->content)) } || [[]];
        shift @$rows;
        my %order = ('-createdAt' => 'created_at DESC, id DESC',
                     name => 'name, id', '-status' => 'status DESC, created_at, id');
        my @want = split /\n/, db("SELECT id FROM leads WHERE name LIKE :'p1' || ' %'"
                                  . " AND deleted_at IS NULL ORDER BY $order{$sort}", $B);
        is scalar(@$rows), 2345, "sort=$sort: 2345 rows over three batches";
        is_deeply [map { $_->[0] } @$rows], \@want, "sort=$sort: every row once, in order";
    }
}

for my $bad ('page=1', 'limit=10', 'cursor=abc', 'sort=nope', 'status=GONE',
             'createdFrom=yesterday', 'bogus=1') {
    my ($res) = export($bad);
    ok problem_ok($res, 400, 'invalid_query'), "$bad -> 400 invalid_query";
}
{
    my ($res) = export("search=$TAG", $user->{token});
    ok problem_ok($res, 403, 'forbidden'), 'USER -> 403';
    ($res) = api(GET => "/api/leads/export?search=$TAG");
    is $res->code, 401, 'no token -> 401';
}

# ---- one snapshot, and abort without the final chunk ---------------------
#
# A raw client asks for a large export and stops reading: the server blocks
# writing with its transaction open between batches.  Then (a) a lead that
# would sort last is added: the finished file must not have it; (b) the
# export's database session is terminated: the file must end without the
# final chunk.
my $BIG = "${TAG}g";
db("INSERT INTO leads (name, email, message, created_at)"
   . " SELECT :'p1', :'p1' || i || '\@ex.com', repeat('m', 3000),"
   . " timestamptz '2021-01-01' + i * interval '1 s' FROM generate_series(1, 12000) i",
   $BIG);

sub raw_export {
    my ($query, $during) = @_;
    my ($host, $port) = split /:/, Apache::TestRequest::hostport();
    my $s = IO::Socket::INET->new(PeerAddr => $host, PeerPort => $port,
                                  Proto => 'tcp') or die "connect: $!";
    print $s "GET /api/leads/export?$query HTTP/1.1\r\nHost: $host\r\n"
        . "Authorization: Bearer $admin->{token}\r\nConnection: close\r\n\r\n";
    my $buf = '';
    my $sel = IO::Select->new($s);
    while (length($buf) < 65536 && $sel->can_read(60)) {
        sysread($s, $buf, 65536, length $buf) or last;
    }
    # wait (bounded) until the export's session sits idle inside its
    # transaction (the server is blocked writing to us)
    my $idle = 0;
    for (1 .. 300) {
        $idle = db("SELECT count(*) FROM pg_stat_activity WHERE state ="
                   . " 'idle in transaction' AND query LIKE '%l.utm_content%'"
                   . " AND pid <> pg_backend_pid()");
        last if $idle;
        select undef, undef, undef, 0.1;
    }
    $during->();
    while ($sel->can_read(60)) {
        sysread($s, $buf, 1 << 20, length $buf) or last;
    }
    close $s;
    my ($head, $body) = split /\r\n\r\n/, $buf, 2;
    my ($plain, $complete) = ('', 0);
    while ($body =~ /\G([0-9a-fA-F]+)\r\n/gc) {
        my $n = hex $1;
        if ($n == 0) { $complete = $body =~ /\G\r\n/gc ? 1 : 0; last }
        last if length($body) < pos($body) + $n + 2;
        $plain .= substr($body, pos($body), $n);
        pos($body) = pos($body) + $n + 2;
    }
    return ($head, $plain, $complete, $idle);
}

{
    my $late = "${BIG}late";
    my ($head, $plain, $complete, $idle) = raw_export(
        "search=$BIG&sort=createdAt",
        sub { db("INSERT INTO leads (name, email, created_at) VALUES"
                 . " (:'p1', :'p2', '2030-01-01')", $BIG, "$late\@ex.com") });
    like $head, qr{^HTTP/1\.1 200}, 'large export -> 200';
    ok $idle, 'the export held its transaction open between batches';
    ok $complete, 'complete transfer ends with the final chunk';
    my @lines = split /\r\n/, $plain;
    is scalar(@lines), 12001, 'header + 12000 rows: the lead added mid-export is absent';
    ok !grep({ /\Q$late\E/ } @lines), 'one snapshot from the first batch to the last';
}
{
    my ($head, $plain, $complete, $idle) = raw_export(
        "search=$BIG&sort=createdAt",
        sub { db("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE"
                 . " state = 'idle in transaction' AND query LIKE '%l.utm_content%'"
                 . " AND pid <> pg_backend_pid()") });
    like $head, qr{^HTTP/1\.1 200}, 'export -> 200 before the failure';
    ok $idle, 'the export was between batches when its session was killed';
    ok !$complete, 'failure after the header: no final chunk';
    my @lines = split /\r\n/, $plain;
    ok @lines < 12001, 'the file is truncated, not silently short of rows'
        or diag scalar(@lines) . ' lines';
}
{
    # every export is audited as lead.exported with its filters
    my $before = db("SELECT count(*) FROM audit_log WHERE action = 'lead.exported'"
                    . " AND actor_id = :'p1'", $admin->{id});
    my ($res) = api(GET => "/api/leads/export?status=LOST&search=$TAG", token => $admin->{token});
    ok $res->code == 200, 'an export with filters';
    my $details = db("SELECT details::text FROM audit_log WHERE action = 'lead.exported'"
                     . " AND actor_id = :'p1' ORDER BY id DESC LIMIT 1", $admin->{id});
    ok db("SELECT count(*) FROM audit_log WHERE action = 'lead.exported'"
          . " AND actor_id = :'p1'", $admin->{id}) == $before + 1
       && $details =~ /"status": "LOST"/ && $details =~ /"search"/,
       'is audited (lead.exported) with its filters' or diag $details;
}
db("DELETE FROM leads WHERE name LIKE :'p1' || '%'", $TAG);

done_testing;
