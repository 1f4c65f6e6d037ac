//===- WarpgroupMma.cpp - tile.dot as wgmma.mma_async on sm_90a -----------===//

#include "targets/nvidia/WarpgroupMma.h"

#include "dialects/Tile/Utils/MemoryAccess.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

using namespace mlir;
using namespace prism::gpu_lowering;

namespace prism::nvidia {

bool fitsWarpgroupMma(tile::DotOp dot, int64_t threads, bool aTransposed,
                      bool bTransposed) {
  auto lhs = cast<RankedTensorType>(dot.getLhs().getType());
  auto result = cast<RankedTensorType>(dot.getType());
  Type element = lhs.getElementType();
  int64_t m = result.getDimSize(0), n = result.getDimSize(1), k = lhs.getDimSize(1);
  return threads == 128 && m == 64 && n % 8 == 0 && n >= 8 && n <= 256 &&
         k % 16 == 0 && !aTransposed && bTransposed &&
         (element.isBF16() || element.isF16()) &&
         cast<RankedTensorType>(dot.getRhs().getType()).getElementType() == element &&
         result.getElementType().isF32();
}

Value matrixDescriptor(OpBuilder &b, Location loc, Value address, int64_t rowLength,
                       int64_t swizzleBytes) {
  Type i64 = b.getI64Type();
  auto constant = [&](int64_t v) -> Value {
    return arith::ConstantOp::create(b, loc, i64, b.getI64IntegerAttr(v));
  };
  // Bits 0-13: (address & 0x3FFFF) >> 4; 16-29: leading-dimension byte
  // offset >> 4; 32-45: stride-dimension byte offset >> 4; 49-51: base
  // offset (0: every swizzled block is 1024-byte aligned); 62-63: the
  // layout (0 none, 1 128-byte, 2 64-byte, 3 32-byte swizzle).
  // No swizzle: K-adjacent core matrices 128 bytes apart, row groups 8
  // rows of rowLength elements. Swizzled: rows of S bytes, row groups 8 S
  // apart; the leading offset is not used for K-major operands (1).
  Value start = arith::ShRUIOp::create(
      b, loc, arith::AndIOp::create(b, loc, address, constant(0x3FFFF)), constant(4));
  int64_t leading = 128 >> 4, stride = (8 * rowLength * 2) >> 4, layoutType = 0;
  if (swizzleBytes) {
    leading = 1;
    stride = (8 * swizzleBytes) >> 4;
    layoutType = swizzleBytes == 128 ? 1 : swizzleBytes == 64 ? 2 : 3;
  }
  return arith::OrIOp::create(
      b, loc, start, constant((leading << 16) | (stride << 32) | (layoutType << 62)));
}

Value emitWarpgroupMma(ConversionPatternRewriter &rewriter, tile::DotOp op,
                       const SharedOperands &operands, Value acc, int64_t m, int64_t n,
                       int64_t k) {
  Location loc = op.getLoc();
  Type f32 = rewriter.getF32Type(), i64 = rewriter.getI64Type();
  Type element = cast<RankedTensorType>(op.getLhs().getType()).getElementType();
  auto accumulator = LLVM::LLVMStructType::getLiteral(
      rewriter.getContext(), SmallVector<Type>(n / 2, f32));
  Value d = LLVM::UndefOp::create(rewriter, loc, accumulator);
  for (int64_t e = 0; e < n / 2; ++e)
    d = LLVM::InsertValueOp::create(
        rewriter, loc, d,
        vector::ExtractOp::create(rewriter, loc, acc, ArrayRef<int64_t>{e}),
        ArrayRef<int64_t>{e});
  auto addressOf = [&](Value view) -> Value {
    Value address = memref::ExtractAlignedPointerAsIndexOp::create(rewriter, loc, view);
    return arith::IndexCastOp::create(rewriter, loc, i64, address);
  };
  Value a = addressOf(operands.a), b = addressOf(operands.b);
  NVVM::WGMMATypes type = element.isBF16() ? NVVM::WGMMATypes::bf16 : NVVM::WGMMATypes::f16;
  // The accumulator registers were written by other instructions.
  NVVM::WgmmaFenceAlignedOp::create(rewriter, loc);
  int64_t swizzle =
      operands.layout == SharedLayout::SwizzledRows ? operands.swizzleBytes : 0;
  // Where the K step at k0 starts in an operand of `rows` rows: core
  // matrix k0 / 8 of row group 0; or, swizzled, byte 2 k0 of row 0 (in
  // block 2 k0 / S).
  auto stepStart = [&](Value operand, int64_t rows, int64_t k0) -> Value {
    int64_t shift = k0 / 8 * 128;
    if (swizzle)
      shift = (2 * k0 / swizzle) * rows * swizzle + (2 * k0) % swizzle;
    return arith::AddIOp::create(
        rewriter, loc, operand,
        arith::ConstantOp::create(rewriter, loc, i64, rewriter.getI64IntegerAttr(shift)));
  };
  for (int64_t k0 = 0; k0 < k; k0 += 16) {
    Value descriptorA =
        matrixDescriptor(rewriter, loc, stepStart(a, m, k0), operands.aRowLength, swizzle);
    Value descriptorB =
        matrixDescriptor(rewriter, loc, stepStart(b, n, k0), operands.bRowLength, swizzle);
    d = NVVM::WgmmaMmaAsyncOp::create(
        rewriter, loc, accumulator, d, descriptorA, descriptorB,
        NVVM::MMAShapeAttr::get(rewriter.getContext(), 64, n, 16), type, type,
        NVVM::WGMMATypes::f32, NVVM::WGMMAScaleOut::one, NVVM::WGMMAScaleIn::one,
        NVVM::WGMMAScaleIn::one, NVVM::MMALayout::row, NVVM::MMALayout::col,
        /*satfinite=*/nullptr);
  }
  NVVM::WgmmaGroupSyncAlignedOp::create(rewriter, loc);
  // Done before the registers are read and the slots refilled.
  NVVM::WgmmaWaitGroupSyncOp::create(rewriter, loc, 0);
  Value result = acc;
  for (int64_t e = 0; e < n / 2; ++e)
    result = vector::InsertOp::create(
        rewriter, loc,
        LLVM::ExtractValueOp::create(rewriter, loc, d, ArrayRef<int64_t>{e}), result,
        ArrayRef<int64_t>{e});
  return result;
}

} // namespace prism::nvidia
