//===- MemoryBlocks.h - Blocks of memory in the CPU tile lowering -*- C++ -*-===//
//
// What the CPU lowering of tile loads, stores and products shares: the i16
// storage form of f16/bf16, bounds tests of a block and loops over the part
// of a block inside a memref, and stack buffers allocated at a kernel's entry.
//
//===----------------------------------------------------------------------===//

#ifndef PRISM_TARGETS_CPU_MEMORYBLOCKS_H
#define PRISM_TARGETS_CPU_MEMORYBLOCKS_H

#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/Builders.h"

namespace prism::cpu {

bool isHalfFloat(mlir::Type type);

/// The vector type memory holds for a tile of `type` (i16 for f16/bf16).
mlir::VectorType storageTypeOf(mlir::VectorType type);

/// Bits of a value as the storage type, or back.
mlir::Value bitcastTo(mlir::OpBuilder &b, mlir::Location loc, mlir::Value value,
                      mlir::Type type);

bool hasUnitInnermostStride(mlir::MemRefType type);

/// Whether the block [indices, indices + shape) lies inside `memref`
/// (unsigned: a start past the end, or "negative", is outside).
mlir::Value blockInBounds(mlir::OpBuilder &b, mlir::Location loc, mlir::Value memref,
                          mlir::ValueRange indices, llvm::ArrayRef<int64_t> shape);

/// Whether that is known at compile time (a static memref, constant
/// indices).
bool staticallyInBounds(mlir::Value memref, mlir::ValueRange indices,
                        llvm::ArrayRef<int64_t> shape);

/// A loop nest over the elements of the block [indices, indices + shape)
/// that are inside `memref`; `body` gets their memref and block positions.
void forEachInBoundsElement(
    mlir::OpBuilder &b, mlir::Location loc, mlir::Value memref, mlir::ValueRange indices,
    llvm::ArrayRef<int64_t> shape,
    llvm::function_ref<void(mlir::OpBuilder &, mlir::Location, mlir::ValueRange,
                            mlir::ValueRange)>
        body);

/// Stores of outputs at least this large bypass the caches (non-temporal
/// stores): they would evict what the next kernel reads, and an ordinary
/// store first reads the line it writes (a third of a row kernel's memory
/// traffic).
constexpr int64_t kStreamingStoreBytes = int64_t(16) << 20;

/// Writes `value` (one row: a vector whose dimensions but the last are 1)
/// to the block at `indices` of `memref`, inside it: with non-temporal
/// stores of `vectorBytes`-aligned registers where the memref holds at
/// least kStreamingStoreBytes and the block's address is aligned, else
/// with an ordinary transfer.
void writeRowStreaming(mlir::OpBuilder &b, mlir::Location loc, mlir::Value value,
                       mlir::Value memref, mlir::ValueRange indices, int64_t vectorBytes);

/// A stack buffer of `shape` and `element`, allocated once at the entry of
/// the kernel that holds `user`.
mlir::Value stagingBuffer(mlir::OpBuilder &b, mlir::Operation *user,
                          llvm::ArrayRef<int64_t> shape, mlir::Type element);
inline mlir::Value stagingBuffer(mlir::OpBuilder &b, mlir::Operation *user,
                                 mlir::VectorType type) {
  return stagingBuffer(b, user, type.getShape(), type.getElementType());
}

} // namespace prism::cpu

#endif // PRISM_TARGETS_CPU_MEMORYBLOCKS_H
