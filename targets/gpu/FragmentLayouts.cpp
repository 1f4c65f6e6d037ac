//===- FragmentLayouts.cpp - Which tiles live in matrix-core fragments ----===//
//
// Before the conversion to GPU kernels, tiles that would otherwise cross
// shared memory at every step of a loop get the layout of the matrix
// cores' registers instead (see TileToGpu.h):
//
// 1. Broadcasts of index arithmetic on an iota (attention's row and column
//    indices, `iota + start` reshaped and broadcast) are rewritten to do
//    the arithmetic after the broadcast, so that the broadcast reads an
//    iota, which every layout computes from its positions: no exchange.
// 2. A dot's accumulator carried by a loop stays in fragments
//    (keepAccumulatorsInFragments).
// 3. A dot's product started from zero in the loop (attention's S = Q K^T)
//    stays in fragments when the fragment layout keeps whole rows in
//    groups of lanes (fragmentRows), and so do the element-wise ops on it,
//    its row reductions (in the rows layout: shuffles within the group),
//    the row vectors computed from those and carried by the loop, and
//    their broadcasts back to fragments. This is FlashAttention's softmax
//    in registers: the scores, the row maximum and sum, the rescale factor
//    and P never go through shared memory (P V takes P from the registers,
//    MatrixCoreLowering::takesOperandAInFragments). A tile such an op
//    needs that is element-wise ops on splats and broadcasts is built in
//    fragments. Where a value in one layout meets an op that needs
//    another, a cast changes the layout through shared memory, so every
//    use stays correct.
// 4. After the loops: what leaves a loop in fragments or rows stays so in
//    the block holding the loop (element-wise ops, broadcasts of rows,
//    reshapes, stores at the fragment positions).
//
//===----------------------------------------------------------------------===//

#include "targets/gpu/TileToGpu.h"

#include "dialects/Tile/IR/TileOps.h"
#include "dialects/Tile/Utils/Elementwise.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/Builders.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

using namespace mlir;
using namespace prism;

