#!/usr/bin/env bash
# Hardening drills (issue 10, items 12, 14, 15, 17) against a real httpd and
# a real PostgreSQL of their own (a throwaway cluster in a temp directory),
# TAP output:
#   - refresh cookie prefixes (__Secure- by default with Secure, __Host-),
#     unprefixed or ambiguous cookies refused;
#   - a pooled connection terminated between requests is reset before the
#     next statement is sent (201, one lead);
#   - a connection lost after a write was sent (its COMMIT waiting for a
#     synchronous standby when the backend is terminated: committed
#     locally) is never retried: no second lead, no false slot_taken on
#     the caller's own booking, no refresh answered without its cookie;
#   - the error log carries a failure's primary message and SQLSTATE,
#     never libpq's DETAIL rows, and one ERR line per failure;
#   - a PostgreSQL outage under 16 keep-alive clients: every request gets
#     a complete 503 problem, connections end cleanly (no reset).
# Ports are picked free at run time (127.0.0.1 only); everything started
# here is stopped by pid in the EXIT trap.
# Usage: t/scripts/hardening.sh REPO_ROOT
set -uo pipefail
ROOT=${1:?repo root}
. "$ROOT/scripts/lib.sh"

T=$(mktemp -d /tmp/leadcrm-harden.XXXXXX); chmod 755 "$T"
mods=/usr/lib/apache2/modules
HTTPD=${LCRM_HTTPD:-/usr/sbin/apache2}
PGBIN=$(lcrm_pg_bin)
cleanup() {
    [ -f "$T/httpd.pid" ] && kill -TERM "$(cat "$T/httpd.pid")" 2>/dev/null
    [ -n "${CURL_PID:-}" ] && kill "$CURL_PID" 2>/dev/null
    sleep 1; lcrm_pg_stop "$T"; rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

n=0 fails=0
ok()  { n=$((n + 1)); echo "ok $n - $1"; }
nok() { n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n - $1"; }
is()  { if [ "$1" = "$2" ]; then ok "$3"; else nok "$3 (got '$1', want '$2')"; fi; }

freeport() {
    perl -MIO::Socket::INET -e \
        'print IO::Socket::INET->new(Listen => 1, LocalAddr => "127.0.0.1:0")->sockport'
}
P1=${HARDEN_PORT1:-$(freeport)} P2=${HARDEN_PORT2:-$(freeport)} P3=${HARDEN_PORT3:-$(freeport)}

lcrm_pg_start "$T" 2>"$T/pg.err" >/dev/null || { cat "$T/pg.err"; exit 1; }
lcrm_make_key "$T/jwt.key"
sql() { psql -X -qAt -v ON_ERROR_STOP=1 -c "$1"; }
sqlsu() { PGUSER=postgres psql -X -qAt -v ON_ERROR_STOP=1 -d leadcrm -c "$1"; }

DBD="host=$T/run/pg dbname=leadcrm user=leadcrm connect_timeout=2"
{
    lcrm_httpd_conf_head "$T" "$ROOT/.libs/mod_leadcrm.so"
    cat <<CONF
LogLevel warn leadcrm:debug
Listen 127.0.0.1:$P1
Listen 127.0.0.1:$P2
Listen 127.0.0.1:$P3
StartServers 1
ServerLimit 1
ThreadsPerChild 24
MinSpareThreads 8
MaxSpareThreads 24
MaxRequestWorkers 24
Define LEADCRM_DBD_PARAMS "$DBD"
Define LEADCRM_KEY_FILE "$T/jwt.key"
Include "$ROOT/conf/leadcrm.conf"
# the site-wide example (ErrorLogFormat with the request id, limits)
Include "$ROOT/conf/leadcrm-hardening.conf"
DBDMax 24
LeadCRMRateLimit general 0 1m
LeadCRMRateLimit auth 0 1m
LeadCRMRateLimit refresh 0 1m
LeadCRMRateLimit public-write 0 1m
LeadCRMRateLimit login-failures 0 1m
LeadCRMBusinessHours Mon-Sun 00:00-23:59
# short timeouts and a small core body limit, for httpd's own 408 and 413
RequestReadTimeout handshake=0 header=2 body=2
<Location /api/consultations>
    LimitRequestBody 2048
</Location>
# the default server: Secure cookies, default prefix (__Secure-)
<VirtualHost 127.0.0.1:$P2>
    LeadCRMCookiePrefix __Host-
</VirtualHost>
# its own pool whose commits wait for a synchronous standby
<VirtualHost 127.0.0.1:$P3>
    DBDParams "$DBD options='-c synchronous_commit=on'"
    DBDMax 24
</VirtualHost>
CONF
} > "$T/httpd.conf"
"$HTTPD" -f "$T/httpd.conf" -k start || { echo "Bail out! httpd did not start"; exit 1; }
for _ in $(seq 1 40); do
    curl -s -o /dev/null "http://127.0.0.1:$P1/health" && break; sleep 0.25
done

# req PORT METHOD PATH [JSON] [curl args...]: prints "status" and keeps
# headers in $T/h, body in $T/b
req() {
    local port=$1 method=$2 path=$3 body=${4:-}; shift 4 2>/dev/null || shift $#
    if [ -n "$body" ]; then
        curl -s -m 60 -D "$T/h" -o "$T/b" -w '%{http_code}' -X "$method" \
             -H 'Content-Type: application/json' --data-binary "$body" "$@" \
             "http://127.0.0.1:$port$path"
    else
        curl -s -m 60 -D "$T/h" -o "$T/b" -w '%{http_code}' -X "$method" "$@" \
             "http://127.0.0.1:$port$path"
    fi
}
setcookie() { grep -i '^Set-Cookie:' "$T/h" | tr -d '\r'; }
code_of() { perl -MJSON::PP -0777 -ne 'print eval { decode_json($_)->{code} } // ""' "$T/b"; }

# ---- 12: cookie prefixes ---------------------------------------------------
email="harden$$@example.com"
st=$(req "$P1" POST /auth/register "{\"email\":\"$email\",\"password\":\"harden password\",\"name\":\"H\"}")
is "$st" 201 "register"
atok=$(perl -MJSON::PP -0777 -ne 'print decode_json($_)->{accessToken}' "$T/b")
c=$(setcookie)
if grep -q '__Secure-leadcrm_refresh=[A-Za-z0-9_-]\{43\}; Path=/auth;.*Secure' <<<"$c"; then
    ok "default prefix with Secure: __Secure-leadcrm_refresh, Path=/auth"
else nok "default prefix: $c"; fi
tok=$(sed -n 's/.*__Secure-leadcrm_refresh=\([A-Za-z0-9_-]*\);.*/\1/p' <<<"$c")
st=$(req "$P1" POST /auth/refresh "" -H "Cookie: leadcrm_refresh=$tok")
is "$st:$(code_of)" "401:unauthorized" "an unprefixed cookie is not the refresh cookie"
other=$(head -c 32 /dev/urandom | base64 -w0 | tr '+/' '-_' | cut -c1-43)
st=$(req "$P1" POST /auth/refresh "" -H "Cookie: __Secure-leadcrm_refresh=$other; __Secure-leadcrm_refresh=$tok")
is "$st:$(code_of)" "400:bad_request" "two refresh cookies with different values: refused"
st=$(req "$P1" POST /auth/refresh "" -H "Cookie: __Secure-leadcrm_refresh=$tok")
is "$st" 200 "the real cookie alone still works (nothing was consumed)"
tok=$(setcookie | sed -n 's/.*__Secure-leadcrm_refresh=\([A-Za-z0-9_-]*\);.*/\1/p')
st=$(req "$P2" POST /auth/login "{\"email\":\"$email\",\"password\":\"harden password\"}")
if [ "$st" = 200 ] && setcookie | grep -q '__Host-leadcrm_refresh=[A-Za-z0-9_-]\{43\}; Path=/;.*Secure'; then
    ok "__Host- prefix: __Host-leadcrm_refresh with Path=/"
else nok "__Host- prefix: $st $(setcookie)"; fi
if ! setcookie | grep -qi 'Domain='; then ok "__Host- cookie has no Domain"; else nok "__Host- has Domain"; fi

# ---- 16: httpd's own 408 and 413 on the module's locations ---------------
out=$(perl -MIO::Socket::INET -e '
    my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$ARGV[0]", Timeout => 20) or die;
    print $s "GET /api/leads HTTP/1.1\r\nHost: x\r\n";
    local $/; my $o = <$s>; print $o // ""' "$P1")
if grep -q '^HTTP/1.1 408 ' <<<"$out" && grep -qi '^Content-Type: application/problem+json' <<<"$out" \
   && grep -q '"code":"request_timeout"' <<<"$out" && grep -qi '^X-Content-Type-Options: nosniff' <<<"$out"; then
    ok "408 from RequestReadTimeout is problem+json"
else nok "408: $(head -c 300 <<<"$out")"; fi
pad=$(head -c 3000 /dev/zero | tr '\0' ' ')
st=$(req "$P1" POST /api/consultations "{\"name\":\"x\"$pad}")
is "$st:$(code_of)" "413:payload_too_large" "413 from LimitRequestBody (under LeadCRMMaxBodySize) is payload_too_large"

# ---- 14: broken pooled connections -------------------------------------------
appconns="SELECT pid FROM pg_stat_activity WHERE usename = 'leadcrm' AND datname = 'leadcrm' AND pid <> pg_backend_pid()"
sqlsu "SELECT count(pg_terminate_backend(pid)) FROM ($appconns) a" >/dev/null
sleep 0.5
le="between$$@example.com"
st=$(req "$P1" POST /api/leads "{\"name\":\"Between\",\"email\":\"$le\"}")
is "$st" 201 "backend terminated between requests: reset before sending, 201"
is "$(sql "SELECT count(*) FROM leads WHERE email = '$le'")" 1 "exactly one lead"

# commits of the P3 pool wait for a standby that never comes; everything
# else commits locally
sqlsu "ALTER SYSTEM SET synchronous_standby_names = 'nobody'" >/dev/null
sqlsu "ALTER SYSTEM SET synchronous_commit = 'local'" >/dev/null
sqlsu "SELECT pg_reload_conf()" >/dev/null
sleep 0.5
# kills every backend whose commit waits for the standby (committed
# locally), until the request in the background has its answer
kill_syncrep_until_done() {
    local kills=0
    for _ in $(seq 1 240); do
        kill -0 "$CURL_PID" 2>/dev/null || break
        k=$(sqlsu "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE wait_event = 'SyncRep'")
        kills=$((kills + ${k:-0}))
        sleep 0.25
    done
    wait "$CURL_PID" 2>/dev/null; CURL_PID=
    echo "$kills"
}
lw="committed$$@example.com"
( req "$P3" POST /api/leads "{\"name\":\"Committed\",\"email\":\"$lw\"}" > "$T/st" ) & CURL_PID=$!
kills=$(kill_syncrep_until_done)
st=$(cat "$T/st")
is "$(sql "SELECT count(*) FROM leads WHERE email = '$lw'")" 1 \
   "lead capture lost after COMMIT: one lead, never a second (backends killed: $kills)"
is "$st" 503 "and the client is told 503 (not a retried 201)"

when=$(sql "SELECT to_char(date_trunc('hour', now() + interval '3 days') + interval '10 hours', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')")
bk="{\"name\":\"Booker\",\"email\":\"book$$@example.com\",\"topic\":\"t\",\"scheduledAt\":\"$when\"}"
( req "$P3" POST /api/consultations "$bk" > "$T/st"; code_of > "$T/code" ) & CURL_PID=$!
kills=$(kill_syncrep_until_done)
st=$(cat "$T/st")
if [ "$st" != 409 ]; then ok "booking lost after COMMIT: no false slot_taken ($st)"
else nok "booking lost after COMMIT answered 409 $(cat "$T/code")"; fi
is "$(sql "SELECT count(*) FROM consultations WHERE email = 'book$$@example.com'")" 1 "one consultation"

( req "$P3" POST /auth/refresh "" -H "Cookie: __Secure-leadcrm_refresh=$tok" > "$T/st" ) & CURL_PID=$!
kills=$(kill_syncrep_until_done)
st=$(cat "$T/st")
if [ "$st" = 200 ] && ! setcookie | grep -q 'leadcrm_refresh=[A-Za-z0-9_-]'; then
    nok "refresh lost after COMMIT answered 200 without its new cookie"
else ok "refresh lost after COMMIT: never 200 without the new cookie ($st)"; fi

sqlsu "ALTER SYSTEM RESET synchronous_standby_names" >/dev/null
sqlsu "ALTER SYSTEM RESET synchronous_commit" >/dev/null
sqlsu "SELECT pg_reload_conf()" >/dev/null

# ---- 15: no DETAIL rows in the log; one ERR line per failure -------------
sqlsu "CREATE FUNCTION harden_boom() RETURNS trigger LANGUAGE plpgsql AS \$\$
BEGIN IF NEW.name = 'Detail Trigger' THEN
RAISE EXCEPTION 'harden boom' USING DETAIL = 'Key (email)=(detail-secret@example.com)';
END IF; RETURN NEW; END \$\$;
CREATE TRIGGER harden_boom BEFORE INSERT ON leads FOR EACH ROW EXECUTE FUNCTION harden_boom();" >/dev/null
st=$(req "$P1" POST /api/leads '{"name":"Detail Trigger","email":"detail-secret@example.com"}')
rid=$(grep -i '^X-Request-Id:' "$T/h" | tr -d '\r' | awk '{print $2}')
is "$st" 500 "a failing statement answers 500"
sleep 1
if ! grep -q 'detail-secret' "$T/error.log"; then ok "no DETAIL row in the log (debug level on)"
else nok "DETAIL in the log: $(grep 'detail-secret' "$T/error.log" | head -2)"; fi
if grep -q 'harden boom (SQLSTATE P0001)' "$T/error.log"; then ok "primary message and SQLSTATE logged"
else nok "primary message + SQLSTATE missing"; fi
errs=$(grep -F "$rid" "$T/error.log" | grep -c ':error\]')
is "$errs" 1 "one ERR line for that failure"

# ---- 17: outage under 16 keep-alive clients -----------------------------
lcrm_as_pg "$PGBIN/pg_ctl" -D "$T/pg" -m immediate -w stop >/dev/null 2>&1
cat > "$T/ka.pl" <<'PERL'
# 16 clients, each on one keep-alive connection (reconnecting only when
# the server says Connection: close), N requests each; prints
# "complete resets eof other" summed over clients.
use strict; use warnings; use IO::Socket::INET; use Errno;
my ($port, $per, $tok) = @ARGV;
my @kids;
pipe(my $rd, my $wr) or die;
for my $k (1 .. 16) {
    my $pid = fork // die;
    if (!$pid) {
        close $rd;
        my %c = (complete => 0, reset => 0, eof => 0, other => 0);
        my $s;
        for my $i (1 .. $per) {
            $s ||= IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port", Timeout => 10)
                or do { $c{other}++; next };
            my $body = qq({"name":"Outage","email":"ka$k.$i\@example.com"});
            my $rq = ($i % 2)
                ? "POST /api/leads HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: " . length($body) . "\r\n\r\n$body"
                : "GET /api/leads HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer $tok\r\n\r\n";
            if (!defined syswrite($s, $rq)) { $c{$!{ECONNRESET} || $!{EPIPE} ? 'reset' : 'other'}++; $s = undef; next }
            my $buf = '';
            my ($hdr, $len);
            while (1) {
                my $r = sysread($s, $buf, 65536, length $buf);
                if (!defined $r) { $c{$!{ECONNRESET} ? 'reset' : 'other'}++; $s = undef; last }
                if ($r == 0) { $c{eof}++; $s = undef; last }
                if (!defined $hdr && $buf =~ /\r\n\r\n/) {
                    ($hdr) = $buf =~ /^(.*?\r\n\r\n)/s;
                    ($len) = $hdr =~ /^Content-Length:\s*(\d+)/mi;
                    $len //= 0;
                }
                if (defined $hdr && length($buf) >= length($hdr) + $len) {
                    my $b = substr($buf, length $hdr, $len);
                    if ($hdr =~ m{^HTTP/1\.1 503 } && $b =~ /"code":"service_unavailable"/) { $c{complete}++ }
                    else { $c{other}++ }
                    if ($hdr =~ /^Connection:\s*close/mi) {
                        # a clean close: the server's FIN, never a reset
                        my $r2 = sysread($s, my $x, 1);
                        $c{reset}++ if !defined $r2 && $!{ECONNRESET};
                        close $s; $s = undef;
                    }
                    last;
                }
            }
        }
        print $wr join(' ', @c{qw(complete reset eof other)}), "\n";
        exit 0;
    }
    push @kids, $pid;
}
close $wr;
my @sum = (0, 0, 0, 0);
while (my $l = <$rd>) { my @v = split ' ', $l; $sum[$_] += $v[$_] for 0 .. 3 }
waitpid $_, 0 for @kids;
print "@sum\n";
PERL
read -r complete resets eofs other < <(perl "$T/ka.pl" "$P1" 40 "$atok")
total=$((16 * 40))
is "$complete" "$total" "outage: every request got a complete 503 problem ($complete/$total; eof $eofs, other $other)"
is "$resets" 0 "outage: no connection reset"
lcrm_as_pg "$PGBIN/pg_ctl" -D "$T/pg" -l "$T/run/pg/server.log" -w -t 30 \
    -o "-k $T/run/pg -c listen_addresses='' -c max_connections=200" start >/dev/null
for _ in $(seq 1 20); do
    [ "$(req "$P1" GET /health)" = 200 ] && break; sleep 0.5
done
is "$(req "$P1" GET /health)" 200 "recovers by itself once PostgreSQL is back"

echo "1..$n"
[ "$fails" -eq 0 ]
