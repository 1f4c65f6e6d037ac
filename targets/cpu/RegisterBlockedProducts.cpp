//===- RegisterBlockedProducts.cpp - Products as CPU micro-kernels --------===//
//
// vector.contract's outer products update the whole accumulator at every k:
// a matmul tile larger than the register file (8 x 64 f32 is 32 AVX-512
// registers) is then a spill and a reload per FMA, and the tile cannot grow
// to reuse its operands. Here each block of rows x (registers x lanes)
// accumulators is loaded once, updated over all of K (a broadcast A element
// per row and one B row per register and k), and stored once.
//
//===----------------------------------------------------------------------===//

#include "targets/cpu/RegisterBlockedProducts.h"

#include "targets/cpu/MemoryBlocks.h"

#include "dialects/Tile/Utils/MemoryAccess.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Dialect/Vector/Transforms/LoweringPatterns.h"
#include "mlir/IR/Matchers.h"
#include "mlir/Interfaces/VectorInterfaces.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

using namespace mlir;
using prism::tile::indexConstant;

namespace prism::cpu {
namespace {

/// Products smaller than this (M N K) keep vector.contract: the buffers
/// would cost more than they save.
constexpr int64_t kMinBlockedProduct = 4096;

/// Marks the operand transposes this lowering makes, for the shuffles of
/// finishRegisterBlockedProducts.
constexpr llvm::StringLiteral kPackingTranspose = "prism.cpu_packing_transpose";

/// The register block of a [m, n] f32 accumulator: rows x registers of
/// `lanes` columns, as many rows as leave room for the B row and the
/// broadcast A element (AVX2: 6 x 2, BLIS's and OpenBLAS's sgemm shape;
/// AVX-512: 14 x 2 at most), rows dividing m, registers dividing n. Nothing
/// when n is not a multiple of the lanes.
std::optional<ProductPlan> registerBlockOf(int64_t m, int64_t n, RegisterFile file) {
  // Columns that are not whole registers (a rope projection's N tile of 8
  // for head dim 80) take registers of half or a quarter of the width.
  int64_t lanes = file.lanes;
  while (lanes > 4 && n % lanes != 0)
    lanes /= 2;
  if (m <= 0 || n % lanes != 0)
    return std::nullopt;
  int64_t registers = (n / lanes) % 2 == 0 ? 2 : 1;
  int64_t rows = std::min(std::max<int64_t>(1, (file.count - registers - 2) / registers), m);
  while (m % rows != 0)
    --rows;
  ProductPlan plan;
  plan.rows = rows;
  plan.registers = registers;
  plan.lanes = lanes;
  return plan;
}

bool isPackableElement(Type type) { return type.isF32() || isHalfFloat(type); }

/// Operands may also be i8 (exact in f32).
bool isPackableOperand(Type type) { return isPackableElement(type) || type.isSignlessInteger(8); }

/// The load a product operand is read from: through reshapes that only drop
/// leading unit dimensions, and at most one 2-D transpose.
std::optional<MemoryOperand> memoryOperandOf(Value operand) {
  auto type = cast<RankedTensorType>(operand.getType());
  bool transposed = false;
  Value source = operand;
  if (auto transpose = source.getDefiningOp<tile::TransposeOp>()) {
    if (transpose.getPermutation() != ArrayRef<int64_t>{1, 0})
      return std::nullopt;
    transposed = true;
    source = transpose.getInput();
  }
  while (auto reshape = source.getDefiningOp<tile::ReshapeOp>())
    source = reshape.getInput();
  auto load = source.getDefiningOp<tile::LoadOp>();
  if (!load || !isPackableOperand(load.getType().getElementType()) ||
      !hasUnitInnermostStride(cast<MemRefType>(load.getBase().getType())))
    return std::nullopt;
  ArrayRef<int64_t> shape = load.getType().getShape();
  int64_t rank = shape.size();
  if (rank < 2 || llvm::any_of(shape.drop_back(2), [](int64_t d) { return d != 1; }) ||
      shape[rank - 2] != type.getDimSize(transposed ? 1 : 0) ||
      shape[rank - 1] != type.getDimSize(transposed ? 0 : 1))
    return std::nullopt;
  return MemoryOperand{load, transposed};
}

/// Whether every use of `value` is, through reshapes and transposes, an
/// operand that a planned product packs from `load` itself.
bool onlyPackedBy(Value value, tile::LoadOp load, const ProductPlans &plans) {
  return llvm::all_of(value.getUses(), [&](OpOperand &use) {
    Operation *user = use.getOwner();
    if (isa<tile::ReshapeOp, tile::TransposeOp>(user))
      return onlyPackedBy(user->getResult(0), load, plans);
    auto dot = dyn_cast<tile::DotOp>(user);
    const ProductPlan *plan = dot ? plans.lookup(dot) : nullptr;
    if (!plan || use.getOperandNumber() > 1)
      return false;
    const std::optional<MemoryOperand> &operand =
        use.getOperandNumber() == 0 ? plan->lhs : plan->rhs;
    return operand && operand->load == load;
  });
}

/// f32 from the storage form of `element` (i16 bits of f16/bf16, i8).
Value storageToF32(OpBuilder &b, Location loc, Value value, Type element) {
  if (element.isF32())
    return value;
  Type half = element, f32 = b.getF32Type();
  if (auto vector = dyn_cast<VectorType>(value.getType())) {
    half = VectorType::get(vector.getShape(), element);
    f32 = VectorType::get(vector.getShape(), f32);
  }
  if (element.isSignlessInteger(8))
    return arith::SIToFPOp::create(b, loc, f32, value);
  return arith::ExtFOp::create(b, loc, f32, bitcastTo(b, loc, value, half));
}

/// Packs a [rows, cols] operand into `buffer` (f32, that shape) from the
/// block its load reads, widened to f32 and transposed as the product
/// reads it; the load's padding where the block leaves the memref.
void packFromMemory(ConversionPatternRewriter &rewriter, Location loc,
                    const MemoryOperand &operand, Value buffer, RegisterFile file) {
  tile::LoadOp load = operand.load;
  Type element = load.getType().getElementType();
  Type storage = isHalfFloat(element) ? rewriter.getI16Type() : element;
  Value base = rewriter.getRemappedValue(load.getBase());
  SmallVector<Value> indices;
  for (Value index : load.getIndices())
    indices.push_back(rewriter.getRemappedValue(index));
  ArrayRef<int64_t> shape = load.getType().getShape();
  int64_t rank = shape.size(), blockRows = shape[rank - 2], blockCols = shape[rank - 1];
  auto bufferType = cast<MemRefType>(buffer.getType());
  // Position (i, j) of the load's block in the buffer.
  auto at = [&](Value i, Value j) -> SmallVector<Value, 2> {
    if (operand.transposed)
      return {j, i};
    return {i, j};
  };
  // Memory position of the block's (i, j).
  auto source = [&](OpBuilder &b, Location l, Value i, Value j) {
    SmallVector<Value> position(indices.begin(), indices.end());
    position[rank - 2] = arith::AddIOp::create(b, l, indices[rank - 2], i);
    position[rank - 1] = arith::AddIOp::create(b, l, indices[rank - 1], j);
    return position;
  };
  auto forRange = [](OpBuilder &b, Location l, int64_t size, int64_t step,
                     function_ref<void(OpBuilder &, Location, Value)> body) {
    scf::ForOp::create(b, l, indexConstant(b, l, 0), indexConstant(b, l, size),
                       indexConstant(b, l, step), ValueRange{},
                       [&](OpBuilder &inner, Location il, Value iv, ValueRange) {
                         body(inner, il, iv);
                         scf::YieldOp::create(inner, il);
                       });
  };
  int64_t lanes = file.lanes;
  scf::IfOp::create(
      rewriter, loc, blockInBounds(rewriter, loc, base, indices, shape),
      [&](OpBuilder &b, Location l) {
        if (!operand.transposed) {
          // Row i of the block is row i of the buffer.
          auto rowType = VectorType::get({blockCols}, storage);
          forRange(b, l, blockRows, 1, [&](OpBuilder &ib, Location il, Value i) {
            Value zero = indexConstant(ib, il, 0);
            Value row = vector::LoadOp::create(ib, il, rowType, base, source(ib, il, i, zero));
            vector::StoreOp::create(ib, il, storageToF32(ib, il, row, element), buffer,
                                    ValueRange{i, zero});
          });
        } else if (blockRows % lanes == 0 && blockCols % lanes == 0) {
          // Square lanes x lanes blocks, transposed in registers.
          auto squareType = VectorType::get({lanes, lanes}, storage);
          forRange(b, l, blockRows, lanes, [&](OpBuilder &ib, Location il, Value i) {
            forRange(ib, il, blockCols, lanes, [&](OpBuilder &jb, Location jl, Value j) {
              Value padding = arith::ConstantOp::create(jb, jl, jb.getZeroAttr(storage));
              Value square = vector::TransferReadOp::create(
                  jb, jl, squareType, base, source(jb, jl, i, j), padding,
                  ArrayRef<bool>{true, true});
              Value wide = storageToF32(jb, jl, square, element);
              auto transpose = vector::TransposeOp::create(jb, jl, wide, ArrayRef<int64_t>{1, 0});
              transpose->setAttr(kPackingTranspose, jb.getUnitAttr());
              vector::TransferWriteOp::create(jb, jl, transpose, buffer, ValueRange{j, i},
                                              ArrayRef<bool>{true, true});
            });
          });
        } else {
          forRange(b, l, blockRows, 1, [&](OpBuilder &ib, Location il, Value i) {
            forRange(ib, il, blockCols, 1, [&](OpBuilder &jb, Location jl, Value j) {
              Value value = memref::LoadOp::create(jb, jl, base, source(jb, jl, i, j));
              memref::StoreOp::create(jb, jl, storageToF32(jb, jl, value, element), buffer,
                                      at(i, j));
            });
          });
        }
        scf::YieldOp::create(b, l);
      },
      [&](OpBuilder &b, Location l) {
        // The load's padding (0 without one), then the part inside.
        Value padding = load.getPadding() ? rewriter.getRemappedValue(load.getPadding())
                                          : Value();
        Value fill = padding ? storageToF32(b, l, bitcastTo(b, l, padding, storage), element)
                             : arith::ConstantOp::create(b, l, b.getF32FloatAttr(0.0));
        auto bufferVector = VectorType::get(bufferType.getShape(), b.getF32Type());
        Value zero = indexConstant(b, l, 0);
        vector::TransferWriteOp::create(b, l, vector::BroadcastOp::create(b, l, bufferVector, fill),
                                        buffer, ValueRange{zero, zero},
                                        ArrayRef<bool>{true, true});
        forEachInBoundsElement(
            b, l, base, indices, shape,
            [&](OpBuilder &inner, Location il, ValueRange position, ValueRange offset) {
              Value value = memref::LoadOp::create(inner, il, base, position);
              memref::StoreOp::create(inner, il, storageToF32(inner, il, value, element),
                                      buffer, at(offset[rank - 2], offset[rank - 1]));
            });
        scf::YieldOp::create(b, l);
      });
}

} // namespace

ProductPlans ProductPlans::of(ModuleOp module, RegisterFile file) {
  ProductPlans plans;
  module.walk([&](tile::DotOp dot) {
    auto accType = cast<RankedTensorType>(dot.getAcc().getType());
    auto lhsType = cast<RankedTensorType>(dot.getLhs().getType());
    auto rhsType = cast<RankedTensorType>(dot.getRhs().getType());
    int64_t m = accType.getDimSize(0), n = accType.getDimSize(1),
            k = lhsType.getDimSize(1);
    std::optional<ProductPlan> block = registerBlockOf(m, n, file);
    if (!isPackableElement(accType.getElementType()) || !block ||
        m * n * k < kMinBlockedProduct ||
        !isPackableOperand(lhsType.getElementType()) ||
        !isPackableOperand(rhsType.getElementType()))
      return;
    block->lhs = memoryOperandOf(dot.getLhs());
    block->rhs = memoryOperandOf(dot.getRhs());
    plans.products[dot] = *block;
  });
  // A product packs a load's operand where it runs: the memory must be as
  // the load read it, so no store of the kernel may come between. The
  // first top-level op of each kernel that holds a store: a product at or
  // after it packs no operand from memory.
  DenseMap<Region *, Operation *> firstStoring;
  module.walk([&](func::FuncOp kernel) {
    Block &body = kernel.getBody().front();
    kernel.walk([&](tile::StoreOp store) {
      Operation *ancestor = body.findAncestorOpInBlock(*store);
      Operation *&first = firstStoring[&kernel.getBody()];
      if (!first || ancestor->isBeforeInBlock(first))
        first = ancestor;
    });
  });
  for (auto &[op, plan] : plans.products) {
    Region *kernel = &op->getParentOfType<func::FuncOp>().getBody();
    Operation *first = firstStoring.lookup(kernel);
    Operation *dotAncestor = kernel->front().findAncestorOpInBlock(*op);
    if (first && (first == dotAncestor || first->isBeforeInBlock(dotAncestor))) {
      plan.lhs.reset();
      plan.rhs.reset();
    }
  }
  for (auto &[op, plan] : plans.products)
    for (std::optional<MemoryOperand> operand : {plan.lhs, plan.rhs})
      if (operand && onlyPackedBy(operand->load.getResult(), operand->load, plans))
        plans.loadsPackedByProducts.insert(operand->load);
  return plans;
}

Value lowerRegisterBlockedProduct(ConversionPatternRewriter &rewriter, tile::DotOp op,
                                  const ProductPlan &plan, RegisterFile file, Value lhs,
                                  Value rhs, Value acc) {
  Location loc = op.getLoc();
  auto accType = cast<VectorType>(acc.getType());
  int64_t m = accType.getDimSize(0), n = accType.getDimSize(1),
          kSize = cast<VectorType>(lhs.getType()).getDimSize(1);
  Type f32 = rewriter.getF32Type();
  // A 16-bit accumulator: f32 registers rounded to its type after every
  // FMA, the FMA loop vector.contract makes of it (LLVM promotes each f16
  // FMA to f32 and rounds).
  Type accElement = accType.getElementType();
  Value zero = indexConstant(rewriter, loc, 0);
  // The operands in f32 buffers: packed from memory, or written from
  // their vectors.
  auto pack = [&](const std::optional<MemoryOperand> &operand, Value value,
                  ArrayRef<int64_t> shape) {
    Value buffer = stagingBuffer(rewriter, op, shape, f32);
    if (operand) {
      // Packed where the load is: once for a loop of products that reads
      // the same block at every step (attention's queries).
      OpBuilder::InsertionGuard guard(rewriter);
      Operation *load = operand->load;
      if (load->getBlock() != op->getBlock() &&
          load->getBlock()->findAncestorOpInBlock(*op))
        rewriter.setInsertionPoint(load);
      packFromMemory(rewriter, loc, *operand, buffer, file);
      return buffer;
    }
    auto type = cast<VectorType>(value.getType());
    if (type.getElementType().isSignlessInteger(8))
      value = arith::SIToFPOp::create(rewriter, loc, VectorType::get(type.getShape(), f32), value);
    else if (!type.getElementType().isF32())
      value = arith::ExtFOp::create(rewriter, loc, VectorType::get(type.getShape(), f32), value);
    vector::TransferWriteOp::create(rewriter, loc, value, buffer, ValueRange{zero, zero},
                                    ArrayRef<bool>{true, true});
    return buffer;
  };
  Value lhsBuffer = pack(plan.lhs, lhs, {m, kSize});
  Value rhsBuffer = pack(plan.rhs, rhs, {kSize, n});
  Value accBuffer = pack(std::nullopt, acc, {m, n});

  int64_t rows = plan.rows, registers = plan.registers, lanes = plan.lanes;
  auto registerType = VectorType::get({lanes}, f32);
  // Column blocks outside, row blocks inside: a block's B columns (K x
  // registers x lanes) stay in the L1 cache for every row block.
  auto columnBlocks = scf::ForOp::create(rewriter, loc, zero, indexConstant(rewriter, loc, n),
                                         indexConstant(rewriter, loc, registers * lanes));
  {
    OpBuilder::InsertionGuard guard(rewriter);
    rewriter.setInsertionPointToStart(columnBlocks.getBody());
    Value j0 = columnBlocks.getInductionVar();
    auto rowBlocks = scf::ForOp::create(rewriter, loc, zero, indexConstant(rewriter, loc, m),
                                        indexConstant(rewriter, loc, rows));
    rewriter.setInsertionPointToStart(rowBlocks.getBody());
    Value i0 = rowBlocks.getInductionVar();
    SmallVector<Value> rowIndex, columnIndex;
    for (int64_t r = 0; r < rows; ++r)
      rowIndex.push_back(arith::AddIOp::create(rewriter, loc, i0, indexConstant(rewriter, loc, r)));
    for (int64_t c = 0; c < registers; ++c)
      columnIndex.push_back(
          arith::AddIOp::create(rewriter, loc, j0, indexConstant(rewriter, loc, c * lanes)));
    SmallVector<Value> block;
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t c = 0; c < registers; ++c)
        block.push_back(vector::LoadOp::create(rewriter, loc, registerType, accBuffer,
                                               ValueRange{rowIndex[r], columnIndex[c]}));
    auto kLoop = scf::ForOp::create(
        rewriter, loc, zero, indexConstant(rewriter, loc, kSize), indexConstant(rewriter, loc, 1),
        block, [&](OpBuilder &b, Location l, Value kk, ValueRange carried) {
          SmallVector<Value> bRow;
          for (int64_t c = 0; c < registers; ++c)
            bRow.push_back(vector::LoadOp::create(b, l, registerType, rhsBuffer,
                                                  ValueRange{kk, columnIndex[c]}));
          SmallVector<Value> next;
          for (int64_t r = 0; r < rows; ++r) {
            Value a = memref::LoadOp::create(b, l, lhsBuffer, ValueRange{rowIndex[r], kk});
            Value aSplat = vector::BroadcastOp::create(b, l, registerType, a);
            for (int64_t c = 0; c < registers; ++c) {
              Value sum = vector::FMAOp::create(b, l, aSplat, bRow[c], carried[r * registers + c]);
              if (!accElement.isF32())
                sum = arith::ExtFOp::create(
                    b, l, registerType,
                    arith::TruncFOp::create(b, l, VectorType::get({lanes}, accElement), sum)
                        .getResult());
              next.push_back(sum);
            }
          }
          scf::YieldOp::create(b, l, next);
        });
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t c = 0; c < registers; ++c)
        vector::StoreOp::create(rewriter, loc, kLoop.getResult(r * registers + c), accBuffer,
                                ValueRange{rowIndex[r], columnIndex[c]});
  }
  auto wideType = VectorType::get(accType.getShape(), f32);
  Value result = vector::TransferReadOp::create(
      rewriter, loc, wideType, accBuffer, ValueRange{zero, zero},
      arith::ConstantOp::create(rewriter, loc, rewriter.getZeroAttr(f32)),
      ArrayRef<bool>{true, true});
  if (!accElement.isF32())
    result = arith::TruncFOp::create(rewriter, loc, accType, result);
  return result;
}

