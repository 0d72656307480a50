#!/usr/bin/env bash
# Regression drill (commit a75ecaa): the set of statements the module has
# prepared on a pooled connection must follow a reset done behind the
# module's back.  One pooled connection (DBDMin/DBDKeep/DBDMax 1, one
# child), so the sequence is deterministic:
#   1. register + GET /auth/profile prepare their statements (set S);
#   2. the app's backend is terminated (as postgres);
#   3. the audit purge (mod_watchdog, LeadCRMAuditPurgeInterval 5s) borrows
#      the idle connection through ap_dbd_open, fails (LCRM01641) and hands
#      it back CONNECTION_BAD;
#   4. POST /api/leads: mod_dbd's dbd_check at acquire time PQresets it (a
#      new backend with no statements; the module does not see the reset)
#      and the lead statements C are prepared on the new backend;
#   5. GET /auth/profile: its statements (in S) are missing on the server;
#   6. POST /api/leads again.
# Before a75ecaa, the first statement of S run after the reset (step 4
# or 5, after some of C) got 26000, emptied the whole set and was retried;
# C stayed on the server but left the set, so step 6 PREPAREd C again:
# 42P05 "already exists", a 5xx, on that connection for good.  Now every
# step is 2xx and no 42P05 is logged.  The module under test is
# $LCRM_MODULE (default: this checkout's build).
# The port is picked free at run time (127.0.0.1 only); everything started
# here is stopped by pid in the EXIT trap.
# Usage: t/scripts/prepared_reset.sh REPO_ROOT
set -uo pipefail
ROOT=${1:?repo root}
. "$ROOT/scripts/lib.sh"

