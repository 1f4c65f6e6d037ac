//===- FusionReport.cpp - Kernels and bytes before and after fusion -------===//

#include "passes/Fusion/FusionReport.h"

#include "passes/Passes.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/ADT/SmallSet.h"
#include "llvm/Support/Format.h"

#include <limits>

using namespace mlir;

namespace prism {

#define GEN_PASS_DEF_PRINTKERNELCOST
#include "passes/Passes.h.inc"

/// a * b and a + b, or INT64_MAX when that overflows (the report's sizes
/// are estimates: a saturated one still compares as "huge").
static int64_t saturatingMul(int64_t a, int64_t b) {
  int64_t product;
  return __builtin_mul_overflow(a, b, &product) ? std::numeric_limits<int64_t>::max()
                                                 : product;
}
static int64_t saturatingAdd(int64_t a, int64_t b) {
  int64_t sum;
  return __builtin_add_overflow(a, b, &sum) ? std::numeric_limits<int64_t>::max() : sum;
}

/// constant * dynamicSize^(number of dynamic factors) / divisor.
static int64_t evaluateDim(DenseI64ArrayAttr dim, int64_t dynamicSize) {
  ArrayRef<int64_t> flat = dim.asArrayRef();
  int64_t value = flat[0];
  for (size_t i = 2; i + 1 < flat.size(); i += 2)
    value = saturatingMul(value, dynamicSize);
  return value / flat[1];
}

FailureOr<std::vector<KernelCost>> measureKernelCost(ModuleOp module,
                                                     int64_t dynamicSize,
                                                     std::string &error) {
  if (dynamicSize < 0) {
    error = " the dynamic size must be at least 0, not " + std::to_string(dynamicSize);
    return failure();
  }
  OwningOpRef<ModuleOp> copy(cast<ModuleOp>(module->clone()));
  // Plans already there (from an earlier kernelization) are recomputed.
  for (auto function : copy->getOps<func::FuncOp>())
    function->removeAttr(kPlanAttrName);
  PassManager pm(module.getContext());
  pm.addPass(createKernelize());
  {
    ScopedDiagnosticHandler collect(module.getContext(), [&](Diagnostic &diag) {
      llvm::raw_string_ostream os(error);
      os << "\n  " << diag.getLocation() << ": " << diag.str();
      return success();
    });
    if (failed(pm.run(*copy)))
      return failure();
  }
  std::vector<KernelCost> costs;
  for (auto function : copy->getOps<func::FuncOp>()) {
    auto plan = function->getAttrOfType<DictionaryAttr>(kPlanAttrName);
    if (!plan)
      continue;
    KernelCost cost;
    cost.function = function.getName().str();
    auto buffers = plan.getAs<ArrayAttr>("buffers");
    auto rootOf = [&](int64_t buffer) {
      while (true) {
        auto record = cast<DictionaryAttr>(buffers[buffer]);
        if (record.getAs<StringAttr>("kind").getValue() != "view")
          return buffer;
        buffer = record.getAs<IntegerAttr>("source").getInt();
      }
    };
    auto bytesOf = [&](int64_t buffer) {
      auto record = cast<DictionaryAttr>(buffers[buffer]);
      int64_t bytes =
          (record.getAs<TypeAttr>("dtype").getValue().getIntOrFloatBitWidth() + 7) / 8;
      for (Attribute dim : record.getAs<ArrayAttr>("shape"))
        bytes = saturatingMul(bytes, evaluateDim(cast<DenseI64ArrayAttr>(dim), dynamicSize));
      return bytes;
    };
    std::string prefix = cost.function + "__";
    for (Attribute attr : plan.getAs<ArrayAttr>("launches")) {
      auto launch = cast<DictionaryAttr>(attr);
      StringRef kernel =
          launch.getAs<SymbolRefAttr>("kernel").getRootReference().getValue();
      // "<function>__<n>_<what>" -> "<what>".
      if (kernel.consume_front(prefix))
        kernel = kernel.drop_until([](char c) { return c == '_'; }).drop_front();
      cost.launches.push_back(kernel.str());
      llvm::SmallSet<int64_t, 8> roots;
      for (int64_t arg : launch.getAs<DenseI64ArrayAttr>("args").asArrayRef())
        if (roots.insert(rootOf(arg)).second)
          cost.bytes = saturatingAdd(cost.bytes, bytesOf(rootOf(arg)));
    }
    costs.push_back(std::move(cost));
  }
  return costs;
}

void printFusionReport(llvm::raw_ostream &os,
                       const std::vector<KernelCost> &before,
                       const std::vector<KernelCost> &after,
                       int64_t dynamicSize) {
  for (const KernelCost &b : before) {
    const KernelCost *a = nullptr;
    for (const KernelCost &candidate : after)
      if (candidate.function == b.function)
        a = &candidate;
    if (!a)
      continue;
    double change = b.bytes ? 100.0 * (double(a->bytes) - double(b.bytes)) / double(b.bytes)
                            : 0.0;
    os << "fusion report: @" << b.function
       << " (every dynamic dimension = " << dynamicSize << ")\n";
    os << "  kernels:            " << b.launches.size() << " -> "
       << a->launches.size() << "\n";
    os << "  global memory bytes: " << b.bytes << " -> " << a->bytes << " ("
       << llvm::format("%+.1f", change) << "%)\n";
    auto list = [&](StringRef label, const std::vector<std::string> &names) {
      os << "  " << label;
      for (const std::string &name : names)
        os << " " << name;
      os << "\n";
    };
    list("before:", b.launches);
    list("after: ", a->launches);
  }
}

namespace {
class FusionReportInstrumentation : public PassInstrumentation {
public:
  FusionReportInstrumentation(llvm::raw_ostream &os, int64_t dynamicSize)
      : os(os), dynamicSize(dynamicSize) {}

