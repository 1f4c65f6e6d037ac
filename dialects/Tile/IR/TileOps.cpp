//===- TileOps.cpp - Verifiers and folds of the tile ops ------------------===//

#include "dialects/Tile/IR/TileOps.h"

#include "mlir/Interfaces/FunctionInterfaces.h"

using namespace mlir;
using namespace prism::tile;

//===----------------------------------------------------------------------===//
// program_id, num_programs
//===----------------------------------------------------------------------===//

static LogicalResult verifyInsideKernel(Operation *op) {
  auto function = op->getParentOfType<FunctionOpInterface>();
  if (!function || !function->hasAttr(TileDialect::getKernelAttrName()))
    return op->emitOpError("must be inside a function marked 'tile.kernel'");
  return success();
}

LogicalResult ProgramIdOp::verify() { return verifyInsideKernel(*this); }
LogicalResult NumProgramsOp::verify() { return verifyInsideKernel(*this); }

//===----------------------------------------------------------------------===//
// iota, broadcast, expand_dims
//===----------------------------------------------------------------------===//

LogicalResult IotaOp::verify() {
  if (getType().getRank() != 1)
    return emitOpError("result must be a 1-D tile, but got ") << getType();
  return success();
}

LogicalResult BroadcastOp::verify() {
  auto input = cast<RankedTensorType>(getInput().getType());
  auto result = cast<RankedTensorType>(getType());
  if (input.getElementType() != result.getElementType())
    return emitOpError("result must have the element type of the input (")
           << input.getElementType() << "), but got "
           << result.getElementType();
  if (input.getRank() > result.getRank())
    return emitOpError("result rank (")
           << result.getRank() << ") must be at least the input rank ("
           << input.getRank() << ")";
  int64_t lead = result.getRank() - input.getRank();
  for (int64_t i = 0; i < input.getRank(); ++i) {
    int64_t in = input.getDimSize(i), out = result.getDimSize(lead + i);
    if (in != out && in != 1)
      return emitOpError("input dimension ")
             << i << " (" << in << ") must be 1 or equal result dimension "
             << lead + i << " (" << out << ")";
  }
  return success();
}

OpFoldResult BroadcastOp::fold(FoldAdaptor) {
  if (getInput().getType() == getType())
    return getInput();
  return {};
}

LogicalResult ExpandDimsOp::verify() {
  auto input = cast<RankedTensorType>(getInput().getType());
  auto result = cast<RankedTensorType>(getType());
  int64_t axis = static_cast<int64_t>(getAxis());
  if (axis < 0 || axis > input.getRank())
    return emitOpError("axis ")
           << axis << " must be in [0, " << input.getRank() << "]";
  SmallVector<int64_t> shape(input.getShape());
  shape.insert(shape.begin() + axis, 1);
  if (result.getShape() != ArrayRef<int64_t>(shape) ||
      result.getElementType() != input.getElementType())
    return emitOpError("result must be ")
           << RankedTensorType::get(shape, input.getElementType())
           << ", but got " << result;
  return success();
}

LogicalResult ReshapeOp::verify() {
  auto input = cast<RankedTensorType>(getInput().getType());
  auto result = cast<RankedTensorType>(getType());
  if (input.getElementType() != result.getElementType() ||
      input.getNumElements() != result.getNumElements())
    return emitOpError("result must have the element type and element count "
                       "of the input (")
           << input << "), but got " << result;
  return success();
}

OpFoldResult ReshapeOp::fold(FoldAdaptor) {
  if (getInput().getType() == getType())
    return getInput();
  if (auto inner = getInput().getDefiningOp<ReshapeOp>()) {
    getInputMutable().assign(inner.getInput());
    return getResult();
  }
  return {};
}

LogicalResult TransposeOp::verify() {
  auto input = cast<RankedTensorType>(getInput().getType());
  ArrayRef<int64_t> permutation = getPermutation();
  if (static_cast<int64_t>(permutation.size()) != input.getRank())
    return emitOpError("permutation must have one entry per dimension (")
           << input.getRank() << "), but has " << permutation.size();
  SmallVector<bool> seen(input.getRank(), false);
  SmallVector<int64_t> shape;
  for (int64_t dim : permutation) {
    if (dim < 0 || dim >= input.getRank() || seen[dim])
      return emitOpError("permutation must be a permutation of [0, ")
             << input.getRank() << ")";
    seen[dim] = true;
    shape.push_back(input.getDimSize(dim));
  }
  auto expected = RankedTensorType::get(shape, input.getElementType());
  if (getType() != expected)
    return emitOpError("result must be ") << expected << ", but got "
                                          << getType();
  return success();
}

//===----------------------------------------------------------------------===//
// load, store, gather
//===----------------------------------------------------------------------===//

