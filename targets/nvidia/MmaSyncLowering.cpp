//===- MmaSyncLowering.cpp - tile.dot on NVIDIA tensor cores --------------===//

#include "targets/nvidia/MmaSyncLowering.h"
#include "targets/nvidia/WarpgroupMma.h"

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

void MmaSyncLowering::fenceWritesForMatrixCores(OpBuilder &b, Location loc) const {
  fenceSharedMemoryForAsyncProxy(b, loc);
}

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

/// With wgmma, a 128-row tile that fits it as two warpgroups takes 256
/// threads (each warpgroup its 64 rows; B is read once per block for
/// both). Its layout (stagedLayout) is decided later, so this asks only
/// what does not depend on it; a dot that then does not run as wgmma runs
/// as mma.sync on the 8 warps.
int64_t MmaSyncLowering::threadsFor(tile::DotOp dot, int64_t threads) const {
  int64_t m = cast<RankedTensorType>(dot.getType()).getDimSize(0);
  if (warpgroupMma && threads == 128 && m == 128 &&
      fitsWarpgroupMma(dot, 2 * m, /*aTransposed=*/false, /*bTransposed=*/true))
    return 2 * m;
  return threads;
}

/// wgmma.wait_group 0 for the dots a K loop left in flight, as inline PTX
/// that takes and gives back their accumulator registers
/// (waitForWarpgroupMma).
SmallVector<Value> MmaSyncLowering::waitForMatrixCores(OpBuilder &b, Location loc,
                                                       ValueRange results) const {
  return waitForWarpgroupMma(b, loc, results);
}

LogicalResult MmaSyncLowering::finishKernel(gpu::GPUFuncOp kernel) const {
  if (failed(placeWarpgroupMmaWaits(kernel)))
    return failure();
  return alternateWarpgroups(kernel);
}