MODULE=${LCRM_MODULE:-$ROOT/.libs/mod_leadcrm.so}
T=$(mktemp -d /tmp/leadcrm-prepreset.XXXXXX); chmod 755 "$T"
mods=/usr/lib/apache2/modules
HTTPD=${LCRM_HTTPD:-/usr/sbin/apache2}
cleanup() {
    [ -f "$T/httpd.pid" ] && kill -TERM "$(cat "$T/httpd.pid")" 2>/dev/null
    sleep 1; lcrm_pg_stop "$T"; rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

n=0 fails=0
ok()  { n=$((n + 1)); echo "ok $n - $1"; }
nok() { n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n - $1"; }
is()  { if [ "$1" = "$2" ]; then ok "$3"; else nok "$3 (got '$1', want '$2')"; fi; }

P=${PREPRESET_PORT:-$(perl -MIO::Socket::INET -e \
    'print IO::Socket::INET->new(Listen => 1, LocalAddr => "127.0.0.1:0")->sockport')}

lcrm_pg_start "$T" 2>"$T/pg.err" >/dev/null || { cat "$T/pg.err"; exit 1; }
lcrm_make_key "$T/jwt.key"
sql() { psql -X -qAt -v ON_ERROR_STOP=1 -c "$1"; }
sqlsu() { PGUSER=postgres psql -X -qAt -v ON_ERROR_STOP=1 -d leadcrm -c "$1"; }
# the app's backends (httpd's pool), never this session's
appconns="SELECT pid FROM pg_stat_activity WHERE usename = 'leadcrm_app'
          AND datname = 'leadcrm' AND pid <> pg_backend_pid()"

DBD="host=$T/run/pg dbname=leadcrm user=leadcrm_app connect_timeout=2"
{
    lcrm_httpd_conf_head "$T" "$MODULE"
    cat <<CONF
LogLevel warn leadcrm:debug dbd:debug
Listen 127.0.0.1:$P
StartServers 1
ServerLimit 1
ThreadsPerChild 4
MinSpareThreads 1
MaxSpareThreads 4
MaxRequestWorkers 4
Define LEADCRM_DBD_PARAMS "$DBD"
Define LEADCRM_KEY_FILE "$T/jwt.key"
Include "$ROOT/conf/leadcrm.conf"
# one pooled connection: every request and the purge share it
DBDMin 1
DBDKeep 1
DBDMax 1
# the purge borrows the connection soon after the backend is gone
LeadCRMAuditPurgeInterval 5s
LeadCRMRateLimit general 0 1m
LeadCRMRateLimit auth 0 1m
LeadCRMRateLimit refresh 0 1m
LeadCRMRateLimit public-write 0 1m
LeadCRMRateLimit login-failures 0 1m
CONF
} > "$T/httpd.conf"
# (its start-up notes, e.g. DBDMax 1 < ThreadsPerChild, are expected here)
"$HTTPD" -f "$T/httpd.conf" -k start 2>"$T/start.err" \
    || { cat "$T/start.err"; echo "Bail out! httpd did not start"; exit 1; }
for _ in $(seq 1 40); do
    curl -s -o /dev/null "http://127.0.0.1:$P/health" && break; sleep 0.25
done

# req METHOD PATH [JSON] [curl args...]: prints the status; body in $T/b
req() {
    local method=$1 path=$2 body=${3:-}; shift 3 2>/dev/null || shift $#
    if [ -n "$body" ]; then
        curl -s -m 60 -o "$T/b" -w '%{http_code}' -X "$method" \
             -H 'Content-Type: application/json' --data-binary "$body" "$@" \
             "http://127.0.0.1:$P$path"
    else
        curl -s -m 60 -o "$T/b" -w '%{http_code}' -X "$method" "$@" \
             "http://127.0.0.1:$P$path"
    fi
}
lines() { grep -c "$1" "$T/error.log"; }

# ---- 1. statements of register and profile on the one connection ----------
email="prep$$@example.com"
st=$(req POST /auth/register "{\"email\":\"$email\",\"password\":\"prepared password\",\"name\":\"P\"}")
is "$st" 201 "register"
tok=$(perl -MJSON::PP -0777 -ne 'print eval { decode_json($_)->{accessToken} } // ""' "$T/b")
st=$(req GET /auth/profile "" -H "Authorization: Bearer $tok")
is "$st" 200 "profile (its statements prepared on the connection)"
pids=$(sql "$appconns")
is "$(wc -w <<<"$pids")" 1 "one pooled connection ($pids)"

# ---- 2. its backend terminated --------------------------------------------
purges=$(lines 'LCRM01641')
resets=$(lines 'LCRM01810\|LCRM01202')
sqlsu "SELECT count(pg_terminate_backend(pid)) FROM ($appconns) a" >/dev/null
gone=
for _ in $(seq 1 50); do
    [ -z "$(sql "$appconns")" ] && { gone=1; break; }
    sleep 0.2
done
is "${gone:-no}" 1 "the app's backend is gone"

# ---- 3. the purge borrows the dead connection and leaves it BAD -----------
for _ in $(seq 1 120); do
    [ "$(lines 'LCRM01641')" -gt "$purges" ] && break
    sleep 0.5
done
if [ "$(lines 'LCRM01641')" -gt "$purges" ]; then
    ok "the audit purge ran on the dead connection (LCRM01641)"
else
    nok "no audit purge failure logged within 60 s"
fi

# ---- 4. new statements after mod_dbd's reset --------------------------------
lead='{"name":"Prepared","email":"lead'$$'@example.com"}'
st=$(req POST /api/leads "$lead")
is "$st" 201 "lead capture after the reset (statements new to this connection)"
newpids=$(sql "$appconns")
if [ -n "$newpids" ] && [ "$newpids" != "$pids" ]; then
    ok "a new backend serves the connection ($pids -> $newpids)"
else nok "backend after the reset: '$newpids' (before: $pids)"; fi
is "$(lines 'LCRM01810\|LCRM01202')" "$resets" \
   "the reset was mod_dbd's at acquire time, not the module's"

# ---- 5. statements prepared before the reset --------------------------------
st=$(req GET /auth/profile "" -H "Authorization: Bearer $tok")
is "$st" 200 "profile after the reset (its statements missing on the new backend)"

# ---- 6. the statements of step 4 again --------------------------------------
st=$(req POST /api/leads "${lead/lead$$/again$$}")
is "$st" 201 "lead capture again (old code: 42P05, 5xx)"
st=$(req GET /auth/profile "" -H "Authorization: Bearer $tok")
is "$st" 200 "profile again"
is "$(sql "SELECT count(*) FROM leads WHERE email IN ('lead$$@example.com', 'again$$@example.com')")" 2 "two leads"

sleep 0.5
if ! grep -q '42P05' "$T/error.log"; then ok "no 42P05 in the error log"
else nok "42P05 in the error log: $(grep '42P05' "$T/error.log" | head -3)"; fi

echo "1..$n"
[ "$fails" -eq 0 ]
