//===- MemoryAccess.cpp - Addressing strided memrefs from tile lowerings --===//

#include "dialects/Tile/Utils/MemoryAccess.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

#include <limits>

using namespace mlir;

namespace prism::tile {

FlatView flatten(OpBuilder &b, Location loc, Value memref) {
  auto type = cast<MemRefType>(memref.getType());
  auto metadata = memref::ExtractStridedMetadataOp::create(b, loc, memref);
  FlatView view;
  view.offset = metadata.getOffset();
  view.sizes.assign(metadata.getSizes().begin(), metadata.getSizes().end());
  view.strides.assign(metadata.getStrides().begin(), metadata.getStrides().end());
  // Accesses are masked to the memref's bounds before they reach the view,
  // so its static size only has to cover them.
  constexpr int64_t kExtent = std::numeric_limits<int32_t>::max();
  auto flatType = MemRefType::get({kExtent}, type.getElementType(),
                                  StridedLayoutAttr::get(b.getContext(), 0, {1}),
                                  type.getMemorySpace());
  view.flat = memref::ReinterpretCastOp::create(
      b, loc, flatType, metadata.getBaseBuffer(), b.getIndexAttr(0),
      ArrayRef<OpFoldResult>{b.getIndexAttr(kExtent)},
      ArrayRef<OpFoldResult>{b.getIndexAttr(1)});
  return view;
}

Value indexConstant(OpBuilder &b, Location loc, int64_t value) {
  return arith::ConstantIndexOp::create(b, loc, value);
}

Value splatIndex(OpBuilder &b, Location loc, Value scalar,
                 ArrayRef<int64_t> shape) {
  return vector::BroadcastOp::create(
      b, loc, VectorType::get(shape, b.getIndexType()), scalar);
}

Value zeroOf(OpBuilder &b, Location loc, Type type) {
  return arith::ConstantOp::create(b, loc, type, b.getZeroAttr(type));
}

std::pair<Value, Value> addressesOf(OpBuilder &b, Location loc,
                                    const FlatView &view,
                                    ArrayRef<Value> positions, Value mask) {
  ArrayRef<int64_t> shape =
      cast<VectorType>(positions.front().getType()).getShape();
  Value linear = splatIndex(b, loc, view.offset, shape);
  for (auto [d, position] : llvm::enumerate(positions)) {
    linear = arith::AddIOp::create(
        b, loc, linear,
        arith::MulIOp::create(b, loc, position,
                              splatIndex(b, loc, view.strides[d], shape)));
    Value inside = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult,
                                         position,
                                         splatIndex(b, loc, view.sizes[d], shape));
    mask = mask ? arith::AndIOp::create(b, loc, mask, inside).getResult() : inside;
  }
  return {linear, mask};
}

} // namespace prism::tile
