//===- MatrixCoreLowering.h - tile.dot on AMD matrix cores ------*- C++ -*-===//
//
// bf16/f16 dots into f32 in whole 16x16x16 tiles run on the matrix cores:
// MFMA (v_mfma_f32_16x16x16{f16,bf16}) on CDNA (gfx90a, gfx942; waves of
// 64) and WMMA (v_wmma_f32_16x16x16_{f16,bf16}) on RDNA3 (gfx1100; waves
// of 32). Each wave takes 16x16 C tiles round-robin, accumulates them over
// K from fragments read out of the published operands, and writes them to
// shared memory, from where every thread reads its own elements of C.
//
// The fragment layouts (lane l, element e of the lane's vector):
//   MFMA  A: A[l % 16][4 (l / 16) + e]   B: B[4 (l / 16) + e][l % 16]
//         D: D[4 (l / 16) + e][l % 16]                      (e < 4)
//   WMMA  A: A[l % 16][e]                B: B[e][l % 16]       (e < 16,
//         lanes 16..31 repeat lanes 0..15)
//         D: D[2 e + l / 16][l % 16]                        (e < 8)
//
//===----------------------------------------------------------------------===//

#ifndef PRISM_TARGETS_AMD_MATRIXCORELOWERING_H
#define PRISM_TARGETS_AMD_MATRIXCORELOWERING_H

#include "targets/gpu/TileToGpu.h"

namespace prism::amd {

enum class MatrixCoreKind { Mfma, Wmma };

class AmdMatrixCoreLowering : public gpu_lowering::MatrixCoreLowering {
public:
  explicit AmdMatrixCoreLowering(MatrixCoreKind kind) : kind(kind) {}

  bool supports(tile::DotOp dot) const override;
  void addLegalDialects(mlir::ConversionTarget &target) const override;
  mlir::Value emit(mlir::ConversionPatternRewriter &rewriter, tile::DotOp dot,
                   const gpu_lowering::Layout &layout,
                   const gpu_lowering::SharedOperands &operands, mlir::Value acc,
                   int64_t m, int64_t n, int64_t k,
                   int64_t resultOffset) const override;

  /// Lanes of a wave: 64 for MFMA, 32 for WMMA (gfx11 in wave32 mode).
  int64_t waveSize() const { return kind == MatrixCoreKind::Mfma ? 64 : 32; }

private:
  MatrixCoreKind kind;
};

} // namespace prism::amd

#endif // PRISM_TARGETS_AMD_MATRIXCORELOWERING_H