namespace prism::gpu_lowering {

tile::IotaOp iotaThroughViews(Value value);

namespace {

enum class Placement { Plain, Fragments, Rows };

Placement placementOf(Type type) {
  if (inFragments(type))
    return Placement::Fragments;
  if (inFragmentRows(type))
    return Placement::Rows;
  return Placement::Plain;
}

RankedTensorType placed(Type type, Placement placement) {
  auto tensor = cast<RankedTensorType>(type);
  Attribute encoding;
  if (placement == Placement::Fragments)
    encoding = StringAttr::get(type.getContext(), kFragmentsEncoding);
  if (placement == Placement::Rows)
    encoding = StringAttr::get(type.getContext(), kFragmentRowsEncoding);
  return RankedTensorType::get(tensor.getShape(), tensor.getElementType(), encoding);
}

/// A tile filled with one value (tile.splat or a splat constant): the same
/// in every layout.
bool isSplat(Value value) {
  if (value.getDefiningOp<tile::SplatOp>())
    return true;
  auto constant = value.getDefiningOp<arith::ConstantOp>();
  return constant && isa<SplatElementsAttr>(constant.getValue());
}

/// The splat `value` with type `type`, created at `b`.
Value cloneSplat(OpBuilder &b, Value value, RankedTensorType type) {
  if (auto splat = value.getDefiningOp<tile::SplatOp>())
    return tile::SplatOp::create(b, splat.getLoc(), type, splat.getValue());
  auto constant = value.getDefiningOp<arith::ConstantOp>();
  auto attr = cast<SplatElementsAttr>(constant.getValue());
  return arith::ConstantOp::create(
      b, constant.getLoc(), type,
      SplatElementsAttr::get(type, attr.getSplatValue<Attribute>()));
}

void eraseIfDead(Operation *op) {
  if (!op || !op->use_empty() || !isPure(op))
    return;
  SmallVector<Operation *> operands;
  for (Value operand : op->getOperands())
    operands.push_back(operand.getDefiningOp());
  op->erase();
  for (Operation *operand : operands)
    eraseIfDead(operand);
}

//===----------------------------------------------------------------------===//
// 1. Index arithmetic after broadcasts
//===----------------------------------------------------------------------===//

/// Whether `x` is arithmetic on iotas and splats, through reshapes and
/// expand_dims (`arithmetic`: with some arithmetic).
bool isIotaArithmetic(Value x, bool &arithmetic, int depth = 0) {
  if (depth > 16)
    return false;
  if (isSplat(x))
    return true;
  Operation *op = x.getDefiningOp();
  if (!op)
    return false;
  if (isa<tile::IotaOp>(op))
    return true;
  if (isa<tile::ReshapeOp, tile::ExpandDimsOp>(op))
    return isIotaArithmetic(op->getOperand(0), arithmetic, depth + 1);
  if (!isa<arith::ArithDialect>(op->getDialect()) || !tile::isElementwiseOnTiles(op))
    return false;
  arithmetic = true;
  return llvm::all_of(op->getOperands(), [&](Value operand) {
    return isIotaArithmetic(operand, arithmetic, depth + 1);
  });
}

/// broadcast(views(x)) rebuilt with x's element-wise ops after the
/// broadcast, where x is index arithmetic on iotas and splats
/// (isIotaArithmetic); `views` (reshapes, expand_dims) lead from x to the
/// broadcast, innermost last.
Value broadcastAfterArithmetic(OpBuilder &b, tile::BroadcastOp broadcast, Value x,
                               SmallVector<Operation *> views) {
  auto at = RankedTensorType::get(broadcast.getType().getShape(),
                                  cast<RankedTensorType>(x.getType()).getElementType());
  if (isSplat(x))
    return cloneSplat(b, x, at);
  Operation *op = x.getDefiningOp();
  if (isa<tile::IotaOp>(op)) {
    Value v = x;
    for (Operation *view : llvm::reverse(views)) {
      IRMapping mapping;
      mapping.map(view->getOperand(0), v);
      v = b.clone(*view, mapping)->getResult(0);
    }
    return tile::BroadcastOp::create(b, broadcast.getLoc(), at, v);
  }
  if (isa<tile::ReshapeOp, tile::ExpandDimsOp>(op)) {
    views.push_back(op);
    return broadcastAfterArithmetic(b, broadcast, op->getOperand(0), views);
  }
  SmallVector<Value> operands;
  for (Value operand : op->getOperands())
    operands.push_back(broadcastAfterArithmetic(b, broadcast, operand, views));
  OperationState state(op->getLoc(), op->getName(), operands,
                       TypeRange{RankedTensorType::get(
                           at.getShape(),
                           cast<RankedTensorType>(op->getResult(0).getType())
                               .getElementType())},
                       op->getAttrs());
  return b.create(state)->getResult(0);
}

void moveArithmeticAfterBroadcasts(func::FuncOp function) {
  SmallVector<tile::BroadcastOp> broadcasts;
  function.walk([&](tile::BroadcastOp op) { broadcasts.push_back(op); });
  for (tile::BroadcastOp broadcast : broadcasts) {
    if (iotaThroughViews(broadcast.getInput()))
      continue;
    bool arithmetic = false;
    if (!isIotaArithmetic(broadcast.getInput(), arithmetic) || !arithmetic)
      continue;
    OpBuilder b(broadcast);
    Value rebuilt = broadcastAfterArithmetic(b, broadcast, broadcast.getInput(), {});
    Operation *source = broadcast.getInput().getDefiningOp();
    broadcast.getResult().replaceAllUsesWith(rebuilt);
    broadcast.erase();
    eraseIfDead(source);
  }
}

//===----------------------------------------------------------------------===//
// 2. Loop-carried accumulators
//===----------------------------------------------------------------------===//

/// Gives the accumulator of each dot that a loop carries (init -> dot ->
/// yield, used by nothing else) the fragment layout when the matrix-core
/// lowering can keep it there: the iteration argument, the dot and the
/// loop result get the fragment encoding, and casts convert at the loop's
/// entry (none is needed for a splat, the same in every layout) and exit.
/// Each K step then accumulates in registers instead of sending C through
/// shared memory and back.
void keepAccumulatorsInFragments(func::FuncOp function, const Layout &layout,
                                 const MatrixCoreLowering &matrixCores) {
  SmallVector<scf::ForOp> loops;
  function.walk([&](scf::ForOp loop) { loops.push_back(loop); });
  for (scf::ForOp loop : loops) {
    for (unsigned i = 0; i < loop.getNumRegionIterArgs(); ++i) {
      BlockArgument carried = loop.getRegionIterArg(i);
      auto yield = cast<scf::YieldOp>(loop.getBody()->getTerminator());
      // The accumulator rescaled by a broadcast, each op used once in the
      // loop's body: `rescale` = `scaled` * `scale` (either order).
      auto rescaleOf = [&](Value product, Value scaled, arith::MulFOp &rescale,
                           tile::BroadcastOp &scale) {
        rescale = product.getDefiningOp<arith::MulFOp>();
        if (!rescale || !rescale->hasOneUse() || rescale->getBlock() != loop.getBody())
          return false;
        Value other = rescale.getLhs() == scaled   ? rescale.getRhs()
                      : rescale.getRhs() == scaled ? rescale.getLhs()
                                                   : Value();
        scale = other ? other.getDefiningOp<tile::BroadcastOp>() : nullptr;
        return scale && scale->hasOneUse() && scale->getBlock() == loop.getBody();
      };
      // The accumulator itself, or rescaled at each step by a broadcast
      // before the product (attention's output, times exp(m_old - m_new)
      // per row) or after it (attention whose P V overlaps the softmax):
      // the product, the rescale and the broadcast then are in fragments
      // too (a broadcast reads its source at the fragment positions).
      arith::MulFOp rescale;
      tile::BroadcastOp scale;
      Value yielded = yield.getOperand(i);
      auto dot = yielded.getDefiningOp<tile::DotOp>();
      if (!dot) {
        SmallVector<Value, 2> sides;
        if (auto mul = yielded.getDefiningOp<arith::MulFOp>())
          sides = {mul.getLhs(), mul.getRhs()};
        for (Value side : sides)
          if (auto product = side.getDefiningOp<tile::DotOp>();
              product && product.getAcc() == carried &&
              rescaleOf(yielded, product.getResult(), rescale, scale)) {
            dot = product;
            break;
          }
      }
      if (!dot || !carried.hasOneUse() || !dot->hasOneUse() ||
          dot->getParentOp() != loop.getOperation() || inFragments(dot.getType()) ||
          !matrixCores.keepsAccumulatorInFragments(dot, layout))
        continue;
      if (!rescale && dot.getAcc() != carried &&
          !rescaleOf(dot.getAcc(), carried, rescale, scale))
        continue;
      RankedTensorType plain = placed(dot.getType(), Placement::Plain);
      RankedTensorType fragments = placed(plain, Placement::Fragments);
      if (rescale) {
        rescale.getResult().setType(fragments);
        scale.getResult().setType(fragments);
      }
      OpBuilder b(loop);
      Location loc = loop.getLoc();
      Value init = loop.getInitArgs()[i];
      if (isSplat(init))
        init = cloneSplat(b, init, fragments);
      else
        init = UnrealizedConversionCastOp::create(b, loc, fragments, init).getResult(0);
      loop.getInitArgsMutable()[i].set(init);
      carried.setType(fragments);
      dot.getResult().setType(fragments);
      Value result = loop.getResult(i);
      result.setType(fragments);
      b.setInsertionPointAfter(loop);
      auto back = UnrealizedConversionCastOp::create(b, loc, plain, result);
      result.replaceAllUsesExcept(back.getResult(0), back);
    }
  }
}

//===----------------------------------------------------------------------===//
// 3. Products, their row reductions and row vectors
//===----------------------------------------------------------------------===//

class ProductPlacement {
public:
  ProductPlacement(Block &body, const Layout &layout, const MatrixCoreLowering &matrixCores)
      : body(body), layout(layout), matrixCores(matrixCores),
        loop(dyn_cast<scf::ForOp>(body.getParentOp())) {}

