# bench/peer.sh: the Express + Prisma peer inside bench/run (sourced by it;
# issue 11 measures ours against it in one run).
#
# The peer is the original service (../shared/peers/express-prisma, or
# BENCH_PEER_SRC).  bench/run, unless BENCH_PEER=0:
#   peer_build   copies it to bench/.peer/app (gitignored) and runs
#                `npm ci` from its lockfile (npm cache bench/.peer/npm-cache,
#                --prefer-offline), `prisma generate` and `tsc`; skipped
#                when the sources, lockfile and node version are unchanged.
#                The registry is only needed the first time; never while
#                measuring.
#   peer_seed    a second database, leadcrm_peer, in bench/run's own
#                throwaway cluster: the peer's migration SQL (what
#                `prisma migrate deploy` applies; its schema engine is a
#                download, see the peer's README) and bench/sql/peer_seed.sql
#                (the same users and lead count as ours, one INSERT each).
#   peer_start   `node dist/cluster.js` with WORKERS=2 (its start.sh
#                MODE=cluster) on a free 127.0.0.1 port, over the cluster's
#                socket; stopped by pid in bench/run's cleanup (peer_stop).
#   peer_scenario the same wrk scripts as ours against the peer's URL,
#                appended to peer.jsonl with the peer's RSS.
#   peer_memory  RSS of the peer's processes vs the httpd children's.

PEER_ON=${BENCH_PEER:-1}
PEER_CACHE="$BENCH/.peer"
PEER_APP="$PEER_CACHE/app"
PEER_DB=leadcrm_peer
PEER_PID=""
PEER_URL=""
PEER_SEED_S=null

peer_src() {
    local d
    for d in "${BENCH_PEER_SRC:-}" "$LCRM_ROOT/../shared/peers/express-prisma" \
             "$LCRM_ROOT/../../shared/peers/express-prisma" \
             /work/shared/peers/express-prisma; do
        [ -n "$d" ] && [ -f "$d/package-lock.json" ] && { echo "$d"; return 0; }
    done
    return 1
}

peer_build() {
    local src key
    src=$(peer_src) || lcrm_die "peer not found (set BENCH_PEER_SRC, or BENCH_PEER=0 to run without it)"
    command -v node >/dev/null || lcrm_install_deps nodejs
    command -v npm >/dev/null || lcrm_install_deps npm
    # its package.json: "engines": {"node": ">=20.19"} (Prisma 7)
    node -e 'const [a, b] = process.versions.node.split(".").map(Number);
             process.exit(a > 20 || (a === 20 && b >= 19) ? 0 : 1)' \
        || lcrm_die "peer: needs node >= 20.19, found $(node -v) (BENCH_PEER=0 runs without the peer)"
    key=$( (cd "$src" && find package.json package-lock.json tsconfig.json \
                prisma.config.ts prisma src -type f -not -path 'src/generated/*' \
                -print0 | sort -z | xargs -0 sha256sum; node -v) \
           | sha256sum | cut -c1-16)
    if [ "$(cat "$PEER_APP/.bench-key" 2>/dev/null)" = "$key" ]; then
        lcrm_log "peer: build $key cached in $PEER_APP"
        return 0
    fi
    lcrm_log "peer: npm ci (lockfile), prisma generate, tsc from $src"
    rm -rf "$PEER_APP"
    mkdir -p "$PEER_CACHE"
    cp -r "$src" "$PEER_APP"
    chmod -R u+w "$PEER_APP"
    rm -rf "$PEER_APP/node_modules" "$PEER_APP/dist" "$PEER_APP/src/generated"
    (cd "$PEER_APP" \
        && npm ci --no-audit --no-fund --prefer-offline \
               --cache "$PEER_CACHE/npm-cache" \
        && PRISMA_SCHEMA_ENGINE_BINARY=/bin/false npx --no-install prisma generate \
        && npx --no-install tsc -p tsconfig.json) > "$PEER_CACHE/build.log" 2>&1 \
        || { tail -n 30 "$PEER_CACHE/build.log" >&2; lcrm_die "peer build failed (log: $PEER_CACHE/build.log)"; }
    echo "$key" > "$PEER_APP/.bench-key"
}

