//===- RowKernels.cpp - rms_norm, layer_norm, softmax over the last axis --===//
//
// One program per row; the row is walked in chunks of `rowBlock` elements, so
// one compiled kernel serves any row length (the tail chunk is masked).
//
//===----------------------------------------------------------------------===//

#include "passes/KernelLibrary/KernelBuilder.h"
#include "passes/KernelLibrary/KernelLibrary.h"

#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"

#include <limits>

using namespace mlir;

namespace prism::kernels {
namespace {

/// The position of this program's row: every index but the last, from
/// program id x over the leading dims of `shaped`.
SmallVector<Value> rowPosition(KernelBuilder &k, Value shaped, int64_t rank) {
  SmallVector<Value> leadingSizes;
  for (int64_t d = 0; d + 1 < rank; ++d)
    leadingSizes.push_back(k.dim(shaped, d));
  return k.delinearize(k.programId(tile::Axis::X), leadingSizes);
}

/// Loads chunk [column, column + block) of the row as a 1-D f32 tile.
Value loadChunk(KernelBuilder &k, Value memref, ArrayRef<Value> row,
                Value column, int64_t rank, int64_t block) {
  SmallVector<Value> position(row.begin(), row.end());
  position.push_back(column);
  SmallVector<int64_t> shape(rank, 1);
  shape.back() = block;
  return k.reshape(k.toF32(k.load(memref, position, shape)), {block});
}

void storeChunk(KernelBuilder &k, Value chunk, Value memref,
                ArrayRef<Value> row, Value column, int64_t rank) {
  auto type = cast<MemRefType>(memref.getType());
  int64_t block = cast<RankedTensorType>(chunk.getType()).getDimSize(0);
  SmallVector<Value> position(row.begin(), row.end());
  position.push_back(column);
  SmallVector<int64_t> shape(rank, 1);
  shape.back() = block;
  k.store(k.reshape(k.convert(chunk, type.getElementType()), shape), memref,
          position);
}

/// for (column = 0; column < length; column += block) body(column, carried)
SmallVector<Value> forEachChunk(
    KernelBuilder &k, Value length, int64_t block, ValueRange initial,
    function_ref<SmallVector<Value>(Value column, ValueRange carried)> body) {
  OpBuilder &b = k.builder();
  auto loop = scf::ForOp::create(
      b, k.location(), k.index(0), length, k.index(block), initial,
      [&](OpBuilder &nested, Location loc, Value column, ValueRange carried) {
        SmallVector<Value> next = body(column, carried);
        scf::YieldOp::create(nested, loc, next);
      });
  return SmallVector<Value>(loop.getResults());
}

} // namespace

namespace {
/// The row a norm kernel normalizes, chunk by chunk: the prologue's operands
/// are its first kernel arguments.
struct PrologueRow {
  const RowPrologue &prologue;
  SmallVector<Value> operands;
  int64_t rank;
  int64_t block;

