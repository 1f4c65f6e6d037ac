//===- TransformerOps.cpp - matmul, attention, rope, embedding ------------===//

#include "dialects/Prism/IR/PrismOps.h"
#include "llvm/Support/MathExtras.h"

#include <cmath>
#include <limits>

using namespace mlir;
using namespace prism;

//===----------------------------------------------------------------------===//
// MatmulOp
//===----------------------------------------------------------------------===//

FloatType MatmulOp::getAccumulatorType() {
  if (std::optional<Type> acc = getAcc())
    return cast<FloatType>(*acc);
  return Float32Type::get(getContext());
}

LogicalResult MatmulOp::inferReturnTypes(MLIRContext *context,
                                         std::optional<Location> location,
                                         Adaptor adaptor,
                                         SmallVectorImpl<Type> &results) {
  OpDiagnostic diag(location, getOperationName());
  FailureOr<RankedTensorType> lhs =
      requireFloatTensor(diag, "lhs", adaptor.getLhs().getType());
  if (failed(lhs))
    return failure();
  auto rhs = dyn_cast<RankedTensorType>(adaptor.getRhs().getType());
  if (!rhs)
    return diag.fail("operand 'rhs' must be a ranked tensor, but got ",
                     adaptor.getRhs().getType());
  Type elementType = lhs->getElementType();
  Type rhsElement = rhs.getElementType();
  if (rhsElement != elementType && !isPrismQuantizedType(rhsElement))
    return diag.fail("operand 'rhs' must have the element type of 'lhs' (",
                     elementType, ") or i8 / f8E4M3FN, but got ", rhsElement);
  if (lhs->getRank() < 2)
    return diag.fail("operand 'lhs' must have rank >= 2 ([..., M, K]), but got ",
                     *lhs);
  if (rhs.getRank() < 2)
    return diag.fail("operand 'rhs' must have rank >= 2 ([..., K, N]), but got ",
                     rhs);

  bool transposeLhs = adaptor.getTransposeLhs();
  bool transposeRhs = adaptor.getTransposeRhs();
  ArrayRef<int64_t> lhsShape = lhs->getShape(), rhsShape = rhs.getShape();
  int64_t lhsRank = lhsShape.size(), rhsRank = rhsShape.size();
  int64_t m = lhsShape[lhsRank - (transposeLhs ? 1 : 2)];
  int64_t lhsK = lhsShape[lhsRank - (transposeLhs ? 2 : 1)];
  int64_t rhsK = rhsShape[rhsRank - (transposeRhs ? 1 : 2)];
  int64_t n = rhsShape[rhsRank - (transposeRhs ? 2 : 1)];
  if (!areDimsCompatible(lhsK, rhsK))
    return diag.fail("contraction dimension K of 'lhs' (", formatDim(lhsK),
                     ") does not match that of 'rhs' (", formatDim(rhsK),
                     "); shapes ", *lhs, " and ", rhs,
                     transposeRhs ? " with transpose_rhs" : "");

  // Batch dimensions broadcast like elementwise operands.
  auto lhsBatch = RankedTensorType::get(lhsShape.drop_back(2), elementType);
  auto rhsBatch = RankedTensorType::get(rhsShape.drop_back(2), elementType);
  FailureOr<SmallVector<int64_t>> shape =
      broadcastShapes(diag, "lhs batch", lhsBatch, "rhs batch", rhsBatch);
  if (failed(shape))
    return failure();
  shape->push_back(m);
  shape->push_back(n);

  if (std::optional<Type> acc = adaptor.getAcc()) {
    bool valid = acc->isF32() || (acc->isF16() && elementType.isF16());
    if (!valid)
      return diag.fail("attribute 'acc' must be f32 (or f16 for f16 "
                       "operands), but got ",
                       *acc, " for operands of ", elementType);
  }
  if (Value bias = adaptor.getBias())
    if (failed(requireFeatureVector(diag, "bias", bias.getType(), n,
                                    elementType, "N")))
      return failure();
  results.push_back(RankedTensorType::get(*shape, elementType));
  return success();
}

//===----------------------------------------------------------------------===//
// AttentionOp
//===----------------------------------------------------------------------===//

std::optional<double> AttentionOp::getEffectiveScale() {
  if (std::optional<APFloat> scale = getScale())
    return scale->convertToDouble();
  int64_t headDim = getQuery().getType().getShape().back();
  if (ShapedType::isDynamic(headDim))
    return std::nullopt;
  return 1.0 / std::sqrt(static_cast<double>(headDim));
}

