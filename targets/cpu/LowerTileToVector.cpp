//===- LowerTileToVector.cpp - Tile kernels to vectors on the CPU ---------===//
//
// On the CPU a program instance is one call of the kernel function, and each
// tile is an n-D vector. See the pass description in Passes.td.
//
//===----------------------------------------------------------------------===//

#include "targets/cpu/Passes.h"
#include "targets/cpu/EpilogueRows.h"
#include "targets/cpu/MemoryBlocks.h"
#include "targets/cpu/RegisterBlockedProducts.h"

#include "dialects/Tile/IR/TileOps.h"
#include "dialects/Tile/Utils/LargestTile.h"
#include "dialects/Tile/Utils/MemoryAccess.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Math/Transforms/Passes.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/SCF/Transforms/Patterns.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/AffineExpr.h"
#include "mlir/Dialect/Func/Transforms/FuncConversions.h"
#include "mlir/Transforms/DialectConversion.h"

#include <functional>
#include <limits>

namespace prism::cpu {
#define GEN_PASS_DEF_CPULOWERTILETOVECTOR
#include "targets/cpu/Passes.h.inc"
} // namespace prism::cpu

using namespace mlir;
using namespace prism;
using prism::tile::FlatView;
using prism::tile::flatten;
using prism::tile::indexConstant;
using prism::tile::splatIndex;
using prism::tile::zeroOf;
using namespace prism::cpu;

namespace {

//===----------------------------------------------------------------------===//
// Types and small builders
//===----------------------------------------------------------------------===//

/// Tiles (statically shaped tensors) become vectors of the same shape.
/// Memrefs of f16/bf16 become memrefs of i16: memory holds the bits, and the
/// values are bitcast to the float type in registers. x86 without native
/// bf16 would otherwise legalize bf16 loads, selects and masked memory
/// operations through compiler-rt calls, element by element.
class TileToVectorTypeConverter : public TypeConverter {
public:
  TileToVectorTypeConverter() {
    addConversion([](Type type) { return type; });
    addConversion([](RankedTensorType type) -> Type {
      if (!type.hasStaticShape())
        return nullptr;
      return VectorType::get(type.getShape(), type.getElementType());
    });
    addConversion([](MemRefType type) -> Type {
      if (!isHalfFloat(type.getElementType()))
        return type;
      return MemRefType::get(type.getShape(),
                             IntegerType::get(type.getContext(), 16),
                             type.getLayout(), type.getMemorySpace());
    });
  }
};

/// `[start_d, start_d + 1, ...]` laid along dimension `dim` of `shape`.
Value positionsAlong(OpBuilder &b, Location loc, Value start,
                     ArrayRef<int64_t> shape, int64_t dim) {
  Value step = vector::StepOp::create(
      b, loc, VectorType::get({shape[dim]}, b.getIndexType()));
  Value along = arith::AddIOp::create(
      b, loc, step, splatIndex(b, loc, start, {shape[dim]}));
  // [n] -> [n, 1, ..., 1] -> shape.
  SmallVector<int64_t> column(shape.size() - dim, 1);
  column[0] = shape[dim];
  Value shaped = vector::ShapeCastOp::create(
      b, loc, VectorType::get(column, b.getIndexType()), along);
  return vector::BroadcastOp::create(
      b, loc, VectorType::get(shape, b.getIndexType()), shaped);
}

/// Builds a data-movement op (broadcast, shape cast, transpose) on the i16
/// storage form of f16/bf16 vectors, so that no half-float vector shuffle
/// reaches LLVM: x86 without native bf16 would legalize those elementwise
/// through compiler-rt conversions.
Value moveBits(OpBuilder &b, Location loc, Value input, VectorType resultType,
               function_ref<Value(Value, VectorType)> build) {
  auto inputType = cast<VectorType>(input.getType());
  if (!isHalfFloat(resultType.getElementType()) || inputType.getRank() == 0 ||
      resultType.getRank() == 0)
    return build(input, resultType);
  Value bits = bitcastTo(b, loc, input, storageTypeOf(inputType));
  return bitcastTo(b, loc, build(bits, storageTypeOf(resultType)), resultType);
}

//===----------------------------------------------------------------------===//
// Patterns
//===----------------------------------------------------------------------===//

/// arith and math ops on tiles: the same op on vectors (and memref.dim on
/// converted memrefs).
struct ConvertElementwiseOnTiles : ConversionPattern {
  ConvertElementwiseOnTiles(const TypeConverter &converter, MLIRContext *context)
      : ConversionPattern(converter, MatchAnyOpTypeTag(), /*benefit=*/1,
                          context) {}

