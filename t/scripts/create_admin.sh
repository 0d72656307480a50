#!/usr/bin/env bash
# t/scripts/create_admin.sh: TAP test of leadcrm-admin and scripts/create_admin.
#
# Usage: t/scripts/create_admin.sh REPO_ROOT
#
#   REPO_ROOT is the built tree (leadcrm-admin at its root).  The database
#   comes from the environment (PGHOST, PGDATABASE, PGUSER, ...) and must
#   already be migrated.  Every email carries a per-run tag, so the test
#   can run again against the same database.  Exits 0 when every test
#   passed, 1 otherwise (2 on a set-up error).
set -u -o pipefail

root=${1:?usage: $0 REPO_ROOT}
root=$(cd -- "$root" && pwd -P) || exit 2
admin="$root/leadcrm-admin"
wrapper="$root/scripts/create_admin"
[ -x "$admin" ] || { echo "Bail out! $admin is not built (run make)"; exit 2; }
command -v psql >/dev/null || { echo "Bail out! psql not found"; exit 2; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/create_admin_t.XXXXXXXX") || exit 2
trap 'rm -rf -- "$tmp"' EXIT
tag="t$$x$RANDOM"
pw='correct horse battery'

n=0 failed=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() {
    n=$((n + 1)) failed=$((failed + 1))
    echo "not ok $n - $1"
    echo "#   rc=$rc stdout=$(head -c 300 "$tmp/out")"
    sed 's/^/#   stderr: /' "$tmp/err" | head -5
}
check() { # check DESCRIPTION COMMAND...: passes when COMMAND succeeds
    local d=$1
    shift
    if "$@"; then ok "$d"; else not_ok "$d"; fi
}

# run INPUT CMD...: runs CMD with INPUT (printf %b) on stdin; sets rc.
run() {
    printf '%b' "$1" >"$tmp/in"
    shift
    "$@" <"$tmp/in" >"$tmp/out" 2>"$tmp/err"
    rc=$?
}
# expect RC DESCRIPTION INPUT CMD...
expect() {
    local want=$1 d=$2
    shift 2
    run "$@"
    if [ "$rc" = "$want" ]; then ok "$d (exit $want)"; else not_ok "$d (want exit $want)"; fi
}
# sql QUERY [-v name=value ...]: one psql session; query on stdin so that
# :'name' variables are interpolated.
sql() {
    local q=$1
    shift
    printf '%s\n' "$q" | psql -X -qAt -v ON_ERROR_STOP=1 "$@"
}
err_has() { grep -qF -- "$1" "$tmp/err"; }
out_has() { grep -qE -- "$1" "$tmp/out"; }
create() { "$admin" create-admin "$@"; }

echo "1..68"

# ---- success --------------------------------------------------------------
email="admin-$tag@x.io"
expect 0 "create-admin SUPER_ADMIN with --password-stdin" "$pw\n" \
    create --email "$email" --name 'Ada Admin' --role SUPER_ADMIN --password-stdin
check "success line names role, email and uuid" \
    out_has "^created SUPER_ADMIN $email \(id [0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}\)\$"
row=$(sql "SELECT role, email_verified, is_active, name, left(password_hash, 2)
           FROM users WHERE email = :'e'" -v e="$email")
check "row stored: role SUPER_ADMIN, verified, active, name, bcrypt hash" \
    [ "$row" = "SUPER_ADMIN|t|t|Ada Admin|\$2" ]
hash=$(sql "SELECT password_hash FROM users WHERE email = :'e'" -v e="$email")
check "neither password nor hash printed" \
    bash -c '! grep -qF -e "$1" -e "$2" "$3" "$4"' _ "$pw" "$hash" "$tmp/out" "$tmp/err"
expect 0 "stored hash verifies through verify-password" "$pw\n" \
    "$admin" verify-password --email "$email" --password-stdin
expect 1 "wrong password does not verify" "wrong horse battery\n" \
    "$admin" verify-password --email "$email" --password-stdin
expect 0 "verify-password normalises the email" "$pw\n" \
    "$admin" verify-password --email " ADMIN-$tag@X.IO " --password-stdin

# ---- duplicates -------------------------------------------------------------
expect 3 "same email again" "$pw\n" \
    create --email "$email" --name Other --password-stdin
check "duplicate names the email field" err_has "email: is already taken"
expect 3 "duplicate is case-insensitive (Admin-...@X.io)" "$pw\n" \
    create --email "Admin-$tag@X.io" --name Other --password-stdin
check "still exactly one live row" \
    [ "$(sql "SELECT count(*) FROM users WHERE lower(email) = :'e'" -v e="$email")" = 1 ]
sql "UPDATE users SET deleted_at = now() WHERE email = :'e'" -v e="$email" >/dev/null
expect 0 "a soft-deleted user's email is free again" "$pw\n" \
    create --email "$email" --name 'Ada Again' --role SUPER_ADMIN --password-stdin

# ---- defaults and normalisation ----------------------------------------------
expect 0 "role defaults to ADMIN; email trimmed and lowercased" "$pw\n" \
    create --email "  MiXeD-$tag@Example.COM " --name=Bob --password-stdin
check "stored as ADMIN with the normalised email" \
    [ "$(sql "SELECT role FROM users WHERE email = :'e'" -v e="mixed-$tag@example.com")" = ADMIN ]
expect 0 "CRLF line ending stripped, --cost 11, 100-code-point name" "$pw\r\n" \
    create --email "crlf-$tag@x.io" --name "$(printf 'é%.0s' {1..100})" \
    --cost 11 --password-stdin
check "hash made at cost 11" \
    [ "$(sql "SELECT left(password_hash, 7) FROM users WHERE email = :'e'" -v e="crlf-$tag@x.io")" = '$2y$11$' ]
expect 0 "password without the \\r verifies" "$pw\n" \
    "$admin" verify-password --email "crlf-$tag@x.io" --password-stdin
expect 0 "72-byte password accepted" "$(printf 'a%.0s' {1..72})\n" \
    create --email "p72-$tag@x.io" --name P --password-stdin

# ---- invalid input: 2 -------------------------------------------------------
expect 2 "bad email" "$pw\n" create --email not-an-email --name N --password-stdin
check "message names the field" err_has "leadcrm-admin: email: must be a valid email"
expect 2 "email over 254 bytes" "$pw\n" \
    create --email "$(printf 'a%.0s' {1..60})@$(printf 'b%.0s' {1..200}).io" --name N --password-stdin
expect 2 "short password (7 characters)" "short12\n" \
    create --email "short-$tag@x.io" --name N --password-stdin
check "message names the password rule" err_has "password: must be at least 8 characters"
expect 2 "3 two-byte characters are 6 bytes but only 3 code points" "ééé\n" \
    create --email "cp-$tag@x.io" --name N --password-stdin
expect 2 "73-byte password" "$(printf 'a%.0s' {1..73})\n" \
    create --email "p73-$tag@x.io" --name N --password-stdin
check "message says 72 bytes" err_has "password: must be at most 72 bytes"
expect 2 "password with a NUL byte" 'abcdefgh\0ijk\n' \
    create --email "nul-$tag@x.io" --name N --password-stdin
expect 2 "empty name" "$pw\n" create --email "n0-$tag@x.io" --name '' --password-stdin
expect 2 "101-character name" "$pw\n" \
    create --email "n101-$tag@x.io" --name "$(printf 'x%.0s' {1..101})" --password-stdin
expect 2 "name with a control character" "$pw\n" \
    create --email "nc-$tag@x.io" --name "$(printf 'a\tb')" --password-stdin
check "no rejected user was stored" \
    [ "$(sql "SELECT count(*) FROM users WHERE email IN
              (:'t1', :'t2', :'t3', :'t4', :'t5', :'t6', :'t7')" \
         -v t1="short-$tag@x.io" -v t2="cp-$tag@x.io" -v t3="p73-$tag@x.io" \
         -v t4="nul-$tag@x.io" -v t5="n0-$tag@x.io" -v t6="n101-$tag@x.io" \
         -v t7="nc-$tag@x.io")" = 0 ]

# ---- usage: 1 ---------------------------------------------------------------
expect 1 "bad role (USER)" "$pw\n" \
    create --email "r-$tag@x.io" --name N --role USER --password-stdin
expect 1 "bad role (lowercase admin)" "$pw\n" \
    create --email "r-$tag@x.io" --name N --role admin --password-stdin
expect 1 "missing --email" "$pw\n" create --name N --password-stdin
expect 1 "missing --name" "$pw\n" create --email "m-$tag@x.io" --password-stdin
expect 1 "--cost 9 out of range" "$pw\n" \
    create --email "c-$tag@x.io" --name N --cost 9 --password-stdin
expect 1 "--password flag refused (passwords never in argv)" "" \
    create --email "pf-$tag@x.io" --name N --password "$pw"
check "refusal does not echo the value" bash -c '! grep -qF -- "$1" "$2"' _ "$pw" "$tmp/err"
expect 1 "--password=value refused too" "" \
    create --email "pf-$tag@x.io" --name N "--password=$pw"

# ---- no password: 5 -----------------------------------------------------------
"$admin" create-admin --email "nt-$tag@x.io" --name N </dev/null >"$tmp/out" 2>"$tmp/err"
rc=$?
if [ $rc = 5 ]; then ok "no terminal and no --password-stdin (exit 5)"; else not_ok "no terminal and no --password-stdin (want exit 5)"; fi
expect 5 "--password-stdin with empty input" "" \
    create --email "ne-$tag@x.io" --name N --password-stdin

# ---- the terminal prompt (through a pseudo-terminal) -----------------------------
cat >"$tmp/drive_tty.py" <<'PY'
import os, pty, select, sys, time
log, answers, argv = sys.argv[1], sys.argv[2:4], sys.argv[4:]
pid, fd = pty.fork()
if pid == 0:
    os.execv(argv[0], argv)
out = b""
def pump(until, deadline):
    global out
    while until is None or until not in out:
        if time.time() > deadline or not select.select([fd], [], [], 0.2)[0]:
            if time.time() > deadline:
                return
            continue
        try:
            data = os.read(fd, 4096)
        except OSError:
            return
        if not data:
            return
        out += data
for prompt, answer in zip((b"Password: ", b"Repeat password: "), answers):
    pump(prompt, time.time() + 20)
    os.write(fd, answer.encode() + b"\n")
pump(None, time.time() + 20)
open(log, "wb").write(out)
sys.exit(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))
PY
if command -v python3 >/dev/null; then
    python3 "$tmp/drive_tty.py" "$tmp/out" "$pw" "$pw" "$admin" create-admin \
        --email "tty-$tag@x.io" --name T >/dev/null 2>"$tmp/err"
    rc=$?
    check "terminal prompt: both passwords typed (exit 0)" [ $rc = 0 ]
    check "terminal prompt: both prompts shown, password not echoed" \
        bash -c 'grep -q "Repeat password: " "$2" && ! grep -qF -- "$1" "$2"' _ "$pw" "$tmp/out"
    python3 "$tmp/drive_tty.py" "$tmp/out" "$pw" "other pw 123" "$admin" create-admin \
        --email "tty2-$tag@x.io" --name T >/dev/null 2>"$tmp/err"
    rc=$?
    check "terminal prompt: passwords differ (exit 5)" [ $rc = 5 ]
else
    for d in "prompt match" "prompt echo" "prompt mismatch"; do
        n=$((n + 1)); echo "ok $n - # SKIP no python3 for the $d test"
    done
fi

# ---- hash-password and cross-verification -------------------------------------
expect 0 "hash-password prints a bcrypt hash" "other pass phrase\n" \
    "$admin" hash-password --password-stdin
h=$(cat "$tmp/out")
check "hash format \$2y\$10\$ + 53 characters" \
    bash -c '[[ $1 =~ ^\$2[aby]\$10\$[./A-Za-z0-9]{53}$ ]]' _ "$h"
sql "UPDATE users SET password_hash = :'h' WHERE email = :'e'" \
    -v h="$h" -v e="mixed-$tag@example.com" >/dev/null
expect 0 "hash stored with psql UPDATE verifies" "other pass phrase\n" \
    "$admin" verify-password --email "mixed-$tag@example.com" --password-stdin
expect 1 "the old password no longer verifies" "$pw\n" \
    "$admin" verify-password --email "mixed-$tag@example.com" --password-stdin
expect 1 "verify-password for an unknown email" "$pw\n" \
    "$admin" verify-password --email "nobody-$tag@x.io" --password-stdin

# ---- database errors: 4 ---------------------------------------------------------
expect 4 "unreachable database" "$pw\n" \
    env PGHOST="$tmp/nowhere" PGCONNECT_TIMEOUT=2 \
    "$admin" create-admin --email "db-$tag@x.io" --name N --password-stdin

# ---- scripts/create_admin ---------------------------------------------------------
expect 0 "scripts/create_admin passes its arguments through" "$pw\n" \
    "$wrapper" --email "wrap-$tag@x.io" --name W --role SUPER_ADMIN --password-stdin
# A fake tree: the wrapper's defaults for the embedded cluster.
mkdir -p "$tmp/repo/scripts" "$tmp/repo/var/run/pg"
cp "$wrapper" "$tmp/repo/scripts/"
printf '#!/bin/sh\necho "$PGHOST|$PGDATABASE|$PGUSER|$*"\n' >"$tmp/repo/leadcrm-admin"
chmod +x "$tmp/repo/leadcrm-admin"
expect 0 "wrapper defaults to var/run/pg, leadcrm/leadcrm; caller's PG* win" "" \
    env -u PGHOST PGDATABASE=mine "$tmp/repo/scripts/create_admin" --name X
check "wrapper environment" \
    [ "$(cat "$tmp/out")" = "$tmp/repo/var/run/pg|mine|${PGUSER:-leadcrm}|create-admin --name X" ]
rm "$tmp/repo/leadcrm-admin"
expect 1 "wrapper without a built binary hints at make" "" "$tmp/repo/scripts/create_admin"

# ---- operator commands (issue 16) -------------------------------------------
expect 0 "--version" "" "$admin" --version
check "--version names the tool and version" out_has '^leadcrm-admin \(mod_leadcrm\) [0-9]'
expect 0 "set-password for a live user" "new pass word 9\n" \
    "$admin" set-password --email "$email" --password-stdin
check "set-password reports the revoked sessions" out_has "^password set for $email \(id .*, [0-9]+ sessions revoked\)\$"
expect 0 "the new password verifies" "new pass word 9\n" \
    "$admin" verify-password --email "$email" --password-stdin
expect 7 "set-password for an unknown email" "new pass word 9\n" \
    "$admin" set-password --email "nobody-$tag@x.io" --password-stdin
expect 0 "revoke-sessions" "" "$admin" revoke-sessions --email "$email"
expect 7 "revoke-sessions for an unknown email" "" "$admin" revoke-sessions --email "nobody-$tag@x.io"
expect 0 "list-users --role SUPER_ADMIN" "" "$admin" list-users --role SUPER_ADMIN
check "list-users prints the admin, tab-separated" out_has "^[0-9a-f-]{36}	$email	SUPER_ADMIN	active	"
expect 1 "list-users --role bogus" "" "$admin" list-users --role ROOT
expect 0 "seed-demo" "" "$admin" seed-demo
expect 0 "seed-demo again" "" "$admin" seed-demo
check "seed-demo is idempotent" out_has '^seed-demo: 0 demo leads added$'

echo "# $failed of $n failed"
[ "$n" = 68 ] || { echo "# planned 68 tests but ran $n"; exit 1; }
[ "$failed" = 0 ]