  /// Places the dots of the block whose accumulator is a splat (with
  /// `products`), the values that leave this block's loops in fragments or
  /// rows, and what follows from them; false if there is none.
  bool run(bool products) {
    first = &body.front();
    SmallVector<UnrealizedConversionCastOp> exits;
    for (Operation &op : body) {
      if (auto dot = dyn_cast<tile::DotOp>(op)) {
        if (products && !inFragments(dot.getType()) && isSplat(dot.getAcc()) &&
            matrixCores.supports(dot) && fitsFragments(dot.getType()))
          want(dot.getResult(), Placement::Fragments);
      } else if (auto exit = dyn_cast<UnrealizedConversionCastOp>(op)) {
        if (Placement placement = exitPlacement(exit); placement != Placement::Plain) {
          want(exit.getResult(0), placement);
          exits.push_back(exit);
        }
      }
    }
    if (wanted.empty())
      return false;
    propagate();
    rewrite();
    // The exits placed here now change nothing.
    for (UnrealizedConversionCastOp exit : exits)
      if (exit.getResult(0).getType() == exit.getOperand(0).getType()) {
        exit.getResult(0).replaceAllUsesWith(exit.getOperand(0));
        exit.erase();
      }
    eraseDeadOps();
    return true;
  }

private:
  /// The layout of a loop result of this block in fragments or rows that
  /// `cast` takes back to the element-wise layout (Plain if it is not one):
  /// after the loop, what is computed from it (attention's output divided
  /// by the row sum, cast and stored) can stay in that layout.
  Placement exitPlacement(UnrealizedConversionCastOp cast) {
    if (cast->getNumOperands() != 1 || cast->getNumResults() != 1)
      return Placement::Plain;
    Value source = cast.getOperand(0);
    auto loop = source.getDefiningOp<scf::ForOp>();
    if (!loop || loop->getBlock() != &body || !isa<RankedTensorType>(source.getType()) ||
        cast.getResult(0).getType() != placed(source.getType(), Placement::Plain))
      return Placement::Plain;
    return placementOf(source.getType());
  }