  LogicalResult
  matchAndRewrite(Operation *op, ArrayRef<Value> operands,
                  ConversionPatternRewriter &rewriter) const override {
    if (!isa<arith::ArithDialect, math::MathDialect>(op->getDialect()) &&
        !isa<memref::DimOp>(op))
      return failure();
    SmallVector<Type> resultTypes;
    if (failed(getTypeConverter()->convertTypes(op->getResultTypes(),
                                                resultTypes)))
      return failure();
    OperationState state(op->getLoc(), op->getName(), operands, resultTypes,
                         op->getAttrs());
    if (auto constant = dyn_cast<arith::ConstantOp>(op)) {
      auto dense = dyn_cast<DenseElementsAttr>(constant.getValue());
      if (!dense)
        return rewriter.notifyMatchFailure(op, "non-dense tile constant");
      state.attributes.set("value",
                           dense.reshape(cast<ShapedType>(resultTypes[0])));
    }
    Operation *converted = rewriter.create(state);
    rewriter.replaceOp(op, converted->getResults());
    return success();
  }
};

template <typename Op>
struct TilePattern : OpConversionPattern<Op> {
  using OpConversionPattern<Op>::OpConversionPattern;
  VectorType vectorTypeOf(Type type) const {
    return cast<VectorType>(this->getTypeConverter()->convertType(type));
  }
};

struct ConvertSplat : TilePattern<tile::SplatOp> {
  using TilePattern::TilePattern;
  LogicalResult
  matchAndRewrite(tile::SplatOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    rewriter.replaceOpWithNewOp<vector::BroadcastOp>(
        op, vectorTypeOf(op.getType()), adaptor.getValue());
    return success();
  }
};

struct ConvertBroadcast : TilePattern<tile::BroadcastOp> {
  using TilePattern::TilePattern;
  LogicalResult
  matchAndRewrite(tile::BroadcastOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    VectorType type = vectorTypeOf(op.getType());
    if (adaptor.getInput().getType() == type) {
      rewriter.replaceOp(op, adaptor.getInput());
      return success();
    }
    rewriter.replaceOp(
        op, moveBits(rewriter, op.getLoc(), adaptor.getInput(), type,
                     [&](Value in, VectorType t) -> Value {
                       return vector::BroadcastOp::create(rewriter, op.getLoc(),
                                                          t, in);
                     }));
    return success();
  }
};

struct ConvertExpandDims : TilePattern<tile::ExpandDimsOp> {
  using TilePattern::TilePattern;
  LogicalResult
  matchAndRewrite(tile::ExpandDimsOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    rewriter.replaceOp(
        op, moveBits(rewriter, op.getLoc(), adaptor.getInput(),
                     vectorTypeOf(op.getType()),
                     [&](Value in, VectorType t) -> Value {
                       return vector::ShapeCastOp::create(rewriter,
                                                          op.getLoc(), t, in);
                     }));
    return success();
  }
};

struct ConvertReshape : TilePattern<tile::ReshapeOp> {
  using TilePattern::TilePattern;
  LogicalResult
  matchAndRewrite(tile::ReshapeOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    rewriter.replaceOp(
        op, moveBits(rewriter, op.getLoc(), adaptor.getInput(),
                     vectorTypeOf(op.getType()),
                     [&](Value in, VectorType t) -> Value {
                       return vector::ShapeCastOp::create(rewriter,
                                                          op.getLoc(), t, in);
                     }));
    return success();
  }
};

struct ConvertTranspose : TilePattern<tile::TransposeOp> {
  using TilePattern::TilePattern;
  LogicalResult
  matchAndRewrite(tile::TransposeOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    rewriter.replaceOp(
        op, moveBits(rewriter, op.getLoc(), adaptor.getInput(),
                     vectorTypeOf(op.getType()),
                     [&](Value in, VectorType) -> Value {
                       return vector::TransposeOp::create(
                           rewriter, op.getLoc(), in, op.getPermutation());
                     }));
    return success();
  }
};

struct ConvertIota : TilePattern<tile::IotaOp> {
  using TilePattern::TilePattern;
  LogicalResult
  matchAndRewrite(tile::IotaOp op, OpAdaptor,
                  ConversionPatternRewriter &rewriter) const override {
    VectorType type = vectorTypeOf(op.getType());
    Value step = vector::StepOp::create(
        rewriter, op.getLoc(),
        VectorType::get(type.getShape(), rewriter.getIndexType()));
    if (type.getElementType().isIndex())
      rewriter.replaceOp(op, step);
    else
      rewriter.replaceOpWithNewOp<arith::IndexCastOp>(op, type, step);
    return success();
  }
};

struct ConvertReduce : TilePattern<tile::ReduceOp> {
  using TilePattern::TilePattern;
  LogicalResult
  matchAndRewrite(tile::ReduceOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    VectorType resultType = vectorTypeOf(op.getType());
    Type element = resultType.getElementType();
    bool isFloat = isa<FloatType>(element);
    vector::CombiningKind kind;
    TypedAttr neutral;
    switch (op.getKind()) {
    case tile::CombineKind::Sum:
      kind = vector::CombiningKind::ADD;
      neutral = rewriter.getZeroAttr(element);
      break;
    case tile::CombineKind::Max:
      kind = isFloat ? vector::CombiningKind::MAXIMUMF
                     : vector::CombiningKind::MAXSI;
      neutral = isFloat ? TypedAttr(rewriter.getFloatAttr(
                              element, -std::numeric_limits<double>::infinity()))
                        : TypedAttr(rewriter.getIntegerAttr(
                              element, APInt::getSignedMinValue(
                                           element.getIntOrFloatBitWidth())));
      break;
    case tile::CombineKind::Min:
      kind = isFloat ? vector::CombiningKind::MINIMUMF
                     : vector::CombiningKind::MINSI;
      neutral = isFloat ? TypedAttr(rewriter.getFloatAttr(
                              element, std::numeric_limits<double>::infinity()))
                        : TypedAttr(rewriter.getIntegerAttr(
                              element, APInt::getSignedMaxValue(
                                           element.getIntOrFloatBitWidth())));
      break;
    }
    Value init = arith::ConstantOp::create(rewriter, loc, element, neutral);
    if (resultType.getRank() == 0) {
      Value scalar = vector::ReductionOp::create(rewriter, loc, kind,
                                                 adaptor.getInput(), init);
      rewriter.replaceOpWithNewOp<vector::BroadcastOp>(op, resultType, scalar);
      return success();
    }
    Value acc = vector::BroadcastOp::create(rewriter, loc, resultType, init);
    rewriter.replaceOpWithNewOp<vector::MultiDimReductionOp>(
        op, kind, adaptor.getInput(), acc,
        ArrayRef<int64_t>{static_cast<int64_t>(op.getAxis())});
    return success();
  }
};

struct ConvertDot : TilePattern<tile::DotOp> {
  ConvertDot(const TypeConverter &converter, MLIRContext *context, RegisterFile file,
             const ProductPlans &plans)
      : TilePattern(converter, context), file(file), plans(plans) {}

