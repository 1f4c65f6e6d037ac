//===- AmdTarget.cpp - The AMD backend: GCN assembly and HSACO ------------===//
//
// Kernels are compiled and checked here; no AMD GPU or ROCm install is
// needed (and none is used: the kernels are not executed on AMD hardware).
//
//===----------------------------------------------------------------------===//

#include "targets/amd/AmdTarget.h"
#include "prism/Target/TargetBackend.h"
#include "targets/amd/Passes.h"

#include "mlir/Conversion/ArithToLLVM/ArithToLLVM.h"
#include "mlir/Conversion/ControlFlowToLLVM/ControlFlowToLLVM.h"
#include "mlir/Conversion/FuncToLLVM/ConvertFuncToLLVM.h"
#include "mlir/Conversion/IndexToLLVM/IndexToLLVM.h"
#include "mlir/Conversion/MathToLLVM/MathToLLVM.h"
#include "mlir/Conversion/MemRefToLLVM/MemRefToLLVM.h"
#include "mlir/Conversion/UBToLLVM/UBToLLVM.h"
#include "mlir/Conversion/VectorToLLVM/ConvertVectorToLLVM.h"
#include "mlir/Dialect/AMDGPU/IR/AMDGPUDialect.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/GPU/Transforms/Passes.h"
#include "mlir/Dialect/LLVMIR/ROCDLDialect.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Target/LLVM/ROCDL/Target.h"
#include "mlir/Target/LLVMIR/Dialect/GPU/GPUToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/ROCDL/ROCDLToLLVMIRTranslation.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;

namespace prism::amd {

std::string kernelizeOptions(llvm::StringRef chip) {
  // The same tile sizes as NVIDIA's baseline layout, for 256 threads.
  std::string options = "elementwise-block=1024 row-block=1024 matmul-m=32 matmul-n=32 "
                        "matmul-k=32 attention-m=16 attention-n=16 strided-block=1024";
  // A matmul or attention with few programs splits its K or key range to
  // fill the compute units: MI300X's 304 for gfx942, one MI250X die's 110
  // for gfx90a, the RX 7900 XTX's 96 for gfx1100.
  int64_t computeUnits = chip == "gfx90a" ? 110 : chip == "gfx1100" ? 96 : 304;
  options += " matmul-split-k-fill=" + std::to_string(computeUnits);
  return options;
}

llvm::StringRef matrixCoresOf(llvm::StringRef chip) {
  return chip.starts_with("gfx11") ? "wmma" : "mfma";
}

namespace {

/// Runs an LLVM tool of this install; its output goes to `log`.
llvm::Error runTool(llvm::StringRef tool, llvm::ArrayRef<llvm::StringRef> args,
                    llvm::StringRef log) {
  llvm::SmallString<256> path(PRISM_LLVM_TOOLS_DIR);
  llvm::sys::path::append(path, tool);
  if (!llvm::sys::fs::can_execute(path))
    return llvm::createStringError("the AMD backend needs " + path +
                                   " (LLVM's tools; install llvm-22 and lld-22)");
  SmallVector<llvm::StringRef> argv = {path};
  argv.append(args.begin(), args.end());
  std::optional<llvm::StringRef> redirects[] = {std::nullopt, log, log};
  std::string message;
  if (llvm::sys::ExecuteAndWait(path, argv, std::nullopt, redirects, 0, 0,
                                &message) != 0) {
    auto text = llvm::MemoryBuffer::getFile(log);
    return llvm::createStringError(
        tool + " failed (" + message + "): " +
        (text ? (*text)->getBuffer().str() : std::string("no log")));
  }
  return llvm::Error::success();
}

class AmdTargetBackend : public TargetBackend {
public:
  llvm::StringRef getName() const override { return "amd"; }
  llvm::StringRef getDescription() const override {
    return "AMD GPUs: tile kernels through gpu/rocdl to GCN, HSACO by ld.lld";
  }
  bool supportsChip(llvm::StringRef chip) const override {
    return chip.empty() || chip == "gfx90a" || chip == "gfx942" ||
           chip == "gfx1100";
  }
  static std::string chipOf(const TargetSpec &spec) {
    return spec.chip.empty() ? "gfx942" : spec.chip;
  }

