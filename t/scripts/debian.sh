#!/usr/bin/env bash
# t/scripts/debian.sh: the Debian package, end to end (TAP; issue 16 item 1).
#
# Builds libapache2-mod-leadcrm with `dpkg-buildpackage -us -uc -b` from a
# copy of the source, runs lintian on it, installs it into the system Apache
# the way README's install section says (apt install ./*.deb, `leadcrm-admin
# prepare-db`, a2enmod, apachectl -t) on a throwaway port, smoke-tests it
# (/health, register, login, lead, booking, installed create_admin, an admin
# read, /docs/, /openapi.yaml, leadcrm-admin list-users / seed-demo, migrate
# --status), upgrades it to a re-versioned copy of the same package (an
# edited leadcrm.conf must survive), then purges it and checks that nothing
# is left (dpkg -L, /etc/apache2 files and links, /usr paths).  The machine
# is left as found: ports.conf restored, apache2 and the system PostgreSQL
# cluster stopped again if they were, the database and roles it made
# dropped.  Needs root (it installs a package): otherwise one skip.
#
#   bash t/scripts/debian.sh [REPO_ROOT]
set -uo pipefail

ROOT=${1:-$(cd "$(dirname "$0")/../.." && pwd)}
PKG=libapache2-mod-leadcrm
if [ "$(id -u)" -ne 0 ]; then
    echo "1..1"; echo "ok 1 # skip not root (installs a package into the system Apache)"; exit 0
fi
. "$ROOT/scripts/lib.sh"
# The system Apache, the system cluster and dpkg are shared by the whole
# machine: two runs of this test (two checkouts) take turns.
exec 9>/run/lock/leadcrm-debian-test.lock
if ! flock -w 900 9; then
    echo "1..1"; echo "not ok 1 - another run of this test held the lock for 15 minutes"; exit 1
fi
# the system cluster, not the suite's throwaway one (scripts/test exports PG*)
unset PGHOST PGHOSTADDR PGPORT PGUSER PGDATABASE PGOPTIONS PGSERVICE PGPASSWORD PGPASSFILE
if dpkg-query -W -f='${Status}' "$PKG" 2>/dev/null | grep -q installed; then
    echo "1..1"; echo "not ok 1 - $PKG is already installed here; refusing to touch it"; exit 1
fi

T=$(mktemp -d /tmp/leadcrm-deb.XXXXXX)
chmod 755 "$T"
PORTS=/etc/apache2/ports.conf
cp -p "$PORTS" "$T/ports.conf.orig"
# the system Apache only (other httpd instances may run on this machine)
APIDF=/var/run/apache2/apache2.pid
sys_apache_up() { [ -s "$APIDF" ] && kill -0 "$(cat "$APIDF")" 2>/dev/null; }
APACHE_WAS_UP=0; sys_apache_up && APACHE_WAS_UP=1
MODS_BEFORE=$(ls /etc/apache2/mods-enabled)
STATE_BEFORE=$(find /var/lib/apache2 2>/dev/null | sort)
PGVER=$(ls /usr/lib/postgresql 2>/dev/null | sort -V | tail -n 1)
PG_WAS_UP=1
pg_lsclusters -h 2>/dev/null | awk -v v="$PGVER" '$1==v && $2=="main"' | grep -q online || PG_WAS_UP=0
pg_q() { (cd / && runuser -u postgres -- psql -X -qAt -d postgres "$@"); }
HAD_DB="" HAD_WEBROLE="" HAD_OWNER=""
( cd /etc/apache2 && find . -path ./ports.conf -prune -o -print | sort ) > "$T/etc-before"