  bool fitsFragments(Type type) {
    auto tensor = cast<RankedTensorType>(type);
    return tensor.getRank() == 2 && tensor.getElementType().isF32() &&
           matrixCores.fragmentRows(tensor.getDimSize(0), layout) &&
           matrixCores.fragmentLayoutFits(tensor.getDimSize(0), tensor.getDimSize(1),
                                          layout);
  }
  bool fitsRows(Type type) {
    auto tensor = cast<RankedTensorType>(type);
    return (tensor.getRank() == 1 ||
            (tensor.getRank() == 2 && tensor.getDimSize(1) == 1)) &&
           matrixCores.fragmentRows(tensor.getDimSize(0), layout);
  }

  void want(Value value, Placement placement) {
    if (wanted.try_emplace(value, placement).second)
      worklist.push_back(value);
  }

  /// Forward from the products: element-wise ops keep the layout, row
  /// reductions of fragments give rows, rows reshaped stay rows, rows
  /// broadcast give fragments, rows or fragments yielded make the loop
  /// carry them so.
  void propagate() {
    while (!worklist.empty()) {
      Value value = worklist.pop_back_val();
      Placement placement = wanted.lookup(value);
      for (OpOperand &use : value.getUses()) {
        Operation *user = use.getOwner();
        if (user->getBlock() != &body)
          continue;
        if (tile::isElementwiseOnTiles(user)) {
          want(user->getResult(0), placement);
        } else if (auto reduce = dyn_cast<tile::ReduceOp>(user)) {
          // (The shuffles combine 32-bit floats.)
          if (placement == Placement::Fragments && reduce.getAxis() == 1 &&
              reduce.getType().getElementType().isF32() && fitsRows(reduce.getType()))
            want(reduce.getResult(), Placement::Rows);
        } else if (auto reshape = dyn_cast<tile::ReshapeOp>(user)) {
          // Fragments of [count / n, n] keep their positions in any shape
          // with the same last dimension (leading unit dimensions added or
          // dropped: the store's view of a tile).
          if (placement == Placement::Rows && fitsRows(reshape.getType()))
            want(reshape.getResult(), Placement::Rows);
          else if (placement == Placement::Fragments &&
                   reshape.getType().getShape().back() ==
                       cast<RankedTensorType>(value.getType()).getShape().back())
            want(reshape.getResult(), Placement::Fragments);
        } else if (auto broadcast = dyn_cast<tile::BroadcastOp>(user)) {
          if (placement == Placement::Rows &&
              cast<RankedTensorType>(value.getType()).getRank() == 2 &&
              fitsFragments(broadcast.getType()))
            want(broadcast.getResult(), Placement::Fragments);
        } else if (isa<scf::YieldOp>(user) && loop) {
          // (Fragments carried: attention's P of the previous key block
          // when P V overlaps the softmax. An accumulator in fragments
          // already, which the rescale of that overlap yields, stays so.)
          BlockArgument carried = loop.getRegionIterArg(use.getOperandNumber());
          if (placementOf(carried.getType()) == Placement::Plain)
            want(carried, placement);
        }
      }
    }
  }

