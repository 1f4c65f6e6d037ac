//===- KernelBuilder.cpp - Writing tile kernels in C++ --------------------===//

#include "passes/KernelLibrary/KernelBuilder.h"
#include "passes/KernelLibrary/KernelLibrary.h"

#include "mlir/Dialect/Math/IR/Math.h"
#include "llvm/Support/MathExtras.h"

using namespace mlir;

namespace prism::kernels {

TileSizes TileSizes::forOperands(ArrayRef<MemRefType> operands) const {
  TileSizes result = *this;
  for (MemRefType type : operands) {
    if (!type || type.getRank() == 0)
      continue;
    auto [strides, offset] = type.getStridesAndOffset();
    if (strides.back() != 1) {
      result.elementwiseBlock = std::min(elementwiseBlock, stridedBlock);
      result.rowBlock = std::min(rowBlock, stridedBlock);
      // A strided row is read element by element in short chunks: whole
      // only if the strided chunk still holds it.
      result.wholeRow = result.wholeRow && result.rowBlock == rowBlock;
    }
  }
  return result;
}

TileSizes TileSizes::forRow(std::optional<int64_t> length) const {
  TileSizes result = *this;
  if (length && *length >= 1 && *length <= wholeRowMax) {
    result.rowBlock = std::max<int64_t>(rowBlock, llvm::PowerOf2Ceil(*length));
    result.wholeRow = true;
  }
  return result;
}

TileSizes TileSizes::forProductsOf(Type element, int64_t headDim,
                                   std::optional<int64_t> rows) const {
  TileSizes result = *this;
  bool matrixCore = isMatrixCoreOperand(element);
  auto use = [](int64_t &size, int64_t matrixCore) {
    if (matrixCore > 0)
      size = matrixCore;
  };
  if (matrixCore) {
    use(result.matmulM, matrixCoreMatmulM);
    use(result.matmulN, matrixCoreMatmulN);
    use(result.matmulK, matrixCoreMatmulK);
  }
  if (int64_t minRows = minMatmulRows(element); rows && *rows >= 1 && minRows > 0) {
    int64_t needed =
        std::max<int64_t>(static_cast<int64_t>(llvm::PowerOf2Ceil(*rows)), minRows);
    while (result.matmulM / 2 >= needed)
      result.matmulM /= 2;
  }
  if (!matrixCore)
    return result;
  use(result.attentionM, matrixCoreAttentionM);
  use(result.attentionN, matrixCoreAttentionN);
  if (rows && *rows >= 1 && matrixCoreAttentionM > 0 && matrixCoreMinM > 0) {
    int64_t needed = std::max<int64_t>(static_cast<int64_t>(llvm::PowerOf2Ceil(*rows)),
                                       matrixCoreMinM);
    while (result.attentionM / 2 >= needed)
      result.attentionM /= 2;
  }
  // (Only with the target's matrix-core tiles: tiles chosen by hand for
  // every product, "attention-m=16", clear matrixCoreAttentionM.)
  if (matrixCoreAttentionOverlap && matrixCoreAttentionM > 0)
    result.attentionOverlap = true;
  int64_t padded = headDim > 0 ? static_cast<int64_t>(llvm::PowerOf2Ceil(headDim)) : 0;
  // Keys in whole k16 steps (a staged operand's rows), at least 16; past
  // 256 the queries' accumulator itself outgrows the registers, so the
  // query tile shrinks too (a warpgroup's 64 rows at least on wgmma, 16 on
  // mma.sync: whatever the target's lowering takes).
  if (matrixCoreAttentionN > 0 && padded > 128)
    result.attentionN = std::max<int64_t>(
        static_cast<int64_t>(llvm::alignDown(matrixCoreAttentionN * 128 / padded, 16)), 16);
  if (matrixCoreAttentionM > 0 && padded > 256)
    result.attentionM = std::min(result.attentionM,
                                 std::max<int64_t>(matrixCoreAttentionM * 256 / padded, 16));
  return result;
}

MemRefType kernelMemRefType(MLIRContext *context, int64_t rank, Type element,
                            bool unitInnermost) {
  SmallVector<int64_t> strides(rank, ShapedType::kDynamic);
  if (unitInnermost && rank > 0)
    strides.back() = 1;
  auto layout =
      StridedLayoutAttr::get(context, ShapedType::kDynamic, strides);
  return MemRefType::get(SmallVector<int64_t>(rank, ShapedType::kDynamic),
                         element, layout);
}

func::FuncOp createKernel(OpBuilder &builder, ModuleOp module, StringRef name,
                          ArrayRef<Type> argTypes) {
  builder.setInsertionPointToEnd(module.getBody());
  auto type = builder.getFunctionType(argTypes, {});
  auto kernel = func::FuncOp::create(builder, module.getLoc(), name, type);
  kernel->setAttr(tile::TileDialect::getKernelAttrName(), builder.getUnitAttr());
  Block *entry = kernel.addEntryBlock();
  builder.setInsertionPointToStart(entry);
  return kernel;
}

Value KernelBuilder::index(int64_t value) {
  return arith::ConstantIndexOp::create(b, loc, value);
}

Value KernelBuilder::f32(double value) {
  return arith::ConstantOp::create(b, loc, b.getF32Type(),
                                   b.getF32FloatAttr(static_cast<float>(value)));
}

Value KernelBuilder::programId(tile::Axis axis) {
  return tile::ProgramIdOp::create(b, loc, b.getIndexType(), axis);
}

Value KernelBuilder::numPrograms(tile::Axis axis) {
  return tile::NumProgramsOp::create(b, loc, b.getIndexType(), axis);
}

Value KernelBuilder::dim(Value memref, int64_t d) {
  return memref::DimOp::create(b, loc, memref, d);
}

Value KernelBuilder::add(Value x, Value y) {
  return arith::AddIOp::create(b, loc, x, y);
}

Value KernelBuilder::mul(Value x, Value y) {
  return arith::MulIOp::create(b, loc, x, y);
}

Value KernelBuilder::ceilDiv(Value x, Value y) {
  return arith::CeilDivUIOp::create(b, loc, x, y);
}

Value KernelBuilder::sub(Value x, Value y) {
  return arith::SubIOp::create(b, loc, x, y);
}

Value KernelBuilder::maxSigned(Value x, Value y) {
  return arith::MaxSIOp::create(b, loc, x, y);
}

Value KernelBuilder::minSigned(Value x, Value y) {
  return arith::MinSIOp::create(b, loc, x, y);
}

Value KernelBuilder::roundDown(Value x, int64_t multiple) {
  return mul(arith::DivUIOp::create(b, loc, x, index(multiple)), index(multiple));
}

Value KernelBuilder::indexToF32(Value value) {
  Value i64 = arith::IndexCastOp::create(b, loc, b.getI64Type(), value);
  return arith::SIToFPOp::create(b, loc, b.getF32Type(), i64);
}

SmallVector<Value> KernelBuilder::delinearize(Value linear,
                                              ArrayRef<Value> sizes) {
  SmallVector<Value> indices(sizes.size());
  for (int64_t d = static_cast<int64_t>(sizes.size()) - 1; d >= 0; --d) {
    indices[d] = arith::RemUIOp::create(b, loc, linear, sizes[d]);
    if (d > 0)
      linear = arith::DivUIOp::create(b, loc, linear, sizes[d]);
  }
  return indices;
}

SmallVector<Value> KernelBuilder::rowBlockOf(Value program, Value memref, int64_t rowDims,
                                             int64_t block) {
  SmallVector<Value> sizes;
  for (int64_t d = 0; d < rowDims; ++d)
    sizes.push_back(dim(memref, d));
  // (columns + block - 1) / block: the plain ops every backend lowers.
  sizes.push_back(arith::DivUIOp::create(
      b, loc, add(dim(memref, rowDims), index(block - 1)), index(block)));
  SmallVector<Value> position = delinearize(program, sizes);
  position.back() = mul(position.back(), index(block));
  return position;
}

Value KernelBuilder::splat(Value scalar, ArrayRef<int64_t> shape) {
  return tile::SplatOp::create(b, loc,
                               RankedTensorType::get(shape, scalar.getType()),
                               scalar);
}

Value KernelBuilder::load(Value memref, ValueRange indices,
                          ArrayRef<int64_t> shape, Value padding) {
  auto element = cast<MemRefType>(memref.getType()).getElementType();
  return tile::LoadOp::create(b, loc, RankedTensorType::get(shape, element),
                              memref, indices, padding);
}

void KernelBuilder::store(Value tileValue, Value memref, ValueRange indices) {
  tile::StoreOp::create(b, loc, tileValue, memref, indices, Value());
}

Value KernelBuilder::reshape(Value t, ArrayRef<int64_t> shape) {
  auto type = cast<RankedTensorType>(t.getType());
  if (type.getShape() == shape)
    return t;
  return tile::ReshapeOp::create(
      b, loc, RankedTensorType::get(shape, type.getElementType()), t);
}

Value KernelBuilder::transpose2d(Value t) {
  auto type = cast<RankedTensorType>(t.getType());
  auto result = RankedTensorType::get({type.getDimSize(1), type.getDimSize(0)},
                                      type.getElementType());
  return tile::TransposeOp::create(b, loc, result, t,
                                   b.getDenseI64ArrayAttr({1, 0}));
}

Value KernelBuilder::broadcast(Value t, ArrayRef<int64_t> shape) {
  auto type = cast<RankedTensorType>(t.getType());
  if (type.getShape() == shape)
    return t;
  return tile::BroadcastOp::create(
      b, loc, RankedTensorType::get(shape, type.getElementType()), t);
}

Value KernelBuilder::reduce(tile::CombineKind kind, Value t, int64_t axis) {
  auto type = cast<RankedTensorType>(t.getType());
  SmallVector<int64_t> shape(type.getShape());
  shape.erase(shape.begin() + axis);
  return tile::ReduceOp::create(
      b, loc, RankedTensorType::get(shape, type.getElementType()), kind, t,
      static_cast<uint64_t>(axis));
}

Value KernelBuilder::convert(Value t, Type element) {
  auto type = cast<RankedTensorType>(t.getType());
  Type from = type.getElementType();
  if (from == element)
    return t;
  auto target = RankedTensorType::get(type.getShape(), element);
  if (isa<FloatType>(from) && isa<FloatType>(element)) {
    if (from.getIntOrFloatBitWidth() < element.getIntOrFloatBitWidth())
      return arith::ExtFOp::create(b, loc, target, t);
    return arith::TruncFOp::create(b, loc, target, t);
  }
  if (from.isSignlessInteger(8) && isa<FloatType>(element))
    return arith::SIToFPOp::create(b, loc, target, t);
  if (isa<FloatType>(from) && element.isSignlessInteger(8)) {
    // Round to nearest even, saturate to [-128, 127], NaN -> 0.
    Value x = toF32(t);
    auto shape = type.getShape();
    Value rounded = math::RoundEvenOp::create(b, loc, x);
    Value low = splat(f32(-128.0), shape), high = splat(f32(127.0), shape);
    Value clamped = arith::MinimumFOp::create(
        b, loc, arith::MaximumFOp::create(b, loc, rounded, low), high);
    Value isNan = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::UNO, x, x);
    Value safe = arith::SelectOp::create(b, loc, isNan, splat(f32(0.0), shape),
                                         clamped);
    return arith::FPToSIOp::create(b, loc, target, safe);
  }
  llvm_unreachable("conversion between unsupported element types");
}

