//===- MatrixCoreLowering.cpp - tile.dot on AMD matrix cores --------------===//

#include "targets/amd/MatrixCoreLowering.h"

#include "dialects/Tile/Utils/MemoryAccess.h"

#include "mlir/Dialect/AMDGPU/IR/AMDGPUDialect.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

using namespace mlir;
using namespace prism;
using namespace prism::gpu_lowering;

namespace prism::amd {

void AmdMatrixCoreLowering::addLegalDialects(ConversionTarget &target) const {
  target.addLegalDialect<amdgpu::AMDGPUDialect>();
}

/// bf16 x bf16 or f16 x f16 into f32, in whole 16x16x16 tiles.
bool AmdMatrixCoreLowering::supports(tile::DotOp dot) const {
  auto lhs = cast<RankedTensorType>(dot.getLhs().getType());
  auto rhs = cast<RankedTensorType>(dot.getRhs().getType());
  Type a = lhs.getElementType(), b = rhs.getElementType();
  return a == b && (a.isBF16() || a.isF16()) &&
         dot.getType().getElementType().isF32() && lhs.getDimSize(0) % 16 == 0 &&
         lhs.getDimSize(1) % 16 == 0 && rhs.getDimSize(1) % 16 == 0;
}

/// (No AMD lowering stages operands: they are published, rows of their
/// natural length.)
Value AmdMatrixCoreLowering::emit(ConversionPatternRewriter &rewriter,
                                  tile::DotOp op, const Layout &layout,
                                  const SharedOperands &operands, Value acc,
                                  int64_t m, int64_t n, int64_t k,
                                  int64_t resultOffset) const {
  Value a = operands.a, b = operands.b;
  bool aTransposed = operands.aTransposed, bTransposed = operands.bTransposed;
  Location loc = op.getLoc();
  Type element = cast<RankedTensorType>(op.getLhs().getType()).getElementType();
  Type f32 = rewriter.getF32Type();
  auto c = [&](int64_t v) { return tile::indexConstant(rewriter, loc, v); };
  auto add = [&](Value x, Value y) {
    return arith::AddIOp::create(rewriter, loc, x, y).getResult();
  };
  auto mul = [&](Value x, int64_t y) {
    return arith::MulIOp::create(rewriter, loc, x, c(y)).getResult();
  };
  bool mfma = kind == MatrixCoreKind::Mfma;
  int64_t wave = waveSize();
  int64_t waves = std::max<int64_t>(1, layout.threads / wave);
  int64_t tilesN = n / 16, tiles = (m / 16) * tilesN;
  // Elements per lane of an operand fragment and of the result.
  int64_t operandElements = mfma ? 4 : 16, resultElements = mfma ? 4 : 8;
  Value result = workspaceView(rewriter, op, resultOffset, f32, m * n);

  Value tid = gpu::ThreadIdOp::create(rewriter, loc, gpu::Dimension::x);
  Value waveIndex = arith::DivUIOp::create(rewriter, loc, tid, c(wave));
  Value lane = arith::RemUIOp::create(rewriter, loc, tid, c(wave));
  Value lane16 = arith::RemUIOp::create(rewriter, loc, lane, c(16));
  Value group = arith::DivUIOp::create(rewriter, loc, lane, c(16));
  auto run = VectorType::get({operandElements}, element);
  // X[i][j .. j + operandElements) of a published [rows, columns] matrix
  // stored row-major (one vector load) or as its transpose ([columns,
  // rows]: one element per row of the storage).
  auto loadRun = [&](Value view, Value i, Value j, int64_t rows,
                     int64_t columns, bool transposed) -> Value {
    if (!transposed)
      return vector::LoadOp::create(rewriter, loc, run, view,
                                    ValueRange{add(mul(i, columns), j)});
    SmallVector<Value> values;
    for (int64_t e = 0; e < operandElements; ++e)
      values.push_back(memref::LoadOp::create(
          rewriter, loc, view, ValueRange{add(mul(add(j, c(e)), rows), i)}));
    return vector::FromElementsOp::create(rewriter, loc, run, values);
  };

  auto fragmentType = VectorType::get({resultElements}, f32);
  forEachGroupTile(rewriter, loc, waveIndex, waves, tiles, [&](Value tileIndex) {
    Value row0 = mul(arith::DivUIOp::create(rewriter, loc, tileIndex, c(tilesN)), 16);
    Value col0 = mul(arith::RemUIOp::create(rewriter, loc, tileIndex, c(tilesN)), 16);
    Value aRow = add(row0, lane16), bColumn = add(col0, lane16);
    Value fragment = arith::ConstantOp::create(
        rewriter, loc, fragmentType,
        SplatElementsAttr::get(fragmentType, rewriter.getF32FloatAttr(0.0f)));
    for (int64_t k0 = 0; k0 < k; k0 += 16) {
      // MFMA: lane group g holds K elements 4g .. 4g + 3; WMMA: all 16.
      Value kStart = mfma ? add(c(k0), mul(group, 4)) : c(k0);
      // A runs along K in rows of A; B along K in columns of B, which are
      // the rows of B^T (what a transposed B publishes).
      Value aRun = loadRun(a, aRow, kStart, m, k, aTransposed);
      Value bRun = loadRun(b, bColumn, kStart, n, k, !bTransposed);
      if (mfma)
        fragment = amdgpu::MFMAOp::create(rewriter, loc, fragmentType, 16, 16,
                                          16, 1, aRun, bRun, fragment);
      else
        fragment = amdgpu::WMMAOp::create(rewriter, loc, fragmentType, 16, 16,
                                          16, aRun, bRun, fragment);
    }
    // MFMA: element e is row 4g + e; WMMA: row 2e + g; column l % 16.
    for (int64_t e = 0; e < resultElements; ++e) {
      Value row = mfma ? add(row0, add(mul(group, 4), c(e)))
                       : add(row0, add(c(2 * e), group));
      Value value = vector::ExtractOp::create(rewriter, loc, fragment,
                                              ArrayRef<int64_t>{e});
      memref::StoreOp::create(rewriter, loc, value, result,
                              ValueRange{add(mul(row, n), bColumn)});
    }
  });
  return addPublishedResult(rewriter, loc, layout, result, acc, m * n);
}

} // namespace prism::amd
