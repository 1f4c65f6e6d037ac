//===- RopeKernel.cpp - Rotary position embedding -------------------------===//
//
// One program per token and block of rows along d2 (several heads of a
// token for bshd, whose angles it computes once and broadcasts; several
// tokens of a head for bhsd). The kernel sees the input and output as
// [d0, d1, d2, 2, D/2] views: element (.., 0, i) and (.., 1, i) form the
// rotated pair i. For neox the pair is (x[i], x[i + D/2]), a reshape view;
// for interleaved it is (x[2i], x[2i + 1]), a reshape to [.., D/2, 2] then a
// transpose view. So one kernel serves both styles, without copies.
//
//===----------------------------------------------------------------------===//

#include "passes/KernelLibrary/KernelBuilder.h"
#include "passes/KernelLibrary/KernelLibrary.h"

#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"

#include <cmath>

using namespace mlir;

namespace prism::kernels {

namespace {
constexpr int64_t kMinStackedColumns = 16;
} // namespace

RopeTiling ropeTiling(std::optional<int64_t> half, std::optional<int64_t> vectors,
                      const TileSizes &sizes) {
  RopeTiling tiling;
  tiling.columns = sizes.rowBlock;
  // Rows shorter than 16 pairs (32 bytes of bf16) are not stacked: Ascend's
  // vector unit addresses its buffers in 32-byte blocks.
  if (!half || llvm::PowerOf2Ceil(std::max<int64_t>(1, *half)) < kMinStackedColumns)
    return tiling;
  tiling.columns = std::min<int64_t>(tiling.columns, llvm::PowerOf2Ceil(*half));
  tiling.rows = std::max<int64_t>(1, sizes.elementwiseBlock / tiling.columns);
  if (vectors)
    tiling.rows =
        std::min<int64_t>(tiling.rows, llvm::PowerOf2Ceil(std::max<int64_t>(1, *vectors)));
  return tiling;
}

func::FuncOp buildRopeKernel(ModuleOp module, StringRef name, MemRefType input,
                             MemRefType positions, MemRefType cosTable,
                             MemRefType sinTable, MemRefType output,
                             int64_t sequenceDim, double theta, RopeTiling tiling) {
  assert(input.getRank() == 5 && positions.getRank() == 2);
  OpBuilder builder(module.getContext());
  SmallVector<Type> argTypes = {input, positions};
  bool tables = static_cast<bool>(cosTable);
  if (tables) {
    argTypes.push_back(cosTable);
    argTypes.push_back(sinTable);
  }
  argTypes.push_back(output);
  func::FuncOp kernel = createKernel(builder, module, name, argTypes);
  KernelBuilder k(builder, kernel.getLoc());
  Location loc = kernel.getLoc();
  Value x = kernel.getArgument(0), pos = kernel.getArgument(1);
  Value cosArg = tables ? kernel.getArgument(2) : Value();
  Value sinArg = tables ? kernel.getArgument(3) : Value();
  Value y = kernel.getArgument(tables ? 4 : 2);
  // A program rotates `rows` consecutive vectors along d2 (heads for bshd,
  // positions for bhsd: rows D elements apart), `columns` pairs at a time.
  int64_t columns = tiling.columns, rows = tiling.rows;
  // The larger of the two grid axes goes on x (whose limit is 2^31 - 1,
  // against 65535 for y): tokens for bshd, blocks of positions for bhsd.
  bool positionPerRow = sequenceDim == 2;
  tile::Axis outerAxis = positionPerRow ? tile::Axis::Y : tile::Axis::X;
  tile::Axis rowAxis = positionPerRow ? tile::Axis::X : tile::Axis::Y;
  SmallVector<Value> outer =
      k.delinearize(k.programId(outerAxis), {k.dim(y, 0), k.dim(y, 1)});
  Value firstRow = k.mul(k.programId(rowAxis), k.index(rows));
  Value half = k.dim(x, 4);
  // The positions of the rows: one for the program when the rows are
  // heads of a token (bshd), one per row when they are tokens (bhsd).
  Value position = positionPerRow
                       ? k.reshape(k.load(pos, ValueRange{outer[0], firstRow}, {1, rows}),
                                   {rows})
                       : k.reshape(k.load(pos, ValueRange{outer[0], outer[1]}, {1, 1}), {});
  // The angles' shape: [columns] broadcast over the rows, or [rows, columns].
  SmallVector<int64_t> angleShape =
      positionPerRow ? SmallVector<int64_t>{rows, columns} : SmallVector<int64_t>{columns};
  // The positions broadcast to the angles' shape.
  auto spread = [&](Value perPosition) {
    if (!positionPerRow)
      return k.broadcast(perPosition, angleShape);
    return k.broadcast(k.reshape(perPosition, {rows, 1}), angleShape);
  };

  Value tableRow;
  if (tables) {
    Value last = k.sub(k.dim(cosArg, 0), k.index(1));
    SmallVector<int64_t> positionShape =
        positionPerRow ? SmallVector<int64_t>{rows} : SmallVector<int64_t>{};
    Value row = k.intTileToIndex(position);
    row = arith::MinSIOp::create(
        builder, loc,
        arith::MaxSIOp::create(builder, loc, row, k.splat(k.index(0), positionShape)),
        k.splat(last, positionShape));
    tableRow = spread(row);
  }
  Value positionF32 =
      tables ? Value()
             : spread(arith::SIToFPOp::create(
                   builder, loc,
                   RankedTensorType::get(cast<RankedTensorType>(position.getType()).getShape(),
                                         builder.getF32Type()),
                   position));
  Value headDim = k.indexToF32(k.mul(half, k.index(2)));
  // (cos, sin) of pairs [first, first + columns), f32 tiles of angleShape.
  auto angles = [&](Value first) -> std::pair<Value, Value> {
    Value pairs = k.broadcast(k.iota(columns, first), angleShape);
    if (tables) {
      auto gather = [&](Value table) {
        Value t = tile::GatherOp::create(
            builder, loc,
            RankedTensorType::get(angleShape,
                                  cast<MemRefType>(table.getType()).getElementType()),
            table, ValueRange{tableRow, pairs}, Value());
        return k.toF32(t);
      };
      return {gather(cosArg), gather(sinArg)};
    }
    // inv_freq[i] = theta^(-2i/D) = exp(-(2i/D) ln theta).
    Value exponent = k.divf(k.mulf(k.indexTileToF32(pairs),
                                   k.splat(k.f32(-2.0 * std::log(theta)), angleShape)),
                            k.splat(headDim, angleShape));
    Value angle = k.mulf(positionF32, k.exp(exponent));
    return {math::CosOp::create(builder, loc, angle).getResult(),
            math::SinOp::create(builder, loc, angle).getResult()};
  };

  SmallVector<int64_t> shape = {1, 1, rows, 1, columns};
  auto at = [&](int64_t member, Value first) {
    return SmallVector<Value>{outer[0], outer[1], firstRow, k.index(member), first};
  };
  Type element = output.getElementType();
  scf::ForOp::create(
      builder, loc, k.index(0), half, k.index(columns), ValueRange{},
      [&](OpBuilder &, Location, Value first, ValueRange) {
        auto [c, s] = angles(first);
        // Computed once per column for a program's heads, then broadcast.
        c = k.broadcast(c, {rows, columns});
        s = k.broadcast(s, {rows, columns});
        Value a = k.reshape(k.toF32(k.load(x, at(0, first), shape)), {rows, columns});
        Value b = k.reshape(k.toF32(k.load(x, at(1, first), shape)), {rows, columns});
        Value ra = k.subf(k.mulf(a, c), k.mulf(b, s));
        Value rb = k.addf(k.mulf(b, c), k.mulf(a, s));
        k.store(k.reshape(k.convert(ra, element), shape), y, at(0, first));
        k.store(k.reshape(k.convert(rb, element), shape), y, at(1, first));
        scf::YieldOp::create(builder, loc);
      });
  func::ReturnOp::create(builder, loc);
  return kernel;
}

} // namespace prism::kernels
