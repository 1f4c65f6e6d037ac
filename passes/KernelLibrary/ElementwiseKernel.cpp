//===- ElementwiseKernel.cpp - One kernel for every elementwise op --------===//

#include "passes/KernelLibrary/KernelBuilder.h"
#include "passes/KernelLibrary/KernelLibrary.h"

using namespace mlir;

namespace prism::kernels {

func::FuncOp buildElementwiseKernel(ModuleOp module, StringRef name,
                                    ArrayRef<MemRefType> inputs,
                                    MemRefType output,
                                    const ElementwiseBody &body,
                                    const TileSizes &sizes) {
  OpBuilder builder(module.getContext());
  SmallVector<Type> argTypes(inputs.begin(), inputs.end());
  argTypes.push_back(output);
  func::FuncOp kernel = createKernel(builder, module, name, argTypes);
  KernelBuilder k(builder, kernel.getLoc());
  Value out = kernel.getArgument(inputs.size());
  int64_t rank = output.getRank();

  // Program x: a block of columns [c * block, (c + 1) * block) of one row,
  // x enumerating the rows (every index of the leading dimensions) and
  // within each its blocks (the launch's rowBlocksGrid).
  int64_t block = sizes.elementwiseBlock;
  SmallVector<Value> position = k.rowBlockOf(k.programId(tile::Axis::X), out, rank - 1, block);

  SmallVector<int64_t> shape(rank, 1);
  shape.back() = block;
  SmallVector<Value> operands;
  for (size_t i = 0; i < inputs.size(); ++i)
    operands.push_back(k.reshape(
        k.toF32(k.load(kernel.getArgument(i), position, shape)), {block}));
  Value result = body(k, operands);
  result = k.convert(result, output.getElementType());
  k.store(k.reshape(result, shape), out, position);
  func::ReturnOp::create(builder, kernel.getLoc());
  return kernel;
}

} // namespace prism::kernels
