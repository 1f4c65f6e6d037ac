//===- EpilogueRows.h - Large tiles' epilogues a few rows at a time -*- C++ -*-===//
//
// On the CPU a tile is a vector that LLVM unrolls: the epilogue of a 64 x 128
// matmul tile (a bias, an activation, the conversion, the store) is 512
// AVX-512 registers per operation, tens of thousands of instructions that
// take seconds to compile and do not fit the instruction cache. Computed on
// chunks of a few rows in a loop, each operation is a few registers.
//
//===----------------------------------------------------------------------===//

#ifndef PRISM_TARGETS_CPU_EPILOGUEROWS_H
#define PRISM_TARGETS_CPU_EPILOGUEROWS_H

#include "mlir/IR/BuiltinOps.h"

namespace prism::cpu {

/// In every tile kernel of `module`: a tile.store of a [1.., M, N] tile
/// computed, row by row, from K-loop results (written to a stack buffer
/// once), loads of blocks of that shape, splats, broadcasts of single rows
/// and elementwise operations, becomes a loop over chunks of rows of about
/// `chunkElements` elements that recomputes and stores each chunk.
void computeEpiloguesInRowChunks(mlir::ModuleOp module, int64_t chunkElements);

} // namespace prism::cpu

#endif // PRISM_TARGETS_CPU_EPILOGUEROWS_H
