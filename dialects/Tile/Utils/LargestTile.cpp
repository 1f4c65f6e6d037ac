//===- LargestTile.cpp - Finding a tile too large for a backend -----------===//

#include "dialects/Tile/Utils/LargestTile.h"

using namespace mlir;

namespace prism::tile {

std::optional<std::pair<Operation *, RankedTensorType>>
findTileLargerThan(Operation *root, int64_t maxElements) {
  std::optional<std::pair<Operation *, RankedTensorType>> found;
  root->walk([&](Operation *op) {
    for (Type type : op->getResultTypes())
      if (auto tile = dyn_cast<RankedTensorType>(type))
        if (tile.hasStaticShape() && tile.getNumElements() > maxElements) {
          found = {op, tile};
          return WalkResult::interrupt();
        }
    return WalkResult::advance();
  });
  return found;
}

} // namespace prism::tile