  /// The layout `user` needs operand `index` in (after the types are set).
  Placement needed(Operation *user, unsigned index) {
    Value operand = user->getOperand(index);
    Placement current = placementOf(operand.getType());
    auto resultPlacement = [&] {
      return user->getNumResults() ? placementOf(user->getResult(0).getType())
                                   : Placement::Plain;
    };
    if (tile::isElementwiseOnTiles(user))
      return resultPlacement();
    if (isa<tile::ReduceOp>(user))
      return resultPlacement() == Placement::Rows ? Placement::Fragments : Placement::Plain;
    if (isa<tile::ReshapeOp>(user))
      return resultPlacement();
    if (isa<tile::BroadcastOp>(user)) {
      // Fragments read a source of rows ([m, 1]: one value per row) in
      // place, any other source published.
      auto source = cast<RankedTensorType>(operand.getType());
      bool perRow = source.getRank() == 2 && source.getDimSize(1) == 1;
      return resultPlacement() == Placement::Fragments && current == Placement::Rows &&
                     perRow
                 ? Placement::Rows
                 : Placement::Plain;
    }
    if (auto dot = dyn_cast<tile::DotOp>(user)) {
      if (index == 2)
        return resultPlacement();
      // An operand in fragments is published from them.
      return current == Placement::Fragments ? Placement::Fragments : Placement::Plain;
    }
    if (isa<scf::YieldOp>(user) && user->getBlock() == &body && loop)
      return placementOf(loop.getRegionIterArg(index).getType());
    // A store writes fragments at their positions (its mask in the same
    // layout).
    if (auto store = dyn_cast<tile::StoreOp>(user))
      if (placementOf(store.getValue().getType()) == Placement::Fragments &&
          (operand == store.getValue() || operand == store.getMask()))
        return Placement::Fragments;
    return otherwise(operand);
  }

  /// What any other op needs: what its operand was before this placement
  /// (the element-wise layout for a value placed here; a value in another
  /// layout already, an inner loop's accumulator, stays so).
  Placement otherwise(Value operand) {
    return wanted.count(operand) ? Placement::Plain : placementOf(operand.getType());
  }

  /// Whether `value`, a tile in the element-wise layout, can be built in
  /// fragments from what any layout computes as cheaply: splats,
  /// broadcasts (an iota's in place, another source's read from the
  /// published source, smaller than the tile) and element-wise ops on
  /// those (attention's index arithmetic for the mask; rope's angles, cos
  /// and sin for a fused matmul's epilogue). Building it so costs no more
  /// than the element-wise ops themselves, where a cast would send the
  /// whole tile through shared memory (a broadcast publishes its source,
  /// at most as large as the tile).
  bool rebuildable(Value value, int depth = 0) {
    if (placementOf(value.getType()) != Placement::Plain || wanted.count(value))
      return false;
    if (isSplat(value))
      return true;
    // (Broadcasts to fragments are lowered for [m, n] tiles.)
    if (auto broadcast = value.getDefiningOp<tile::BroadcastOp>())
      return broadcast.getType().getRank() == 2;
    Operation *op = value.getDefiningOp();
    return depth < 16 && op && tile::isElementwiseOnTiles(op) &&
           llvm::all_of(op->getOperands(), [&](Value operand) {
             return rebuildable(operand, depth + 1);
           });
  }