SmallVector<Value> MmaSyncLowering::pinAccumulatorsInFlight(OpBuilder &b, Location loc,
                                                            ValueRange inits) const {
  return pinWarpgroupMmaAccumulators(b, loc, inits);
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

  /// A's registers of the 16x16 block at (row0, k0): a0..a3 are its 8x8
  /// blocks (rows, K) = (0, 0), (8, 0), (0, 8), (8, 8); stored [M, K] they
  /// are rows of the stored tile, stored [K, M] (transposed) they are its
  /// columns, which ldmatrix .trans delivers.
  SmallVector<Value> loadA(Value row0, int64_t k0) {
    return ldmatrix(a, aRowLength, 4, aTransposed, [&](int64_t i) -> std::pair<Value, Value> {
      Value rowOff = add(row0, c(8 * (i % 2)));
      Value kOff = c(k0 + 8 * (i / 2));
      return aTransposed ? std::pair<Value, Value>{kOff, rowOff}
                         : std::pair<Value, Value>{rowOff, kOff};
    });
  }

  /// B's b0, b1 of the 16x8 block at (k0, col0): K 0-7 and 8-15 at its 8
  /// columns; stored [K, N] the pairs along K are columns of the stored
  /// tile (.trans), stored [N, K] (transposed) they are rows.
  SmallVector<Value> loadB(Value col0, int64_t k0) {
    return ldmatrix(b, bRowLength, 2, !bTransposed, [&](int64_t i) -> std::pair<Value, Value> {
      Value kOff = c(k0 + 8 * i);
      return bTransposed ? std::pair<Value, Value>{col0, kOff}
                         : std::pair<Value, Value>{kOff, col0};
    });
  }

  /// fragment += A B for one m16n8k16 step.
  void mma(ArrayRef<Value> aRegs, ArrayRef<Value> bRegs, SmallVector<Value> &fragment) {
    Type f32 = rewriter.getF32Type();
    auto resultType = LLVM::LLVMStructType::getLiteral(rewriter.getContext(),
                                                       {f32, f32, f32, f32});
    NVVM::MMATypes ptxType = element.isBF16() ? NVVM::MMATypes::bf16 : NVVM::MMATypes::f16;
    auto op = NVVM::MmaOp::create(
        rewriter, loc, resultType, aRegs, bRegs, fragment, ArrayRef<int64_t>{16, 8, 16},
        std::nullopt, std::nullopt, std::array<NVVM::MMATypes, 2>{ptxType, ptxType},
        std::array<NVVM::MMALayout, 2>{NVVM::MMALayout::row, NVVM::MMALayout::col});
    for (int r = 0; r < 4; ++r)
      fragment[r] = LLVM::ExtractValueOp::create(rewriter, loc, op.getResult(),
                                                 ArrayRef<int64_t>{r});
  }

  /// The 4 C registers of tile `tileIndex` after accumulating A B over K
  /// onto `fragment`.
  SmallVector<Value> product(Value tileIndex, SmallVector<Value> fragment) {
    auto [row0, col0] = corner(tileIndex);
    for (int64_t k0 = 0; k0 < k; k0 += 16)
      mma(loadA(row0, k0), loadB(col0, k0), fragment);
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
                           const Layout &layout, const SharedOperands &operands,
                           Value acc, int64_t m, int64_t n, int64_t k,
                           int64_t resultOffset) const {
  Location loc = op.getLoc();
  Type f32 = rewriter.getF32Type();
  int64_t warps = std::max<int64_t>(1, layout.threads / 32);
  int64_t tiles = (m / 16) * (n / 8);
  Value result = workspaceView(rewriter, op, resultOffset, f32, m * n);
  if (operands.readByMatrixCores()) {
    // wgmma from zero, its fragments to their positions in the result.
    auto fragmentType = VectorType::get({n / 2}, f32);
    Value zeros = arith::ConstantOp::create(rewriter, loc, fragmentType,
                                            rewriter.getZeroAttr(fragmentType));
    Value product = emitWarpgroupMma(rewriter, op, operands, zeros, m, n, k);
    vector::ScatterOp::create(rewriter, loc, Type(), result,
                              ValueRange{tile::indexConstant(rewriter, loc, 0)},
                              fragmentPositions(rewriter, loc, layout, m, n),
                              allLanes(rewriter, loc, n / 2), product);
    return addPublishedResult(rewriter, loc, layout, result, acc, m * n);
  }
  MmaTiles t = mmaTiles(rewriter, op, operands, m, n, k);
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

namespace {

/// How the warps share C when the accumulator stays in fragments: a
/// warpsM x warpsN grid of warps, each owning tilesM x tilesN m16n8 tiles
/// (its round r = i * tilesN + j is tile (i, j) of its block). Per K step
/// a warp then loads tilesM A and tilesN B fragments for tilesM * tilesN
/// mma.sync, instead of an A and a B fragment per mma.
struct WarpTiling {
  int64_t warpsM, warpsN, tilesM, tilesN;
};

/// A column of warps each owning 16 whole rows when they fit (the layout
/// of wgmma's accumulator, so that a tile has one fragment layout
/// whichever instruction computes it, and the layout in which row
/// reductions stay within quads: fragmentRows); otherwise the grid that
/// loads the fewest fragment rows per K step (4 x 8 rows per A fragment,
/// 2 x 8 per B fragment), if the warps divide C evenly. (For 64x64 tiles
/// the column of warps loads 25% more fragment bytes per K step than a
/// 2 x 2 grid; on sm_80 that was the price of the softmax in registers,
/// to be weighed on a GPU.)
std::optional<WarpTiling> warpTiling(int64_t m, int64_t n, int64_t warps) {
  if (m == 16 * warps && n % 8 == 0)
    return WarpTiling{warps, 1, 1, n / 8};
  std::optional<WarpTiling> best;
  int64_t bestCost = 0;
  for (int64_t warpsM = 1; warpsM <= warps; ++warpsM) {
    int64_t warpsN = warps / warpsM;
    if (warps % warpsM != 0 || m % (16 * warpsM) != 0 || n % (8 * warpsN) != 0)
      continue;
    WarpTiling tiling{warpsM, warpsN, m / (16 * warpsM), n / (8 * warpsN)};
    int64_t cost = 2 * tiling.tilesM + tiling.tilesN;
    if (!best || cost < bestCost)
      best = tiling, bestCost = cost;
  }
  return best;
}

/// Row and column of the corner of this warp's round-`r` C tile: in its
/// block of the warp grid, or round-robin (tile warp + r * warps) when the
/// warps do not divide C into blocks.
std::pair<Value, Value> roundCorner(OpBuilder &b, Location loc, Value warp, int64_t r,
                                    int64_t m, int64_t n, int64_t warps) {
  auto c = [&](int64_t v) { return tile::indexConstant(b, loc, v); };
  auto add = [&](Value x, Value y) { return arith::AddIOp::create(b, loc, x, y).getResult(); };
  auto mul = [&](Value x, int64_t y) { return arith::MulIOp::create(b, loc, x, c(y)).getResult(); };
  if (std::optional<WarpTiling> t = warpTiling(m, n, warps)) {
    Value wm = arith::DivUIOp::create(b, loc, warp, c(t->warpsN));
    Value wn = arith::RemUIOp::create(b, loc, warp, c(t->warpsN));
    return {add(mul(wm, 16 * t->tilesM), c(16 * (r / t->tilesN))),
            add(mul(wn, 8 * t->tilesN), c(8 * (r % t->tilesN)))};
  }
  Value tileIndex = add(warp, c(r * warps));
  return {mul(arith::DivUIOp::create(b, loc, tileIndex, c(n / 8)), 16),
          mul(arith::RemUIOp::create(b, loc, tileIndex, c(n / 8)), 8)};
}

} // namespace

SharedLayout MmaSyncLowering::stagedLayout(tile::DotOp dot, const Layout &layout,
                                           bool aTransposed, bool bTransposed) const {
  if (warpgroupMma && fitsWarpgroupMma(dot, layout.threads, aTransposed, bTransposed))
    return SharedLayout::CoreMatrices;
  return SharedLayout::Rows;
}

/// Every warp has the same number of C tiles (round r: tile warp + r *
/// warps), and a thread's fragments are as many as its element-wise
/// elements: 4 per tile.
bool MmaSyncLowering::keepsAccumulatorInFragments(tile::DotOp dot,
                                                  const Layout &layout) const {
  auto type = cast<RankedTensorType>(dot.getType());
  return supports(dot) && fragmentLayoutFits(type.getDimSize(0), type.getDimSize(1), layout);
}

bool MmaSyncLowering::fragmentLayoutFits(int64_t m, int64_t n, const Layout &layout) const {
  if (layout.threads % 32 != 0 || m % 16 != 0 || n % 8 != 0)
    return false;
  int64_t warps = layout.threads / 32, tiles = (m / 16) * (n / 8);
  return tiles % warps == 0 && (m * n) % layout.threads == 0;
}

/// With a column of warps, 16 whole rows each (warpTiling), lane l of
/// warp w holds rows 16 w + l / 4 and 16 w + l / 4 + 8 of every [m, n]
/// tile, shared with the other lanes of its quad.
std::optional<FragmentRows> MmaSyncLowering::fragmentRows(int64_t m,
                                                          const Layout &layout) const {
  if (layout.threads % 32 != 0 || m != 16 * (layout.threads / 32))
    return std::nullopt;
  return FragmentRows{2, 4};
}

/// Element 4 r + i: register i of the round-r m16n8 tile, in row g for
/// i < 2 and g + 8 after.
int64_t MmaSyncLowering::fragmentRowSlot(int64_t element, int64_t, int64_t) const {
  return element % 4 / 2;
}

Value MmaSyncLowering::fragmentRowIndices(OpBuilder &b, Location loc, const Layout &,
                                          int64_t) const {
  auto c = [&](int64_t v) { return tile::indexConstant(b, loc, v); };
  Value tid = gpu::ThreadIdOp::create(b, loc, gpu::Dimension::x);
  Value row = arith::AddIOp::create(
      b, loc, arith::MulIOp::create(b, loc, arith::DivUIOp::create(b, loc, tid, c(32)), c(16)),
      arith::DivUIOp::create(b, loc, arith::RemUIOp::create(b, loc, tid, c(32)), c(4)));
  return vector::FromElementsOp::create(
      b, loc, VectorType::get({2}, b.getIndexType()),
      ValueRange{row, arith::AddIOp::create(b, loc, row, c(8))});
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
    auto [row0, col0] = roundCorner(b, loc, warp, r, m, n, warps);
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

namespace {

/// A thread's fragment vector as the 4 C registers of each of its rounds.
SmallVector<SmallVector<Value>> roundRegisters(OpBuilder &b, Location loc, Value fragments,
                                               int64_t rounds) {
  SmallVector<SmallVector<Value>> registers(rounds);
  for (int64_t r = 0; r < rounds; ++r)
    for (int64_t i = 0; i < 4; ++i)
      registers[r].push_back(
          vector::ExtractOp::create(b, loc, fragments, ArrayRef<int64_t>{4 * r + i}));
  return registers;
}

/// The inverse: the registers back into the fragment vector `into`.
Value fragmentVector(OpBuilder &b, Location loc, ArrayRef<SmallVector<Value>> registers,
                     Value into) {
  for (auto [r, round] : llvm::enumerate(registers))
    for (int64_t i = 0; i < 4; ++i)
      into = vector::InsertOp::create(b, loc, round[i], into,
                                      ArrayRef<int64_t>{static_cast<int64_t>(4 * r + i)});
  return into;
}

} // namespace

/// The accumulator stays in registers: each round's tile starts from the
/// thread's 4 C registers and ends in them; nothing goes through shared
/// memory but the operands.
Value MmaSyncLowering::emitOnFragments(ConversionPatternRewriter &rewriter,
                                       tile::DotOp op, const Layout &layout,
                                       const SharedOperands &operands, Value acc,
                                       int64_t m, int64_t n, int64_t k) const {
  if (operands.readByMatrixCores()) {
    auto inFlight = op->getAttrOfType<IntegerAttr>(kDotsInFlightAttrName);
    return emitWarpgroupMma(rewriter, op, operands, acc, m, n, k,
                            inFlight ? inFlight.getInt() : kWaitAtFirstUse);
  }
  Location loc = op.getLoc();
  int64_t warps = layout.threads / 32, rounds = (m / 16) * (n / 8) / warps;
  MmaTiles t = mmaTiles(rewriter, op, operands, m, n, k);
  SmallVector<SmallVector<Value>> fragments = roundRegisters(rewriter, loc, acc, rounds);
  if (std::optional<WarpTiling> tiling = warpTiling(m, n, warps)) {
    // Each K step: the warp's A and B fragments once, then every product.
    SmallVector<Value> rows, columns;
    for (int64_t i = 0; i < tiling->tilesM; ++i)
      rows.push_back(
          roundCorner(rewriter, loc, t.warp, i * tiling->tilesN, m, n, warps)
              .first);
    for (int64_t j = 0; j < tiling->tilesN; ++j)
      columns.push_back(
          roundCorner(rewriter, loc, t.warp, j, m, n, warps).second);
    for (int64_t k0 = 0; k0 < k; k0 += 16) {
      SmallVector<SmallVector<Value>> aRegs, bRegs;
      for (Value row : rows)
        aRegs.push_back(t.loadA(row, k0));
      for (Value column : columns)
        bRegs.push_back(t.loadB(column, k0));
      for (int64_t i = 0; i < tiling->tilesM; ++i)
        for (int64_t j = 0; j < tiling->tilesN; ++j)
          t.mma(aRegs[i], bRegs[j], fragments[i * tiling->tilesN + j]);
    }
  } else {
    for (int64_t r = 0; r < rounds; ++r)
      fragments[r] = t.product(t.add(t.warp, t.c(r * warps)), fragments[r]);
  }
  return fragmentVector(rewriter, loc, fragments, acc);
}

/// With a column of warps (fragmentRows), the fragments of an [m, k] tile
/// are, K step by K step, mma.sync's A registers: elements 8 s .. 8 s + 7
/// of a thread are its rounds 2 s and 2 s + 1 (columns 16 s .. 16 s + 15),
/// rows g, g + 8 at columns 2 q, 2 q + 1 and then 8 further, which is the
/// order of a0 .. a3 (wgmma's A from registers has the same layout, each
/// warp its 16 rows). B is read by ldmatrix from padded rows, or by wgmma
/// itself from core matrices or swizzled rows.
bool MmaSyncLowering::takesOperandAInFragments(tile::DotOp dot, const Layout &layout,
                                               SharedLayout bLayout,
                                               bool bTransposed) const {
  auto lhs = cast<RankedTensorType>(dot.getLhs().getType());
  auto result = cast<RankedTensorType>(dot.getType());
  int64_t m = lhs.getDimSize(0), k = lhs.getDimSize(1), n = result.getDimSize(1);
  if (!supports(dot) || !fragmentRows(m, layout) || !fragmentLayoutFits(m, k, layout) ||
      !fragmentLayoutFits(m, n, layout))
    return false;
  if (bLayout == SharedLayout::Rows)
    return true;
  return warpgroupMma && fitsWarpgroupMma(dot, layout.threads, /*aTransposed=*/false,
                                          bTransposed);
}

Value MmaSyncLowering::emitOnFragmentsWithOperandAInFragments(
    ConversionPatternRewriter &rewriter, tile::DotOp op, const Layout &layout, Value a,
    const SharedOperands &operands, Value acc, int64_t m, int64_t n, int64_t k) const {
  Location loc = op.getLoc();
  Type element = cast<RankedTensorType>(op.getLhs().getType()).getElementType();
  // A's registers of K step s: element pairs (8 s + 2 j, 8 s + 2 j + 1).
  auto aRegisters = [&](int64_t s, bool asWords) {
    SmallVector<Value> registers;
    for (int64_t j = 0; j < 4; ++j) {
      Value pair = vector::ShuffleOp::create(rewriter, loc, a, a,
                                             ArrayRef<int64_t>{8 * s + 2 * j, 8 * s + 2 * j + 1});
      if (asWords || element.isBF16()) {
        Value word = vector::BitCastOp::create(
            rewriter, loc, VectorType::get({1}, rewriter.getI32Type()), pair);
        pair = vector::ExtractOp::create(rewriter, loc, word, ArrayRef<int64_t>{0});
      }
      registers.push_back(pair);
    }
    return registers;
  };
  if (operands.bLayout != SharedLayout::Rows) {
    SmallVector<SmallVector<Value>> steps;
    for (int64_t s = 0; s < k / 16; ++s)
      steps.push_back(aRegisters(s, /*asWords=*/true));
    return emitWarpgroupMmaWithRegisterA(rewriter, op, steps, operands, acc, n, k);
  }
  int64_t warps = layout.threads / 32, tilesN = n / 8;
  MmaTiles t = mmaTiles(rewriter, op, operands, m, n, k);
  SmallVector<SmallVector<Value>> fragments = roundRegisters(rewriter, loc, acc, tilesN);
  // The warp's 16 rows and all n columns (round j: columns 8 j .. 8 j + 7).
  SmallVector<Value> columns;
  for (int64_t j = 0; j < tilesN; ++j)
    columns.push_back(roundCorner(rewriter, loc, t.warp, j, m, n, warps).second);
  for (int64_t s = 0; s < k / 16; ++s) {
    SmallVector<Value> aRegs = aRegisters(s, /*asWords=*/false);
    for (int64_t j = 0; j < tilesN; ++j)
      t.mma(aRegs, t.loadB(columns[j], 16 * s), fragments[j]);
  }
  return fragmentVector(rewriter, loc, fragments, acc);
}

} // namespace prism::nvidia
