//===- Profile.h - Each launch of a function, timed -------------*- C++ -*-===//
//
// Runs a bundle function repeatedly with every launch timed on the runner's
// timeline (RunTiming) and reports each launch's median: the table of
// prism-exec --profile and prism-run --profile.
//
//===----------------------------------------------------------------------===//

#ifndef PRISM_RUNTIME_PROFILE_H
#define PRISM_RUNTIME_PROFILE_H

#include "prism/Runtime/Bundle.h"

#include <string>
#include <vector>

namespace prism::runtime {

struct LaunchProfile {
  std::string kernel;
  std::array<int64_t, 3> grid{};
  double milliseconds = 0; // median over the runs
  int64_t bytes = 0;       // RunTiming::Launch::bytes
};

struct FunctionProfile {
  /// False when the runner cannot time its launches (`unavailable` says
  /// why); the runs themselves succeeded.
  bool measured = false;
  std::string unavailable;
  std::string source; // KernelRunner::timeSource()
  int runs = 0;
  std::vector<LaunchProfile> launches; // in launch order
};

/// `runs` runs of `function` on `inputs` (outputs left where the bundle
/// keeps them), every launch timed, each run after a cache flush of
/// `flushBytes` where the runner can (RunTiming::flushBytes). False (and
/// `error`) if a run fails.
bool profileFunction(const Bundle &bundle, const std::string &function,
                     const std::vector<HostTensor> &inputs, int runs,
                     FunctionProfile &profile, std::string &error,
                     int64_t flushBytes = 0);

/// The profile as a table: each launch with its grid, median, bandwidth
/// (its bytes over its time) and share of the sum of medians.
std::string formatProfile(const FunctionProfile &profile);

} // namespace prism::runtime

#endif // PRISM_RUNTIME_PROFILE_H
