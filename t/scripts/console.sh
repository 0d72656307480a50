#!/usr/bin/env bash
# t/scripts/console.sh: the browser console end to end (TAP).
#
# Starts its own PostgreSQL (seeded with 100,000 leads) and two httpd nodes
# loading the module just built and serving console/ at /console/, then
# drives Debian's chromium with npm playwright-core (t/console/e2e.mjs, deps
# from t/console/package-lock.json) and checks the vendored libraries equal
# the locked npm packages.  Screenshots land in t/console/out/.
#   bash t/scripts/console.sh REPO_ROOT
set -uo pipefail
ROOT=${1:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$ROOT/scripts/lib.sh"

n=0
ok()  { n=$((n + 1)); echo "ok $n - $*"; }
nok() { n=$((n + 1)); echo "not ok $n - $*"; }

if ! command -v chromium >/dev/null && [ "$(id -u)" -eq 0 ]; then
    DEBIAN_FRONTEND=noninteractive timeout 600 apt-get install -y -qq \
        --no-install-recommends chromium >/dev/null 2>&1 || true
fi
if ! command -v chromium >/dev/null || ! command -v npm >/dev/null; then
    echo "1..1"; echo "ok 1 # skip chromium or npm not available"; exit 0
fi

T=$(mktemp -d /tmp/leadcrm-console.XXXXXX); chmod 755 "$T"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
PA=$(free_port) PB=$(free_port)
mods=/usr/lib/apache2/modules
cleanup() {
    for n in a b; do
        [ -f "$T/$n/httpd.pid" ] && kill -TERM "$(cat "$T/$n/httpd.pid")" 2>/dev/null
    done
    sleep 1; lcrm_pg_stop "$T"; rm -rf "$T"
}
trap cleanup EXIT INT TERM

lcrm_pg_start "$T" 2>"$T/pg.err" || { cat "$T/pg.err"; exit 1; }
lcrm_make_key "$T/jwt.key"
lcrm_make_data_key "$T/data.key"

# console files must be reachable by the httpd workers (the checkout may sit
# under a 0700 home): serve a copy from the run directory
cp -r "$ROOT/console" "$T/console"; rm -rf "$T/console/node_modules"
chmod -R a+rX "$T/console"

node() {   # $1 = name, $2 = port
    mkdir -p "$T/$1"
    {
        lcrm_httpd_conf_head "$T/$1" "$ROOT/.libs/mod_leadcrm.so" alias mime dir
        cat <<CONF
LogLevel warn
Listen 127.0.0.1:$2
TypesConfig /etc/mime.types
StartServers 1
ThreadsPerChild 16
MaxRequestWorkers 16
Define LEADCRM_DBD_PARAMS "host=$T/run/pg dbname=leadcrm user=leadcrm connect_timeout=2"
Define LEADCRM_KEY_FILE "$T/jwt.key"
Define LEADCRM_CONSOLE_DIR "$T/console"
Include "$ROOT/conf/leadcrm.conf"
DBDMax 16
LeadCRMCookieSecure Off
LeadCRMDataKeyFile "$T/data.key"
LeadCRMRateLimit general 0 1m
LeadCRMRateLimit auth 0 1m
LeadCRMRateLimit public-write 0 1m
CONF
    } > "$T/$1/httpd.conf"
    "${LCRM_HTTPD:-/usr/sbin/apache2}" -f "$T/$1/httpd.conf" -k start
}
node a "$PA"; node b "$PB"

# data: a SUPER_ADMIN, an ADMIN, a USER, 100,000 leads and one to find
AP="Console-admin-$RANDOM-pw"
printf '%s\n' "$AP" | "$ROOT/leadcrm-admin" create-admin --email console.admin@example.com \
    --name 'Console Admin' --role SUPER_ADMIN --password-stdin --cost 10 >/dev/null \
    || { nok "create the console admin"; echo "1..$n"; exit 1; }
printf '%s\n' "$AP" | "$ROOT/leadcrm-admin" create-admin --email second.admin@example.com \
    --name 'Second Admin' --role ADMIN --password-stdin --cost 10 >/dev/null
psql -X -q -v ON_ERROR_STOP=1 >/dev/null <<'SQL' || { nok "seed 100,000 leads"; echo "1..$n"; exit 1; }
INSERT INTO leads (name, email, company, source, status, lost_reason, converted_at, created_at, updated_at)
SELECT 'Lead ' || g, 'lead' || g || '@example.com', 'Company ' || (g % 97),
       (enum_range(NULL::lcrm_lead_source))[1 + g % 7], st,
       CASE WHEN st = 'LOST' THEN 'Budget' END,
       CASE WHEN st = 'CONVERTED' THEN now() - (g || ' seconds')::interval END,
       now() - (g || ' minutes')::interval, now() - (g || ' minutes')::interval
FROM generate_series(1, 100000) g,
     LATERAL (SELECT (enum_range(NULL::lcrm_lead_status))[1 + g % 6] AS st) s;
INSERT INTO leads (name, email, company) VALUES ('Keyboard Target', 'kb.target@example.com', 'Target Co');
ANALYZE leads;
SQL
ok "seeded 100,000 leads"
for i in $(seq 1 50); do
    curl -sf -o /dev/null "http://127.0.0.1:$PA/health" && curl -sf -o /dev/null "http://127.0.0.1:$PB/health" && break
    sleep 0.2
done
UP="Console-user-$RANDOM-pw"
code=$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' \
    -d "{\"email\":\"console.user@example.com\",\"password\":\"$UP\",\"name\":\"Console User\"}" \
    "http://127.0.0.1:$PA/auth/register")
[ "$code" = 201 ] && ok "a USER registered" || nok "a USER registered ($code)"

# vendored libraries equal the locked npm packages
if (cd "$ROOT/console" && bash vendor.sh --check) >"$T/vendor.log" 2>&1; then
    ok "console/vendor equals the packages of console/package-lock.json"
else
    sed 's/^/# /' "$T/vendor.log" | tail -5; nok "console/vendor equals the locked packages"
fi

if ! (cd "$ROOT/t/console" && npm ci --no-audit --no-fund --silent) >"$T/npm.log" 2>&1; then
    sed 's/^/# /' "$T/npm.log" | tail -10; nok "npm ci in t/console"; echo "1..$n"; exit 1
fi
mkdir -p "$ROOT/t/console/out"
E2E_PART2=1 BASE_A="http://127.0.0.1:$PA" BASE_B="http://127.0.0.1:$PB" \
ADMIN_EMAIL=console.admin@example.com ADMIN_PASSWORD="$AP" \
USER_EMAIL=console.user@example.com USER_PASSWORD="$UP" \
OUT="$ROOT/t/console/out" CHROMIUM=$(command -v chromium) \
    timeout 300 node "$ROOT/t/console/e2e.mjs" > "$T/e2e.txt" 2>"$T/e2e.err"
rc=$?
# renumber the e2e TAP lines after ours
while IFS= read -r line; do
    case "$line" in
        "ok "*) ok "${line#ok * - }" ;;
        "not ok "*) nok "${line#not ok * - }" ;;
        "#"*) echo "$line" ;;
    esac
done < "$T/e2e.txt"
if [ "$rc" -ne 0 ] && ! grep -q '^not ok' "$T/e2e.txt"; then
    sed 's/^/# /' "$T/e2e.err" | tail -20; nok "e2e.mjs exited $rc"
fi
for f in a b; do
    if grep -qiE 'segfault|AH00052' "$T/$f/error.log"; then nok "node $f error log has a crash"; else ok "node $f: no crash in the error log"; fi
done
echo "1..$n"
