//===- AttentionKernel.cpp - Flash attention ------------------------------===//
//
// One program per block of `attentionM` queries of one (batch, query head).
// Keys and values are visited in blocks of `attentionN` with an online
// softmax (running row maximum m, row sum l, output accumulator acc, all in
// f32), so the [Sq, Skv] score matrix never exists in memory. With `causal`
// the loop stops at the last key the block's last query may see, and with
// a window it starts at the first key its first query may see: blocks that
// are entirely masked are never loaded.
//
// P.V takes P in the value type when that is f16/bf16 (FlashAttention's
// choice: the product runs on matrix units), in f32 otherwise.
//
// The softmax runs in base 2 (exp2 of logits scaled by log2(e)), and
// visibility (sequence end, causal, window) is one i32 compare per score
// against per-row limits relative to the key block: on a GPU, exp's range
// reduction and 64-bit index masks were most of the loop's instructions.
//
// Where the target asks (TileSizes::attentionOverlap), the step at key
// block j issues Q K_j^T and then P_{j-1} V_{j-1}, so that a GPU runs the
// softmax of block j while the second product runs (FlashAttention 3's
// overlap within a warpgroup); the accumulator is rescaled after it.
//
// Rows whose keys are all masked keep m = -inf; the exponentials use a safe
// maximum (0 in that case), so they contribute exact zeros, l stays 0, and
// the row's output is 0 as the op specifies.
//
// Pack-GQA: with few query rows per head (a decode step's one), the G
// query heads that share a KV head are one program's rows (the query and
// output seen as [B, Hkv, G Sq, D]); row r is query r mod Sq, which the
// causal and window tests use as its position.
//
// Split-KV (flash-decoding): a decode step has one query row per (batch,
// head), B x Hq programs for a GPU of 132 SMs, each walking every key.
// With splitParts > 1 program z walks part z of the key range and writes
// its accumulator, maximum and sum; the combine kernel rescales the parts
// to their largest maximum and divides once.
//
//===----------------------------------------------------------------------===//

#include "passes/KernelLibrary/KernelBuilder.h"
#include "passes/KernelLibrary/KernelLibrary.h"

#include "mlir/Dialect/SCF/IR/SCF.h"
#include "llvm/Support/MathExtras.h"

#include <limits>

using namespace mlir;

