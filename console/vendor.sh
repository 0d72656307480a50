#!/usr/bin/env bash
# console/vendor.sh: refreshes console/vendor/ from the npm packages pinned
# by console/package-lock.json (npm ci, then copy).  The copies are
# committed, so serving the console needs no npm; t/scripts/console.sh
# checks that they still equal the locked packages.
#   bash console/vendor.sh [--check]
set -euo pipefail
cd "$(dirname "$0")"
npm ci --no-audit --no-fund --silent >/dev/null
src=node_modules/qrcode-generator/dist/qrcode.mjs
if [ "${1:-}" = --check ]; then cmp -s "$src" vendor/qrcode.mjs; exit; fi
cp "$src" vendor/qrcode.mjs
