//===- prism-opt.cpp - The Prism optimizer driver -------------------------===//
//
// mlir-opt with the Prism dialects, the upstream dialects Prism uses, and
// every Prism pass registered: `prism-opt --help` lists them.
//
//===----------------------------------------------------------------------===//

#include "prism/InitAll.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"

int main(int argc, char **argv) {
  prism::registerAllPasses();
  mlir::DialectRegistry registry;
  prism::registerAllDialects(registry);
  return mlir::asMainReturnCode(mlir::MlirOptMain(
      argc, argv, "Prism optimizer driver\n", registry));
}
