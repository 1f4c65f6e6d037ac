//===- Elementwise.h - Element-by-element ops on tiles ----------*- C++ -*-===//
//
// The backends move elementwise arithmetic between layouts (a GPU's
// fragments and rows) and between chunks of a tile (the CPU's epilogues);
// both ask the same question of an op first.
//
//===----------------------------------------------------------------------===//

#ifndef PRISM_DIALECTS_TILE_UTILS_ELEMENTWISE_H
#define PRISM_DIALECTS_TILE_UTILS_ELEMENTWISE_H

#include "mlir/IR/Operation.h"

namespace prism::tile {

/// An arith or math op without regions whose one result and every operand
/// are ranked tensors of one shape: it computes element by element.
/// Purity is left to the caller (integer division is elementwise but may
/// not be speculated).
bool isElementwiseOnTiles(mlir::Operation *op);

} // namespace prism::tile

#endif // PRISM_DIALECTS_TILE_UTILS_ELEMENTWISE_H
