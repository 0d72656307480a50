#!/usr/bin/env bash
# scripts/migrate: applies all migrations to an empty database, is a no-op
# when re-run, refuses a changed applied file without applying anything,
# rolls back a failing file, and serialises concurrent runs.  TAP output.
# Needs PGHOST (a cluster where PGUSER=postgres may create databases).
# Usage: t/scripts/migrate.sh REPO_ROOT
set -u
ROOT=${1:?repo root}
DB="lcrm_migrate_$$"
T=$(mktemp -d /tmp/lcrm-migr.XXXXXX)
n=0 fails=0
ok()  { n=$((n + 1)); echo "ok $n - $1"; }
nok() { n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n - $1"; }
cleanup() { PGUSER=postgres PGDATABASE=postgres dropdb --if-exists "$DB" >/dev/null 2>&1; rm -rf "$T"; }
trap cleanup EXIT
PGUSER=postgres PGDATABASE=postgres createdb -O leadcrm "$DB" || { echo "not ok 1 - createdb"; exit 1; }
export PGDATABASE="$DB" PGUSER=leadcrm
q() { psql -X -qAt -v ON_ERROR_STOP=1 -c "$1"; }
files=$(ls "$ROOT"/sql/[0-9][0-9][0-9][0-9]_*.sql | wc -l)

out=$("$ROOT/scripts/migrate" 2>&1); rc=$?
[ $rc -eq 0 ] && [ "$(q 'SELECT count(*) FROM schema_migrations')" = "$files" ] \
    && ok "first run applies all $files migrations" || nok "first run: $rc $out"
sums_ok=1
for f in "$ROOT"/sql/[0-9][0-9][0-9][0-9]_*.sql; do
    v=$(basename "$f" | cut -c1-4)
    [ "$(q "SELECT checksum FROM schema_migrations WHERE version = '$v'")" = "$(sha256sum "$f" | cut -d' ' -f1)" ] || sums_ok=0
done
[ $sums_ok -eq 1 ] && ok "checksums recorded (sha256 of each file)" || nok "checksums recorded"

out=$("$ROOT/scripts/migrate" 2>&1); rc=$?
[ $rc -eq 0 ] && grep -q "nothing to apply" <<<"$out" && ok "second run is a no-op" || nok "second run: $rc $out"

# a changed applied file is refused and nothing new is applied
cp -r "$ROOT/sql" "$T/sql"
echo "-- edited" >> "$T/sql/0001_schema.sql"
printf 'CREATE TABLE lcrm_should_not_exist (x int);\n' > "$T/sql/9998_new.sql"
out=$("$ROOT/scripts/migrate" --dir "$T/sql" 2>&1); rc=$?
[ $rc -eq 1 ] && grep -q "0001_schema.sql" <<<"$out" && ok "changed applied file refused (exit 1, named)" \
    || nok "changed file: $rc $out"
[ "$(q "SELECT to_regclass('lcrm_should_not_exist') IS NULL")" = t ] && ok "nothing applied after the refusal" \
    || nok "pending file was applied despite the refusal"

# a failing migration rolls back entirely and is not recorded
cp -r "$ROOT/sql" "$T/sql2"
printf 'CREATE TABLE lcrm_half (x int);\nSELECT 1/0;\n' > "$T/sql2/9999_broken.sql"
out=$("$ROOT/scripts/migrate" --dir "$T/sql2" 2>&1); rc=$?
[ $rc -eq 1 ] && ok "failing migration exits 1" || nok "failing migration: $rc $out"
[ "$(q "SELECT to_regclass('lcrm_half') IS NULL AND NOT EXISTS (SELECT 1 FROM schema_migrations WHERE version = '9999')")" = t ] \
    && ok "failing migration rolled back and unrecorded" || nok "failing migration left traces"

# concurrent runs serialise on the advisory lock: both succeed, one applies
cp -r "$ROOT/sql" "$T/sql3"
printf 'SELECT pg_sleep(1);\nCREATE TABLE lcrm_once (x int);\n' > "$T/sql3/9997_slow.sql"
"$ROOT/scripts/migrate" --dir "$T/sql3" > "$T/a.out" 2>&1 & a=$!
"$ROOT/scripts/migrate" --dir "$T/sql3" > "$T/b.out" 2>&1 & b=$!
wait $a; ra=$?; wait $b; rb=$?
applied=$(cat "$T/a.out" "$T/b.out" | grep -c "applied 9997_slow.sql")
[ $ra -eq 0 ] && [ $rb -eq 0 ] && [ "$applied" -eq 1 ] && ok "concurrent runs: both exit 0, one applies" \
    || nok "concurrent runs: $ra $rb applied=$applied"

# --status: read-only listing; 0 when up to date, 3 when something is pending
out=$("$ROOT/scripts/migrate" --status 2>&1); rc=$?
[ $rc -eq 0 ] && grep -q '^applied 0001_schema.sql ' <<<"$out" && tail -n 1 <<<"$out" | grep -q 'up to date' \
    && ok "--status: up to date (exit 0)" || nok "--status up to date: $rc $out"
cp -r "$ROOT/sql" "$T/sql4"
printf 'CREATE TABLE lcrm_status_only (x int);\n' > "$T/sql4/9996_pending.sql"
out=$("$ROOT/scripts/migrate" --dir "$T/sql4" --status 2>&1); rc=$?
[ $rc -eq 3 ] && grep -q '^pending 9996_pending.sql$' <<<"$out" \
    && [ "$(q "SELECT to_regclass('lcrm_status_only') IS NULL")" = t ] \
    && ok "--status: pending listed, exit 3, nothing applied" || nok "--status pending: $rc $out"

# usage errors
"$ROOT/scripts/migrate" --bogus >/dev/null 2>&1; [ $? -eq 2 ] && ok "bad argument exits 2" || nok "bad argument"

echo "1..$n"
[ "$fails" -eq 0 ]
