//===- MatmulKernel.cpp - Blocked, batched matmul -------------------------===//

#include "passes/KernelLibrary/KernelBuilder.h"
#include "passes/KernelLibrary/KernelLibrary.h"

#include "mlir/Dialect/SCF/IR/SCF.h"

using namespace mlir;

namespace prism::kernels {

func::FuncOp buildMatmulKernel(ModuleOp module, StringRef name, MemRefType lhs,
                               MemRefType rhs, MemRefType bias,
                               MemRefType output, bool transposeLhs,
                               bool transposeRhs, Type accumulator,
                               const TileSizes &sizes) {
  OpBuilder builder(module.getContext());
  SmallVector<Type> argTypes = {lhs, rhs};
  if (bias)
    argTypes.push_back(bias);
  argTypes.push_back(output);
  func::FuncOp kernel = createKernel(builder, module, name, argTypes);
  KernelBuilder k(builder, kernel.getLoc());
  Location loc = kernel.getLoc();
  Value a = kernel.getArgument(0), b = kernel.getArgument(1);
  Value biasArg = bias ? kernel.getArgument(2) : Value();
  Value out = kernel.getArgument(bias ? 3 : 2);
  int64_t rank = output.getRank();
  int64_t bm = sizes.matmulM, bn = sizes.matmulN, bk = sizes.matmulK;

  // Program (x, y, z): rows [x*bm, ...), columns [y*bn, ...), batch z.
  SmallVector<Value> batchSizes;
  for (int64_t d = 0; d + 2 < rank; ++d)
    batchSizes.push_back(k.dim(out, d));
  SmallVector<Value> batch = k.delinearize(k.programId(tile::Axis::Z), batchSizes);
  Value m0 = k.mul(k.programId(tile::Axis::X), k.index(bm));
  Value n0 = k.mul(k.programId(tile::Axis::Y), k.index(bn));
  Value kSize = k.dim(a, transposeLhs ? rank - 2 : rank - 1);

  // A 2-D block [rows, cols] of a batched operand at (row, col).
  auto loadBlock = [&](Value memref, Value row, Value col, int64_t rows,
                       int64_t cols) {
    SmallVector<Value> position(batch.begin(), batch.end());
    position.push_back(row);
    position.push_back(col);
    SmallVector<int64_t> shape(rank, 1);
    shape[rank - 2] = rows;
    shape[rank - 1] = cols;
    return k.reshape(k.load(memref, position, shape), {rows, cols});
  };

  Value zero = arith::ConstantOp::create(builder, loc, accumulator,
                                         builder.getZeroAttr(accumulator));
  Value init = k.splat(zero, {bm, bn});
  auto loop = scf::ForOp::create(
      builder, loc, k.index(0), kSize, k.index(bk), ValueRange{init},
      [&](OpBuilder &nested, Location nestedLoc, Value k0, ValueRange acc) {
        Value aBlock = transposeLhs
                           ? k.transpose2d(loadBlock(a, k0, m0, bk, bm))
                           : loadBlock(a, m0, k0, bm, bk);
        Value bBlock = transposeRhs
                           ? k.transpose2d(loadBlock(b, n0, k0, bn, bk))
                           : loadBlock(b, k0, n0, bk, bn);
        Value next = tile::DotOp::create(nested, nestedLoc, acc[0].getType(),
                                         aBlock, bBlock, acc[0]);
        scf::YieldOp::create(nested, nestedLoc, next);
      });
  Value result = loop.getResult(0);
  if (biasArg) {
    SmallVector<int64_t> biasShape = {bn};
    Value biasTile = k.convert(k.load(biasArg, ValueRange{n0}, biasShape),
                               accumulator);
    result = arith::AddFOp::create(
        builder, loc, result,
        k.broadcast(k.reshape(biasTile, {1, bn}), {bm, bn}));
  }
  result = k.convert(result, output.getElementType());
  SmallVector<Value> position(batch.begin(), batch.end());
  position.push_back(m0);
  position.push_back(n0);
  SmallVector<int64_t> shape(rank, 1);
  shape[rank - 2] = bm;
  shape[rank - 1] = bn;
  k.store(k.reshape(result, shape), out, position);
  func::ReturnOp::create(builder, loc);
  return kernel;
}

} // namespace prism::kernels
