//===- TileDialect.cpp - The tile dialect ---------------------------------===//

#include "dialects/Tile/IR/TileDialect.h"
#include "dialects/Tile/IR/TileOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/DialectImplementation.h"
#include "mlir/Interfaces/FunctionInterfaces.h"

using namespace mlir;
using namespace prism::tile;

#include "dialects/Tile/IR/TileDialect.cpp.inc"
#include "dialects/Tile/IR/TileEnums.cpp.inc"

#define GET_OP_CLASSES
#include "dialects/Tile/IR/TileOps.cpp.inc"

void TileDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "dialects/Tile/IR/TileOps.cpp.inc"
      >();
}

/// Kernel arguments are what a runtime can pass by value or by address:
/// strided memrefs (global memory) and integer, index or float scalars.
static bool isKernelArgumentType(Type type) {
  if (auto memref = dyn_cast<MemRefType>(type))
    return memref.isStrided();
  return type.isIntOrIndexOrFloat();
}

LogicalResult TileDialect::verifyOperationAttribute(Operation *op,
                                                    NamedAttribute attribute) {
  if (attribute.getName() == getPipelineStagesAttrName() ||
      attribute.getName() == getDotsInFlightAttrName() ||
      attribute.getName() == getWarpSpecializeAttrName()) {
    auto value = dyn_cast<IntegerAttr>(attribute.getValue());
    bool stages = attribute.getName() == getPipelineStagesAttrName();
    int64_t most = attribute.getName() == getWarpSpecializeAttrName() ? 2 : 1;
    if (!value || (stages ? value.getInt() < 2 : value.getInt() < 0 || value.getInt() > most))
      return op->emitError("'") << attribute.getName().getValue() << "' must be an integer "
                                << (stages ? "of at least 2" : most == 2 ? "0 to 2" : "0 or 1");
    // (Lowered kernels keep them after losing tile.kernel.)
    return success();
  }
  if (attribute.getName() != getKernelAttrName())
    return op->emitError("unknown tile dialect attribute '")
           << attribute.getName().getValue() << "'";
  if (!isa<UnitAttr>(attribute.getValue()))
    return op->emitError("'tile.kernel' must be a unit attribute");
  auto function = dyn_cast<FunctionOpInterface>(op);
  if (!function)
    return op->emitError("'tile.kernel' may only mark a function");
  if (!function.getResultTypes().empty())
    return op->emitError("tile kernel must not return values (results are "
                         "stored to memref arguments)");
  for (auto [index, type] : llvm::enumerate(function.getArgumentTypes()))
    if (!isKernelArgumentType(type))
      return op->emitError("tile kernel argument #")
             << index << " must be a strided memref or a scalar, but got "
             << type;
  return success();
}
