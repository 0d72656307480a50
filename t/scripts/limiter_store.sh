#!/usr/bin/env bash
# Rate limits on the memcached store when it fails (issue 10, items 1 and
# 15): with the store at a closed port, and with a memcached stopped in
# the middle of the run, login-failures fails CLOSED (even the right
# password gets 429) while the general class fails OPEN, and the log says
# which; a list of 9 servers is used whole (the live one is the 9th).
# Real httpd, PostgreSQL and memcached; ports picked free at run time.
# TAP output.  Usage: t/scripts/limiter_store.sh REPO_ROOT
set -u
ROOT=${1:?repo root}
. "$ROOT/scripts/lib.sh"
HTTPD=${LCRM_HTTPD:-/usr/sbin/apache2}
mods=/usr/lib/apache2/modules
T=$(mktemp -d /tmp/lcrm-store.XXXXXX); chmod 755 "$T"
n=0 fails=0
ok()  { n=$((n + 1)); echo "ok $n - $1"; }
nok() { n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n - $1"; }
check() { if [ "$2" = "$3" ]; then ok "$1"; else nok "$1 (got '$2', want '$3')"; fi; }

httpd_stop() {
    [ -f "$T/httpd.pid" ] || return 0
    local pid; pid=$(cat "$T/httpd.pid")
    kill -TERM "$pid" 2>/dev/null
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    rm -f "$T/httpd.pid"
}
MCPID=""
mc_stop() {
    [ -n "$MCPID" ] || return 0
    kill -TERM "$MCPID" 2>/dev/null
    wait "$MCPID" 2>/dev/null
    MCPID=""
}
cleanup() { httpd_stop; mc_stop; lcrm_pg_stop "$T"; rm -rf "$T"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

# a free TCP port on 127.0.0.1 (nothing listens on it afterwards)
free_port() { perl -MIO::Socket::INET -e 'print IO::Socket::INET->new(Listen => 1, LocalAddr => "127.0.0.1", LocalPort => 0)->sockport'; }

lcrm_pg_start "$T" 2>"$T/pg.err" || { cat "$T/pg.err"; exit 1; }
lcrm_make_key "$T/jwt.key"
PORT=$(free_port)
MC=$(free_port)

# memcached in the foreground, as a child of this script (stopped by pid)
mc_start() {
    if [ "$(id -u)" -eq 0 ]; then
        memcached -l 127.0.0.1 -p "$MC" -U 0 -u memcache -m 16 &
    else
        memcached -l 127.0.0.1 -p "$MC" -U 0 -m 16 &
    fi
    MCPID=$!
    for _ in $(seq 50); do
        perl -MIO::Socket::INET -e 'exit !IO::Socket::INET->new("127.0.0.1:'"$MC"'")' && return 0
        sleep 0.1
    done
}

# httpd_start STORE-SERVERS
httpd_start() {
    : > "$T/error.log"
    cat > "$T/httpd.conf" <<CONF
ServerRoot "$T"
PidFile "$T/httpd.pid"
DefaultRuntimeDir "$T"
ErrorLog "$T/error.log"
LogLevel warn
Listen 127.0.0.1:$PORT
ServerName 127.0.0.1
LoadModule mpm_event_module $mods/mod_mpm_event.so
LoadModule authz_core_module $mods/mod_authz_core.so
LoadModule authn_core_module $mods/mod_authn_core.so
LoadModule headers_module $mods/mod_headers.so
LoadModule remoteip_module $mods/mod_remoteip.so
LoadModule dbd_module $mods/mod_dbd.so
LoadModule unique_id_module $mods/mod_unique_id.so
LoadModule leadcrm_module "$ROOT/.libs/mod_leadcrm.so"
StartServers 1
ServerLimit 1
ThreadsPerChild 8
MinSpareThreads 1
MaxSpareThreads 8
MaxRequestWorkers 8
Define LEADCRM_DBD_PARAMS "host=$T/run/pg dbname=leadcrm user=leadcrm connect_timeout=2"
Define LEADCRM_KEY_FILE "$T/jwt.key"
Include "$ROOT/conf/leadcrm.conf"
DBDMax 8
LeadCRMCookieSecure Off
RemoteIPHeader X-Forwarded-For
RemoteIPInternalProxy 127.0.0.1
LeadCRMRateLimitStore memcache $1
LeadCRMRateLimit general 100 1h
LeadCRMRateLimit auth 0 1m
LeadCRMRateLimit login-failures 3 1h
CONF
    if [ "$(id -u)" -eq 0 ]; then
        printf 'User %s\nGroup %s\n' nobody nogroup >> "$T/httpd.conf"
    fi
    "$HTTPD" -f "$T/httpd.conf" -k start || return 1
    for _ in $(seq 50); do
        curl -s -o /dev/null "http://127.0.0.1:$PORT/openapi.yaml" && return 0
        sleep 0.2
    done
    return 1
}

# code METHOD PATH [BODY] [CLIENT]: the HTTP status
code() {
    curl -s -o /dev/null -w '%{http_code}' -X "$1" -H 'Content-Type: application/json' \
        -H "X-Forwarded-For: ${4:-192.0.2.1}" ${3:+--data "$3"} "http://127.0.0.1:$PORT$2"
}
login() { code POST /auth/login "{\"email\":\"$1\",\"password\":\"$2\"}" "${3:-192.0.2.1}"; }
register() { code POST /auth/register "{\"email\":\"$1\",\"password\":\"right password\",\"name\":\"S\"}"; }

E1="store1.$$@example.com" E2="store2.$$@example.com" E3="store3.$$@example.com"
E4="store4.$$@example.com"

# 1. the store at a closed port from the start
CLOSED=$(free_port)
if httpd_start "127.0.0.1:$CLOSED"; then ok "httpd starts with memcached unreachable"
else nok "httpd did not start"; tail -5 "$T/error.log"; fi
check "register works (limits of other classes fail open)" "$(register "$E1")" 201
check "general class fails open" "$(code GET /health)" 200
check "login-failures fails closed: the right password gets 429" "$(login "$E1" 'right password')" 429
if grep -q 'failing closed for login-failures' "$T/error.log"; then ok "the log says login-failures fails closed"
else nok "no 'failing closed for login-failures' in the log"; fi
if grep -q 'failing open for general' "$T/error.log"; then ok "the log says general fails open"
else nok "no 'failing open for general' in the log"; fi
httpd_stop

# 2. memcached alive, then stopped in the middle of the run
mc_start
httpd_start "127.0.0.1:$MC" || nok "httpd did not start"
register "$E2" >/dev/null; register "$E3" >/dev/null
check "memcached up: the right password logs in" "$(login "$E2" 'right password' 192.0.2.2)" 200
w=$(for _ in 1 2 3; do login "$E2" 'wrong password' 192.0.2.2; echo; done | tr '\n' ' ')
check "three wrong passwords" "$w" "401 401 401 "
check "counted in memcached: the right password now gets 429" "$(login "$E2" 'right password' 192.0.2.2)" 429
mc_stop
check "memcached stopped: general still answers (open)" "$(code GET /health '' 192.0.2.3)" 200
check "memcached stopped: a login is refused (closed)" "$(login "$E3" 'right password' 192.0.2.3)" 429
check "and again (server marked dead)" "$(login "$E3" 'right password' 192.0.2.3)" 429
httpd_stop

# 3. nine servers, only the ninth alive: the whole list is used
mc_start
list=""
for _ in 1 2 3 4 5 6 7 8; do list="${list}127.0.0.1:$(free_port),"; done
httpd_start "${list}127.0.0.1:$MC" || nok "httpd did not start with 9 servers"
register "$E4" >/dev/null
check "9 servers: the right password logs in" "$(login "$E4" 'right password' 192.0.2.4)" 200
w=$(for _ in 1 2 3; do login "$E4" 'wrong password' 192.0.2.4; echo; done | tr '\n' ' ')
check "9 servers: three wrong passwords" "$w" "401 401 401 "
check "9 servers: counted on the ninth, the right password gets 429" "$(login "$E4" 'right password' 192.0.2.4)" 429
httpd_stop

echo "1..$n"
[ "$fails" -eq 0 ]