LogicalResult AttentionOp::inferReturnTypes(MLIRContext *,
                                            std::optional<Location> location,
                                            Adaptor adaptor,
                                            SmallVectorImpl<Type> &results) {
  OpDiagnostic diag(location, getOperationName());
  FailureOr<RankedTensorType> query =
      requireFloatTensor(diag, "query", adaptor.getQuery().getType());
  if (failed(query) || failed(requireRank(diag, "query", *query, 4,
                                          "[batch, q_heads, q_seq, head_dim]")))
    return failure();
  FailureOr<RankedTensorType> key =
      requireFloatTensor(diag, "key", adaptor.getKey().getType());
  if (failed(key) || failed(requireRank(diag, "key", *key, 4,
                                        "[batch, kv_heads, kv_seq, head_dim]")))
    return failure();
  FailureOr<RankedTensorType> value =
      requireFloatTensor(diag, "value", adaptor.getValue().getType());
  if (failed(value) ||
      failed(requireRank(diag, "value", *value, 4,
                         "[batch, kv_heads, kv_seq, value_dim]")))
    return failure();
  Type elementType = query->getElementType();
  if (key->getElementType() != elementType ||
      value->getElementType() != elementType)
    return diag.fail("operands 'query', 'key' and 'value' must have the same "
                     "element type, but got ",
                     elementType, ", ", key->getElementType(), " and ",
                     value->getElementType());

  ArrayRef<int64_t> q = query->getShape(), k = key->getShape(),
                    v = value->getShape();
  if (!areDimsCompatible(q[0], k[0]) || !areDimsCompatible(q[0], v[0]))
    return diag.fail("batch sizes differ: 'query' has ", formatDim(q[0]),
                     ", 'key' has ", formatDim(k[0]), ", 'value' has ",
                     formatDim(v[0]));
  if (!areDimsCompatible(k[1], v[1]))
    return diag.fail("operands 'key' and 'value' must have the same number "
                     "of heads, but got ",
                     formatDim(k[1]), " and ", formatDim(v[1]));
  int64_t kvHeads = ShapedType::isDynamic(k[1]) ? v[1] : k[1];
  if (!ShapedType::isDynamic(q[1]) && !ShapedType::isDynamic(kvHeads) &&
      (kvHeads == 0 || q[1] % kvHeads != 0))
    return diag.fail("query heads (", q[1],
                     ") must be a multiple of key/value heads (", kvHeads,
                     ") for grouped-query attention");
  if (!areDimsCompatible(k[2], v[2]))
    return diag.fail("operands 'key' and 'value' must have the same sequence "
                     "length, but got ",
                     formatDim(k[2]), " and ", formatDim(v[2]));
  if (!areDimsCompatible(q[3], k[3]))
    return diag.fail("head_dim of 'query' (", formatDim(q[3]),
                     ") does not match head_dim of 'key' (", formatDim(k[3]),
                     ")");

  int64_t batch = ShapedType::isDynamic(q[0]) ? k[0] : q[0];
  int64_t kvSeq = ShapedType::isDynamic(k[2]) ? v[2] : k[2];
  if (Value mask = adaptor.getMask()) {
    FailureOr<RankedTensorType> maskType =
        requireFloatTensor(diag, "mask", mask.getType());
    if (failed(maskType))
      return failure();
    if (maskType->getElementType() != elementType &&
        !maskType->getElementType().isF32())
      return diag.fail("operand 'mask' must have element type ", elementType,
                       " or f32, but got ", maskType->getElementType());
    auto scores = RankedTensorType::get({batch, q[1], q[2], kvSeq},
                                        maskType->getElementType());
    if (maskType->getRank() > 4)
      return diag.fail("operand 'mask' must broadcast to the scores ",
                       scores, ", but got ", *maskType);
    FailureOr<SmallVector<int64_t>> broadcast =
        broadcastShapes(diag, "mask", *maskType, "scores", scores);
    if (failed(broadcast))
      return failure();
    for (auto [got, want] : llvm::zip(*broadcast, scores.getShape()))
      if (!ShapedType::isDynamic(want) && got != want)
        return diag.fail("operand 'mask' must broadcast to the scores ",
                         scores, ", but got ", *maskType);
  }
  // The kernels multiply the scores by scale log2(e) in f32 (a base-2
  // softmax): that product must be a finite, normal f32.
  if (std::optional<APFloat> scale = adaptor.getScale())
    if (!scale->isFiniteNonZero() ||
        std::abs(scale->convertToDouble()) >
            std::numeric_limits<float>::max() / llvm::numbers::log2e ||
        std::abs(scale->convertToDouble()) < std::numeric_limits<float>::min())
      return diag.fail("attribute 'scale' must be a finite, non-zero, normal f32 value "
                       "of magnitude at most 2.35e38 (the kernels scale by scale * "
                       "log2(e) in f32), but got ",
                       scale->convertToDouble());
  if (std::optional<uint64_t> window = adaptor.getWindow()) {
    if (static_cast<int64_t>(*window) <= 0)
      return diag.fail("attribute 'window' must be positive, but got ",
                       static_cast<int64_t>(*window));
    if (!adaptor.getCausal())
      return diag.fail("attribute 'window' (sliding-window attention) "
                       "requires 'causal'");
  }
  results.push_back(
      RankedTensorType::get({batch, q[1], q[2], v[3]}, elementType));
  return success();
}

