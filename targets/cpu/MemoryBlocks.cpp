//===- MemoryBlocks.cpp - Blocks of memory in the CPU tile lowering ------===//

#include "targets/cpu/MemoryBlocks.h"

#include "dialects/Tile/Utils/MemoryAccess.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"

#include <functional>

using namespace mlir;
using prism::tile::indexConstant;

namespace prism::cpu {

bool isHalfFloat(Type type) { return type.isF16() || type.isBF16(); }

VectorType storageTypeOf(VectorType type) {
  if (!isHalfFloat(type.getElementType()))
    return type;
  return VectorType::get(type.getShape(),
                         IntegerType::get(type.getContext(), 16));
}

Value bitcastTo(OpBuilder &b, Location loc, Value value, Type type) {
  if (value.getType() == type)
    return value;
  if (isa<VectorType>(type))
    return vector::BitCastOp::create(b, loc, type, value);
  return arith::BitcastOp::create(b, loc, type, value);
}

bool hasUnitInnermostStride(MemRefType type) {
  if (type.getRank() == 0)
    return true;
  SmallVector<int64_t> strides;
  int64_t offset;
  if (failed(type.getStridesAndOffset(strides, offset)))
    return false;
  return strides.back() == 1;
}

Value blockInBounds(OpBuilder &b, Location loc, Value memref,
                    ValueRange indices, ArrayRef<int64_t> shape) {
  Value inside = arith::ConstantIntOp::create(b, loc, 1, 1);
  for (auto [d, start] : llvm::enumerate(indices)) {
    Value size = memref::DimOp::create(b, loc, memref, d);
    Value startInside = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ule,
                                              start, size);
    Value room = arith::SubIOp::create(b, loc, size, start);
    Value fits = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ule,
                                       indexConstant(b, loc, shape[d]), room);
    inside = arith::AndIOp::create(
        b, loc, inside, arith::AndIOp::create(b, loc, startInside, fits));
  }
  return inside;
}

bool staticallyInBounds(Value memref, ValueRange indices, ArrayRef<int64_t> shape) {
  auto type = cast<MemRefType>(memref.getType());
  for (auto [d, start] : llvm::enumerate(indices)) {
    std::optional<int64_t> first = getConstantIntValue(start);
    if (type.isDynamicDim(d) || !first || *first < 0 ||
        *first + shape[d] > type.getDimSize(d))
      return false;
  }
  return true;
}

void forEachInBoundsElement(
    OpBuilder &b, Location loc, Value memref, ValueRange indices,
    ArrayRef<int64_t> shape,
    function_ref<void(OpBuilder &, Location, ValueRange, ValueRange)> body) {
  SmallVector<Value> extents;
  for (auto [d, start] : llvm::enumerate(indices)) {
    Value size = memref::DimOp::create(b, loc, memref, d);
    Value startInside = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult,
                                              start, size);
    Value room = arith::SubIOp::create(b, loc, size, start);
    Value extent = arith::MinUIOp::create(
        b, loc, indexConstant(b, loc, shape[d]), room);
    extents.push_back(arith::SelectOp::create(b, loc, startInside, extent,
                                              indexConstant(b, loc, 0)));
  }
  // One scf.for per dimension, outermost first.
  SmallVector<Value> ivs;
  std::function<void(OpBuilder &, Location, size_t)> nest =
      [&](OpBuilder &nb, Location nl, size_t d) {
        if (d == extents.size()) {
          SmallVector<Value> positions;
          for (auto [start, iv] : llvm::zip(indices, ivs))
            positions.push_back(arith::AddIOp::create(nb, nl, start, iv));
          body(nb, nl, positions, ivs);
          return;
        }
        scf::ForOp::create(nb, nl, indexConstant(nb, nl, 0), extents[d],
                           indexConstant(nb, nl, 1), ValueRange{},
                           [&](OpBuilder &inner, Location il, Value iv,
                               ValueRange) {
                             ivs.push_back(iv);
                             nest(inner, il, d + 1);
                             ivs.pop_back();
                             scf::YieldOp::create(inner, il);
                           });
      };
  nest(b, loc, 0);
}

void writeRowStreaming(OpBuilder &b, Location loc, Value value, Value memref,
                       ValueRange indices, int64_t vectorBytes) {
  auto type = cast<VectorType>(value.getType());
  auto memrefType = cast<MemRefType>(memref.getType());
  int64_t elementBytes = type.getElementTypeBitWidth() / 8;
  SmallVector<bool> inBounds(type.getRank(), true);
  // The memref's bytes, and the block's address.
  Value bytes = indexConstant(b, loc, elementBytes);
  for (int64_t d = 0; d < memrefType.getRank(); ++d)
    bytes = arith::MulIOp::create(b, loc, bytes, memref::DimOp::create(b, loc, memref, d));
  auto metadata = memref::ExtractStridedMetadataOp::create(b, loc, memref);
  Value linear = metadata.getOffset();
  for (auto [index, stride] : llvm::zip(indices, metadata.getStrides()))
    linear = arith::AddIOp::create(b, loc, linear, arith::MulIOp::create(b, loc, index, stride));
  Value address = arith::AddIOp::create(
      b, loc, memref::ExtractAlignedPointerAsIndexOp::create(b, loc, memref),
      arith::MulIOp::create(b, loc, linear, indexConstant(b, loc, elementBytes)));
  Value aligned = arith::CmpIOp::create(
      b, loc, arith::CmpIPredicate::eq,
      arith::AndIOp::create(b, loc, address, indexConstant(b, loc, vectorBytes - 1)),
      indexConstant(b, loc, 0));
  Value large = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::uge, bytes,
                                      indexConstant(b, loc, kStreamingStoreBytes));
  scf::IfOp::create(
      b, loc, arith::AndIOp::create(b, loc, large, aligned),
      [&](OpBuilder &tb, Location tl) {
        auto row = VectorType::get({type.getShape().back()}, type.getElementType());
        vector::StoreOp::create(tb, tl, vector::ShapeCastOp::create(tb, tl, row, value), memref,
                                indices, /*nontemporal=*/true, llvm::MaybeAlign(vectorBytes));
        scf::YieldOp::create(tb, tl);
      },
      [&](OpBuilder &eb, Location el) {
        vector::TransferWriteOp::create(eb, el, value, memref, indices, ArrayRef<bool>(inBounds));
        scf::YieldOp::create(eb, el);
      });
}

Value stagingBuffer(OpBuilder &b, Operation *user, ArrayRef<int64_t> shape, Type element) {
  auto function = user->getParentOfType<func::FuncOp>();
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(&function.getBody().front());
  return memref::AllocaOp::create(b, user->getLoc(), MemRefType::get(shape, element));
}

} // namespace prism::cpu
