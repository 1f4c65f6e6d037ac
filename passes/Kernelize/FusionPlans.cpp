//===- FusionPlans.cpp - One prism.fusion, one kernel ---------------------===//

#include "passes/Kernelize/PlanBuilder.h"

#include "passes/Passes.h"

#include "llvm/ADT/SmallPtrSet.h"

using namespace mlir;

namespace prism::kernelize {

SmallVector<Value> PlanBuilder::fusionLeaves(ArrayRef<Operation *> ops) const {
  llvm::SmallPtrSet<Operation *, 8> inside(ops.begin(), ops.end());
  SmallVector<Value> leaves;
  for (Operation *op : ops)
    for (Value operand : op->getOperands()) {
      Operation *def = operand.getDefiningOp();
      if ((def && (inside.contains(def) || FusionOp::isSplatConstant(def))) ||
          fusedShapes.count(operand) || llvm::is_contained(leaves, operand))
        continue;
      leaves.push_back(operand);
    }
  return leaves;
}

/// A name for a fused kernel: its ops' names (`matmul_add`, `add_rms_norm`,
/// `matmul_rope`; reshapes, which compute nothing, are left out).
static std::string fusedName(ArrayRef<Operation *> ops) {
  std::string name;
  for (Operation *op : ops) {
    if (FusionOp::isSplatConstant(op) || isa<ReshapeOp>(op))
      continue;
    if (!name.empty())
      name += "_";
    name += op->getName().stripDialect().str();
  }
  return name;
}

FailureOr<int64_t> PlanBuilder::addFusedElementwise(Operation *op,
                                                    ArrayRef<Operation *> ops,
                                                    Value root,
                                                    ArrayRef<DimExpr> shape,
                                                    StringRef what) {
  if (shape.empty())
    return op->emitError("kernelization of rank-0 results is not supported yet");
  SmallVector<Value> leaves = fusionLeaves(ops);
  SmallVector<int64_t> args;
  SmallVector<MemRefType> inputTypes;
  for (Value leaf : leaves) {
    FailureOr<int64_t> view = broadcastView(op, buffers.lookup(leaf), shape);
    if (failed(view))
      return failure();
    args.push_back(*view);
    inputTypes.push_back(memrefTypeOf(*view));
  }
  if (leaves.empty())
    return op->emitError("an elementwise computation of constants only has no "
                         "kernel; fold it into a constant first");
  auto resultType = cast<RankedTensorType>(root.getType());
  int64_t output = addTemporary(resultType.getElementType(),
                                SmallVector<DimExpr>(shape.begin(), shape.end()));
  args.push_back(output);
  kernels::TileSizes local = sizes.forOperands(inputTypes);
  SmallVector<Operation *> body(ops.begin(), ops.end());
  func::FuncOp kernel = kernels::buildElementwiseKernel(
      module, kernelName(what), inputTypes, memrefTypeOf(output),
      [body, leaves, root](kernels::KernelBuilder &k, ArrayRef<Value> in) {
        DenseMap<Value, Value> known;
        for (auto [leaf, tile] : llvm::zip(leaves, in))
          known[leaf] = tile;
        auto shape = cast<RankedTensorType>(in[0].getType()).getShape();
        return kernels::emitFusedValue(k, body, known, root, shape);
      },
      local);
  addLaunch(kernel,
            rowBlocksGrid(shape, local.elementwiseBlock),
            args);
  return output;
}

LogicalResult PlanBuilder::visitFusion(FusionOp op) {
  // The computing ops (splat constants are materialized where used).
  SmallVector<Operation *> ops = op.getBodyOps();
  llvm::erase_if(ops, [](Operation *inner) { return FusionOp::isSplatConstant(inner); });
  // Shapes of the values computed inside the body.
  for (Operation *inner : ops) {
    if (FusionOp::isElementwise(inner)) {
      fusedShapes[inner->getResult(0)] = elementwiseShape(inner);
    } else if (auto matmul = dyn_cast<MatmulOp>(inner)) {
      FailureOr<MatmulOperands> operands = matmulOperands(matmul);
      if (failed(operands))
        return failure();
      fusedShapes[matmul.getResult()] = operands->shape();
    }
  }
  std::string what = fusedName(ops);
  Value root = op.getYield().getValues()[0];
  SmallVector<DimExpr> rootShape = shapeOfAny(root);

  switch (op.getKind()) {
  case FusionKind::Elementwise: {
    FailureOr<int64_t> output = addFusedElementwise(op, ops, root, rootShape, what);
    if (failed(output))
      return failure();
    buffers[op.getResult(0)] = *output;
    return success();
  }
  case FusionKind::Matmul:
  case FusionKind::GatedMatmul: {
    size_t count = op.getKind() == FusionKind::Matmul ? 1 : 2;
    SmallVector<MatmulOp, 2> matmuls;
    for (size_t i = 0; i < count; ++i)
      matmuls.push_back(cast<MatmulOp>(ops[i]));
    Type f32 = Float32Type::get(op.getContext());
    if (matmuls[0].getAccumulatorType() != f32)
      return op.emitError("fused matmul epilogues need an f32 accumulator; "
                          "this matmul accumulates in ")
             << matmuls[0].getAccumulatorType();
    ArrayRef<Operation *> epilogueOps = ArrayRef<Operation *>(ops).drop_front(count);
    FailureOr<MatmulOperands> first = matmulOperands(matmuls[0]);
    if (failed(first))
      return failure();
    SmallVector<int64_t> rhs = {first->rhs};
    if (count == 2) {
      FailureOr<MatmulOperands> second = matmulOperands(matmuls[1]);
      if (failed(second))
        return failure();
      // Both products are read with the first one's shape.
      SmallVector<DimExpr> firstShape = first->shape(), secondShape = second->shape();
      for (auto [d, sizes] : llvm::enumerate(llvm::zip(firstShape, secondShape)))
        if (failed(requireSizes(matmuls[1], "equal", std::get<0>(sizes), std::get<1>(sizes),
                                "dim " + Twine(d) + " of the two fused products")))
          return failure();
      rhs.push_back(second->rhs);
    }
    SmallVector<DimExpr> shape = first->shape();
    // Epilogue operands: the biases, then the values read from above.
    SmallVector<Value> biases;
    for (MatmulOp matmul : matmuls)
      biases.push_back(matmul.getBias());
    SmallVector<Value> leaves = fusionLeaves(epilogueOps);
    llvm::erase_if(leaves, [&](Value v) { return fusedShapes.count(v); });
    SmallVector<int64_t> epilogueArgs;
    SmallVector<MemRefType> epilogueTypes;
    for (Value v : llvm::concat<Value>(biases, leaves)) {
      if (!v)
        continue;
      FailureOr<int64_t> view = broadcastView(op, buffers.lookup(v), shape);
      if (failed(view))
        return failure();
      epilogueArgs.push_back(*view);
      epilogueTypes.push_back(memrefTypeOf(*view));
    }
    SmallVector<Operation *> body(epilogueOps.begin(), epilogueOps.end());
    SmallVector<Value> products;
    for (MatmulOp matmul : matmuls)
      products.push_back(matmul.getResult());
    // computed: one f32 tile per product; operands: biases (present ones),
    // then leaves.
    auto epilogue = [body, products, biases, leaves, root](
                        kernels::KernelBuilder &k, ArrayRef<Value> computed,
                        ArrayRef<Value> operands) {
      DenseMap<Value, Value> known;
      size_t next = 0;
      for (auto [product, bias, tile] : llvm::zip(products, biases, computed))
        known[product] = bias ? k.addf(tile, operands[next++]) : tile;
      for (Value leaf : leaves)
        known[leaf] = operands[next++];
      auto shape = cast<RankedTensorType>(computed[0].getType()).getShape();
      return kernels::emitFusedValue(k, body, known, root, shape);
    };
    auto resultType = cast<RankedTensorType>(root.getType());
    int64_t output = addTemporary(resultType.getElementType(), shape);
    buffers[op.getResult(0)] = output;
    // Two products per program hold two accumulators: the fused kernel
    // halves the N tile so that it keeps the registers (and shared memory)
    // of one matmul tile.
    auto halveN = [&](kernels::TileSizes tiles) {
      if (count == 2 && !sizes.separateMatmulEpilogue)
        tiles.matmulN = std::max<int64_t>(tiles.matmulN / 2, 16);
      return tiles;
    };
    auto variants =
        tilesForRows(productOperandType(first->lhs, rhs.front()), 0, first->m, halveN);
    kernels::MatmulKernelSpec spec;
    spec.lhs = memrefTypeOf(first->lhs);
    spec.transposeLhs = matmuls[0].getTransposeLhs();
    spec.transposeRhs = matmuls[0].getTransposeRhs();
    spec.accumulator = f32;
    // Products through memory, then one element-wise kernel for the whole
    // epilogue: split-K (each product into f32 partials by its own
    // kernel, so with the full N tile; the epilogue applied to their
    // sums), or a target whose matrix unit writes f32 products.
    size_t numProducts = rhs.size();
    SmallVector<RowTiles, 2> single =
        tilesForRows(productOperandType(first->lhs, rhs.front()), 0, first->m);
    DimExpr depth = matmulDepth(first->lhs, spec.transposeLhs);
    int64_t splits = splitKOf(single, first->batch, first->m, first->n, depth);
    auto addThroughMemory = [&](ArrayRef<RowTiles> tiles, int64_t parts) {
      addProductsThenEpilogue(
          tiles, "matmul", what + (parts > 1 ? "_sum" : "_epilogue"), spec, first->lhs, rhs,
          first->batch, first->m, first->n, parts, epilogueArgs,
          [epilogue, numProducts](kernels::KernelBuilder &k, ArrayRef<Value> in) {
            return epilogue(k, in.take_front(numProducts), in.drop_front(numProducts));
          },
          output);
      return success();
    };
    if (splits > 1 || sizes.separateMatmulEpilogue)
      return addThroughMemory(single, splits);
    auto addFused = [&](ArrayRef<RowTiles> tiles) {
      kernels::MatmulKernelSpec fused = spec;
      for (int64_t r : rhs)
        fused.rhs.push_back(memrefTypeOf(r));
      fused.output = memrefTypeOf(output);
      fused.epilogue.operands = epilogueTypes;
      fused.epilogue.body = epilogue;
      SmallVector<int64_t> args = {first->lhs};
      args.append(rhs.begin(), rhs.end());
      args.append(epilogueArgs.begin(), epilogueArgs.end());
      args.push_back(output);
      addMatmulLaunches(tiles, what, fused, first->m, first->n, first->batch, args);
      return success();
    };
    // A dynamic M whose few-rows kernel has few output tiles: split K for
    // those rows (with the full N tile, one product per kernel), the fused
    // kernel for more.
    if (int64_t parts = splitKForFewRows(single, first->batch, first->n, depth); parts > 1) {
      assert(variants.size() == 2 && "the fused kernel's tiles by rows as the products'");
      return addRowAlternatives(
          first->m, single[0].tiles.matmulM,
          [&] { return addThroughMemory({withoutRange(single[0])}, parts); },
          [&] { return addFused({withoutRange(variants[1])}); });
    }
    return addFused(variants);
  }
  case FusionKind::MatmulRope: {
    auto matmul = cast<MatmulOp>(ops[0]);
    auto reshape = cast<ReshapeOp>(ops[1]);
    auto rope = cast<RopeOp>(ops[2]);
    FailureOr<MatmulOperands> operands = matmulOperands(matmul);
    if (failed(operands))
      return failure();
    ArrayRef<int64_t> heads = reshape.getType().getShape();
    int64_t headDim = heads[3], half = headDim / 2;
    SmallVector<DimExpr> product = operands->shape();
    SmallVector<DimExpr> headShape = {product[0], product[1], DimExpr::of(heads[2]),
                                      DimExpr::of(headDim)};
    Type element = rope.getType().getElementType();
    int64_t output = addTemporary(element, headShape);
    buffers[op.getResult(0)] = output;
    Value bias = matmul.getBias();
    Type f32 = Float32Type::get(op.getContext());
    if (sizes.separateMatmulEpilogue) {
      // The f32 product (with its bias) through memory, then the rope
      // kernel reads it as [B, S, H, D].
      FailureOr<int64_t> computed =
          addMatmul(matmul, operands->lhs, operands->rhs, bias, f32,
                    matmul.getTransposeLhs(), matmul.getTransposeRhs(),
                    operands->batch, operands->m, operands->n);
      if (failed(computed))
        return failure();
      return addRope(rope, reshapeView(op, *computed, headShape), output);
    }
    FailureOr<int64_t> positions = broadcastView(
        op, buffers.lookup(rope.getPositions()), {product[0], product[1]});
    if (failed(positions))
      return failure();
    // A program computes both halves of its pairs, two column blocks of
    // the product, so it takes half the N tile (as a fused gated matmul
    // does: the registers of one matmul tile), and half again with a bias
    // (sm_90a's default 128-row tiles spilled 472 bytes with one); blocks
    // of pairs must not cross a head: the N tile divides D / 2.
    auto rotaryTiles = [&](const kernels::TileSizes &base) {
      kernels::TileSizes tiles = base;
      auto halve = [](int64_t n) { return std::max<int64_t>(n / 2, std::min<int64_t>(n, 8)); };
      tiles.matmulN = halve(tiles.matmulN);
      if (bias)
        tiles.matmulN = halve(tiles.matmulN);
      while (tiles.matmulN > 1 && half % tiles.matmulN != 0)
        tiles.matmulN /= 2;
      return tiles;
    };
    // Matrix cores take column blocks of 8: a head whose half is not a
    // multiple of 8 (D = 72, 100) leaves an N tile they cannot run, so
    // the product is an FMA loop, with the plain tiles it is sized for.
    auto variants = tilesForRows(productOperandType(operands->lhs, operands->rhs), 0,
                                 operands->m, [&](kernels::TileSizes tiles) {
                                   tiles = rotaryTiles(tiles);
                                   return tiles.matmulN % 8 != 0 ? rotaryTiles(sizes) : tiles;
                                 });
    int64_t flat = reshapeView(op, output, product);
    kernels::MatmulKernelSpec spec;
    spec.lhs = memrefTypeOf(operands->lhs);
    spec.rhs = {memrefTypeOf(operands->rhs)};
    spec.output = memrefTypeOf(flat);
    spec.transposeLhs = matmul.getTransposeLhs();
    spec.transposeRhs = matmul.getTransposeRhs();
    spec.accumulator = f32;
    spec.rotary = kernels::RotaryEpilogue{memrefTypeOf(*positions), headDim,
                                          rope.getEffectiveTheta()};
    SmallVector<int64_t> args = {operands->lhs, operands->rhs};
    if (bias) {
      args.push_back(buffers.lookup(bias));
      spec.bias = memrefTypeOf(args.back());
    }
    args.push_back(*positions);
    args.push_back(flat);
    addProductLaunches(
        variants, what,
        [&](const kernels::TileSizes &tiles, StringRef name) {
          return kernels::buildMatmulKernel(module, name, spec, tiles);
        },
        [&](const kernels::TileSizes &tiles) -> std::array<DictionaryAttr, 3> {
          return {gridAxis({operands->m}, tiles.matmulM),
                  gridAxis({operands->n.dividedBy(2)}, tiles.matmulN),
                  gridAxis(operands->batch, 1)};
        },
        args);
    return success();
  }
  case FusionKind::Norm: {
    Operation *norm = ops.back();
    ArrayRef<Operation *> prologueOps = ArrayRef<Operation *>(ops).drop_back();
    Value normalized = norm->getOperand(0);
    SmallVector<DimExpr> shape = shapeOfAny(normalized);
    SmallVector<Value> leaves = fusionLeaves(prologueOps);
    if (leaves.empty())
      return op.emitError("a norm of constants only has no kernel; fold it "
                          "into a constant first");
    SmallVector<int64_t> args;
    kernels::RowPrologue prologue;
    for (Value leaf : leaves) {
      FailureOr<int64_t> view = broadcastView(op, buffers.lookup(leaf), shape);
      if (failed(view))
        return failure();
      args.push_back(*view);
      prologue.operands.push_back(memrefTypeOf(*view));
    }
    SmallVector<Operation *> body(prologueOps.begin(), prologueOps.end());
    prologue.body = [body, leaves, normalized](kernels::KernelBuilder &k,
                                               ArrayRef<Value> in) {
      DenseMap<Value, Value> known;
      for (auto [leaf, tile] : llvm::zip(leaves, in))
        known[leaf] = tile;
      auto shape = cast<RankedTensorType>(in[0].getType()).getShape();
      return kernels::emitFusedValue(k, body, known, normalized, shape);
    };
    return addNorm(norm, std::move(prologue), std::move(args), shape,
                   op.getResult(0),
                   op.getNumResults() == 2 ? op.getResult(1) : Value(), what);
  }
  }
  return op.emitError("unknown fusion kind");
}

} // namespace prism::kernelize
