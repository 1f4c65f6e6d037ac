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

namespace {

/// What the tile choices depend on, per chip (the CUDA programming guide's
/// table of compute capabilities and the PTX ISA's target list).
struct ChipModel {
  /// Shared memory a block may opt in to: 227 KB on Hopper, 163 KB on
  /// sm_80, 99 KB on sm_89, less 1 KB for the static shared memory the
  /// NVPTX lowering of gpu.dynamic_shared_memory declares (a
  /// 16-byte-aligned variable at the start of the window).
  int64_t sharedMemoryPerBlock;
  /// wgmma.mma_async and TMA (cp.async.bulk.tensor): sm_90a only (plain
  /// sm_90 has neither; it runs mma.sync like sm_80).
  bool warpgroupMma;
  /// The SMs of the chip's main data-center part, which split-K fills.
  int64_t multiprocessors;
};

ChipModel chipModel(llvm::StringRef chip) {
  int64_t kilobytes = chip.starts_with("sm_90") ? 227 : chip == "sm_80" ? 163 : 99;
  int64_t multiprocessors = chip.starts_with("sm_90") ? 132 : chip == "sm_80" ? 108 : 128;
  return {(kilobytes - 1) * 1024, chip == "sm_90a", multiprocessors};
}

} // namespace

std::string kernelizeOptions(llvm::StringRef chip) {
  // f32 products are FMA loops over the element-wise layout, whose
  // registers bound the tile: 32x32x32 matmuls, 16x16 attention (the
  // fastest on an H100 on 2026-11-22; K steps of 64 doubled the
  // registers and made a 4096^3 matmul 1.8x slower). Matmul blocks launch
  // in groups of 8 row blocks per column block (Triton's GROUP_M = 8), so
  // that the blocks running at once share their A and B tiles in L2.
  // Norm and softmax rows of up to 4096 elements (32 per thread) are read
  // once and kept in registers (at most 166 registers, no spills; rows of
  // 8192 took 255 registers on sm_80 and sm_89 and spilled in a fused
  // add + layer_norm); longer or dynamic rows go in chunks of 512.
  // Element-wise and rope programs take 1024 elements (a rope: 16 heads
  // of 64 pairs), 8 per thread: runs of 8 contiguous elements, moved as
  // 16-byte vectors (512 gave runs of 4, 8-byte accesses).
  std::string options =
      "elementwise-block=1024 row-block=512 whole-row-max=4096 matmul-m=32 matmul-n=32 "
      "matmul-k=32 matmul-group-m=8 attention-m=16 attention-n=16 strided-block=512";
  // Split-K fills the chip's SMs when a matmul of static sizes has few
  // output tiles (a decode step: 8 x 4096 @ 4096 x 4096 is 32 tiles of
  // 128 columns): H100 SXM's 132 for sm_90/sm_90a, A100's 108 for sm_80,
  // 128 for sm_89 (L40S 142, RTX 4090 128, L4 58). The same count splits
  // the keys of an attention with few programs (a decode step's one query
  // row per head: 8 programs of 4 packed query heads for Llama-3-8B at
  // batch 1).
  options += " matmul-split-k-fill=" + std::to_string(chipModel(chip).multiprocessors);
  // bf16/f16 products run on tensor cores and keep their accumulators in
  // fragment registers, operands staged in shared memory.
  if (chipModel(chip).warpgroupMma) {
    // Hopper's tiles, as cuBLAS's and CUTLASS's: 128 x 128 x 64, two
    // warpgroups of wgmma over 64 rows each, TMA into 4 stages of 32 KB
    // (132 KB, 120 registers); attention 128 queries (a warpgroup's 64
    // each, as FlashAttention 3) by 64 keys (181 registers, 132 KB).
    // A matmul of at most 64 static rows (a decode step compiled for its
    // batch) takes a 64-row tile, one warpgroup: wgmma's smallest M.
    // Attention's softmax of key block j runs while P V of block j - 1
    // does (both wgmma groups in flight, each waited for at its result's
    // first use: FlashAttention 3's overlap within a warpgroup).
    options += " matrix-core-matmul-m=128 matrix-core-matmul-n=128 matrix-core-matmul-k=64"
               " matrix-core-attention-m=128 matrix-core-attention-n=64 matrix-core-min-m=64"
               " matrix-core-attention-overlap=true";
  } else {
    // mma.sync by 4 warps of 16 rows each: 64 x 64 x 32 (89-109
    // registers in the 8B block's matmuls; 64 x 128 takes 158-186 and 128
    // rows spill), attention 64 x 32 (161 registers, 68 KB, which sm_89's
    // 99 KB also holds; 64 x 64 takes 201).
    options += " matrix-core-matmul-m=64 matrix-core-matmul-n=64 matrix-core-matmul-k=32"
               " matrix-core-attention-m=64 matrix-core-attention-n=32";
  }
  return options;
}

std::string lowerTileToGpuOptions(llvm::StringRef chip) {
  ChipModel model = chipModel(chip);
  return "threads=" + std::to_string(kThreadsPerBlock) +
         " dynamic-shared-memory-limit=" + std::to_string(model.sharedMemoryPerBlock) +
         (model.warpgroupMma ? " warpgroup-mma=true tensor-memory-access=true" : "");
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
        "},prism-nvidia-approximate-exp2,canonicalize,cse,gpu-lower-to-nvvm-pipeline{cubin-chip=" +
        chipOf(spec) + " cubin-features=" + ptx + " cubin-format=isa opt-level=3}";
    std::string errors;
    llvm::raw_string_ostream errorStream(errors);
    if (failed(parsePassPipeline(pipeline, pm, errorStream)))
      llvm::report_fatal_error(
          llvm::Twine("prism: the NVIDIA lowering pipeline does not parse: ") +
          errors);
  }

  std::string getKernelizeOptions(const TargetSpec &spec) const override {
    return kernelizeOptions(chipOf(spec));
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
    // ptxas's performance warnings (wgmma serialized for want of its
    // register or fence discipline, C7510-C7520) mean the kernel runs far
    // below what it was built for: said where the user sees them.
    if (auto log = llvm::MemoryBuffer::getFile(logPath)) {
      llvm::SmallVector<llvm::StringRef> lines;
      (*log)->getBuffer().split(lines, '\n');
      for (llvm::StringRef line : lines)
        if (line.contains("Performance Loss"))
          llvm::errs() << "prism: warning: ptxas (" << chipOf(spec) << "): " << line.trim()
                       << "\n";
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
