//===- PrismTypeInference.cpp - Shared checks of the prism ops ------------===//

#include "dialects/Prism/IR/PrismTypeInference.h"

#include "mlir/IR/BuiltinTypes.h"
#include "llvm/Support/MathExtras.h"

using namespace mlir;

namespace prism {

bool isPrismFloatType(Type type) { return type.isF32() || type.isF16() || type.isBF16(); }

bool isPrismQuantizedType(Type type) {
  return type.isSignlessInteger(8) || isa<Float8E4M3FNType>(type);
}

bool isPrismIndexType(Type type) {
  return type.isSignlessInteger(32) || type.isSignlessInteger(64);
}

std::string formatDim(int64_t dim) {
  return ShapedType::isDynamic(dim) ? std::string("?") : std::to_string(dim);
}

bool areDimsCompatible(int64_t lhs, int64_t rhs) {
  return ShapedType::isDynamic(lhs) || ShapedType::isDynamic(rhs) || lhs == rhs;
}

/// A ranked tensor whose element type satisfies `isAllowed`; `allowedNames`
/// lists the allowed types in the message.
static FailureOr<RankedTensorType>
requireTensorOf(const OpDiagnostic &diag, StringRef operandName, Type type,
                bool (*isAllowed)(Type), StringRef allowedNames) {
  auto tensor = dyn_cast<RankedTensorType>(type);
  if (!tensor)
    return diag.fail("operand '", operandName,
                     "' must be a ranked tensor, but got ", type);
  if (!isAllowed(tensor.getElementType()))
    return diag.fail("operand '", operandName, "' must have element type ",
                     allowedNames, ", but got ", tensor.getElementType());
  return tensor;
}

FailureOr<RankedTensorType> requireFloatTensor(const OpDiagnostic &diag,
                                               StringRef operandName,
                                               Type type) {
  return requireTensorOf(diag, operandName, type, isPrismFloatType,
                         "f32, f16 or bf16");
}

FailureOr<RankedTensorType> requireIndexTensor(const OpDiagnostic &diag,
                                               StringRef operandName,
                                               Type type) {
  return requireTensorOf(diag, operandName, type, isPrismIndexType,
                         "i32 or i64");
}

LogicalResult requireRank(const OpDiagnostic &diag, StringRef operandName,
                          RankedTensorType tensor, int64_t rank,
                          StringRef layout) {
  if (tensor.getRank() == rank)
    return success();
  if (layout.empty())
    return diag.fail("operand '", operandName, "' must have rank ", rank,
                     ", but got ", tensor);
  return diag.fail("operand '", operandName, "' must have rank ", rank, " (",
                   layout, "), but got ", tensor);
}

LogicalResult requireFeatureVector(const OpDiagnostic &diag,
                                   StringRef operandName, Type type,
                                   int64_t expectedSize, Type elementType,
                                   StringRef sizeName) {
  FailureOr<RankedTensorType> tensor =
      requireFloatTensor(diag, operandName, type);
  if (failed(tensor))
    return failure();
  if (tensor->getRank() != 1 ||
      !areDimsCompatible(tensor->getDimSize(0), expectedSize))
    return diag.fail("operand '", operandName, "' must have shape [",
                     formatDim(expectedSize), "] (", sizeName, "), but got ",
                     type);
  Type actual = tensor->getElementType();
  if (actual != elementType && !actual.isF32())
    return diag.fail("operand '", operandName, "' must have element type ",
                     elementType, " or f32, but got ", actual);
  return success();
}

FailureOr<int64_t> normalizeAxis(const OpDiagnostic &diag, StringRef attrName,
                                 int64_t axis, int64_t rank) {
  if (axis < -rank || axis >= rank)
    return diag.fail("attribute '", attrName, "' (", axis,
                     ") is out of range for rank ", rank, "; expected [",
                     -rank, ", ", rank, ")");
  return axis < 0 ? axis + rank : axis;
}

FailureOr<SmallVector<int64_t>> broadcastShapes(const OpDiagnostic &diag,
                                                StringRef lhsName,
                                                RankedTensorType lhs,
                                                StringRef rhsName,
                                                RankedTensorType rhs) {
  ArrayRef<int64_t> lhsShape = lhs.getShape(), rhsShape = rhs.getShape();
  int64_t rank = std::max(lhs.getRank(), rhs.getRank());
  SmallVector<int64_t> shape(rank);
  for (int64_t i = 0; i < rank; ++i) {
    int64_t lhsIndex = lhs.getRank() - rank + i;
    int64_t rhsIndex = rhs.getRank() - rank + i;
    int64_t l = lhsIndex >= 0 ? lhsShape[lhsIndex] : 1;
    int64_t r = rhsIndex >= 0 ? rhsShape[rhsIndex] : 1;
    if (l == 1) {
      shape[i] = r;
    } else if (r == 1) {
      shape[i] = l;
    } else if (ShapedType::isDynamic(l)) {
      shape[i] = r;
    } else if (ShapedType::isDynamic(r) || l == r) {
      shape[i] = l;
    } else {
      return diag.fail("operands '", lhsName, "' (", lhs, ") and '", rhsName,
                       "' (", rhs, ") do not broadcast: dimension ", lhsIndex,
                       " of '", lhsName, "' is ", l, " but dimension ",
                       rhsIndex, " of '", rhsName, "' is ", r);
    }
  }
  return shape;
}

std::optional<int64_t> staticElementCount(ArrayRef<int64_t> shape) {
  int64_t count = 1;
  for (int64_t dim : shape) {
    if (ShapedType::isDynamic(dim))
      continue;
    if (llvm::MulOverflow(count, dim, count))
      return std::nullopt;
  }
  return count;
}

LogicalResult inferBroadcastBinaryOp(std::optional<Location> location,
                                     StringRef opName, Type lhsType,
                                     Type rhsType,
                                     SmallVectorImpl<Type> &results) {
  OpDiagnostic diag(location, opName);
  FailureOr<RankedTensorType> lhs = requireFloatTensor(diag, "lhs", lhsType);
  if (failed(lhs))
    return failure();
  FailureOr<RankedTensorType> rhs = requireFloatTensor(diag, "rhs", rhsType);
  if (failed(rhs))
    return failure();
  if (lhs->getElementType() != rhs->getElementType())
    return diag.fail("operands 'lhs' and 'rhs' must have the same element "
                     "type, but got ",
                     lhs->getElementType(), " and ", rhs->getElementType());
  FailureOr<SmallVector<int64_t>> shape =
      broadcastShapes(diag, "lhs", *lhs, "rhs", *rhs);
  if (failed(shape))
    return failure();
  results.push_back(RankedTensorType::get(*shape, lhs->getElementType()));
  return success();
}

LogicalResult inferElementwiseUnaryOp(std::optional<Location> location,
                                      StringRef opName, Type inputType,
                                      SmallVectorImpl<Type> &results) {
  OpDiagnostic diag(location, opName);
  FailureOr<RankedTensorType> input =
      requireFloatTensor(diag, "input", inputType);
  if (failed(input))
    return failure();
  results.push_back(*input);
  return success();
}

} // namespace prism
