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
# Each step's output goes to a results folder on that machine (one file
# per step, plus the benchmarks' JSON and Markdown, rewritten after every
# row). OUT itself gets what the device tool brings back (at most 8 files,
# so the results travel packed), rewritten after every step and every 20 s
# while one runs, so that a call cut off still returns what ran:
#   summary.txt         each step's exit status and counts
#   results.tar.gz      the whole results folder
#   nvidia-bench.md, nvidia-bench.json, nvidia-bench-summary.md,
#   decoder-block.md    copies of the tables, to read without unpacking
# A step gets at most its share of the budget and is killed past it; a
# failing step does not stop the others. The last lines printed are the
# summary, and the exit status says whether everything that ran passed.
# While the session runs, one process holds a CUDA context, so that the
# driver stays initialized between the ~250 prism-exec processes of the
# checks (without persistence mode each would initialize the GPU again),
# and the checks run with PRISM_SYNC_LAUNCHES=1 (a kernel's fault is
# reported with its name).
#
# Usage: scripts/gpu/device_session.sh DIR OUT [BUILD_DIR]
#   PRISM_GPU_BUDGET_S  seconds for the whole session (default 480: one
#                       device call runs at most 600, and a session's 15
#                       minutes of device time, the machine's start
#                       included, then leave room to rerun a step)
#   PRISM_GPU_STEPS     the steps to run, in order (default: build,
#                       correctness-default, decoder-block,
#                       correctness-emulator-tests, bench, correctness-64,
#                       correctness-32)
#   PRISM_GPU_RESERVE_S seconds the bench leaves to each step after it
#                       (default 45)
#   PRISM_GPU_RESULTS   the results folder (default /tmp/prism-gpu-results)
#   PRISM_GPU_BENCH_ARGS more arguments for run_gpu_bench.py (e.g. a dry run
#                       here: "--device cpu --rows 16 --attention-seqs 256")
#   PRISM_GPU_DECODER_ARGS more arguments for run_decoder_block.py (a dry
#                       run here: "--device cpu --seq 5 --runs 1 --timeout 300")
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
dir=${1:?usage: device_session.sh DIR OUT [BUILD_DIR]}
out=${2:?usage: device_session.sh DIR OUT [BUILD_DIR]}
build=${3:-$root/build-runtime}
budget=${PRISM_GPU_BUDGET_S:-480}
steps=${PRISM_GPU_STEPS:-build correctness-default decoder-block correctness-emulator-tests bench correctness-64 correctness-32}
reserve=${PRISM_GPU_RESERVE_S:-45}
results=${PRISM_GPU_RESULTS:-/tmp/prism-gpu-results}
deadline=$((SECONDS + budget))
mkdir -p "$out"
rm -rf "$results"
mkdir -p "$results"
status=0
summary=()

# The summary so far, in the results folder (by this shell: the packer's
# copy of `summary` is the one it started with).
write_summary() {
  {
    echo "== summary ($SECONDS s of $budget)"
    printf '%s\n' "${summary[@]}"
  } >"$results/summary.txt"
}
# OUT from the results folder (what the device tool brings back); each
# file written under a temporary name of its own process, then renamed.
# tar's status 1 is a file that changed while it read it (a report being
# rewritten): the archive is still whole.
pack() {
  local partial=".partial.$BASHPID" file
  for file in summary.txt bench/nvidia-bench.md bench/nvidia-bench.json \
              bench/nvidia-bench-summary.md decoder-block/decoder-block.md; do
    [ -f "$results/$file" ] && cp "$results/$file" "$out/${file##*/}$partial" &&
      mv "$out/${file##*/}$partial" "$out/${file##*/}"
  done
  tar --warning=no-file-changed -C "$results" -czf "$out/results.tar.gz$partial" . 2>/dev/null
  if [ $? -le 1 ]; then
    mv "$out/results.tar.gz$partial" "$out/results.tar.gz"
  else
    rm -f "$out/results.tar.gz$partial"
  fi
}
write_summary
pack
# The packer: every 20 s. Stopped (stop_packer) before the last pack, and
# its sleep with it; its output goes nowhere, so that nothing it leaves
# holds this script's stdout open.
(
  trap 'kill "$sleeper" 2>/dev/null; exit 0' TERM
  while :; do
    sleep 20 &
    sleeper=$!
    wait "$sleeper"
    pack
  done
) >/dev/null 2>&1 &
packer=$!
holder=
stop_packer() {
  if [ -n "$packer" ]; then
    kill "$packer" 2>/dev/null
    wait "$packer" 2>/dev/null
    packer=
  fi
}
cleanup() {
  stop_packer
  [ -n "$holder" ] && kill "$holder" 2>/dev/null
  wait 2>/dev/null
}
trap cleanup EXIT

