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

  // Program (x, y): columns [x * block, (x + 1) * block) of row y, where y
  // enumerates every index of the leading dimensions.
  int64_t block = sizes.elementwiseBlock;
  Value column = k.mul(k.programId(tile::Axis::X), k.index(block));
  SmallVector<Value> leadingSizes;
  for (int64_t d = 0; d + 1 < rank; ++d)
    leadingSizes.push_back(k.dim(out, d));
  SmallVector<Value> position =
      k.delinearize(k.programId(tile::Axis::Y), leadingSizes);
  position.push_back(column);

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