# a2enmod leadcrm also enabled its dependencies (dbd, headers, ...): a
# package purge rightly leaves them (others may use them); the test puts
# mods-enabled back as it found it
restore_mods() {
    local f
    for f in /etc/apache2/mods-enabled/*; do
        grep -qxF "${f##*/}" <<<"$MODS_BEFORE" || rm -f "$f"
    done
    # and a2enmod's state under /var/lib/apache2 (enabled_by_maint/dbd, ...)
    find /var/lib/apache2 -depth 2>/dev/null | while read -r f; do
        grep -qxF "$f" <<<"$STATE_BEFORE" || { rm -f "$f" 2>/dev/null || rmdir "$f" 2>/dev/null; }
    done
}
cleanup() {
    trap - EXIT INT TERM
    sys_apache_up && apache2ctl stop >/dev/null 2>&1
    for _ in $(seq 1 20); do sys_apache_up || break; sleep 0.5; done
    if dpkg-query -W -f='${Status}' "$PKG" 2>/dev/null | grep -q 'installed\|config-files'; then
        DEBIAN_FRONTEND=noninteractive dpkg -P "$PKG" >/dev/null 2>&1
    fi
    cp -p "$T/ports.conf.orig" "$PORTS"
    restore_mods
    if [ "$PG_STARTED" = 1 ] || [ "$PG_WAS_UP" = 1 ]; then
        [ "$HAD_DB" = 0 ] && pg_q -c 'DROP DATABASE IF EXISTS leadcrm' >/dev/null 2>&1
        [ "$HAD_WEBROLE" = 0 ] && pg_q -c 'DROP ROLE IF EXISTS "www-data"' >/dev/null 2>&1
        [ "$HAD_OWNER" = 0 ] && pg_q -c 'DROP ROLE IF EXISTS leadcrm' >/dev/null 2>&1
    fi
    [ "$PG_STARTED" = 1 ] && pg_ctlcluster "$PGVER" main stop >/dev/null 2>&1
    [ "$APACHE_WAS_UP" = 1 ] && apache2ctl start >/dev/null 2>&1
    rm -rf "$T"
}
PG_STARTED=0
trap cleanup EXIT
trap 'exit 130' INT TERM

N=28
n=0
echo "1..$N"
ok()   { n=$((n + 1)); echo "ok $n - $*"; }
nok()  { n=$((n + 1)); echo "not ok $n - $*"; }
check() { local what=$1; shift; if "$@"; then ok "$what"; else nok "$what"; fi; }
skip_rest() { while [ "$n" -lt "$N" ]; do n=$((n + 1)); echo "not ok $n - $* (not reached)"; done; exit 1; }
J() { /usr/bin/python3 -c "import json,sys; d=json.load(sys.stdin); print(eval(sys.argv[1]))" "$1"; }

# 1. build from a copy (dpkg-buildpackage writes into the parent directory)
lcrm_copy_source "$ROOT" "$T/src" && rm -rf "$T/src/docs/node_modules"
if (cd "$T/src" && DEB_BUILD_OPTIONS="nocheck noddebs parallel=2" dpkg-buildpackage -us -uc -b) >"$T/build.log" 2>&1; then
    ok "dpkg-buildpackage -us -uc -b builds $PKG"
else
    tail -n 40 "$T/build.log" | sed 's/^/# /'; nok "dpkg-buildpackage -us -uc -b"; skip_rest "no package"
fi
DEB=$(ls "$T"/${PKG}_*.deb | head -n 1)

