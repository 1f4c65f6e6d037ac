//===- TileDialect.h - SPMD tile programs -----------------------*- C++ -*-===//

#ifndef PRISM_DIALECTS_TILE_IR_TILEDIALECT_H
#define PRISM_DIALECTS_TILE_IR_TILEDIALECT_H

#include "mlir/IR/Dialect.h"

#include "dialects/Tile/IR/TileDialect.h.inc"

#endif // PRISM_DIALECTS_TILE_IR_TILEDIALECT_H
