//===- Profile.cpp - Each launch of a function, timed ---------------------===//

#include "prism/Runtime/Profile.h"

#include <algorithm>
#include <cstdio>

namespace prism::runtime {

bool profileFunction(const Bundle &bundle, const std::string &function,
                     const std::vector<HostTensor> &inputs, int runs,
                     FunctionProfile &profile, std::string &error, int64_t flushBytes) {
  profile = FunctionProfile();
  profile.runs = runs;
  RunTiming timing;
  timing.perLaunch = true;
  timing.flushBytes = flushBytes;
  std::vector<HostTensor> outputs;
  std::vector<std::vector<double>> times;
  for (int r = 0; r < runs; ++r) {
    if (!bundle.run(function, inputs, outputs, error, /*outputsOnDevice=*/!bundle.runsOnHost(),
                    /*provided=*/nullptr, &timing))
      return false;
    if (!timing.measured) {
      profile.unavailable = timing.unavailable;
      return true;
    }
    if (r == 0) {
      times.resize(timing.launches.size());
      for (const RunTiming::Launch &launch : timing.launches)
        profile.launches.push_back({launch.kernel, launch.grid, 0, launch.bytes});
    }
    for (size_t i = 0; i < times.size() && i < timing.launches.size(); ++i)
      times[i].push_back(timing.launches[i].milliseconds);
  }
  for (size_t i = 0; i < times.size(); ++i) {
    std::sort(times[i].begin(), times[i].end());
    profile.launches[i].milliseconds = times[i].empty() ? 0 : times[i][times[i].size() / 2];
  }
  profile.measured = true;
  profile.source = timing.source;
  return true;
}

std::string formatProfile(const FunctionProfile &profile) {
  if (!profile.measured)
    return "profile: not timed (" + profile.unavailable + ")\n";
  std::string text;
  char line[512];
  auto append = [&](int written) {
    if (written > 0)
      text.append(line, std::min<size_t>(static_cast<size_t>(written), sizeof(line) - 1));
  };
  double sum = 0;
  for (const LaunchProfile &launch : profile.launches)
    sum += launch.milliseconds;
  append(std::snprintf(line, sizeof(line), "profile: %zu launches, median of %d runs each, %s\n",
                       profile.launches.size(), profile.runs, profile.source.c_str()));
  // GB/s: the bytes of the buffers a launch reads or writes (each once)
  // over its time, the least traffic it can have.
  append(std::snprintf(line, sizeof(line), "  %-4s %-40s %-18s %12s %9s %7s\n", "#", "kernel",
                       "grid", "ms", "GB/s", "share"));
  for (size_t i = 0; i < profile.launches.size(); ++i) {
    const LaunchProfile &launch = profile.launches[i];
    std::string grid = std::to_string(launch.grid[0]) + "x" + std::to_string(launch.grid[1]) +
                       "x" + std::to_string(launch.grid[2]);
    double gbps = launch.milliseconds > 0 ? launch.bytes / launch.milliseconds / 1e6 : 0.0;
    append(std::snprintf(line, sizeof(line), "  %-4zu %-40s %-18s %12.4f %9.1f %6.1f%%\n", i,
                         launch.kernel.c_str(), grid.c_str(), launch.milliseconds, gbps,
                         sum > 0 ? 100.0 * launch.milliseconds / sum : 0.0));
  }
  append(std::snprintf(line, sizeof(line), "  sum of medians %.4f ms\n", sum));
  return text;
}

} // namespace prism::runtime
