//===- KernelBuilder.h - Writing tile kernels in C++ ------------*- C++ -*-===//
//
// The kernel library writes every prism op once, as a tile kernel, through
// this small vocabulary over OpBuilder. Nothing here knows a vendor: tile
// sizes come in as parameters chosen by the target backend.
//
//===----------------------------------------------------------------------===//

#ifndef PRISM_PASSES_KERNELLIBRARY_KERNELBUILDER_H
#define PRISM_PASSES_KERNELLIBRARY_KERNELBUILDER_H

#include "dialects/Tile/IR/TileOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"

namespace prism::kernels {

/// A memref type for a kernel argument: every size, stride and the offset
/// dynamic, except the innermost stride when it is known to be 1 (which lets
/// backends use contiguous vector loads).
mlir::MemRefType kernelMemRefType(mlir::MLIRContext *context, int64_t rank,
                                  mlir::Type elementType, bool unitInnermost);

/// Creates `func.func @name(argTypes...) attributes {tile.kernel}` at the end
/// of `module`, with an entry block; `builder` is left at its start.
mlir::func::FuncOp createKernel(mlir::OpBuilder &builder, mlir::ModuleOp module,
                                llvm::StringRef name,
                                llvm::ArrayRef<mlir::Type> argTypes);

class KernelBuilder {
public:
  KernelBuilder(mlir::OpBuilder &builder, mlir::Location loc)
      : b(builder), loc(loc) {}

  mlir::OpBuilder &builder() { return b; }
  mlir::Location location() const { return loc; }

  // Scalars.
  mlir::Value index(int64_t value);
  mlir::Value f32(double value);
  mlir::Value programId(tile::Axis axis);
  mlir::Value numPrograms(tile::Axis axis);
  mlir::Value dim(mlir::Value memref, int64_t dim);
  mlir::Value add(mlir::Value a, mlir::Value b);
  mlir::Value mul(mlir::Value a, mlir::Value b);
  mlir::Value ceilDiv(mlir::Value a, mlir::Value b);
  /// Signed index arithmetic (for bounds that may go negative).
  mlir::Value sub(mlir::Value a, mlir::Value b);
  mlir::Value maxSigned(mlir::Value a, mlir::Value b);
  mlir::Value minSigned(mlir::Value a, mlir::Value b);
  /// floor(a / b) * b for a >= 0.
  mlir::Value roundDown(mlir::Value a, int64_t b);
  /// An index converted to f32 (a runtime size used in arithmetic).
  mlir::Value indexToF32(mlir::Value value);
  /// Row-major indices of `linear` within `sizes` (outermost first).
  llvm::SmallVector<mlir::Value> delinearize(mlir::Value linear,
                                             llvm::ArrayRef<mlir::Value> sizes);
  /// The position of `program`'s block of columns in `memref`, whose first
  /// `rowDims` dimensions are rows and the next one columns tiled by
  /// `block`: the programs enumerate the rows row-major and, within each
  /// row, its ceil(columns / block) blocks (the launch's rowBlocksGrid).
  /// Returns the row's indices and then the block's first column.
  llvm::SmallVector<mlir::Value> rowBlockOf(mlir::Value program, mlir::Value memref,
                                            int64_t rowDims, int64_t block);

  // Tiles.
  mlir::Value splat(mlir::Value scalar, llvm::ArrayRef<int64_t> shape);
  mlir::Value load(mlir::Value memref, mlir::ValueRange indices,
                   llvm::ArrayRef<int64_t> shape, mlir::Value padding = {});
  void store(mlir::Value tile, mlir::Value memref, mlir::ValueRange indices);
  mlir::Value reshape(mlir::Value tile, llvm::ArrayRef<int64_t> shape);
  mlir::Value transpose2d(mlir::Value tile);
  mlir::Value broadcast(mlir::Value tile, llvm::ArrayRef<int64_t> shape);
  mlir::Value reduce(tile::CombineKind kind, mlir::Value tile, int64_t axis);
  /// Converts a tile exactly (or by rounding, when narrowing) to `element`,
  /// with prism.cast's rules for integers (round to nearest even, saturate,
  /// NaN to 0).
  mlir::Value convert(mlir::Value tile, mlir::Type element);
  mlir::Value toF32(mlir::Value tile);
  /// [offset, offset + size) as a 1-D index tile.
  mlir::Value iota(int64_t size, mlir::Value offset);
  /// Which of the columns [first, first + size) lie before `length` (an i1
  /// tile): the mask of a row chunk's tail.
  mlir::Value columnsBefore(mlir::Value length, int64_t size, mlir::Value first);
  /// An index tile converted to f32 (exact below 2^24).
  mlir::Value indexTileToF32(mlir::Value tile);
  /// An integer tile (i32, i64) converted to index (sign-extended, so a
  /// negative value is out of every bounds check).
  mlir::Value intTileToIndex(mlir::Value tile);
  mlir::Value select(mlir::Value condition, mlir::Value a, mlir::Value b);

  // Float tiles (and rank-0 tiles), same shapes.
  mlir::Value addf(mlir::Value a, mlir::Value b);
  mlir::Value subf(mlir::Value a, mlir::Value b);
  mlir::Value mulf(mlir::Value a, mlir::Value b);
  mlir::Value divf(mlir::Value a, mlir::Value b);
  mlir::Value exp(mlir::Value a);
  mlir::Value exp2(mlir::Value a);
  /// A float constant in the shape and type of `like`.
  mlir::Value constantLike(mlir::Value like, double value);

private:
  mlir::OpBuilder &b;
  mlir::Location loc;
};

} // namespace prism::kernels

#endif // PRISM_PASSES_KERNELLIBRARY_KERNELBUILDER_H
