//===- MatmulKernel.cpp - Blocked, batched matmul with an epilogue --------===//

#include "passes/KernelLibrary/KernelBuilder.h"
#include "passes/KernelLibrary/KernelLibrary.h"

#include "mlir/Dialect/SCF/IR/SCF.h"

using namespace mlir;

namespace prism::kernels {

func::FuncOp buildMatmulKernel(ModuleOp module, StringRef name,
                               const MatmulKernelSpec &spec,
                               const TileSizes &sizes) {
  assert((spec.rhs.size() == 1 || spec.rhs.size() == 2) &&
         (!spec.bias || spec.rhs.size() == 1) && "one or two rhs");
  OpBuilder builder(module.getContext());
  SmallVector<Type> argTypes = {spec.lhs};
  argTypes.append(spec.rhs.begin(), spec.rhs.end());
  if (spec.bias)
    argTypes.push_back(spec.bias);
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
  SmallVector<Value> epilogueArgs;
  for (size_t i = 0; i < spec.epilogue.operands.size(); ++i)
    epilogueArgs.push_back(kernel.getArgument(next++));
  Value out = kernel.getArgument(next++);
  int64_t rank = spec.output.getRank();
  int64_t bm = sizes.matmulM, bn = sizes.matmulN, bk = sizes.matmulK;
  bool transposeLhs = spec.transposeLhs, transposeRhs = spec.transposeRhs;
  Type accumulator = spec.accumulator;

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
  SmallVector<Value> init(rhs.size(), k.splat(zero, {bm, bn}));
  // One read of the lhs block per K step feeds every product.
  auto loop = scf::ForOp::create(
      builder, loc, k.index(0), kSize, k.index(bk), init,
      [&](OpBuilder &nested, Location nestedLoc, Value k0, ValueRange acc) {
        Value aBlock = transposeLhs
                           ? k.transpose2d(loadBlock(a, k0, m0, bk, bm))
                           : loadBlock(a, m0, k0, bm, bk);
        SmallVector<Value> next;
        for (auto [b, c] : llvm::zip(rhs, acc)) {
          Value bBlock = transposeRhs
                             ? k.transpose2d(loadBlock(b, n0, k0, bn, bk))
                             : loadBlock(b, k0, n0, bk, bn);
          next.push_back(tile::DotOp::create(nested, nestedLoc, c.getType(),
                                             aBlock, bBlock, c));
        }
        scf::YieldOp::create(nested, nestedLoc, next);
      });
  SmallVector<Value> computed(loop.getResults());
  if (biasArg) {
    SmallVector<int64_t> biasShape = {bn};
    Value biasTile = k.convert(k.load(biasArg, ValueRange{n0}, biasShape),
                               accumulator);
    computed[0] = arith::AddFOp::create(
        builder, loc, computed[0],
        k.broadcast(k.reshape(biasTile, {1, bn}), {bm, bn}));
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
  result = k.convert(result, spec.output.getElementType());
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