namespace prism::kernels {

namespace {

/// The rows' `maximum` to subtract before exp2, 0 where it is -inf (no
/// key seen yet): exp2(-inf - 0) is then an exact 0 where -inf - -inf
/// would be NaN.
Value safeMaximum(OpBuilder &builder, Location loc, KernelBuilder &k, Value maximum,
                  int64_t rows) {
  Value noKeyYet = arith::CmpFOp::create(
      builder, loc, arith::CmpFPredicate::OEQ, maximum,
      k.splat(k.f32(-std::numeric_limits<double>::infinity()), {rows}));
  return k.select(noKeyYet, k.splat(k.f32(0.0), {rows}), maximum);
}

/// The output rows acc / sum (acc [rows, columns]); a row that saw no key
/// has acc = 0 and sum = 0 and divides by 1: zeros, as the op specifies.
Value divideBySum(OpBuilder &builder, Location loc, KernelBuilder &k, Value acc, Value sum,
                  int64_t rows, int64_t columns) {
  Value empty = arith::CmpFOp::create(builder, loc, arith::CmpFPredicate::OEQ, sum,
                                      k.splat(k.f32(0.0), {rows}));
  Value denominator = k.select(empty, k.splat(k.f32(1.0), {rows}), sum);
  return k.divf(acc, k.broadcast(k.reshape(denominator, {rows, 1}), {rows, columns}));
}

} // namespace

func::FuncOp buildAttentionKernel(ModuleOp module, StringRef name,
                                  MemRefType query, MemRefType key,
                                  MemRefType value, MemRefType mask,
                                  MemRefType output,
                                  const AttentionOptions &options,
                                  const TileSizes &sizes, MemRefType partialStats) {
  const bool split = options.splitParts > 1;
  assert(split == static_cast<bool>(partialStats) && "split-KV kernels write stats");
  OpBuilder builder(module.getContext());
  SmallVector<Type> argTypes = {query, key, value};
  if (mask)
    argTypes.push_back(mask);
  argTypes.push_back(output);
  if (split)
    argTypes.push_back(partialStats);
  func::FuncOp kernel = createKernel(builder, module, name, argTypes);
  KernelBuilder k(builder, kernel.getLoc());
  Location loc = kernel.getLoc();
  Value q = kernel.getArgument(0), kArg = kernel.getArgument(1),
        v = kernel.getArgument(2);
  Value maskArg = mask ? kernel.getArgument(3) : Value();
  Value out = kernel.getArgument(mask ? 4 : 3);
  Value stats = split ? kernel.getArgument(mask ? 5 : 4) : Value();
  const int64_t bm = sizes.attentionM, bn = sizes.attentionN;
  const int64_t dp = llvm::PowerOf2Ceil(options.headDim);
  const int64_t dvp = llvm::PowerOf2Ceil(options.valueHeadDim);
  Type f32 = builder.getF32Type();
  auto f32Tile = [&](ArrayRef<int64_t> shape) {
    return RankedTensorType::get(shape, f32);
  };

  // Program (x, y): a block of bm queries of (batch, head) number y.
  SmallVector<Value> bh = k.delinearize(k.programId(tile::Axis::Y),
                                        {k.dim(q, 0), k.dim(q, 1)});
  Value batch = bh[0], head = bh[1];
  Value groupSize = arith::DivUIOp::create(builder, loc, k.dim(q, 1),
                                           k.dim(kArg, 1));
  Value kvHead = arith::DivUIOp::create(builder, loc, head, groupSize);
  // Causal blocks differ in work (block x visits about x + 1 key blocks):
  // they run heaviest first, so that the last programs a GPU's SMs pick up
  // are the light ones and the tail is short (longest processing time
  // first, FlashAttention 3's LPT schedule along the query blocks). The
  // block count is the grid's x, ceil(Sq / bm), computed from Sq (the
  // grid's size is not an instruction on every target: ROCDL calls
  // __ockl_get_num_groups, which needs ROCm's bitcode).
  // (Packed blocks hold every query position alike: no order to choose.)
  const int64_t packed = options.packedQueryRows;
  Value sq = packed ? k.index(packed) : k.dim(q, 2), skv = k.dim(kArg, 2);
  Value queryBlock = k.programId(tile::Axis::X);
  if (options.causal && !packed)
    queryBlock = k.sub(k.sub(k.ceilDiv(sq, k.index(bm)), k.index(1)), queryBlock);
  Value m0 = k.mul(queryBlock, k.index(bm));
  // Query i sits at absolute position i + offset (bottom-right alignment).
  Value offset = k.sub(skv, sq);
  // Row r of the block is query firstQuery + r (packed: query (m0 + r)
  // mod Sq, firstQuery 0 and the rows' own offsets below).
  Value firstQuery = packed ? k.index(0) : m0;

  // Key range of this block of queries (packed: every position, so to
  // the sequence's end).
  Value zero = k.index(0);
  Value lo = zero, hi = skv;
  if (options.causal && !packed)
    hi = k.minSigned(skv, k.maxSigned(zero, k.add(k.add(m0, k.index(bm)), offset)));
  // A window of 2^40 positions or more sees every earlier key of any
  // sequence a machine holds; capped there, m0 + offset - window cannot
  // wrap (the verifier allows any positive i64).
  std::optional<int64_t> window;
  if (options.window)
    window = std::min<int64_t>(*options.window, int64_t(1) << 40);
  if (window) {
    Value first = k.add(k.sub(k.add(firstQuery, offset), k.index(*window)), k.index(1));
    lo = k.roundDown(k.maxSigned(zero, first), bn);
  }
  // Split-KV: part z of [lo, hi), in whole key blocks (lo is a block's
  // first key, so every part starts at one), at least splitMinKeys long.
  Value part;
  if (split) {
    part = k.programId(tile::Axis::Z);
    Value length = k.maxSigned(zero, k.sub(hi, lo));
    Value perPart = k.ceilDiv(length, k.index(options.splitParts));
    Value chunk = k.maxSigned(k.roundDown(k.add(perPart, k.index(bn - 1)), bn),
                              k.index(std::max<int64_t>(options.splitMinKeys, bn)));
    lo = k.minSigned(hi, k.add(lo, k.mul(part, chunk)));
    hi = k.minSigned(hi, k.add(lo, chunk));
  }

  auto load2d = [&](Value memref, Value h, Value row, Value col, int64_t rows,
                    int64_t cols) {
    return k.reshape(k.load(memref, ValueRange{batch, h, row, col},
                            {1, 1, rows, cols}),
                     {rows, cols});
  };
  Value qBlock = load2d(q, head, m0, zero, bm, dp);

  // The softmax works in base 2: logits t = scale log2(e) s (+ log2(e)
  // mask), so exp(scale s - m) = exp2(t - m'): one multiply, one subtract
  // and one exp2 per score (a GPU's ex2 instruction) instead of exp's
  // range reduction. The maximum is kept in the logits' units: taking it
  // of the raw scores and folding the scale into one multiply-add
  // (FlashAttention 3) overflows exp2 once |m scale| nears 2^31 (the
  // product's rounding error is then above 128) and lets the rounding of
  // m scale compound over the KV blocks (rel-L2 3e-5 at 8192 keys).
  const double logitScale = options.scale * llvm::numbers::log2e;
  Value minusInf = k.f32(-std::numeric_limits<double>::infinity());
  Value minusInfBlock = k.splat(minusInf, {bm, bn});
  auto rowsToBlock = [&](Value rowValues, int64_t cols) {
    return k.broadcast(k.reshape(rowValues, {bm, 1}), {bm, cols});
  };
  // Visibility in i32 relative to the key block's first key j0: column c
  // of row r sees its key when c < end_r (and, with a window, c >= start_r).
  // The scalars are clamped to [-bm, bn], which keeps every row's answer
  // and keeps them in i32 whatever the sequence lengths.
  Type i32 = builder.getI32Type();
  auto clampToI32 = [&](Value v) {
    v = k.minSigned(k.maxSigned(v, k.index(-bm)), k.index(bn));
    return arith::IndexCastOp::create(builder, loc, i32, v).getResult();
  };
  auto i32Iota = [&](int64_t size) {
    return tile::IotaOp::create(builder, loc, RankedTensorType::get({size}, i32))
        .getResult();
  };
  // Key column c of the block, broadcast over the rows.
  auto keyColumns = [&]() {
    return k.broadcast(k.reshape(i32Iota(bn), {1, bn}), {bm, bn});
  };
  // Each row's query index less firstQuery, in [0, bm): r, or packed
  // (m0 + r) mod Sq (m0 is below the view's G Sq rows, i32 whatever the
  // sequence).
  Value packedRowQueries;
  if (packed) {
    Value blockStart = arith::IndexCastOp::create(builder, loc, i32, m0);
    packedRowQueries = arith::RemUIOp::create(
        builder, loc,
        arith::AddIOp::create(builder, loc, i32Iota(bm), k.splat(blockStart, {bm})),
        k.splat(arith::ConstantOp::create(builder, loc, builder.getI32IntegerAttr(packed)),
                {bm}));
  }
  // That + scalar for the block's rows, broadcast over the columns.
  auto rowPlus = [&](Value scalar) {
    return arith::AddIOp::create(builder, loc, packed ? packedRowQueries : i32Iota(bm),
                                 k.splat(clampToI32(scalar), {bm}))
        .getResult();
  };
  auto visibleKeys = [&](Value j0) {
    // Keys past the sequence (split: past the part, whose keys beyond its
    // last block the overlapped loop's extra step reads), and with
    // `causal` past the row's position (query r sees keys up to m0 + r +
    // offset).
    Value end = k.splat(clampToI32(k.sub(split ? hi : skv, j0)), {bm});
    if (options.causal)
      end = arith::MinSIOp::create(
          builder, loc, end, rowPlus(k.sub(k.add(k.add(firstQuery, offset), k.index(1)), j0)));
    Value columns = keyColumns();
    Value visible = arith::CmpIOp::create(builder, loc, arith::CmpIPredicate::slt,
                                          columns, rowsToBlock(end, bn));
    if (window) {
      // Keys within `window` positions: from m0 + r + offset - window + 1.
      Value start =
          rowPlus(k.sub(k.add(k.add(firstQuery, offset), k.index(1 - *window)), j0));
      visible = arith::AndIOp::create(
          builder, loc, visible,
          arith::CmpIOp::create(builder, loc, arith::CmpIPredicate::sge, columns,
                                rowsToBlock(start, bn)));
    }
    return visible;
  };

  Value initMax = k.splat(minusInf, {bm});
  Value initSum = k.splat(k.f32(0.0), {bm});
  Value initAcc = k.splat(k.f32(0.0), {bm, dvp});
  // P.V: with f16/bf16 values, P is rounded to their type (as
  // FlashAttention does) so that the product can use the same matrix
  // units as Q.K^T; the sum stays in f32.
  Type valueType = value.getElementType();
  bool pInValueType = valueType.isF16() || valueType.isBF16();
  auto valueBlock = [&](Value j0) {
    Value block = load2d(v, kvHead, j0, zero, bn, dvp);
    return pInValueType ? block : k.toF32(block);
  };

  // The scores of the key block at j0 (a product issued by the caller) to
  // the online softmax's next state, in the logits' units.
  struct SoftmaxStep {
    Value max, sum, p, correction;
  };
  auto softmaxStep = [&](Value scores, Value j0, Value runningMax,
                         Value runningSum) -> SoftmaxStep {
    // The logits, -inf where a key is not visible.
    if (maskArg) {
      // (scale s + mask) log2(e): the mask's load feeds the add directly,
      // so a GPU loads it at the scores' fragment positions.
      scores = k.addf(k.mulf(scores, k.splat(k.f32(options.scale), {bm, bn})),
                      k.toF32(load2d(maskArg, head, m0, j0, bm, bn)));
      scores = k.mulf(scores, k.splat(k.f32(llvm::numbers::log2e), {bm, bn}));
    } else {
      scores = k.mulf(scores, k.splat(k.f32(logitScale), {bm, bn}));
    }
    scores = k.select(visibleKeys(j0), scores, minusInfBlock);
    Value newMax = arith::MaximumFOp::create(
        builder, loc, runningMax, k.reduce(tile::CombineKind::Max, scores, 1));
    Value safeMax = safeMaximum(builder, loc, k, newMax, bm);
    Value p = k.exp2(k.subf(scores, rowsToBlock(safeMax, bn)));
    Value correction = k.exp2(k.subf(runningMax, safeMax));
    Value newSum = k.addf(k.mulf(runningSum, correction),
                          k.reduce(tile::CombineKind::Sum, p, 1));
    return {newMax, newSum, p, correction};
  };
  auto pForProduct = [&](Value p) { return pInValueType ? k.convert(p, valueType) : p; };
  auto scoresOf = [&](Value j0) {
    Value kBlock = k.transpose2d(load2d(kArg, kvHead, j0, zero, bn, dp));
    return tile::DotOp::create(builder, loc, f32Tile({bm, bn}), qBlock, kBlock,
                               k.splat(k.f32(0.0), {bm, bn}))
        .getResult();
  };

  scf::ForOp loop;
  // Only products that matrix cores run: K (the head dim) in whole k16
  // steps and N (the value head dim) at most 256, the instructions'
  // limits; elsewhere the overlap would cost a step and P's registers for
  // nothing (head dim 8: no wgmma; 512: P V on the vector units, spills).
  bool overlap = sizes.attentionOverlap && dp >= 16 && dvp <= 256;
  if (!overlap) {
    loop = scf::ForOp::create(
        builder, loc, lo, hi, k.index(bn), ValueRange{initMax, initSum, initAcc},
        [&](OpBuilder &, Location, Value j0, ValueRange carried) {
          SoftmaxStep step = softmaxStep(scoresOf(j0), j0, carried[0], carried[1]);
          Value newAcc = tile::DotOp::create(
              builder, loc, f32Tile({bm, dvp}), pForProduct(step.p), valueBlock(j0),
              k.mulf(carried[2], rowsToBlock(step.correction, dvp)));
          scf::YieldOp::create(builder, loc, ValueRange{step.max, step.sum, newAcc});
        });
  } else {
    // The products overlap the softmax: the step at j0 issues the scores
    // of block j0, then adds P V of the block before (P carried from the
    // previous step, its values loaded at max(j0 - bn, lo): the same step's
    // slot as the keys on a GPU; P = 0 at the first step), runs the
    // softmax of block j0 while that product runs, and then rescales the
    // accumulator, which holds every block before j0 in the units of the
    // previous maximum, to the new one. One more step past `hi` (every key
    // masked: p = 0, correction 1) adds the last P V.
    Type pType = pInValueType ? valueType : f32;
    Value initP = k.splat(arith::ConstantOp::create(builder, loc, builder.getFloatAttr(pType, 0.0)),
                          {bm, bn});
    Value anyKey = arith::CmpIOp::create(builder, loc, arith::CmpIPredicate::slt, lo, hi);
    Value upper = arith::SelectOp::create(builder, loc, anyKey, k.add(hi, k.index(bn)), hi);
    loop = scf::ForOp::create(
        builder, loc, lo, upper, k.index(bn),
        ValueRange{initMax, initSum, initAcc, initP},
        [&](OpBuilder &, Location, Value j0, ValueRange carried) {
          Value scores = scoresOf(j0);
          Value previous = k.maxSigned(k.sub(j0, k.index(bn)), lo);
          Value withPrevious = tile::DotOp::create(builder, loc, f32Tile({bm, dvp}),
                                                   carried[3], valueBlock(previous),
                                                   carried[2]);
          SoftmaxStep step = softmaxStep(scores, j0, carried[0], carried[1]);
          Value newAcc = k.mulf(withPrevious, rowsToBlock(step.correction, dvp));
          // (Rounded after the rescale, which waits for P V: written
          // before, the next P would take the registers of the P that
          // P V still reads, and ptxas serializes every wgmma.)
          scf::YieldOp::create(builder, loc,
                               ValueRange{step.max, step.sum, newAcc, pForProduct(step.p)});
        });
  }

  if (split) {
    // The part's accumulator as it is, its rows' maximum and sum: the
    // combine kernel divides.
    k.store(k.reshape(loop.getResult(2), {1, 1, 1, bm, dvp}), out,
            ValueRange{batch, head, part, m0, zero});
    k.store(k.reshape(loop.getResult(0), {1, 1, 1, 1, bm}), stats,
            ValueRange{batch, head, part, zero, m0});
    k.store(k.reshape(loop.getResult(1), {1, 1, 1, 1, bm}), stats,
            ValueRange{batch, head, part, k.index(1), m0});
    func::ReturnOp::create(builder, loc);
    return kernel;
  }

  // out = acc / l.
  Value result = divideBySum(builder, loc, k, loop.getResult(2), loop.getResult(1), bm, dvp);
  result = k.convert(result, output.getElementType());
  k.store(k.reshape(result, {1, 1, bm, dvp}), out,
          ValueRange{batch, head, m0, zero});
  func::ReturnOp::create(builder, loc);
  return kernel;
}

func::FuncOp buildAttentionCombineKernel(ModuleOp module, StringRef name, MemRefType partial,
                                         MemRefType partialStats, MemRefType output,
                                         int64_t parts, int64_t rows, int64_t valueHeadDim) {
  OpBuilder builder(module.getContext());
  func::FuncOp kernel =
      createKernel(builder, module, name, {partial, partialStats, output});
  KernelBuilder k(builder, kernel.getLoc());
  Location loc = kernel.getLoc();
  Value acc = kernel.getArgument(0), stats = kernel.getArgument(1),
        out = kernel.getArgument(2);
  const int64_t dvp = llvm::PowerOf2Ceil(valueHeadDim);
  SmallVector<Value> bh = k.delinearize(k.programId(tile::Axis::Y),
                                        {k.dim(out, 0), k.dim(out, 1)});
  Value batch = bh[0], head = bh[1];
  Value m0 = k.mul(k.programId(tile::Axis::X), k.index(rows));
  Value zero = k.index(0), one = k.index(1);
  Value minusInf = k.f32(-std::numeric_limits<double>::infinity());
  auto rowsToBlock = [&](Value rowValues) {
    return k.broadcast(k.reshape(rowValues, {rows, 1}), {rows, dvp});
  };
  // An online merge over the parts, as the attention kernel's over key
  // blocks: the running maximum M, sum L and accumulator, rescaled to each
  // new maximum (a safe 0 while no part has seen a key, so that a part
  // without keys, max -inf, weighs exactly 0). Rows past Sq load zeros
  // and are not stored.
  auto loop = scf::ForOp::create(
      builder, loc, zero, k.index(parts), one,
      ValueRange{k.splat(minusInf, {rows}), k.splat(k.f32(0.0), {rows}),
                 k.splat(k.f32(0.0), {rows, dvp})},
      [&](OpBuilder &, Location, Value p, ValueRange carried) {
        auto statsRow = [&](Value index) {
          return k.reshape(k.load(stats, ValueRange{batch, head, p, index, m0}, {1, 1, 1, 1, rows}),
                           {rows});
        };
        Value partMax = statsRow(zero), partSum = statsRow(one);
        Value partAcc = k.reshape(
            k.load(acc, ValueRange{batch, head, p, m0, zero}, {1, 1, 1, rows, dvp}),
            {rows, dvp});
        Value newMax = arith::MaximumFOp::create(builder, loc, carried[0], partMax);
        Value safeMax = safeMaximum(builder, loc, k, newMax, rows);
        Value before = k.exp2(k.subf(carried[0], safeMax));
        Value weight = k.exp2(k.subf(partMax, safeMax));
        Value sum = k.addf(k.mulf(carried[1], before), k.mulf(partSum, weight));
        Value merged = k.addf(k.mulf(carried[2], rowsToBlock(before)),
                              k.mulf(partAcc, rowsToBlock(weight)));
        scf::YieldOp::create(builder, loc, ValueRange{newMax, sum, merged});
      });
  Value result =
      divideBySum(builder, loc, k, loop.getResult(2), loop.getResult(1), rows, dvp);
  result = k.convert(result, output.getElementType());
  k.store(k.reshape(result, {1, 1, rows, dvp}), out, ValueRange{batch, head, m0, zero});
  func::ReturnOp::create(builder, loc);
  return kernel;
}

} // namespace prism::kernels