  /// `value` (rebuildable) built again in fragments, once.
  Value rebuildInFragments(Value value) {
    if (Value done = converted.lookup({value, Placement::Fragments}))
      return done;
    OpBuilder b = builderFor(value);
    RankedTensorType type = placed(value.getType(), Placement::Fragments);
    Value rebuilt;
    Operation *op = value.getDefiningOp();
    if (isSplat(value)) {
      rebuilt = cloneSplat(b, value, type);
    } else if (auto broadcast = dyn_cast<tile::BroadcastOp>(op)) {
      rebuilt = tile::BroadcastOp::create(b, broadcast.getLoc(), type, broadcast.getInput());
    } else {
      SmallVector<Value> operands;
      for (Value operand : op->getOperands())
        operands.push_back(rebuildInFragments(operand));
      OperationState state(op->getLoc(), op->getName(), operands, TypeRange{type},
                           op->getAttrs());
      rebuilt = b.create(state)->getResult(0);
    }
    converted[{value, Placement::Fragments}] = rebuilt;
    return rebuilt;
  }

  /// A builder where a value's other layouts are made: right after its
  /// definition in this block (so that they dominate all its uses), or
  /// before the block's first op for a value from outside it (in the order
  /// they are made; recomputed at each step rather than kept live across
  /// the loop, which costs registers).
  OpBuilder builderFor(Value value) {
    OpBuilder b(value.getContext());
    Operation *op = value.getDefiningOp();
    if (op && op->getBlock() == &body)
      b.setInsertionPointAfter(op);
    else
      b.setInsertionPoint(first);
    return b;
  }

  /// The ops from a load in this block to `value`, through reshapes and
  /// element-wise conversions, each used once (an additive mask: load,
  /// reshape, extf), innermost last; empty if `value` is not one.
  SmallVector<Operation *> loadChain(Value value) {
    SmallVector<Operation *> chain;
    for (Operation *op = value.getDefiningOp(); op && op->getBlock() == &body &&
                                                op->hasOneUse();
         op = op->getOperand(0).getDefiningOp()) {
      chain.push_back(op);
      if (auto load = dyn_cast<tile::LoadOp>(op)) {
        // Loaded at the fragment positions of the value's [m, n], which
        // are those of the load's [count / n, n] (reshapes keep the flat
        // order): the same last dimension.
        auto type = cast<RankedTensorType>(value.getType());
        if (load.getType().getShape().back() != type.getShape().back() ||
            numElements(load.getType()) != numElements(type))
          return {};
        return chain;
      }
      if (!isa<tile::ReshapeOp>(op) && !(tile::isElementwiseOnTiles(op) && op->getNumOperands() == 1))
        break;
    }
    return {};
  }

  /// `value` in layout `placement` for a use (a splat cloned at `b`; any
  /// other value converted once, where builderFor says).
  Value inPlacement(OpBuilder &b, Location loc, Value value, Placement placement) {
    RankedTensorType type = placed(value.getType(), placement);
    if (placement != Placement::Plain && isSplat(value))
      return cloneSplat(b, value, type);
    // A tile loaded for this use only is loaded at the fragment positions.
    if (placement == Placement::Fragments && placementOf(value.getType()) == Placement::Plain)
      if (SmallVector<Operation *> chain = loadChain(value); !chain.empty()) {
        for (Operation *op : chain)
          op->getResult(0).setType(placed(op->getResult(0).getType(), placement));
        return value;
      }
    if (placement == Placement::Fragments && rebuildable(value))
      return rebuildInFragments(value);
    Value &cast = converted[{value, placement}];
    if (!cast) {
      OpBuilder at = builderFor(value);
      cast = UnrealizedConversionCastOp::create(at, loc, type, value).getResult(0);
    }
    return cast;
  }

