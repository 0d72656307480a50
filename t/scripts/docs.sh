#!/usr/bin/env bash
# t/scripts/docs.sh: the API docs build and render (TAP).
#
# Builds docs/site/index.html from docs/openapi.yaml (scripts/docs: npm ci
# of @redocly/cli, lint, Redoc build), serves docs/site with python3's
# http.server on 127.0.0.1, renders it with headless Chromium and checks
# the screenshot is not blank and the rendered DOM holds the operations.
# Without node/npm (or chromium, which it installs through apt-get when
# root) the affected tests are skipped.  Runs in well under two minutes.
#
#   bash t/scripts/docs.sh [REPO_ROOT]
set -uo pipefail

ROOT=${1:-$(cd "$(dirname "$0")/../.." && pwd)}
TMP=$(mktemp -d /tmp/leadcrm-docs-test.XXXXXX)
SERVER_PID=""
cleanup() {
    [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null
    rm -rf "$TMP"
}
trap cleanup EXIT

N=8
n=0
echo "1..$N"
ok()   { n=$((n + 1)); echo "ok $n - $*"; }
nok()  { n=$((n + 1)); echo "not ok $n - $*"; }
check() { local what=$1; shift; if "$@"; then ok "$what"; else nok "$what"; fi; }
skip_rest() { while [ "$n" -lt "$N" ]; do n=$((n + 1)); echo "ok $n # skip $*"; done; exit 0; }

node_ok() {
    command -v node >/dev/null && command -v npm >/dev/null || return 1
    # @redocly/cli needs node >= 20.19
    node -e 'const [a,b]=process.versions.node.split(".").map(Number);
             process.exit(a > 20 || (a === 20 && b >= 19) ? 0 : 1)'
}
node_ok || skip_rest "node >= 20.19 and npm not available"

# 1. build (npm ci when needed, lint, Redoc)
if "$ROOT/scripts/docs" >"$TMP/build.log" 2>&1; then
    ok "scripts/docs builds docs/site/index.html"
else
    sed 's/^/# /' "$TMP/build.log" | tail -n 30
    nok "scripts/docs builds docs/site/index.html"
    skip_rest "no docs built"
fi
SITE="$ROOT/docs/site"
# 2. self-contained: no script or stylesheet from elsewhere
check "the page loads no script or stylesheet from a CDN" \
    bash -c "! grep -Eiq '<(script|link)[^>]+(src|href)=\"?(https?:)?//' '$SITE/index.html'"
# the Redocly badge logo is vendored (the /docs CSP allows img-src data: only)
check "the Redocly badge loads no image from cdn.redoc.ly" \
    bash -c "! grep -Eq 'https://cdn\.redoc\.ly/[A-Za-z0-9/._-]*\.(svg|png)' '$SITE/index.html'"

command -v chromium >/dev/null || {
    if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
        DEBIAN_FRONTEND=noninteractive timeout 600 apt-get install -y -qq \
            --no-install-recommends chromium >/dev/null 2>&1 || true
    fi
}
command -v chromium >/dev/null || skip_rest "chromium not available"
command -v python3 >/dev/null || skip_rest "python3 not available"

# 3. served over HTTP on the loopback
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
python3 -m http.server "$PORT" --bind 127.0.0.1 --directory "$SITE" \
    >"$TMP/http.log" 2>&1 &
SERVER_PID=$!
URL="http://127.0.0.1:$PORT/index.html"
up=1
for _ in $(seq 1 50); do
    if python3 -c "import urllib.request, sys; urllib.request.urlopen(sys.argv[1], timeout=2)" "$URL" 2>/dev/null; then
        up=0; break
    fi
    sleep 0.1
done
check "python3 http.server serves docs/site on 127.0.0.1:$PORT" test "$up" -eq 0

# 4, 5. the rendered page: a real screenshot, not a blank one
SHOT="$TMP/docs.png"
"$ROOT/scripts/docs-screenshot" "$URL" "$SHOT" "$TMP/dom.html" >"$TMP/shot.log" 2>&1 \
    || sed 's/^/# /' "$TMP/shot.log" | tail -n 20
check "headless Chromium wrote a screenshot" test -s "$SHOT"
size=$(stat -c %s "$SHOT" 2>/dev/null || echo 0)
echo "# screenshot: $size bytes"
check "the screenshot is not blank (> 20 kB)" test "$size" -gt 20000

# 6, 7. the DOM after Redoc ran holds the title and the operations
check "the rendered page has the API title" grep -q 'mod_leadcrm API' "$TMP/dom.html"
missing=""
for op in "Register" "Log in" "Refresh the access token" "List users" \
          "Capture a lead" "Lead statistics" "Book a consultation" \
          "Free slots of a day" "Health check"; do
    grep -q "$op" "$TMP/dom.html" || missing="$missing [$op]"
done
[ -z "$missing" ] || echo "# operations missing from the DOM:$missing"
check "the rendered page lists the operations (Register, ...)" test -z "$missing"
