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
         k % 16 == 0 && !aTransposed && (element.isBF16() || element.isF16()) &&
         cast<RankedTensorType>(dot.getRhs().getType()).getElementType() == element &&
         result.getElementType().isF32();
}

void fenceSharedMemoryForAsyncProxy(OpBuilder &b, Location loc) {
  NVVM::FenceProxyOp::create(
      b, loc, NVVM::ProxyKind::async_shared,
      NVVM::SharedSpaceAttr::get(b.getContext(), NVVM::SharedSpace::shared_cta));
}

Value matrixDescriptor(OpBuilder &b, Location loc, Value address, int64_t leadingBytes,
                       int64_t strideBytes, int64_t swizzleBytes) {
  Type i64 = b.getI64Type();
  auto constant = [&](int64_t v) -> Value {
    return arith::ConstantOp::create(b, loc, i64, b.getI64IntegerAttr(v));
  };
  // Bits 0-13: (address & 0x3FFFF) >> 4; 16-29: leading-dimension byte
  // offset >> 4; 32-45: stride-dimension byte offset >> 4; 49-51: base
  // offset (0: every swizzled block is 1024-byte aligned); 62-63: the
  // layout (0 none, 1 128-byte, 2 64-byte, 3 32-byte swizzle).
  Value start = arith::ShRUIOp::create(
      b, loc, arith::AndIOp::create(b, loc, address, constant(0x3FFFF)), constant(4));
  int64_t layoutType = swizzleBytes == 0     ? 0
                       : swizzleBytes == 128 ? 1
                       : swizzleBytes == 64  ? 2
                                             : 3;
  return arith::OrIOp::create(b, loc, start,
                              constant(((leadingBytes >> 4) << 16) |
                                       ((strideBytes >> 4) << 32) | (layoutType << 62)));
}

namespace {

/// How one operand's K steps are laid out in its shared memory: the
/// descriptor's two byte offsets and where the step at k0 starts, for an
/// operand stored as `rows` rows of `rowLength` 16-bit elements, K-major
/// (rows are M or N, K along the row) or MN-major (rows are K).
struct OperandSteps {
  int64_t leadingBytes, strideBytes, swizzleBytes;
  bool kMajor;
  int64_t rows, rowLength;

  static OperandSteps of(SharedLayout layout, int64_t swizzleBytes, bool kMajor,
                         int64_t rows, int64_t rowLength) {
    OperandSteps steps{0, 0, layout == SharedLayout::SwizzledRows ? swizzleBytes : 0,
                       kMajor, rows, rowLength};
    int64_t s = steps.swizzleBytes;
    if (kMajor) {
      // Core matrices adjacent in K 128 bytes apart, row groups 8 rows of
      // the tile; swizzled: row groups 8 spans apart (the leading offset
      // is not used, 1 by convention).
      steps.leadingBytes = s ? 16 : 128;
      steps.strideBytes = s ? 8 * s : 16 * rowLength;
    } else {
      // Core matrices (8 K rows x 16 bytes of N) adjacent in N 128 bytes
      // apart, in K a row group of the tile apart; swizzled: the atoms of
      // S / 2 columns a block (rows x S bytes) apart, 8 K rows 8 spans.
      steps.leadingBytes = s ? rows * s : 16 * rowLength;
      steps.strideBytes = s ? 8 * s : 128;
    }
    return steps;
  }

  /// Byte offset of the K step at k0 from the operand's start.
  int64_t stepOffset(int64_t k0) const {
    int64_t s = swizzleBytes;
    if (kMajor) // core matrix k0 / 8 of row group 0; swizzled: byte 2 k0 of row 0
      return s ? (2 * k0 / s) * rows * s + (2 * k0) % s : k0 / 8 * 128;
    return s ? k0 * s : k0 / 8 * 16 * rowLength; // row k0
  }
};

} // namespace

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
  // A is [M, K] (K-major); B is [N, K] (K-major, bTransposed) or [K, N]
  // (MN-major: the instruction's B transpose).
  OperandSteps stepsA = OperandSteps::of(operands.aLayout, operands.aSwizzleBytes,
                                         /*kMajor=*/true, m, operands.aRowLength);
  OperandSteps stepsB =
      OperandSteps::of(operands.bLayout, operands.bSwizzleBytes, operands.bTransposed,
                       operands.bTransposed ? n : k, operands.bRowLength);
  auto descriptor = [&](Value operand, const OperandSteps &steps, int64_t k0) {
    Value start = arith::AddIOp::create(
        rewriter, loc, operand,
        arith::ConstantOp::create(rewriter, loc, i64,
                                  rewriter.getI64IntegerAttr(steps.stepOffset(k0))));
    return matrixDescriptor(rewriter, loc, start, steps.leadingBytes, steps.strideBytes,
                            steps.swizzleBytes);
  };
  for (int64_t k0 = 0; k0 < k; k0 += 16) {
    d = NVVM::WgmmaMmaAsyncOp::create(
        rewriter, loc, accumulator, d, descriptor(a, stepsA, k0),
        descriptor(b, stepsB, k0),
        NVVM::MMAShapeAttr::get(rewriter.getContext(), 64, n, 16), type, type,
        NVVM::WGMMATypes::f32, NVVM::WGMMAScaleOut::one, NVVM::WGMMAScaleIn::one,
        NVVM::WGMMAScaleIn::one, NVVM::MMALayout::row,
        operands.bTransposed ? NVVM::MMALayout::col : NVVM::MMALayout::row,
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