  /// Chunk [column, column + block) of the row in f32: the prologue's value,
  /// rounded to the stored type when it is stored (so that the norm sees
  /// exactly what an unfused norm would read back).
  Value chunk(KernelBuilder &k, ArrayRef<Value> row, Value column,
              Value length) const {
    SmallVector<Value> in;
    for (Value operand : operands)
      in.push_back(loadChunk(k, operand, row, column, rank, block));
    if (!prologue.body)
      return in[0]; // the padding is zero
    Value v = prologue.body(k, in);
    if (prologue.stored)
      v = k.toF32(k.convert(v, prologue.stored.getElementType()));
    // The prologue of the zero padding is not zero (exp(0) = 1): the
    // columns past the row's end are zeroed so the sums ignore them.
    return k.select(k.columnsBefore(length, block, column), v,
                    k.splat(k.f32(0.0), {block}));
  }
};

/// The element type and rank the prologue's row has.
int64_t rowRank(const RowPrologue &prologue) {
  return prologue.operands.front().getRank();
}

/// The sizes of a norm's row: chunks as short as any operand of the row
/// needs (and whole only where none is strided).
TileSizes rowSizesFor(const RowPrologue &prologue, MemRefType output,
                      const TileSizes &sizes) {
  SmallVector<MemRefType> types(prologue.operands);
  types.push_back(output);
  if (prologue.stored)
    types.push_back(prologue.stored);
  return sizes.forOperands(types);
}
} // namespace

func::FuncOp buildRmsNormKernel(ModuleOp module, StringRef name,
                                const RowPrologue &input, MemRefType weight,
                                MemRefType output, double epsilon,
                                const TileSizes &sizes) {
  OpBuilder builder(module.getContext());
  SmallVector<Type> argTypes(input.operands.begin(), input.operands.end());
  argTypes.push_back(weight);
  if (input.stored)
    argTypes.push_back(input.stored);
  argTypes.push_back(output);
  func::FuncOp kernel = createKernel(builder, module, name, argTypes);
  KernelBuilder k(builder, kernel.getLoc());
  int64_t rank = rowRank(input);
  TileSizes rowSizes = rowSizesFor(input, output, sizes);
  PrologueRow source{input, {}, rank, rowSizes.rowBlock};
  unsigned next = 0;
  for (size_t i = 0; i < input.operands.size(); ++i)
    source.operands.push_back(kernel.getArgument(next++));
  Value w = kernel.getArgument(next++);
  Value stored = input.stored ? kernel.getArgument(next++) : Value();
  Value y = kernel.getArgument(next++);
  int64_t block = source.block;
  SmallVector<Value> row = rowPosition(k, y, rank);
  Value length = k.dim(y, rank - 1);

  if (rowSizes.wholeRow) {
    // The whole row in one chunk: read once, kept in registers.
    Value start = k.index(0);
    Value v = source.chunk(k, row, start, length);
    if (stored)
      storeChunk(k, v, stored, row, start, rank);
    Value sum = k.reduce(tile::CombineKind::Sum, k.mulf(v, v), 0);
    Value mean = k.divf(sum, k.splat(k.indexToF32(length), {}));
    Value inverse = math::RsqrtOp::create(
        builder, k.location(), k.addf(mean, k.splat(k.f32(epsilon), {})));
    Value wv = loadChunk(k, w, {}, start, 1, block);
    storeChunk(k, k.mulf(k.mulf(v, k.broadcast(inverse, {block})), wv), y, row, start,
               rank);
    func::ReturnOp::create(builder, kernel.getLoc());
    return kernel;
  }

  // Sum of squares in f32 (the tail is zero, so it adds nothing); the
  // prologue's value is stored on the way.
  Value zeros = k.splat(k.f32(0.0), {block});
  Value squares = forEachChunk(k, length, block, {zeros},
                               [&](Value column, ValueRange carried) {
                                 Value v = source.chunk(k, row, column, length);
                                 if (stored)
                                   storeChunk(k, v, stored, row, column, rank);
                                 return SmallVector<Value>{
                                     k.addf(carried[0], k.mulf(v, v))};
                               })[0];
  Value sum = k.reduce(tile::CombineKind::Sum, squares, 0);
  Value mean = k.divf(sum, k.splat(k.indexToF32(length), {}));
  Value inverse = math::RsqrtOp::create(
      builder, k.location(), k.addf(mean, k.splat(k.f32(epsilon), {})));
  Value scale = k.broadcast(inverse, {block});

  // The row is computed again from the operands (not read back from the
  // stored copy: no kernel reads what it wrote to global memory).
  forEachChunk(k, length, block, {}, [&](Value column, ValueRange) {
    Value v = source.chunk(k, row, column, length);
    Value wv = loadChunk(k, w, {}, column, 1, block);
    storeChunk(k, k.mulf(k.mulf(v, scale), wv), y, row, column, rank);
    return SmallVector<Value>{};
  });
  func::ReturnOp::create(builder, kernel.getLoc());
  return kernel;
}

func::FuncOp buildLayerNormKernel(ModuleOp module, StringRef name,
                                  const RowPrologue &input, MemRefType weight,
                                  MemRefType bias, MemRefType output,
                                  double epsilon, const TileSizes &sizes) {
  OpBuilder builder(module.getContext());
  SmallVector<Type> argTypes(input.operands.begin(), input.operands.end());
  if (weight)
    argTypes.push_back(weight);
  if (bias)
    argTypes.push_back(bias);
  if (input.stored)
    argTypes.push_back(input.stored);
  argTypes.push_back(output);
  func::FuncOp kernel = createKernel(builder, module, name, argTypes);
  KernelBuilder k(builder, kernel.getLoc());
  int64_t rank = rowRank(input);
  TileSizes rowSizes = rowSizesFor(input, output, sizes);
  PrologueRow source{input, {}, rank, rowSizes.rowBlock};
  unsigned next = 0;
  for (size_t i = 0; i < input.operands.size(); ++i)
    source.operands.push_back(kernel.getArgument(next++));
  Value w = weight ? kernel.getArgument(next++) : Value();
  Value bv = bias ? kernel.getArgument(next++) : Value();
  Value stored = input.stored ? kernel.getArgument(next++) : Value();
  Value y = kernel.getArgument(next++);
  int64_t block = source.block;
  SmallVector<Value> row = rowPosition(k, y, rank);
  Value length = k.dim(y, rank - 1);
  Value count = k.splat(k.indexToF32(length), {});
  Value zeros = k.splat(k.f32(0.0), {block});

  // The normalized row, scaled and shifted, stored once.
  auto finish = [&](Value centered, Value scale, Value column) {
    Value result = k.mulf(centered, scale);
    if (w)
      result = k.mulf(result, loadChunk(k, w, {}, column, 1, block));
    if (bv)
      result = k.addf(result, loadChunk(k, bv, {}, column, 1, block));
    storeChunk(k, result, y, row, column, rank);
  };
  auto inverseDeviation = [&](Value squares) {
    Value variance = k.divf(k.reduce(tile::CombineKind::Sum, squares, 0), count);
    return k.broadcast(
        math::RsqrtOp::create(builder, k.location(),
                              k.addf(variance, k.splat(k.f32(epsilon), {}))),
        {block});
  };

  if (rowSizes.wholeRow) {
    // The whole row in one chunk: read once, kept in registers.
    Value start = k.index(0);
    Value v = source.chunk(k, row, start, length);
    if (stored)
      storeChunk(k, v, stored, row, start, rank);
    Value mean = k.divf(k.reduce(tile::CombineKind::Sum, v, 0), count);
    Value centered = k.subf(v, k.broadcast(mean, {block}));
    Value sq = k.select(k.columnsBefore(length, block, start),
                        k.mulf(centered, centered), zeros);
    finish(centered, inverseDeviation(sq), start);
    func::ReturnOp::create(builder, kernel.getLoc());
    return kernel;
  }

  // Pass 1: the mean (the tail is zero, so it adds nothing); the
  // prologue's value is stored on the way.
  Value sums = forEachChunk(k, length, block, {zeros},
                            [&](Value column, ValueRange carried) {
                              Value v = source.chunk(k, row, column, length);
                              if (stored)
                                storeChunk(k, v, stored, row, column, rank);
                              return SmallVector<Value>{k.addf(carried[0], v)};
                            })[0];
  Value mean = k.divf(k.reduce(tile::CombineKind::Sum, sums, 0), count);
  Value meanRow = k.broadcast(mean, {block});

  // Pass 2: the biased variance, sum((x - mean)^2) / D, tail masked out.
  Value squares = forEachChunk(
      k, length, block, {zeros}, [&](Value column, ValueRange carried) {
        Value centered = k.subf(source.chunk(k, row, column, length), meanRow);
        Value sq = k.select(k.columnsBefore(length, block, column),
                            k.mulf(centered, centered), zeros);
        return SmallVector<Value>{k.addf(carried[0], sq)};
      })[0];
  Value scale = inverseDeviation(squares);

  // Pass 3: normalize, scale, shift, round once.
  forEachChunk(k, length, block, {}, [&](Value column, ValueRange) {
    finish(k.subf(source.chunk(k, row, column, length), meanRow), scale, column);
    return SmallVector<Value>{};
  });
  func::ReturnOp::create(builder, kernel.getLoc());
  return kernel;
}

func::FuncOp buildSoftmaxKernel(ModuleOp module, StringRef name,
                                MemRefType input, MemRefType output,
                                double scale, const TileSizes &sizes) {
  OpBuilder builder(module.getContext());
  func::FuncOp kernel = createKernel(builder, module, name, {input, output});
  KernelBuilder k(builder, kernel.getLoc());
  Location loc = kernel.getLoc();
  Value x = kernel.getArgument(0), y = kernel.getArgument(1);
  int64_t rank = input.getRank();
  TileSizes rowSizes = sizes.forOperands({input, output});
  int64_t block = rowSizes.rowBlock;
  SmallVector<Value> row = rowPosition(k, y, rank);
  Value length = k.dim(x, rank - 1);
  Value minusInf = k.f32(-std::numeric_limits<double>::infinity());

  // s = scale * x, with the columns past the row's end at -inf (a select,
  // not a padding value, so that any sign of scale is right).
  auto scores = [&](Value column) {
    Value v = loadChunk(k, x, row, column, rank, block);
    Value s = arith::MulFOp::create(builder, loc, v,
                                    k.splat(k.f32(scale), {block}));
    Value inside = k.columnsBefore(length, block, column);
    return arith::SelectOp::create(builder, loc, inside, s,
                                   k.splat(minusInf, {block}))
        .getResult();
  };

  if (rowSizes.wholeRow) {
    // The whole row in one chunk: read once, one exponential per element,
    // the output written once (rounded once, whatever its type).
    Value start = k.index(0);
    Value s = scores(start);
    Value maximum = k.reduce(tile::CombineKind::Max, s, 0);
    Value e = k.exp(k.subf(s, k.broadcast(maximum, {block})));
    Value sum = k.reduce(tile::CombineKind::Sum, e, 0);
    storeChunk(k, k.divf(e, k.broadcast(sum, {block})), y, row, start, rank);
    func::ReturnOp::create(builder, loc);
    return kernel;
  }

  if (output.getElementType().isF32()) {
    // Three passes, one exponential per element: the maximum; then
    // e = exp(s - max) stored to the output with its sum; then the output
    // divided by the sum. The row is re-read from cache, the exponential is
    // what costs.
    Value maximum = k.reduce(
        tile::CombineKind::Max,
        forEachChunk(k, length, block, {k.splat(minusInf, {block})},
                     [&](Value column, ValueRange carried) {
                       return SmallVector<Value>{arith::MaximumFOp::create(
                           builder, loc, carried[0], scores(column))};
                     })[0],
        0);
    Value maximumRow = k.broadcast(maximum, {block});
    Value sums = forEachChunk(
        k, length, block, {k.splat(k.f32(0.0), {block})},
        [&](Value column, ValueRange carried) {
          Value e = k.exp(k.subf(scores(column), maximumRow));
          storeChunk(k, e, y, row, column, rank);
          return SmallVector<Value>{k.addf(carried[0], e)};
        })[0];
    Value sum = k.broadcast(k.reduce(tile::CombineKind::Sum, sums, 0), {block});
    forEachChunk(k, length, block, {}, [&](Value column, ValueRange) {
      Value e = loadChunk(k, y, row, column, rank, block);
      storeChunk(k, k.divf(e, sum), y, row, column, rank);
      return SmallVector<Value>{};
    });
    func::ReturnOp::create(builder, loc);
    return kernel;
  }

  // Narrower outputs would round the stored exponentials twice: an online
  // maximum and sum in one read, then the exponentials again.
  SmallVector<Value> stats = forEachChunk(
      k, length, block, {k.splat(minusInf, {}), k.splat(k.f32(0.0), {})},
      [&](Value column, ValueRange carried) {
        Value s = scores(column);
        Value blockMax = k.reduce(tile::CombineKind::Max, s, 0);
        Value newMax = arith::MaximumFOp::create(builder, loc, carried[0], blockMax);
        Value correction = math::ExpOp::create(
            builder, loc, arith::SubFOp::create(builder, loc, carried[0], newMax));
        Value e = math::ExpOp::create(
            builder, loc,
            arith::SubFOp::create(builder, loc, s, k.broadcast(newMax, {block})));
        Value sum = arith::AddFOp::create(
            builder, loc, arith::MulFOp::create(builder, loc, carried[1], correction),
            k.reduce(tile::CombineKind::Sum, e, 0));
        return SmallVector<Value>{newMax, sum};
      });
  Value maximum = k.broadcast(stats[0], {block});
  Value sum = k.broadcast(stats[1], {block});

  forEachChunk(k, length, block, {}, [&](Value column, ValueRange) {
    Value e = math::ExpOp::create(
        builder, loc, arith::SubFOp::create(builder, loc, scores(column), maximum));
    storeChunk(k, arith::DivFOp::create(builder, loc, e, sum), y, row, column,
               rank);
    return SmallVector<Value>{};
  });
  func::ReturnOp::create(builder, loc);
  return kernel;
}

func::FuncOp buildAttentionSoftmaxKernel(ModuleOp module, StringRef name,
                                         MemRefType scores, MemRefType mask,
                                         MemRefType output, double scale,
                                         bool causal, std::optional<int64_t> window,
                                         const TileSizes &sizes) {
  OpBuilder builder(module.getContext());
  SmallVector<Type> argTypes = {scores};
  if (mask)
    argTypes.push_back(mask);
  argTypes.push_back(output);
  func::FuncOp kernel = createKernel(builder, module, name, argTypes);
  KernelBuilder k(builder, kernel.getLoc());
  Location loc = kernel.getLoc();
  Value x = kernel.getArgument(0);
  Value m = mask ? kernel.getArgument(1) : Value();
  Value y = kernel.getArgument(mask ? 2 : 1);
  int64_t rank = scores.getRank();
  int64_t block = sizes.forOperands({scores, output}).rowBlock;
  SmallVector<Value> row = rowPosition(k, y, rank);
  Value keys = k.dim(x, rank - 1), queries = k.dim(x, rank - 2);
  Value minusInf = k.f32(-std::numeric_limits<double>::infinity());
  Type index = builder.getIndexType();
  // Keys this query sees: j <= q + keys - queries (causal, bottom-right
  // aligned), j > that - window (sliding window); signed: the bound may be
  // negative when there are more queries than keys.
  Value last = k.sub(k.add(row[rank - 2], keys), queries);

  auto scoresAt = [&](Value column) {
    Value s = arith::MulFOp::create(builder, loc, loadChunk(k, x, row, column, rank, block),
                                    k.splat(k.f32(scale), {block}));
    if (m)
      s = arith::AddFOp::create(builder, loc, s,
                                k.toF32(loadChunk(k, m, row, column, rank, block)));
    Value columns = arith::AddIOp::create(
        builder, loc, tile::IotaOp::create(builder, loc, RankedTensorType::get({block}, index)),
        k.splat(column, {block}));
    Value visible = arith::CmpIOp::create(builder, loc, arith::CmpIPredicate::ult, columns,
                                          k.splat(keys, {block}));
    if (causal)
      visible = arith::AndIOp::create(
          builder, loc, visible,
          arith::CmpIOp::create(builder, loc, arith::CmpIPredicate::sle, columns,
                                k.splat(last, {block})));
    if (window)
      visible = arith::AndIOp::create(
          builder, loc, visible,
          arith::CmpIOp::create(builder, loc, arith::CmpIPredicate::sgt, columns,
                                k.splat(k.sub(last, k.index(*window)), {block})));
    return arith::SelectOp::create(builder, loc, visible, s, k.splat(minusInf, {block}))
        .getResult();
  };
  // exp(s - max) with max = -inf (nothing seen yet) read as 0, so that rows
  // with no visible key give exp(-inf) = 0, never NaN.
  auto finite = [&](Value maximum) {
    Value none = arith::CmpFOp::create(builder, loc, arith::CmpFPredicate::OEQ, maximum,
                                       k.splat(minusInf, {}));
    return arith::SelectOp::create(builder, loc, none, k.splat(k.f32(0.0), {}), maximum)
        .getResult();
  };

  SmallVector<Value> stats = forEachChunk(
      k, keys, block, {k.splat(minusInf, {}), k.splat(k.f32(0.0), {})},
      [&](Value column, ValueRange carried) {
        Value s = scoresAt(column);
        Value newMax = arith::MaximumFOp::create(builder, loc, carried[0],
                                                 k.reduce(tile::CombineKind::Max, s, 0));
        Value shift = finite(newMax);
        Value correction = math::ExpOp::create(
            builder, loc, arith::SubFOp::create(builder, loc, carried[0], shift));
        Value e = math::ExpOp::create(
            builder, loc, arith::SubFOp::create(builder, loc, s, k.broadcast(shift, {block})));
        Value sum = arith::AddFOp::create(
            builder, loc, arith::MulFOp::create(builder, loc, carried[1], correction),
            k.reduce(tile::CombineKind::Sum, e, 0));
        return SmallVector<Value>{newMax, sum};
      });
  Value shift = k.broadcast(finite(stats[0]), {block});
  // 1 / sum, and 0 for a row that sees no key.
  Value empty = arith::CmpFOp::create(builder, loc, arith::CmpFPredicate::OEQ, stats[1],
                                      k.splat(k.f32(0.0), {}));
  Value inverse = arith::SelectOp::create(
      builder, loc, empty, k.splat(k.f32(0.0), {}),
      arith::DivFOp::create(builder, loc, k.splat(k.f32(1.0), {}), stats[1]));
  Value inverseRow = k.broadcast(inverse, {block});
  forEachChunk(k, keys, block, {}, [&](Value column, ValueRange) {
    Value e = math::ExpOp::create(
        builder, loc, arith::SubFOp::create(builder, loc, scoresAt(column), shift));
    storeChunk(k, arith::MulFOp::create(builder, loc, e, inverseRow), y, row, column, rank);
    return SmallVector<Value>{};
  });
  func::ReturnOp::create(builder, loc);
  return kernel;
}

} // namespace prism::kernels
