//===- NvidiaTarget.cpp - The NVIDIA backend: PTX and cubin ---------------===//

#include "targets/nvidia/NvidiaTarget.h"
#include "prism/Target/TargetBackend.h"
#include "targets/nvidia/Passes.h"

#include "mlir/Conversion/ArithToLLVM/ArithToLLVM.h"
#include "mlir/Conversion/ControlFlowToLLVM/ControlFlowToLLVM.h"
#include "mlir/Conversion/FuncToLLVM/ConvertFuncToLLVM.h"
#include "mlir/Conversion/IndexToLLVM/IndexToLLVM.h"
#include "mlir/Conversion/MathToLLVM/MathToLLVM.h"
#include "mlir/Conversion/MemRefToLLVM/MemRefToLLVM.h"
#include "mlir/Conversion/NVVMToLLVM/NVVMToLLVM.h"
#include "mlir/Conversion/UBToLLVM/UBToLLVM.h"
#include "mlir/Conversion/VectorToLLVM/ConvertVectorToLLVM.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/GPU/Pipelines/Passes.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/NVGPU/IR/NVGPUDialect.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Target/LLVM/NVVM/Target.h"
#include "mlir/Target/LLVMIR/Dialect/GPU/GPUToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/NVVM/NVVMToLLVMIRTranslation.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdlib>

using namespace mlir;

namespace prism::nvidia {

llvm::StringRef kernelizeOptions() {
  // Tiles stay small enough for the baseline layout: with 32x32x32
  // matmul tiles no kernel spills (64x64 holds 32 accumulators per thread
  // and spills on sm_90a). Measured on an H100: K steps of 64 double the
  // registers (254) and made a 4096^3 matmul 1.8x slower than steps of 32.
  // Matmul blocks launch in groups of 8 row blocks per column block
  // (Triton's GROUP_M = 8), so that the blocks running at once share
  // their A and B tiles in L2.
  return "elementwise-block=512 row-block=512 matmul-m=32 matmul-n=32 "
         "matmul-k=32 matmul-group-m=8 attention-m=16 attention-n=16 strided-block=512";
}

/// Shared memory a block may opt in to: 227 KB on Hopper, 163 KB on
/// sm_80, 99 KB on sm_89 (the CUDA programming guide's table of compute
/// capabilities), less 1 KB for the static shared memory the NVPTX
/// lowering of gpu.dynamic_shared_memory declares (a 16-byte-aligned
/// variable at the start of the window).
static int64_t maxSharedMemoryPerBlock(llvm::StringRef chip) {
  int64_t kilobytes = chip.starts_with("sm_90") ? 227 : chip == "sm_80" ? 163 : 99;
  return (kilobytes - 1) * 1024;
}

std::string lowerTileToGpuOptions(llvm::StringRef chip) {
  return "threads=" + std::to_string(kThreadsPerBlock) +
         " dynamic-shared-memory-limit=" + std::to_string(maxSharedMemoryPerBlock(chip)) +
         (chip == "sm_90a" ? " warpgroup-mma=true tensor-memory-access=true" : "");
}

namespace {

/// `ptxas` from CUDA_HOME, CUDA_PATH or CUDA_ROOT, then PATH, then the
/// standard install location; empty if there is none.
std::string findPtxas() {
  for (const char *variable : {"CUDA_HOME", "CUDA_PATH", "CUDA_ROOT"}) {
    if (const char *root = std::getenv(variable)) {
      llvm::SmallString<256> path(root);
      llvm::sys::path::append(path, "bin", "ptxas");
      if (llvm::sys::fs::can_execute(path))
        return std::string(path);
    }
  }
  if (llvm::ErrorOr<std::string> found = llvm::sys::findProgramByName("ptxas"))
    return *found;
  if (llvm::sys::fs::can_execute("/usr/local/cuda/bin/ptxas"))
    return "/usr/local/cuda/bin/ptxas";
  return "";
}

/// MLIR links libdevice (the __nv_* math functions) from the toolkit named
/// by CUDA_ROOT / CUDA_HOME / CUDA_PATH. When none is set but a toolkit is
/// found (ptxas on PATH or in /usr/local/cuda), point CUDA_HOME at it, so
/// that compiling does not depend on the caller's environment.
void exportToolkitRoot() {
  for (const char *variable : {"CUDA_ROOT", "CUDA_HOME", "CUDA_PATH"})
    if (std::getenv(variable))
      return;
  std::string ptxas = findPtxas();
  if (ptxas.empty())
    return;
  llvm::SmallString<256> root(ptxas);
  llvm::sys::path::remove_filename(root); // bin/
  llvm::sys::path::remove_filename(root); // the toolkit
  setenv("CUDA_HOME", root.c_str(), /*overwrite=*/0);
}

class NvidiaTargetBackend : public TargetBackend {
public:
  llvm::StringRef getName() const override { return "nvidia"; }
  llvm::StringRef getDescription() const override {
    return "NVIDIA GPUs: tile kernels through gpu/nvvm to PTX, cubin by ptxas";
  }
  bool supportsChip(llvm::StringRef chip) const override {
    return chip.empty() || chip == "sm_80" || chip == "sm_89" ||
           chip == "sm_90" || chip == "sm_90a";
  }
  static std::string chipOf(const TargetSpec &spec) {
    return spec.chip.empty() ? "sm_90a" : spec.chip;
  }