//===----------------------------------------------------------------------===//
// RopeOp
//===----------------------------------------------------------------------===//

double RopeOp::getEffectiveTheta() {
  if (std::optional<APFloat> theta = getTheta())
    return theta->convertToDouble();
  return 10000.0;
}

LogicalResult RopeOp::inferReturnTypes(MLIRContext *,
                                       std::optional<Location> location,
                                       Adaptor adaptor,
                                       SmallVectorImpl<Type> &results) {
  OpDiagnostic diag(location, getOperationName());
  bool bshd = adaptor.getLayout() == RopeLayout::BSHD;
  StringRef layout = bshd ? "bshd: [batch, seq, heads, head_dim]"
                          : "bhsd: [batch, heads, seq, head_dim]";
  FailureOr<RankedTensorType> input =
      requireFloatTensor(diag, "input", adaptor.getInput().getType());
  if (failed(input) || failed(requireRank(diag, "input", *input, 4, layout)))
    return failure();
  ArrayRef<int64_t> shape = input->getShape();
  int64_t batch = shape[0], seq = shape[bshd ? 1 : 2], headDim = shape[3];
  if (!ShapedType::isDynamic(headDim) && headDim % 2 != 0)
    return diag.fail("head_dim of 'input' must be even, but got ", headDim);

  FailureOr<RankedTensorType> positions =
      requireIndexTensor(diag, "positions", adaptor.getPositions().getType());
  if (failed(positions))
    return failure();
  ArrayRef<int64_t> pos = positions->getShape();
  bool posOk = (pos.size() == 1 && areDimsCompatible(pos[0], seq)) ||
               (pos.size() == 2 && areDimsCompatible(pos[0], batch) &&
                areDimsCompatible(pos[1], seq));
  if (!posOk)
    return diag.fail("operand 'positions' must have shape [", formatDim(batch),
                     ", ", formatDim(seq), "] or [", formatDim(seq),
                     "] (batch and seq of 'input'), but got ", *positions);

  Value cosTable = adaptor.getCosTable(), sinTable = adaptor.getSinTable();
  if (cosTable || sinTable) {
    if (!cosTable || !sinTable)
      return diag.fail("operands 'cos_table' and 'sin_table' must be given "
                       "together");
    if (adaptor.getTheta())
      return diag.fail("attribute 'theta' must not be given with cos/sin "
                       "tables (the tables define the angles)");
    int64_t half =
        ShapedType::isDynamic(headDim) ? ShapedType::kDynamic : headDim / 2;
    for (auto [name, table] : {std::pair<StringRef, Value>{"cos_table", cosTable},
                               {"sin_table", sinTable}}) {
      FailureOr<RankedTensorType> type =
          requireFloatTensor(diag, name, table.getType());
      if (failed(type))
        return failure();
      if (type->getRank() != 2 || !areDimsCompatible(type->getDimSize(1), half))
        return diag.fail("operand '", name, "' must have shape [positions, ",
                         formatDim(half), "] (head_dim / 2), but got ", *type);
      if (type->getDimSize(0) == 0)
        return diag.fail("operand '", name, "' must have at least one position "
                         "(positions are clamped to the table), but got ", *type);
      if (type->getElementType() != input->getElementType() &&
          !type->getElementType().isF32())
        return diag.fail("operand '", name, "' must have element type ",
                         input->getElementType(), " or f32, but got ",
                         type->getElementType());
    }
    if (cosTable.getType() != sinTable.getType())
      return diag.fail("operands 'cos_table' and 'sin_table' must have the "
                       "same type, but got ",
                       cosTable.getType(), " and ", sinTable.getType());
  } else if (std::optional<APFloat> theta = adaptor.getTheta()) {
    if (!theta->isFiniteNonZero() || theta->isNegative() ||
        theta->convertToDouble() <= 1.0)
      return diag.fail("attribute 'theta' must be a finite value > 1, but got ",
                       theta->convertToDouble());
  }
  results.push_back(*input);
  return success();
}

//===----------------------------------------------------------------------===//
// EmbeddingOp
//===----------------------------------------------------------------------===//

LogicalResult EmbeddingOp::inferReturnTypes(MLIRContext *,
                                            std::optional<Location> location,
                                            Adaptor adaptor,
                                            SmallVectorImpl<Type> &results) {
  OpDiagnostic diag(location, getOperationName());
  FailureOr<RankedTensorType> table =
      requireFloatTensor(diag, "table", adaptor.getTable().getType());
  if (failed(table) ||
      failed(requireRank(diag, "table", *table, 2, "[vocab, features]")))
    return failure();
  FailureOr<RankedTensorType> indices =
      requireIndexTensor(diag, "indices", adaptor.getIndices().getType());
  if (failed(indices))
    return failure();
  SmallVector<int64_t> shape(indices->getShape());
  shape.push_back(table->getDimSize(1));
  results.push_back(RankedTensorType::get(shape, table->getElementType()));
  return success();
}
