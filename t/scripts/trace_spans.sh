#!/usr/bin/env bash
# Spans outside the database and bcrypt (issue 17, part 1: "child spans
# for each database statement, bcrypt, SMTP delivery and memcached
# calls"): a real httpd (two children, mail worker, OTLP export) against
# PostgreSQL, a loopback OTLP receiver that records what it gets
# (bench/receiver.py), a real SMTP server (Debian's python3-aiosmtpd) and a
# real memcached as the rate limiter's store, all on free loopback ports.
# Checks that a mail queued by a traced request is delivered in an
# "smtp send" span of that request's trace (parent: the request span),
# through mail_jobs (registration) and through the outbox triggers
# (booking), with retries; that untraced requests leave no context behind
# on a pooled connection; that no recipient address is exported; and
# that a traced login has one span per memcached command.
# t/scripts/trace_spans.py prints TAP.  Usage: t/scripts/trace_spans.sh ROOT
set -euo pipefail
ROOT=${1:?repo root}
. "$ROOT/scripts/lib.sh"

lcrm_install_deps python3-aiosmtpd libcurl4-openssl-dev memcached
lcrm_build
T=$(mktemp -d /tmp/leadcrm-spans.XXXXXX); chmod 755 "$T"
cleanup() {
    [ -f "$T/node/httpd.pid" ] && kill -TERM "$(cat "$T/node/httpd.pid" 2>/dev/null)" 2>/dev/null || true
    sleep 1; lcrm_pg_stop "$T"; rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

LCRM_PG_FSYNC=off lcrm_pg_start "$T" 2>/dev/null
lcrm_make_key "$T/jwt.key"
lcrm_make_data_key "$T/data.key"
export LEADCRM_ROOT="$LCRM_ROOT" LEADCRM_SPANS_T="$T" PGHOST PGUSER PGDATABASE
/usr/bin/python3 "$LCRM_ROOT/t/scripts/trace_spans.py"
