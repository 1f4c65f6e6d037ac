//===- MmaSyncLowering.cpp - tile.dot on NVIDIA tensor cores --------------===//

#include "targets/nvidia/MmaSyncLowering.h"

#include "dialects/Tile/Utils/MemoryAccess.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/NVGPU/IR/NVGPUDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

using namespace mlir;
using namespace prism;
using namespace prism::gpu_lowering;

namespace prism::nvidia {

void MmaSyncLowering::addLegalDialects(ConversionTarget &target) const {
  target.addLegalDialect<NVVM::NVVMDialect, LLVM::LLVMDialect, nvgpu::NVGPUDialect>();
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

namespace {

/// The mma.sync m16n8k16 register layout (lane = 4 g + q): A rows g and
/// g + 8 at columns 2q, 2q + 1 (+8); B columns g at rows 2q, 2q + 1 (+8);
/// C rows g and g + 8 at columns 2q, 2q + 1.
struct MmaTiles {
  ConversionPatternRewriter &rewriter;
  Location loc;
  Type element;
  Value a, b;
  int64_t aRowLength, bRowLength;
  int64_t m, n, k;
  bool aTransposed, bTransposed;
  Value warp, lane, g, q2;

  Value c(int64_t v) { return tile::indexConstant(rewriter, loc, v); }
  Value add(Value x, Value y) { return arith::AddIOp::create(rewriter, loc, x, y); }
  Value mul(Value x, int64_t y) { return arith::MulIOp::create(rewriter, loc, x, c(y)); }

  /// A register holds a pair along K: bf16 pairs as i32 (as NVVM wants
  /// them), f16 pairs as vector<2xf16>.
  Value reg(Value two) {
    if (!element.isBF16())
      return two;
    Value bits = vector::BitCastOp::create(
        rewriter, loc, VectorType::get({1}, rewriter.getI32Type()), two);
    return vector::ExtractOp::create(rewriter, loc, bits, ArrayRef<int64_t>{0});
  }

  /// Registers of `matrices` 8x8 matrices loaded by one ldmatrix from a
  /// published tile with rows of `rowLength` elements: this lane (l) gives
  /// the address of row l % 8 of matrix l / 8, whose first row and column
  /// are `matrixRow(l / 8)` and `matrixColumn(l / 8)` (lanes past the last
  /// matrix repeat the first ones; ldmatrix ignores their addresses).
  SmallVector<Value> ldmatrix(Value view, int64_t rowLength, int64_t matrices,
                              bool transposed,
                              function_ref<std::pair<Value, Value>(int64_t)> corner) {
    Value r = arith::RemUIOp::create(rewriter, loc, lane, c(8));
    Value which = arith::RemUIOp::create(rewriter, loc,
                                         arith::DivUIOp::create(rewriter, loc, lane, c(8)),
                                         c(matrices));
    // The matrix's corner, chosen among the static corners by `which`.
    Value row = c(0), column = c(0);
    for (int64_t i = matrices - 1; i >= 0; --i) {
      auto [ri, ci] = corner(i);
      Value is = arith::CmpIOp::create(rewriter, loc, arith::CmpIPredicate::eq, which, c(i));
      row = i == matrices - 1 ? ri : arith::SelectOp::create(rewriter, loc, is, ri, row).getResult();
      column = i == matrices - 1 ? ci : arith::SelectOp::create(rewriter, loc, is, ci, column).getResult();
    }
    Value index = add(mul(add(row, r), rowLength), column);
    auto type = VectorType::get({matrices, 2}, element);
    Value loaded = nvgpu::LdMatrixOp::create(rewriter, loc, type, view, ValueRange{index},
                                             transposed, matrices);
    SmallVector<Value> registers;
    for (int64_t i = 0; i < matrices; ++i)
      registers.push_back(reg(vector::ExtractOp::create(rewriter, loc, loaded,
                                                        ArrayRef<int64_t>{i})));
    return registers;
  }

  /// Row and column of C tile `tileIndex`'s corner.
  std::pair<Value, Value> corner(Value tileIndex) {
    int64_t tilesN = n / 8;
    return {mul(arith::DivUIOp::create(rewriter, loc, tileIndex, c(tilesN)), 16),
            mul(arith::RemUIOp::create(rewriter, loc, tileIndex, c(tilesN)), 8)};
  }

  /// The 4 C registers of tile `tileIndex` after accumulating A B over K
  /// onto `fragment`.
  SmallVector<Value> product(Value tileIndex, SmallVector<Value> fragment) {
    Type f32 = rewriter.getF32Type();
    auto [row0, col0] = corner(tileIndex);
    auto resultType = LLVM::LLVMStructType::getLiteral(rewriter.getContext(),
                                                       {f32, f32, f32, f32});
    NVVM::MMATypes ptxType = element.isBF16() ? NVVM::MMATypes::bf16 : NVVM::MMATypes::f16;
    for (int64_t k0 = 0; k0 < k; k0 += 16) {
      // A's registers a0..a3 are the 8x8 blocks (rows, K) = (0, 0), (8, 0),
      // (0, 8), (8, 8) of the 16x16 block; stored [M, K] they are rows of
      // the stored tile, stored [K, M] (transposed) they are its columns,
      // which ldmatrix .trans delivers.
      SmallVector<Value> aRegs = ldmatrix(
          a, aRowLength, 4, aTransposed, [&](int64_t i) -> std::pair<Value, Value> {
            Value rowOff = add(row0, c(8 * (i % 2)));
            Value kOff = c(k0 + 8 * (i / 2));
            return aTransposed ? std::pair<Value, Value>{kOff, rowOff}
                               : std::pair<Value, Value>{rowOff, kOff};
          });
      // B's b0, b1: K 0-7 and 8-15 at the tile's 8 columns; stored [K, N]
      // the pairs along K are columns of the stored tile (.trans), stored
      // [N, K] (transposed) they are rows.
      SmallVector<Value> bRegs = ldmatrix(
          b, bRowLength, 2, !bTransposed, [&](int64_t i) -> std::pair<Value, Value> {
            Value kOff = c(k0 + 8 * i);
            return bTransposed ? std::pair<Value, Value>{col0, kOff}
                               : std::pair<Value, Value>{kOff, col0};
          });
      auto mma = NVVM::MmaOp::create(
          rewriter, loc, resultType, aRegs, bRegs, fragment,
          ArrayRef<int64_t>{16, 8, 16}, std::nullopt, std::nullopt,
          std::array<NVVM::MMATypes, 2>{ptxType, ptxType},
          std::array<NVVM::MMALayout, 2>{NVVM::MMALayout::row, NVVM::MMALayout::col});
      for (int r = 0; r < 4; ++r)
        fragment[r] = LLVM::ExtractValueOp::create(rewriter, loc, mma.getResult(),
                                                   ArrayRef<int64_t>{r});
    }
    return fragment;
  }
};

MmaTiles mmaTiles(ConversionPatternRewriter &rewriter, tile::DotOp op,
                  const SharedOperands &operands, int64_t m, int64_t n, int64_t k) {
  Location loc = op.getLoc();
  Type element = cast<RankedTensorType>(op.getLhs().getType()).getElementType();
  MmaTiles t{rewriter, loc, element, operands.a, operands.b, operands.aRowLength,
             operands.bRowLength, m, n, k, operands.aTransposed, operands.bTransposed,
             {}, {}, {}, {}};
  Value tid = gpu::ThreadIdOp::create(rewriter, loc, gpu::Dimension::x);
  t.warp = arith::DivUIOp::create(rewriter, loc, tid, t.c(32));
  t.lane = arith::RemUIOp::create(rewriter, loc, tid, t.c(32));
  t.g = arith::DivUIOp::create(rewriter, loc, t.lane, t.c(4));
  t.q2 = t.mul(arith::RemUIOp::create(rewriter, loc, t.lane, t.c(4)), 2);
  return t;
}

} // namespace

/// A dot on tensor cores. A [M, K] and B [K, N] are published; each warp
/// takes m16n8 tiles of C round-robin, accumulates them with mma.sync over
/// K in steps of 16 (fragments read from shared memory), writes the tiles
/// to shared memory, and every thread then reads its own elements of C and
/// adds the accumulator.
Value MmaSyncLowering::emit(ConversionPatternRewriter &rewriter, tile::DotOp op,
                           const Layout &layout, Value a, Value b, Value acc,
                           int64_t m, int64_t n, int64_t k, int64_t resultOffset,
                           bool aTransposed, bool bTransposed) const {
  Location loc = op.getLoc();
  Type f32 = rewriter.getF32Type();
  int64_t warps = std::max<int64_t>(1, layout.threads / 32);
  int64_t tiles = (m / 16) * (n / 8);
  Value result = workspaceView(rewriter, op, resultOffset, f32, m * n);
  MmaTiles t = mmaTiles(rewriter, op,
                        {a, b, aTransposed ? m : k, bTransposed ? k : n, aTransposed,
                         bTransposed},
                        m, n, k);
  forEachGroupTile(rewriter, loc, t.warp, warps, tiles, [&](Value tileIndex) {
    Value zero = arith::ConstantOp::create(rewriter, loc, f32, rewriter.getF32FloatAttr(0.0f));
    SmallVector<Value> fragment = t.product(tileIndex, SmallVector<Value>(4, zero));
    auto [row0, col0] = t.corner(tileIndex);
    // c0, c1: row g; c2, c3: row g + 8; columns 2q, 2q + 1.
    for (int r = 0; r < 2; ++r) {
      Value values = vector::FromElementsOp::create(
          rewriter, loc, VectorType::get({2}, f32),
          ValueRange{fragment[2 * r], fragment[2 * r + 1]});
      Value row = t.add(row0, r == 0 ? t.g : t.add(t.g, t.c(8)));
      vector::StoreOp::create(rewriter, loc, values, result,
                              ValueRange{t.add(t.mul(row, n), t.add(col0, t.q2))});
    }
  });
  return addPublishedResult(rewriter, loc, layout, result, acc, m * n);
}

/// Every warp has the same number of C tiles (round r: tile warp + r *
/// warps), and a thread's fragments are as many as its element-wise
/// elements: 4 per tile.
bool MmaSyncLowering::keepsAccumulatorInFragments(tile::DotOp dot,
                                                  const Layout &layout) const {
  if (!supports(dot) || layout.threads % 32 != 0)
    return false;
  auto type = cast<RankedTensorType>(dot.getType());
  int64_t m = type.getDimSize(0), n = type.getDimSize(1);
  int64_t warps = layout.threads / 32, tiles = (m / 16) * (n / 8);
  return tiles % warps == 0 && (m * n) % layout.threads == 0;
}

/// Fragment element 4 r + i of a thread: register i of its round-r tile.
Value MmaSyncLowering::fragmentPositions(OpBuilder &b, Location loc,
                                         const Layout &layout, int64_t m,
                                         int64_t n) const {
  auto c = [&](int64_t v) { return tile::indexConstant(b, loc, v); };
  int64_t warps = layout.threads / 32, rounds = (m / 16) * (n / 8) / warps;
  Value tid = gpu::ThreadIdOp::create(b, loc, gpu::Dimension::x);
  Value warp = arith::DivUIOp::create(b, loc, tid, c(32));
  Value lane = arith::RemUIOp::create(b, loc, tid, c(32));
  Value g = arith::DivUIOp::create(b, loc, lane, c(4));
  Value q2 = arith::MulIOp::create(b, loc, arith::RemUIOp::create(b, loc, lane, c(4)), c(2));
  SmallVector<Value> positions;
  for (int64_t r = 0; r < rounds; ++r) {
    Value tileIndex = arith::AddIOp::create(b, loc, warp, c(r * warps));
    Value row0 = arith::MulIOp::create(
        b, loc, arith::DivUIOp::create(b, loc, tileIndex, c(n / 8)), c(16));
    Value col0 = arith::MulIOp::create(
        b, loc, arith::RemUIOp::create(b, loc, tileIndex, c(n / 8)), c(8));
    for (int64_t i = 0; i < 4; ++i) {
      Value row = arith::AddIOp::create(b, loc, row0,
                                        arith::AddIOp::create(b, loc, g, c(8 * (i / 2))));
      Value column = arith::AddIOp::create(b, loc, col0,
                                           arith::AddIOp::create(b, loc, q2, c(i % 2)));
      positions.push_back(arith::AddIOp::create(
          b, loc, arith::MulIOp::create(b, loc, row, c(n)), column));
    }
  }
  return vector::FromElementsOp::create(
      b, loc, VectorType::get({static_cast<int64_t>(positions.size())}, b.getIndexType()),
      positions);
}

/// The accumulator stays in registers: each round's tile starts from the
/// thread's 4 C registers and ends in them; nothing goes through shared
/// memory but the operands.
Value MmaSyncLowering::emitOnFragments(ConversionPatternRewriter &rewriter,
                                       tile::DotOp op, const Layout &layout,
                                       const SharedOperands &operands, Value acc,
                                       int64_t m, int64_t n, int64_t k) const {
  Location loc = op.getLoc();
  int64_t warps = layout.threads / 32, rounds = (m / 16) * (n / 8) / warps;
  MmaTiles t = mmaTiles(rewriter, op, operands, m, n, k);
  Value result = acc;
  for (int64_t r = 0; r < rounds; ++r) {
    SmallVector<Value> fragment;
    for (int64_t i = 0; i < 4; ++i)
      fragment.push_back(vector::ExtractOp::create(rewriter, loc, acc,
                                                   ArrayRef<int64_t>{4 * r + i}));
    Value tileIndex = t.add(t.warp, t.c(r * warps));
    SmallVector<Value> next = t.product(tileIndex, fragment);
    for (int64_t i = 0; i < 4; ++i)
      result = vector::InsertOp::create(rewriter, loc, next[i], result,
                                        ArrayRef<int64_t>{4 * r + i});
  }
  return result;
}

} // namespace prism::nvidia
