//===- AscendTarget.cpp - The Ascend backend: Ascend C source, emulated ----===//
//
// Tile kernels become Ascend C vector kernels (AscendKernelBuilder), are
// checked against the chip's buffers (StaticChecker), and are written as a
// bundle: kernels.cpp (Ascend C, for CANN's compiler), launch_stub.cpp and
// CMakeLists.txt (the CANN host side), ascend_plan.txt (each kernel's
// buffers and stages), and kernels_emulated.so: the same kernels.cpp
// compiled by the host compiler against Prism's CPU model of the Ascend C
// API (targets/ascend/emulation), which is how bundles run here. Nothing
// is compiled by CANN or run on an NPU in this project.
//
//===----------------------------------------------------------------------===//

#include "prism/Target/TargetBackend.h"
#include "targets/ascend/AscendKernel.h"

#include "mlir/Pass/PassRegistry.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;

namespace prism::ascend {
namespace {

llvm::Error writeFile(llvm::StringRef path, llvm::StringRef text) {
  std::error_code ec;
  llvm::raw_fd_ostream out(path, ec);
  if (ec)
    return llvm::createStringError(ec, "cannot write " + path);
  out << text;
  return llvm::Error::success();
}

class AscendTargetBackend : public TargetBackend {
public:
  llvm::StringRef getName() const override { return "ascend"; }
  llvm::StringRef getDescription() const override {
    return "Huawei Ascend: Ascend C source for CANN, run here under Prism's "
           "emulation of the Ascend C API";
  }
  bool supportsChip(llvm::StringRef chip) const override {
    return lookupChip(chip).has_value();
  }

  void buildTileLoweringPipeline(OpPassManager &pm,
                                 const TargetSpec &) const override {
    std::string errors;
    llvm::raw_string_ostream errorStream(errors);
    if (failed(parsePassPipeline("cse", pm, errorStream)))
      llvm::report_fatal_error(llvm::Twine("prism: the Ascend pipeline: ") + errors);
  }

  std::string getKernelizeOptions(const TargetSpec &) const override {
    // Rows of 1024 elements: every library kernel the backend supports
    // fits the 910B's 192 KB UB with its queues double-buffered.
    // Matmuls: 32 x 32 x 32 blocks, small enough for the f32 dots the
    // vector unit runs to fit UB (about 60 KB) and for the cube's L0
    // buffers (2 KB of L0A/L0B, 4 KB of L0C each); their bias and
    // conversion in a vector kernel (the cube/vector split through a GM
    // temporary).
    return "elementwise-block=1024 row-block=1024 matmul-m=32 matmul-n=32 "
           "matmul-k=32 attention-m=16 attention-n=16 strided-block=1024 "
           "separate-matmul-epilogue=1 unfused-attention=1";
  }

  llvm::Expected<std::string> writeBinaries(ModuleOp lowered, const TargetSpec &spec,
                                            llvm::StringRef directory) const override {
    ChipModel chip = *lookupChip(spec.chip);
    std::vector<AscendKernel> kernels;
    std::string plan;
    for (auto function : lowered.getOps<func::FuncOp>()) {
      if (!function->hasAttr("tile.kernel"))
        continue;
      FailureOr<AscendKernel> kernel = buildAscendKernel(function, chip);
      if (failed(kernel) || failed(checkAscendKernel(*kernel, chip, function)))
        return llvm::createStringError(
            "the Ascend backend cannot compile kernel '" + function.getName().str() +
            "':");
      plan += printAscendPlan(*kernel, chip);
      kernels.push_back(std::move(*kernel));
    }
    if (kernels.empty())
      return llvm::createStringError("no kernels to compile for Ascend");
    auto path = [&](llvm::StringRef name) {
      llvm::SmallString<256> p(directory);
      llvm::sys::path::append(p, name);
      return std::string(p);
    };
    std::string chipName = chip.name.str();
    std::string cmake =
        "# Builds the bundle's Ascend C kernels with CANN (ASCEND_HOME_PATH set by\n"
        "# CANN's set_env.sh). Not built by Prism without CANN.\n"
        "cmake_minimum_required(VERSION 3.16)\n"
        "project(prism_ascend_kernels LANGUAGES CXX)\n"
        "set(SOC_VERSION \"Ascend910B1\" CACHE STRING \"the NPU (Prism chip " +
        chipName +
        ")\")\n"
        "set(ASCEND_CANN_PACKAGE_PATH $ENV{ASCEND_HOME_PATH} CACHE PATH \"CANN\")\n"
        "include(${ASCEND_CANN_PACKAGE_PATH}/tools/tikcpp/ascendc_kernel_cmake/ascendc.cmake)\n"
        "ascendc_library(prism_kernels SHARED kernels.cpp)\n"
        "add_library(prism_launch SHARED launch_stub.cpp)\n"
        "target_link_libraries(prism_launch PRIVATE prism_kernels ascendcl)\n";
    for (auto [name, text] :
         {std::pair<std::string, std::string>{"kernels.cpp", printAscendCSource(kernels, chip)},
          {"launch_stub.cpp", printCannHostStub(kernels)},
          {"CMakeLists.txt", cmake},
          {"ascend_plan.txt", plan},
          {"emulation_entry.cpp", printEmulationEntries(kernels, chip)}})
      if (llvm::Error e = writeFile(path(name), text))
        return std::move(e);

    // The emulated library: the same source, compiled by the host compiler
    // against Prism's model of the Ascend C API.
    llvm::SmallVector<llvm::StringRef, 2> searchPaths = {PRISM_LLVM_TOOLS_DIR};
    llvm::ErrorOr<std::string> compiler =
        llvm::sys::findProgramByName("clang++", searchPaths);
    if (!compiler)
      return llvm::createStringError("clang++ not found in " PRISM_LLVM_TOOLS_DIR
                                     " (install clang-22): the Ascend emulation "
                                     "needs a host C++ compiler");
    std::string library = path("kernels_emulated.so"), log = path("emulation_build.log");
    llvm::SmallVector<llvm::StringRef> arguments = {
        *compiler, "-std=c++17", "-O2", "-fPIC", "-shared",
        "-Wno-unused-variable", "-Wno-unused-but-set-variable",
        "-I" PRISM_ASCEND_EMULATION_DIR};
    std::string kernelsSource = path("kernels.cpp"), entrySource = path("emulation_entry.cpp");
    arguments.append({kernelsSource, entrySource, "-o", library});
    std::optional<llvm::StringRef> redirects[] = {std::nullopt, llvm::StringRef(log),
                                                  llvm::StringRef(log)};
    std::string message;
    if (llvm::sys::ExecuteAndWait(*compiler, arguments, std::nullopt, redirects, 0, 0,
                                  &message) != 0) {
      auto text = llvm::MemoryBuffer::getFile(log);
      return llvm::createStringError(
          "compiling the Ascend C kernels against the emulation failed (" + message +
          "): " + (text ? (*text)->getBuffer().str() : std::string("no log")));
    }
    return std::string("kernels_emulated.so");
  }
};

} // namespace
} // namespace prism::ascend

void prism::registerAscendTarget() {
  ascend::registerAscendPlanPass();
  registerTargetBackend(std::make_unique<ascend::AscendTargetBackend>());
}
