//===- GpuEmulatorTarget.cpp - NVIDIA kernels, run on the CPU -------------===//
//
// Target "nvidia-emulated:<chip>": the NVIDIA backend's kernels exactly as
// it builds them for <chip> (same kernelization, same tile lowering to
// gpu + nvvm), then, instead of PTX, compiled for the host with every GPU
// thread a host thread (prism-emulate-gpu-kernels-on-cpu and the CPU
// backend's pipeline). Its bundles run anywhere, slowly, and check the
// NVIDIA layout, exchanges, barriers and tensor-core fragments against the
// float64 reference without a GPU. What it does not check: timing, memory
// model subtleties beyond barriers, and everything after the gpu dialect
// (NVVM to PTX, ptxas), which the PTX and cubin tests cover.
//
//===----------------------------------------------------------------------===//

#include "prism/Target/TargetBackend.h"
#include "targets/cpu/CpuSerializer.h"
#include "targets/gpu-emulator/Passes.h"
#include "targets/nvidia/NvidiaTarget.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/Math/Transforms/Passes.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;

namespace prism::gpu_emulator {
namespace {

/// After the emulation: the CPU backend's pipeline from vector/scf down
/// (targets/cpu/CpuTarget.cpp), with math that has no LLVM intrinsic
/// (erf, tanh, ...) as libm calls.
constexpr llvm::StringLiteral kHostPipeline =
    "canonicalize,"
    "math-expand-ops{ops=rsqrt},"
    "convert-math-to-libm,"
    "arith-expand{include-bf16=true},"
    "func.func(lower-vector-multi-reduction),"
    "func.func(convert-vector-to-scf{full-unroll=true target-rank=1}),"
    "convert-scf-to-cf,"
    "convert-vector-to-llvm{reassociate-fp-reductions=true},"
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

class NvidiaEmulatedTarget : public TargetBackend {
public:
  llvm::StringRef getName() const override { return "nvidia-emulated"; }
  llvm::StringRef getDescription() const override {
    return "NVIDIA kernels run on the CPU, one host thread per GPU thread "
           "(for checking them without a GPU)";
  }
  bool supportsChip(llvm::StringRef chip) const override {
    return chip.empty() || chip == "sm_80" || chip == "sm_89" ||
           chip == "sm_90" || chip == "sm_90a";
  }
  void registerDialects(DialectRegistry &registry) const override {
    registry.insert<gpu::GPUDialect, NVVM::NVVMDialect>();
  }

  void buildTileLoweringPipeline(OpPassManager &pm,
                                 const TargetSpec &) const override {
    std::string pipeline = "prism-nvidia-lower-tile-to-gpu{threads=" +
                           std::to_string(nvidia::kThreadsPerBlock) +
                           "},canonicalize,cse,prism-emulate-gpu-kernels-on-cpu," +
                           kHostPipeline.str();
    std::string errors;
    llvm::raw_string_ostream errorStream(errors);
    if (failed(parsePassPipeline(pipeline, pm, errorStream)))
      llvm::report_fatal_error(
          llvm::Twine("prism: the GPU emulator's pipeline does not parse: ") +
          errors);
  }

  std::string getKernelizeOptions(const TargetSpec &) const override {
    return nvidia::kernelizeOptions().str();
  }

  llvm::Expected<std::string> writeBinaries(ModuleOp lowered, const TargetSpec &,
                                            llvm::StringRef directory) const override {
    llvm::Expected<std::string> object = cpu::compileToObject(lowered, "");
    if (!object)
      return object.takeError();
    llvm::SmallString<256> objectPath(directory), libraryPath(directory);
    llvm::sys::path::append(objectPath, "kernels.o");
    llvm::sys::path::append(libraryPath, "kernels_emulated.so");
    {
      std::error_code ec;
      llvm::raw_fd_ostream out(objectPath, ec);
      if (ec)
        return llvm::createStringError(ec, "cannot write " + objectPath);
      out << *object;
    }
    if (llvm::Error error = cpu::linkSharedLibrary(objectPath, libraryPath))
      return std::move(error);
    llvm::sys::fs::remove(objectPath);
    return std::string("kernels_emulated.so");
  }
};

} // namespace
} // namespace prism::gpu_emulator

void prism::registerGpuEmulatorTarget() {
  gpu_emulator::registerPrismGpuEmulatorPasses();
  math::registerMathPasses(); // math-expand-ops
  registerTargetBackend(std::make_unique<gpu_emulator::NvidiaEmulatedTarget>());
}
