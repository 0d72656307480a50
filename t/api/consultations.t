# /api/consultations (API.md "Consultations", "Booking" and the details
# clients rely on): booking and its validation, the overlap rule under
# concurrency, availability, lists and reads with USER isolation, changes
# (USER limits, status transitions, reschedule overlap), cancellation, and
# the daylight-saving vectors of lcrm_business_slots().
#
# The server runs the default booking rules: Mon-Fri 09:00-17:00 UTC, no
# minimum notice, 180 days ahead at most.  Bookings land on future
# weekdays computed from the current time, each test on its own times so
# that none collides with another (unassigned consultations all share one
# overlap group).
use strict;
use warnings FATAL => 'all';
use Apache::Test ();
use Test::More;
use LeadCRM::Test;
use POSIX qw(strftime);
use Time::Local ();
use JSON::PP ();
use HTTP::Request ();
use LWP::UserAgent ();

# ---------------------------------------------------------------- time helpers

my $DAY = 86400;
my $NOW = time;
my $TODAY = $NOW - $NOW % $DAY;
my $WDAY = ((gmtime $NOW)[6] + 6) % 7;               # Monday = 0
my $MONDAY = $TODAY + (7 - $WDAY) * $DAY;            # next Monday, 00:00Z

sub iso { strftime('%Y-%m-%dT%H:%M:%S.000Z', gmtime $_[0]) }
sub ymd { strftime('%Y-%m-%d', gmtime $_[0]) }

# epoch of week W (0 = next week), day D (0 = Monday), "HH:MM" UTC
sub at_epoch {
    my ($w, $d, $hm) = @_;
    my ($h, $m) = split /:/, $hm;
    return $MONDAY + ($w * 7 + $d) * $DAY + $h * 3600 + $m * 60;
}
sub at { iso(at_epoch(@_)) }
sub date_of { ymd(at_epoch($_[0], $_[1], '00:00')) }

# 00:00Z of the first weekday at least N days from today
sub weekday_after {
    my $t = $TODAY + $_[0] * $DAY;
    $t += $DAY while ((gmtime $t)[6] + 6) % 7 > 4;
    return $t;
}

# A fresh unassigned 30-minute slot for tests that do not care when.
my $fresh = 0;
sub fresh {
    my $n = $fresh++;
    my ($w, $d, $s) = (11 + int($n / 80), int($n / 16) % 5, $n % 16);
    return at($w, $d, sprintf('%02d:%02d', 9 + int($s / 2), 30 * ($s % 2)));
}

# ---------------------------------------------------------------- API helpers

sub book {
    my (%o) = @_;
    my $token = delete $o{token};
    my $headers = delete $o{headers} // {};
    my %body = (name => 'Ada Booker', email => new_email(),
                topic => 'Cloud migration', scheduledAt => fresh(), %o);
    delete $body{$_} for grep { !defined $body{$_} } keys %body;  # absent
    return api(POST => '/api/consultations', body => \%body,
               headers => $headers, $token ? (token => $token) : ());
}

