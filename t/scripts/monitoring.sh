#!/usr/bin/env bash
# Monitoring (issue 17, part 1), TAP: a real httpd with LeadCRMSentryDSN and
# LeadCRMOTLPEndpoint pointed at loopback receivers (bench/receiver.py) that
# parse what they get.  Checks event contents and the absence of secrets,
# the span trees of a login and a booking, trace context propagation
# (response header, problem+json instance, access log), sampling ratios 1
# and 0, and that receivers that hang or refuse change nothing for clients
# (every request still answered correctly; drops counted in /metrics).
# Usage: t/scripts/monitoring.sh REPO_ROOT
set -euo pipefail
. "${1:?repo root}/scripts/lib.sh"

lcrm_build
T=$(mktemp -d /tmp/leadcrm-monitor.XXXXXX); chmod 755 "$T"
export LEADCRM_ROOT="$LCRM_ROOT" LEADCRM_VAR="$T"
export LEADCRM_PORT=${MONITOR_PORT:-$((${LCRM_TEST_PORT:-8500} + 50))}
export LEADCRM_ACCESS_LOG="$T/access.log" LEADCRM_ERROR_LOG="$T/error.log"
mkdir -p "$T/httpd" "$T/recv"; chmod 777 "$T/recv"
lcrm_make_key "$T/jwt.key"
PGBIN=$(lcrm_pg_bin)
HTTPD="${LCRM_HTTPD:-/usr/sbin/apache2} -f $LCRM_ROOT/conf/dev-httpd.conf"
RPIDS=()
cleanup() {
    [ -f "$T/httpd/httpd.pid" ] && kill -TERM "$(cat "$T/httpd/httpd.pid")" 2>/dev/null || true
    for p in "${RPIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
    sleep 1; lcrm_pg_stop "$T"; rm -rf "$T"
}
trap cleanup EXIT INT TERM

lcrm_pg_start "$T" 2>/dev/null
for r in sentry otlp; do
    /usr/bin/python3 "$LCRM_ROOT/bench/receiver.py" "$T/recv" "$r" & RPIDS+=($!)
done
for i in $(seq 50); do [ -f "$T/recv/sentry.port" ] && [ -f "$T/recv/otlp.port" ] && break; sleep 0.1; done
SPORT=$(cat "$T/recv/sentry.port") OPORT=$(cat "$T/recv/otlp.port")

# $1 = sample ratio
write_conf() {
    cat > "$T/extra.conf" <<CONF
LogLevel warn
LeadCRMRateLimit general 0 1m
LeadCRMRateLimit auth 0 1m
LeadCRMRateLimit public-write 0 1m
LeadCRMRateLimit login-failures 0 1m
LeadCRMSentryDSN http://0123456789abcdef@127.0.0.1:$SPORT/7
LeadCRMSentryEnvironment monitoring-test
LeadCRMSentryRelease leadcrm@test
LeadCRMOTLPEndpoint http://127.0.0.1:$OPORT/v1/traces
LeadCRMTraceSampleRatio $1
LeadCRMMonitorQueueSize 8
LeadCRMBusinessHours Mon-Sun 00:00-24:00
LeadCRMBookingNotice 0
LogFormat "%>s %{UNIQUE_ID}e %{leadcrm-trace-id}n" traced
CustomLog "$T/traced.log" traced
<Location /metrics>
    SetHandler leadcrm-metrics
</Location>
CONF
}
write_conf 1
export LEADCRM_EXTRA_CONF="$T/extra.conf"
$HTTPD -t >/dev/null 2>&1 || { $HTTPD -t; exit 1; }
$HTTPD -k start
sleep 1

export MON_URL="http://127.0.0.1:$LEADCRM_PORT" MON_DIR="$T" MON_HTTPD="$HTTPD"
export MON_PG_STOP="runuser -u postgres -- $PGBIN/pg_ctl -D $T/pg -m fast -w stop"
export MON_PG_START="runuser -u postgres -- $PGBIN/pg_ctl -D $T/pg -l $T/run/pg/server.log -w -t 30 -o \"-k $T/run/pg -c listen_addresses='' -c max_connections=200\" start"
[ "$(id -u)" -eq 0 ] || { MON_PG_STOP=${MON_PG_STOP#runuser -u postgres -- }; MON_PG_START=${MON_PG_START#runuser -u postgres -- }; }
export -f write_conf; export SPORT OPORT T MON_RPIDS="${RPIDS[*]}"
/usr/bin/python3 "$LCRM_ROOT/t/scripts/monitoring_check.py"
