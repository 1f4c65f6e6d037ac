//===- EpilogueRows.cpp - Large tiles' epilogues a few rows at a time -----===//

#include "targets/cpu/EpilogueRows.h"

#include "dialects/Tile/IR/TileDialect.h"
#include "dialects/Tile/IR/TileOps.h"
#include "dialects/Tile/Utils/Elementwise.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/IRMapping.h"
#include "llvm/ADT/MapVector.h"
#include "llvm/ADT/SetVector.h"
#include "llvm/ADT/SmallPtrSet.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

using namespace mlir;

namespace prism::cpu {
namespace {

/// Chunks smaller than this many rows of the tile gain nothing.
constexpr int64_t kMinChunks = 4;

/// An elementwise op the chunks may compute in any order.
bool isElementwise(Operation *op) { return tile::isElementwiseOnTiles(op) && isPure(op); }

/// The operations between the tiles some stores write (a rope epilogue's
/// two halves share their sines and cosines) and the K-loop results they
/// are computed from, found backwards from the stores, which are in one
/// block in this order.
class EpilogueSlice {
public:
  EpilogueSlice(ArrayRef<tile::StoreOp> stores, int64_t rows, int64_t columns)
      : stores(stores.begin(), stores.end()), rows(rows), columns(columns) {}

  /// Whether the stored tiles are such an epilogue: every operation in the
  /// stores' block, used only by the slice and the stores, and between
  /// the first store and the last only the slice, the stores and
  /// operations without memory effects (the stores move to the last one).
  bool collect() {
    for (tile::StoreOp store : stores)
      if (!collect(store.getValue()))
        return false;
    if (roots.empty())
      return false;
    llvm::SmallPtrSet<Operation *, 4> storeOps;
    for (tile::StoreOp store : stores)
      storeOps.insert(store);
    for (Operation *op : ops)
      for (Operation *user : op->getUsers())
        if (!storeOps.contains(user) && !ops.contains(user))
          return false;
    for (Operation *op = stores.front().getOperation(); op != stores.back().getOperation();
         op = op->getNextNode())
      if (!ops.contains(op) && !storeOps.contains(op) && !isMemoryEffectFree(op))
        return false;
    // A load of the slice moves to the last store (and runs after the
    // stores of earlier chunks): it must not read what the stores write,
    // and nothing may write memory between it and the last store.
    for (Operation *op : ops) {
      auto load = dyn_cast<tile::LoadOp>(op);
      if (!load)
        continue;
      for (tile::StoreOp store : stores)
        if (load.getBase() == store.getBase())
          return false;
      for (Operation *next = load->getNextNode(); next != stores.back().getOperation();
           next = next->getNextNode())
        if (!storeOps.contains(next) && !isMemoryEffectFree(next) &&
            !isa<tile::LoadOp>(next))
          return false;
    }
    return true;
  }

  /// Whether `type` is a tile of the stored rows' shape: [1.., rows, columns].
  bool isRowsTile(Type type) const {
    auto tensor = dyn_cast<RankedTensorType>(type);
    if (!tensor || tensor.getRank() < 2)
      return false;
    ArrayRef<int64_t> shape = tensor.getShape();
    return shape[shape.size() - 2] == rows && shape.back() == columns &&
           llvm::all_of(shape.drop_back(2), [](int64_t d) { return d == 1; });
  }

