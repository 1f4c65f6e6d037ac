#!/usr/bin/env bash
# There (a GPU machine with CUDA, cmake, PyTorch; no LLVM): builds the
# runtime and runs what scripts/gpu/prepare_device_session.sh prepared,
# within a time budget, so that one call of the device tool brings back
# results even when a kernel hangs or the time runs short:
#
#   build                        the runtime (cmake, no LLVM)
#   correctness-emulator-tests   the GPU emulator tests' edge cases on the
#                                hardware (long K, ragged, 128-row tiles, ...)
#   correctness-default / -64 / -32
#                                every check case against float64 with the
#                                default tiles (128-row wgmma on sm_90a; and
#                                the torch/DLPack checks of the examples),
#                                64-row and 32-row (mma.sync) tiles
#   decoder-block                the Llama-3-8B block against PyTorch
#   bench                        the kernels against cuBLAS, SDPA,
#                                torch.compile and the copy bandwidth: the
#                                default bundle and the main tile variants
#                                of every case first, then the others, until
#                                its deadline
#   sanitizer                    (only when named in PRISM_GPU_STEPS)
#                                compute-sanitizer memcheck and racecheck on
#                                a few small cases with wgmma and TMA
#
# Each step's output goes to OUT (one file per step, plus the benchmarks'
# JSON and Markdown, rewritten after every row). A step gets at most its
# share of the budget and is killed past it; a failing step does not stop
# the others. The last lines printed are a summary, and the exit status
# says whether everything that ran passed.
#
# Usage: scripts/gpu/device_session.sh DIR OUT [BUILD_DIR]
#   PRISM_GPU_BUDGET_S  seconds for the whole session (default 540: one
#                       device call runs at most 600)
#   PRISM_GPU_STEPS     the steps to run, in order (default: all but sanitizer)
#   PRISM_GPU_BENCH_ARGS more arguments for run_gpu_bench.py (e.g. a dry run
#                       here: "--device cpu --rows 16 --attention-seqs 256")
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
dir=${1:?usage: device_session.sh DIR OUT [BUILD_DIR]}
out=${2:?usage: device_session.sh DIR OUT [BUILD_DIR]}
build=${3:-$root/build-runtime}
budget=${PRISM_GPU_BUDGET_S:-540}
steps=${PRISM_GPU_STEPS:-build correctness-emulator-tests correctness-default correctness-64 correctness-32 decoder-block bench}
deadline=$((SECONDS + budget))
mkdir -p "$out"
status=0
summary=()

# step NAME CAP COMMAND...: runs COMMAND for at most CAP seconds (less if
# the budget has less left), its output in OUT/NAME.txt.
step() {
  local name=$1 cap=$2
  shift 2
  local left=$((deadline - SECONDS))
  if [ "$left" -lt 20 ]; then
    echo "== $name: skipped, ${left} s of the budget left"
    summary+=("$name: skipped (budget spent)")
    status=1
    return
  fi
  [ "$cap" -gt "$left" ] && cap=$left
  echo "== $name (at most $cap s)"
  local started=$SECONDS
  timeout -k 10 "$cap" "$@" >"$out/$name.txt" 2>&1
  local result=$?
  if [ "$result" -eq 124 ] || [ "$result" -eq 137 ]; then
    echo "killed after $cap s (the step's share of PRISM_GPU_BUDGET_S)" >>"$out/$name.txt"
  fi
  tail -n 25 "$out/$name.txt"
  local passed
  passed=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$out/$name.txt" | tail -n 1)
  echo "== $name: exit $result, $((SECONDS - started)) s"
  summary+=("$name: exit $result, $((SECONDS - started)) s${passed:+, $passed}")
  [ "$result" -eq 0 ] || status=1
}

# What prepare_device_session.sh packed: unpacked here, once.
if [ -f "$dir/session.tar.xz" ] && [ ! -f "$dir/TARGET" ]; then
  echo "== unpacking $dir/session.tar.xz"
  tar -C "$dir" -xJf "$dir/session.tar.xz" ||
    python3 -c 'import sys, tarfile; tarfile.open(sys.argv[1]).extractall(sys.argv[2])' \
      "$dir/session.tar.xz" "$dir" || {
    echo "error: cannot unpack $dir/session.tar.xz (tar with xz, or python3's lzma)" >&2
    exit 1
  }
fi
{ nvidia-smi || true; cat "$dir/TARGET" 2>/dev/null; date -u; } >"$out/machine.txt" 2>&1
for name in $steps; do
  case $name in
    build) step build 300 "$root/scripts/gpu/build_runtime.sh" "$build" ;;
    # The torch/DLPack checks do not depend on tiles: with the default ones only.
    correctness-emulator-tests)
      PRISM_TORCH_CHECKS=0 step "$name" 150 "$root/scripts/gpu/run_on_gpu.sh" \
        "$dir/cases-emulator-tests" "$build" ;;
    correctness-32)
      PRISM_TORCH_CHECKS=0 step "$name" 120 "$root/scripts/gpu/run_on_gpu.sh" "$dir/cases-32" "$build" ;;
    correctness-64)
      PRISM_TORCH_CHECKS=0 step "$name" 120 "$root/scripts/gpu/run_on_gpu.sh" "$dir/cases-64" "$build" ;;
    correctness-default) step "$name" 150 "$root/scripts/gpu/run_on_gpu.sh" "$dir/cases" "$build" ;;
    decoder-block)
      step "$name" 150 python3 "$root/bench/nvidia/run_decoder_block.py" "$dir/decoder_block" \
        "$out/decoder-block" --exec "$build/bin/prism-exec" ;;
    bench)
      # The bench stops starting runs 30 s before the budget ends, so that
      # it writes its report and the sanitizer (if asked for) gets a turn.
      left=$((deadline - SECONDS - 30))
      case " $steps " in *" sanitizer "*) left=$((left - 90)) ;; esac
      step bench $((left + 25)) python3 "$root/bench/nvidia/run_gpu_bench.py" "$dir/bench" \
        "$out/bench" --exec "$build/bin/prism-exec" --deadline "$left" ${PRISM_GPU_BENCH_ARGS:-} ;;
    sanitizer)
      step sanitizer 120 "$root/scripts/gpu/sanitize_cases.sh" "$dir/cases-emulator-tests" \
        "$build/bin/prism-exec" "$out/sanitizer" ;;
    *) echo "unknown step $name (PRISM_GPU_STEPS)"; status=1 ;;
  esac
done
echo
echo "== summary ($((SECONDS)) s of $budget)"
printf '%s\n' "${summary[@]}"
[ -f "$out/bench/nvidia-bench-summary.md" ] && cat "$out/bench/nvidia-bench-summary.md"
exit $status
