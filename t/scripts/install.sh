#!/usr/bin/env bash
# t/scripts/install.sh: README's from-source path, `make install` and
# `make uninstall` into a DESTDIR (TAP; issue 16 items 2, 4, 6).
#
#   - installs the module, the .load/.conf, the opt-in hardening conf and
#     example site, leadcrm-admin with its man page and bash completion,
#     the SQL, the scripts (prepare-db included) and the docs page;
#   - the installed leadcrm.conf points LEADCRM_DOCS_DIR at this prefix;
#   - the installed create_admin runs the installed leadcrm-admin;
#   - a second install keeps an edited leadcrm.conf (new version as .new)
#     and silently updates unedited files;
#   - uninstall removes unedited files and their *-enabled links and the
#     directories it made, keeps the edited conf.
#
#   bash t/scripts/install.sh [REPO_ROOT]
set -uo pipefail

ROOT=${1:-$(cd "$(dirname "$0")/../.." && pwd)}
T=$(mktemp -d /tmp/leadcrm-install.XXXXXX)
trap 'rm -rf "$T"' EXIT
D="$T/root"
N=11
n=0
echo "1..$N"
ok()   { n=$((n + 1)); echo "ok $n - $*"; }
nok()  { n=$((n + 1)); echo "not ok $n - $*"; }
check() { local what=$1; shift; if "$@"; then ok "$what"; else nok "$what"; fi; }

prefix=$(sed -n 's/^prefix = //p' "$ROOT/Makefile")
etc=$(sed -n 's/^HTTPD_SYSCONFDIR = //p' "$ROOT/Makefile")
moddir=$(sed -n 's/^HTTPD_LIBEXECDIR = //p' "$ROOT/Makefile")
bindir=$(sed -n 's/^bindir = //p' "$ROOT/Makefile" | sed "s|\${exec_prefix}|$prefix|")
share="$D$prefix/share/mod_leadcrm"

if make -C "$ROOT" install DESTDIR="$D" >"$T/install.log" 2>&1; then ok "make install DESTDIR=..."
else tail -n 20 "$T/install.log" | sed 's/^/# /'; nok "make install DESTDIR=..."; fi
missing=""
for f in "$D$moddir/mod_leadcrm.so" "$D$etc/mods-available/leadcrm.load" "$D$etc/mods-available/leadcrm.conf" \
    "$share/examples/leadcrm-hardening.conf" "$D$etc/sites-available/leadcrm-site.conf" \
    "$D$bindir/leadcrm-admin" "$D$prefix/share/man/man8/leadcrm-admin.8" \
    "$D$prefix/share/bash-completion/completions/leadcrm-admin" "$share/sql/0001_schema.sql" \
    "$share/scripts/prepare-db" "$share/scripts/migrate" "$share/scripts/create_admin" \
    "$share/docs/openapi.yaml" "$share/docs/site/index.html"; do
    [ -e "$f" ] || missing="$missing ${f#$D}"
done
check "installed files are all there${missing:+ (missing:$missing)}" [ -z "$missing" ]
check "leadcrm.conf serves the docs from this prefix ($prefix/share/mod_leadcrm/docs)" \
    grep -q "Define LEADCRM_DOCS_DIR $prefix/share/mod_leadcrm/docs\$" "$D$etc/mods-available/leadcrm.conf"
check "the module is not enabled by make install (no mods-enabled links)" [ ! -e "$D$etc/mods-enabled" ]
out=$(PATH="$D$bindir:$PATH" "$share/scripts/create_admin" --help 2>&1)
check "the installed create_admin runs the installed leadcrm-admin" \
    bash -c '[[ $1 == *"create-admin --email E --name N"* ]]' _ "$out"

# an edited conf survives a re-install; an unedited one is updated silently
echo "# edited by the operator" >> "$D$etc/mods-available/leadcrm.conf"
echo "# old version" >> "$D$prefix/share/mod_leadcrm/conf/leadcrm.load"   # pretend the last install had another .load
cp "$D$prefix/share/mod_leadcrm/conf/leadcrm.load" "$D$etc/mods-available/leadcrm.load"
make -C "$ROOT" install DESTDIR="$D" >"$T/install2.log" 2>&1
check "re-install keeps the edited leadcrm.conf and writes leadcrm.conf.new" \
    bash -c "grep -q 'edited by the operator' '$D$etc/mods-available/leadcrm.conf' \
        && [ -f '$D$etc/mods-available/leadcrm.conf.new' ] && grep -q 'leadcrm.conf was edited' '$T/install2.log'"
check "re-install updates the unedited leadcrm.load without a .new" \
    bash -c "cmp -s '$ROOT/conf/leadcrm.load' '$D$etc/mods-available/leadcrm.load' && [ ! -e '$D$etc/mods-available/leadcrm.load.new' ]"

# a2enmod-style links, then uninstall
mkdir -p "$D$etc/mods-enabled"
ln -s ../mods-available/leadcrm.load "$D$etc/mods-enabled/leadcrm.load"
ln -s ../mods-available/leadcrm.conf "$D$etc/mods-enabled/leadcrm.conf"
make -C "$ROOT" uninstall DESTDIR="$D" >"$T/uninstall.log" 2>&1
check "uninstall keeps the edited leadcrm.conf (and its link)" \
    bash -c "grep -q 'edited by the operator' '$D$etc/mods-available/leadcrm.conf' && [ -L '$D$etc/mods-enabled/leadcrm.conf' ]"
check "uninstall removes the unedited leadcrm.load and its mods-enabled link" \
    bash -c "[ ! -e '$D$etc/mods-available/leadcrm.load' ] && [ ! -L '$D$etc/mods-enabled/leadcrm.load' ]"
left=$(cd "$D" && find . -type f ! -path "./${etc#/}/mods-available/leadcrm.conf" | sort)
check "uninstall leaves no other file${left:+: $left}" [ -z "$left" ]
check "uninstall removes the directories it made ($prefix/share/mod_leadcrm)" [ ! -e "$share" ]