sub booked {
    my ($res, $j) = book(@_);
    die 'booking failed: ' . $res->status_line . ' ' . ($res->content // '')
        unless $res->code == 201;
    return $j;
}

sub errors_of { [ map { $_->{field} } @{ ($_[0] // {})->{errors} || [] } ] }

# ok when the response is 400 validation_failed naming $field
sub invalid_ok {
    my ($res, $j, $field, $name) = @_;
    ok(problem_ok($res, 400, 'validation_failed')
       && (grep { $_ eq $field } @{ errors_of($j) }), $name)
        or diag($res->status_line . ' ' . ($res->content // ''));
}

sub message_of {
    my ($j, $field) = @_;
    for my $e (@{ ($j // {})->{errors} || [] }) {
        return $e->{message} if $e->{field} eq $field;
    }
    return '';
}

# db() without the trailing newline, decoded from UTF-8
sub dbv {
    my $v = db(@_);
    return undef unless defined $v;
    $v =~ s/\n\z//;
    utf8::decode($v);
    return $v;
}

sub count_consultations { dbv('SELECT count(*) FROM consultations') }

my $user  = make_user();
my $user2 = make_user();
my $admin = make_user(role => 'ADMIN');
my $admin2 = make_user(role => 'SUPER_ADMIN');

# ================================================================ booking

{
    my $email = 'Mixed.Case' . $$ . '@Example.COM';
    my $when = at(0, 0, '10:00');
    my ($res, $j) = book(email => "  $email ", scheduledAt => $when,
                         name => 'Zoë Client', topic => 'Data strategy');
    is($res->code, 201, 'anonymous booking -> 201');
    my $id = $j->{id} // '';
    is($res->header('Location'), "/api/consultations/$id", 'Location header');
    like($res->header('Cache-Control') // '', qr/no-store/, 'no-store');
    is($j->{email}, lc $email, 'email trimmed and lowercased');
    is($j->{scheduledAt}, $when, 'scheduledAt echoed');
    is_deeply([@$j{qw(status durationMinutes timezone meetingType userId
                      consultantId meetingLink cancelledAt completedAt)}],
              ['SCHEDULED', 30, 'UTC', 'VIDEO', undef, undef, undef, undef,
               undef], 'defaults');
    is($j->{name}, 'Zoë Client', 'unicode name round-trips');
    ok(JSON::PP::is_bool($j->{followUpRequired}) && !$j->{followUpRequired},
       'followUpRequired is JSON false');
    my @keys = sort keys %$j;
    is(scalar(@keys), 23, 'consultation has the 23 API fields');
    my $lead = dbv("SELECT email, source, name, coalesce(user_id::text, '-')"
                  . " FROM leads WHERE id = :'p1'", $j->{leadId} // '');
    is($lead, lc($email) . '|WEBSITE|Zoë Client|-',
       'a WEBSITE lead was created from the booking');

    # issue 10.10: an anonymous booking never links an existing lead, so
    # its leadId tells nothing about who is already a lead
    my $j2 = booked(email => uc $email);
    isnt($j2->{leadId}, $j->{leadId}, 'anonymous rebooking: a new lead');
    is(dbv("SELECT count(*) FROM leads WHERE lower(email) = :'p1'", lc $email),
       2, 'anonymous bookings never share a lead');

    # an existing lead (created elsewhere) is linked by email for ADMIN+ only
    my $e3 = new_email();
    my $lead3 = dbv("INSERT INTO leads (name, email, source) VALUES"
                   . " ('Old Lead', :'p1', 'REFERRAL') RETURNING id", $e3);
    isnt(booked(email => $e3)->{leadId}, $lead3,
         'anonymous: existing lead not revealed nor linked');
    my $mine = booked(email => $e3, token => $user->{token})->{leadId};
    isnt($mine, $lead3, "USER: someone else's lead not revealed nor linked");
    is(booked(email => $e3, token => $user->{token})->{leadId}, $mine,
       'USER: a lead the caller owns is linked again');
    is(dbv("SELECT user_id FROM leads WHERE id = :'p1'", $mine // ''),
       $user->{id}, 'USER: the lead linked is one the caller owns');
    is(booked(email => $e3, token => $admin->{token})->{leadId}, $mine,
       'ADMIN: the newest live lead with that email is linked');
    is(dbv("SELECT count(*) FROM leads WHERE lower(email) = :'p1'", $e3), 3,
       'leads: the old one, the anonymous one, the USER one (once)');
    # a deleted lead with that email is not linked
    my $e4 = new_email();
    my $dead = dbv("INSERT INTO leads (name, email, deleted_at) VALUES"
                  . " ('Gone', :'p1', now()) RETURNING id", $e4);
    isnt(booked(email => $e4, token => $admin->{token})->{leadId}, $dead,
         'deleted lead not linked');
}

{   # with a token: userId = caller; the new lead belongs to the caller
    my ($res, $j) = book(token => $user->{token}, phone => '+33 1 23 45 67 89',
                         notes => "line one\nline two\ttab",
                         durationMinutes => 60, timezone => 'Europe/Paris',
                         meetingType => 'PHONE',
                         consultantId => $admin->{id},
                         scheduledAt => at(0, 1, '14:00'));
    is($res->code, 201, 'booking with a token -> 201');
    is($j->{userId}, $user->{id}, 'userId is the caller');
    is_deeply([@$j{qw(phone notes durationMinutes timezone meetingType
                      consultantId)}],
              ['+33 1 23 45 67 89', "line one\nline two\ttab", 60,
               'Europe/Paris', 'PHONE', $admin->{id}], 'optional fields');
    is(dbv("SELECT user_id FROM leads WHERE id = :'p1'", $j->{leadId} // ''),
       $user->{id}, 'lead created for a signed-in caller has their userId');
    is(dbv("SELECT ends_at = scheduled_at + interval '60 minutes'"
          . " FROM consultations WHERE id = :'p1'", $j->{id} // ''), 't',
       'ends_at follows the duration');

    ($res) = book(token => 'not.a.token');
    ok(problem_ok($res, 401, 'invalid_token'), 'bad Bearer on booking -> 401');
}

{   # leadId rules
    my $own = dbv("INSERT INTO leads (name, email, user_id) VALUES"
                 . " ('Mine', :'p1', :'p2') RETURNING id", new_email(),
                 $user->{id});
    my $other = dbv("INSERT INTO leads (name, email, user_id) VALUES"
                   . " ('Theirs', :'p1', :'p2') RETURNING id", new_email(),
                   $user2->{id});
    my $deleted = dbv("INSERT INTO leads (name, email, deleted_at) VALUES"
                     . " ('Gone', :'p1', now()) RETURNING id", new_email());
    my ($res, $j) = book(token => $user->{token}, leadId => uc $own);
    is($res->code, 201, 'USER may book for their own lead');
    is($j->{leadId} // '', $own, 'leadId kept (lowercased)');
    ($res, $j) = book(token => $user->{token}, leadId => $other);
    invalid_ok($res, $j, 'leadId', "USER cannot use another user's lead");
    ($res, $j) = book(leadId => $own);
    invalid_ok($res, $j, 'leadId', 'anonymous caller cannot pass a leadId');
    ($res, $j) = book(token => $admin->{token}, leadId => $other);
    is($res->code, 201, 'ADMIN may book for any live lead');
    is($j->{leadId} // '', $other, 'admin booking linked to that lead');
    ($res, $j) = book(token => $admin->{token}, leadId => $deleted);
    invalid_ok($res, $j, 'leadId', 'deleted lead refused');
    ($res, $j) = book(token => $admin->{token},
                      leadId => '00000000-0000-4000-8000-000000000000');
    invalid_ok($res, $j, 'leadId', 'unknown lead refused');
    ($res, $j) = book(leadId => 'nope');
    invalid_ok($res, $j, 'leadId', 'malformed leadId refused');
}

# ================================================================ validation

{
    my $before = count_consultations();
    my ($res, $j);
    my $past = iso($TODAY - 6 * $DAY + 10 * 3600);
    ($res, $j) = book(scheduledAt => $past);
    invalid_ok($res, $j, 'scheduledAt', 'past -> 400');
    like(message_of($j, 'scheduledAt'), qr/future/, 'past: clear message');
    ($res, $j) = book(scheduledAt => iso($NOW - 60));
    invalid_ok($res, $j, 'scheduledAt', 'a minute ago -> 400');

    ($res, $j) = book(scheduledAt => at(1, 0, '08:45'));
    invalid_ok($res, $j, 'scheduledAt', 'before opening -> 400');
    like(message_of($j, 'scheduledAt'),
         qr/business hours \(Mon-Fri 09:00-17:00 UTC\)/,
         'outside hours: message names the hours');
    ($res, $j) = book(scheduledAt => at(1, 0, '16:45'));
    invalid_ok($res, $j, 'scheduledAt', 'ending after closing -> 400');
    ($res, $j) = book(scheduledAt => at(1, 0, '15:00'), durationMinutes => 150);
    invalid_ok($res, $j, 'scheduledAt', 'long meeting past closing -> 400');
    ($res, $j) = book(scheduledAt => at(1, 0, '17:00'));
    invalid_ok($res, $j, 'scheduledAt', 'at closing time -> 400');
    ($res, $j) = book(scheduledAt => at(1, 5, '10:00'));
    invalid_ok($res, $j, 'scheduledAt', 'Saturday -> 400');
    ($res, $j) = book(scheduledAt => at(1, 6, '10:00'));
    invalid_ok($res, $j, 'scheduledAt', 'Sunday -> 400');

    # beyond 180 days (a weekday 200 days out)
    ($res, $j) = book(scheduledAt => iso(weekday_after(200) + 10 * 3600));
    invalid_ok($res, $j, 'scheduledAt', 'beyond the horizon -> 400');
    like(message_of($j, 'scheduledAt'), qr/at most 180 days/,
         'horizon: clear message');

    for my $d (14, 241, 0, -30) {
        ($res, $j) = book(durationMinutes => $d);
        invalid_ok($res, $j, 'durationMinutes', "durationMinutes $d -> 400");
    }
    ($res, $j) = book(durationMinutes => '30');
    invalid_ok($res, $j, 'durationMinutes', 'durationMinutes as a string');
    ($res, $j) = book(durationMinutes => 30.5);
    invalid_ok($res, $j, 'durationMinutes', 'durationMinutes not integer');

    for my $tz ('Mars/Olympus_Mons', 'CEST', 'UTC+5', '') {
        ($res, $j) = book(timezone => $tz);
        invalid_ok($res, $j, 'timezone', "timezone '$tz' -> 400");
    }
    ($res, $j) = book(timezone => undef);
    ok($res->code == 201 && ($j->{timezone} // '') eq 'UTC',
       'absent timezone defaults to UTC');

    ($res, $j) = book(consultantId => $user->{id});
    invalid_ok($res, $j, 'consultantId', 'consultantId of a USER -> 400');
    ($res, $j) = book(consultantId => '00000000-0000-4000-8000-000000000001');
    invalid_ok($res, $j, 'consultantId', 'unknown consultantId -> 400');
    ($res, $j) = book(consultantId => 'abc');
    invalid_ok($res, $j, 'consultantId', 'malformed consultantId -> 400');
    my $inactive = make_user(role => 'ADMIN');
    dbv("UPDATE users SET is_active = false WHERE id = :'p1'", $inactive->{id});
    ($res, $j) = book(consultantId => $inactive->{id});
    invalid_ok($res, $j, 'consultantId', 'deactivated admin -> 400');
    my $gone = make_user(role => 'ADMIN');
    dbv("UPDATE users SET deleted_at = now() WHERE id = :'p1'", $gone->{id});
    ($res, $j) = book(consultantId => $gone->{id});
    invalid_ok($res, $j, 'consultantId', 'deleted admin -> 400');

    for my $f (qw(status userId id cancelledAt meetingLink)) {
        ($res, $j) = book($f => 'SCHEDULED');
        invalid_ok($res, $j, $f, "unknown field $f -> 400");
    }
    for my $f (qw(name email topic scheduledAt)) {
        ($res, $j) = book($f => undef);
        invalid_ok($res, $j, $f, "missing $f -> 400");
    }
    ($res, $j) = book(meetingType => 'CARRIER_PIGEON');
    invalid_ok($res, $j, 'meetingType', 'unknown meetingType -> 400');
    ($res, $j) = book(scheduledAt => 'next monday');
    invalid_ok($res, $j, 'scheduledAt', 'scheduledAt not RFC 3339 -> 400');
    ($res, $j) = book(topic => 'x' x 201);
    invalid_ok($res, $j, 'topic', 'topic over 200 -> 400');
    ($res, $j) = book(name => 'x' x 101);
    invalid_ok($res, $j, 'name', 'name over 100 -> 400');
    ($res, $j) = book(email => 'not-an-email');
    invalid_ok($res, $j, 'email', 'bad email -> 400');
    ($res, $j) = book(notes => 'x' x 10001);
    invalid_ok($res, $j, 'notes', 'notes over 10000 -> 400');
    ($res, $j) = book(topic => "two\nlines");
    invalid_ok($res, $j, 'topic', 'newline in topic -> 400');
    is(count_consultations(), $before + 1,
       'no failed booking stored anything');

    # boundaries that are fine
    ($res, $j) = book(scheduledAt => at(1, 0, '09:00'));
    is($res->code, 201, 'at opening time -> 201');
    ($res, $j) = book(scheduledAt => at(1, 0, '16:30'));
    is($res->code, 201, 'ending exactly at closing -> 201');
    ($res, $j) = book(scheduledAt => at(1, 1, '09:00'), durationMinutes => 240);
    is($res->code, 201, 'durationMinutes 240 -> 201');
    ($res, $j) = book(scheduledAt => at(1, 2, '09:00'), durationMinutes => 15);
    is($res->code, 201, 'durationMinutes 15 -> 201');
    is($j->{durationMinutes} // 0, 15, 'duration echoed');
    ($res, $j) = book(scheduledAt => '2040-01-02T10:00:00+02:00');
    invalid_ok($res, $j, 'scheduledAt', 'far future with offset -> 400');
    my $off = at_epoch(1, 3, '11:00');
    ($res, $j) = book(scheduledAt => strftime('%Y-%m-%dT13:00:00+02:00',
                                              gmtime $off));
    is($res->code, 201, 'offset timestamp accepted');
    is($j->{scheduledAt} // '', iso($off), 'normalised to UTC');
}

{   # booking is a public write: its own rate-limit class (3 a day per
    # address when the test config's X-Test-Limits switch is on)
    my %h = ('X-Test-Limits' => 'on',
             'X-Forwarded-For' => sprintf('198.51.100.%d', 1 + $$ % 250));
    my @codes;
    for my $i (1 .. 3) {
        my ($res) = book(headers => \%h);
        push @codes, $res->code;
        is($res->header('RateLimit-Limit') // '', '3',
           "booking $i carries RateLimit-Limit of the public-write class");
    }
    is("@codes", '201 201 201', 'three bookings within the limit');
    my ($res) = book(headers => \%h, token => $user->{token});
    ok(problem_ok($res, 429, 'rate_limited')
       && ($res->header('Retry-After') // '') =~ /^\d+$/,
       'the fourth from that address -> 429 with Retry-After');
    ($res) = api(GET => '/api/consultations/availability?date='
                 . date_of(0, 0), headers => \%h);
    is($res->code, 200, 'reads are not in the public-write class');
}

# ================================================================ concurrency

{
    my $slot = at(2, 0, '10:00');
    my $email = new_email();
    my $url = url('/api/consultations');
    my $body = JSON::PP->new->encode({ name => 'Racer', email => $email,
                                       topic => 'Race', scheduledAt => $slot });
    pipe(my $go_r, my $go_w) or die $!;
    pipe(my $res_r, my $res_w) or die $!;
    my @kids;
    for my $i (1 .. 8) {
        my $pid = fork;
        die "fork: $!" unless defined $pid;
        if (!$pid) {
            close $go_w;
            close $res_r;
            sysread($go_r, my $x, 1);    # EOF when the parent says go
            my $ua = LWP::UserAgent->new(keep_alive => 0, timeout => 30);
            my $req = HTTP::Request->new(POST => $url);
            $req->header('Content-Type' => 'application/json');
            $req->content($body);
            my $r = $ua->request($req);
            my $c = $r->decoded_content // '';
            my $code = $r->code . ($c =~ /"code"\s*:\s*"([a-z_]+)"/ ? " $1" : '');
            syswrite($res_w, "$code\n");
            POSIX::_exit(0);
        }
        push @kids, $pid;
    }
    close $go_r;
    close $res_w;
    select(undef, undef, undef, 0.3);
    close $go_w;                         # go
    my @codes = map { chomp; $_ } <$res_r>;
    waitpid($_, 0) for @kids;
    is(scalar(@codes), 8, 'eight concurrent bookings answered');
    is(scalar(grep { $_ eq '201' } @codes), 1, 'exactly one 201')
        or diag("@codes");
    is(scalar(grep { $_ eq '409 slot_taken' } @codes), 7,
       'the other seven 409 slot_taken') or diag("@codes");
    is(dbv("SELECT count(*) FROM consultations WHERE scheduled_at = :'p1'"
          . " AND status IN ('SCHEDULED', 'CONFIRMED')", $slot), 1,
       'one active consultation in that slot');
    is(dbv("SELECT count(*) FROM leads WHERE email = :'p1'", $email), 1,
       'concurrent bookings of a new email created one lead');

    my ($res) = book(scheduledAt => $slot);
    ok(problem_ok($res, 409, 'slot_taken'), 'same slot again -> 409');
    ($res) = book(scheduledAt => at(2, 0, '09:45'));
    ok(problem_ok($res, 409, 'slot_taken'), 'partial overlap -> 409');
    ($res) = book(scheduledAt => at(2, 0, '09:30'));
    is($res->code, 201, 'slot ending when the other starts -> 201');
    ($res) = book(scheduledAt => at(2, 0, '10:30'));
    is($res->code, 201, 'slot starting when the other ends -> 201');
}

# ================================================================ consultants

{
    my $slot = at(3, 0, '11:00');
    my ($res, $j) = book(scheduledAt => $slot, consultantId => $admin->{id});
    is($res->code, 201, 'booked with consultant A');
    my $a_id = $j->{id};
    ($res) = book(scheduledAt => $slot, consultantId => $admin2->{id});
    is($res->code, 201, 'same time with consultant B -> 201');
    ($res) = book(scheduledAt => $slot);
    is($res->code, 201, 'same time unassigned -> 201');
    ($res) = book(scheduledAt => at(3, 0, '11:15'),
                  consultantId => $admin->{id});
    ok(problem_ok($res, 409, 'slot_taken'), 'overlap with consultant A -> 409');

    # cancelling frees the slot (DELETE), and so does status CANCELLED
    ($res) = api(DELETE => "/api/consultations/$a_id", token => $admin->{token});
    is($res->code, 204, 'admin cancels');
    ($res, $j) = book(scheduledAt => $slot, consultantId => $admin->{id});
    is($res->code, 201, 'cancelled consultation frees its slot');
    ($res) = api(PATCH => "/api/consultations/$j->{id}", token => $admin->{token},
                 body => { status => 'CANCELLED' });
    is($res->code, 200, 'cancel through PATCH');
    ($res) = book(scheduledAt => $slot, consultantId => $admin->{id});
    is($res->code, 201, 'slot free again after PATCH cancel');
    ($res, $j) = book(scheduledAt => at(3, 0, '13:00'),
                      consultantId => $admin->{id});
    ($res) = api(PATCH => "/api/consultations/$j->{id}", token => $admin->{token},
                 body => { status => 'COMPLETED' });
    ($res) = book(scheduledAt => at(3, 0, '13:00'),
                  consultantId => $admin->{id});
    is($res->code, 201, 'a COMPLETED consultation no longer blocks');
}

# ================================================================ availability

{
    my $date = date_of(4, 1);            # a Tuesday, nothing booked yet
    my ($res, $j) = api(GET => "/api/consultations/availability?date=$date");
    is($res->code, 200, 'availability -> 200');
    is($j->{date}, $date, 'date echoed');
    is($j->{timezone}, 'UTC', 'business time zone');
    my @s = @{ $j->{slots} || [] };
    is(scalar(@s), 31, '31 half-hour slots between 09:00 and 17:00');
    is($s[0]{start}, at(4, 1, '09:00'), 'first slot starts at opening');
    is($s[0]{end}, at(4, 1, '09:30'), 'first slot ends 30 minutes later');
    is($s[-1]{start}, at(4, 1, '16:30'), 'last slot starts at 16:30');
    is($s[-1]{end}, at(4, 1, '17:00'), 'last slot ends at closing');
    ok(!(grep { $_->{start} !~ /T\d\d:(00|15|30|45):00\.000Z$/ } @s),
       'every start on the 15-minute grid');
    is_deeply([sort keys %{ $s[0] }], ['end', 'start'], 'slot shape');

    ($res, $j) = api(GET => "/api/consultations/availability?date=$date"
                     . '&durationMinutes=60');
    is(scalar(@{ $j->{slots} || [] }), 29, '60-minute slots: 29');
    is($j->{slots}[-1]{start}, at(4, 1, '16:00'), 'last 60-minute slot 16:00');

    # an unassigned booking at 10:00-10:30 removes 09:45, 10:00, 10:15
    booked(scheduledAt => at(4, 1, '10:00'));
    ($res, $j) = api(GET => "/api/consultations/availability?date=$date");
    my %starts = map { $_->{start} => 1 } @{ $j->{slots} || [] };
    is(scalar(keys %starts), 28, 'busy slots removed');
    ok(!$starts{ at(4, 1, $_) }, "$_ overlaps the booking")
        for qw(09:45 10:00 10:15);
    ok($starts{ at(4, 1, $_) }, "$_ is still free") for qw(09:30 10:30);

    # per consultant: unassigned bookings do not block them
    ($res, $j) = api(GET => "/api/consultations/availability?date=$date"
                     . "&consultantId=$admin2->{id}");
    is(scalar(@{ $j->{slots} || [] }), 31, 'consultant B fully free');
    my $c = booked(scheduledAt => at(4, 1, '14:00'), durationMinutes => 60,
                   consultantId => $admin2->{id}, token => $user->{token});
    ($res, $j) = api(GET => "/api/consultations/availability?date=$date"
                     . "&consultantId=" . uc $admin2->{id});
    %starts = map { $_->{start} => 1 } @{ $j->{slots} || [] };
    is(scalar(keys %starts), 26, 'consultant B: 14:00-15:00 busy');
    ok(!$starts{ at(4, 1, $_) }, "B $_ busy") for qw(13:45 14:30 14:45);
    ok($starts{ at(4, 1, $_) }, "B $_ free") for qw(13:30 15:00);
    api(DELETE => "/api/consultations/$c->{id}", token => $user->{token});
    ($res, $j) = api(GET => "/api/consultations/availability?date=$date"
                     . "&consultantId=$admin2->{id}");
    is(scalar(@{ $j->{slots} || [] }), 31, 'cancelled booking frees B');

    # past, closed, beyond the horizon -> empty
    for my $case ([ymd($TODAY - 7 * $DAY), 'a past date'],
                  ['2020-01-06', 'a past Monday'],
                  [date_of(4, 5), 'a Saturday'],
                  [date_of(4, 6), 'a Sunday'],
                  [ymd(weekday_after(200)), 'beyond the horizon']) {
        ($res, $j) = api(GET => "/api/consultations/availability?date=$case->[0]");
        ok($res->code == 200 && ref $j->{slots} eq 'ARRAY'
           && !@{ $j->{slots} }, "$case->[1]: empty slots");
    }
    # today: only future starts
    ($res, $j) = api(GET => '/api/consultations/availability?date='
                     . ymd($NOW));
    ok(!(grep { $_->{start} le iso($NOW) } @{ $j->{slots} || [] }),
       'today: no slot in the past');

    # query errors
    for my $q ('', '?date=', '?date=2026-02-30', '?date=2026-3-01',
               '?date=20260301', '?date=2026-03-01T00:00:00Z',
               "?date=$date&durationMinutes=14",
               "?date=$date&durationMinutes=241",
               "?date=$date&durationMinutes=abc",
               "?date=$date&consultantId=xyz",
               "?date=$date&consultantId=$user->{id}",
               "?date=$date&foo=1", "?date=$date&date=$date") {
        ($res) = api(GET => "/api/consultations/availability$q");
        ok(problem_ok($res, 400, 'invalid_query'), "availability$q -> 400");
    }
    ($res) = api(GET => "/api/consultations/availability?date=$date",
                 token => $user->{token});
    is($res->code, 200, 'availability ignores authentication');
}

# ================================================================ lists and reads

my (%mine, $theirs);
{
    for my $i (0 .. 2) {
        my $j = booked(token => $user->{token}, topic => "Mine $i",
                       scheduledAt => at(5, $i, '10:00'));
        $mine{ $j->{id} } = $j;
    }
    $theirs = booked(token => $user2->{token}, topic => 'Theirs',
                     scheduledAt => at(5, 3, '10:00'));
    my $anon = booked(scheduledAt => at(5, 4, '10:00'));

    my ($res, $j) = api(GET => '/api/consultations?limit=100',
                        token => $user->{token});
    is($res->code, 200, 'USER list -> 200');
    like($res->header('Cache-Control') // '', qr/no-store/, 'list no-store');
    my @ids = map { $_->{id} } @{ $j->{data} || [] };
    ok(@ids && !(grep { ($_->{userId} // '') ne $user->{id} }
                 @{ $j->{data} }), 'USER sees only their own');
    ok(!(grep { $_ eq $theirs->{id} || $_ eq $anon->{id} } @ids),
       "others' consultations not listed");
    my $own_total = dbv("SELECT count(*) FROM consultations WHERE user_id = :'p1'",
                       $user->{id});
    is($j->{pagination}{total}, $own_total, 'total counts own only');

    ($res, $j) = api(GET => "/api/consultations/$theirs->{id}",
                     token => $user->{token});
    ok(problem_ok($res, 404, 'not_found'), "USER reading another's -> 404");
    my ($mid) = sort keys %mine;
    ($res, $j) = api(GET => "/api/consultations/$mid", token => $user->{token});
    is($res->code, 200, 'USER reads their own');
    is($j->{id}, $mid, 'the right one');
    like($res->header('Cache-Control') // '', qr/no-store/, 'get no-store');
    ($res, $j) = api(GET => '/api/consultations/' . uc($theirs->{id}),
                     token => $admin->{token});
    is($res->code, 200, 'ADMIN reads any (uppercase id accepted)');
    ($res) = api(GET => "/api/consultations/$anon->{id}",
                 token => $user->{token});
    ok(problem_ok($res, 404, 'not_found'), 'USER reading anonymous one -> 404');
    ($res) = api(GET => '/api/consultations/not-a-uuid',
                 token => $admin->{token});
    ok(problem_ok($res, 404, 'not_found'), 'malformed id -> 404');
    ($res) = api(GET => '/api/consultations/00000000-0000-4000-8000-00000000000f',
                 token => $admin->{token});
    ok(problem_ok($res, 404, 'not_found'), 'unknown id -> 404');
    ($res) = api(GET => '/api/consultations');
    ok(problem_ok($res, 401, 'unauthorized'), 'list without token -> 401');
    ($res) = api(GET => "/api/consultations/$mid");
    ok(problem_ok($res, 401, 'unauthorized'), 'get without token -> 401');

    ($res, $j) = api(GET => '/api/consultations?from=' . at(5, 0, '10:00')
                     . '&to=' . at(5, 4, '10:01'), token => $admin->{token});
    is_deeply([map { $_->{id} } @{ $j->{data} || [] }],
              [(sort { $mine{$a}{scheduledAt} cmp $mine{$b}{scheduledAt} }
                keys %mine), $theirs->{id}, $anon->{id}],
              "ADMIN sees everyone's");
    ($res, $j) = api(GET => '/api/consultations', token => $admin->{token});
    is($j->{pagination}{total}, dbv('SELECT count(*) FROM consultations'),
       'ADMIN total is everything');
}

{   # filters, sorts and pagination over one lead's consultations
    my $email = new_email();
    my @c = map { booked(email => $email, token => $user->{token},
                         topic => "Filter 50%_ topic $_",
                         scheduledAt => at(10, $_, '15:00')) } 0 .. 4;
    my $lead = $c[0]{leadId};
    ok(!(grep { $_->{leadId} ne $lead } @c), 'all five on one lead');
    api(PATCH => "/api/consultations/$c[1]{id}", token => $admin->{token},
        body => { status => 'CONFIRMED', consultantId => $admin2->{id} });
    api(PATCH => "/api/consultations/$c[3]{id}", token => $admin->{token},
        body => { status => 'CANCELLED' });

    my $list = sub {
        my ($q, $tok) = @_;
        my ($res, $j) = api(GET => "/api/consultations?leadId=$lead$q",
                            token => $tok // $admin->{token});
        return ($res, $j, [ map { $_->{id} } @{ $j->{data} || [] } ]);
    };
    my @ids = map { $_->{id} } @c;
    my ($res, $j, $got) = $list->('');
    is_deeply($got, \@ids, 'default sort: scheduledAt ascending');
    is_deeply($j->{pagination}, { page => 1, limit => 20, total => 5,
                                  totalPages => 1, totalIsExact => JSON::PP::true,
                                  nextCursor => undef },
              'pagination object');
    (undef, undef, $got) = $list->('&sort=-scheduledAt');
    is_deeply($got, [reverse @ids], '-scheduledAt');
    (undef, undef, $got) = $list->('&sort=createdAt');
    is_deeply($got, \@ids, 'createdAt');
    (undef, undef, $got) = $list->('&sort=-createdAt');
    is_deeply($got, [reverse @ids], '-createdAt');
    (undef, undef, $got) = $list->('&sort=status');
    is_deeply($got, [@ids[0, 2, 4, 1, 3]],
              'status (SCHEDULED, CONFIRMED, ..., CANCELLED), then time');
    (undef, undef, $got) = $list->('&sort=-status');
    is_deeply($got, [@ids[3, 1, 0, 2, 4]], '-status');
    (undef, undef, $got) = $list->('&status=CONFIRMED');
    is_deeply($got, [$ids[1]], 'status filter');
    (undef, undef, $got) = $list->("&consultantId=$admin2->{id}");
    is_deeply($got, [$ids[1]], 'consultantId filter');
    (undef, undef, $got) = $list->("&from=$c[1]{scheduledAt}&to=$c[3]{scheduledAt}");
    is_deeply($got, [@ids[1, 2]], 'from inclusive, to exclusive');
    (undef, undef, $got) = $list->('&from=' . at(10, 2, '14:00')
                                   . '&to=' . at(10, 2, '16:00'));
    is_deeply($got, [$ids[2]], 'from/to window');
    ($res, $j, $got) = $list->('&limit=2&page=2');
    is_deeply($got, [@ids[2, 3]], 'page 2 of 2-per-page');
    is_deeply([@{ $j->{pagination} }{qw(page limit total totalPages)}],
              [2, 2, 5, 3], 'pagination numbers');
    ($res, $j, $got) = $list->('&limit=2&page=9');
    ok($res->code == 200 && !@$got, 'page past the end -> empty data');
    ($res, $j, $got) = $list->('&status=NO_SHOW');
    is_deeply([@{ $j->{pagination} }{qw(total totalPages)}], [0, 0],
              'no match: total 0, totalPages 0');
    (undef, undef, $got) = $list->('&search=50%25_+TOPIC+3');
    is_deeply($got, [$ids[3]], 'search: case-insensitive, % and _ literal');
    (undef, undef, $got) = $list->('&search=' . '5_%25');
    is_deeply($got, [], 'search: _ is not a wildcard');
    (undef, undef, $got) = $list->('', $user2->{token});
    is_deeply($got, [], "USER filtering another user's lead sees nothing");

    for my $q ('&sort=name', '&sort=scheduled_at', '&status=DONE',
               '&from=yesterday', '&to=2026-13-01T00:00:00Z',
               '&consultantId=1', '&limit=0', '&limit=101', '&page=0',
               '&unknown=1', "&leadId=$lead") {
        ($res) = api(GET => "/api/consultations?leadId=$lead$q",
                     token => $admin->{token});
        ok(problem_ok($res, 400, 'invalid_query'), "list $q -> 400");
    }
    ($res) = api(GET => '/api/consultations?leadId=zz', token => $admin->{token});
    ok(problem_ok($res, 400, 'invalid_query'), 'malformed leadId -> 400');
}

# ================================================================ updates

{
    my $c = booked(token => $user->{token}, scheduledAt => at(6, 0, '10:00'));
    my $id = $c->{id};
    my $path = "/api/consultations/$id";
    my ($res, $j);

    for my $body ({ notes => 'x' }, { meetingLink => 'https://m.example.com/a' },
                  { status => 'CONFIRMED' }, { status => 'COMPLETED' },
                  { consultantId => $admin->{id} }, { followUpRequired => JSON::PP::true },
                  { cancellationReason => 'no status' },
                  { meetingType => 'PHONE' },
                  { scheduledAt => at(6, 0, '11:00'), notes => 'sneaky' }) {
        my ($k) = sort keys %$body;
        ($res) = api(PATCH => $path, token => $user->{token}, body => $body);
        ok(problem_ok($res, 403, 'forbidden'), "USER may not change $k");
    }
    is(dbv("SELECT status || '|' || (scheduled_at = :'p2'::timestamptz)"
          . " FROM consultations WHERE id = :'p1'", $id, $c->{scheduledAt}),
       'SCHEDULED|true', 'nothing changed by the refused requests');

    ($res) = api(PATCH => $path, token => $user2->{token},
                 body => { scheduledAt => at(6, 0, '11:00') });
    ok(problem_ok($res, 404, 'not_found'), "another USER's -> 404");
    ($res) = api(PATCH => $path, token => $user2->{token},
                 body => { notes => 'x' });
    ok(problem_ok($res, 404, 'not_found'),
       "another USER's with admin fields -> 404 too");
    ($res) = api(PATCH => '/api/consultations/xyz', token => $user->{token},
                 body => { timezone => 'UTC' });
    ok(problem_ok($res, 404, 'not_found'), 'malformed id -> 404');
    ($res) = api(PATCH => $path, body => { timezone => 'UTC' });
    ok(problem_ok($res, 401, 'unauthorized'), 'PATCH without token -> 401');

    # USER reschedules
    my $new = at(6, 0, '11:00');
    ($res, $j) = api(PATCH => $path, token => $user->{token},
                     body => { scheduledAt => $new, durationMinutes => 45,
                               timezone => 'Europe/Berlin' });
    is($res->code, 200, 'USER reschedules their own upcoming consultation');
    is_deeply([@$j{qw(scheduledAt durationMinutes timezone status)}],
              [$new, 45, 'Europe/Berlin', 'SCHEDULED'], 'rescheduled');
    is(dbv("SELECT lcrm_ts(ends_at) FROM consultations WHERE id = :'p1'", $id),
       at(6, 0, '11:45'), 'ends_at follows');
    ($res, $j) = api(PUT => $path, token => $user->{token},
                     body => { scheduledAt => at(6, 0, '16:45') });
    invalid_ok($res, $j, 'scheduledAt', 'reschedule outside hours -> 400');
    ($res, $j) = api(PUT => $path, token => $user->{token},
                     body => { scheduledAt => at(6, 0, '14:00'),
                               durationMinutes => 240 });
    invalid_ok($res, $j, 'scheduledAt', 'longer meeting past closing -> 400');
    ($res, $j) = api(PUT => $path, token => $user->{token},
                     body => { scheduledAt => iso($NOW - 3600) });
    invalid_ok($res, $j, 'scheduledAt', 'reschedule into the past -> 400');
    ($res, $j) = api(PUT => $path, token => $user->{token},
                     body => { scheduledAt => at(6, 5, '11:00') });
    invalid_ok($res, $j, 'scheduledAt', 'reschedule to Saturday -> 400');
    ($res, $j) = api(PUT => $path, token => $user->{token},
                     body => { timezone => 'Nowhere/Land' });
    invalid_ok($res, $j, 'timezone', 'bad timezone on update -> 400');
    ($res, $j) = api(PUT => $path, token => $user->{token},
                     body => { durationMinutes => 10 });
    invalid_ok($res, $j, 'durationMinutes', 'duration bound on update');

    # reschedule onto a taken slot
    booked(scheduledAt => at(6, 0, '14:00'));
    ($res) = api(PATCH => $path, token => $user->{token},
                 body => { scheduledAt => at(6, 0, '13:30') });
    ok(problem_ok($res, 409, 'slot_taken'), 'reschedule overlap -> 409');
    is(dbv("SELECT lcrm_ts(scheduled_at) FROM consultations WHERE id = :'p1'",
          $id), $new, 'unchanged after 409');
    ($res) = api(PATCH => $path, token => $user->{token},
                 body => { scheduledAt => at(6, 0, '13:15') });
    is($res->code, 200, 'adjacent reschedule (ends at 14:00) -> 200');

    # ADMIN: any field
    my $fu = at(7, 0, '09:00');
    ($res, $j) = api(PATCH => $path, token => $admin->{token},
                     body => { notes => "a\nb\tc", meetingLink =>
                               'https://meet.example.com/room?x=1',
                               followUpRequired => JSON::PP::true,
                               followUpAt => $fu, followUpNotes => "call\nback",
                               meetingType => 'IN_PERSON',
                               consultantId => $admin2->{id} });
    is($res->code, 200, 'ADMIN updates any field');
    is_deeply([@$j{qw(notes meetingLink followUpAt followUpNotes meetingType
                      consultantId)}],
              ["a\nb\tc", 'https://meet.example.com/room?x=1', $fu,
               "call\nback", 'IN_PERSON', $admin2->{id}], 'values stored');
    ok(JSON::PP::is_bool($j->{followUpRequired}) && $j->{followUpRequired},
       'followUpRequired true');
    ($res, $j) = api(PUT => $path, token => $admin->{token},
                     body => { meetingLink => undef, followUpAt => undef,
                               notes => undef });
    ok($res->code == 200 && !defined $j->{meetingLink}
       && !defined $j->{followUpAt} && !defined $j->{notes},
       'nullable fields cleared with null');
    is($j->{followUpNotes}, "call\nback", 'fields not sent are unchanged');
    ($res, $j) = api(PUT => $path, token => $admin->{token}, body => {});
    is($res->code, 200, 'empty PUT -> 200');
    for my $bad ([{ meetingLink => 'http://meet.example.com' }, 'meetingLink'],
                 [{ meetingLink => 'https://x.example/' . ('a' x 2048) }, 'meetingLink'],
                 [{ notes => 'n' x 10001 }, 'notes'],
                 [{ followUpNotes => 'n' x 5001 }, 'followUpNotes'],
                 [{ cancellationReason => 'r' x 501 }, 'cancellationReason'],
                 [{ followUpRequired => 'yes' }, 'followUpRequired'],
                 [{ followUpAt => 'soon' }, 'followUpAt'],
                 [{ status => 'DONE' }, 'status'],
                 [{ status => undef }, 'status'],
                 [{ consultantId => $user->{id} }, 'consultantId'],
                 [{ leadId => $c->{leadId} }, 'leadId'],
                 [{ userId => $user2->{id} }, 'userId'],
                 [{ createdAt => $fu }, 'createdAt']) {
        ($res, $j) = api(PATCH => $path, token => $admin->{token},
                         body => $bad->[0]);
        invalid_ok($res, $j, $bad->[1], "admin update: bad $bad->[1] -> 400");
    }
    ($res, $j) = api(PATCH => $path, token => $admin->{token},
                     body => { scheduledAt => at(6, 6, '10:00') });
    invalid_ok($res, $j, 'scheduledAt', 'admin reschedule also checks hours');
    ($res, $j) = api(PATCH => $path, token => $admin->{token},
                     body => { consultantId => undef });
    ok($res->code == 200 && !defined $j->{consultantId}, 'unassign consultant');

    # USER cancels with a reason; then nothing more
    ($res, $j) = api(PUT => $path, token => $user->{token},
                     body => { status => 'CANCELLED',
                               cancellationReason => "Clash\nsorry" });
    is($res->code, 200, 'USER cancels with a reason');
    ok(($j->{status} // '') eq 'CANCELLED' && defined $j->{cancelledAt}
       && ($j->{cancellationReason} // '') eq "Clash\nsorry",
       'cancelled: status, cancelledAt, reason');
    ($res) = api(PUT => $path, token => $user->{token},
                 body => { status => 'CANCELLED' });
    ok(problem_ok($res, 409, 'invalid_transition'), 'cancel again -> 409');
    ($res) = api(PUT => $path, token => $user->{token},
                 body => { scheduledAt => at(6, 1, '10:00') });
    ok(problem_ok($res, 403, 'forbidden'),
       'USER cannot reschedule a cancelled one');

    # USER and a past consultation of theirs
    my $past = dbv("INSERT INTO consultations (user_id, name, email, topic,"
                  . " scheduled_at) VALUES (:'p1', 'P', 'p\@example.com', 'T',"
                  . " now() - interval '2 days') RETURNING id", $user->{id});
    ($res) = api(PATCH => "/api/consultations/$past", token => $user->{token},
                 body => { scheduledAt => at(6, 2, '10:00') });
    ok(problem_ok($res, 403, 'forbidden'), 'USER cannot reschedule a past one');
    ($res) = api(PATCH => "/api/consultations/$past", token => $user->{token},
                 body => { status => 'CANCELLED' });
    ok(problem_ok($res, 403, 'forbidden'), 'USER cannot cancel a past one');
    ($res, $j) = api(PATCH => "/api/consultations/$past",
                     token => $admin->{token}, body => { status => 'NO_SHOW' });
    is($res->code, 200, 'ADMIN marks a past one NO_SHOW');

    # USER reschedules a CONFIRMED one of theirs
    my $cf = booked(token => $user->{token}, scheduledAt => at(6, 3, '10:00'));
    api(PATCH => "/api/consultations/$cf->{id}", token => $admin->{token},
        body => { status => 'CONFIRMED' });
    ($res, $j) = api(PATCH => "/api/consultations/$cf->{id}",
                     token => $user->{token},
                     body => { scheduledAt => at(6, 3, '11:00') });
    ok($res->code == 200 && ($j->{status} // '') eq 'CONFIRMED',
       'USER reschedules a CONFIRMED one (stays CONFIRMED)');
}

{   # the transition table, every pair
    my @st = qw(SCHEDULED CONFIRMED COMPLETED CANCELLED NO_SHOW);
    my %allowed = map { $_ => 1 } qw(SCHEDULED>CONFIRMED SCHEDULED>COMPLETED
        SCHEDULED>NO_SHOW SCHEDULED>CANCELLED CONFIRMED>COMPLETED
        CONFIRMED>NO_SHOW CONFIRMED>CANCELLED);
    my $consultant = make_user(role => 'ADMIN');
    my $n = 0;
    for my $from (@st) {
        for my $to (@st) {
            my $when = at(8, int($n / 16), sprintf('%02d:%02d',
                          9 + int(($n % 16) / 2), 30 * ($n % 2)));
            $n++;
            my $id = dbv("INSERT INTO consultations (consultant_id, name, email,"
                        . " topic, scheduled_at, status) VALUES (:'p1', 'T',"
                        . " 't\@example.com', 'T', :'p2', :'p3') RETURNING id",
                        $consultant->{id}, $when, $from);
            my ($res, $j) = api(PATCH => "/api/consultations/$id",
                                token => $admin->{token},
                                body => { status => $to });
            if ($allowed{"$from>$to"}) {
                ok($res->code == 200 && ($j->{status} // '') eq $to,
                   "$from -> $to allowed");
            }
            else {
                ok(problem_ok($res, 409, 'invalid_transition'),
                   "$from -> $to refused with 409");
            }
            if ($allowed{"$from>$to"} && $to eq 'CANCELLED') {
                ok(defined $j->{cancelledAt} && !defined $j->{completedAt},
                   "$from -> CANCELLED sets cancelledAt");
            }
            if ($allowed{"$from>$to"} && $to eq 'COMPLETED') {
                ok(defined $j->{completedAt} && !defined $j->{cancelledAt},
                   "$from -> COMPLETED sets completedAt");
            }
        }
    }
}

# ================================================================ delete

{
    my $c = booked(token => $user->{token}, scheduledAt => at(9, 0, '10:00'));
    my $path = "/api/consultations/$c->{id}";
    my ($res) = api(DELETE => $path, token => $user2->{token});
    ok(problem_ok($res, 404, 'not_found'), "DELETE another USER's -> 404");
    ($res) = api(DELETE => $path);
    ok(problem_ok($res, 401, 'unauthorized'), 'DELETE without token -> 401');
    ($res) = api(DELETE => $path, token => $user->{token});
    is($res->code, 204, 'USER cancels their own with DELETE');
    is(dbv("SELECT status || '|' || (cancelled_at IS NOT NULL)"
          . " FROM consultations WHERE id = :'p1'", $c->{id}),
       'CANCELLED|true', 'DELETE cancelled it (row kept)');
    ($res) = api(DELETE => $path, token => $user->{token});
    is($res->code, 204, 'DELETE again -> 204 (idempotent)');
    ($res) = api(DELETE => $path, token => $admin->{token});
    is($res->code, 204, 'admin DELETE of a cancelled one -> 204');
    ($res, my $j) = api(GET => $path, token => $user->{token});
    is($j->{status} // '', 'CANCELLED', 'still readable, CANCELLED');

    for my $st (qw(COMPLETED NO_SHOW)) {
        my $x = booked(scheduledAt => at(9, 1, $st eq 'COMPLETED' ? '10:00' : '11:00'));
        api(PATCH => "/api/consultations/$x->{id}", token => $admin->{token},
            body => { status => $st });
        ($res) = api(DELETE => "/api/consultations/$x->{id}",
                     token => $admin->{token});
        ok(problem_ok($res, 409, 'invalid_transition'), "DELETE $st -> 409");
    }
    my $x = booked(scheduledAt => at(9, 2, '10:00'));
    ($res) = api(DELETE => "/api/consultations/$x->{id}",
                 token => $user->{token});
    ok(problem_ok($res, 404, 'not_found'), 'USER DELETE of an anonymous one -> 404');
    ($res) = api(PATCH => "/api/consultations/$x->{id}",
                 token => $user->{token}, body => { status => 'CANCELLED' });
    ok(problem_ok($res, 404, 'not_found'), 'USER PATCH of an anonymous one -> 404');
    is(dbv("SELECT status FROM consultations WHERE id = :'p1'", $x->{id}),
       'SCHEDULED', 'the anonymous one is untouched');
    ($res) = api(DELETE => "/api/consultations/$x->{id}",
                 token => $admin->{token});
    is($res->code, 204, 'ADMIN DELETE of any -> 204');
    ($res) = api(DELETE => '/api/consultations/bad-id', token => $admin->{token});
    ok(problem_ok($res, 404, 'not_found'), 'DELETE malformed id -> 404');
    ($res) = api(DELETE => '/api/consultations/00000000-0000-4000-8000-0000000000aa',
                 token => $admin->{token});
    ok(problem_ok($res, 404, 'not_found'), 'DELETE unknown id -> 404');
}

# ================================================================ daylight saving

{
    # lcrm_business_slots(date, zone, days, open, close, duration): first
    # start, last start, last end, count.  127 = every day open.
    my $slots = sub {
        dbv("SELECT lcrm_ts(min(slot_start)) || ' ' || lcrm_ts(max(slot_start))"
           . " || ' ' || lcrm_ts(max(slot_end)) || ' ' || count(*)"
           . " FROM lcrm_business_slots(:'p1', :'p2', :'p3', :'p4', :'p5', :'p6')",
           @_);
    };
    my @vectors = (
        # Europe/Paris: spring forward 2026-03-29 (23-hour day)
        [['2026-03-27', 'Europe/Paris', 127, 540, 1020, 30],
         '2026-03-27T08:00:00.000Z 2026-03-27T15:30:00.000Z 2026-03-27T16:00:00.000Z 31',
         'Paris, day before spring forward: CET'],
        [['2026-03-29', 'Europe/Paris', 127, 540, 1020, 30],
         '2026-03-29T07:00:00.000Z 2026-03-29T14:30:00.000Z 2026-03-29T15:00:00.000Z 31',
         'Paris, spring-forward day: 09:00-17:00 CEST = 07:00Z-15:00Z'],
        [['2026-03-29', 'Europe/Paris', 127, 0, 360, 60],
         '2026-03-28T23:00:00.000Z 2026-03-29T03:00:00.000Z 2026-03-29T04:00:00.000Z 17',
         'Paris, 00:00-06:00 across the gap is 5 hours'],
        [['2026-10-25', 'Europe/Paris', 127, 540, 1020, 30],
         '2026-10-25T08:00:00.000Z 2026-10-25T15:30:00.000Z 2026-10-25T16:00:00.000Z 31',
         'Paris, fall-back day: CET'],
        [['2026-10-24', 'Europe/Paris', 127, 540, 1020, 30],
         '2026-10-24T07:00:00.000Z 2026-10-24T14:30:00.000Z 2026-10-24T15:00:00.000Z 31',
         'Paris, day before fall back: CEST'],
        [['2026-10-25', 'Europe/Paris', 127, 0, 360, 60],
         '2026-10-24T22:00:00.000Z 2026-10-25T04:00:00.000Z 2026-10-25T05:00:00.000Z 25',
         'Paris, 00:00-06:00 across the repeated hour is 7 hours'],
        [['2026-03-07', 'America/New_York', 127, 540, 1020, 30],
         '2026-03-07T14:00:00.000Z 2026-03-07T21:30:00.000Z 2026-03-07T22:00:00.000Z 31',
         'New York, day before spring forward: EST'],
        [['2026-03-08', 'America/New_York', 127, 540, 1020, 30],
         '2026-03-08T13:00:00.000Z 2026-03-08T20:30:00.000Z 2026-03-08T21:00:00.000Z 31',
         'New York, spring-forward day: EDT'],
        [['2026-10-31', 'America/New_York', 127, 540, 1020, 30],
         '2026-10-31T13:00:00.000Z 2026-10-31T20:30:00.000Z 2026-10-31T21:00:00.000Z 31',
         'New York, day before fall back: EDT'],
        [['2026-11-01', 'America/New_York', 127, 540, 1020, 30],
         '2026-11-01T14:00:00.000Z 2026-11-01T21:30:00.000Z 2026-11-01T22:00:00.000Z 31',
         'New York, fall-back day: EST'],
        [['2026-11-01', 'America/New_York', 127, 510, 1020, 45],
         '2026-11-01T13:30:00.000Z 2026-11-01T21:15:00.000Z 2026-11-01T22:00:00.000Z 32',
         'New York, 08:30 opening, 45-minute slots'],
        [['2026-03-29', 'Europe/Paris', 31, 540, 1020, 30], '', 'Sunday closed'],
        [['2026-03-30', 'Asia/Kolkata', 31, 545, 600, 15],
         '2026-03-30T03:45:00.000Z 2026-03-30T04:15:00.000Z 2026-03-30T04:30:00.000Z 3',
         '09:05 opening rounds up to the 09:15 grid (UTC+05:30)'],
    );
    for my $v (@vectors) {
        my $got = $slots->(@{ $v->[0] }) // '';
        is($got, $v->[1], $v->[2]);
    }
    my $grid = dbv("SELECT count(*) FROM lcrm_business_slots('2026-10-25',"
                  . " 'Europe/Paris', 127, 0, 360, 15)"
                  . " WHERE extract(minute FROM slot_start AT TIME ZONE"
                  . " 'Europe/Paris')::int % 15 <> 0");
    is($grid, 0, 'slots stay on the local 15-minute grid across the change');

    # the booking rule in DST zones, on next year's transition days (in
    # the future, so only the business-hours rule can refuse them)
    my $year = (gmtime $NOW)[5] + 1900 + 1;
    my $sunday = sub {            # the n-th (negative: from the end) Sunday
        my ($mon, $n) = @_;       # 1-based month
        my $first = Time::Local::timegm(0, 0, 12, 1, $mon - 1, $year);
        my @sundays = grep { (gmtime $_)[4] == $mon - 1 }
                      map { $first + $_ * $DAY } 0 .. 30;
        @sundays = grep { !((gmtime $_)[6]) } @sundays;
        return ymd($sundays[$n > 0 ? $n - 1 : $n]);
    };
    my @rule_vectors = (
        ['Europe/Paris', $sunday->(3, -1), '07:00' => 'ok', '06:45' => 'hours',
         '14:30' => 'ok', '14:45' => 'hours'],
        ['Europe/Paris', $sunday->(10, -1), '08:00' => 'ok', '07:45' => 'hours',
         '15:30' => 'ok', '15:45' => 'hours'],
        ['America/New_York', $sunday->(3, 2), '13:00' => 'ok',
         '12:45' => 'hours', '20:30' => 'ok', '20:45' => 'hours'],
        ['America/New_York', $sunday->(11, 1), '14:00' => 'ok',
         '13:45' => 'hours', '21:30' => 'ok', '21:45' => 'hours'],
    );
    for my $v (@rule_vectors) {
        my ($zone, $date, %want) = @$v;
        for my $hm (sort keys %want) {
            my $got = dbv("SELECT coalesce(lcrm_booking_problem(:'p1', 30,"
                         . " ROW(:'p2', 127, 540, 1020, 0, 63072000)"
                         . "::lcrm_booking_rules), 'ok')",
                         "${date}T$hm:00Z", $zone);
            is($got, $want{$hm}, "$zone $date ${hm}Z: $want{$hm}");
        }
    }
    # notice and horizon (not configurable in this test server)
    my $rule = sub {
        my ($offset, $notice, $horizon) = @_;
        dbv("SELECT coalesce(lcrm_booking_problem(now() + CAST(:'p1' AS interval),"
            . " 15, ROW('UTC', 127, 0, 1440, :'p2', :'p3')::lcrm_booking_rules),"
            . " 'ok')", $offset, $notice, $horizon);
    };
    is($rule->('1 hour', 7200, 86400 * 180), 'notice', 'inside the notice');
    isnt($rule->('3 hours', 7200, 86400 * 180), 'notice', 'after the notice');
    is($rule->('-1 minute', 0, 86400 * 180), 'past', 'past before notice');
    is($rule->('181 days', 0, 86400 * 180), 'horizon', 'beyond the horizon');
    isnt($rule->('179 days', 0, 86400 * 180), 'horizon', 'within the horizon');

    # the same days through HTTP under the default UTC rules: closed (Sunday)
    for my $date ($sunday->(3, -1), $sunday->(3, 2)) {
        my ($res, $j) = api(GET => "/api/consultations/availability?date=$date");
        ok($res->code == 200 && !@{ $j->{slots} || [1] },
           "$date (a Sunday) closed under the default hours");
    }
}

done_testing();