# step NAME CAP COMMAND...: runs COMMAND for at most CAP seconds (less if
# the budget has less left), its output in the results folder's NAME.txt.
step() {
  local name=$1 cap=$2
  shift 2
  local left=$((deadline - SECONDS))
  if [ "$left" -lt 20 ]; then
    echo "== $name: skipped, ${left} s of the budget left"
    summary+=("$name: skipped (budget spent)")
    status=1
    write_summary
    return
  fi
  [ "$cap" -gt "$left" ] && cap=$left
  echo "== $name (at most $cap s)"
  local started=$SECONDS
  timeout -k 10 "$cap" "$@" >"$results/$name.txt" 2>&1
  local result=$?
  if [ "$result" -eq 124 ] || [ "$result" -eq 137 ]; then
    echo "killed after $cap s (the step's share of PRISM_GPU_BUDGET_S)" >>"$results/$name.txt"
  fi
  tail -n 25 "$results/$name.txt"
  local passed
  passed=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$results/$name.txt" | tail -n 1)
  echo "== $name: exit $result, $((SECONDS - started)) s"
  summary+=("$name: exit $result, $((SECONDS - started)) s${passed:+, $passed}")
  [ "$result" -eq 0 ] || status=1
  write_summary
  pack
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
{ nvidia-smi || true; cat "$dir/TARGET" 2>/dev/null; date -u; } >"$results/machine.txt" 2>&1
# The context holder (where there is a CUDA driver, and the GPU lets
# several processes hold contexts): killed on exit.
mode=$(nvidia-smi --query-gpu=compute_mode --format=csv,noheader 2>/dev/null | head -n 1)
echo "compute mode: ${mode:-unknown}" >>"$results/machine.txt"
if [ "$mode" = Default ]; then
  python3 -c '
import ctypes, sys, time
cuda = ctypes.CDLL("libcuda.so.1")
device, context = ctypes.c_int(), ctypes.c_void_p()
if cuda.cuInit(0) or cuda.cuDeviceGet(ctypes.byref(device), 0) or \
        cuda.cuDevicePrimaryCtxRetain(ctypes.byref(context), device):
    sys.exit("device_session.sh: the context holder found no usable CUDA device")
time.sleep(3600)' >>"$results/machine.txt" 2>&1 &
  holder=$!
fi
# The checks: each launch waited for, so that a fault names its kernel.
export PRISM_SYNC_LAUNCHES=1
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
      PRISM_SYNC_LAUNCHES=0 step "$name" 150 python3 "$root/bench/nvidia/run_decoder_block.py" \
        "$dir/decoder_block" "$results/decoder-block" --exec "$build/bin/prism-exec" \
        ${PRISM_GPU_DECODER_ARGS:-} ;;
    bench)
      # The bench stops starting runs 30 s before its share ends, so that it
      # writes its report; its share leaves PRISM_GPU_RESERVE_S to each step
      # after it (90 s to the sanitizer).
      after=${steps#*bench}
      [ "$after" = "$steps" ] && after=
      left=$((deadline - SECONDS - 30))
      for later in $after; do
        case $later in
          sanitizer) left=$((left - 90)) ;;
          *) left=$((left - reserve)) ;;
        esac
      done
      [ "$left" -lt 30 ] && left=30
      PRISM_SYNC_LAUNCHES=0 step bench $((left + 25)) python3 \
        "$root/bench/nvidia/run_gpu_bench.py" "$dir/bench" "$results/bench" \
        --exec "$build/bin/prism-exec" --deadline "$left" ${PRISM_GPU_BENCH_ARGS:-} ;;
    sanitizer)
      step sanitizer 120 "$root/scripts/gpu/sanitize_cases.sh" "$dir/cases-emulator-tests" \
        "$build/bin/prism-exec" "$results/sanitizer" ;;
    *) echo "unknown step $name (PRISM_GPU_STEPS)"; summary+=("$name: unknown step"); status=1 ;;
  esac
done
write_summary
stop_packer
pack
echo
cat "$results/summary.txt"
[ -f "$results/bench/nvidia-bench-summary.md" ] && cat "$results/bench/nvidia-bench-summary.md"
exit $status