  /// Erases the ops of the block left without uses (what was rebuilt in
  /// fragments, or converted, in its old layout).
  void eraseDeadOps() {
    bool erased = true;
    while (erased) {
      erased = false;
      // (Ops with regions stay: the blocks still to be placed may be in
      // them.)
      for (Operation &op : llvm::make_early_inc_range(llvm::reverse(body)))
        if (op.getNumRegions() == 0 && isOpTriviallyDead(&op)) {
          op.erase();
          erased = true;
        }
    }
  }

  void rewrite() {
    for (auto [value, placement] : wanted)
      value.setType(placed(value.getType(), placement));
    // Loop-carried rows or fragments: the entry value so, the result back
    // after the loop.
    if (loop) {
      for (unsigned i = 0; i < loop.getNumRegionIterArgs(); ++i) {
        BlockArgument carried = loop.getRegionIterArg(i);
        if (!wanted.count(carried))
          continue;
        OpBuilder b(loop);
        Location loc = loop.getLoc();
        // (Converted before the loop: an operand of the loop itself.)
        OpOperand &init = loop.getInitArgsMutable()[i];
        RankedTensorType entry = placed(init.get().getType(), wanted.lookup(carried));
        init.set(isSplat(init.get())
                     ? cloneSplat(b, init.get(), entry)
                     : UnrealizedConversionCastOp::create(b, loc, entry, init.get())
                           .getResult(0));
        Value result = loop.getResult(i);
        RankedTensorType plain = placed(result.getType(), Placement::Plain);
        result.setType(carried.getType());
        if (result.use_empty())
          continue;
        b.setInsertionPointAfter(loop);
        auto back = UnrealizedConversionCastOp::create(b, loc, plain, result);
        result.replaceAllUsesExcept(back.getResult(0), back);
      }
    }
    // Every operand in the layout its user needs (ops in nested regions
    // keep what they had).
    SmallVector<Operation *> users;
    for (Operation &op : body)
      op.walk([&](Operation *nested) { users.push_back(nested); });
    for (Operation *op : users) {
      for (unsigned i = 0; i < op->getNumOperands(); ++i) {
        Value operand = op->getOperand(i);
        if (!isa<RankedTensorType>(operand.getType()))
          continue;
        Placement need = op->getBlock() == &body ? needed(op, i) : otherwise(operand);
        if (placementOf(operand.getType()) == need)
          continue;
        OpBuilder b(op);
        op->setOperand(i, inPlacement(b, op->getLoc(), operand, need));
      }
    }
  }

  Block &body;
  const Layout &layout;
  const MatrixCoreLowering &matrixCores;
  scf::ForOp loop;
  llvm::MapVector<Value, Placement> wanted;
  /// Values made in another layout, by value and layout.
  DenseMap<std::pair<Value, Placement>, Value> converted;
  /// The block's first op before any was added.
  Operation *first = nullptr;
  SmallVector<Value> worklist;
};

} // namespace

void assignFragmentLayouts(func::FuncOp function, const Layout &layout,
                           const MatrixCoreLowering *matrixCores) {
  moveArithmeticAfterBroadcasts(function);
  if (!matrixCores)
    return;
  keepAccumulatorsInFragments(function, layout, *matrixCores);
  // Loop bodies innermost first, then the blocks holding loops that are
  // not loop bodies themselves (the kernel's body): what leaves a loop in
  // fragments or rows is placed where the loop is.
  SmallVector<Block *> bodies, holders;
  function.walk([&](scf::ForOp loop) { bodies.push_back(loop.getBody()); });
  for (Block *body : bodies)
    ProductPlacement(*body, layout, *matrixCores).run(/*products=*/true);
  function.walk([&](scf::ForOp loop) {
    Block *holder = loop->getBlock();
    if (!isa<scf::ForOp>(holder->getParentOp()) && !llvm::is_contained(holders, holder))
      holders.push_back(holder);
  });
  for (Block *holder : holders)
    ProductPlacement(*holder, layout, *matrixCores).run(/*products=*/false);
}

} // namespace prism::gpu_lowering
