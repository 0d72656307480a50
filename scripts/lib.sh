# lib.sh: set-up shared by scripts/dev, scripts/test and bench/ (sourced).
# Installs missing Debian packages, builds, and runs a private PostgreSQL
# cluster as the unprivileged `postgres` user (PostgreSQL refuses root).

LCRM_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
LCRM_PACKAGES="apache2 apache2-dev libaprutil1-dbd-pgsql libjwt-dev \
libjson-c-dev libcunit1-dev libssl-dev libpq-dev postgresql postgresql-contrib \
libapache2-mod-perl2 libapache2-mod-perl2-dev libwww-perl libjson-pp-perl memcached libjson-validator-perl libyaml-libyaml-perl \
autoconf automake libtool pkg-config make gcc curl libcurl4-openssl-dev python3 python3-aiosmtpd \
liboath-dev oathtool libapache2-mod-auth-openidc nodejs chromium \
git dpkg-dev debhelper lintian"
# bench/cluster: two nodes sharing LeadCRMCache redis:... (redis-cli comes with it)
LCRM_PACKAGES="$LCRM_PACKAGES redis-server"

lcrm_log() { printf '== %s\n' "$*" >&2; }
lcrm_die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# Installs whatever of LCRM_PACKAGES (plus "$@") is missing.
lcrm_install_deps() {
    local missing=() p
    for p in $LCRM_PACKAGES "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' \
            || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    [ "$(id -u)" -eq 0 ] || lcrm_die "missing packages (${missing[*]}); run as root or install them"
    lcrm_log "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
        || lcrm_die "apt-get install failed"
    # Debian starts these services on install; we run our own instances
    service apache2 stop >/dev/null 2>&1 || true
    service postgresql stop >/dev/null 2>&1 || true
    service memcached stop >/dev/null 2>&1 || true
}

# Builds the module, the CLI and the unit tests (warnings are errors).
lcrm_build() {
    cd "$LCRM_ROOT" || exit 1
    if [ ! -x configure ] || [ configure.ac -nt configure ] || [ Makefile.am -nt configure ]; then
        autoreconf -fi >/dev/null 2>&1 || lcrm_die "autoreconf failed"
    fi
    if [ ! -f Makefile ] || [ configure -nt Makefile ]; then
        ./configure --enable-werror ${LCRM_CONFIGURE_FLAGS:-} >/dev/null \
            || lcrm_die "configure failed (see config.log)"
    fi
    make -j2 all >/dev/null 2>"$LCRM_ROOT/build.log" \
        || { cat "$LCRM_ROOT/build.log" >&2; lcrm_die "build failed"; }
}

lcrm_pg_bin() {
    local d
    d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
    [ -n "$d" ] || lcrm_die "PostgreSQL server binaries not found"
    printf '%s' "$d"
}

