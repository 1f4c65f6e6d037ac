//===- MatmulKernel.cpp - Blocked, batched matmul with an epilogue --------===//

#include "passes/KernelLibrary/KernelBuilder.h"
#include "passes/KernelLibrary/KernelLibrary.h"

#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"

#include <cmath>

using namespace mlir;

namespace prism::kernels {

namespace {

/// The row and column block of the calling program. Programs launch in
/// the order x + y * X (x the row block, X the row blocks, y the column
/// block), so that with `group` = 1 consecutive programs take every row
/// block of a column block. With G > 1 they take G row blocks of a column
/// block, then the same G of the next column block, and so on (the last
/// group of rows may be shorter): the blocks a GPU runs at once then read
/// a square of output tiles, whose A rows and B columns its L2 cache holds,
/// instead of a whole column (every row of A for a couple of B columns).
std::pair<Value, Value> blockOfProgram(KernelBuilder &k, OpBuilder &builder, Location loc,
                                       int64_t group) {
  Value x = k.programId(tile::Axis::X), y = k.programId(tile::Axis::Y);
  if (group <= 1)
    return {x, y};
  Value rows = k.numPrograms(tile::Axis::X), columns = k.numPrograms(tile::Axis::Y);
  Value linear = k.add(x, k.mul(y, rows));
  Value perGroup = k.mul(k.index(group), columns);
  Value firstRow =
      k.mul(arith::DivUIOp::create(builder, loc, linear, perGroup), k.index(group));
  Value groupRows = k.minSigned(arith::SubIOp::create(builder, loc, rows, firstRow),
                                k.index(group));
  Value inGroup = arith::RemUIOp::create(builder, loc, linear, perGroup);
  return {k.add(firstRow, arith::RemUIOp::create(builder, loc, inGroup, groupRows)),
          arith::DivUIOp::create(builder, loc, inGroup, groupRows)};
}

} // namespace

func::FuncOp buildMatmulKernel(ModuleOp module, StringRef name,
                               const MatmulKernelSpec &spec,
                               const TileSizes &sizes) {
  assert((spec.rhs.size() == 1 || spec.rhs.size() == 2) &&
         (!spec.bias || spec.rhs.size() == 1) && "one or two rhs");
  const std::optional<RotaryEpilogue> &rotary = spec.rotary;
  assert((!rotary || (spec.rhs.size() == 1 && !spec.epilogue.body &&
                      spec.output.getRank() == 3 &&
                      (rotary->headDim / 2) % sizes.matmulN == 0)) &&
         "a rotary epilogue: one rhs, rank 3, pair blocks inside a head");
  int64_t splits = spec.splitK;
  assert((splits == 1 || (splits > 1 && spec.rhs.size() == 1 && !spec.bias && !rotary &&
                          !spec.epilogue.body && spec.epilogue.operands.empty() &&
                          spec.output.getElementType().isF32())) &&
         "split-K: one product into f32 partials, no epilogue");
  OpBuilder builder(module.getContext());
  SmallVector<Type> argTypes = {spec.lhs};
  argTypes.append(spec.rhs.begin(), spec.rhs.end());
  if (spec.bias)
    argTypes.push_back(spec.bias);
  if (rotary)
    argTypes.push_back(rotary->positions);
  argTypes.append(spec.epilogue.operands.begin(), spec.epilogue.operands.end());
  argTypes.push_back(spec.output);
  func::FuncOp kernel = createKernel(builder, module, name, argTypes);
  KernelBuilder k(builder, kernel.getLoc());
  Location loc = kernel.getLoc();
  unsigned next = 0;
  Value a = kernel.getArgument(next++);
  SmallVector<Value, 2> rhs;
  for (size_t i = 0; i < spec.rhs.size(); ++i)
    rhs.push_back(kernel.getArgument(next++));
  Value biasArg = spec.bias ? kernel.getArgument(next++) : Value();
  Value positionsArg = rotary ? kernel.getArgument(next++) : Value();
  SmallVector<Value> epilogueArgs;
  for (size_t i = 0; i < spec.epilogue.operands.size(); ++i)
    epilogueArgs.push_back(kernel.getArgument(next++));
  Value out = kernel.getArgument(next++);
  // The operands' rank (split-K's partials have a leading dimension more).
  int64_t rank = spec.output.getRank() - (splits > 1 ? 1 : 0);
  int64_t bm = sizes.matmulM, bn = sizes.matmulN, bk = sizes.matmulK;
  bool transposeLhs = spec.transposeLhs, transposeRhs = spec.transposeRhs;
  Type accumulator = spec.accumulator;

  // Program (x, y, z): rows [x*bm, ...), columns [y*bn, ...), batch z
  // (with split-K, z = batch * splits + part); in groups of row blocks
  // (see blockOfProgram).
  int64_t firstBatchDim = splits > 1 ? 1 : 0;
  SmallVector<Value> batchSizes;
  for (int64_t d = 0; d + 2 < rank; ++d)
    batchSizes.push_back(k.dim(out, firstBatchDim + d));
  if (splits > 1)
    batchSizes.push_back(k.index(splits));
  SmallVector<Value> batch = k.delinearize(k.programId(tile::Axis::Z), batchSizes);
  Value part;
  if (splits > 1)
    part = batch.pop_back_val();
  auto [rowBlock, columnBlock] = blockOfProgram(k, builder, loc, sizes.matmulGroupM);
  Value m0 = k.mul(rowBlock, k.index(bm));
  Value n0 = k.mul(columnBlock, k.index(bn));
  Value kSize = k.dim(a, transposeLhs ? rank - 2 : rank - 1);
  // The K range: all of it, or with split-K the steps
  // [s * steps / splits, (s + 1) * steps / splits) of part s: whole steps
  // (only K's last step is ragged), as even as they go (a part is empty
  // only when K has fewer steps than parts).
  Value kBegin = k.index(0), kEnd = kSize;
  if (splits > 1) {
    Value steps = arith::DivUIOp::create(builder, loc, k.add(kSize, k.index(bk - 1)),
                                         k.index(bk));
    auto boundary = [&](Value s) {
      Value firstStep =
          arith::DivUIOp::create(builder, loc, k.mul(s, steps), k.index(splits));
      return k.minSigned(k.mul(firstStep, k.index(bk)), kSize);
    };
    kBegin = boundary(part);
    kEnd = boundary(k.add(part, k.index(1)));
  }
  // The output column where each product's block starts. With a rotary
  // epilogue, n0 counts pairs: pair p of head h is columns h * D + p and
  // h * D + p + D / 2, and the block never crosses a head.
  SmallVector<Value, 2> columns(rhs.size(), n0);
  Value pairInHead;
  if (rotary) {
    int64_t half = rotary->headDim / 2;
    Value head = arith::DivUIOp::create(builder, loc, n0, k.index(half));
    pairInHead = arith::RemUIOp::create(builder, loc, n0, k.index(half));
    Value first = k.add(k.mul(head, k.index(rotary->headDim)), pairInHead);
    columns = {first, k.add(first, k.index(half))};
    rhs = {rhs[0], rhs[0]};
  }

  // The position and rank-`rank` shape of a 2-D block [rows, cols] of a
  // batched operand at (row, col).
  auto blockAt = [&](Value row, Value col, int64_t rows, int64_t cols) {
    SmallVector<Value> position(batch.begin(), batch.end());
    position.push_back(row);
    position.push_back(col);
    SmallVector<int64_t> shape(rank, 1);
    shape[rank - 2] = rows;
    shape[rank - 1] = cols;
    return std::make_pair(position, shape);
  };
  auto loadBlock = [&](Value memref, Value row, Value col, int64_t rows,
                       int64_t cols) {
    auto [position, shape] = blockAt(row, col, rows, cols);
    return k.reshape(k.load(memref, position, shape), {rows, cols});
  };

  Value zero = arith::ConstantOp::create(builder, loc, accumulator,
                                         builder.getZeroAttr(accumulator));
  SmallVector<Value> init(rhs.size(), k.splat(zero, {bm, bn}));
  // One read of the lhs block per K step feeds every product.
  auto loop = scf::ForOp::create(
      builder, loc, kBegin, kEnd, k.index(bk), init,
      [&](OpBuilder &nested, Location nestedLoc, Value k0, ValueRange acc) {
        Value aBlock = transposeLhs
                           ? k.transpose2d(loadBlock(a, k0, m0, bk, bm))
                           : loadBlock(a, m0, k0, bm, bk);
        SmallVector<Value> next;
        for (auto [b, c, column] : llvm::zip(rhs, acc, columns)) {
          Value bBlock = transposeRhs
                             ? k.transpose2d(loadBlock(b, column, k0, bn, bk))
                             : loadBlock(b, k0, column, bk, bn);
          next.push_back(tile::DotOp::create(nested, nestedLoc, c.getType(),
                                             aBlock, bBlock, c));
        }
        scf::YieldOp::create(nested, nestedLoc, next);
      });
  SmallVector<Value> computed(loop.getResults());
  if (biasArg) {
    for (auto [c, column] : llvm::zip(computed, columns)) {
      SmallVector<int64_t> biasShape = {bn};
      Value biasTile = k.convert(k.load(biasArg, ValueRange{column}, biasShape),
                                 accumulator);
      c = arith::AddFOp::create(
          builder, loc, c, k.broadcast(k.reshape(biasTile, {1, bn}), {bm, bn}));
    }
  }
  auto storeAt = [&](Value tile, Value column) {
    auto [position, shape] = blockAt(m0, column, bm, bn);
    if (part) {
      position.insert(position.begin(), part);
      shape.insert(shape.begin(), 1);
    }
    k.store(k.reshape(k.convert(tile, spec.output.getElementType()), shape),
            out, position);
  };
  if (rotary) {
    // angle[m, p] = position[b, m] * theta^(-2p/D), as the rope kernel.
    Value x1 = k.toF32(computed[0]), x2 = k.toF32(computed[1]);
    Value positions = k.reshape(
        k.load(positionsArg, ValueRange{batch[0], m0}, {1, bm}), {bm});
    positions = arith::SIToFPOp::create(
        builder, loc, RankedTensorType::get({bm}, builder.getF32Type()), positions);
    Value exponent = k.divf(
        k.mulf(k.indexTileToF32(k.iota(bn, pairInHead)),
               k.splat(k.f32(-2.0 * std::log(rotary->theta)), {bn})),
        k.splat(k.f32(static_cast<double>(rotary->headDim)), {bn}));
    Value angle = k.mulf(k.broadcast(k.reshape(positions, {bm, 1}), {bm, bn}),
                         k.broadcast(k.reshape(k.exp(exponent), {1, bn}), {bm, bn}));
    Value c = math::CosOp::create(builder, loc, angle);
    Value s = math::SinOp::create(builder, loc, angle);
    storeAt(k.subf(k.mulf(x1, c), k.mulf(x2, s)), columns[0]);
    storeAt(k.addf(k.mulf(x2, c), k.mulf(x1, s)), columns[1]);
    func::ReturnOp::create(builder, loc);
    return kernel;
  }
  Value result = computed[0];
  if (spec.epilogue.body) {
    for (Value &c : computed)
      c = k.toF32(c);
    SmallVector<Value> operands;
    for (Value arg : epilogueArgs)
      operands.push_back(k.toF32(loadBlock(arg, m0, n0, bm, bn)));
    result = spec.epilogue.body(k, computed, operands);
  }
  storeAt(result, n0);
  func::ReturnOp::create(builder, loc);
  return kernel;
}

} // namespace prism::kernels
