//===- InitAll.cpp - Register every Prism dialect and pass ----------------===//

#include "prism/InitAll.h"
#include "prism/Target/TargetBackend.h"
#include "passes/Passes.h"

#include "dialects/Prism/IR/PrismDialect.h"
#include "dialects/Tile/IR/TileDialect.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/Conversion/Passes.h"
#include "mlir/Dialect/Arith/Transforms/Passes.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Dialect/Vector/Transforms/Passes.h"
#include "mlir/Transforms/Passes.h"

void prism::registerAllDialects(mlir::DialectRegistry &registry) {
  registry.insert<prism::PrismDialect, prism::tile::TileDialect,
                  mlir::arith::ArithDialect, mlir::memref::MemRefDialect,
                  mlir::vector::VectorDialect, mlir::LLVM::LLVMDialect,
                  mlir::func::FuncDialect, mlir::math::MathDialect,
                  mlir::scf::SCFDialect, mlir::tensor::TensorDialect>();
  // What each enabled backend's pipeline needs (GPU dialects, translations).
  prism::registerAllTargets();
  prism::registerTargetDialects(registry);
}

void prism::registerAllPasses() {
  // Upstream: canonicalize, cse, inline, symbol-dce, ..., and the
  // conversions the backends' pipelines name (convert-vector-to-llvm, ...).
  mlir::registerTransformsPasses();
  mlir::registerConversionPasses();
  mlir::memref::registerMemRefPasses();
  mlir::arith::registerArithPasses();
  mlir::vector::registerVectorPasses();
  prism::registerPrismPasses();
  // Each enabled backend registers its own passes and itself.
  prism::registerAllTargets();
}