  void runBeforePass(Pass *pass, Operation *op) override {
    if (pass->getArgument() != "prism-optimize" || !isa<ModuleOp>(op))
      return;
    before = measure(cast<ModuleOp>(op), "before");
  }

  void runAfterPass(Pass *pass, Operation *op) override {
    if (pass->getArgument() != "prism-optimize" || !isa<ModuleOp>(op) || !before)
      return;
    std::optional<std::vector<KernelCost>> after =
        measure(cast<ModuleOp>(op), "after");
    if (after)
      printFusionReport(os, *before, *after, dynamicSize);
    before.reset();
  }

private:
  std::optional<std::vector<KernelCost>> measure(ModuleOp module,
                                                 StringRef when) {
    std::string error;
    FailureOr<std::vector<KernelCost>> cost =
        measureKernelCost(module, dynamicSize, error);
    if (failed(cost)) {
      os << "fusion report: cannot kernelize the module " << when
         << " optimization:" << error << "\n";
      return std::nullopt;
    }
    return *cost;
  }

  llvm::raw_ostream &os;
  int64_t dynamicSize;
  std::optional<std::vector<KernelCost>> before;
};
} // namespace

std::unique_ptr<PassInstrumentation>
createFusionReportInstrumentation(llvm::raw_ostream &os, int64_t dynamicSize) {
  return std::make_unique<FusionReportInstrumentation>(os, dynamicSize);
}

namespace {
struct PrintKernelCostPass : impl::PrintKernelCostBase<PrintKernelCostPass> {
  using PrintKernelCostBase::PrintKernelCostBase;

  void runOnOperation() override {
    llvm::raw_ostream &os = llvm::outs();
    std::string error;
    FailureOr<std::vector<KernelCost>> costs =
        measureKernelCost(getOperation(), dynamicSize, error);
    std::string where = label.empty() ? "" : " [" + label + "]";
    if (failed(costs)) {
      os << "kernel cost" << where << ": cannot kernelize the module:" << error
         << "\n";
      return;
    }
    for (const KernelCost &cost : *costs) {
      os << "kernel cost" << where << ": @" << cost.function << " "
         << cost.launches.size() << " kernels, " << cost.bytes
         << " bytes (every dynamic dimension = " << dynamicSize << "):";
      for (const std::string &name : cost.launches)
        os << " " << name;
      os << "\n";
    }
  }
};
} // namespace

} // namespace prism