  void registerDialects(DialectRegistry &registry) const override {
    registry.insert<gpu::GPUDialect, NVVM::NVVMDialect, nvgpu::NVGPUDialect>();
    NVVM::registerNVVMTargetInterfaceExternalModels(registry);
    registerLLVMDialectTranslation(registry);
    registerNVVMDialectTranslation(registry);
    registerGPUDialectTranslation(registry);
    arith::registerConvertArithToLLVMInterface(registry);
    cf::registerConvertControlFlowToLLVMInterface(registry);
    registerConvertFuncToLLVMInterface(registry);
    index::registerConvertIndexToLLVMInterface(registry);
    registerConvertMathToLLVMInterface(registry);
    registerConvertMemRefToLLVMInterface(registry);
    registerConvertNVVMToLLVMInterface(registry);
    ub::registerConvertUBToLLVMInterface(registry);
    vector::registerConvertVectorToLLVMInterface(registry);
  }

  void buildTileLoweringPipeline(OpPassManager &pm,
                                 const TargetSpec &spec) const override {
    exportToolkitRoot();
    // PTX ISA 8.0 covers sm_80 through sm_90a and every ptxas since CUDA
    // 12; sm_90a's TMA kernels acquire their tensor maps with
    // fence.proxy.tensormap (PTX ISA 8.3, ptxas from CUDA 12.3).
    std::string ptx = chipOf(spec) == "sm_90a" ? "+ptx83" : "+ptx80";
    std::string pipeline =
        "prism-nvidia-lower-tile-to-gpu{" + lowerTileToGpuOptions(chipOf(spec)) +
        "},canonicalize,cse,gpu-lower-to-nvvm-pipeline{cubin-chip=" +
        chipOf(spec) + " cubin-features=" + ptx + " cubin-format=isa opt-level=3}";
    std::string errors;
    llvm::raw_string_ostream errorStream(errors);
    if (failed(parsePassPipeline(pipeline, pm, errorStream)))
      llvm::report_fatal_error(
          llvm::Twine("prism: the NVIDIA lowering pipeline does not parse: ") +
          errors);
  }

  std::string getKernelizeOptions(const TargetSpec &) const override {
    return kernelizeOptions().str();
  }

  llvm::Expected<std::string> writeBinaries(ModuleOp lowered,
                                            const TargetSpec &spec,
                                            llvm::StringRef directory) const override {
    std::string ptx;
    lowered.walk([&](gpu::BinaryOp binary) {
      for (Attribute object : binary.getObjects())
        ptx = cast<gpu::ObjectAttr>(object).getObject().str();
    });
    if (ptx.empty())
      return llvm::createStringError(
          "the NVIDIA lowering produced no PTX (no kernels?)");
    llvm::SmallString<256> ptxPath(directory), cubinPath(directory);
    llvm::sys::path::append(ptxPath, "kernels.ptx");
    llvm::sys::path::append(cubinPath, "kernels.cubin");
    {
      std::error_code ec;
      llvm::raw_fd_ostream out(ptxPath, ec);
      if (ec)
        return llvm::createStringError(ec, "cannot write " + ptxPath);
      out << ptx;
    }
    std::string ptxas = findPtxas();
    if (ptxas.empty()) {
      llvm::errs() << "prism: no ptxas found (CUDA_HOME, CUDA_PATH, PATH, "
                      "/usr/local/cuda): the bundle carries PTX only, which "
                      "the CUDA driver compiles when it loads it\n";
      return std::string("kernels.ptx");
    }
    std::string arch = "-arch=" + chipOf(spec);
    llvm::SmallString<256> logPath(directory);
    llvm::sys::path::append(logPath, "ptxas.log");
    llvm::StringRef args[] = {ptxas, arch, "-O3", "-v", ptxPath, "-o", cubinPath};
    std::optional<llvm::StringRef> redirects[] = {std::nullopt, logPath.str(),
                                                  logPath.str()};
    std::string message;
    // A kernel far beyond the register file (huge --tile-sizes) can keep
    // ptxas busy for a very long time: it is stopped after 10 minutes.
    constexpr unsigned kPtxasSeconds = 600;
    int status = llvm::sys::ExecuteAndWait(ptxas, args, std::nullopt, redirects,
                                           kPtxasSeconds, 0, &message);
    if (status == -2 && llvm::StringRef(message).contains("timed out"))
      return llvm::createStringError(
          "ptxas did not finish within " + std::to_string(kPtxasSeconds) + " s for " +
          chipOf(spec) + " and was stopped (are the tile sizes far beyond the register file?)");
    if (status != 0) {
      auto log = llvm::MemoryBuffer::getFile(logPath);
      return llvm::createStringError(
          "ptxas failed for " + chipOf(spec) + " (" + message + "): " +
          (log ? (*log)->getBuffer().str() : std::string("no log")));
    }
    return std::string("kernels.cubin");
  }
};

} // namespace
} // namespace prism::nvidia

void prism::registerNvidiaTarget() {
  nvidia::registerPrismNvidiaPasses();
  gpu::registerGPUToNVVMPipeline();
  registerTargetBackend(std::make_unique<nvidia::NvidiaTargetBackend>());
}
