#!/usr/bin/env bash
# t/scripts/private_checkout.sh: README's two commands work from a checkout
# under a directory only its owner can enter (issue 16, item 0).
#
# /root is 0700, and Debian 12 makes user homes 0700: PostgreSQL (user
# postgres) and httpd's workers (www-data, nobody) cannot enter such a
# checkout.  This clones the repository (git clone when the work tree is
# clean, else a copy of its source files with the local changes) into a
# 0700 directory and runs there:
#   - scripts/test t/api/health.t   (a reduced HTTP run; ends "N passed, 0 failed")
#   - scripts/dev on a free port: /health answers 200, /docs/ and
#     /openapi.yaml 200, then SIGTERM stops httpd and PostgreSQL.
# Cleans up the copy and the state directory scripts/dev made.
#
#   bash t/scripts/private_checkout.sh [REPO_ROOT]
set -uo pipefail

ROOT=${1:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$ROOT/scripts/lib.sh"
P=$(mktemp -d /tmp/leadcrm-private.XXXXXX)   # 0700, like /root
chmod 700 "$P"
C="$P/checkout"
DEV_PID="" STATE=""
cleanup() {
    if [ -n "$DEV_PID" ] && kill -0 "$DEV_PID" 2>/dev/null; then
        kill -TERM "$DEV_PID" 2>/dev/null; wait "$DEV_PID" 2>/dev/null
    fi
    [ -n "$STATE" ] && [ -d "$STATE" ] && rm -rf "$STATE"
    rm -rf "$P"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

N=8
n=0
echo "1..$N"
ok()   { n=$((n + 1)); echo "ok $n - $*"; }
nok()  { n=$((n + 1)); echo "not ok $n - $*"; }
check() { local what=$1; shift; if "$@"; then ok "$what"; else nok "$what"; fi; }

if git -C "$ROOT" rev-parse --is-inside-work-tree >/dev/null 2>&1 \
    && [ -z "$(git -C "$ROOT" status --porcelain 2>/dev/null)" ]; then
    git clone -q "$ROOT" "$C" && how="git clone"
else
    lcrm_copy_source "$ROOT" "$C" && rm -rf "$C/docs/site" "$C/docs/node_modules" \
        && how="copy of the work tree (local changes)"
fi
chmod 700 "$P"
check "the checkout ($how) is under a 0700 directory" \
    test "$(stat -c %a "$P")" = 700 -a -x "$C/scripts/test"

# 1. scripts/test, reduced to one HTTP file
( cd "$C" && scripts/test t/api/health.t ) >"$P/test.out" 2>&1
last=$(tail -n 1 "$P/test.out")
if [[ $last =~ ^([0-9]+)\ passed,\ 0\ failed$ ]] && [ "${BASH_REMATCH[1]}" -gt 0 ]; then
    ok "scripts/test from the private checkout: $last"
else
    sed 's/^/# /' "$P/test.out" | tail -n 40
    nok "scripts/test from the private checkout: $last"
fi

# 2. scripts/dev on a free port
port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
( cd "$C" && LEADCRM_PORT=$port LEADCRM_DOCS_BUILD=0 \
    LEADCRM_ACCESS_LOG=/dev/null LEADCRM_ADMIN_PASSWORD='dev-pass-1234' \
    exec setsid scripts/dev ) >"$P/dev.out" 2>&1 &
DEV_PID=$!
code=000
# (it builds the fresh clone first, silently: minutes on a loaded machine)
for _ in $(seq 1 1200); do
    code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/health" || true)
    [ "$code" = 200 ] && break
    kill -0 "$DEV_PID" 2>/dev/null || break
    sleep 0.5
done
if [ -L "$C/var" ]; then STATE=$(readlink -f "$C/var"); fi
if [ "$code" = 200 ]; then ok "scripts/dev: /health 200"
else sed 's/^/# /' "$P/dev.out" | tail -n 30; nok "scripts/dev: /health 200 (got $code)"; fi
if [ "$(id -u)" -eq 0 ]; then
    check "scripts/dev keeps its state where postgres/www-data reach it" \
        lcrm_reachable "${STATE:-$C/var}"
else
    ok "scripts/dev state: services run as $(id -un) # skip not root"
fi
docs=$(curl -s -o /dev/null -w '%{http_code} %{content_type}' "http://127.0.0.1:$port/docs/")
check "scripts/dev serves /docs/ (mod_dir): $docs" bash -c '[[ $1 == "200 text/html"* ]]' _ "$docs"
spec=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/openapi.yaml")
check "scripts/dev serves /openapi.yaml" [ "$spec" = 200 ]
login=$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' \
    -d '{"email":"admin@example.com","password":"dev-pass-1234"}' "http://127.0.0.1:$port/auth/login")
check "scripts/dev: the first SUPER_ADMIN logs in" [ "$login" = 200 ]
kill -TERM "$DEV_PID" 2>/dev/null
wait "$DEV_PID" 2>/dev/null
DEV_PID=""
check "SIGTERM stops httpd and PostgreSQL" \
    bash -c "! curl -s -o /dev/null http://127.0.0.1:$port/health && [ ! -e '${STATE:-$C/var}/pg/postmaster.pid' ]"