/// Shared checks of a block access: one index per dimension of `base`, and a
/// tile of `base`'s rank and element type.
static LogicalResult verifyBlockAccess(Operation *op, MemRefType base,
                                       size_t numIndices,
                                       RankedTensorType tile,
                                       StringRef tileName) {
  if (numIndices != static_cast<size_t>(base.getRank()))
    return op->emitOpError("expects one index per dimension of the memref (")
           << base.getRank() << "), but got " << numIndices;
  if (tile.getRank() != base.getRank())
    return op->emitOpError() << tileName << " must have the rank of the memref ("
                             << base.getRank() << "), but got " << tile;
  if (tile.getElementType() != base.getElementType())
    return op->emitOpError() << tileName
                             << " must have the element type of the memref ("
                             << base.getElementType() << "), but got "
                             << tile.getElementType();
  return success();
}

LogicalResult LoadOp::verify() {
  auto tile = cast<RankedTensorType>(getType());
  if (failed(verifyBlockAccess(*this, getBase().getType(), getIndices().size(),
                               tile, "result")))
    return failure();
  if (Value padding = getPadding())
    if (padding.getType() != tile.getElementType())
      return emitOpError("padding must have the element type of the result (")
             << tile.getElementType() << "), but got " << padding.getType();
  return success();
}

LogicalResult StoreOp::verify() {
  auto tile = cast<RankedTensorType>(getValue().getType());
  if (failed(verifyBlockAccess(*this, getBase().getType(), getIndices().size(),
                               tile, "stored value")))
    return failure();
  if (Value mask = getMask())
    if (cast<RankedTensorType>(mask.getType()).getShape() != tile.getShape())
      return emitOpError("mask must have the shape of the stored value (")
             << tile << "), but got " << mask.getType();
  return success();
}

LogicalResult GatherOp::verify() {
  MemRefType base = getBase().getType();
  auto tile = cast<RankedTensorType>(getType());
  if (getIndices().size() != static_cast<size_t>(base.getRank()))
    return emitOpError("expects one index tile per dimension of the memref (")
           << base.getRank() << "), but got " << getIndices().size();
  if (tile.getElementType() != base.getElementType())
    return emitOpError("result must have the element type of the memref (")
           << base.getElementType() << "), but got " << tile.getElementType();
  for (auto [i, index] : llvm::enumerate(getIndices()))
    if (cast<RankedTensorType>(index.getType()).getShape() != tile.getShape())
      return emitOpError("index tile #")
             << i << " must have the shape of the result (" << tile
             << "), but got " << index.getType();
  if (Value mask = getMask())
    if (cast<RankedTensorType>(mask.getType()).getShape() != tile.getShape())
      return emitOpError("mask must have the shape of the result (")
             << tile << "), but got " << mask.getType();
  return success();
}

//===----------------------------------------------------------------------===//
// dot, reduce
//===----------------------------------------------------------------------===//

LogicalResult DotOp::verify() {
  auto lhs = cast<RankedTensorType>(getLhs().getType());
  auto rhs = cast<RankedTensorType>(getRhs().getType());
  auto acc = cast<RankedTensorType>(getAcc().getType());
  if (lhs.getRank() != 2 || rhs.getRank() != 2 || acc.getRank() != 2)
    return emitOpError("operands must be 2-D tiles, but got ")
           << lhs << ", " << rhs << " and " << acc;
  if (lhs.getDimSize(1) != rhs.getDimSize(0))
    return emitOpError("K of 'lhs' (")
           << lhs.getDimSize(1) << ") must equal K of 'rhs' ("
           << rhs.getDimSize(0) << ")";
  if (acc.getDimSize(0) != lhs.getDimSize(0) ||
      acc.getDimSize(1) != rhs.getDimSize(1))
    return emitOpError("accumulator must be [")
           << lhs.getDimSize(0) << ", " << rhs.getDimSize(1) << "], but got "
           << acc;
  Type accElement = acc.getElementType();
  bool f16Inputs =
      lhs.getElementType().isF16() && rhs.getElementType().isF16();
  if (!accElement.isF32() && !(accElement.isF16() && f16Inputs))
    return emitOpError("accumulator must be f32 (or f16 for f16 inputs), but "
                       "got ")
           << accElement;
  return success();
}

LogicalResult ReduceOp::verify() {
  auto input = cast<RankedTensorType>(getInput().getType());
  auto result = cast<RankedTensorType>(getType());
  int64_t axis = static_cast<int64_t>(getAxis());
  if (axis < 0 || axis >= input.getRank())
    return emitOpError("axis ")
           << axis << " must be in [0, " << input.getRank() << ")";
  SmallVector<int64_t> shape(input.getShape());
  shape.erase(shape.begin() + axis);
  auto expected = RankedTensorType::get(shape, input.getElementType());
  if (result != expected)
    return emitOpError("result must be ") << expected << ", but got " << result;
  return success();
}
