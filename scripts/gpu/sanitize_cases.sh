#!/usr/bin/env bash
# There (a GPU machine with compute-sanitizer): runs a few small cases of
# scripts/gpu/prepare_cases.py under compute-sanitizer's memcheck,
# racecheck and synccheck (shared-memory hazards between the threads of a
# block, barrier misuse, out-of-bounds accesses) and fails if any reports
# an error. By default the cases are emulator-test cases that use wgmma,
# TMA and cp.async pipelines.
#
# Usage: scripts/gpu/sanitize_cases.sh CASES_DIR PRISM_EXEC OUT [CASE...]
set -uo pipefail
cases=${1:?usage: sanitize_cases.sh CASES_DIR PRISM_EXEC OUT [CASE...]}
prism_exec=${2:?usage: sanitize_cases.sh CASES_DIR PRISM_EXEC OUT [CASE...]}
out=${3:?usage: sanitize_cases.sh CASES_DIR PRISM_EXEC OUT [CASE...]}
shift 3
chosen=("$@")
[ ${#chosen[@]} -gt 0 ] || chosen=(staged-matmuls.long_k.150.mmm128mmn128mmk64
  staged-matmuls.broadcast_weights.70.mmm64mmn64 staged-attention.causal_gqa.150.atm128atn32)
command -v compute-sanitizer >/dev/null || { echo "compute-sanitizer not found"; exit 1; }
mkdir -p "$out"
status=0
ran=0
for case in "${chosen[@]}"; do
  directory="$cases/$case"
  if [ ! -f "$directory/case.json" ]; then
    echo "no case $case in $cases"
    status=1
    continue
  fi
  # The entry, then the inputs in order (in0.npy, in1.npy, ..., in10.npy).
  mapfile -t arguments < <(python3 -c "import json, sys
meta = json.load(open(sys.argv[1] + '/case.json'))
print(meta['entry'])
for i in range(meta['inputs']): print(f'{sys.argv[1]}/in{i}.npy')" "$directory")
  for tool in memcheck racecheck synccheck; do
    echo "-- $tool $case"
    compute-sanitizer --tool "$tool" --error-exitcode 3 "$prism_exec" "$directory/bundle" \
      "${arguments[@]}" "--out=$out/$case." 2>&1 | tail -n 20
    [ "${PIPESTATUS[0]}" -eq 0 ] || status=1
    ran=$((ran + 1))
  done
done
echo "$ran sanitizer runs, $([ $status -eq 0 ] && echo "no errors" || echo "errors above")"
exit $status