  void registerDialects(DialectRegistry &registry) const override {
    registry.insert<gpu::GPUDialect, ROCDL::ROCDLDialect, amdgpu::AMDGPUDialect>();
    ROCDL::registerROCDLTargetInterfaceExternalModels(registry);
    registerLLVMDialectTranslation(registry);
    registerROCDLDialectTranslation(registry);
    registerGPUDialectTranslation(registry);
    arith::registerConvertArithToLLVMInterface(registry);
    cf::registerConvertControlFlowToLLVMInterface(registry);
    registerConvertFuncToLLVMInterface(registry);
    index::registerConvertIndexToLLVMInterface(registry);
    registerConvertMathToLLVMInterface(registry);
    registerConvertMemRefToLLVMInterface(registry);
    ub::registerConvertUBToLLVMInterface(registry);
    vector::registerConvertVectorToLLVMInterface(registry);
  }

  void buildTileLoweringPipeline(OpPassManager &pm,
                                 const TargetSpec &spec) const override {
    std::string chip = chipOf(spec);
    std::string pipeline =
        "prism-amd-lower-tile-to-gpu{threads=" + std::to_string(kThreadsPerBlock) +
        " matrix-cores=" + matrixCoresOf(chip).str() + "},canonicalize,cse,convert-vector-to-scf,convert-scf-to-cf,"
        "expand-strided-metadata,lower-affine,rocdl-attach-target{chip=" + chip +
        " O=3},gpu.module(convert-gpu-to-rocdl{chipset=" + chip +
        "}),reconcile-unrealized-casts,gpu-module-to-binary{format=isa}";
    std::string errors;
    llvm::raw_string_ostream errorStream(errors);
    if (failed(parsePassPipeline(pipeline, pm, errorStream)))
      llvm::report_fatal_error(
          llvm::Twine("prism: the AMD lowering pipeline does not parse: ") + errors);
  }

  std::string getKernelizeOptions(const TargetSpec &spec) const override {
    return kernelizeOptions(chipOf(spec));
  }

  llvm::Expected<std::string> writeBinaries(ModuleOp lowered,
                                            const TargetSpec &spec,
                                            llvm::StringRef directory) const override {
    std::string isa;
    lowered.walk([&](gpu::BinaryOp binary) {
      for (Attribute object : binary.getObjects())
        isa = cast<gpu::ObjectAttr>(object).getObject().str();
    });
    if (isa.empty())
      return llvm::createStringError("the AMD lowering produced no ISA (no kernels?)");
    auto path = [&](llvm::StringRef name) {
      llvm::SmallString<256> p(directory);
      llvm::sys::path::append(p, name);
      return std::string(p);
    };
    std::string assembly = path("kernels.s"), object = path("kernels.o"),
                hsaco = path("kernels.hsaco"), log = path("assembler.log");
    {
      std::error_code ec;
      llvm::raw_fd_ostream out(assembly, ec);
      if (ec)
        return llvm::createStringError(ec, "cannot write " + assembly);
      out << isa;
    }
    std::string mcpu = "-mcpu=" + chipOf(spec);
    if (llvm::Error e = runTool("llvm-mc", {"-triple=amdgcn-amd-amdhsa", mcpu,
                                            "-filetype=obj", assembly, "-o", object},
                                log))
      return std::move(e);
    if (llvm::Error e = runTool("ld.lld", {"-shared", object, "-o", hsaco}, log))
      return std::move(e);
    llvm::sys::fs::remove(object);
    return std::string("kernels.hsaco");
  }
};

} // namespace
} // namespace prism::amd

void prism::registerAmdTarget() {
  amd::registerPrismAmdPasses();
  // rocdl-attach-target, gpu-module-to-binary.
  registerGPUPasses();
  registerTargetBackend(std::make_unique<amd::AmdTargetBackend>());
}