# 2. lintian: no error or warning (overrides in debian/*.lintian-overrides)
lintian --fail-on error,warning "$T"/*.changes >"$T/lintian.log" 2>&1
rc=$?
sed 's/^/# /' "$T/lintian.log"
check "lintian reports no error or warning" [ "$rc" = 0 ]

# 3. contents: Debian layout, conffiles, dependencies
contents=$(dpkg-deb -c "$DEB")
check "the .deb has the module, the .load/.conf, leadcrm-admin, its man page, completion, SQL, docs" \
    bash -c 'for f in ./usr/lib/apache2/modules/mod_leadcrm.so ./etc/apache2/mods-available/leadcrm.load \
        ./etc/apache2/mods-available/leadcrm.conf ./usr/sbin/leadcrm-admin ./usr/share/man/man8/leadcrm-admin.8.gz \
        ./usr/share/bash-completion/completions/leadcrm-admin ./usr/share/mod_leadcrm/sql/0001_schema.sql \
        ./usr/share/mod_leadcrm/docs/openapi.yaml ./usr/share/mod_leadcrm/docs/site/index.html \
        ./usr/share/mod_leadcrm/examples/leadcrm-hardening.conf ./etc/apache2/sites-available/leadcrm-site.conf \
        ./usr/share/doc/libapache2-mod-leadcrm/copyright; do
        grep -q " $f\$" <<<"$1" || { echo "# missing $f"; exit 1; }; done' _ "$contents"
check "the apache2 config files are conffiles" \
    bash -c "dpkg-deb -I '$DEB' conffiles | grep -q '^/etc/apache2/mods-available/leadcrm.conf$'"
check "Depends: apache2-api-20120211 (dh_apache2)" \
    bash -c "dpkg-deb -f '$DEB' Depends | grep -q 'apache2-api-20120211'"

# 4. the system Apache on a throwaway port (stopped for the test when it
# was running; started again at the end), the system PostgreSQL
if [ "$APACHE_WAS_UP" = 1 ]; then
    apache2ctl stop >/dev/null 2>&1
    for _ in $(seq 1 40); do sys_apache_up || break; sleep 0.5; done
fi
port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
printf 'Listen 127.0.0.1:%s\n' "$port" > "$PORTS"
if [ "$PG_WAS_UP" = 0 ]; then
    pg_ctlcluster "$PGVER" main start >/dev/null 2>&1 && PG_STARTED=1
fi
HAD_DB=$(pg_q -c "SELECT count(*) FROM pg_database WHERE datname='leadcrm'")
HAD_WEBROLE=$(pg_q -c "SELECT count(*) FROM pg_roles WHERE rolname='www-data'")
HAD_OWNER=$(pg_q -c "SELECT count(*) FROM pg_roles WHERE rolname='leadcrm'")
check "the system PostgreSQL cluster is up" [ -n "$HAD_DB" ]

# README's package path
check "apt install ./$(basename "$DEB")" \
    bash -c "cd '$T' && DEBIAN_FRONTEND=noninteractive apt-get install -y -q ./'$(basename "$DEB")' >'$T/apt.log' 2>&1 || { sed 's/^/# /' '$T/apt.log'; exit 1; }"
check "postinst enabled the module and made the 0400 token key" \
    bash -c '[ -L /etc/apache2/mods-enabled/leadcrm.load ] && [ -L /etc/apache2/mods-enabled/dbd.load ] && [ "$(stat -c %a /etc/apache2/leadcrm/jwt.key)" = 400 ]'
check "leadcrm-admin prepare-db (the one database command)" \
    bash -c "leadcrm-admin prepare-db >'$T/prep.log' 2>&1 || { sed 's/^/# /' '$T/prep.log'; exit 1; }"
check "leadcrm-admin prepare-db again is a no-op" \
    bash -c "leadcrm-admin prepare-db 2>&1 | grep -q 'nothing to apply'"
a2enmod -q leadcrm >/dev/null 2>&1
apache2ctl -t >"$T/t.log" 2>&1
rc=$?
check "a2enmod leadcrm; apachectl -t: Syntax OK" bash -c "[ $rc = 0 ] && grep -q 'Syntax OK' '$T/t.log'"
check "apachectl -t warns about DBDMax x processes vs max_connections, with the numbers" \
    grep -q 'LCRM01302: up to 150 PostgreSQL connections from this server (DBDMax 25 x 6 child processes)' "$T/t.log"
apache2ctl start >"$T/start.log" 2>&1
B="http://127.0.0.1:$port"
code=000
for _ in $(seq 1 240); do
    code=$(curl -s -o /dev/null -w '%{http_code}' "$B/health") && [ "$code" = 200 ] && break
    sleep 0.25
done
if [ "$code" = 200 ]; then ok "/health 200 with the shipped DBDParams (peer as www-data)"
else
    sed 's/^/# start: /' "$T/start.log"; tail -n 20 /var/log/apache2/error.log 2>/dev/null | sed 's/^/# error.log: /'
    nok "/health 200 with the shipped DBDParams (peer as www-data) (got $code)"
fi

# 5. smoke: register, login, lead, booking
email="deb-$$@example.com"
reg=$(curl -s -o "$T/reg.json" -w '%{http_code}' -H 'Content-Type: application/json' \
    -d "{\"email\":\"$email\",\"password\":\"correct horse 1\",\"name\":\"Deb Test\"}" "$B/auth/register")
check "POST /auth/register 201" [ "$reg" = 201 ]
login=$(curl -s -o "$T/login.json" -w '%{http_code}' -H 'Content-Type: application/json' \
    -d "{\"email\":\"$email\",\"password\":\"correct horse 1\"}" "$B/auth/login")
token=$(J 'd["accessToken"]' <"$T/login.json" 2>/dev/null)
check "POST /auth/login 200 with an access token" [ "$login" = 200 -a -n "$token" ]
lead=$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' \
    -d '{"name":"Lead One","email":"lead1@example.com","company":"ACME"}' "$B/api/leads")
check "POST /api/leads 201" [ "$lead" = 201 ]
day=$(date -u -d 'tomorrow' +%F)
while [ "$(date -u -d "$day" +%u)" -gt 5 ]; do day=$(date -u -d "$day + 1 day" +%F); done
start=$(curl -s "$B/api/consultations/availability?date=$day&durationMinutes=30" | J 'd["slots"][0]["start"]' 2>/dev/null)
book=$(curl -s -o "$T/book.json" -w '%{http_code}' -H 'Content-Type: application/json' \
    -d "{\"name\":\"Lead One\",\"email\":\"lead1@example.com\",\"topic\":\"Intro\",\"scheduledAt\":\"$start\",\"durationMinutes\":30}" \
    "$B/api/consultations")
check "POST /api/consultations 201 (slot $start)" [ "$book" = 201 ]
docs=$(curl -s -o /dev/null -w '%{http_code} %{content_type}' "$B/docs/")
spec=$(curl -s -o /dev/null -w '%{http_code}' "$B/openapi.yaml")
check "/docs/ ($docs) and /openapi.yaml ($spec) served from /usr/share/mod_leadcrm/docs" \
    bash -c '[[ $1 == "200 text/html"* && $2 == 200 ]]' _ "$docs" "$spec"

# 6. operator tools as installed
check "installed create_admin creates a SUPER_ADMIN (as www-data, default database)" \
    bash -c "printf 'admin pass 12345\n' | runuser -u www-data -- /usr/share/mod_leadcrm/scripts/create_admin \
        --email admin-$$@example.com --name Admin --role SUPER_ADMIN --password-stdin >/dev/null"
curl -s -o "$T/alogin.json" -H 'Content-Type: application/json' \
    -d "{\"email\":\"admin-$$@example.com\",\"password\":\"admin pass 12345\"}" "$B/auth/login"
atoken=$(J 'd["accessToken"]' <"$T/alogin.json" 2>/dev/null)
users=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $atoken" "$B/api/users")
check "the admin reads /api/users (200)" [ "$users" = 200 ]
check "leadcrm-admin list-users / seed-demo / revoke-sessions / --version" \
    bash -c "runuser -u www-data -- leadcrm-admin list-users | grep -q '$email' \
        && runuser -u www-data -- leadcrm-admin seed-demo | grep -q 'demo leads added' \
        && runuser -u www-data -- leadcrm-admin revoke-sessions --email '$email' | grep -q 'sessions revoked' \
        && leadcrm-admin --version | grep -q '^leadcrm-admin (mod_leadcrm) '"
check "migrate --status: up to date" \
    bash -c "runuser -u www-data -- env PGDATABASE=leadcrm /usr/share/mod_leadcrm/scripts/migrate --status | tail -n 1 | grep -q 'up to date'"

# 7. upgrade (same files, higher version): an edited conf survives
echo '# edited by the operator' >> /etc/apache2/mods-available/leadcrm.conf
dpkg-deb -R "$DEB" "$T/up" && sed -i 's/^Version: .*/&+up1/' "$T/up/DEBIAN/control" \
    && dpkg-deb -b "$T/up" "$T/up.deb" >/dev/null 2>&1