  /// Converts a dot operand exactly to the accumulator's element type.
  FailureOr<Value> toAccumulatorType(ConversionPatternRewriter &rewriter,
                                     Location loc, Value operand,
                                     Type accElement) const {
    auto type = cast<VectorType>(operand.getType());
    Type element = type.getElementType();
    if (element == accElement)
      return operand;
    auto converted = VectorType::get(type.getShape(), accElement);
    if (element.isSignlessInteger(8))
      return arith::SIToFPOp::create(rewriter, loc, converted, operand)
          .getResult();
    if (element.isF16() || element.isBF16())
      return arith::ExtFOp::create(rewriter, loc, converted, operand)
          .getResult();
    return failure();
  }

  LogicalResult
  matchAndRewrite(tile::DotOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Type accElement = cast<VectorType>(adaptor.getAcc().getType()).getElementType();
    FailureOr<Value> lhs =
        toAccumulatorType(rewriter, loc, adaptor.getLhs(), accElement);
    FailureOr<Value> rhs =
        toAccumulatorType(rewriter, loc, adaptor.getRhs(), accElement);
    if (failed(lhs) || failed(rhs))
      return op.emitOpError("operand element type is not supported by the "
                            "CPU backend yet (f8E4M3FN)");
    // Matmul-sized products as register-blocked micro-kernels.
    if (const ProductPlan *plan = plans.lookup(op)) {
      rewriter.replaceOp(op, lowerRegisterBlockedProduct(rewriter, op, *plan, file,
                                                         adaptor.getLhs(), adaptor.getRhs(),
                                                         adaptor.getAcc()));
      return success();
    }
    MLIRContext *context = rewriter.getContext();
    AffineExpr mDim, nDim, kDim;
    bindDims(context, mDim, nDim, kDim);
    SmallVector<SmallVector<AffineExpr, 4>> exprs = {{mDim, kDim}, {kDim, nDim}, {mDim, nDim}};
    auto maps = rewriter.getAffineMapArrayAttr(
        AffineMap::inferFromExprList(exprs, context));
    auto iterators = rewriter.getArrayAttr(
        {vector::IteratorTypeAttr::get(context, vector::IteratorType::parallel),
         vector::IteratorTypeAttr::get(context, vector::IteratorType::parallel),
         vector::IteratorTypeAttr::get(context,
                                       vector::IteratorType::reduction)});
    rewriter.replaceOpWithNewOp<vector::ContractionOp>(
        op, *lhs, *rhs, adaptor.getAcc(), maps, iterators);
    return success();
  }

