//===- FusionUtils.h - What the fusion passes share -------------*- C++ -*-===//

#ifndef PRISM_PASSES_FUSION_FUSIONUTILS_H
#define PRISM_PASSES_FUSION_FUSIONUTILS_H

#include "dialects/Prism/IR/PrismOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"

namespace prism::fusion {

/// The static shape of a ranked tensor value.
llvm::ArrayRef<int64_t> shapeOf(mlir::Value value);

/// The one op that uses `value`, when it has exactly one use and that use is
/// in the block that defines it (not inside a fusion); null otherwise.
mlir::Operation *singleUser(mlir::Value value);

/// Whether `op` is at the top level of a function (fusion passes leave the
/// bodies of existing fusions alone).
bool isTopLevel(mlir::Operation *op);

/// Whether `value` is a transpose view that moves the innermost dimension:
/// a kernel tiled on the last dimension would read it uncoalesced, so it is
/// not pulled into a fused kernel's epilogue.
bool isInnermostTransposed(mlir::Value value);

/// Whether `value` is a splat float constant.
bool isSplatConstant(mlir::Value value);

/// Elementwise ops after `current` (each the single user of the previous
/// value, of its shape, reading no innermost-transposed operand) join
/// `chain`; returns the last value of the chain.
mlir::Value growElementwiseChain(mlir::Value current,
                                 llvm::SmallVectorImpl<mlir::Operation *> &chain);

/// `root` and the elementwise ops that compute its operands, backwards
/// through producers of `shape` used only inside the group (at the top
/// level), in block order.
llvm::SmallVector<mlir::Operation *>
collectElementwiseProducers(mlir::Operation *root, llvm::ArrayRef<int64_t> shape);

/// Moves `ops` (in an order where definitions precede uses, all in one
/// block) into a new `prism.fusion` of `kind` that yields `results`; every
/// use of `results` outside the fusion reads its results instead. The block
/// is then sorted so that every value is defined before its uses.
FusionOp createFusion(FusionKind kind, llvm::ArrayRef<mlir::Operation *> ops,
                      llvm::ArrayRef<mlir::Value> results);

} // namespace prism::fusion

#endif // PRISM_PASSES_FUSION_FUSIONUTILS_H