DEBIAN_FRONTEND=noninteractive dpkg -i --force-confold "$T/up.deb" >"$T/up.log" 2>&1
check "upgrade to $(dpkg-query -W -f='${Version}' $PKG) keeps the edited leadcrm.conf" \
    bash -c "grep -q 'edited by the operator' /etc/apache2/mods-available/leadcrm.conf && [ ! -e /etc/apache2/mods-available/leadcrm.conf.dpkg-new ]"

# 8. purge: nothing left
apache2ctl stop >/dev/null 2>&1
for _ in $(seq 1 20); do sys_apache_up || break; sleep 0.5; done
DEBIAN_FRONTEND=noninteractive apt-get purge -y -q "$PKG" >"$T/purge.log" 2>&1
check "purge: dpkg knows nothing of $PKG" bash -c "! dpkg -L $PKG >/dev/null 2>&1"
check "purge: no module, tool, data or doc files left" \
    bash -c '! ls -d /usr/lib/apache2/modules/mod_leadcrm.so /usr/sbin/leadcrm-admin /usr/share/mod_leadcrm \
        /usr/share/doc/libapache2-mod-leadcrm /usr/share/man/man8/leadcrm-admin.8.gz 2>/dev/null | grep -q .'
check "purge: no leadcrm file or link left in /etc/apache2" \
    bash -c '! find /etc/apache2 -name "*leadcrm*" | grep -q .'
restore_mods
( cd /etc/apache2 && find . -path ./ports.conf -prune -o -print | sort ) > "$T/etc-after"
check "/etc/apache2 as before (the dependencies' links the test enabled put back)" \
    bash -c "diff '$T/etc-before' '$T/etc-after' | sed 's/^/# /'; cmp -s '$T/etc-before' '$T/etc-after'"
check "the system apache2 is stopped again" bash -c "! { [ -s $APIDF ] && kill -0 \$(cat $APIDF) 2>/dev/null; }"
