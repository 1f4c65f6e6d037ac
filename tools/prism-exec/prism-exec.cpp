//===- prism-exec.cpp - Run a compiled bundle with the runtime alone ------===//
//
//   prism-exec BUNDLE_DIR FUNCTION [in0.npy ...] [--out=PREFIX]
//
// Links the runtime only (no LLVM, no MLIR): this is how a deployment runs
// bundles compiled elsewhere. Reads f32/f16/i8/i32/i64 .npy inputs, runs the
// function, and writes each output to PREFIX<i>.npy (default: prints shapes).
//
//===----------------------------------------------------------------------===//

#include "prism/Runtime/Bundle.h"
#include "prism/Runtime/Npy.h"

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

int main(int argc, char **argv) {
  std::vector<std::string> positional;
  std::string outPrefix;
  int benchRuns = 0;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg.rfind("--out=", 0) == 0)
      outPrefix = arg.substr(6);
    else if (arg.rfind("--bench=", 0) == 0)
      benchRuns = std::atoi(arg.c_str() + 8);
    else if (arg == "--help" || arg == "-h") {
      std::printf("usage: prism-exec BUNDLE_DIR FUNCTION [in.npy ...] [--out=PREFIX] [--bench=N]\n");
      return 0;
    } else
      positional.push_back(arg);
  }
  if (positional.size() < 2)
    return fail("usage: prism-exec BUNDLE_DIR FUNCTION [in.npy ...] [--out=PREFIX] [--bench=N]");
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
    // launches (and of the runtime's bookkeeping), as a framework sees it.
    std::vector<HostTensor> deviceInputs(inputs.size());
    for (size_t i = 0; i < inputs.size(); ++i)
      if (!bundle->upload(inputs[i], deviceInputs[i], error))
        return fail(error);
    std::vector<double> times;
    std::vector<HostTensor> deviceOutputs;
    for (int r = 0; r <= benchRuns; ++r) {
      auto start = std::chrono::steady_clock::now();
      if (!bundle->run(positional[1], deviceInputs, deviceOutputs, error,
                       /*outputsOnDevice=*/true))
        return fail(error);
      double seconds = std::chrono::duration<double>(
                           std::chrono::steady_clock::now() - start).count();
      if (r > 0) // the first run warms up
        times.push_back(seconds);
    }
    std::sort(times.begin(), times.end());
    std::printf("median %.4f ms over %d runs (min %.4f ms)\n",
                times[times.size() / 2] * 1e3, benchRuns, times.front() * 1e3);
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
