#!/usr/bin/env bash
# t/scripts/fuzz_replay.sh: TAP test replaying the fuzz seed corpora.
#
# Usage: t/scripts/fuzz_replay.sh REPO_ROOT
#
#   Builds the gcc replay programs of the libFuzzer harnesses
#   (t/fuzz/replay_{json,route,query,token,security}, see Makefile.am) in the
#   configured tree REPO_ROOT and runs each over t/fuzz/corpus/<name>/:
#   every seed goes through the harness and its invariant checks (no
#   clang needed; scripts/fuzz does the actual fuzzing).  One TAP line per
#   corpus; a harness that aborts or crashes is "not ok".  Exits 0 when
#   every corpus replayed cleanly, 1 otherwise (2 on a set-up error).
set -u -o pipefail

root=${1:?usage: $0 REPO_ROOT}
root=$(cd -- "$root" && pwd -P) || exit 2
names=(json route query token security)
progs=()
for n in "${names[@]}"; do
    progs+=("t/fuzz/replay_$n")
done

if ! out=$(make -C "$root" -s "${progs[@]}" 2>&1); then
    echo "1..1"
    echo "not ok 1 - build the fuzz replay programs"
    printf '%s\n' "$out" | sed 's/^/#   /' | tail -n 40
    exit 1
fi

echo "1..${#names[@]}"
n=0 failed=0
for name in "${names[@]}"; do
    n=$((n + 1))
    corpus="$root/t/fuzz/corpus/$name"
    log=$("$root/t/fuzz/replay_$name" "$corpus" 2>&1)
    rc=$?
    line=$(printf '%s\n' "$log" | grep -m1 -E '^(not )?ok ')
    if [ "$rc" -eq 0 ] && [ "${line#ok }" != "$line" ]; then
        echo "ok $n - ${line#ok * - }"
    else
        failed=$((failed + 1))
        echo "not ok $n - replay of $name corpus (exit $rc)"
        printf '%s\n' "$log" | sed 's/^/#   /' | tail -n 20
    fi
done
[ "$failed" -eq 0 ]
