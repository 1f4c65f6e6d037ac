//===- TileOps.h - Operations of the tile dialect ---------------*- C++ -*-===//

#ifndef PRISM_DIALECTS_TILE_IR_TILEOPS_H
#define PRISM_DIALECTS_TILE_IR_TILEOPS_H

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "dialects/Tile/IR/TileDialect.h"
#include "dialects/Tile/IR/TileEnums.h.inc"

#define GET_OP_CLASSES
#include "dialects/Tile/IR/TileOps.h.inc"

#endif // PRISM_DIALECTS_TILE_IR_TILEOPS_H