# Runs a command as the postgres user (or as ourselves when not root).
lcrm_as_pg() {
    if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# lcrm_pg_start DIR: creates (once) and starts a socket-only cluster in
# DIR/pg with its socket in DIR/run/pg; exports PGHOST/PGDATABASE/PGUSER
# for the database "leadcrm" owned by role "leadcrm".
# LCRM_PG_FSYNC (default on) and LCRM_PG_OPTS (extra server options, e.g.
# "-c shared_buffers=512MB") apply to this start.
lcrm_pg_start() {
    local dir=$1 bin
    bin=$(lcrm_pg_bin)
    mkdir -p "$dir/run/pg"
    chmod 755 "$dir" "$dir/run" "$dir/run/pg"
    if [ "$(id -u)" -eq 0 ]; then chown postgres "$dir/run/pg"; fi
    if [ ! -f "$dir/pg/PG_VERSION" ]; then
        mkdir -p "$dir/pg"
        if [ "$(id -u)" -eq 0 ]; then chown postgres "$dir/pg"; fi
        chmod 700 "$dir/pg"
        lcrm_as_pg "$bin/initdb" -D "$dir/pg" -A trust -U postgres -E UTF8 \
            --locale=C.UTF-8 >/dev/null || lcrm_die "initdb failed"
    fi
    lcrm_as_pg "$bin/pg_ctl" -D "$dir/pg" -l "$dir/run/pg/server.log" -w -t 30 \
        -o "-k $dir/run/pg -c listen_addresses='' -c max_connections=200 -c fsync=${LCRM_PG_FSYNC:-on} ${LCRM_PG_OPTS:-}" \
        start >/dev/null || { cat "$dir/run/pg/server.log" >&2; lcrm_die "PostgreSQL did not start"; }
    export PGHOST="$dir/run/pg" PGUSER=postgres PGDATABASE=postgres
    # two roles: leadcrm owns the database and runs the migrations;
    # httpd connects as leadcrm_app (sql/0020: no UPDATE/DELETE on audit_log)
    if ! psql -X -qAtc "SELECT 1 FROM pg_roles WHERE rolname='leadcrm_app'" | grep -q 1; then
        psql -X -q -v ON_ERROR_STOP=1 -c "CREATE ROLE leadcrm_app LOGIN" >/dev/null
    fi
    if ! psql -X -qAtc "SELECT 1 FROM pg_roles WHERE rolname='leadcrm'" | grep -q 1; then
        psql -X -q -v ON_ERROR_STOP=1 -c "CREATE ROLE leadcrm LOGIN" \
            -c "CREATE DATABASE leadcrm OWNER leadcrm" >/dev/null
        psql -X -q -v ON_ERROR_STOP=1 -d leadcrm \
            -c "CREATE EXTENSION IF NOT EXISTS btree_gist" \
            -c "CREATE EXTENSION IF NOT EXISTS pg_trgm" >/dev/null
    fi
    # this private cluster's owner role (tests, drills, the operator of the
    # dev cluster) sees and may end the app role's sessions, as a
    # superuser would
    psql -X -q -v ON_ERROR_STOP=1 \
        -c "GRANT pg_read_all_stats, pg_signal_backend TO leadcrm" >/dev/null
    export PGUSER=leadcrm PGDATABASE=leadcrm
    "$LCRM_ROOT/scripts/migrate" >&2 || lcrm_die "migrations failed"
}

# lcrm_pg_stop DIR
lcrm_pg_stop() {
    local dir=$1
    [ -f "$dir/pg/postmaster.pid" ] || return 0
    lcrm_as_pg "$(lcrm_pg_bin)/pg_ctl" -D "$dir/pg" -m fast -w stop >/dev/null 2>&1 || true
}

# lcrm_httpd_conf_head DIR MODULE [MOD...]: the start of a drill's
# httpd.conf on stdout: server root, pid file, runtime dir and error log in
# DIR, ServerName 127.0.0.1, www-data, the event MPM, the modules every
# drill needs (authz_core, authn_core, dbd, headers, unique_id, reqtimeout),
# the extra modules named (e.g. alias mime dir) and mod_leadcrm from MODULE.
# The caller adds Listen, LogLevel, the MPM sizing and the site.
lcrm_httpd_conf_head() {
    local dir=$1 module=$2 m mods=/usr/lib/apache2/modules
    shift 2
    printf '%s\n' "ServerRoot \"$dir\"" "PidFile \"$dir/httpd.pid\"" \
        "DefaultRuntimeDir \"$dir\"" "ErrorLog \"$dir/error.log\"" \
        "ServerName 127.0.0.1" "User www-data" "Group www-data"
    for m in mpm_event authz_core authn_core dbd headers unique_id reqtimeout "$@"; do
        printf 'LoadModule %s_module %s/mod_%s.so\n' "$m" "$mods" "$m"
    done
    printf 'LoadModule leadcrm_module "%s"\n' "$module"
}

# lcrm_make_key FILE: 48 random bytes, base64, mode 0400.
lcrm_make_key() {
    [ -s "$1" ] && return 0
    (umask 077; head -c 48 /dev/urandom | base64 -w0 > "$1")
    chmod 0400 "$1"
}

# lcrm_make_data_key FILE: an AES-256-GCM keyring (LeadCRMDataKeyFile) with
# one key "k<date>:BASE64(32 random bytes)", mode 0400.  Rotation: prepend a
# new line (the first key seals, every key opens) and reload httpd.
lcrm_make_data_key() {
    [ -s "$1" ] && return 0
    (umask 077; printf 'k%s:%s\n' "$(date -u +%Y%m%d)" \
        "$(head -c 32 /dev/urandom | base64 -w0)" > "$1")
    chmod 0400 "$1"
}

# ---- checkouts the service users cannot reach (issue 16, item 0) ----------
# PostgreSQL runs as `postgres` and httpd's workers as www-data/nobody; a
# checkout under a 0700 directory (/root, Debian 12 homes) is out of their
# reach.  When not root, every service runs as the invoking user instead.

# lcrm_reachable DIR: true when postgres, www-data and nobody can all
# enter DIR (always true when not root).
lcrm_reachable() {
    local u
    [ "$(id -u)" -eq 0 ] || return 0
    for u in postgres www-data nobody; do
        id -u "$u" >/dev/null 2>&1 || continue
        runuser -u "$u" -- test -x "$1" 2>/dev/null || return 1
    done
}

# lcrm_copy_source SRC DEST: the checkout's source files (tracked and
# untracked, not ignored: what a clone holds plus local changes) and the
# docs build (docs/node_modules, docs/site) into DEST, readable by all.
lcrm_copy_source() {
    local src=$1 dest=$2 d
    mkdir -p "$dest"
    if git -C "$src" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
        (cd "$src" && git ls-files -co --exclude-standard -z \
            | xargs -0 -r sh -c 'for f; do [ -e "$f" ] && printf "%s\0" "$f"; done' sh \
            | tar --null -T - -cf -) | tar -C "$dest" -xf - || return 1
    else
        tar -C "$src" --exclude=./var --exclude=./.git -cf - . \
            | tar -C "$dest" -xf - || return 1
    fi
    for d in docs/node_modules docs/site; do
        [ -d "$src/$d" ] && cp -a "$src/$d" "$dest/$d"
    done
    chmod -R a+rX "$dest"
}

# lcrm_state_dir: prints where scripts/dev keeps its runtime state:
# <checkout>/var, or, when the services cannot reach the checkout, a 0755
# directory /var/tmp/leadcrm-dev-<hash of the path> that <checkout>/var
# then links to (so create_admin and "rm -r var" keep working).
lcrm_state_dir() {
    local var="$LCRM_ROOT/var" state
    if lcrm_reachable "$LCRM_ROOT"; then
        if [ -L "$var" ] && ! lcrm_reachable "$(readlink -f "$var")"; then rm -f "$var"; fi
        mkdir -p "$var"
    else
        state=/var/tmp/leadcrm-dev-$(printf '%s' "$LCRM_ROOT" | sha256sum | cut -c1-16)
        if [ ! -L "$var" ] && [ -d "$var" ]; then
            [ -e "$var/pg/PG_VERSION" ] \
                && lcrm_die "$var holds a database the postgres user cannot reach; move it away"
            rm -rf "$var"
        fi
        [ -L "$state" ] && lcrm_die "$state is a symbolic link; refusing it"
        mkdir -p "$state"
        [ "$(stat -c %u "$state")" = "$(id -u)" ] || lcrm_die "$state is not ours; refusing it"
        chmod 755 "$state"
        ln -sfn "$state" "$var"
        lcrm_log "the checkout is not reachable by postgres/www-data: state in $state ($var links to it)"
    fi
    (cd "$var" && pwd -P)
}

# ---- test OpenID provider (t/oidc, t/api/oidc.t) ----------------------------
# lcrm_oidc_start DIR: installs t/oidc's npm packages from its lock file
# (npm ci, when node_modules is missing or older than the lock file) and
# starts t/oidc/provider.mjs on a free 127.0.0.1 port; exports
# LEADCRM_TEST_OIDC_URL (its issuer); pid in DIR/oidc.pid, log DIR/oidc.log.
lcrm_oidc_start() {
    local dir=$1 o="$LCRM_ROOT/t/oidc" i
    command -v npm >/dev/null || lcrm_install_deps npm
    if [ ! -f "$o/node_modules/.package-lock.json" ] \
       || [ "$o/package-lock.json" -nt "$o/node_modules/.package-lock.json" ]; then
        lcrm_log "npm ci (t/oidc)"
        (cd "$o" && NO_UPDATE_NOTIFIER=1 npm ci --no-audit --no-fund \
            --loglevel=error >&2) || lcrm_die "npm ci in t/oidc failed"
    fi
    rm -f "$dir/oidc.url"
    node "$o/provider.mjs" "$dir/oidc.url" >"$dir/oidc.log" 2>&1 &
    echo $! > "$dir/oidc.pid"
    for i in $(seq 300); do
        [ -s "$dir/oidc.url" ] && break
        kill -0 "$(cat "$dir/oidc.pid")" 2>/dev/null || break
        sleep 0.1
    done
    [ -s "$dir/oidc.url" ] || { cat "$dir/oidc.log" >&2; lcrm_die "the test OpenID provider did not start"; }
    LEADCRM_TEST_OIDC_URL=$(cat "$dir/oidc.url")
    export LEADCRM_TEST_OIDC_URL
}

# lcrm_oidc_stop DIR: stops the provider started by lcrm_oidc_start.
lcrm_oidc_stop() {
    [ -f "$1/oidc.pid" ] || return 0
    kill "$(cat "$1/oidc.pid")" 2>/dev/null || true
    rm -f "$1/oidc.pid"
}
