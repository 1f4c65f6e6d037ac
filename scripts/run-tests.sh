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
# Counts come from lit's JSON report, not from its human-readable summary.
lit_json=$(mktemp)
"$venv/bin/lit" -sv -o "$lit_json" "$build/test"
lit_status=$?
read -r passed failed unsupported < <("$venv/bin/python" - "$lit_json" <<'PY'
import json, sys
try:
    tests = json.load(open(sys.argv[1]))["tests"]
except (OSError, ValueError, KeyError):
    tests = []
codes = [t["code"] for t in tests]
passed = sum(c in ("PASS", "XFAIL") for c in codes)
unsupported = sum(c == "UNSUPPORTED" for c in codes)
print(passed, len(codes) - passed - unsupported, unsupported)
PY
)
rm -f "$lit_json"
echo "lit: ${passed} passed, ${failed} failed, ${unsupported} unsupported"
if [ "$lit_status" -ne 0 ] || [ "$failed" -ne 0 ] || [ "$passed" -eq 0 ]; then status=1; fi
total_passed=$((total_passed + passed))
total_failed=$((total_failed + failed))

# --- C++ unit tests (GoogleTest through ctest) -------------------------------
junit=$(mktemp)
ctest --test-dir "$build" --output-on-failure --output-junit "$junit" >"$junit.log" 2>&1
ctest_status=$?
grep -E "(Failed|\*\*\*|Not Run|Exception)" "$junit.log" || true
read -r passed failed < <("$venv/bin/python" - "$junit" <<'PY'
import sys, xml.etree.ElementTree as ET
try:
    cases = ET.parse(sys.argv[1]).getroot().iter("testcase")
    status = [c.get("status", "run") for c in cases]
except (OSError, ET.ParseError):
    status = []
passed = sum(s in ("run", "passed") for s in status)
print(passed, len(status) - passed)
PY
)
rm -f "$junit" "$junit.log"
echo "unit: ${passed} passed, ${failed} failed"
if [ "$ctest_status" -ne 0 ] || [ "$failed" -ne 0 ] || [ "$passed" -eq 0 ]; then status=1; fi
total_passed=$((total_passed + passed))
total_failed=$((total_failed + failed))

# --- Python package (pytest) -------------------------------------------------
if [ -d "$build/python/prism" ]; then
  junit=$(mktemp)
  PRISM_BUILD_DIR="$build" PYTHONPATH="$build/python" "$venv/bin/python" -m pytest -q -p no:cacheprovider \
    --junitxml="$junit" "$root/test/python"
  pytest_status=$?
  read -r passed failed < <("$venv/bin/python" - "$junit" <<'PY'
import sys, xml.etree.ElementTree as ET
try:
    suite = ET.parse(sys.argv[1]).getroot()
    suite = suite if suite.tag == "testsuite" else suite.find("testsuite")
    tests, bad = int(suite.get("tests")), int(suite.get("failures")) + int(suite.get("errors"))
    print(tests - bad - int(suite.get("skipped", 0)), bad)
except Exception:
    print(0, 1)
PY
)
  rm -f "$junit"
  echo "python: ${passed} passed, ${failed} failed"
  if [ "$pytest_status" -ne 0 ] || [ "$failed" -ne 0 ] || [ "$passed" -eq 0 ]; then status=1; fi
  total_passed=$((total_passed + passed))
  total_failed=$((total_failed + failed))
fi

echo
echo "${total_passed} passed, ${total_failed} failed"
exit $status
