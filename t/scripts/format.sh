#!/usr/bin/env bash
# `make format` (scripts/format) changes nothing it should not: on a clean
# checkout it changes nothing at all; a badly formatted edit is fixed and
# nothing around it is touched.  TAP output.
# Usage: t/scripts/format.sh REPO_ROOT
set -u
ROOT=${1:?repo root}
n=0 fails=0
ok()  { n=$((n + 1)); echo "ok $n - $1"; }
nok() { n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n - $1"; }
if ! command -v git-clang-format >/dev/null; then
    echo "1..0 # skip git-clang-format missing"; exit 0
fi
T=$(mktemp -d /tmp/lcrm-format.XXXXXX)
trap 'rm -rf "$T"' EXIT
git clone -q "$ROOT" "$T/c" || { echo "Bail out! clone failed"; exit 1; }
cd "$T/c" || exit 1
# the working tree's versions of the formatter files (they may be uncommitted)
cp "$ROOT/.clang-format" .clang-format
cp "$ROOT/scripts/format" scripts/format
git add -A && git -c user.email=t@t -c user.name=t commit -qm "formatter" >/dev/null 2>&1

scripts/format >/dev/null 2>&1
if [ -z "$(git status --porcelain)" ]; then ok "clean checkout: make format changes nothing"
else nok "clean checkout: make format changed $(git status --porcelain | wc -l) files"; fi

f=mod_leadcrm/core/lcrm_role.c
cp "$f" "$T/before"
printf '\nint lcrm_fmt_probe(int a,int b){if(a>b){return a;}else{return b;}}\n' >> "$f"
scripts/format >/dev/null 2>&1
changed=$(diff "$T/before" "$f" | grep -c '^[<>]')
removed=$(diff "$T/before" "$f" | grep -c '^<')
if [ "$removed" -eq 0 ] && grep -q '^int lcrm_fmt_probe(int a, int b)$' "$f" \
   && grep -q '^    else {$' "$f"; then
    ok "an edit is formatted in house style ($changed lines), nothing else touched"
else nok "edit formatting: $(diff "$T/before" "$f" | head -20)"; fi
if scripts/format --check >/dev/null 2>&1; then ok "format --check passes once formatted"
else nok "format --check after formatting"; fi
echo "1..$n"
[ "$fails" -eq 0 ]
