//===- FusionReport.h - Kernels and bytes before and after fusion -*- C++ -*-===//

#ifndef PRISM_PASSES_FUSION_FUSIONREPORT_H
#define PRISM_PASSES_FUSION_FUSIONREPORT_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/PassInstrumentation.h"

#include <memory>
#include <string>
#include <vector>

namespace prism {

/// What kernelization makes of one function.
struct KernelCost {
  std::string function;
  /// The kernel of each launch, in order (names without the function prefix).
  std::vector<std::string> launches;
  /// Bytes the launches move through global memory, each launch reading
  /// every buffer it takes once and writing its outputs once (a view counts
  /// as the buffer it views): a lower bound, re-reads from cache excluded.
  int64_t bytes = 0;
};

/// Kernelizes a copy of `module` (default tile sizes) and measures every
/// function of prism ops, with every dynamic dimension set to `dynamicSize`.
/// Fails with the kernelization diagnostics in `error`.
mlir::FailureOr<std::vector<KernelCost>>
measureKernelCost(mlir::ModuleOp module, int64_t dynamicSize, std::string &error);

/// Prints, per function, launches and bytes before and after.
void printFusionReport(llvm::raw_ostream &os, const std::vector<KernelCost> &before,
                       const std::vector<KernelCost> &after, int64_t dynamicSize);

/// Reports around every run of the prism-optimize pass.
std::unique_ptr<mlir::PassInstrumentation>
createFusionReportInstrumentation(llvm::raw_ostream &os, int64_t dynamicSize);

} // namespace prism

#endif // PRISM_PASSES_FUSION_FUSIONREPORT_H
