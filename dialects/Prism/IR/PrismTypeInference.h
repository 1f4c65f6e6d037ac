//===- PrismTypeInference.h - Shared checks of the prism ops ----*- C++ -*-===//
//
// The prism ops compute their result types from their operands
// (InferTypeOpAdaptor) and do every type check while doing so, so that the
// parser, the builders and the verifier all report the same message. These
// helpers are the vocabulary those checks share.
//
//===----------------------------------------------------------------------===//

#ifndef PRISM_DIALECTS_PRISM_IR_PRISMTYPEINFERENCE_H
#define PRISM_DIALECTS_PRISM_IR_PRISMTYPEINFERENCE_H

#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Location.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringRef.h"

#include <optional>
#include <string>

namespace prism {

/// Reports "'<op name>' op <message>" at a location, when there is one (type
/// inference may run without a location, and then stays silent).
class OpDiagnostic {
public:
  OpDiagnostic(std::optional<mlir::Location> location, llvm::StringRef opName)
      : location(location), opName(opName) {}

  template <typename... Args>
  llvm::LogicalResult fail(Args &&...args) const {
    if (!location)
      return llvm::failure();
    mlir::InFlightDiagnostic diag = mlir::emitError(*location);
    diag << "'" << opName << "' op ";
    (diag << ... << std::forward<Args>(args));
    return diag;
  }

private:
  std::optional<mlir::Location> location;
  llvm::StringRef opName;
};

/// f32, f16 or bf16: the element types every prism op computes on.
bool isPrismFloatType(mlir::Type type);
/// i8 or f8E4M3FN: storage-only element types (cast, matmul weights).
bool isPrismQuantizedType(mlir::Type type);
/// i32 or i64: element types of index tensors (embedding ids, positions).
bool isPrismIndexType(mlir::Type type);

/// "?" for a dynamic dimension, the number otherwise.
std::string formatDim(int64_t dim);
/// Two dimensions that may be equal at run time.
bool areDimsCompatible(int64_t lhs, int64_t rhs);

/// Checks that `type` is a ranked tensor of f32/f16/bf16; the message names
/// the operand.
mlir::FailureOr<mlir::RankedTensorType>
requireFloatTensor(const OpDiagnostic &diag, llvm::StringRef operandName,
                   mlir::Type type);
/// Checks that `type` is a ranked tensor of i32/i64.
mlir::FailureOr<mlir::RankedTensorType>
requireIndexTensor(const OpDiagnostic &diag, llvm::StringRef operandName,
                   mlir::Type type);
/// Checks `tensor` has the given rank.
llvm::LogicalResult requireRank(const OpDiagnostic &diag,
                                llvm::StringRef operandName,
                                mlir::RankedTensorType tensor, int64_t rank,
                                llvm::StringRef layout = "");
/// Checks a per-feature parameter (norm weight/bias, matmul bias): rank 1,
/// `expectedSize` elements, and `elementType` or f32.
llvm::LogicalResult
requireFeatureVector(const OpDiagnostic &diag, llvm::StringRef operandName,
                     mlir::Type type, int64_t expectedSize,
                     mlir::Type elementType, llvm::StringRef sizeName);
/// Normalizes `axis` in [-rank, rank) to [0, rank).
mlir::FailureOr<int64_t> normalizeAxis(const OpDiagnostic &diag,
                                       llvm::StringRef attrName, int64_t axis,
                                       int64_t rank);

/// numpy broadcasting of two shapes (aligned from the right; a static 1
/// stretches; a dynamic dimension against a static n > 1 is n).
mlir::FailureOr<llvm::SmallVector<int64_t>>
broadcastShapes(const OpDiagnostic &diag, llvm::StringRef lhsName,
                mlir::RankedTensorType lhs, llvm::StringRef rhsName,
                mlir::RankedTensorType rhs);

/// Product of static dimensions; std::nullopt on int64 overflow.
std::optional<int64_t> staticElementCount(llvm::ArrayRef<int64_t> shape);

/// Result type of the broadcasting binary ops (add, sub, mul, ...).
llvm::LogicalResult
inferBroadcastBinaryOp(std::optional<mlir::Location> location,
                       llvm::StringRef opName, mlir::Type lhs, mlir::Type rhs,
                       llvm::SmallVectorImpl<mlir::Type> &results);
/// Result type of the elementwise unary ops (exp, silu, ...).
llvm::LogicalResult
inferElementwiseUnaryOp(std::optional<mlir::Location> location,
                        llvm::StringRef opName, mlir::Type input,
                        llvm::SmallVectorImpl<mlir::Type> &results);

} // namespace prism

#endif // PRISM_DIALECTS_PRISM_IR_PRISMTYPEINFERENCE_H
