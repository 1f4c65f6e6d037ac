//===- ElementwiseKernel.cpp - One kernel for every elementwise op --------===//

#include "passes/KernelLibrary/KernelBuilder.h"
#include "passes/KernelLibrary/KernelLibrary.h"

using namespace mlir;

namespace prism::kernels {

namespace {

/// out = body(sum over the splits of each partial..., inputs...): the
/// element-wise kernel, with split-K partials (none: the plain kernel).
func::FuncOp buildKernel(ModuleOp module, StringRef name, ArrayRef<MemRefType> partials,
                         int64_t splits, ArrayRef<MemRefType> inputs, MemRefType output,
                         const ElementwiseBody &body, const TileSizes &sizes) {
  OpBuilder builder(module.getContext());
  SmallVector<Type> argTypes(partials.begin(), partials.end());
  argTypes.append(inputs.begin(), inputs.end());
  argTypes.push_back(output);
  func::FuncOp kernel = createKernel(builder, module, name, argTypes);
  KernelBuilder k(builder, kernel.getLoc());
  Value out = kernel.getArgument(argTypes.size() - 1);
  int64_t rank = output.getRank();

  // Program x: a block of columns [c * block, (c + 1) * block) of one row,
  // x enumerating the rows (every index of the leading dimensions) and
  // within each its blocks (the launch's rowBlocksGrid).
  int64_t block = sizes.elementwiseBlock;
  SmallVector<Value> position = k.rowBlockOf(k.programId(tile::Axis::X), out, rank - 1, block);

  SmallVector<int64_t> shape(rank, 1);
  shape.back() = block;
  SmallVector<Value> operands;
  // A partial's parts in order: the sum a one-program matmul would make,
  // up to the rounding of its parts.
  SmallVector<int64_t> partShape(rank + 1, 1);
  partShape.back() = block;
  for (size_t i = 0; i < partials.size(); ++i) {
    Value sum;
    for (int64_t s = 0; s < splits; ++s) {
      SmallVector<Value> at = {k.index(s)};
      at.append(position.begin(), position.end());
      Value part = k.reshape(k.load(kernel.getArgument(i), at, partShape), {block});
      sum = sum ? k.addf(sum, part) : part;
    }
    operands.push_back(sum);
  }
  for (size_t i = 0; i < inputs.size(); ++i)
    operands.push_back(k.reshape(
        k.toF32(k.load(kernel.getArgument(partials.size() + i), position, shape)), {block}));
  Value result = body(k, operands);
  result = k.convert(result, output.getElementType());
  k.store(k.reshape(result, shape), out, position);
  func::ReturnOp::create(builder, kernel.getLoc());
  return kernel;
}

} // namespace

func::FuncOp buildElementwiseKernel(ModuleOp module, StringRef name,
                                    ArrayRef<MemRefType> inputs,
                                    MemRefType output,
                                    const ElementwiseBody &body,
                                    const TileSizes &sizes) {
  return buildKernel(module, name, {}, 1, inputs, output, body, sizes);
}

func::FuncOp buildSplitSumKernel(ModuleOp module, StringRef name,
                                 ArrayRef<MemRefType> partials, int64_t splits,
                                 ArrayRef<MemRefType> inputs, MemRefType output,
                                 const ElementwiseBody &body, const TileSizes &sizes) {
  assert(splits >= 1 && !partials.empty() && "split-K partials");
  return buildKernel(module, name, partials, splits, inputs, output, body, sizes);
}

} // namespace prism::kernels
