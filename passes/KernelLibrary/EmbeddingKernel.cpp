//===- EmbeddingKernel.cpp - Row gather from a table ----------------------===//

#include "passes/KernelLibrary/KernelBuilder.h"
#include "passes/KernelLibrary/KernelLibrary.h"

using namespace mlir;

namespace prism::kernels {

func::FuncOp buildEmbeddingKernel(ModuleOp module, StringRef name,
                                  MemRefType table, MemRefType indices,
                                  MemRefType output, const TileSizes &sizes) {
  OpBuilder builder(module.getContext());
  func::FuncOp kernel =
      createKernel(builder, module, name, {table, indices, output});
  KernelBuilder k(builder, kernel.getLoc());
  Location loc = kernel.getLoc();
  Value t = kernel.getArgument(0), ids = kernel.getArgument(1),
        out = kernel.getArgument(2);
  int64_t rank = indices.getRank(), block = sizes.elementwiseBlock;

  // Program x: columns [c * block, ...) of the row of one index (the
  // output's leading dimensions are the indices' shape).
  SmallVector<Value> position = k.rowBlockOf(k.programId(tile::Axis::X), out, rank, block);
  Value column = position.pop_back_val();

  // The gather's bounds check turns an index outside [0, V) (negative ones
  // included: they are sign-extended) into a row of zeros.
  Value id = k.reshape(k.load(ids, position, SmallVector<int64_t>(rank, 1)), {});
  Value rows = k.broadcast(k.intTileToIndex(id), {block});
  Value row = tile::GatherOp::create(
      builder, loc, RankedTensorType::get({block}, table.getElementType()), t,
      ValueRange{rows, k.iota(block, column)}, Value());

  position.push_back(column);
  SmallVector<int64_t> shape(rank + 1, 1);
  shape.back() = block;
  k.store(k.reshape(k.convert(row, output.getElementType()), shape), out,
          position);
  func::ReturnOp::create(builder, loc);
  return kernel;
}

} // namespace prism::kernels
