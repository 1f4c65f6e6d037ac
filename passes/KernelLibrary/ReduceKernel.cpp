//===- ReduceKernel.cpp - sum, mean, max, min over trailing axes ----------===//
//
// One program per output element. The reduced dims are the trailing ones of
// the input view (kernelization transposes the reduced axes there); all but
// the last are walked by a loop over their linear index, the last in chunks
// of `rowBlock` with the tail masked to the combiner's identity. Sums are
// kept per lane in f32 and the lanes are combined at the end (a blocked
// order, as the op's description allows).
//
//===----------------------------------------------------------------------===//

#include "passes/KernelLibrary/KernelBuilder.h"
#include "passes/KernelLibrary/KernelLibrary.h"

#include "mlir/Dialect/SCF/IR/SCF.h"

#include <limits>

using namespace mlir;

namespace prism::kernels {

func::FuncOp buildReduceKernel(ModuleOp module, StringRef name,
                               ReduceCombiner combiner, MemRefType input,
                               MemRefType output, int64_t reducedRank,
                               const TileSizes &sizes) {
  OpBuilder builder(module.getContext());
  func::FuncOp kernel = createKernel(builder, module, name, {input, output});
  KernelBuilder k(builder, kernel.getLoc());
  Location loc = kernel.getLoc();
  Value x = kernel.getArgument(0), y = kernel.getArgument(1);
  int64_t rank = input.getRank(), keptRank = output.getRank();
  int64_t block = sizes.forOperands({input}).rowBlock;
  assert(keptRank + reducedRank == rank && "reduced dims must be trailing");

  SmallVector<Value> outputSizes;
  for (int64_t d = 0; d < keptRank; ++d)
    outputSizes.push_back(k.dim(y, d));
  SmallVector<Value> kept =
      k.delinearize(k.programId(tile::Axis::X), outputSizes);

  // The reduced dims but the last, walked by their linear index.
  SmallVector<Value> outerSizes;
  Value outerCount = k.index(1);
  for (int64_t d = keptRank; d + 1 < rank; ++d) {
    outerSizes.push_back(k.dim(x, d));
    outerCount = k.mul(outerCount, outerSizes.back());
  }
  Value length = k.dim(x, rank - 1);

  double identity = 0.0;
  tile::CombineKind kind = tile::CombineKind::Sum;
  if (combiner == ReduceCombiner::Max) {
    identity = -std::numeric_limits<double>::infinity();
    kind = tile::CombineKind::Max;
  } else if (combiner == ReduceCombiner::Min) {
    identity = std::numeric_limits<double>::infinity();
    kind = tile::CombineKind::Min;
  }
  Value identities = k.splat(k.f32(identity), {block});
  auto combine = [&](Value a, Value b) -> Value {
    switch (combiner) {
    case ReduceCombiner::Sum:
    case ReduceCombiner::Mean:
      return k.addf(a, b);
    case ReduceCombiner::Max:
      return arith::MaximumFOp::create(builder, loc, a, b);
    case ReduceCombiner::Min:
      return arith::MinimumFOp::create(builder, loc, a, b);
    }
    llvm_unreachable("unknown combiner");
  };

  SmallVector<int64_t> chunkShape(rank, 1);
  chunkShape.back() = block;
  auto outer = scf::ForOp::create(
      builder, loc, k.index(0), outerCount, k.index(1), ValueRange{identities},
      [&](OpBuilder &, Location, Value outerIndex, ValueRange outerCarried) {
        SmallVector<Value> prefix(kept);
        llvm::append_range(prefix, k.delinearize(outerIndex, outerSizes));
        auto inner = scf::ForOp::create(
            builder, loc, k.index(0), length, k.index(block), outerCarried,
            [&](OpBuilder &, Location, Value column, ValueRange carried) {
              SmallVector<Value> position(prefix);
              position.push_back(column);
              Value chunk = k.reshape(
                  k.toF32(k.load(x, position, chunkShape)), {block});
              chunk = k.select(k.columnsBefore(length, block, column), chunk,
                               identities);
              scf::YieldOp::create(builder, loc, combine(carried[0], chunk));
            });
        scf::YieldOp::create(builder, loc, inner.getResults());
      });

  Value result = k.reduce(kind, outer.getResult(0), 0);
  if (combiner == ReduceCombiner::Mean) {
    Value count = k.mul(outerCount, length);
    result = k.divf(result, k.splat(k.indexToF32(count), {}));
  }
  result = k.convert(result, output.getElementType());
  k.store(k.reshape(result, SmallVector<int64_t>(keptRank, 1)), y, kept);
  func::ReturnOp::create(builder, loc);
  return kernel;
}

} // namespace prism::kernels
