#!/usr/bin/env bash
# Runs the whole framerpc test suite: installs missing Debian packages, then `bazel test //...`.
# Extra arguments go to bazel (e.g. scripts/test.sh --config=asan).
set -uo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh || exit 1

log="$(mktemp)"
trap 'rm -f "$log"' EXIT
bazel test --config=ci --keep_going "$@" //... 2>&1 | tee "$log" | grep -vE '^INFO: From |linux-sandbox'
status=${PIPESTATUS[0]}

passed=$(grep -cE '^//[^ ]+ +(\(cached\) )?PASSED' "$log")
failed=$(grep -cE '^//[^ ]+ +(\(cached\) )?(FAILED|TIMEOUT|FLAKY|NO STATUS|FAILED TO BUILD)' "$log")
echo
echo "test targets: ${passed} passed, ${failed} failed"
exit "$status"
