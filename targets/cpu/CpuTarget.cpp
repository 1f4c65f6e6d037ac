//===- CpuTarget.cpp - The CPU backend and its registration ---------------===//

#include "targets/cpu/CpuSerializer.h"
#include "targets/cpu/Passes.h"

#include "prism/Target/TargetBackend.h"

#include "mlir/Pass/PassRegistry.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/TargetParser/Host.h"

using namespace mlir;

namespace prism::cpu {
namespace {

/// From vector/scf kernels (after prism-cpu-lower-tile-to-vector) to the
/// LLVM dialect, for the host: upstream MLIR, named by flag so that
/// `prism-opt --pass-pipeline=...` reproduces any prefix of it.
constexpr llvm::StringLiteral kHostPipeline =
    "canonicalize,"
    // bf16 <-> f32 conversions as integer ops: LLVM would call compiler-rt.
    "arith-expand{include-bf16=true},"
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

} // namespace

llvm::StringRef hostLoweringPipeline() { return kHostPipeline; }

namespace {

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
  /// The tile lowering with the register file the chip's products are
  /// blocked for: AVX-512's 32 registers of 512 bits (named, or the host's
  /// when it has avx512f), else AVX2's 16 of 256.
  static std::string tileLowering(llvm::StringRef chip) {
    bool avx512 = chip == "avx512";
    if (chip.empty() || chip == "host") {
      llvm::StringMap<bool> features = llvm::sys::getHostCPUFeatures();
      avx512 = features.lookup("avx512f");
    }
    return avx512 ? "prism-cpu-lower-tile-to-vector{vector-bits=512 vector-registers=32}"
                  : "prism-cpu-lower-tile-to-vector{vector-bits=256 vector-registers=16}";
  }

  void buildTileLoweringPipeline(OpPassManager &pm,
                                 const TargetSpec &spec) const override {
    std::string errors;
    llvm::raw_string_ostream errorStream(errors);
    if (failed(parsePassPipeline((tileLowering(spec.chip) + "," + kHostPipeline).str(),
                                 pm, errorStream)))
      llvm::report_fatal_error(
          llvm::Twine("prism: the CPU lowering pipeline does not parse "
                      "(are the upstream passes registered?): ") +
          errors);
  }

  std::string getKernelizeOptions(const TargetSpec &) const override {
    // Matmul tiles of 128 x 128 in K steps of 32 (64 KB of f32 accumulators
    // in a stack buffer), each step's operands packed once and read by
    // register blocks (RegisterBlockedProducts): A's block is packed once
    // per 128 columns and B's once per 128 rows; 64 x 128 was 5-8% slower
    // at 2048^3. The epilogue runs on chunks of rows (EpilogueRows). A
    // static M of at most 64 rows takes a tile of as few rows as hold it
    // (at least 8), and a dynamic M gets that kernel too, for a decode
    // step's rows. Row chunks of 256 f32 are 1 KB.
    return "elementwise-block=256 row-block=64 matmul-m=128 matmul-n=128 matmul-k=32 "
           "matmul-min-m=8 attention-m=16 attention-n=32 strided-block=16";
  }

  llvm::Expected<std::string> writeBinaries(ModuleOp lowered,
                                            const TargetSpec &spec,
                                            llvm::StringRef directory) const override {
    return writeSharedLibrary(lowered, spec.chip, directory, "kernels.so");
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
