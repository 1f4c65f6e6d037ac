//===- RegisterBlockedProducts.h - Products as CPU micro-kernels -*- C++ -*-===//
//
// tile.dot on the CPU as BLIS's micro-kernel: blocks of the accumulator stay
// in vector registers over the whole K of a step, each fed by one broadcast
// A element per row and one B row per register. The operands are packed into
// f32 stack buffers (transposed where the product reads them transposed,
// widened from f16/bf16), straight from memory when a tile.load reads them.
// See docs/design.md, "The CPU backend's products".
//
//===----------------------------------------------------------------------===//

#ifndef PRISM_TARGETS_CPU_REGISTERBLOCKEDPRODUCTS_H
#define PRISM_TARGETS_CPU_REGISTERBLOCKEDPRODUCTS_H

#include "dialects/Tile/IR/TileOps.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Transforms/DialectConversion.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/DenseSet.h"

#include <optional>

namespace prism::cpu {

/// The vector registers products are blocked for: `lanes` f32 per register,
/// `count` of them (AVX-512: 16 and 32; AVX2: 8 and 16).
struct RegisterFile {
  int64_t lanes = 8;
  int64_t count = 16;
};

/// A product operand that a tile.load reads: the load's [.., 1, r, c] block
/// is the operand, or its transpose.
struct MemoryOperand {
  tile::LoadOp load;
  bool transposed = false;
};

/// How one tile.dot is lowered: register blocks of `rows` x (`registers` x
/// lanes) accumulators, each operand packed from memory where a load reads
/// it.
struct ProductPlan {
  int64_t rows = 0;
  int64_t registers = 0;
  int64_t lanes = 0; // f32 per register: the file's, or fewer for narrow N
  std::optional<MemoryOperand> lhs, rhs;
};

/// The plans of a module's register-blocked products, made before the
/// conversion (on the tile IR), and the loads whose every use is an
/// operand such a product packs from memory itself.
struct ProductPlans {
  llvm::DenseMap<mlir::Operation *, ProductPlan> products;
  llvm::DenseSet<mlir::Operation *> loadsPackedByProducts;

  static ProductPlans of(mlir::ModuleOp module, RegisterFile file);
  const ProductPlan *lookup(tile::DotOp dot) const {
    auto found = products.find(dot.getOperation());
    return found == products.end() ? nullptr : &found->second;
  }
};

/// acc + lhs rhs by `plan` (lhs, rhs: the converted operand vectors, used
/// where the plan does not pack an operand from memory; acc: f32, or f16 /
/// bf16 rounded after every FMA).
mlir::Value lowerRegisterBlockedProduct(mlir::ConversionPatternRewriter &rewriter,
                                        tile::DotOp op, const ProductPlan &plan,
                                        RegisterFile file, mlir::Value lhs, mlir::Value rhs,
                                        mlir::Value acc);

/// After the conversion: a K loop's accumulator stays in its product's
/// stack buffer from one step to the next instead of going through a
/// loop-carried vector; the operand transposes use the register file's
/// shuffles.
void finishRegisterBlockedProducts(mlir::ModuleOp module, RegisterFile file);

} // namespace prism::cpu

#endif // PRISM_TARGETS_CPU_REGISTERBLOCKEDPRODUCTS_H
