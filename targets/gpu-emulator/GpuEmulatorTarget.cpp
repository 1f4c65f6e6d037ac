//===- GpuEmulatorTarget.cpp - GPU kernels, run on the CPU ----------------===//
//
// Targets "nvidia-emulated:<chip>" and "amd-emulated:<chip>": a GPU
// backend's kernels exactly as it builds them for <chip> (same
// kernelization, same tile lowering to the gpu dialect with the vendor's
// matrix instructions), then, instead of PTX or HSACO, compiled for the
// host with every GPU thread a fiber (prism-emulate-gpu-kernels-on-cpu and
// the CPU backend's pipeline). Their bundles run anywhere, slowly, and
// check the layout, exchanges, barriers and matrix-core fragments against
// the float64 reference without a GPU. What they do not check: timing,
// memory model subtleties beyond barriers, and everything after the gpu
// dialect (NVVM/ROCDL to the binary), which the PTX/cubin and HSACO tests
// cover.
//
//===----------------------------------------------------------------------===//

#include "prism/Target/TargetBackend.h"
#include "targets/cpu/CpuSerializer.h"
#include "targets/cpu/Passes.h"
#include "targets/gpu-emulator/Passes.h"
#include "targets/nvidia/NvidiaTarget.h"
#if PRISM_GPU_EMULATOR_AMD
#include "targets/amd/AmdTarget.h"
#include "mlir/Dialect/AMDGPU/IR/AMDGPUDialect.h"
#endif

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/Math/Transforms/Passes.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;

namespace prism::gpu_emulator {
namespace {

void buildEmulationPipeline(OpPassManager &pm, const std::string &gpuLowering) {
  // Then the CPU backend's pipeline, with the math that has no LLVM
  // intrinsic (erf, tanh, ...: libdevice's functions) as libm calls.
  std::string pipeline = gpuLowering +
                         ",canonicalize,cse,prism-emulate-gpu-kernels-on-cpu,"
                         "math-expand-ops{ops=rsqrt},convert-math-to-libm," +
                         cpu::hostLoweringPipeline().str();
  std::string errors;
  llvm::raw_string_ostream errorStream(errors);
  if (failed(parsePassPipeline(pipeline, pm, errorStream)))
    llvm::report_fatal_error(
        llvm::Twine("prism: the GPU emulator's pipeline does not parse: ") + errors);
}

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
                                 const TargetSpec &spec) const override {
    std::string chip = spec.chip.empty() ? "sm_90a" : spec.chip;
    buildEmulationPipeline(pm, "prism-nvidia-lower-tile-to-gpu{" +
                                   nvidia::lowerTileToGpuOptions(chip) + "}");
  }

  std::string getKernelizeOptions(const TargetSpec &spec) const override {
    return nvidia::kernelizeOptions(spec.chip.empty() ? "sm_90a" : spec.chip);
  }

  llvm::Expected<std::string> writeBinaries(ModuleOp lowered, const TargetSpec &,
                                            llvm::StringRef directory) const override {
    return cpu::writeSharedLibrary(lowered, "", directory, "kernels_emulated.so");
  }
};

#if PRISM_GPU_EMULATOR_AMD
/// The AMD kernels of <chip>: MFMA in waves of 64 on CDNA (gfx90a, gfx942),
/// WMMA in waves of 32 on RDNA3 (gfx1100), and the AMD backend's math (its
/// polynomials instead of ROCm's device library).
class AmdEmulatedTarget : public TargetBackend {
public:
  llvm::StringRef getName() const override { return "amd-emulated"; }
  llvm::StringRef getDescription() const override {
    return "AMD kernels run on the CPU, one fiber per GPU thread (for checking "
           "them without a GPU)";
  }
  bool supportsChip(llvm::StringRef chip) const override {
    return chip.empty() || chip == "gfx90a" || chip == "gfx942" || chip == "gfx1100";
  }
  void registerDialects(DialectRegistry &registry) const override {
    registry.insert<gpu::GPUDialect, amdgpu::AMDGPUDialect>();
  }
  void buildTileLoweringPipeline(OpPassManager &pm,
                                 const TargetSpec &spec) const override {
    std::string chip = spec.chip.empty() ? "gfx942" : spec.chip;
    buildEmulationPipeline(pm, "prism-amd-lower-tile-to-gpu{threads=" +
                                   std::to_string(amd::kThreadsPerBlock) +
                                   " matrix-cores=" + amd::matrixCoresOf(chip).str() +
                                   "}");
  }
  std::string getKernelizeOptions(const TargetSpec &spec) const override {
    return amd::kernelizeOptions(spec.chip.empty() ? "gfx942" : spec.chip);
  }
  llvm::Expected<std::string> writeBinaries(ModuleOp lowered, const TargetSpec &,
                                            llvm::StringRef directory) const override {
    return cpu::writeSharedLibrary(lowered, "", directory, "kernels_emulated.so");
  }
};
#endif

} // namespace
} // namespace prism::gpu_emulator

void prism::registerGpuEmulatorTarget() {
  gpu_emulator::registerPrismGpuEmulatorPasses();
  math::registerMathPasses(); // math-expand-ops
  registerTargetBackend(std::make_unique<gpu_emulator::NvidiaEmulatedTarget>());
#if PRISM_GPU_EMULATOR_AMD
  registerTargetBackend(std::make_unique<gpu_emulator::AmdEmulatedTarget>());
#endif
}