# Runs while bench/run's seed has the cluster up with fsync off.
peer_seed() {
    local hash m t
    t=$(now)
    lcrm_log "peer: database $PEER_DB, 1,000 users, $LEADS leads"
    hash=$(cd "$PEER_APP" && node -e \
        'require("bcrypt").hash(process.argv[1], 10).then(h => console.log(h))' \
        "$PASSWORD") || lcrm_die "peer: bcrypt hash failed"
    PGOPTIONS="-c client_min_messages=warning" \
        psql_f -U postgres -d postgres -c "DROP DATABASE IF EXISTS $PEER_DB" \
               -c "CREATE DATABASE $PEER_DB"
    for m in "$PEER_APP"/prisma/migrations/*/migration.sql; do
        psql_f -U postgres -d "$PEER_DB" -f "$m"
    done
    psql_f -U postgres -d "$PEER_DB" -v hash="$hash" -v leads="$LEADS" \
           -f "$BENCH/sql/peer_seed.sql"
    PEER_SEED_S=$(since "$t")
    lcrm_log "peer: seeded in ${PEER_SEED_S}s"
}

peer_free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

peer_start() {
    local port
    port=$(peer_free_port)
    PEER_URL="http://127.0.0.1:$port"
    lcrm_log "peer: node dist/cluster.js, 2 workers, on $PEER_URL"
    (cd "$PEER_APP" && exec env NODE_ENV=production HOST=127.0.0.1 PORT="$port" \
        WORKERS=2 AUTH_RATE_LIMIT_MAX=1000000000 \
        DATABASE_URL="postgresql://postgres@localhost/$PEER_DB?host=$DIR/run/pg" \
        node dist/cluster.js) > "$DIR/peer.log" 2>&1 &
    PEER_PID=$!
    for _ in $(seq 100); do
        curl -fs -o /dev/null "$PEER_URL/health" && break
        sleep 0.2
    done
    curl -fs -o /dev/null "$PEER_URL/health" \
        || { cat "$DIR/peer.log" >&2; lcrm_die "peer did not answer"; }
    # both workers up (the primary forks them; /health may come from one)
    for _ in $(seq 50); do
        [ "$(pgrep -P "$PEER_PID" | wc -l)" -ge 2 ] && break
        sleep 0.1
    done
}

# From bench/run's cleanup: TERM the primary (it stops its workers), KILL
# what is left after 7 s.
peer_stop() {
    local kids
    [ -n "$PEER_PID" ] || return 0
    kids=$(pgrep -P "$PEER_PID" || true)
    kill -TERM "$PEER_PID" 2>/dev/null || true
    for _ in $(seq 70); do kill -0 "$PEER_PID" 2>/dev/null || break; sleep 0.1; done
    # shellcheck disable=SC2086
    kill -KILL "$PEER_PID" $kids 2>/dev/null || true
    PEER_PID=""
}

# Prints the RSS sum in kB of the peer's primary and workers.
peer_rss() {
    local total=0 pid rss
    for pid in "$PEER_PID" $(pgrep -P "$PEER_PID"); do
        rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status" 2>/dev/null || true)
        total=$((total + ${rss:-0}))
    done
    echo "$total"
}

peer_login() {
    PEER_TOKEN=$(curl -fs -X POST -H 'Content-Type: application/json' \
        -d "{\"email\":\"user1@bench.example\",\"password\":\"$PASSWORD\"}" \
        "$PEER_URL/auth/login" | jq -r .accessToken)
    [ -n "$PEER_TOKEN" ] && [ "$PEER_TOKEN" != null ] || lcrm_die "peer login failed"
}

# peer_scenario NAME DESCRIPTION CONNS SCRIPT PATH [VAR=VALUE...]: like
# bench/run's scenario, against the peer; NAME is our scenario's name.
# BENCH_TOKEN=PEER in the variables stands for a fresh peer token.
peer_scenario() {
    local name=$1 what=$2 conns=$3 script=$4 path=$5 json v args=()
    shift 5
    [ "$PEER_ON" = 1 ] || return 0
    for v in "$@"; do
        if [ "$v" = BENCH_TOKEN=PEER ]; then peer_login; v="BENCH_TOKEN=$PEER_TOKEN"; fi
        args+=("$v")
    done
    settle
    lcrm_log "peer scenario $name: $what (wrk -c$conns, ${DURATION}s)"
    json=$(TARGET_URL=$PEER_URL wrk_json "peer-$name" "$conns" "$DURATION" \
               "$script" "$path" "${args[@]}")
    jq -c --arg name "$name" --arg what "$what" --argjson c "$conns" \
          --argjson rss "$(peer_rss)" \
          '{name: $name, request: $what, connections: $c} + . + {rss_total_kb: $rss}' \
          <<<"$json" >> "$DIR/peer.jsonl"
    jq -r '"   peer \(.name): \(.rps) req/s, p99 \(.p99_ms) ms, non-2xx \(.non2xx)"' \
        <<<"$(tail -n 1 "$DIR/peer.jsonl")" >&2
}

# JIT and pools warm, not measured (the peer's bench.sh warms 2 s per test).
peer_warmup() {
    [ "$PEER_ON" = 1 ] || return 0
    peer_login
    TARGET_URL=$PEER_URL wrk_json peer-warmup "$CONNS" 3 get.lua \
        /auth/profile BENCH_TOKEN="$PEER_TOKEN" > /dev/null
    TARGET_URL=$PEER_URL wrk_json peer-warmup "$CONNS" 2 get.lua \
        "/api/leads?page=1&limit=20" BENCH_TOKEN="$PEER_TOKEN" > /dev/null
}

# After every run: the peer's processes vs httpd's (parent and children).
peer_memory() {
    local parent kids=0 total=0 pid rss n=0
    parent=$(cat "$DIR/httpd/httpd.pid")
    for pid in "$parent" $(pgrep -P "$parent"); do
        rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status" 2>/dev/null || true)
        total=$((total + ${rss:-0}))
        if [ "$pid" != "$parent" ]; then kids=$((kids + ${rss:-0})); n=$((n + 1)); fi
    done
    if [ "$PEER_ON" = 1 ]; then
        jq -nc --argjson p "$(peer_rss)" --argjson pn "$(( $(pgrep -P "$PEER_PID" | wc -l) + 1 ))" \
              --argjson k "$kids" --argjson kn "$n" --argjson t "$total" \
              '{peer_rss_kb: $p, peer_processes: $pn, httpd_children_rss_kb: $k,
                httpd_children: $kn, httpd_total_rss_kb: $t}' > "$DIR/peer_mem.json"
    fi
}
