//===- RopeKernel.cpp - Rotary position embedding -------------------------===//
//
// One program per head vector. The kernel sees the input and output as
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

func::FuncOp buildRopeKernel(ModuleOp module, StringRef name, MemRefType input,
                             MemRefType positions, MemRefType cosTable,
                             MemRefType sinTable, MemRefType output,
                             int64_t sequenceDim, double theta,
                             const TileSizes &sizes) {
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
  int64_t block = sizes.forOperands({input, output}).rowBlock;

  SmallVector<Value> head = k.delinearize(
      k.programId(tile::Axis::X), {k.dim(y, 0), k.dim(y, 1), k.dim(y, 2)});
  Value half = k.dim(x, 4);
  // This token's position, as a rank-0 tile.
  Value position = k.reshape(
      k.load(pos, ValueRange{head[0], head[sequenceDim]}, {1, 1}), {});

  // Angles of pairs [first, first + block): (cos, sin), f32 tiles.
  Value tableRow;
  if (tables) {
    Value rows = k.dim(cosArg, 0);
    Value last = k.splat(k.sub(rows, k.index(1)), {});
    Value row = k.intTileToIndex(position);
    row = arith::MinSIOp::create(
        builder, loc,
        arith::MaxSIOp::create(builder, loc, row, k.splat(k.index(0), {})),
        last);
    tableRow = k.broadcast(row, {block});
  }
  Value positionF32 = tables ? Value()
                             : k.broadcast(arith::SIToFPOp::create(
                                               builder, loc,
                                               RankedTensorType::get(
                                                   {}, builder.getF32Type()),
                                               position),
                                           {block});
  Value headDim = k.indexToF32(k.mul(half, k.index(2)));
  auto angles = [&](Value first) -> std::pair<Value, Value> {
    Value pairs = k.iota(block, first);
    if (tables) {
      auto gather = [&](Value table) {
        Value t = tile::GatherOp::create(
            builder, loc,
            RankedTensorType::get(
                {block}, cast<MemRefType>(table.getType()).getElementType()),
            table, ValueRange{tableRow, pairs}, Value());
        return k.toF32(t);
      };
      return {gather(cosArg), gather(sinArg)};
    }
    // inv_freq[i] = theta^(-2i/D) = exp(-(2i/D) ln theta).
    Value exponent = k.divf(k.mulf(k.indexTileToF32(pairs),
                                   k.splat(k.f32(-2.0 * std::log(theta)), {block})),
                            k.splat(headDim, {block}));
    Value angle = k.mulf(positionF32, k.exp(exponent));
    return {math::CosOp::create(builder, loc, angle).getResult(),
            math::SinOp::create(builder, loc, angle).getResult()};
  };

  SmallVector<int64_t> shape = {1, 1, 1, 1, block};
  auto at = [&](int64_t member, Value first) {
    return SmallVector<Value>{head[0], head[1], head[2], k.index(member), first};
  };
  Type element = output.getElementType();
  scf::ForOp::create(
      builder, loc, k.index(0), half, k.index(block), ValueRange{},
      [&](OpBuilder &, Location, Value first, ValueRange) {
        auto [c, s] = angles(first);
        Value a = k.reshape(k.toF32(k.load(x, at(0, first), shape)), {block});
        Value b = k.reshape(k.toF32(k.load(x, at(1, first), shape)), {block});
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