  RegisterFile file;
  const ProductPlans &plans;
};

struct ConvertLoad : TilePattern<tile::LoadOp> {
  ConvertLoad(const TypeConverter &converter, MLIRContext *context, const ProductPlans &plans)
      : TilePattern(converter, context), plans(plans) {}

  LogicalResult
  matchAndRewrite(tile::LoadOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    VectorType type = vectorTypeOf(op.getType());
    VectorType storage = storageTypeOf(type);
    Value padding = bitcastTo(rewriter, loc,
                              adaptor.getPadding()
                                  ? adaptor.getPadding()
                                  : zeroOf(rewriter, loc, type.getElementType()),
                              storage.getElementType());
    auto memrefType = cast<MemRefType>(adaptor.getBase().getType());
    if (plans.loadsPackedByProducts.contains(op)) {
      // Every use is an operand that its product packs from memory: this
      // value (a masked read, free of side effects) is left dead and erased.
      SmallVector<bool> inBounds(type.getRank(), false);
      Value read = vector::TransferReadOp::create(rewriter, loc, storage, adaptor.getBase(),
                                                  adaptor.getIndices(), padding,
                                                  ArrayRef<bool>(inBounds));
      rewriter.replaceOp(op, bitcastTo(rewriter, loc, read, type));
      return success();
    }
    if (hasUnitInnermostStride(memrefType)) {
      // A block inside the memref is one plain vector load per row. Other
      // blocks are staged: padding, then the part inside copied element by
      // element in a loop (masked vector loads of 16-bit elements have no
      // AVX2 instruction; LLVM would unroll them into a branch per element).
      Value base = adaptor.getBase();
      ValueRange indices = adaptor.getIndices();
      SmallVector<bool> inBounds(type.getRank(), true);
      Value zero = indexConstant(rewriter, loc, 0);
      SmallVector<Value> origin(type.getRank(), zero);
      Value buffer = stagingBuffer(rewriter, op, storage);
      auto branch = scf::IfOp::create(
          rewriter, loc, blockInBounds(rewriter, loc, base, indices, type.getShape()),
          [&](OpBuilder &b, Location l) {
            Value read = vector::TransferReadOp::create(
                b, l, storage, base, indices, padding, ArrayRef<bool>(inBounds));
            scf::YieldOp::create(b, l, read);
          },
          [&](OpBuilder &b, Location l) {
            Value fill = vector::BroadcastOp::create(b, l, storage, padding);
            vector::TransferWriteOp::create(b, l, fill, buffer, origin,
                                            ArrayRef<bool>(inBounds));
            forEachInBoundsElement(
                b, l, base, indices, type.getShape(),
                [&](OpBuilder &inner, Location il, ValueRange at,
                    ValueRange offset) {
                  Value element = memref::LoadOp::create(inner, il, base, at);
                  memref::StoreOp::create(inner, il, element, buffer, offset);
                });
            Value read = vector::TransferReadOp::create(
                b, l, storage, buffer, origin, padding, ArrayRef<bool>(inBounds));
            scf::YieldOp::create(b, l, read);
          });
      rewriter.replaceOp(op, bitcastTo(rewriter, loc, branch.getResult(0), type));
      return success();
    }
    FlatView view = flatten(rewriter, loc, adaptor.getBase());
    SmallVector<Value> positions;
    for (auto [dim, start] : llvm::enumerate(adaptor.getIndices()))
      positions.push_back(
          positionsAlong(rewriter, loc, start, type.getShape(), dim));
    auto [linear, mask] =
        tile::addressesOf(rewriter, loc, view, positions);
    Value passThrough =
        vector::BroadcastOp::create(rewriter, loc, storage, padding);
    Value gathered = vector::GatherOp::create(
        rewriter, loc, storage, view.flat,
        ValueRange{indexConstant(rewriter, loc, 0)}, linear, mask, passThrough);
    rewriter.replaceOp(op, bitcastTo(rewriter, loc, gathered, type));
    return success();
  }

