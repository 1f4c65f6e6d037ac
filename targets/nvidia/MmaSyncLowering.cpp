//===- MmaSyncLowering.cpp - tile.dot on NVIDIA tensor cores --------------===//

#include "targets/nvidia/MmaSyncLowering.h"

#include "dialects/Tile/Utils/MemoryAccess.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

using namespace mlir;
using namespace prism;
using namespace prism::gpu_lowering;

namespace prism::nvidia {

void MmaSyncLowering::addLegalDialects(ConversionTarget &target) const {
  target.addLegalDialect<NVVM::NVVMDialect, LLVM::LLVMDialect>();
}

/// bf16 x bf16 or f16 x f16 into f32, in whole m16n8k16 tiles.
bool MmaSyncLowering::supports(tile::DotOp dot) const {
  auto lhs = cast<RankedTensorType>(dot.getLhs().getType());
  auto rhs = cast<RankedTensorType>(dot.getRhs().getType());
  Type a = lhs.getElementType(), b = rhs.getElementType();
  return a == b && (a.isBF16() || a.isF16()) &&
         dot.getType().getElementType().isF32() && lhs.getDimSize(0) % 16 == 0 &&
         lhs.getDimSize(1) % 16 == 0 && rhs.getDimSize(1) % 8 == 0;
}

/// A dot on tensor cores. A [M, K] and B [K, N] are published; each warp
/// takes m16n8 tiles of C round-robin, accumulates them with mma.sync over
/// K in steps of 16 (fragments read from shared memory in the m16n8k16
/// register layout: lane = 4 * g + q holds A rows g and g + 8 at columns
/// 2q, 2q + 1 (+8), B columns g at rows 2q, 2q + 1 (+8), C rows g and g + 8
/// at columns 2q, 2q + 1), writes the tiles to shared memory, and every
/// thread then reads its own elements of C and adds the accumulator.
Value MmaSyncLowering::emit(ConversionPatternRewriter &rewriter, tile::DotOp op,
                           const Layout &layout, Value a, Value b, Value acc,
                           int64_t m, int64_t n, int64_t k, int64_t resultOffset,
                           bool aTransposed, bool bTransposed) const {
  Location loc = op.getLoc();
  Type element = cast<RankedTensorType>(op.getLhs().getType()).getElementType();
  Type f32 = rewriter.getF32Type();
  auto c = [&](int64_t v) { return tile::indexConstant(rewriter, loc, v); };
  int64_t warps = std::max<int64_t>(1, layout.threads / 32);
  int64_t tilesN = n / 8, tiles = (m / 16) * tilesN;
  Value result = workspaceView(rewriter, op, resultOffset, f32, m * n);

  Value tid = gpu::ThreadIdOp::create(rewriter, loc, gpu::Dimension::x);
  Value warp = arith::DivUIOp::create(rewriter, loc, tid, c(32));
  Value lane = arith::RemUIOp::create(rewriter, loc, tid, c(32));
  Value g = arith::DivUIOp::create(rewriter, loc, lane, c(4));
  Value q2 = arith::MulIOp::create(rewriter, loc,
                                   arith::RemUIOp::create(rewriter, loc, lane, c(4)), c(2));
  auto add = [&](Value x, Value y) { return arith::AddIOp::create(rewriter, loc, x, y).getResult(); };
  auto mul = [&](Value x, int64_t y) { return arith::MulIOp::create(rewriter, loc, x, c(y)).getResult(); };
  auto pair = VectorType::get({2}, element);
  // Elements (i, j) and (i, j + 1) of a published [rows, columns] tile
  // stored row-major, or stored transposed ([columns, rows]).
  auto loadPair = [&](Value view, Value i, Value j, int64_t rows,
                      int64_t columns, bool transposed) -> Value {
    if (!transposed)
      return vector::LoadOp::create(rewriter, loc, pair, view,
                                    ValueRange{add(mul(i, columns), j)});
    Value x = memref::LoadOp::create(rewriter, loc, view,
                                     ValueRange{add(mul(j, rows), i)});
    Value y = memref::LoadOp::create(rewriter, loc, view,
                                     ValueRange{add(mul(add(j, c(1)), rows), i)});
    return vector::FromElementsOp::create(rewriter, loc, pair, ValueRange{x, y});
  };

  forEachGroupTile(rewriter, loc, warp, warps, tiles, [&](Value tileIndex) {
    {
      Value row0 = mul(arith::DivUIOp::create(rewriter, loc, tileIndex, c(tilesN)), 16);
      Value col0 = mul(arith::RemUIOp::create(rewriter, loc, tileIndex, c(tilesN)), 8);
      Value rowA = add(row0, g), rowB = add(row0, add(g, c(8)));
      Value column = add(col0, g);
      // A register holds a pair along K: bf16 pairs as i32 (as NVVM
      // wants them), f16 pairs as vector<2xf16>.
      auto reg = [&](Value two) -> Value {
        if (!element.isBF16())
          return two;
        Value bits = vector::BitCastOp::create(
            rewriter, loc, VectorType::get({1}, rewriter.getI32Type()), two);
        return vector::ExtractOp::create(rewriter, loc, bits, ArrayRef<int64_t>{0});
      };
      Value zero = arith::ConstantOp::create(rewriter, loc, f32,
                                             rewriter.getF32FloatAttr(0.0f));
      SmallVector<Value> fragment(4, zero);
      auto resultType = LLVM::LLVMStructType::getLiteral(
          rewriter.getContext(), {f32, f32, f32, f32});
      NVVM::MMATypes ptxType =
          element.isBF16() ? NVVM::MMATypes::bf16 : NVVM::MMATypes::f16;
      for (int64_t k0 = 0; k0 < k; k0 += 16) {
        Value ka = add(c(k0), q2), kb = add(c(k0 + 8), q2);
        // A pairs run along K in rows of A; B pairs along K in columns of B
        // (B^T's rows, which is what a transposed B publishes).
        SmallVector<Value> aRegs = {reg(loadPair(a, rowA, ka, m, k, aTransposed)),
                                    reg(loadPair(a, rowB, ka, m, k, aTransposed)),
                                    reg(loadPair(a, rowA, kb, m, k, aTransposed)),
                                    reg(loadPair(a, rowB, kb, m, k, aTransposed))};
        SmallVector<Value> bRegs;
        for (Value k1 : {ka, kb})
          bRegs.push_back(reg(loadPair(b, column, k1, n, k, !bTransposed)));
        auto mma = NVVM::MmaOp::create(
            rewriter, loc, resultType, aRegs, bRegs, fragment,
            ArrayRef<int64_t>{16, 8, 16}, std::nullopt, std::nullopt,
            std::array<NVVM::MMATypes, 2>{ptxType, ptxType},
            std::array<NVVM::MMALayout, 2>{NVVM::MMALayout::row,
                                           NVVM::MMALayout::col});
        for (int r = 0; r < 4; ++r)
          fragment[r] = LLVM::ExtractValueOp::create(rewriter, loc, mma.getResult(),
                                                     ArrayRef<int64_t>{r});
      }
      // c0, c1: row g; c2, c3: row g + 8; columns 2q, 2q + 1.
      for (int r = 0; r < 2; ++r) {
        Value values = vector::FromElementsOp::create(
            rewriter, loc, VectorType::get({2}, f32),
            ValueRange{fragment[2 * r], fragment[2 * r + 1]});
        vector::StoreOp::create(rewriter, loc, values, result,
                                ValueRange{add(mul(r == 0 ? rowA : rowB, n),
                                               add(col0, q2))});
      }
    }
  });
  return addPublishedResult(rewriter, loc, layout, result, acc, m * n);
}


} // namespace prism::nvidia