namespace {

/// Whether `op` reads or writes the whole of `buffer` as one vector of
/// `type`.
bool isWholeBuffer(Operation *op, Value buffer, VectorType type) {
  auto access = dyn_cast<VectorTransferOpInterface>(op);
  if (!access || access.getBase() != buffer || access.hasOutOfBoundsDim() ||
      !access.getPermutationMap().isMinorIdentity() || access.getMask())
    return false;
  auto memrefType = dyn_cast<MemRefType>(buffer.getType());
  if (!memrefType || memrefType.getShape() != type.getShape() || access.getVectorType() != type)
    return false;
  return llvm::all_of(access.getIndices(),
                      [](Value index) { return matchPattern(index, m_Zero()); });
}

/// A K loop's accumulator lives in its product's stack buffer from one
/// step to the next: a loop-carried vector that the step only writes whole
/// into a buffer and that it yields read back whole from that buffer is
/// written once before the loop and read once after it. Otherwise LLVM
/// carries the tile (a 128 x 128 f32 accumulator is 1024 AVX-512
/// registers) through the stack and the buffer at every step.
void keepAccumulatorsInBuffers(ModuleOp module) {
  module.walk([&](scf::ForOp loop) {
    auto yield = cast<scf::YieldOp>(loop.getBody()->getTerminator());
    for (unsigned i = 0; i < loop.getNumRegionIterArgs(); ++i) {
      BlockArgument carried = loop.getRegionIterArg(i);
      auto type = dyn_cast<VectorType>(carried.getType());
      if (!type || !carried.hasOneUse())
        continue;
      auto write = dyn_cast<vector::TransferWriteOp>(*carried.getUsers().begin());
      if (!write || write.getValueToStore() != carried || write->getBlock() != loop.getBody())
        continue;
      Value buffer = write.getBase();
      auto read = yield.getOperand(i).getDefiningOp<vector::TransferReadOp>();
      if (!buffer.getDefiningOp<memref::AllocaOp>() || !read || !read->hasOneUse() ||
          read->getBlock() != loop.getBody() || !write->isBeforeInBlock(read) ||
          !isWholeBuffer(write, buffer, type) || !isWholeBuffer(read, buffer, type))
        continue;
      // The buffer is this product's own: every other access is in the loop.
      if (!llvm::all_of(buffer.getUsers(),
                        [&](Operation *user) { return loop->isProperAncestor(user); }))
        continue;
      OpBuilder builder(loop);
      Location loc = loop.getLoc();
      SmallVector<bool> inBounds(type.getRank(), true);
      SmallVector<Value> origin(type.getRank(), indexConstant(builder, loc, 0));
      vector::TransferWriteOp::create(builder, loc, loop.getInitArgs()[i], buffer, origin,
                                      ArrayRef<bool>(inBounds));
      builder.setInsertionPointAfter(loop);
      Value padding =
          arith::ConstantOp::create(builder, loc, builder.getZeroAttr(type.getElementType()));
      Value finalRead = vector::TransferReadOp::create(builder, loc, type, buffer, origin,
                                                       padding, ArrayRef<bool>(inBounds));
      loop.getResult(i).replaceAllUsesWith(finalRead);
      write.erase();
      // Yielding the argument itself leaves it dead: canonicalization drops it.
      yield->setOperand(i, carried);
      read.erase();
    }
  });
}

/// An epilogue's copy of a product's accumulator buffer into its own
/// (EpilogueRows: the K-loop result stored whole, then read by chunks of
/// rows) reads the accumulator buffer instead, where nothing writes that
/// buffer after the copy and nothing but the copy writes the epilogue's.
void forwardAccumulatorCopies(ModuleOp module) {
  SmallVector<vector::TransferWriteOp> copies;
  module.walk([&](vector::TransferWriteOp write) { copies.push_back(write); });
  for (vector::TransferWriteOp write : copies) {
    auto read = write.getValueToStore().getDefiningOp<vector::TransferReadOp>();
    Value from = read ? read.getBase() : Value(), to = write.getBase();
    auto type = dyn_cast<VectorType>(write.getValueToStore().getType());
    if (!read || !type || !read->hasOneUse() || read->getBlock() != write->getBlock() ||
        !from.getDefiningOp<memref::AllocaOp>() || !to.getDefiningOp<memref::AllocaOp>() ||
        from.getType() != to.getType() || !isWholeBuffer(read, from, type) ||
        !isWholeBuffer(write, to, type))
      continue;
    bool onlyWrite = llvm::all_of(to.getUsers(), [&](Operation *user) {
      return user == write.getOperation() ||
             isa<vector::TransferReadOp, vector::LoadOp, memref::LoadOp, memref::DimOp>(user);
    });
    Block *block = write->getBlock();
    bool notWrittenAfter = llvm::all_of(from.getUsers(), [&](Operation *user) {
      if (user == read.getOperation())
        return true;
      Operation *ancestor = block->findAncestorOpInBlock(*user);
      return ancestor && ancestor->isBeforeInBlock(read);
    });
    if (!onlyWrite || !notWrittenAfter)
      continue;
    to.replaceUsesWithIf(from, [&](OpOperand &use) { return use.getOwner() != write; });
    write.erase();
    read.erase();
  }
}

} // namespace

void finishRegisterBlockedProducts(ModuleOp module, RegisterFile file) {
  keepAccumulatorsInBuffers(module);
  forwardAccumulatorCopies(module);
  // The packing transposes as shuffles of whole registers (16 x 16 on
  // AVX-512; one shuffle of the 8 x 8 block on AVX2), not LLVM's element
  // by element default.
  SmallVector<Operation *> transposes;
  module.walk([&](vector::TransposeOp transpose) {
    if (transpose->hasAttr(kPackingTranspose)) {
      transpose->removeAttr(kPackingTranspose);
      transposes.push_back(transpose);
    }
  });
  if (transposes.empty())
    return;
  RewritePatternSet patterns(module.getContext());
  vector::populateVectorTransposeLoweringPatterns(
      patterns, file.lanes == 16 ? vector::VectorTransposeLowering::Shuffle16x16
                                 : vector::VectorTransposeLowering::Shuffle1D);
  (void)applyOpPatternsGreedily(transposes, std::move(patterns));
}

} // namespace prism::cpu