  const ProductPlans &plans;
};

struct ConvertStore : TilePattern<tile::StoreOp> {
  ConvertStore(const TypeConverter &converter, MLIRContext *context, RegisterFile file,
               const llvm::DenseSet<Operation *> &streamable)
      : TilePattern(converter, context), file(file), streamable(streamable) {}

  RegisterFile file;
  /// The stores the kernel does not read back (final outputs).
  const llvm::DenseSet<Operation *> &streamable;

  LogicalResult
  matchAndRewrite(tile::StoreOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto type = cast<VectorType>(adaptor.getValue().getType());
    Value value = bitcastTo(rewriter, loc, adaptor.getValue(),
                            storageTypeOf(type));
    auto memrefType = cast<MemRefType>(adaptor.getBase().getType());
    if (!adaptor.getMask() && hasUnitInnermostStride(memrefType)) {
      // As for loads: plain vector stores inside, a staged copy at the edges.
      Value base = adaptor.getBase();
      ValueRange indices = adaptor.getIndices();
      VectorType storage = storageTypeOf(type);
      SmallVector<bool> inBounds(type.getRank(), true);
      Value zero = indexConstant(rewriter, loc, 0);
      SmallVector<Value> origin(type.getRank(), zero);
      if (staticallyInBounds(base, indices, type.getShape())) {
        // A whole stack buffer (an epilogue's K-loop result).
        vector::TransferWriteOp::create(rewriter, loc, value, base, indices,
                                        ArrayRef<bool>(inBounds));
        rewriter.eraseOp(op);
        return success();
      }
      Value buffer = stagingBuffer(rewriter, op, storage);
      scf::IfOp::create(
          rewriter, loc, blockInBounds(rewriter, loc, base, indices, type.getShape()),
          [&](OpBuilder &b, Location l) {
            // A row of whole registers the kernel does not read back may
            // bypass the caches.
            int64_t vectorBytes = file.lanes * 4;
            Type element = storage.getElementType();
            if (streamable.contains(op) && element.isIntOrFloat() &&
                type.getNumElements() == type.getShape().back() &&
                type.getShape().back() * element.getIntOrFloatBitWidth() % (8 * vectorBytes) == 0)
              writeRowStreaming(b, l, value, base, indices, vectorBytes);
            else
              vector::TransferWriteOp::create(b, l, value, base, indices,
                                              ArrayRef<bool>(inBounds));
            scf::YieldOp::create(b, l);
          },
          [&](OpBuilder &b, Location l) {
            vector::TransferWriteOp::create(b, l, value, buffer, origin,
                                            ArrayRef<bool>(inBounds));
            forEachInBoundsElement(
                b, l, base, indices, type.getShape(),
                [&](OpBuilder &inner, Location il, ValueRange at,
                    ValueRange offset) {
                  Value element = memref::LoadOp::create(inner, il, buffer, offset);
                  memref::StoreOp::create(inner, il, element, base, at);
                });
            scf::YieldOp::create(b, l);
          });
      rewriter.eraseOp(op);
      return success();
    }
    FlatView view = flatten(rewriter, loc, adaptor.getBase());
    SmallVector<Value> positions;
    for (auto [dim, start] : llvm::enumerate(adaptor.getIndices()))
      positions.push_back(
          positionsAlong(rewriter, loc, start, type.getShape(), dim));
    auto [linear, mask] =
        tile::addressesOf(rewriter, loc, view, positions);
    if (adaptor.getMask())
      mask = arith::AndIOp::create(rewriter, loc, mask, adaptor.getMask());
    // LLVM lowers 1-D scatters only: one scatter per innermost row.
    Value zero = indexConstant(rewriter, loc, 0);
    ArrayRef<int64_t> outer = type.getShape().drop_back();
    SmallVector<int64_t> position(outer.size(), 0);
    for (int64_t row = 0, rows = ShapedType::getNumElements(outer); row < rows;
         ++row) {
      int64_t rest = row;
      for (int64_t d = static_cast<int64_t>(outer.size()) - 1; d >= 0; --d) {
        position[d] = rest % outer[d];
        rest /= outer[d];
      }
      auto pick = [&](Value v) -> Value {
        return outer.empty() ? v
                             : vector::ExtractOp::create(rewriter, loc, v,
                                                         position)
                                   .getResult();
      };
      vector::ScatterOp::create(rewriter, loc, Type(), view.flat,
                                ValueRange{zero}, pick(linear), pick(mask),
                                pick(value));
    }
    rewriter.eraseOp(op);
    return success();
  }
};

struct ConvertGather : TilePattern<tile::GatherOp> {
  using TilePattern::TilePattern;
  LogicalResult
  matchAndRewrite(tile::GatherOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    VectorType type = vectorTypeOf(op.getType());
    FlatView view = flatten(rewriter, loc, adaptor.getBase());
    SmallVector<Value> positions(adaptor.getIndices().begin(),
                                 adaptor.getIndices().end());
    auto [linear, mask] =
        tile::addressesOf(rewriter, loc, view, positions);
    if (adaptor.getMask())
      mask = arith::AndIOp::create(rewriter, loc, mask, adaptor.getMask());
    VectorType storage = storageTypeOf(type);
    Value zero = zeroOf(rewriter, loc, storage.getElementType());
    Value passThrough = vector::BroadcastOp::create(rewriter, loc, storage, zero);
    Value gathered = vector::GatherOp::create(
        rewriter, loc, storage, view.flat,
        ValueRange{indexConstant(rewriter, loc, 0)}, linear, mask, passThrough);
    rewriter.replaceOp(op, bitcastTo(rewriter, loc, gathered, type));
    return success();
  }
};

//===----------------------------------------------------------------------===//
// The pass
//===----------------------------------------------------------------------===//

/// The tile.stores of the module's kernels whose memref the kernel does not
/// read after them nor in the same loop: their outputs, which may bypass
/// the caches. A softmax's exponentials, stored and divided in a later
/// pass, are read back, and its last pass rewrites lines that pass left in
/// the cache (streaming them was 1.3-1.6x slower: a non-temporal store to
/// a cached line writes it back first). Only speed depends on this: a
/// non-temporal store is read back correctly.
llvm::DenseSet<Operation *> storesNotReadBack(ModuleOp module) {
  llvm::DenseSet<Operation *> stores;
  for (auto kernel : module.getOps<func::FuncOp>()) {
    if (!kernel->hasAttr(tile::TileDialect::getKernelAttrName()) || kernel.isExternal())
      continue;
    Block &body = kernel.getBody().front();
    // The last top-level op of the kernel that reads each memref.
    llvm::DenseMap<Value, Operation *> lastRead;
    kernel.walk([&](Operation *read) {
      Value base;
      if (auto load = dyn_cast<tile::LoadOp>(read))
        base = load.getBase();
      else if (auto gather = dyn_cast<tile::GatherOp>(read))
        base = gather.getBase();
      if (!base)
        return;
      Operation *readAt = body.findAncestorOpInBlock(*read);
      Operation *&last = lastRead[base];
      if (!last || last->isBeforeInBlock(readAt))
        last = readAt;
    });
    kernel.walk([&](tile::StoreOp store) {
      Operation *storeAt = body.findAncestorOpInBlock(*store);
      Operation *last = lastRead.lookup(store.getBase());
      if (!last || !(last == storeAt || storeAt->isBeforeInBlock(last)))
        stores.insert(store);
    });
  }
  return stores;
}

/// Appends the grid arguments to a kernel and replaces program_id and
/// num_programs by them.
void materializeGridArguments(func::FuncOp kernel) {
  unsigned first = kernel.getNumArguments();
  Location loc = kernel.getLoc();
  Type index = IndexType::get(kernel.getContext());
  for (unsigned i = 0; i < cpu::kNumGridArguments; ++i)
    (void)kernel.insertArgument(first + i, index, DictionaryAttr(), loc);
  SmallVector<Operation *> gridOps;
  kernel.walk([&](Operation *op) {
    if (auto pid = dyn_cast<tile::ProgramIdOp>(op)) {
      pid.replaceAllUsesWith(
          kernel.getArgument(first + static_cast<unsigned>(pid.getAxis())));
      gridOps.push_back(op);
    } else if (auto count = dyn_cast<tile::NumProgramsOp>(op)) {
      count.replaceAllUsesWith(
          kernel.getArgument(first + 3 + static_cast<unsigned>(count.getAxis())));
      gridOps.push_back(op);
    }
  });
  for (Operation *op : gridOps)
    op->erase();
  kernel->removeAttr(tile::TileDialect::getKernelAttrName());
  kernel->setAttr("prism.cpu_kernel", UnitAttr::get(kernel.getContext()));
}

struct CpuLowerTileToVectorPass
    : cpu::impl::CpuLowerTileToVectorBase<CpuLowerTileToVectorPass> {
  using CpuLowerTileToVectorBase::CpuLowerTileToVectorBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    if ((vectorBits != 128 && vectorBits != 256 && vectorBits != 512) || vectorRegisters < 8) {
      module.emitError("prism-cpu-lower-tile-to-vector: vector-bits must be 128, 256 or 512 "
                       "and vector-registers at least 8; got ")
          << static_cast<int64_t>(vectorBits) << " and " << static_cast<int64_t>(vectorRegisters);
      return signalPassFailure();
    }
    // Tiles become vectors that LLVM unrolls: one beyond 2^16 elements
    // (256 KB of f32) takes minutes to compile and cannot stay in
    // registers or the L1 cache anyway.
    constexpr int64_t kMaxTileElements = int64_t(1) << 16;
    // Epilogues of larger tiles in chunks of rows of about this many
    // elements (16 AVX-512 registers of f32).
    constexpr int64_t kEpilogueChunkElements = 256;
    for (auto function : module.getOps<func::FuncOp>()) {
      if (!function->hasAttr(tile::TileDialect::getKernelAttrName()))
        continue;
      if (auto tooLarge = tile::findTileLargerThan(function, kMaxTileElements)) {
        tooLarge->first->emitError("a ")
            << tooLarge->second << " tile has more than the " << kMaxTileElements
            << " elements the CPU backend allows; choose smaller tile sizes";
        return signalPassFailure();
      }
    }
    // Before the grid arguments: the epilogue's loop is built on tile IR.
    computeEpiloguesInRowChunks(module, kEpilogueChunkElements);
    llvm::DenseSet<Operation *> streamable = storesNotReadBack(module);
    module.walk([](func::FuncOp function) {
      if (function->hasAttr(tile::TileDialect::getKernelAttrName()))
        materializeGridArguments(function);
    });

    MLIRContext *context = &getContext();
    TileToVectorTypeConverter converter;
    ConversionTarget target(*context);
    target.addIllegalDialect<tile::TileDialect>();
    target.addLegalDialect<vector::VectorDialect, func::FuncDialect>();
    target.addDynamicallyLegalDialect<arith::ArithDialect, math::MathDialect,
                                      memref::MemRefDialect>(
        [&](Operation *op) { return converter.isLegal(op); });
    target.addDynamicallyLegalOp<func::FuncOp>([&](func::FuncOp function) {
      return converter.isSignatureLegal(function.getFunctionType());
    });

    RewritePatternSet patterns(context);
    patterns.add<ConvertElementwiseOnTiles>(converter, context);
    patterns.add<ConvertSplat, ConvertBroadcast, ConvertExpandDims, ConvertIota,
                 ConvertTranspose, ConvertReshape,
                 ConvertReduce, ConvertGather>(converter, context);
    RegisterFile file{vectorBits / 32, vectorRegisters};
    ProductPlans plans = ProductPlans::of(module, file);
    patterns.add<ConvertDot>(converter, context, file, plans);
    patterns.add<ConvertLoad>(converter, context, plans);
    patterns.add<ConvertStore>(converter, context, file, streamable);
    scf::populateSCFStructuralTypeConversionsAndLegality(converter, patterns,
                                                         target);
    populateFunctionOpInterfaceTypeConversionPattern<func::FuncOp>(patterns,
                                                                   converter);
    if (failed(applyPartialConversion(module, target, std::move(patterns))))
      return signalPassFailure();
    finishRegisterBlockedProducts(module, file);

    // exp, log, tanh and erf as vector polynomials (a few ulp in f32; LLVM
    // would otherwise call libm once per lane, and it has no erf at all).
    // sin and cos keep libm: rope angles reach thousands of radians, beyond
    // the range reduction of the polynomial versions.
    RewritePatternSet approximations(context);
    // exp2 (attention's softmax) as exp(x ln 2), then the polynomial exp.
    math::populateExpansionPatterns(approximations, {"exp2"});
    populateMathPolynomialApproximationPatterns(
        approximations, [](StringRef name) {
          name.consume_front("math.");
          return llvm::is_contained({"exp", "expm1", "log", "log1p", "log2",
                                     "tanh", "erf"},
                                    name);
        });
    if (failed(applyPatternsGreedily(module, std::move(approximations))))
      signalPassFailure();
  }
};

} // namespace