Value KernelBuilder::toF32(Value t) { return convert(t, b.getF32Type()); }

Value KernelBuilder::iota(int64_t size, Value offset) {
  auto type = RankedTensorType::get({size}, b.getIndexType());
  Value range = tile::IotaOp::create(b, loc, type);
  return arith::AddIOp::create(b, loc, range, splat(offset, {size}));
}

Value KernelBuilder::columnsBefore(Value length, int64_t size, Value first) {
  return arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult,
                               iota(size, first), splat(length, {size}));
}

Value KernelBuilder::indexTileToF32(Value t) {
  auto shape = cast<RankedTensorType>(t.getType()).getShape();
  Value i64 = arith::IndexCastOp::create(
      b, loc, RankedTensorType::get(shape, b.getI64Type()), t);
  return arith::SIToFPOp::create(
      b, loc, RankedTensorType::get(shape, b.getF32Type()), i64);
}

Value KernelBuilder::intTileToIndex(Value t) {
  auto shape = cast<RankedTensorType>(t.getType()).getShape();
  return arith::IndexCastOp::create(
      b, loc, RankedTensorType::get(shape, b.getIndexType()), t);
}

Value KernelBuilder::select(Value condition, Value x, Value y) {
  return arith::SelectOp::create(b, loc, condition, x, y);
}

Value KernelBuilder::addf(Value x, Value y) {
  return arith::AddFOp::create(b, loc, x, y);
}
Value KernelBuilder::subf(Value x, Value y) {
  return arith::SubFOp::create(b, loc, x, y);
}
Value KernelBuilder::mulf(Value x, Value y) {
  return arith::MulFOp::create(b, loc, x, y);
}
Value KernelBuilder::divf(Value x, Value y) {
  return arith::DivFOp::create(b, loc, x, y);
}
Value KernelBuilder::exp(Value x) { return math::ExpOp::create(b, loc, x); }
Value KernelBuilder::exp2(Value x) { return math::Exp2Op::create(b, loc, x); }

Value KernelBuilder::constantLike(Value like, double value) {
  auto type = cast<RankedTensorType>(like.getType());
  Value scalar = arith::ConstantOp::create(
      b, loc, type.getElementType(),
      b.getFloatAttr(type.getElementType(), value));
  return splat(scalar, type.getShape());
}

} // namespace prism::kernels