  SmallVector<tile::StoreOp> stores;
  int64_t rows, columns;
  llvm::SetVector<Operation *> ops;
  llvm::SetVector<Value> roots;

private:
  bool collect(Value value) {
    if (!isRowsTile(value.getType()))
      return false;
    Operation *def = value.getDefiningOp();
    if (!def || def->getBlock() != stores.front()->getBlock())
      return false;
    // The K loop's results (and products): computed whole, read back by
    // rows from an f32 stack buffer (a 16-bit one would need the i16
    // storage form the conversion gives memrefs).
    if (isa<scf::ForOp, tile::DotOp>(def)) {
      if (!cast<RankedTensorType>(value.getType()).getElementType().isF32())
        return false;
      roots.insert(value);
      return true;
    }
    if (ops.contains(def))
      return true;
    bool separable = false;
    if (isa<tile::SplatOp>(def)) {
      separable = true;
    } else if (auto constant = dyn_cast<arith::ConstantOp>(def)) {
      auto dense = dyn_cast<DenseElementsAttr>(constant.getValue());
      separable = dense && dense.isSplat();
    } else if (auto broadcast = dyn_cast<tile::BroadcastOp>(def)) {
      // One row broadcast over the rows: [1.., 1, columns].
      auto source = cast<RankedTensorType>(broadcast.getInput().getType());
      ArrayRef<int64_t> shape = source.getShape();
      separable = source.getRank() == cast<RankedTensorType>(value.getType()).getRank() &&
                  shape.back() == columns && shape[shape.size() - 2] == 1;
    } else if (auto reshape = dyn_cast<tile::ReshapeOp>(def)) {
      separable = collect(reshape.getInput());
    } else if (auto load = dyn_cast<tile::LoadOp>(def)) {
      separable = static_cast<int64_t>(load.getIndices().size()) ==
                  cast<RankedTensorType>(value.getType()).getRank();
    } else if (isElementwise(def)) {
      separable = llvm::all_of(def->getOperands(), [&](Value operand) { return collect(operand); });
    }
    if (!separable) {
      // Anything else of the tile's shape (a column broadcast over the
      // rows: a rope epilogue's positions) is computed whole, like a
      // K-loop result, and read back by rows; what follows it (the rope's
      // sines and cosines) still runs by chunks.
      if (!cast<RankedTensorType>(value.getType()).getElementType().isF32())
        return false;
      roots.insert(value);
      return true;
    }
    ops.insert(def);
    return true;
  }
};

/// `type` with `chunk` rows instead of its rows.
RankedTensorType chunkOf(Type type, int64_t chunk) {
  auto tensor = cast<RankedTensorType>(type);
  SmallVector<int64_t> shape(tensor.getShape());
  shape[shape.size() - 2] = chunk;
  return RankedTensorType::get(shape, tensor.getElementType());
}

/// `indices` with `offset` added to the rows' index.
SmallVector<Value> shiftRows(OpBuilder &b, Location loc, ValueRange indices, Value offset) {
  SmallVector<Value> shifted(indices.begin(), indices.end());
  Value &row = shifted[shifted.size() - 2];
  row = arith::AddIOp::create(b, loc, row, offset);
  return shifted;
}

void rewriteInChunks(func::FuncOp kernel, EpilogueSlice &slice, int64_t chunk) {
  tile::StoreOp last = slice.stores.back();
  Location loc = last.getLoc();
  OpBuilder b(last);
  // Each K-loop result goes to a stack buffer once, read back by chunks.
  OpBuilder entry(&kernel.getBody().front(), kernel.getBody().front().begin());
  DenseMap<Value, Value> bufferOf;
  for (Value root : slice.roots) {
    auto type = cast<RankedTensorType>(root.getType());
    Value buffer = memref::AllocaOp::create(
        entry, loc, MemRefType::get(type.getShape(), type.getElementType()));
    SmallVector<Value> origin(type.getRank(), arith::ConstantIndexOp::create(b, loc, 0));
    tile::StoreOp::create(b, loc, root, buffer, origin, Value());
    bufferOf[root] = buffer;
  }
  auto loop = scf::ForOp::create(b, loc, arith::ConstantIndexOp::create(b, loc, 0),
                                 arith::ConstantIndexOp::create(b, loc, slice.rows),
                                 arith::ConstantIndexOp::create(b, loc, chunk));
  b.setInsertionPointToStart(loop.getBody());
  Value row = loop.getInductionVar();
  IRMapping mapping;
  auto chunkValue = [&](Value value) -> Value {
    if (Value mapped = mapping.lookupOrNull(value))
      return mapped;
    auto found = bufferOf.find(value);
    if (found == bufferOf.end())
      return value; // computed before the epilogue (a broadcast row, a scalar)
    auto type = cast<RankedTensorType>(value.getType());
    SmallVector<Value> origin(type.getRank(), arith::ConstantIndexOp::create(b, loc, 0));
    Value read = tile::LoadOp::create(b, loc, chunkOf(type, chunk), found->second,
                                      shiftRows(b, loc, origin, row), Value());
    mapping.map(value, read);
    return read;
  };
  SmallVector<Operation *> ordered(slice.ops.begin(), slice.ops.end());
  llvm::sort(ordered, [](Operation *x, Operation *y) { return x->isBeforeInBlock(y); });
  for (Operation *op : ordered) {
    Type type = chunkOf(op->getResult(0).getType(), chunk);
    Value result;
    if (auto splat = dyn_cast<tile::SplatOp>(op)) {
      result = tile::SplatOp::create(b, loc, type, splat.getValue());
    } else if (auto constant = dyn_cast<arith::ConstantOp>(op)) {
      auto dense = cast<DenseElementsAttr>(constant.getValue());
      result = arith::ConstantOp::create(
          b, loc, DenseElementsAttr::get(cast<ShapedType>(type), dense.getSplatValue<Attribute>()));
    } else if (auto broadcast = dyn_cast<tile::BroadcastOp>(op)) {
      result = tile::BroadcastOp::create(b, loc, type, broadcast.getInput());
    } else if (auto reshape = dyn_cast<tile::ReshapeOp>(op)) {
      result = tile::ReshapeOp::create(b, loc, type, chunkValue(reshape.getInput()));
    } else if (auto load = dyn_cast<tile::LoadOp>(op)) {
      result = tile::LoadOp::create(b, loc, type, load.getBase(),
                                    shiftRows(b, loc, load.getIndices(), row), load.getPadding());
    } else {
      // The operands' chunks first: they are emitted before the clone.
      IRMapping operands;
      for (Value operand : op->getOperands())
        operands.map(operand, chunkValue(operand));
      Operation *clone = b.clone(*op, operands);
      clone->getResult(0).setType(type);
      result = clone->getResult(0);
    }
    mapping.map(op->getResult(0), result);
  }
  for (tile::StoreOp store : slice.stores) {
    tile::StoreOp::create(b, loc, chunkValue(store.getValue()), store.getBase(),
                          shiftRows(b, loc, store.getIndices(), row), Value());
    store.erase();
  }
  for (Operation *op : llvm::reverse(ordered))
    op->erase();
}

} // namespace

void computeEpiloguesInRowChunks(ModuleOp module, int64_t chunkElements) {
  for (auto kernel : module.getOps<func::FuncOp>()) {
    if (!kernel->hasAttr(tile::TileDialect::getKernelAttrName()))
      continue;
    // The candidate stores of each block, grouped by tile shape in block
    // order: each group is tried whole, then each store alone.
    llvm::MapVector<std::pair<Block *, Type>, SmallVector<tile::StoreOp>> groups;
    kernel.walk([&](tile::StoreOp store) {
      auto type = cast<RankedTensorType>(store.getValue().getType());
      if (!store.getMask() && type.getRank() >= 2)
        groups[{store->getBlock(), type}].push_back(store);
    });
    for (auto &[key, stores] : groups) {
      auto type = cast<RankedTensorType>(key.second);
      int64_t rows = type.getDimSize(type.getRank() - 2), columns = type.getShape().back();
      int64_t chunk = std::max<int64_t>(1, chunkElements / columns);
      if (rows % chunk != 0 || rows < kMinChunks * chunk)
        continue;
      auto tryRewrite = [&](ArrayRef<tile::StoreOp> group) {
        EpilogueSlice slice(group, rows, columns);
        if (!slice.isRowsTile(type) || !slice.collect())
          return false;
        rewriteInChunks(kernel, slice, chunk);
        return true;
      };
      if (stores.size() > 1 && tryRewrite(stores))
        continue;
      for (tile::StoreOp store : stores)
        tryRewrite({store});
    }
  }
}

} // namespace prism::cpu
