#!/usr/bin/env bash
# The main job (make run). Today Prism has its graph dialect and driver but
# no backend yet, so the job verifies every example graph with prism-opt:
# it parses and verifies each file, checks that printing is a fixed point
# (custom form, and generic form back to custom), canonicalizes it, and prints
# what it verified. It becomes "compile the decoder block for every target,
# run it on the CPU, check it against the reference" with the CPU backend.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${1:-$root/build}
opt=$build/bin/prism-opt
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

printf '%-38s %-8s %-10s %-10s %s\n' example verified roundtrip canonical "prism ops"
status=0
for example in "$root"/examples/*.mlir; do
  name=$(basename "$example")
  verified=no roundtrip=no canonical=no ops="-"
  if "$opt" "$example" -o "$work/a.mlir" 2>"$work/err"; then
    verified=yes
    "$opt" "$work/a.mlir" -o "$work/b.mlir"
    "$opt" "$example" --mlir-print-op-generic | "$opt" -o "$work/c.mlir"
    if cmp -s "$work/a.mlir" "$work/b.mlir" && cmp -s "$work/a.mlir" "$work/c.mlir"; then
      roundtrip=yes
    fi
    if "$opt" "$example" -canonicalize -o /dev/null 2>>"$work/err"; then
      canonical=yes
    fi
    ops=$("$opt" "$example" --print-op-stats -o /dev/null 2>&1 |
          awk '/prism\./ { gsub(",", ""); n += $2; k[$1] = $2 }
               END { s = ""; for (op in k) s = s sprintf(" %s=%d", substr(op, 7), k[op]);
                     printf "%d:%s", n, s }')
  fi
  printf '%-38s %-8s %-10s %-10s %s\n' "$name" "$verified" "$roundtrip" "$canonical" "$ops"
  if [ "$verified" != yes ] || [ "$roundtrip" != yes ] || [ "$canonical" != yes ]; then
    cat "$work/err" >&2
    status=1
  fi
done
echo
if [ $status -eq 0 ]; then
  echo "All examples verified. No backend exists yet: nothing was compiled or run (see README, status)."
else
  echo "Some examples failed to verify." >&2
fi
exit $status
