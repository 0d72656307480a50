#!/usr/bin/env bash
# The mail drill (API.md part 2 "Mail and notifications", "Email
# verification and password reset"): real httpd nodes with the module, one
# PostgreSQL, and a real SMTP server (Debian's python3-aiosmtpd, run by
# /usr/bin/python3) on loopback that writes every message it accepts to a
# directory as .eml.  t/scripts/mail_drill.py prints TAP.
# Usage: t/scripts/mail.sh REPO_ROOT
set -euo pipefail
ROOT=${1:?repo root}
. "$ROOT/scripts/lib.sh"

lcrm_install_deps python3-aiosmtpd libcurl4-openssl-dev
lcrm_build
T=$(mktemp -d /tmp/leadcrm-mail.XXXXXX); chmod 755 "$T"
cleanup() {
    local f
    for f in "$T"/node*/httpd.pid; do
        [ -f "$f" ] && kill -TERM "$(cat "$f")" 2>/dev/null || true
    done
    sleep 1; lcrm_pg_stop "$T"; rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

LCRM_PG_FSYNC=off lcrm_pg_start "$T" 2>/dev/null
lcrm_make_key "$T/jwt.key"
lcrm_make_data_key "$T/data.key"
export LEADCRM_ROOT="$LCRM_ROOT" LEADCRM_MAIL_T="$T" PGHOST PGUSER PGDATABASE
/usr/bin/python3 "$LCRM_ROOT/t/scripts/mail_drill.py"
