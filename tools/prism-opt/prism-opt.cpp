//===- prism-opt.cpp - The Prism optimizer driver -------------------------===//
//
// mlir-opt with the Prism dialects, the upstream dialects Prism uses, and
// every Prism pass registered: `prism-opt --help` lists them. One option of
// its own: `--prism-fusion-report` prints, around every run of
// `prism-optimize`, each function's kernels and the global-memory bytes they
// move, before and after.
//
//===----------------------------------------------------------------------===//

#include "passes/Fusion/FusionReport.h"
#include "prism/InitAll.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Support/FileUtilities.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Support/raw_ostream.h"

static llvm::cl::opt<bool> fusionReport(
    "prism-fusion-report",
    llvm::cl::desc("Print each function's kernels and estimated global-memory "
                   "bytes before and after prism-optimize"));
static llvm::cl::opt<int64_t> fusionReportDynamicSize(
    "prism-fusion-report-dynamic-size", llvm::cl::init(1024),
    llvm::cl::desc("The size every dynamic dimension takes in the fusion "
                   "report's byte counts"));

int main(int argc, char **argv) {
  prism::registerAllPasses();
  mlir::DialectRegistry registry;
  prism::registerAllDialects(registry);
  auto [inputFilename, outputFilename] = mlir::registerAndParseCLIOptions(
      argc, argv, "Prism optimizer driver\n", registry);
  mlir::MlirOptMainConfig config = mlir::MlirOptMainConfig::createFromCLOptions();
  if (fusionReportDynamicSize < 0) {
    llvm::errs() << "prism-opt: --prism-fusion-report-dynamic-size must be at least 0, not "
                 << fusionReportDynamicSize << "\n";
    return 1;
  }
  if (fusionReport) {
    mlir::MlirOptMainConfig parsed = config;
    config.setPassPipelineSetupFn([parsed](mlir::PassManager &pm) {
      if (mlir::failed(parsed.setupPassPipeline(pm)))
        return mlir::failure();
      pm.addInstrumentation(prism::createFusionReportInstrumentation(
          llvm::outs(), fusionReportDynamicSize));
      return mlir::success();
    });
  }
  std::string error;
  std::unique_ptr<llvm::MemoryBuffer> input =
      mlir::openInputFile(inputFilename, &error);
  if (!input) {
    llvm::errs() << error << "\n";
    return 1;
  }
  std::unique_ptr<llvm::ToolOutputFile> output =
      mlir::openOutputFile(outputFilename, &error);
  if (!output) {
    llvm::errs() << error << "\n";
    return 1;
  }
  if (mlir::failed(mlir::MlirOptMain(output->os(), std::move(input), registry,
                                     config)))
    return 1;
  output->keep();
  return 0;
}
