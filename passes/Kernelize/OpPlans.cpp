//===- OpPlans.cpp - One prism op, one kernel (or a few) ------------------===//

#include "passes/Kernelize/PlanBuilder.h"

#include "passes/Passes.h"

using namespace mlir;

namespace prism::kernelize {

LogicalResult PlanBuilder::visitReshape(ReshapeOp op) {
  DimExpr total = DimExpr::of(1);
  for (const DimExpr &d : shapeOf(op.getInput()))
    total = total * d;
  int64_t staticProduct = 1;
  for (int64_t d : op.getType().getShape())
    if (!ShapedType::isDynamic(d))
      staticProduct *= d;
  SmallVector<DimExpr> shape;
  for (int64_t d : op.getType().getShape())
    shape.push_back(ShapedType::isDynamic(d) ? total.dividedBy(staticProduct)
                                             : DimExpr::of(d));
  buffers[op.getResult()] =
      reshapeView(op, buffers.lookup(op.getInput()), std::move(shape));
  return success();
}

FailureOr<PlanBuilder::MatmulOperands>
PlanBuilder::matmulOperands(MatmulOp op) {
  int64_t rank = op.getType().getRank();
  SmallVector<DimExpr> lhsShape = shapeOf(op.getLhs()),
                       rhsShape = shapeOf(op.getRhs());
  bool tl = op.getTransposeLhs(), tr = op.getTransposeRhs();
  MatmulOperands result;
  result.m = lhsShape[lhsShape.size() - (tl ? 1 : 2)];
  result.n = rhsShape[rhsShape.size() - (tr ? 2 : 1)];
  if (failed(requireSizes(op, "equal", lhsShape[lhsShape.size() - (tl ? 2 : 1)],
                          rhsShape[rhsShape.size() - (tr ? 1 : 2)],
                          "K of the lhs and K of the rhs")))
    return failure();
  if (Value bias = op.getBias()) // a feature vector of length N (the verifier)
    if (failed(requireSizes(op, "equal", shapeOf(bias).back(), result.n,
                            "the length of the bias and N")))
      return failure();
  // Batch dims of the result: from whichever operand is not broadcasting.
  for (int64_t d = 0; d + 2 < rank; ++d) {
    DimExpr chosen = DimExpr::of(1);
    for (const SmallVector<DimExpr> *s : {&lhsShape, &rhsShape}) {
      int64_t i = d - (rank - static_cast<int64_t>(s->size()));
      if (i >= 0 && !((*s)[i].isConstant() && (*s)[i].constant == 1)) {
        chosen = (*s)[i];
        break;
      }
    }
    result.batch.push_back(chosen);
  }
  auto withBatch = [&](ArrayRef<DimExpr> shape) {
    SmallVector<DimExpr> full(result.batch);
    full.append(shape.end() - 2, shape.end());
    return full;
  };
  FailureOr<int64_t> lhs =
      broadcastView(op, buffers.lookup(op.getLhs()), withBatch(lhsShape));
  FailureOr<int64_t> rhs =
      broadcastView(op, buffers.lookup(op.getRhs()), withBatch(rhsShape));
  if (failed(lhs) || failed(rhs))
    return failure();
  result.lhs = *lhs;
  result.rhs = *rhs;
  return result;
}

LogicalResult PlanBuilder::visitMatmul(MatmulOp op) {
  auto resultType = op.getType();
  bool tl = op.getTransposeLhs(), tr = op.getTransposeRhs();
  FailureOr<MatmulOperands> operands = matmulOperands(op);
  if (failed(operands))
    return failure();
  int64_t lhs = operands->lhs, rhs = operands->rhs;
  SmallVector<DimExpr> batch = operands->batch;
  DimExpr m = operands->m, n = operands->n;
  SmallVector<DimExpr> shape = operands->shape();
  Type f32 = Float32Type::get(op.getContext());
  Type element = resultType.getElementType();
  bool split = sizes.separateMatmulEpilogue && op.getAccumulatorType() == f32 &&
               (op.getBias() || element != f32);
  // Split-K (f32 accumulators only: an f16 one is an FMA loop whose
  // rounding a sum of f32 partials would change) goes through addMatmul.
  SmallVector<RowTiles, 2> f32Variants = tilesForRows(productOperandType(lhs, rhs), 0, m);
  DimExpr depth = matmulDepth(lhs, tl);
  if (!split && op.getAccumulatorType() == f32)
    split = splitKOf(f32Variants, batch, m, n, depth) > 1;
  if (split) {
    FailureOr<int64_t> output =
        addMatmul(op, lhs, rhs, op.getBias(), element, tl, tr, batch, m, n);
    if (failed(output))
      return failure();
    buffers[op.getResult()] = *output;
    return success();
  }
  int64_t output = addTemporary(element, shape);
  buffers[op.getResult()] = output;

  // One kernel with the bias and the conversion in its epilogue.
  auto addFused = [&](ArrayRef<RowTiles> variants) {
    SmallVector<int64_t> args = {lhs, rhs};
    kernels::MatmulKernelSpec spec;
    spec.lhs = memrefTypeOf(lhs);
    spec.rhs = {memrefTypeOf(rhs)};
    if (Value bias = op.getBias()) {
      int64_t b = buffers.lookup(bias);
      args.push_back(b);
      spec.bias = memrefTypeOf(b);
    }
    args.push_back(output);
    spec.output = memrefTypeOf(output);
    spec.transposeLhs = tl;
    spec.transposeRhs = tr;
    spec.accumulator = op.getAccumulatorType();
    addMatmulLaunches(variants, "matmul", spec, m, n, batch, args);
    return success();
  };
  // Matrix cores accumulate in f32: a narrower accumulator is an FMA loop.
  if (!op.getAccumulatorType().isF32())
    return addFused(tilesForRows(Type(), 0, m));
  // A dynamic M whose few-rows kernel has few output tiles (a decode step
  // through a bundle compiled for any batch): split K for those rows, one
  // kernel for more.
  if (int64_t splits = splitKForFewRows(f32Variants, batch, n, depth); splits > 1)
    return addRowAlternatives(
        m, f32Variants[0].tiles.matmulM,
        [&] {
          return addMatmulToOutput(op, lhs, rhs, op.getBias(), tl, tr, batch, m, n,
                                   {withoutRange(f32Variants[0])}, splits, output);
        },
        [&] { return addFused({withoutRange(f32Variants[1])}); });
  return addFused(f32Variants);
}

LogicalResult PlanBuilder::visitLayerNorm(LayerNormOp op) {
  int64_t input = buffers.lookup(op.getInput());
  return addNorm(op, kernels::RowPrologue{{memrefTypeOf(input)}, nullptr, MemRefType()},
                 {input}, records[input].shape, op.getResult(), Value(),
                 "layer_norm");
}

LogicalResult PlanBuilder::addNorm(Operation *norm, kernels::RowPrologue prologue,
                                   SmallVector<int64_t> args,
                                   ArrayRef<DimExpr> shape, Value result,
                                   Value stored, StringRef what) {
  auto elementOf = [](Value v) {
    return cast<RankedTensorType>(v.getType()).getElementType();
  };
  MemRefType weightType, biasType;
  double epsilon;
  // The weight and bias are as long as the normalized rows.
  auto rowsOf = [&](Value parameter, StringRef name) {
    return requireSizes(norm, "equal", shape.back(), shapeOf(parameter).back(),
                        "the length of the rows and of the " + name);
  };
  if (auto rms = dyn_cast<RmsNormOp>(norm))
    if (failed(rowsOf(rms.getWeight(), "weight")))
      return failure();
  if (auto layer = dyn_cast<LayerNormOp>(norm))
    if ((layer.getWeight() && failed(rowsOf(layer.getWeight(), "weight"))) ||
        (layer.getBias() && failed(rowsOf(layer.getBias(), "bias"))))
      return failure();
  if (auto rms = dyn_cast<RmsNormOp>(norm)) {
    args.push_back(buffers.lookup(rms.getWeight()));
    weightType = memrefTypeOf(args.back());
    epsilon = rms.getEpsilon().convertToDouble();
  } else {
    auto layer = cast<LayerNormOp>(norm);
    if (Value w = layer.getWeight()) {
      args.push_back(buffers.lookup(w));
      weightType = memrefTypeOf(args.back());
    }
    if (Value b = layer.getBias()) {
      args.push_back(buffers.lookup(b));
      biasType = memrefTypeOf(args.back());
    }
    epsilon = layer.getEpsilon().convertToDouble();
  }
  // A copy: `shape` may point into `records`, which grows below.
  SmallVector<DimExpr> rowShape(shape.begin(), shape.end());
  if (stored) {
    int64_t buffer = addTemporary(elementOf(stored), rowShape);
    buffers[stored] = buffer;
    args.push_back(buffer);
    prologue.stored = memrefTypeOf(buffer);
  }
  int64_t output = addTemporary(elementOf(result), rowShape);
  buffers[result] = output;
  args.push_back(output);
  kernels::TileSizes rowSizes = sizes.forRow(staticSize(rowShape.back()));
  func::FuncOp kernel =
      isa<RmsNormOp>(norm)
          ? kernels::buildRmsNormKernel(module, kernelName(what), prologue,
                                        weightType, memrefTypeOf(output),
                                        epsilon, rowSizes)
          : kernels::buildLayerNormKernel(module, kernelName(what), prologue,
                                          weightType, biasType,
                                          memrefTypeOf(output), epsilon, rowSizes);
  addLaunch(kernel, {gridAxis(ArrayRef<DimExpr>(rowShape).drop_back(1), 1), one(), one()},
            args);
  return success();
}

LogicalResult PlanBuilder::visitReduce(ReduceOp op) {
  int64_t input = buffers.lookup(op.getInput());
  SmallVector<DimExpr> inputShape = records[input].shape;
  int64_t rank = inputShape.size();
  SmallVector<bool> reduced(rank, false);
  for (int64_t axis : op.getAxes())
    reduced[axis < 0 ? axis + rank : axis] = true;
  // Kept axes first, reduced axes last (in their order).
  SmallVector<int64_t> permutation;
  SmallVector<DimExpr> keptShape;
  for (int64_t d = 0; d < rank; ++d)
    if (!reduced[d]) {
      permutation.push_back(d);
      keptShape.push_back(inputShape[d]);
    }
  int64_t reducedRank = rank - static_cast<int64_t>(keptShape.size());
  for (int64_t d = 0; d < rank; ++d)
    if (reduced[d])
      permutation.push_back(d);
  if (keptShape.empty())
    return op.emitError("kernelization of a reduction over every axis "
                        "(a rank-0 result) is not supported yet; keep one "
                        "axis, e.g. reshape the input to [1, N] first");
  bool identity = llvm::equal(permutation, llvm::seq<int64_t>(0, rank));
  int64_t in = identity ? input : transposeView(input, permutation);
  int64_t output = addTemporary(op.getType().getElementType(), keptShape);
  kernels::ReduceCombiner combiner;
  switch (op.getKind()) {
  case ReduceKind::Sum: combiner = kernels::ReduceCombiner::Sum; break;
  case ReduceKind::Mean: combiner = kernels::ReduceCombiner::Mean; break;
  case ReduceKind::Max: combiner = kernels::ReduceCombiner::Max; break;
  case ReduceKind::Min: combiner = kernels::ReduceCombiner::Min; break;
  }
  func::FuncOp kernel = kernels::buildReduceKernel(
      module, kernelName("reduce"), combiner, memrefTypeOf(in),
      memrefTypeOf(output), reducedRank, sizes);
  addLaunch(kernel, {gridAxis(keptShape, 1), one(), one()}, {in, output});
  if (op.getKeepdims()) {
    SmallVector<DimExpr> keptDims;
    for (int64_t d = 0; d < rank; ++d)
      keptDims.push_back(reduced[d] ? DimExpr::of(1) : inputShape[d]);
    buffers[op.getResult()] = reshapeView(op, output, std::move(keptDims));
  } else {
    buffers[op.getResult()] = output;
  }
  return success();
}

LogicalResult PlanBuilder::visitRope(RopeOp op) {
  int64_t input = buffers.lookup(op.getInput());
  int64_t output = addTemporary(op.getType().getElementType(), records[input].shape);
  buffers[op.getResult()] = output;
  return addRope(op, input, output);
}

LogicalResult PlanBuilder::addRope(RopeOp op, int64_t input, int64_t output) {
  SmallVector<DimExpr> shape = records[input].shape;
  if (failed(requireSizes(op, "multiple", shape[3], DimExpr::of(2),
                          "the head dim must be a multiple of 2")))
    return failure();
  DimExpr half = shape[3].dividedBy(2);
  bool neox = op.getStyle() == RopeStyle::Neox;
  // [d0, d1, d2, 2, D/2] views: (.., 0, i) and (.., 1, i) are pair i.
  auto pairView = [&](int64_t buffer) {
    SmallVector<DimExpr> pairs(shape.begin(), shape.begin() + 3);
    if (neox) {
      pairs.push_back(DimExpr::of(2));
      pairs.push_back(half);
      return reshapeView(op, buffer, pairs);
    }
    pairs.push_back(half);
    pairs.push_back(DimExpr::of(2));
    return transposeView(reshapeView(op, buffer, pairs), {0, 1, 2, 4, 3});
  };
  int64_t in = pairView(input);
  int64_t out = pairView(output);

  int64_t sequenceDim = op.getLayout() == RopeLayout::BSHD ? 1 : 2;
  FailureOr<int64_t> positions = broadcastView(
      op, buffers.lookup(op.getPositions()), {shape[0], shape[sequenceDim]});
  if (failed(positions))
    return failure();
  SmallVector<int64_t> args = {in, *positions};
  MemRefType cosType, sinType;
  if (op.getCosTable()) {
    // [P, D / 2] tables, both the same type (the verifier), with a position.
    SmallVector<DimExpr> table = shapeOf(op.getCosTable()),
                         sinTable = shapeOf(op.getSinTable());
    if (failed(requireSizes(op, "equal", table[1], half,
                            "the tables' columns and half the head dim")) ||
        failed(requireSizes(op, "equal", sinTable[1], half,
                            "the sin table's columns and half the head dim")) ||
        failed(requireSizes(op, "equal", table[0], sinTable[0],
                            "the positions of the cos table and of the sin table")) ||
        failed(requireSizes(op, "positive", table[0], DimExpr::of(1),
                            "the tables need at least one position")))
      return failure();
    args.push_back(buffers.lookup(op.getCosTable()));
    cosType = memrefTypeOf(args.back());
    args.push_back(buffers.lookup(op.getSinTable()));
    sinType = memrefTypeOf(args.back());
  }
  args.push_back(out);
  // The tiling from the static sizes (the kernel's memref types are all
  // dynamic): 64 pairs of 16 heads per program for a bshd head dim of 128.
  auto constant = [](const DimExpr &e) -> std::optional<int64_t> {
    if (e.isConstant())
      return e.constant;
    return std::nullopt;
  };
  kernels::RopeTiling tiling =
      kernels::ropeTiling(constant(half), constant(shape[2]),
                          sizes.forOperands({memrefTypeOf(in), memrefTypeOf(out)}));
  func::FuncOp kernel = kernels::buildRopeKernel(
      module, kernelName("rope"), memrefTypeOf(in), memrefTypeOf(*positions),
      cosType, sinType, memrefTypeOf(out), sequenceDim,
      op.getEffectiveTheta(), tiling);
  // The larger axis on x (limit 2^31 - 1, y's is 65535): the tokens for
  // bshd, the blocks of positions for bhsd.
  DictionaryAttr outer = gridAxis(ArrayRef<DimExpr>(shape).take_front(2), 1);
  DictionaryAttr rows = gridAxis({shape[2]}, tiling.rows);
  addLaunch(kernel,
            {sequenceDim == 2 ? rows : outer, sequenceDim == 2 ? outer : rows, one()},
            args);
  return success();
}

LogicalResult PlanBuilder::visitEmbedding(EmbeddingOp op) {
  int64_t table = buffers.lookup(op.getTable());
  int64_t indices = buffers.lookup(op.getIndices());
  SmallVector<DimExpr> indexShape = records[indices].shape;
  if (indexShape.empty())
    return op.emitError("kernelization of an embedding with rank-0 indices "
                        "is not supported yet; give the indices shape [1]");
  SmallVector<DimExpr> shape(indexShape);
  shape.push_back(records[table].shape[1]);
  int64_t output = addTemporary(op.getType().getElementType(), shape);
  buffers[op.getResult()] = output;
  kernels::TileSizes local = sizes.forOperands({memrefTypeOf(table)});
  func::FuncOp kernel = kernels::buildEmbeddingKernel(
      module, kernelName("embedding"), memrefTypeOf(table),
      memrefTypeOf(indices), memrefTypeOf(output), local);
  addLaunch(kernel, rowBlocksGrid(shape, local.elementwiseBlock), {table, indices, output});
  return success();
}

FailureOr<int64_t> PlanBuilder::addMatmul(Operation *op, int64_t lhs, int64_t rhs,
                                          Value bias, Type element, bool transposeLhs,
                                          bool transposeRhs, ArrayRef<DimExpr> batch,
                                          DimExpr m, DimExpr n) {
  Type f32 = Float32Type::get(module.getContext());
  SmallVector<DimExpr> shape(batch.begin(), batch.end());
  shape.push_back(m);
  shape.push_back(n);
  kernels::MatmulKernelSpec spec;
  spec.lhs = memrefTypeOf(lhs);
  spec.rhs = {memrefTypeOf(rhs)};
  spec.transposeLhs = transposeLhs;
  spec.transposeRhs = transposeRhs;
  spec.accumulator = f32;
  SmallVector<RowTiles, 2> variants = tilesForRows(productOperandType(lhs, rhs), 0, m);
  int64_t splits = splitKOf(variants, batch, m, n, matmulDepth(lhs, transposeLhs));
  if (splits == 1 && !(sizes.separateMatmulEpilogue && (bias || element != f32))) {
    int64_t product = addTemporary(element, shape);
    spec.output = memrefTypeOf(product);
    addMatmulLaunches(variants, "matmul", spec, m, n, batch, {lhs, rhs, product});
    return product;
  }
  int64_t output = addTemporary(element, shape);
  if (failed(addMatmulToOutput(op, lhs, rhs, bias, transposeLhs, transposeRhs, batch, m, n,
                               variants, splits, output)))
    return failure();
  return output;
}

LogicalResult PlanBuilder::addMatmulToOutput(Operation *op, int64_t lhs, int64_t rhs, Value bias,
                                             bool transposeLhs, bool transposeRhs,
                                             ArrayRef<DimExpr> batch, const DimExpr &m,
                                             const DimExpr &n, ArrayRef<RowTiles> variants,
                                             int64_t splits, int64_t output) {
  kernels::MatmulKernelSpec spec;
  spec.lhs = memrefTypeOf(lhs);
  spec.rhs = {memrefTypeOf(rhs)};
  spec.transposeLhs = transposeLhs;
  spec.transposeRhs = transposeRhs;
  spec.accumulator = Float32Type::get(module.getContext());
  // The f32 product (or split-K's partials), then bias and conversion in
  // one element-wise kernel.
  SmallVector<int64_t> operands;
  if (bias) {
    FailureOr<int64_t> view = broadcastView(op, buffers.lookup(bias), records[output].shape);
    if (failed(view))
      return failure();
    operands.push_back(*view);
  }
  addProductsThenEpilogue(variants, "matmul", splits > 1 ? "matmul_sum" : "matmul_epilogue", spec,
                          lhs, {rhs}, batch, m, n, splits, operands,
                          [](kernels::KernelBuilder &k, ArrayRef<Value> in) {
                            return in.size() == 1 ? in[0] : k.addf(in[0], in[1]);
                          },
                          output);
  return success();
}

std::optional<int64_t> PlanBuilder::fewPrograms(int64_t tiles, ArrayRef<DimExpr> batch,
                                                int64_t fill) {
  int64_t programs = tiles;
  for (const DimExpr &d : batch) {
    std::optional<int64_t> size = staticSize(d);
    if (!size || *size > fill)
      return std::nullopt;
    programs *= *size;
    if (programs > fill)
      return std::nullopt;
  }
  if (programs == 0 || 2 * programs > fill)
    return std::nullopt;
  return programs;
}

int64_t PlanBuilder::splitKOf(ArrayRef<RowTiles> variants, ArrayRef<DimExpr> batch,
                              const DimExpr &m, const DimExpr &n, const DimExpr &k) const {
  auto ceilDiv = [](int64_t a, int64_t b) { return (a + b - 1) / b; };
  std::optional<int64_t> depth = staticSize(k);
  if (sizes.matmulSplitK != 0) {
    // No more parts than K steps. A matrix unit whose accumulator starts
    // at a part's first step (separateMatmulEpilogue: Ascend's cube)
    // would store an unset one for an empty part: it splits a static K
    // only.
    if (!depth)
      return sizes.separateMatmulEpilogue ? 1 : sizes.matmulSplitK;
    int64_t steps = std::numeric_limits<int64_t>::max();
    for (const RowTiles &variant : variants)
      steps = std::min(steps, ceilDiv(*depth, variant.tiles.matmulK));
    return std::max<int64_t>(1, std::min(sizes.matmulSplitK, steps));
  }
  int64_t fill = sizes.matmulSplitKFill;
  // Alternatives by row count: a dynamic M, which a split for few rows
  // would slow down at many.
  if (fill <= 0 || variants.size() != 1)
    return 1;
  const kernels::TileSizes &tiles = variants[0].tiles;
  std::optional<int64_t> rows = staticSize(m), columns = staticSize(n);
  if (!rows || !columns || !depth || *rows == 0 || *columns == 0)
    return 1;
  std::optional<int64_t> programs = fewPrograms(
      ceilDiv(*rows, tiles.matmulM) * ceilDiv(*columns, tiles.matmulN), batch, fill);
  if (!programs)
    return 1;
  int64_t steps = ceilDiv(*depth, tiles.matmulK);
  int64_t splits = std::min({fill / *programs, steps / kernels::TileSizes::kSplitKMinSteps,
                             kernels::TileSizes::kSplitKMax});
  return splits >= 2 ? splits : 1;
}

void PlanBuilder::addProductsThenEpilogue(
    ArrayRef<RowTiles> variants, StringRef productName, StringRef epilogueName,
    kernels::MatmulKernelSpec spec, int64_t lhs, ArrayRef<int64_t> rhs, ArrayRef<DimExpr> batch,
    const DimExpr &m, const DimExpr &n, int64_t splits, ArrayRef<int64_t> operands,
    const kernels::ElementwiseBody &body, int64_t output) {
  Type f32 = Float32Type::get(module.getContext());
  SmallVector<DimExpr> partialShape;
  if (splits > 1)
    partialShape.push_back(DimExpr::of(splits));
  partialShape.append(batch.begin(), batch.end());
  partialShape.push_back(m);
  partialShape.push_back(n);
  // z = batch * splits, the part innermost (as the kernel reads it).
  SmallVector<DimExpr> parts(batch.begin(), batch.end());
  if (splits > 1)
    parts.push_back(DimExpr::of(splits));
  spec.splitK = splits;
  spec.bias = MemRefType();
  spec.epilogue = kernels::Epilogue();
  spec.rotary.reset();
  SmallVector<int64_t> partials;
  SmallVector<MemRefType> partialTypes;
  for (int64_t r : rhs) {
    int64_t partial = addTemporary(f32, partialShape);
    kernels::MatmulKernelSpec one = spec;
    one.rhs = {memrefTypeOf(r)};
    one.output = memrefTypeOf(partial);
    addMatmulLaunches(variants, productName, one, m, n, parts, {lhs, r, partial});
    partials.push_back(partial);
    partialTypes.push_back(memrefTypeOf(partial));
  }
  SmallVector<MemRefType> operandTypes;
  for (int64_t operand : operands)
    operandTypes.push_back(memrefTypeOf(operand));
  SmallVector<MemRefType> allTypes(partialTypes);
  allTypes.append(operandTypes.begin(), operandTypes.end());
  kernels::TileSizes local = sizes.forOperands(allTypes);
  std::string name = kernelName(epilogueName);
  func::FuncOp sum =
      splits > 1 ? kernels::buildSplitSumKernel(module, name, partialTypes, splits, operandTypes,
                                                memrefTypeOf(output), body, local)
                 : kernels::buildElementwiseKernel(module, name, allTypes, memrefTypeOf(output),
                                                   body, local);
  SmallVector<int64_t> args(partials);
  args.append(operands.begin(), operands.end());
  args.push_back(output);
  addLaunch(sum, rowBlocksGrid(records[output].shape, local.elementwiseBlock), args);
}

/// Attention as S = Q K^T (f32), P = softmax(scale S + mask) with causal /
/// window visibility (in the value dtype, as the fused kernel rounds P),
/// O = P V: three launches through GM temporaries. Grouped-query heads are
/// batch dims: Q [B, Hkv, G, Sq, D] against K [B, Hkv, 1 -> G, Sk, D].
LogicalResult PlanBuilder::requireAttentionShapes(AttentionOp op) {
  // [B, H, S, D] each: one batch, K and V with the same heads and keys,
  // query heads a multiple of the key heads (grouped-query attention), and
  // the head dims of Q and K equal.
  SmallVector<DimExpr> q = shapeOf(op.getQuery()), k = shapeOf(op.getKey()),
                       v = shapeOf(op.getValue());
  if (failed(requireSizes(op, "equal", q[0], k[0], "the batch of the query and of the key")) ||
      failed(requireSizes(op, "equal", k[0], v[0], "the batch of the key and of the value")) ||
      failed(requireSizes(op, "equal", k[1], v[1], "the heads of the key and of the value")) ||
      failed(requireSizes(op, "equal", k[2], v[2],
                          "the sequence of the key and of the value")) ||
      failed(requireSizes(op, "equal", q[3], k[3], "the head dim of the query and of the key")) ||
      failed(requireSizes(op, "multiple", q[1], k[1],
                          "the query heads must be a multiple of the key heads")))
    return failure();
  return success();
}

LogicalResult PlanBuilder::visitUnfusedAttention(AttentionOp op) {
  auto queryType = cast<RankedTensorType>(op.getQuery().getType());
  auto keyType = cast<RankedTensorType>(op.getKey().getType());
  auto valueType = cast<RankedTensorType>(op.getValue().getType());
  if (queryType.isDynamicDim(1) || keyType.isDynamicDim(1))
    return op.emitError("unfused attention needs static head counts; got ")
           << queryType << " and " << keyType;
  int64_t heads = queryType.getDimSize(1), kvHeads = keyType.getDimSize(1);
  int64_t group = heads / kvHeads;
  SmallVector<DimExpr> qShape = shapeOf(op.getQuery()), kShape = shapeOf(op.getKey()),
                       vShape = shapeOf(op.getValue());
  DimExpr b = qShape[0], sq = qShape[2], sk = kShape[2], dv = vShape[3];
  DimExpr hkv = DimExpr::of(kvHeads), g = DimExpr::of(group);
  int64_t q = reshapeView(op, buffers.lookup(op.getQuery()), {b, hkv, g, sq, qShape[3]});
  auto perGroup = [&](Value v, SmallVector<DimExpr> shape) -> FailureOr<int64_t> {
    int64_t unit = reshapeView(op, buffers.lookup(v),
                               {shape[0], hkv, DimExpr::of(1), shape[2], shape[3]});
    return broadcastView(op, unit, {shape[0], hkv, g, shape[2], shape[3]});
  };
  FailureOr<int64_t> k = perGroup(op.getKey(), kShape);
  FailureOr<int64_t> v = perGroup(op.getValue(), vShape);
  if (failed(k) || failed(v))
    return failure();
  SmallVector<DimExpr> batch = {b, hkv, g};
  Type f32 = Float32Type::get(op.getContext());
  FailureOr<int64_t> scores = addMatmul(op, q, *k, Value(), f32, /*transposeLhs=*/false,
                                        /*transposeRhs=*/true, batch, sq, sk);
  if (failed(scores))
    return failure();

  SmallVector<int64_t> args = {*scores};
  MemRefType maskType;
  SmallVector<DimExpr> scoreShape = {b, hkv, g, sq, sk};
  if (Value mask = op.getMask()) {
    // The mask is [.., Sq, Sk] against [B, Hq, Sq, Sk]: broadcast, then
    // split Hq (a mask per head is a view with the heads split).
    FailureOr<int64_t> full =
        broadcastView(op, buffers.lookup(mask), {b, DimExpr::of(heads), sq, sk});
    if (failed(full))
      return failure();
    FailureOr<int64_t> view = broadcastView(
        op, reshapeView(op, *full, scoreShape), scoreShape);
    if (failed(view))
      return failure();
    args.push_back(*view);
    maskType = memrefTypeOf(*view);
  }
  int64_t probabilities = addTemporary(valueType.getElementType(), scoreShape);
  args.push_back(probabilities);
  func::FuncOp softmax = kernels::buildAttentionSoftmaxKernel(
      module, kernelName("attention_softmax"), memrefTypeOf(*scores), maskType,
      memrefTypeOf(probabilities), *op.getEffectiveScale(), op.getCausal(),
      op.getWindow(), sizes);
  addLaunch(softmax, {gridAxis({b, hkv, g, sq}, 1), one(), one()}, args);

  FailureOr<int64_t> out =
      addMatmul(op, probabilities, *v, Value(), op.getType().getElementType(),
                /*transposeLhs=*/false, /*transposeRhs=*/false, batch, sq, dv);
  if (failed(out))
    return failure();
  buffers[op.getResult()] = reshapeView(op, *out, {b, DimExpr::of(heads), sq, dv});
  return success();
}

LogicalResult PlanBuilder::visitAttention(AttentionOp op) {
  if (failed(requireAttentionShapes(op)))
    return failure();
  if (sizes.unfusedAttention)
    return visitUnfusedAttention(op);
  auto queryType = cast<RankedTensorType>(op.getQuery().getType());
  auto valueType = cast<RankedTensorType>(op.getValue().getType());
  kernels::AttentionOptions options;
  options.headDim = queryType.getDimSize(3);
  options.valueHeadDim = valueType.getDimSize(3);
  if (ShapedType::isDynamic(options.headDim) ||
      ShapedType::isDynamic(options.valueHeadDim))
    return op.emitError("attention kernels need static head dims (tiles are "
                        "sized by them); got query ")
           << queryType << " and value " << valueType;
  std::optional<double> scale = op.getEffectiveScale();
  options.scale = *scale; // static head dim: always known
  options.causal = op.getCausal();
  options.window = op.getWindow();

  int64_t query = buffers.lookup(op.getQuery());
  SmallVector<DimExpr> qShape = records[query].shape,
                       kShape = shapeOf(op.getKey()),
                       vShape = shapeOf(op.getValue());
  SmallVector<int64_t> args = {query, buffers.lookup(op.getKey()),
                               buffers.lookup(op.getValue())};
  MemRefType maskType;
  if (Value mask = op.getMask()) {
    FailureOr<int64_t> view = broadcastView(
        op, buffers.lookup(mask), {qShape[0], qShape[1], qShape[2], kShape[2]});
    if (failed(view))
      return failure();
    args.push_back(*view);
    maskType = memrefTypeOf(*view);
  }
  SmallVector<DimExpr> shape = {qShape[0], qShape[1], qShape[2], vShape[3]};
  int64_t output = addResultBuffer(op.getResult(), shape);
  // Few query rows per head (a decode step's one, a speculative step's
  // few) with grouped-query heads: the G query heads of a KV head are the
  // rows of one program (pack-GQA, the query and output seen as [B, Hkv,
  // G Sq, D]), which reads each key block once for all of them instead of
  // once per head. Where the rows of one head fill at most half the
  // query tile; not with a mask (read by row and head) nor through a
  // view that is not contiguous (it would need a copy).
  Type productType = productOperandType(args[0], args[1]);
  int64_t tileHeadDim = std::max(options.headDim, options.valueHeadDim);
  auto keyType = cast<RankedTensorType>(op.getKey().getType());
  std::optional<int64_t> queryRows = staticSize(qShape[2]);
  if (queryRows && *queryRows >= 1 &&
      2 * *queryRows <= sizes.forProductsOf(productType, tileHeadDim, queryRows).attentionM &&
      !queryType.isDynamicDim(1) && !keyType.isDynamicDim(1) &&
      queryType.getDimSize(1) > keyType.getDimSize(1) && !op.getMask() &&
      records[query].contiguous && records[output].contiguous) {
    int64_t group = queryType.getDimSize(1) / keyType.getDimSize(1);
    DimExpr kvHeads = DimExpr::of(keyType.getDimSize(1));
    DimExpr rows = DimExpr::of(group * *queryRows);
    qShape = {qShape[0], kvHeads, rows, qShape[3]};
    args[0] = reshapeView(op, query, qShape);
    output = reshapeView(op, output, {qShape[0], kvHeads, rows, vShape[3]});
    options.packedQueryRows = *queryRows;
  }
  args.push_back(output);
  kernels::TileSizes local =
      sizes.forProductsOf(productType, tileHeadDim, staticSize(qShape[2]));
  DimExpr batch = qShape[0], heads = qShape[1], queries = qShape[2], keys = kShape[2];
  auto fused = [&]() -> LogicalResult {
    func::FuncOp kernel = kernels::buildAttentionKernel(
        module, kernelName("attention"), memrefTypeOf(args[0]), memrefTypeOf(args[1]),
        memrefTypeOf(args[2]), maskType, memrefTypeOf(output), options, local);
    addLaunch(kernel,
              {gridAxis({queries}, local.attentionM), gridAxis({batch, heads}, 1), one()},
              args);
    return success();
  };
  AttentionSplit split = attentionSplitOf(qShape, keys, options.window, local);
  if (split.parts <= 1)
    return fused();

  // Split-KV: the parts' f32 accumulators and row statistics, then one
  // kernel that merges them into the output.
  auto splitKeys = [&]() -> LogicalResult {
    Type f32 = Float32Type::get(op.getContext());
    DimExpr parts = DimExpr::of(split.parts);
    int64_t partial = addTemporary(f32, {batch, heads, parts, queries, vShape[3]});
    int64_t stats = addTemporary(f32, {batch, heads, parts, DimExpr::of(2), queries});
    kernels::AttentionOptions partOptions = options;
    partOptions.splitParts = split.parts;
    partOptions.splitMinKeys = split.minKeys;
    SmallVector<int64_t> partArgs(args.begin(), std::prev(args.end()));
    partArgs.append({partial, stats});
    func::FuncOp kernel = kernels::buildAttentionKernel(
        module, kernelName("attention_part"), memrefTypeOf(args[0]), memrefTypeOf(args[1]),
        memrefTypeOf(args[2]), maskType, memrefTypeOf(partial), partOptions, local,
        memrefTypeOf(stats));
    addLaunch(kernel,
              {gridAxis({queries}, local.attentionM), gridAxis({batch, heads}, 1),
               gridAxis({parts}, 1)},
              partArgs);
    // A decode step's one query row per (batch, head): programs of as
    // few rows as hold a static Sq, up to 16.
    std::optional<int64_t> staticQueries = staticSize(queries);
    int64_t rows = staticQueries
                       ? std::clamp<int64_t>(llvm::PowerOf2Ceil(*staticQueries), 1, 16)
                       : 16;
    func::FuncOp combine = kernels::buildAttentionCombineKernel(
        module, kernelName("attention_combine"), memrefTypeOf(partial), memrefTypeOf(stats),
        memrefTypeOf(output), split.parts, rows, options.valueHeadDim);
    addLaunch(combine, {gridAxis({queries}, rows), gridAxis({batch, heads}, 1), one()},
              {partial, stats, output});
    return success();
  };
  // Chosen by the target for a dynamic key count: the single kernel for
  // keys that fill less than two parts, split above.
  if (sizes.attentionSplitKV == 0 && !staticSize(keys))
    return addRowAlternatives(keys, 2 * split.minKeys - 1, fused, splitKeys);
  return splitKeys();
}

PlanBuilder::AttentionSplit PlanBuilder::attentionSplitOf(ArrayRef<DimExpr> query,
                                                          const DimExpr &keys,
                                                          std::optional<int64_t> window,
                                                          const kernels::TileSizes &tiles) const {
  auto ceilDiv = [](int64_t a, int64_t b) { return (a + b - 1) / b; };
  if (sizes.attentionSplitKV != 0)
    return {sizes.attentionSplitKV, tiles.attentionN};
  int64_t fill = sizes.matmulSplitKFill;
  std::optional<int64_t> queries = staticSize(query[2]);
  if (fill <= 0 || !queries || *queries == 0)
    return {};
  std::optional<int64_t> programs =
      fewPrograms(ceilDiv(*queries, tiles.attentionM), {query[0], query[1]}, fill);
  if (!programs)
    return {};
  int64_t minKeys = kernels::TileSizes::kAttentionSplitMinSteps * tiles.attentionN;
  int64_t parts = std::min(fill / *programs, kernels::TileSizes::kAttentionSplitMax);
  if (std::optional<int64_t> count = staticSize(keys))
    parts = std::min(parts, *count / minKeys);
  // A window bounds a query block's keys whatever the sequence: its rows'
  // windows and the first block's rounding.
  if (window)
    parts = std::min(parts, (std::min(*window, int64_t(1) << 40) + tiles.attentionM +
                             tiles.attentionN) / minKeys);
  if (parts < 2)
    return {};
  return {parts, minKeys};
}

} // namespace prism::kernelize
