//===- prism-exec.cpp - Run a compiled bundle with the runtime alone ------===//
//
//   prism-exec BUNDLE_DIR FUNCTION [in0.npy ...] [--out=PREFIX]
//              [--bench=N [--profile] [--flush=BYTES]]
//
// Links the runtime only (no LLVM, no MLIR): this is how a deployment runs
// bundles compiled elsewhere. Reads f32/f16/i8/i32/i64 .npy inputs, runs the
// function, and writes each output to PREFIX<i>.npy (default: prints shapes).
// --bench=N times N runs on device-resident inputs: on the host's clock,
// and the launches alone on the runner's timeline (a GPU's events);
// --profile adds each launch's time. Before each timed run a GPU runner
// writes --flush bytes of scratch memory (default 256 MiB, 0: none): the
// run starts with cold caches, and the device is busy while the host
// queues the run, so the events time the kernels and not the host.
//
//===----------------------------------------------------------------------===//

#include "prism/Runtime/Bundle.h"
#include "prism/Runtime/Npy.h"
#include "prism/Runtime/Profile.h"

#include <cstdio>
#include <cstring>
#include <fstream>
#include <cstdlib>
#include <algorithm>
#include <chrono>
#include <sstream>
#include <string>
#include <vector>

using prism::runtime::HostTensor;

static int fail(const std::string &message) {
  std::fprintf(stderr, "prism-exec: error: %s\n", message.c_str());
  return 1;
}

static bool readNpy(const std::string &path, HostTensor &tensor,
                    std::string &error) {
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    error = "cannot read " + path;
    return false;
  }
  std::stringstream buffer;
  buffer << file.rdbuf();
  return parseNpy(buffer.str(), path, tensor, error);
}

/// The whole of `text` as an integer in [low, high].
static bool parseInteger(const char *text, long long low, long long high, long long &value) {
  char *end = nullptr;
  value = std::strtoll(text, &end, 10);
  return *text && !*end && value >= low && value <= high;
}

static double median(const std::vector<double> &sorted) {
  return sorted[sorted.size() / 2];
}

int main(int argc, char **argv) {
  std::vector<std::string> positional;
  std::string outPrefix;
  int benchRuns = 0;
  bool profile = false;
  int64_t flushBytes = int64_t(256) << 20;
  const char *usage = "usage: prism-exec BUNDLE_DIR FUNCTION [in.npy ...] [--out=PREFIX] "
                      "[--bench=N [--profile] [--flush=BYTES]]";
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg.rfind("--out=", 0) == 0)
      outPrefix = arg.substr(6);
    else if (arg.rfind("--bench=", 0) == 0) {
      long long runs;
      if (!parseInteger(arg.c_str() + 8, 1, 100000, runs))
        return fail("--bench takes a number of runs from 1 to 100000, not '" + arg.substr(8) +
                    "'");
      benchRuns = static_cast<int>(runs);
    } else if (arg.rfind("--flush=", 0) == 0) {
      long long bytes;
      if (!parseInteger(arg.c_str() + 8, 0, int64_t(16) << 30, bytes))
        return fail("--flush takes a number of bytes from 0 to 16 GiB, not '" + arg.substr(8) +
                    "'");
      flushBytes = bytes;
    } else if (arg == "--profile")
      profile = true;
    else if (arg == "--help" || arg == "-h") {
      std::printf("%s\n", usage);
      return 0;
    } else
      positional.push_back(arg);
  }
  if (profile && benchRuns == 0)
    return fail("--profile times the runs of --bench=N; give both");
  if (positional.size() < 2)
    return fail(usage);
  std::string error;
  auto bundle = prism::runtime::Bundle::open(positional[0], error);
  if (!bundle)
    return fail(error);
  std::vector<HostTensor> inputs;
  for (size_t i = 2; i < positional.size(); ++i) {
    HostTensor t;
    if (!readNpy(positional[i], t, error))
      return fail(error);
    inputs.push_back(std::move(t));
  }
  std::vector<HostTensor> outputs;
  if (!bundle->run(positional[1], inputs, outputs, error))
    return fail(error);
  if (benchRuns > 0) {
    // Inputs uploaded once and outputs left on the device: the time of the
    // launches (and of the runtime's bookkeeping), as a framework sees it,
    // on the host's clock; and the launches alone on the runner's own
    // timeline (a GPU's events), as CUDA-event timings of other libraries
    // measure theirs.
    std::vector<HostTensor> deviceInputs(inputs.size());
    for (size_t i = 0; i < inputs.size(); ++i)
      if (!bundle->upload(inputs[i], deviceInputs[i], error))
        return fail(error);
    std::vector<double> wallTimes, runTimes;
    std::vector<HostTensor> deviceOutputs;
    // The wall time of untimed runs (the timers' own calls left out), the
    // first one a warm-up; then the timed runs.
    for (int r = 0; r <= benchRuns; ++r) {
      auto start = std::chrono::steady_clock::now();
      if (!bundle->run(positional[1], deviceInputs, deviceOutputs, error,
                       /*outputsOnDevice=*/true))
        return fail(error);
      double seconds = std::chrono::duration<double>(
                           std::chrono::steady_clock::now() - start).count();
      if (r > 0)
        wallTimes.push_back(seconds * 1e3);
    }
    prism::runtime::RunTiming timing;
    timing.flushBytes = flushBytes;
    for (int r = 0; r < benchRuns; ++r) {
      if (!bundle->run(positional[1], deviceInputs, deviceOutputs, error,
                       /*outputsOnDevice=*/true, /*provided=*/nullptr, &timing))
        return fail(error);
      if (!timing.measured)
        break;
      runTimes.push_back(timing.milliseconds);
    }
    std::sort(wallTimes.begin(), wallTimes.end());
    std::printf("median %.4f ms over %d runs (min %.4f ms)\n", median(wallTimes), benchRuns,
                wallTimes.front());
    if (runTimes.size() == wallTimes.size()) {
      std::sort(runTimes.begin(), runTimes.end());
      std::string caches =
          flushBytes == 0 ? "caches not flushed (--flush=0)"
          : timing.flushed
              ? "caches flushed (" + std::to_string(flushBytes >> 20) + " MiB written before each run)"
              : "caches not flushed: " + timing.notFlushed;
      std::printf("launches: median %.4f ms (min %.4f ms), %s, %s\n", median(runTimes),
                  runTimes.front(), timing.source.c_str(), caches.c_str());
    } else {
      std::printf("launches: not timed (%s)\n", timing.unavailable.c_str());
    }
    if (profile) {
      prism::runtime::FunctionProfile launches;
      if (!prism::runtime::profileFunction(*bundle, positional[1], deviceInputs, benchRuns,
                                           launches, error, flushBytes))
        return fail(error);
      std::fputs(prism::runtime::formatProfile(launches).c_str(), stdout);
    }
  }
  for (size_t i = 0; i < outputs.size(); ++i) {
    std::printf("output %zu: %s[", i, outputs[i].dtype.c_str());
    for (size_t d = 0; d < outputs[i].shape.size(); ++d)
      std::printf("%s%lld", d ? ", " : "", static_cast<long long>(outputs[i].shape[d]));
    std::printf("]\n");
    if (!outPrefix.empty()) {
      std::string path = outPrefix + std::to_string(i) + ".npy";
      std::string error;
      if (!writeNpy(path, outputs[i], error))
        return fail(error);
    }
  }
  return 0;
}
