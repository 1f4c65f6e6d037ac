#!/usr/bin/env bash
# Runs every Prism test suite against a build directory and prints the counts
# of each, then one closing line "N passed, N failed" for all of them.
# Exits non-zero if any test failed.
set -uo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${1:-$root/build}
venv=${PRISM_VENV:-$root/.venv}

total_passed=0
total_failed=0
status=0

# --- lit (dialects, passes, targets, examples, malformed corpus) ----------
lit_log=$(mktemp)
"$venv/bin/lit" -sv "$build/test" 2>&1 | tee "$lit_log" | grep -E "^(FAIL|XPASS|UNRESOLVED|TIMEOUT)|\*\*\*\*" || true
lit_status=${PIPESTATUS[0]}
count() { grep -E "^ *$1: *[0-9]+" "$lit_log" | grep -oE "[0-9]+" | tail -1; }
passed=$(( $(count Passed || echo 0) + $(count "Expectedly Failed" || echo 0) ))
failed=$(( $(count Failed || echo 0) + $(count Unresolved || echo 0) + $(count "Timed Out" || echo 0) + $(count "Unexpectedly Passed" || echo 0) ))
unsupported=$(count Unsupported || echo 0)
echo "lit: ${passed} passed, ${failed} failed, ${unsupported} unsupported"
if [ "$lit_status" -ne 0 ] || [ "$failed" -ne 0 ] || [ "$passed" -eq 0 ]; then status=1; fi
total_passed=$((total_passed + passed))
total_failed=$((total_failed + failed))
rm -f "$lit_log"

echo
echo "${total_passed} passed, ${total_failed} failed"
exit $status
