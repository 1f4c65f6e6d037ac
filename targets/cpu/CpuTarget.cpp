//===- CpuTarget.cpp - The CPU backend and its registration ---------------===//

#include "targets/cpu/Passes.h"

#include "prism/Target/TargetBackend.h"

#include "mlir/Pass/PassRegistry.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;

namespace prism::cpu {
namespace {

/// From tile kernels to the LLVM dialect, for the host. The tile lowering is
/// Prism's; the rest is upstream MLIR, named by flag so that
/// `prism-opt --pass-pipeline=...` reproduces any prefix of it.
constexpr llvm::StringLiteral kLoweringPipeline =
    "prism-cpu-lower-tile-to-vector,"
    "canonicalize,"
    "func.func(lower-vector-multi-reduction),"
    "func.func(convert-vector-to-scf{full-unroll=true target-rank=1}),"
    "convert-scf-to-cf,"
    "convert-vector-to-llvm{reassociate-fp-reductions=true "
    "vector-contract-lowering=outerproduct},"
    "expand-strided-metadata,"
    "lower-affine,"
    "finalize-memref-to-llvm,"
    "convert-math-to-llvm,"
    "convert-arith-to-llvm,"
    "convert-index-to-llvm,"
    "convert-func-to-llvm,"
    "convert-cf-to-llvm,"
    "convert-ub-to-llvm,"
    "reconcile-unrealized-casts,"
    "prism-cpu-pack-kernel-arguments";

class CpuTargetBackend : public TargetBackend {
public:
  llvm::StringRef getName() const override { return "cpu"; }
  llvm::StringRef getDescription() const override {
    return "host CPU: tile kernels through vector/scf to LLVM";
  }
  bool supportsChip(llvm::StringRef chip) const override {
    // "" is the host; named ISAs select LLVM target features at codegen.
    return chip.empty() || chip == "host" || chip == "avx2" ||
           chip == "avx512";
  }
  void buildTileLoweringPipeline(OpPassManager &pm,
                                 const TargetSpec &) const override {
    std::string errors;
    llvm::raw_string_ostream errorStream(errors);
    if (failed(parsePassPipeline(kLoweringPipeline, pm, errorStream)))
      llvm::report_fatal_error(
          llvm::Twine("prism: the CPU lowering pipeline does not parse "
                      "(are the upstream passes registered?): ") +
          errors);
  }
};

} // namespace
} // namespace prism::cpu

void prism::registerCpuTarget() {
  cpu::registerPrismCpuPasses();
  PassPipelineRegistration<>(
      "prism-cpu-lower-to-llvm",
      "The CPU backend's pipeline: tile kernels to the LLVM dialect",
      [](OpPassManager &pm) {
        cpu::CpuTargetBackend().buildTileLoweringPipeline(pm, TargetSpec{"cpu", ""});
      });
  registerTargetBackend(std::make_unique<cpu::CpuTargetBackend>());
}
