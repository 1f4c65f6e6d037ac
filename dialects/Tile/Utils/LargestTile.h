//===- LargestTile.h - Finding a tile too large for a backend ---*- C++ -*-===//
//
// Each backend bounds the tiles it lowers (the CPU by the vector it
// unrolls, a GPU by the elements each thread holds); both look for the
// first statically shaped tile beyond their bound.
//
//===----------------------------------------------------------------------===//

#ifndef PRISM_DIALECTS_TILE_UTILS_LARGESTTILE_H
#define PRISM_DIALECTS_TILE_UTILS_LARGESTTILE_H

#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Operation.h"

#include <optional>
#include <utility>

namespace prism::tile {

/// The first op under `root` (in walk order) with a statically shaped
/// tensor result of more than `maxElements` elements, and that type.
std::optional<std::pair<mlir::Operation *, mlir::RankedTensorType>>
findTileLargerThan(mlir::Operation *root, int64_t maxElements);

} // namespace prism::tile

#endif // PRISM_DIALECTS_TILE_UTILS_LARGESTTILE_H
