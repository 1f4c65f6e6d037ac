//===- AscendPlanPass.cpp - prism-opt view of the Ascend form of kernels ---===//
//
// `prism-opt -prism-ascend-plan[="emit=source"]` builds the Ascend form of
// every tile kernel of a module, runs the static checker, and prints each
// kernel's plan (buffers, placement, depth, bytes, stages) or its Ascend C
// source: how kernel developers see what the backend will hand to CANN.
//
//===----------------------------------------------------------------------===//

#include "targets/ascend/AscendKernel.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;

namespace prism::ascend {
namespace {

struct AscendPlanPass : PassWrapper<AscendPlanPass, OperationPass<ModuleOp>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(AscendPlanPass)

  AscendPlanPass() = default;
  AscendPlanPass(const AscendPlanPass &other) : PassWrapper(other) {}

  StringRef getArgument() const override { return "prism-ascend-plan"; }
  StringRef getDescription() const override {
    return "Print the Ascend plan (or Ascend C source) of every tile kernel, "
           "after the static checker";
  }

  Option<std::string> emit{*this, "emit",
                           llvm::cl::desc("What to print: plan or source"),
                           llvm::cl::init("plan")};
  Option<std::string> chip{*this, "chip", llvm::cl::desc("The Ascend chip"),
                           llvm::cl::init("910b")};

  void runOnOperation() override {
    std::optional<ChipModel> model = lookupChip(chip);
    if (!model) {
      getOperation().emitError("unknown Ascend chip '") << chip << "'";
      return signalPassFailure();
    }
    if (emit != "plan" && emit != "source") {
      getOperation().emitError("emit must be plan or source, not '") << emit << "'";
      return signalPassFailure();
    }
    std::vector<AscendKernel> kernels;
    bool failed = false;
    for (auto function : getOperation().getOps<func::FuncOp>()) {
      if (!function->hasAttr("tile.kernel"))
        continue;
      FailureOr<AscendKernel> kernel = buildAscendKernel(function, *model);
      if (mlir::failed(kernel) ||
          mlir::failed(checkAscendKernel(*kernel, *model, function))) {
        failed = true;
        continue;
      }
      kernels.push_back(std::move(*kernel));
    }
    if (failed)
      return signalPassFailure();
    if (emit == "plan")
      for (const AscendKernel &k : kernels)
        llvm::outs() << printAscendPlan(k, *model);
    else
      llvm::outs() << printAscendCSource(kernels, *model);
  }
};

} // namespace

void registerAscendPlanPass() { PassRegistration<AscendPlanPass>(); }

} // namespace prism::ascend
