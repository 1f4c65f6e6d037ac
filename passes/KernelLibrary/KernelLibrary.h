//===- KernelLibrary.h - Every prism op as one tile kernel ------*- C++ -*-===//
//
// Each function builds one tile kernel into a module. Kernels take memrefs of
// any strides (views: broadcasts are stride-0 dimensions, transposes permuted
// strides), read runtime sizes from them, mask their tails, and compute in
// f32 whatever the storage type. The launch grid each kernel expects is
// stated next to it and computed by kernelization.
//
//===----------------------------------------------------------------------===//

#ifndef PRISM_PASSES_KERNELLIBRARY_KERNELLIBRARY_H
#define PRISM_PASSES_KERNELLIBRARY_KERNELLIBRARY_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"

#include <functional>

namespace prism::kernels {

class KernelBuilder;

/// Tile sizes, chosen by the target backend.
struct TileSizes {
  int64_t elementwiseBlock = 256; // elements of the last dim per program
  int64_t rowBlock = 256;         // row chunk of norms and softmax
  int64_t matmulM = 8;
  int64_t matmulN = 64;
  int64_t matmulK = 16;
};

/// The computation of an elementwise kernel on f32 tiles, one per input.
using ElementwiseBody =
    std::function<mlir::Value(KernelBuilder &, llvm::ArrayRef<mlir::Value>)>;

/// out[i...] = body(in_0[i...], ...), all of one shape (inputs are views,
/// broadcasts included). Grid: x = ceil(last / elementwiseBlock),
/// y = product of the leading dims.
mlir::func::FuncOp buildElementwiseKernel(mlir::ModuleOp module,
                                          llvm::StringRef name,
                                          llvm::ArrayRef<mlir::MemRefType> inputs,
                                          mlir::MemRefType output,
                                          const ElementwiseBody &body,
                                          const TileSizes &sizes);

/// Normalization over the last axis: rms_norm (bias == nullptr, rms) or
/// layer_norm. Arguments: input, [weight], [bias], output. Grid: x = rows.
mlir::func::FuncOp buildRmsNormKernel(mlir::ModuleOp module, llvm::StringRef name,
                                      mlir::MemRefType input,
                                      mlir::MemRefType weight,
                                      mlir::MemRefType output, double epsilon,
                                      const TileSizes &sizes);

/// Softmax over the last axis (online max and sum, then a second pass).
/// Arguments: input, output. Grid: x = rows.
mlir::func::FuncOp buildSoftmaxKernel(mlir::ModuleOp module, llvm::StringRef name,
                                      mlir::MemRefType input,
                                      mlir::MemRefType output, double scale,
                                      const TileSizes &sizes);

/// Batched matmul: lhs [b..., M, K] (or [b..., K, M]), rhs [b..., K, N] (or
/// [b..., N, K]), optional bias [N], output [b..., M, N]; batch dims of the
/// operands are already broadcast (views). Grid: x = ceil(M / matmulM),
/// y = ceil(N / matmulN), z = product of the batch dims.
mlir::func::FuncOp buildMatmulKernel(mlir::ModuleOp module, llvm::StringRef name,
                                     mlir::MemRefType lhs, mlir::MemRefType rhs,
                                     mlir::MemRefType bias,
                                     mlir::MemRefType output, bool transposeLhs,
                                     bool transposeRhs, mlir::Type accumulator,
                                     const TileSizes &sizes);

} // namespace prism::kernels

#endif // PRISM_PASSES_KERNELLIBRARY_KERNELLIBRARY_H
