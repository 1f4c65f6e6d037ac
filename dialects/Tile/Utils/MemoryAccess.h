//===- MemoryAccess.h - Addressing strided memrefs from tile lowerings -*- C++ -*-===//
//
// Backends lower tile loads, stores and gathers to vector gathers/scatters
// on a flat view of the buffer, with the bounds of the memref folded into
// the mask. These helpers are that shared part; how a backend lays tiles
// out (n-D vectors on the CPU, per-thread vectors on GPUs) stays its own.
//
//===----------------------------------------------------------------------===//

#ifndef PRISM_DIALECTS_TILE_UTILS_MEMORYACCESS_H
#define PRISM_DIALECTS_TILE_UTILS_MEMORYACCESS_H

#include "mlir/IR/Builders.h"

namespace prism::tile {

/// A flat unit-stride 1-D view of the buffer behind a strided memref, with
/// the memref's offset, sizes and strides.
struct FlatView {
  mlir::Value flat;
  mlir::Value offset;
  llvm::SmallVector<mlir::Value> sizes;
  llvm::SmallVector<mlir::Value> strides;
};

FlatView flatten(mlir::OpBuilder &b, mlir::Location loc, mlir::Value memref);

mlir::Value indexConstant(mlir::OpBuilder &b, mlir::Location loc, int64_t value);

/// A vector of `shape` filled with an index scalar.
mlir::Value splatIndex(mlir::OpBuilder &b, mlir::Location loc,
                       mlir::Value scalar, llvm::ArrayRef<int64_t> shape);

/// The zero of `type` (float or integer).
mlir::Value zeroOf(mlir::OpBuilder &b, mlir::Location loc, mlir::Type type);

/// Linear offsets into `view.flat` of per-dimension positions (index
/// vectors of one shape), and the mask of those inside the memref (unsigned
/// compares: a "negative" position is outside), and-ed with `mask` if given.
std::pair<mlir::Value, mlir::Value>
addressesOf(mlir::OpBuilder &b, mlir::Location loc, const FlatView &view,
            llvm::ArrayRef<mlir::Value> positions, mlir::Value mask = {});

} // namespace prism::tile

#endif // PRISM_DIALECTS_TILE_UTILS_MEMORYACCESS_H
