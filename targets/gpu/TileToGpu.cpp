//===- TileToGpu.cpp - Tile kernels to GPU kernels, for every GPU vendor ---===//
//
// One program instance is one thread block; every tile is spread over the
// block element-wise, and ops that move elements between threads exchange
// them through shared memory (see TileToGpu.h). Vendors plug in their
// matrix-core lowering of tile.dot.
//
//===----------------------------------------------------------------------===//

#include "targets/gpu/TileToGpu.h"
#include "targets/gpu/StageDotOperands.h"

#include "dialects/Tile/IR/TileOps.h"
#include "dialects/Tile/Utils/LargestTile.h"
#include "dialects/Tile/Utils/MemoryAccess.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Func/Transforms/FuncConversions.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/SCF/Transforms/Patterns.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Transforms/DialectConversion.h"

#include <limits>

using namespace mlir;
using namespace prism;
using prism::tile::FlatView;
using prism::tile::flatten;
using prism::tile::indexConstant;
using prism::tile::zeroOf;

namespace prism::gpu_lowering {

//===----------------------------------------------------------------------===//
// The distributed layout
//===----------------------------------------------------------------------===//

int64_t numElements(ShapedType type) {
  int64_t n = 1;
  for (int64_t d : type.getShape())
    n *= d;
  return n;
}

/// Elements of an N-element tile that each of `threads` threads holds.
int64_t perThread(int64_t n, int64_t threads) {
  return std::max<int64_t>(1, (n + threads - 1) / threads);
}

/// Row-major strides of a static shape.
SmallVector<int64_t> rowMajorStrides(ArrayRef<int64_t> shape) {
  SmallVector<int64_t> strides(shape.size(), 1);
  for (int64_t d = static_cast<int64_t>(shape.size()) - 2; d >= 0; --d)
    strides[d] = strides[d + 1] * shape[d + 1];
  return strides;
}

/// A tile becomes the vector of this thread's elements: as many as the
/// element-wise layout gives it (also in fragments, which the lowering
/// uses only where the counts agree), or, for a row vector in the rows
/// layout, one per row the thread holds.
class DistributedTypeConverter : public TypeConverter {
public:
  DistributedTypeConverter(const Layout &layout, const MatrixCoreLowering *matrixCores) {
    addConversion([](Type type) { return type; });
    addConversion([layout, matrixCores](RankedTensorType type) -> Type {
      if (!type.hasStaticShape())
        return nullptr;
      int64_t count = perThread(numElements(type), layout.threads);
      if (inFragmentRows(type)) {
        std::optional<FragmentRows> rows =
            matrixCores ? matrixCores->fragmentRows(type.getDimSize(0), layout)
                        : std::nullopt;
        if (!rows)
          return nullptr;
        count = rows->perThread;
      }
      return VectorType::get({count}, type.getElementType());
    });
  }
};

Value isMultipleOf(OpBuilder &b, Location loc, Value v, int64_t of) {
  return arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq,
                               arith::RemUIOp::create(b, loc, v, indexConstant(b, loc, of)),
                               indexConstant(b, loc, 0));
}

/// A vector<lanes x index> filled with `scalar`.
Value splatIndex(OpBuilder &b, Location loc, Value scalar, int64_t lanes) {
  return tile::splatIndex(b, loc, scalar, {lanes});
}

Value allLanes(OpBuilder &b, Location loc, int64_t lanes) {
  auto type = VectorType::get({lanes}, b.getI1Type());
  return arith::ConstantOp::create(b, loc, type, DenseElementsAttr::get(type, true));
}

Value indexVector(OpBuilder &b, Location loc, ArrayRef<int64_t> values) {
  auto type = VectorType::get({static_cast<int64_t>(values.size())},
                              b.getIndexType());
  SmallVector<APInt> bits;
  for (int64_t v : values)
    bits.push_back(APInt(64, v));
  return arith::ConstantOp::create(b, loc, type,
                                   DenseElementsAttr::get(type, bits));
}

int64_t Layout::runsOf(int64_t n) const {
  for (int64_t run = contiguous; run > 1; run /= 2)
    if (n % (run * threads) == 0)
      return run;
  return 1;
}

Value Layout::owned(OpBuilder &b, Location loc, int64_t n) const {
  // Thread t holds (j / C) * C * T + t * C + j % C.
  int64_t lanes = perThread(n, threads), run = runsOf(n);
  SmallVector<int64_t> offsets;
  for (int64_t j = 0; j < lanes; ++j)
    offsets.push_back((j / run) * run * threads + j % run);
  Value start = gpu::ThreadIdOp::create(b, loc, gpu::Dimension::x);
  if (run > 1)
    start = arith::MulIOp::create(b, loc, start, indexConstant(b, loc, run));
  return arith::AddIOp::create(b, loc, indexVector(b, loc, offsets),
                               splatIndex(b, loc, start, lanes));
}

Value Layout::ownedMask(OpBuilder &b, Location loc, Value flat, int64_t n) const {
  int64_t lanes = cast<VectorType>(flat.getType()).getDimSize(0);
  return arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, flat,
                               splatIndex(b, loc, indexConstant(b, loc, n), lanes));
}

/// Coordinates of flat row-major indices in `shape`.
SmallVector<Value> coordinates(OpBuilder &b, Location loc, Value flat,
                               ArrayRef<int64_t> shape) {
  int64_t lanes = cast<VectorType>(flat.getType()).getDimSize(0);
  SmallVector<int64_t> strides = rowMajorStrides(shape);
  SmallVector<Value> coords;
  for (auto [d, size] : llvm::enumerate(shape)) {
    Value c = arith::DivUIOp::create(
        b, loc, flat, splatIndex(b, loc, indexConstant(b, loc, strides[d]), lanes));
    if (d > 0)
      c = arith::RemUIOp::create(
          b, loc, c, splatIndex(b, loc, indexConstant(b, loc, size), lanes));
    coords.push_back(c);
  }
  return coords;
}

/// sum_d coords[d] * strides[d] (static strides).
Value linearize(OpBuilder &b, Location loc, ArrayRef<Value> coords,
                ArrayRef<int64_t> strides, int64_t lanes) {
  Value linear = splatIndex(b, loc, indexConstant(b, loc, 0), lanes);
  for (auto [c, s] : llvm::zip(coords, strides))
    linear = arith::AddIOp::create(
        b, loc, linear,
        arith::MulIOp::create(b, loc, c,
                              splatIndex(b, loc, indexConstant(b, loc, s), lanes)));
  return linear;
}

//===----------------------------------------------------------------------===//
// Shared memory exchanges
//===----------------------------------------------------------------------===//

/// How a tile element is kept in shared memory: i1 as i8, index as i64.
Type storageType(Type element) {
  MLIRContext *context = element.getContext();
  if (element.isInteger(1))
    return IntegerType::get(context, 8);
  if (element.isIndex())
    return IntegerType::get(context, 64);
  return element;
}

int64_t storageBytes(Type element) {
  return std::max<int64_t>(1, storageType(element).getIntOrFloatBitWidth() / 8);
}

int64_t alignTo16(int64_t bytes) { return (bytes + 15) / 16 * 16; }

Value swizzledOffset(OpBuilder &b, Location loc, Value offset, int64_t swizzleBytes) {
  auto c = [&](int64_t v) { return indexConstant(b, loc, v); };
  // Bits 4.. of the chunk index XOR bits 7.. of the row (S / 16 values).
  Value row = arith::AndIOp::create(b, loc, arith::ShRUIOp::create(b, loc, offset, c(7)),
                                    c(swizzleBytes / 16 - 1));
  return arith::XOrIOp::create(b, loc, offset, arith::ShLIOp::create(b, loc, row, c(4)));
}

Value toStorage(OpBuilder &b, Location loc, Value v) {
  auto type = cast<VectorType>(v.getType());
  Type element = type.getElementType();
  Type storage = storageType(element);
  if (storage == element)
    return v;
  auto target = VectorType::get(type.getShape(), storage);
  if (element.isIndex())
    return arith::IndexCastOp::create(b, loc, target, v);
  return arith::ExtUIOp::create(b, loc, target, v);
}

Value fromStorage(OpBuilder &b, Location loc, Value v, Type element) {
  auto type = cast<VectorType>(v.getType());
  if (type.getElementType() == element)
    return v;
  auto target = VectorType::get(type.getShape(), element);
  if (element.isIndex())
    return arith::IndexCastOp::create(b, loc, target, v);
  return arith::TruncIOp::create(b, loc, target, v);
}

/// The kernel's shared-memory workspace, viewed as `count` elements of
/// `element` from `byteOffset`.
Value workspaceOf(gpu::GPUFuncOp kernel) {
  if (!kernel.getWorkgroupAttributions().empty())
    return kernel.getWorkgroupAttributions().front();
  for (Operation &op : kernel.getBody().front())
    if (op.hasAttr(kWorkspaceAttrName))
      return op.getResult(0);
  return {};
}

Value workspaceView(OpBuilder &b, Operation *user, int64_t byteOffset,
                    Type element, int64_t count) {
  auto function = user->getParentOfType<gpu::GPUFuncOp>();
  Value workspace = workspaceOf(function);
  auto space = cast<MemRefType>(workspace.getType()).getMemorySpace();
  Location loc = user->getLoc();
  return memref::ViewOp::create(
      b, loc, MemRefType::get({count}, storageType(element), nullptr, space),
      workspace, indexConstant(b, loc, byteOffset), ValueRange{});
}

/// The flat row-major positions of the calling thread's elements of a tile
/// of `type` in the layout its encoding gives, and which of them exist:
/// element-wise (the last lanes of the last threads may not); fragments of
/// the tile as [count / columns, columns] (leading unit dimensions keep
/// the flat order; every position exists); fragment rows (the thread's
/// rows; all exist).
static std::pair<Value, Value> positionsInLayout(OpBuilder &b, Location loc,
                                                 const Layout &layout,
                                                 const MatrixCoreLowering *matrixCores,
                                                 RankedTensorType type) {
  int64_t count = numElements(type);
  Value positions;
  if (inFragments(type)) {
    int64_t columns = type.getShape().back();
    positions = matrixCores->fragmentPositions(b, loc, layout, count / columns, columns);
  } else if (inFragmentRows(type)) {
    positions = matrixCores->fragmentRowIndices(b, loc, layout, type.getDimSize(0));
  } else {
    Value owned = layout.owned(b, loc, count);
    return {owned, layout.ownedMask(b, loc, owned, count)};
  }
  return {positions, allLanes(b, loc, cast<VectorType>(positions.getType()).getDimSize(0))};
}

/// A distributed tile to write to shared memory: `n` elements of
/// `element` at `byteOffset` of the workspace; row-major, or in core
/// matrices (SharedLayout::CoreMatrices) of a tile with rows of
/// `coreMatrixColumns` elements when that is not 0.
struct Published {
  Value tile;
  int64_t n;
  Type element;
  int64_t byteOffset;
  int64_t coreMatrixColumns = 0;
  /// The tile's type, whose encoding gives its layout (null: element-wise).
  RankedTensorType layoutType = nullptr;
};

/// Where flat row-major positions `flat` of a tile with rows of `columns`
/// elements are in its core matrices: row group r / 8 (8 rows), core
/// matrix c / 8 in it, row r % 8 of that, element c % 8.
static Value coreMatrixPositions(OpBuilder &b, Location loc, Value flat, int64_t columns) {
  int64_t lanes = cast<VectorType>(flat.getType()).getDimSize(0);
  auto splat = [&](int64_t v) { return splatIndex(b, loc, indexConstant(b, loc, v), lanes); };
  Value row = arith::DivUIOp::create(b, loc, flat, splat(columns));
  Value column = arith::RemUIOp::create(b, loc, flat, splat(columns));
  Value group = arith::MulIOp::create(b, loc, arith::DivUIOp::create(b, loc, row, splat(8)),
                                      splat(8 * columns));
  Value matrix = arith::MulIOp::create(
      b, loc, arith::DivUIOp::create(b, loc, column, splat(8)), splat(64));
  Value inMatrix = arith::AddIOp::create(
      b, loc, arith::MulIOp::create(b, loc, arith::RemUIOp::create(b, loc, row, splat(8)),
                                    splat(8)),
      arith::RemUIOp::create(b, loc, column, splat(8)));
  return arith::AddIOp::create(b, loc, arith::AddIOp::create(b, loc, group, matrix),
                               inMatrix);
}

/// Lanes [first, first + count) of a vector (a shuffle, which every
/// vendor's lowering to LLVM takes).
static Value lanesOf(OpBuilder &b, Location loc, Value vector, int64_t first,
                     int64_t count) {
  SmallVector<int64_t> lanes;
  for (int64_t i = 0; i < count; ++i)
    lanes.push_back(first + i);
  return vector::ShuffleOp::create(b, loc, vector, vector, lanes);
}

/// `vector` with lanes [first, first + size of part) replaced by `part`.
static Value withLanes(OpBuilder &b, Location loc, Value vector, Value part,
                       int64_t first) {
  int64_t lanes = cast<VectorType>(vector.getType()).getDimSize(0);
  int64_t count = cast<VectorType>(part.getType()).getDimSize(0);
  SmallVector<int64_t> mask;
  for (int64_t i = 0; i < lanes; ++i)
    mask.push_back(i >= first && i < first + count ? lanes + i - first : i);
  return vector::ShuffleOp::create(b, loc, vector, part, mask);
}

/// Writes distributed tiles to shared memory at their flat positions, all
/// between the same two barriers (the first lets the previous exchange's
/// readers finish; the second publishes the tiles). Tiles in core matrices
/// are read by the matrix cores themselves: `matrixCores` fences the
/// writes for them before the second barrier. Returns their views.
SmallVector<Value> publishAll(OpBuilder &b, Operation *user, const Layout &layout,
                              ArrayRef<Published> tiles,
                              const MatrixCoreLowering *matrixCores = nullptr) {
  Location loc = user->getLoc();
  gpu::BarrierOp::create(b, loc);
  SmallVector<Value> views;
  bool fence = false;
  for (const Published &p : tiles) {
    Value view = workspaceView(b, user, p.byteOffset, p.element, p.n);
    auto [flat, mask] = positionsInLayout(
        b, loc, layout, matrixCores,
        p.layoutType ? p.layoutType : RankedTensorType::get({p.n}, p.element));
    Value positions = flat;
    if (p.coreMatrixColumns) {
      positions = coreMatrixPositions(b, loc, flat, p.coreMatrixColumns);
      fence = true;
    }
    Value stored = toStorage(b, loc, p.tile);
    views.push_back(view);
    // Runs of contiguous elements (all of which exist) are vector stores:
    // a warp's 16-byte stores fill every bank once per 8 lanes, where its
    // scalar stores, a run apart, would fall on a few banks.
    int64_t run = layout.runsOf(p.n);
    int64_t runBytes = run * storageBytes(p.element);
    if (!p.layoutType && !p.coreMatrixColumns && run > 1 &&
        p.byteOffset % std::min<int64_t>(16, runBytes) == 0) {
      int64_t lanes = cast<VectorType>(stored.getType()).getDimSize(0);
      for (int64_t first = 0; first < lanes; first += run) {
        Value start = vector::ExtractOp::create(b, loc, flat, ArrayRef<int64_t>{first});
        vector::StoreOp::create(
            b, loc, lanesOf(b, loc, stored, first, run), view, ValueRange{start},
            /*nontemporal=*/false,
            llvm::MaybeAlign(std::min<int64_t>(16, runBytes)));
      }
      continue;
    }
    vector::ScatterOp::create(b, loc, Type(), view, ValueRange{indexConstant(b, loc, 0)},
                              positions, mask, stored);
  }
  if (fence)
    matrixCores->fenceWritesForMatrixCores(b, loc);
  gpu::BarrierOp::create(b, loc);
  return views;
}

Value publish(OpBuilder &b, Operation *user, const Layout &layout, Value tile,
              int64_t n, Type element, int64_t byteOffset) {
  return publishAll(b, user, layout, {{tile, n, element, byteOffset}}).front();
}

/// Reads elements `indices` (masked) of a published tile.
Value readPublished(OpBuilder &b, Location loc, Value view, Value indices,
                    Value mask, Type element) {
  int64_t lanes = cast<VectorType>(indices.getType()).getDimSize(0);
  Type storage = storageType(element);
  auto type = VectorType::get({lanes}, storage);
  Value passThrough =
      vector::BroadcastOp::create(b, loc, type, zeroOf(b, loc, storage));
  Value read = vector::GatherOp::create(b, loc, type, view,
                                        ValueRange{indexConstant(b, loc, 0)},
                                        indices, mask, passThrough);
  return fromStorage(b, loc, read, element);
}

/// Whether a tile type is in the matrix cores' fragment layout.
/// Whether `type` is a tile type with the layout encoding `name`.
static bool hasLayoutEncoding(Type type, StringRef name) {
  auto tensor = dyn_cast<RankedTensorType>(type);
  auto encoding = tensor ? dyn_cast_or_null<StringAttr>(tensor.getEncoding()) : nullptr;
  return encoding && encoding.getValue() == name;
}

bool inFragments(Type type) { return hasLayoutEncoding(type, kFragmentsEncoding); }

bool inFragmentRows(Type type) { return hasLayoutEncoding(type, kFragmentRowsEncoding); }

/// A layout change inserted by assignFragmentLayouts: a cast between a
/// tile type and the same type in another layout (element-wise, fragments
/// or fragment rows).
bool isRelayout(UnrealizedConversionCastOp cast) {
  if (cast->getNumOperands() != 1 || cast->getNumResults() != 1)
    return false;
  auto from = dyn_cast<RankedTensorType>(cast.getOperand(0).getType());
  auto to = dyn_cast<RankedTensorType>(cast.getResult(0).getType());
  return from && to && from.getEncoding() != to.getEncoding();
}

/// On a tile.broadcast whose one-element source every thread holds (see
/// isUniformScalar).
constexpr llvm::StringLiteral kUniformSourceAttrName = "prism.uniform_source";

/// Whether ConvertReduce reduces `op` with warp shuffles (see
/// reduceRowsByShuffles): f32 rows of C elements along the last axis, C a
/// multiple of the threads (of their runs of contiguous elements), on a
/// target with warp shuffles.
static bool reducesRowsByShuffles(tile::ReduceOp op, const Layout &layout) {
  auto source = cast<RankedTensorType>(op.getInput().getType());
  int64_t axis = static_cast<int64_t>(op.getAxis());
  return layout.warpShuffles && layout.threads % 32 == 0 &&
         axis == source.getRank() - 1 && source.getElementType().isF32() &&
         source.getDimSize(axis) % (layout.threads * layout.runsOf(numElements(source))) ==
             0 &&
         !inFragments(op.getInput().getType());
}

/// Whether every thread holds the value of a one-element tile `value` in
/// its lane 0 (in the element-wise layout only the thread that owns the
/// element need hold it): splats and constants; a reduction of one row by
/// warp shuffles (every thread combines the warps' partials); reshapes,
/// one-element broadcasts and element-wise ops of such values; and a K
/// loop's carried value whose initial and yielded values are such values
/// (assumed of the loop's own values while they are checked). A broadcast
/// of such a value needs no exchange.
///
/// Each value is checked once per set of assumed loop values: results
/// found with none assumed hold for good; one found while loop values are
/// assumed holds until the outermost of them is decided, and a "no" found
/// under fewer assumptions is safe under more (assumptions only add
/// "yes"), so every enclosing scope's results are used.
class UniformScalars {
public:
  explicit UniformScalars(const Layout &layout) : layout(layout) {}

  bool check(Value value) {
    auto type = dyn_cast<RankedTensorType>(value.getType());
    if (!type || numElements(type) != 1 || type.getEncoding())
      return false;
    if (assumed.contains(value))
      return true;
    if (auto found = resolved.find(value); found != resolved.end())
      return found->second;
    for (const llvm::DenseMap<Value, bool> &scope : llvm::reverse(scopes))
      if (auto found = scope.find(value); found != scope.end())
        return found->second;
    bool uniform = compute(value);
    (scopes.empty() ? resolved : scopes.back())[value] = uniform;
    return uniform;
  }

private:
  bool compute(Value value) {
    if (auto argument = dyn_cast<BlockArgument>(value)) {
      auto loop = dyn_cast<scf::ForOp>(argument.getOwner()->getParentOp());
      if (!loop || argument.getOwner() != loop.getBody() || argument.getArgNumber() == 0)
        return false;
      unsigned i = argument.getArgNumber() - 1;
      assumed.insert(value);
      scopes.emplace_back();
      bool uniform = check(loop.getInitArgs()[i]) &&
                     check(loop.getBody()->getTerminator()->getOperand(i));
      scopes.pop_back();
      assumed.erase(value);
      return uniform;
    }
    Operation *op = value.getDefiningOp();
    if (isa<tile::SplatOp, arith::ConstantOp>(op))
      return true;
    if (auto reduce = dyn_cast<tile::ReduceOp>(op))
      return reducesRowsByShuffles(reduce, layout);
    if (isa<tile::ReshapeOp, tile::ExpandDimsOp, tile::BroadcastOp>(op))
      return check(op->getOperand(0));
    if (auto loop = dyn_cast<scf::ForOp>(op))
      return check(loop.getRegionIterArgs()[cast<OpResult>(value).getResultNumber()]);
    if (!isa<arith::ArithDialect, math::MathDialect>(op->getDialect()) ||
        op->getNumResults() != 1)
      return false;
    return llvm::all_of(op->getOperands(), [&](Value operand) {
      return !isa<RankedTensorType>(operand.getType()) || check(operand);
    });
  }

  const Layout &layout;
  llvm::SmallPtrSet<Value, 8> assumed;
  llvm::DenseMap<Value, bool> resolved;
  SmallVector<llvm::DenseMap<Value, bool>> scopes;
};

/// Marks the broadcasts of such values (kUniformSourceAttrName), before
/// the conversion (which moves the loops' blocks while it runs).
static void markUniformBroadcasts(func::FuncOp kernel, const Layout &layout) {
  UniformScalars uniform(layout);
  kernel.walk([&](tile::BroadcastOp broadcast) {
    if (uniform.check(broadcast.getInput()))
      broadcast->setAttr(kUniformSourceAttrName, UnitAttr::get(broadcast.getContext()));
  });
}

/// The tile.iota a value is, through reshapes and expand_dims (which keep
/// the row-major order: element i of the value is i), if it is one.
tile::IotaOp iotaThroughViews(Value value) {
  while (Operation *op = value.getDefiningOp()) {
    if (auto iota = dyn_cast<tile::IotaOp>(op))
      return iota;
    if (!isa<tile::ReshapeOp, tile::ExpandDimsOp>(op))
      return nullptr;
    value = op->getOperand(0);
  }
  return nullptr;
}

/// A 2-D transpose whose only users are dots (as an operand): the dots read
/// its source in place from shared memory with swapped indices, so the
/// transpose itself needs no exchange.
static bool foldedIntoDot(tile::TransposeOp transpose) {
  if (transpose.getPermutation() != ArrayRef<int64_t>{1, 0} ||
      transpose->use_empty())
    return false;
  return llvm::all_of(transpose->getUses(), [](OpOperand &use) {
    return isa<tile::DotOp>(use.getOwner()) && use.getOperandNumber() < 2;
  });
}

/// Whether dot operand `index` is a transpose folded into it.
static bool operandTransposed(tile::DotOp dot, unsigned index) {
  auto transpose = dot->getOperand(index).getDefiningOp<tile::TransposeOp>();
  return transpose && foldedIntoDot(transpose);
}

/// Whether `dot` reads A from this thread's fragments, B from its slot or
/// published in rows (MatrixCoreLowering::takesOperandAInFragments).
static bool takesOperandAFromFragments(tile::DotOp dot, const Layout &layout,
                                       const MatrixCoreLowering *matrixCores) {
  if (!matrixCores || stagedOperand(dot.getLhs()) || !inFragments(dot.getLhs().getType()) ||
      !inFragments(dot.getType()) || !matrixCores->supports(dot))
    return false;
  if (std::optional<StagedOperand> b = stagedOperand(dot.getRhs()))
    return matrixCores->takesOperandAInFragments(dot, layout, b->layout, b->transposed);
  return matrixCores->takesOperandAInFragments(dot, layout, SharedLayout::Rows,
                                               operandTransposed(dot, 1));
}

/// Bytes of shared memory an op's exchange needs (0 if it needs none).
int64_t exchangeBytes(Operation *op, const Layout &layout,
                      const MatrixCoreLowering *matrixCores) {
  int64_t threads = layout.threads;
  auto bytesOf = [](Value v) {
    auto type = cast<RankedTensorType>(v.getType());
    return numElements(type) * storageBytes(type.getElementType());
  };
  // A broadcast of an iota computes its values; one of fragment rows
  // picks the thread's own; a reduction of fragments shuffles.
  if (auto broadcast = dyn_cast<tile::BroadcastOp>(op))
    return iotaThroughViews(broadcast.getInput()) ||
                   inFragmentRows(broadcast.getInput().getType()) ||
                   broadcast->hasAttr(kUniformSourceAttrName)
               ? 0
               : bytesOf(broadcast.getInput());
  if (isa<tile::TransposeOp>(op))
    return bytesOf(op->getOperand(0));
  if (auto reduce = dyn_cast<tile::ReduceOp>(op)) {
    if (inFragments(reduce.getInput().getType()))
      return 0;
    // By shuffles: one partial per warp and row (reduceRowsByShuffles).
    if (reducesRowsByShuffles(reduce, layout))
      return numElements(cast<RankedTensorType>(reduce.getType())) * (threads / 32) *
             storageBytes(reduce.getType().getElementType());
    // Published, + a partial per thread.
    return alignTo16(bytesOf(reduce.getInput())) +
           threads * storageBytes(reduce.getType().getElementType());
  }
  // A change between the element-wise and the fragment layout: the f32
  // tile once.
  if (auto cast = dyn_cast<UnrealizedConversionCastOp>(op))
    return isRelayout(cast) ? bytesOf(cast.getOperand(0)) : 0;
  if (auto dot = dyn_cast<tile::DotOp>(op)) {
    // Staged operands are in their slots (StageDotOperands.h), A in
    // registers where it can stay there; a fragment accumulator needs no
    // shared memory.
    if (stagedOperand(dot.getLhs()) && stagedOperand(dot.getRhs()) &&
        inFragments(dot.getType()))
      return 0;
    if (takesOperandAFromFragments(dot, Layout{threads}, matrixCores))
      return stagedOperand(dot.getRhs()) ? 0 : bytesOf(dot.getRhs());
    int64_t operands = alignTo16(bytesOf(dot.getLhs())) + bytesOf(dot.getRhs());
    if (!matrixCores || !matrixCores->supports(dot) || inFragments(dot.getType()))
      return operands;
    // + the f32 result tile, written by the warps' fragments.
    return alignTo16(operands) + numElements(dot.getType()) * 4;
  }
  return 0;
}

void forEachGroupTile(OpBuilder &b, Location loc, Value group, int64_t groups,
                      int64_t tiles, function_ref<void(Value tileIndex)> body) {
  for (int64_t round = 0; round * groups < tiles; ++round) {
    Value tileIndex = arith::AddIOp::create(
        b, loc, group, tile::indexConstant(b, loc, round * groups));
    Value exists = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, tileIndex,
                                         tile::indexConstant(b, loc, tiles));
    auto ifOp = scf::IfOp::create(b, loc, exists, /*withElseRegion=*/false);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPoint(ifOp.thenBlock()->getTerminator());
    body(tileIndex);
  }
}

Value addPublishedResult(OpBuilder &b, Location loc, const Layout &layout, Value result,
                         Value acc, int64_t count) {
  gpu::BarrierOp::create(b, loc);
  Value flat = layout.owned(b, loc, count);
  Value products = readPublished(b, loc, result, flat,
                                 layout.ownedMask(b, loc, flat, count), b.getF32Type());
  return arith::AddFOp::create(b, loc, acc, products);
}

MatrixCoreLowering::~MatrixCoreLowering() = default;

AsyncCopyLowering::~AsyncCopyLowering() = default;
TensorCopyLowering::~TensorCopyLowering() = default;

Value MatrixCoreLowering::emitOnFragments(ConversionPatternRewriter &, tile::DotOp,
                                          const Layout &, const SharedOperands &,
                                          Value, int64_t, int64_t, int64_t) const {
  llvm::report_fatal_error("emitOnFragments of a matrix-core lowering that "
                           "keeps no accumulator in fragments");
}

Value MatrixCoreLowering::emitOnFragmentsWithOperandAInFragments(
    ConversionPatternRewriter &, tile::DotOp, const Layout &, Value,
    const SharedOperands &, Value, int64_t, int64_t, int64_t) const {
  llvm::report_fatal_error("emitOnFragmentsWithOperandAInFragments of a matrix-core "
                           "lowering that takes no operand in fragments");
}

Value MatrixCoreLowering::fragmentPositions(OpBuilder &, Location, const Layout &,
                                            int64_t, int64_t) const {
  llvm::report_fatal_error("fragmentPositions of a matrix-core lowering that "
                           "keeps no accumulator in fragments");
}

int64_t MatrixCoreLowering::fragmentRowSlot(int64_t, int64_t, int64_t) const {
  llvm::report_fatal_error("fragmentRowSlot of a matrix-core lowering without "
                           "fragment rows");
}

Value MatrixCoreLowering::fragmentRowIndices(OpBuilder &, Location, const Layout &,
                                             int64_t) const {
  llvm::report_fatal_error("fragmentRowIndices of a matrix-core lowering without "
                           "fragment rows");
}

} // namespace prism::gpu_lowering

using namespace prism::gpu_lowering;

namespace {

//===----------------------------------------------------------------------===//
// Patterns
//===----------------------------------------------------------------------===//

template <typename Op>
struct DistributedPattern : OpConversionPattern<Op> {
  DistributedPattern(const TypeConverter &converter, MLIRContext *context,
                     Layout layout)
      : OpConversionPattern<Op>(converter, context), layout(layout) {}
  VectorType vectorTypeOf(Type type) const {
    return cast<VectorType>(this->getTypeConverter()->convertType(type));
  }
  Layout layout;
};

struct ConvertElementwise : ConversionPattern {
  ConvertElementwise(const TypeConverter &converter, MLIRContext *context)
      : ConversionPattern(converter, MatchAnyOpTypeTag(), 1, context) {}
  LogicalResult
  matchAndRewrite(Operation *op, ArrayRef<Value> operands,
                  ConversionPatternRewriter &rewriter) const override {
    if (!isa<arith::ArithDialect, math::MathDialect>(op->getDialect()))
      return failure();
    SmallVector<Type> resultTypes;
    if (failed(getTypeConverter()->convertTypes(op->getResultTypes(), resultTypes)))
      return failure();
    OperationState state(op->getLoc(), op->getName(), operands, resultTypes,
                         op->getAttrs());
    if (auto constant = dyn_cast<arith::ConstantOp>(op)) {
      auto dense = dyn_cast<SplatElementsAttr>(constant.getValue());
      if (!dense)
        return rewriter.notifyMatchFailure(
            op, "only splat tile constants have a distributed form");
      state.attributes.set(
          "value", SplatElementsAttr::get(cast<ShapedType>(resultTypes[0]),
                                          dense.getSplatValue<Attribute>()));
    }
    rewriter.replaceOp(op, rewriter.create(state)->getResults());
    return success();
  }
};

gpu::Dimension dimensionOf(tile::Axis axis) {
  switch (axis) {
  case tile::Axis::X: return gpu::Dimension::x;
  case tile::Axis::Y: return gpu::Dimension::y;
  case tile::Axis::Z: return gpu::Dimension::z;
  }
  llvm_unreachable("unknown axis");
}

struct ConvertProgramId : OpConversionPattern<tile::ProgramIdOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(tile::ProgramIdOp op, OpAdaptor,
                  ConversionPatternRewriter &rewriter) const override {
    rewriter.replaceOpWithNewOp<gpu::BlockIdOp>(op, dimensionOf(op.getAxis()));
    return success();
  }
};

struct ConvertNumPrograms : OpConversionPattern<tile::NumProgramsOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(tile::NumProgramsOp op, OpAdaptor,
                  ConversionPatternRewriter &rewriter) const override {
    rewriter.replaceOpWithNewOp<gpu::GridDimOp>(op, dimensionOf(op.getAxis()));
    return success();
  }
};

struct ConvertSplat : DistributedPattern<tile::SplatOp> {
  using DistributedPattern::DistributedPattern;
  LogicalResult
  matchAndRewrite(tile::SplatOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    rewriter.replaceOpWithNewOp<vector::BroadcastOp>(
        op, vectorTypeOf(op.getType()), adaptor.getValue());
    return success();
  }
};

struct ConvertIota : DistributedPattern<tile::IotaOp> {
  using DistributedPattern::DistributedPattern;
  LogicalResult
  matchAndRewrite(tile::IotaOp op, OpAdaptor,
                  ConversionPatternRewriter &rewriter) const override {
    VectorType type = vectorTypeOf(op.getType());
    Value flat = layout.owned(rewriter, op.getLoc(), numElements(op.getType()));
    if (type.getElementType().isIndex())
      rewriter.replaceOp(op, flat);
    else
      rewriter.replaceOpWithNewOp<arith::IndexCastOp>(op, type, flat);
    return success();
  }
};

/// reshape and expand_dims keep the row-major order, hence the layout.
template <typename Op>
struct ConvertSameLayout : DistributedPattern<Op> {
  using DistributedPattern<Op>::DistributedPattern;
  LogicalResult
  matchAndRewrite(Op op, typename Op::Adaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    rewriter.replaceOp(op, adaptor.getInput());
    return success();
  }
};

/// broadcast (numpy-style, right-aligned) and transpose: publish the source,
/// read each owned output element from its source position (a result in
/// fragments: the elements at this thread's fragment positions).
struct ConvertBroadcast : DistributedPattern<tile::BroadcastOp> {
  ConvertBroadcast(const TypeConverter &converter, MLIRContext *context, Layout layout,
                   const MatrixCoreLowering *matrixCores)
      : DistributedPattern(converter, context, layout), matrixCores(matrixCores) {}
  const MatrixCoreLowering *matrixCores;

  LogicalResult
  matchAndRewrite(tile::BroadcastOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto source = cast<RankedTensorType>(op.getInput().getType());
    auto result = op.getType();
    Type element = result.getElementType();
    bool fragments = inFragments(result);
    if (fragments && (!matrixCores || result.getRank() != 2))
      return failure();
    if (inFragmentRows(source)) {
      // Each fragment element takes the value of its row, which the
      // thread holds.
      if (!fragments || source.getRank() != 2 || source.getDimSize(1) != 1)
        return rewriter.notifyMatchFailure(
            op, "fragment rows broadcast from [m, 1] to fragments only");
      int64_t m = result.getDimSize(0), n = result.getDimSize(1);
      SmallVector<int64_t> slots;
      for (int64_t i = 0; i < vectorTypeOf(result).getDimSize(0); ++i)
        slots.push_back(matrixCores->fragmentRowSlot(i, m, n));
      rewriter.replaceOpWithNewOp<vector::ShuffleOp>(op, adaptor.getInput(),
                                                     adaptor.getInput(), slots);
      return success();
    }
    if (op->hasAttr(kUniformSourceAttrName)) {
      // Every thread holds the value: no exchange.
      Value scalar = vector::ExtractOp::create(rewriter, loc, adaptor.getInput(),
                                               ArrayRef<int64_t>{0});
      rewriter.replaceOpWithNewOp<vector::BroadcastOp>(op, vectorTypeOf(result), scalar);
      return success();
    }
    tile::IotaOp iota = iotaThroughViews(op.getInput());
    Value view = iota ? Value() : publish(rewriter, op, layout, adaptor.getInput(),
                                          numElements(source), element, 0);
    auto [flat, mask] = positionsInLayout(rewriter, loc, layout, matrixCores, result);
    SmallVector<Value> out = coordinates(rewriter, loc, flat, result.getShape());
    int64_t lead = result.getRank() - source.getRank();
    int64_t lanes = cast<VectorType>(flat.getType()).getDimSize(0);
    SmallVector<Value> in;
    for (int64_t d = 0; d < source.getRank(); ++d)
      in.push_back(source.getDimSize(d) == 1
                       ? splatIndex(rewriter, loc, indexConstant(rewriter, loc, 0), lanes)
                       : out[lead + d]);
    Value indices = linearize(rewriter, loc, in, rowMajorStrides(source.getShape()), lanes);
    if (iota) {
      // Element i of an iota is i: no exchange.
      if (element.isIndex())
        rewriter.replaceOp(op, indices);
      else
        rewriter.replaceOpWithNewOp<arith::IndexCastOp>(op, vectorTypeOf(result), indices);
      return success();
    }
    rewriter.replaceOp(op, readPublished(rewriter, loc, view, indices, mask, element));
    return success();
  }
};

struct ConvertTranspose : DistributedPattern<tile::TransposeOp> {
  using DistributedPattern::DistributedPattern;
  LogicalResult
  matchAndRewrite(tile::TransposeOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    if (foldedIntoDot(op)) {
      // The dots read the source transposed; this value is never read
      // (same vector type: the same number of elements).
      rewriter.replaceOp(op, adaptor.getInput());
      return success();
    }
    Location loc = op.getLoc();
    auto source = cast<RankedTensorType>(op.getInput().getType());
    auto result = op.getType();
    Type element = result.getElementType();
    int64_t n = numElements(result);
    Value view = publish(rewriter, op, layout, adaptor.getInput(), n, element, 0);
    Value flat = layout.owned(rewriter, loc, n);
    SmallVector<Value> out = coordinates(rewriter, loc, flat, result.getShape());
    SmallVector<Value> in(source.getRank());
    for (auto [d, p] : llvm::enumerate(op.getPermutation()))
      in[p] = out[d];
    int64_t lanes = cast<VectorType>(flat.getType()).getDimSize(0);
    Value indices = linearize(rewriter, loc, in, rowMajorStrides(source.getShape()), lanes);
    rewriter.replaceOp(op, readPublished(rewriter, loc, view, indices,
                                         layout.ownedMask(rewriter, loc, flat, n),
                                         element));
    return success();
  }
};

Value treeReduce(ConversionPatternRewriter &rewriter, tile::ReduceOp op,
                 const Layout &layout, Value view, RankedTensorType source,
                 RankedTensorType result, int64_t axis, int64_t group);
Value combine(OpBuilder &b, Location loc, tile::CombineKind kind, Value x, Value y);

/// The value of lane (lane XOR offset) of the warp (shfl.sync.bfly over
/// 32 lanes).
static Value shuffleXor(OpBuilder &b, Location loc, Value value, int64_t offset) {
  auto i32 = [&](int64_t v) {
    return arith::ConstantOp::create(b, loc, b.getI32IntegerAttr(v)).getResult();
  };
  return gpu::ShuffleOp::create(b, loc, value, i32(offset), i32(32), gpu::ShuffleMode::XOR)
      .getShuffleResult();
}

/// Each owned output element loops over the reduced axis of the published
/// source, in order (a sequential sum per output element), unless there are
/// few outputs for long rows: then a group of threads per output and a tree
/// (treeReduce).
struct ConvertReduce : DistributedPattern<tile::ReduceOp> {
  ConvertReduce(const TypeConverter &converter, MLIRContext *context, Layout layout,
                const MatrixCoreLowering *matrixCores)
      : DistributedPattern(converter, context, layout), matrixCores(matrixCores) {}
  const MatrixCoreLowering *matrixCores;

  /// A row reduction of fragments into fragment rows: each thread combines
  /// its elements of each of its rows in order, then the lanes sharing a
  /// row combine their partials by xor shuffles (a butterfly: every lane
  /// ends with the row's value).
  LogicalResult reduceFragmentRows(tile::ReduceOp op, Value input,
                                   ConversionPatternRewriter &rewriter) const {
    Location loc = op.getLoc();
    auto source = cast<RankedTensorType>(op.getInput().getType());
    int64_t m = source.getDimSize(0), n = source.getDimSize(1);
    std::optional<FragmentRows> rows = matrixCores->fragmentRows(m, layout);
    if (!rows || !inFragmentRows(op.getType()) ||
        !isa<FloatType>(source.getElementType()))
      return rewriter.notifyMatchFailure(op, "unsupported reduction of fragments");
    SmallVector<Value> partials(rows->perThread);
    int64_t count = cast<VectorType>(input.getType()).getDimSize(0);
    for (int64_t i = 0; i < count; ++i) {
      Value v = vector::ExtractOp::create(rewriter, loc, input, ArrayRef<int64_t>{i});
      Value &partial = partials[matrixCores->fragmentRowSlot(i, m, n)];
      partial = partial ? combine(rewriter, loc, op.getKind(), partial, v) : v;
    }
    for (Value &partial : partials) {
      for (int64_t offset = 1; offset < rows->lanesPerRow; offset *= 2) {
        Value other = shuffleXor(rewriter, loc, partial, offset);
        partial = combine(rewriter, loc, op.getKind(), partial, other);
      }
    }
    rewriter.replaceOpWithNewOp<vector::FromElementsOp>(op, vectorTypeOf(op.getType()),
                                                        partials);
    return success();
  }

  /// A reduction along rows of C elements, C a multiple of the threads T
  /// (of their runs R), with warp shuffles: thread t holds runs of R
  /// elements every R T, so it holds C / T elements of every row (j from
  /// r C / T on for row r) and combines them
  /// in order, without publishing the tile; the 32 lanes of each warp then
  /// combine their partials by xor shuffles (a butterfly); lane 0 of each
  /// warp writes the warp's partial of each row to shared memory, and the
  /// thread that holds an output combines its row's warp partials in
  /// order. Two barriers (the workspace's earlier readers, the partials)
  /// instead of a published tile and a tree of log2(T) barriers.
  Value reduceRowsByShuffles(tile::ReduceOp op, Value input,
                             ConversionPatternRewriter &rewriter) const {
    Location loc = op.getLoc();
    auto source = cast<RankedTensorType>(op.getInput().getType());
    Type element = source.getElementType();
    int64_t columns = source.getDimSize(source.getRank() - 1);
    int64_t rows = numElements(source) / columns, perRow = columns / layout.threads;
    int64_t warps = layout.threads / 32;
    auto c = [&](int64_t v) { return indexConstant(rewriter, loc, v); };
    SmallVector<Value> partials(rows);
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t s = 0; s < perRow; ++s) {
        Value v = vector::ExtractOp::create(rewriter, loc, input,
                                            ArrayRef<int64_t>{r * perRow + s});
        partials[r] = s ? combine(rewriter, loc, op.getKind(), partials[r], v) : v;
      }
    for (Value &partial : partials)
      for (int64_t offset = 16; offset >= 1; offset /= 2)
        partial = combine(rewriter, loc, op.getKind(), partial,
                          shuffleXor(rewriter, loc, partial, offset));
    Value view = workspaceView(rewriter, op, 0, element, rows * warps);
    gpu::BarrierOp::create(rewriter, loc);
    Value tid = gpu::ThreadIdOp::create(rewriter, loc, gpu::Dimension::x);
    Value warp = arith::DivUIOp::create(rewriter, loc, tid, c(32));
    Value first = arith::CmpIOp::create(rewriter, loc, arith::CmpIPredicate::eq,
                                        arith::RemUIOp::create(rewriter, loc, tid, c(32)),
                                        c(0));
    scf::IfOp::create(rewriter, loc, first, [&](OpBuilder &b, Location l) {
      for (int64_t r = 0; r < rows; ++r)
        memref::StoreOp::create(
            b, l, partials[r], view,
            ValueRange{arith::AddIOp::create(b, l, warp, c(r * warps))});
      scf::YieldOp::create(b, l);
    });
    gpu::BarrierOp::create(rewriter, loc);
    // Output o is row o (the reduced axis is the last); lanes past the
    // outputs read the last row's partials and are masked out.
    Value flat = layout.owned(rewriter, loc, rows);
    int64_t lanes = cast<VectorType>(flat.getType()).getDimSize(0);
    SmallVector<Value> totals;
    for (int64_t j = 0; j < lanes; ++j) {
      Value row = arith::MinUIOp::create(
          rewriter, loc, vector::ExtractOp::create(rewriter, loc, flat, ArrayRef<int64_t>{j}),
          c(rows - 1));
      Value at = arith::MulIOp::create(rewriter, loc, row, c(warps));
      Value total;
      for (int64_t w = 0; w < warps; ++w) {
        Value v = memref::LoadOp::create(
            rewriter, loc, view, ValueRange{arith::AddIOp::create(rewriter, loc, at, c(w))});
        total = w ? combine(rewriter, loc, op.getKind(), total, v) : v;
      }
      totals.push_back(total);
    }
    return vector::FromElementsOp::create(rewriter, loc, vectorTypeOf(op.getType()), totals);
  }

  LogicalResult
  matchAndRewrite(tile::ReduceOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    if (inFragments(op.getInput().getType()))
      return reduceFragmentRows(op, adaptor.getInput(), rewriter);
    if (reducesRowsByShuffles(op, layout)) {
      rewriter.replaceOp(op, reduceRowsByShuffles(op, adaptor.getInput(), rewriter));
      return success();
    }
    Location loc = op.getLoc();
    auto source = cast<RankedTensorType>(op.getInput().getType());
    auto result = cast<RankedTensorType>(op.getType());
    Type element = source.getElementType();
    int64_t axis = static_cast<int64_t>(op.getAxis());
    Value view = publish(rewriter, op, layout, adaptor.getInput(),
                         numElements(source), element, 0);
    int64_t n = numElements(result);
    int64_t reduced = source.getDimSize(axis);
    // Few outputs, long rows: a group of G threads per output element, each
    // combining a strided part of the row, then a tree over the group.
    int64_t group = 1;
    while (group * 2 * n <= layout.threads && group * 2 <= reduced)
      group *= 2;
    if (group >= 2 && isa<FloatType>(element)) {
      rewriter.replaceOp(op, treeReduce(rewriter, op, layout, view, source,
                                        result, axis, group));
      return success();
    }
    Value flat = layout.owned(rewriter, loc, n);
    Value mask = layout.ownedMask(rewriter, loc, flat, n);
    int64_t lanes = cast<VectorType>(flat.getType()).getDimSize(0);
    SmallVector<Value> out = coordinates(rewriter, loc, flat, result.getShape());
    SmallVector<int64_t> strides = rowMajorStrides(source.getShape());
    SmallVector<Value> in;
    SmallVector<int64_t> inStrides;
    for (int64_t d = 0, o = 0; d < source.getRank(); ++d) {
      if (d == axis)
        continue;
      in.push_back(out[o++]);
      inStrides.push_back(strides[d]);
    }
    Value base = linearize(rewriter, loc, in, inStrides, lanes);

    bool isFloat = isa<FloatType>(element);
    TypedAttr identity;
    switch (op.getKind()) {
    case tile::CombineKind::Sum:
      identity = rewriter.getZeroAttr(element);
      break;
    case tile::CombineKind::Max:
      identity = isFloat ? TypedAttr(rewriter.getFloatAttr(
                               element, -std::numeric_limits<double>::infinity()))
                         : TypedAttr(rewriter.getIntegerAttr(
                               element, APInt::getSignedMinValue(
                                            element.getIntOrFloatBitWidth())));
      break;
    case tile::CombineKind::Min:
      identity = isFloat ? TypedAttr(rewriter.getFloatAttr(
                               element, std::numeric_limits<double>::infinity()))
                         : TypedAttr(rewriter.getIntegerAttr(
                               element, APInt::getSignedMaxValue(
                                            element.getIntOrFloatBitWidth())));
      break;
    }
    auto vectorType = VectorType::get({lanes}, element);
    Value init = vector::BroadcastOp::create(
        rewriter, loc, vectorType,
        arith::ConstantOp::create(rewriter, loc, element, identity));
    Value axisStride = splatIndex(rewriter, loc, indexConstant(rewriter, loc, strides[axis]), lanes);
    auto loop = scf::ForOp::create(
        rewriter, loc, indexConstant(rewriter, loc, 0),
        indexConstant(rewriter, loc, source.getDimSize(axis)),
        indexConstant(rewriter, loc, 1), ValueRange{init},
        [&](OpBuilder &b, Location l, Value r, ValueRange carried) {
          Value at = arith::AddIOp::create(
              b, l, base,
              arith::MulIOp::create(b, l, splatIndex(b, l, r, lanes), axisStride));
          Value v = readPublished(b, l, view, at, mask, element);
          Value next;
          switch (op.getKind()) {
          case tile::CombineKind::Sum:
            next = isFloat ? arith::AddFOp::create(b, l, carried[0], v).getResult()
                           : arith::AddIOp::create(b, l, carried[0], v).getResult();
            break;
          case tile::CombineKind::Max:
            next = isFloat ? arith::MaximumFOp::create(b, l, carried[0], v).getResult()
                           : arith::MaxSIOp::create(b, l, carried[0], v).getResult();
            break;
          case tile::CombineKind::Min:
            next = isFloat ? arith::MinimumFOp::create(b, l, carried[0], v).getResult()
                           : arith::MinSIOp::create(b, l, carried[0], v).getResult();
            break;
          }
          scf::YieldOp::create(b, l, next);
        });
    rewriter.replaceOp(op, loop.getResult(0));
    return success();
  }
};

/// The combiner of a reduction on float scalars or vectors.
Value combine(OpBuilder &b, Location loc, tile::CombineKind kind, Value x,
              Value y) {
  switch (kind) {
  case tile::CombineKind::Sum:
    return arith::AddFOp::create(b, loc, x, y);
  case tile::CombineKind::Max:
    return arith::MaximumFOp::create(b, loc, x, y);
  case tile::CombineKind::Min:
    return arith::MinimumFOp::create(b, loc, x, y);
  }
  llvm_unreachable("unknown combiner");
}

/// Reduction of a published float tile with `group` threads per output
/// element: thread t works for output t / group, combines elements
/// t % group, t % group + group, ... of its row into a partial, and the
/// group combines its partials as a tree in shared memory (log2(group)
/// steps, a barrier each). Sum order: strided partials, then pairwise.
Value treeReduce(ConversionPatternRewriter &rewriter, tile::ReduceOp op,
                 const Layout &layout, Value view, RankedTensorType source,
                 RankedTensorType result, int64_t axis, int64_t group) {
  Location loc = op.getLoc();
  Type element = source.getElementType();
  int64_t n = numElements(result);
  int64_t reduced = source.getDimSize(axis);
  SmallVector<int64_t> strides = rowMajorStrides(source.getShape());
  auto c = [&](int64_t v) { return indexConstant(rewriter, loc, v); };

  Value tid = gpu::ThreadIdOp::create(rewriter, loc, gpu::Dimension::x);
  Value output = arith::DivUIOp::create(rewriter, loc, tid, c(group));
  Value lane = arith::RemUIOp::create(rewriter, loc, tid, c(group));
  Value active = arith::CmpIOp::create(rewriter, loc, arith::CmpIPredicate::ult,
                                       output, c(n));
  // The row of this output: its coordinates, the reduced axis left out.
  Value base = c(0);
  SmallVector<int64_t> resultStrides = rowMajorStrides(result.getShape());
  for (int64_t d = 0, o = 0; d < source.getRank(); ++d) {
    if (d == axis)
      continue;
    Value coord = arith::DivUIOp::create(rewriter, loc, output, c(resultStrides[o]));
    if (o > 0)
      coord = arith::RemUIOp::create(rewriter, loc, coord, c(result.getDimSize(o)));
    base = arith::AddIOp::create(rewriter, loc, base,
                                 arith::MulIOp::create(rewriter, loc, coord, c(strides[d])));
    ++o;
  }
  double identityValue = 0.0;
  if (op.getKind() == tile::CombineKind::Max)
    identityValue = -std::numeric_limits<double>::infinity();
  if (op.getKind() == tile::CombineKind::Min)
    identityValue = std::numeric_limits<double>::infinity();
  Value identity = arith::ConstantOp::create(
      rewriter, loc, element, rewriter.getFloatAttr(element, identityValue));
  Value upper = arith::SelectOp::create(rewriter, loc, active, c(reduced), c(0));
  auto partial = scf::ForOp::create(
      rewriter, loc, lane, upper, c(group), ValueRange{identity},
      [&](OpBuilder &b, Location l, Value r, ValueRange carried) {
        Value at = arith::AddIOp::create(
            b, l, base, arith::MulIOp::create(b, l, r, c(strides[axis])));
        Value v = memref::LoadOp::create(b, l, view, ValueRange{at});
        scf::YieldOp::create(b, l, combine(b, l, op.getKind(), carried[0], v));
      });

  // Partials live after the published tile.
  int64_t offset = alignTo16(numElements(source) * storageBytes(element));
  Value partials = workspaceView(rewriter, op, offset, element, layout.threads);
  memref::StoreOp::create(rewriter, loc, partial.getResult(0), partials,
                          ValueRange{tid});
  for (int64_t stride = group / 2; stride >= 1; stride /= 2) {
    gpu::BarrierOp::create(rewriter, loc);
    Value takes = arith::CmpIOp::create(rewriter, loc, arith::CmpIPredicate::ult,
                                        lane, c(stride));
    scf::IfOp::create(rewriter, loc, takes, [&](OpBuilder &b, Location l) {
      Value mine = memref::LoadOp::create(b, l, partials, ValueRange{tid});
      Value other = memref::LoadOp::create(
          b, l, partials, ValueRange{arith::AddIOp::create(b, l, tid, c(stride))});
      memref::StoreOp::create(b, l, combine(b, l, op.getKind(), mine, other),
                              partials, ValueRange{tid});
      scf::YieldOp::create(b, l);
    });
  }
  gpu::BarrierOp::create(rewriter, loc);
  // Output o is partials[o * group]; the thread that holds o reads it.
  Value flat = layout.owned(rewriter, loc, n);
  int64_t lanes = cast<VectorType>(flat.getType()).getDimSize(0);
  Value indices = arith::MulIOp::create(rewriter, loc, flat,
                                        splatIndex(rewriter, loc, c(group), lanes));
  return readPublished(rewriter, loc, partials, indices,
                       layout.ownedMask(rewriter, loc, flat, n), element);
}

/// C[m, n] = acc[m, n] + sum_k A[m, k] * B[k, n]: both operands published,
/// each owned C element loops over K, operands converted exactly to the
/// accumulator's type.
struct ConvertDot : DistributedPattern<tile::DotOp> {
  ConvertDot(const TypeConverter &converter, MLIRContext *context, Layout layout,
             const MatrixCoreLowering *matrixCores)
      : DistributedPattern(converter, context, layout), matrixCores(matrixCores) {}
  const MatrixCoreLowering *matrixCores;

  static FailureOr<Value> toAccumulator(OpBuilder &b, Location loc, Value v,
                                        Type acc) {
    auto type = cast<VectorType>(v.getType());
    Type element = type.getElementType();
    if (element == acc)
      return v;
    auto target = VectorType::get(type.getShape(), acc);
    if (element.isSignlessInteger(8))
      return arith::SIToFPOp::create(b, loc, target, v).getResult();
    if (element.isF16() || element.isBF16())
      return arith::ExtFOp::create(b, loc, target, v).getResult();
    return failure();
  }

  LogicalResult
  matchAndRewrite(tile::DotOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto lhs = cast<RankedTensorType>(op.getLhs().getType());
    auto rhs = cast<RankedTensorType>(op.getRhs().getType());
    auto result = cast<RankedTensorType>(op.getType());
    Type acc = result.getElementType();
    if (isa<Float8E4M3FNType>(lhs.getElementType()) ||
        isa<Float8E4M3FNType>(rhs.getElementType()))
      return op.emitOpError("f8E4M3FN operands are not supported by the "
                            "NVIDIA backend yet");
    for (Type element : {lhs.getElementType(), rhs.getElementType()})
      if (element != acc && !element.isSignlessInteger(8) && !element.isF16() &&
          !element.isBF16())
        return op.emitOpError("cannot convert ")
               << element << " operands exactly to the " << acc << " accumulator";
    int64_t m = lhs.getDimSize(0), k = lhs.getDimSize(1), n = rhs.getDimSize(1);
    // Operands staged in shared memory by the loop (StageDotOperands.h).
    std::optional<StagedOperand> aStaged = stagedOperand(op.getLhs());
    std::optional<StagedOperand> bStaged = stagedOperand(op.getRhs());
    if (aStaged && bStaged && inFragments(op.getType())) {
      SharedOperands operands{aStaged->view,         bStaged->view,
                              aStaged->rowLength,    bStaged->rowLength,
                              aStaged->transposed,   bStaged->transposed,
                              aStaged->layout,       bStaged->layout,
                              aStaged->swizzleBytes, bStaged->swizzleBytes};
      rewriter.replaceOp(op, matrixCores->emitOnFragments(rewriter, op, layout, operands,
                                                          adaptor.getAcc(), m, n, k));
      return success();
    }
    if (takesOperandAFromFragments(op, layout, matrixCores)) {
      // A (attention's P) from this thread's registers; B from its slot, or
      // published in rows (as its source when it is a folded transpose).
      SharedOperands operands{nullptr, nullptr, 0, 0, false, false};
      if (bStaged) {
        operands.b = bStaged->view;
        operands.bRowLength = bStaged->rowLength;
        operands.bTransposed = bStaged->transposed;
        operands.bLayout = bStaged->layout;
        operands.bSwizzleBytes = bStaged->swizzleBytes;
      } else {
        operands.bTransposed = operandTransposed(op, 1);
        operands.bRowLength = operands.bTransposed ? k : n;
        operands.b = publishAll(rewriter, op, layout,
                                {{adaptor.getRhs(), k * n, rhs.getElementType(), 0, 0, rhs}}, matrixCores)
                         .front();
      }
      rewriter.replaceOp(op, matrixCores->emitOnFragmentsWithOperandAInFragments(
                                 rewriter, op, layout, adaptor.getLhs(), operands,
                                 adaptor.getAcc(), m, n, k));
      return success();
    }
    int64_t lhsBytes = alignTo16(numElements(lhs) * storageBytes(lhs.getElementType()));
    if (aStaged || bStaged) {
      // One operand in a slot: the other is published (from offset 0,
      // below the slots), then the product as for published operands. When
      // the matrix cores read the slot themselves, the published operand
      // goes in core matrices for them too.
      if (!matrixCores || !matrixCores->supports(op))
        return op.emitOpError("has a staged operand but no matrix-core lowering");
      bool aTransposed = aStaged ? aStaged->transposed : operandTransposed(op, 0);
      bool bTransposed = bStaged ? bStaged->transposed : operandTransposed(op, 1);
      int64_t aRowLength = aTransposed ? m : k, bRowLength = bTransposed ? k : n;
      SharedLayout slotLayout = (aStaged ? aStaged : bStaged)->layout;
      SharedLayout publishedLayout = slotLayout == SharedLayout::Rows
                                         ? SharedLayout::Rows
                                         : SharedLayout::CoreMatrices;
      // The other operand at offset 0, in rows or core matrices of
      // `rowLength` elements.
      // (from its fragments when it is in the fragment layout, as
      // attention's P computed from the fragments of Q K^T).
      auto publishOperand = [&](Value original, Value tile, int64_t count, Type element,
                                int64_t rowLength) {
        int64_t coreMatrixColumns =
            publishedLayout == SharedLayout::CoreMatrices ? rowLength : 0;
        return publishAll(rewriter, op, layout,
                          {{tile, count, element, 0, coreMatrixColumns,
                            cast<RankedTensorType>(original.getType())}},
                          matrixCores)
            .front();
      };
      Value published;
      int64_t used = 0;
      if (!aStaged) {
        published = publishOperand(op.getLhs(), adaptor.getLhs(), m * k, lhs.getElementType(),
                                   aRowLength);
        used = lhsBytes;
      } else if (!bStaged) {
        published = publishOperand(op.getRhs(), adaptor.getRhs(), k * n, rhs.getElementType(),
                                   bRowLength);
        used = alignTo16(k * n * storageBytes(rhs.getElementType()));
      } else {
        // Both staged, the result through shared memory: earlier readers
        // of that memory first.
        gpu::BarrierOp::create(rewriter, loc);
      }
      SharedOperands operands{aStaged ? aStaged->view : published,
                              bStaged ? bStaged->view : published,
                              aStaged ? aStaged->rowLength : aRowLength,
                              bStaged ? bStaged->rowLength : bRowLength,
                              aTransposed,
                              bTransposed,
                              aStaged ? aStaged->layout : publishedLayout,
                              bStaged ? bStaged->layout : publishedLayout,
                              aStaged ? aStaged->swizzleBytes : 0,
                              bStaged ? bStaged->swizzleBytes : 0};
      if (inFragments(op.getType()))
        rewriter.replaceOp(op, matrixCores->emitOnFragments(rewriter, op, layout, operands,
                                                            adaptor.getAcc(), m, n, k));
      else
        rewriter.replaceOp(op, matrixCores->emit(rewriter, op, layout, operands,
                                                 adaptor.getAcc(), m, n, k, used));
      return success();
    }
    // A and B between one pair of barriers.
    SmallVector<Value> views = publishAll(
        rewriter, op, layout,
        {{adaptor.getLhs(), m * k, lhs.getElementType(), 0, 0, lhs},
         {adaptor.getRhs(), k * n, rhs.getElementType(), lhsBytes, 0, rhs}},
        matrixCores);
    Value a = views[0], b = views[1];
    int64_t count = m * n;
    // A transposed operand was published as its source ([K, M] for A,
    // [N, K] for B): read it with swapped indices.
    bool aTransposed = operandTransposed(op, 0), bTransposed = operandTransposed(op, 1);
    if (inFragments(op.getType())) {
      SharedOperands operands{a, b, aTransposed ? m : k, bTransposed ? k : n,
                              aTransposed, bTransposed};
      rewriter.replaceOp(op, matrixCores->emitOnFragments(rewriter, op, layout, operands,
                                                          adaptor.getAcc(), m, n, k));
      return success();
    }
    if (matrixCores && matrixCores->supports(op)) {
      int64_t operands = alignTo16(lhsBytes + k * n * storageBytes(rhs.getElementType()));
      SharedOperands shared{a, b, aTransposed ? m : k, bTransposed ? k : n,
                            aTransposed, bTransposed};
      rewriter.replaceOp(op, matrixCores->emit(rewriter, op, layout, shared,
                                               adaptor.getAcc(), m, n, k, operands));
      return success();
    }
    Value flat = layout.owned(rewriter, loc, count);
    Value mask = layout.ownedMask(rewriter, loc, flat, count);
    int64_t lanes = cast<VectorType>(flat.getType()).getDimSize(0);
    SmallVector<Value> mn = coordinates(rewriter, loc, flat, {m, n});
    auto splat = [&](int64_t v) {
      return splatIndex(rewriter, loc, indexConstant(rewriter, loc, v), lanes);
    };
    // Element (i, kk) of A is at aBase + kk * aStep; (kk, j) of B at
    // bBase + kk * bStep.
    Value aBase = aTransposed ? mn[0] : arith::MulIOp::create(rewriter, loc, mn[0], splat(k)).getResult();
    Value aStep = aTransposed ? splat(m) : splat(1);
    Value bBase = bTransposed ? arith::MulIOp::create(rewriter, loc, mn[1], splat(k)).getResult() : mn[1];
    Value bStep = bTransposed ? splat(1) : splat(n);
    bool isFloat = isa<FloatType>(acc);
    auto loop = scf::ForOp::create(
        rewriter, loc, indexConstant(rewriter, loc, 0), indexConstant(rewriter, loc, k),
        indexConstant(rewriter, loc, 1), ValueRange{adaptor.getAcc()},
        [&](OpBuilder &bb, Location l, Value kk, ValueRange carried) {
          Value kv = splatIndex(bb, l, kk, lanes);
          Value av = readPublished(
              bb, l, a,
              arith::AddIOp::create(bb, l, aBase, arith::MulIOp::create(bb, l, kv, aStep)),
              mask, lhs.getElementType());
          Value bv = readPublished(
              bb, l, b,
              arith::AddIOp::create(bb, l, bBase, arith::MulIOp::create(bb, l, kv, bStep)),
              mask, rhs.getElementType());
          FailureOr<Value> ac = toAccumulator(bb, l, av, acc);
          FailureOr<Value> bc = toAccumulator(bb, l, bv, acc);
          Value next;
          if (isFloat) {
            next = arith::AddFOp::create(bb, l, carried[0],
                                         arith::MulFOp::create(bb, l, *ac, *bc));
          } else {
            next = arith::AddIOp::create(bb, l, carried[0],
                                         arith::MulIOp::create(bb, l, *ac, *bc));
          }
          scf::YieldOp::create(bb, l, next);
        });
    rewriter.replaceOp(op, loop.getResult(0));
    return success();
  }
};

/// A layout change between the element-wise layout and fragments or
/// fragment rows: through shared memory (at a loop's entry or exit, or
/// where a value in one layout meets an op that needs another).
struct ConvertRelayout : DistributedPattern<UnrealizedConversionCastOp> {
  ConvertRelayout(const TypeConverter &converter, MLIRContext *context,
                  Layout layout, const MatrixCoreLowering *matrixCores)
      : DistributedPattern(converter, context, layout), matrixCores(matrixCores) {}
  const MatrixCoreLowering *matrixCores;

  LogicalResult
  matchAndRewrite(UnrealizedConversionCastOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    if (!isRelayout(op) || !matrixCores)
      return failure();
    Location loc = op.getLoc();
    auto from = cast<RankedTensorType>(op.getOperand(0).getType());
    auto to = cast<RankedTensorType>(op.getResult(0).getType());
    int64_t count = numElements(from);
    Type element = from.getElementType();
    if (from.getEncoding() && to.getEncoding())
      return rewriter.notifyMatchFailure(op, "no direct change between fragment layouts");
    // (A row in fragment rows is written by each lane that holds it, all
    // with the same value.)
    auto [fromPositions, fromMask] = positionsInLayout(rewriter, loc, layout, matrixCores, from);
    auto [toPositions, toMask] = positionsInLayout(rewriter, loc, layout, matrixCores, to);
    Value view = workspaceView(rewriter, op, 0, element, count);
    gpu::BarrierOp::create(rewriter, loc);
    vector::ScatterOp::create(rewriter, loc, Type(), view,
                              ValueRange{indexConstant(rewriter, loc, 0)}, fromPositions,
                              fromMask, toStorage(rewriter, loc, adaptor.getInputs()[0]));
    gpu::BarrierOp::create(rewriter, loc);
    rewriter.replaceOp(op, readPublished(rewriter, loc, view, toPositions, toMask, element));
    return success();
  }
};

/// How an element-wise tile held in runs of contiguous elements
/// (Layout::runsOf) is moved to or from a strided buffer as vectors: one
/// vector access per run where the buffer allows it and the run is inside,
/// a gather or scatter of the run's elements otherwise.
struct RunAccess {
  /// Elements per run (0: the tile is not accessed by runs).
  int64_t run = 0;
  /// Bytes every vector access is aligned to: min(16, the run's bytes).
  int64_t alignment = 0;
  /// Whether the buffer allows vector accesses (i1, computed once at run
  /// time): its last dimension is contiguous, its start and its other
  /// strides are multiples of the alignment in bytes, and the size of its
  /// last dimension and the tile's first column are multiples of the run.
  /// Then every run starts at an aligned address and lies entirely inside
  /// the buffer or entirely outside (a run changes only the last
  /// coordinate), which its first element tells.
  Value aligned;

  explicit operator bool() const { return run > 1; }
};

/// The runs in which a tile of `type` at `indices` of `memref` (`view`) is
/// accessed: an element-wise tile of whole-byte elements whose runs lie
/// within its rows (its last dimension a multiple of the run). Tiles in
/// fragments keep their scatters: vector stores of their column pairs made
/// the fused rope matmul's epilogue spill 1.9 KB on sm_90a.
static RunAccess runAccessOf(OpBuilder &b, Location loc, const Layout &layout,
                             RankedTensorType type, Value memref, const FlatView &view,
                             ValueRange indices) {
  RunAccess access;
  if (inFragments(type) || inFragmentRows(type) || type.getRank() == 0 ||
      static_cast<int64_t>(indices.size()) != type.getRank())
    return access;
  Type element = type.getElementType();
  unsigned bits = element.isIntOrFloat() ? element.getIntOrFloatBitWidth() : 0;
  if (bits < 8 || !llvm::isPowerOf2_32(bits))
    return access;
  int64_t run = layout.runsOf(numElements(type));
  if (run <= 1 || type.getShape().back() % run != 0)
    return access;
  int64_t bytes = bits / 8;
  access.run = run;
  access.alignment = std::min<int64_t>(16, run * bytes);
  auto c = [&](int64_t v) { return indexConstant(b, loc, v); };
  auto isMultiple = [&](Value v) { return isMultipleOf(b, loc, v, access.alignment); };
  auto inBytes = [&](Value v) { return arith::MulIOp::create(b, loc, v, c(bytes)); };
  Value start = arith::AddIOp::create(
      b, loc, memref::ExtractAlignedPointerAsIndexOp::create(b, loc, memref),
      inBytes(view.offset));
  Value aligned = isMultiple(start);
  auto both = [&](Value condition) {
    aligned = arith::AndIOp::create(b, loc, aligned, condition);
  };
  int64_t last = type.getRank() - 1;
  both(arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, view.strides[last], c(1)));
  for (int64_t d = 0; d < last; ++d)
    both(isMultiple(inBytes(view.strides[d])));
  both(isMultipleOf(b, loc, indices[last], run));
  both(isMultipleOf(b, loc, view.sizes[last], run));
  access.aligned = aligned;
  return access;
}

/// Whether lane `lane` of `positions` is inside the buffer (a scalar).
static Value laneInside(OpBuilder &b, Location loc, const FlatView &view,
                        ArrayRef<Value> positions, int64_t lane) {
  Value inside;
  for (auto [d, position] : llvm::enumerate(positions)) {
    Value p = vector::ExtractOp::create(b, loc, position, ArrayRef<int64_t>{lane});
    Value in = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, p, view.sizes[d]);
    inside = inside ? arith::AndIOp::create(b, loc, inside, in).getResult() : in;
  }
  return inside;
}

/// The linear offset into `view.flat` of lane `lane` of `positions` (a
/// scalar: only the first element of each run is addressed).
static Value linearOffsetOf(OpBuilder &b, Location loc, const FlatView &view,
                            ArrayRef<Value> positions, int64_t lane) {
  Value linear = view.offset;
  for (auto [d, position] : llvm::enumerate(positions)) {
    Value p = vector::ExtractOp::create(b, loc, position, ArrayRef<int64_t>{lane});
    linear = arith::AddIOp::create(b, loc, linear,
                                   arith::MulIOp::create(b, loc, p, view.strides[d]));
  }
  return linear;
}

struct ConvertLoad : DistributedPattern<tile::LoadOp> {
  ConvertLoad(const TypeConverter &converter, MLIRContext *context, Layout layout,
              const MatrixCoreLowering *matrixCores)
      : DistributedPattern(converter, context, layout), matrixCores(matrixCores) {}
  const MatrixCoreLowering *matrixCores;
  LogicalResult
  matchAndRewrite(tile::LoadOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto result = op.getType();
    VectorType type = vectorTypeOf(result);
    int64_t lanes = type.getDimSize(0);
    auto [flat, owned] = positionsInLayout(rewriter, loc, layout, matrixCores, result);
    SmallVector<Value> coords = coordinates(rewriter, loc, flat, result.getShape());
    SmallVector<Value> positions;
    for (auto [start, c] : llvm::zip(adaptor.getIndices(), coords))
      positions.push_back(arith::AddIOp::create(rewriter, loc, c,
                                                splatIndex(rewriter, loc, start, lanes)));
    FlatView view = flatten(rewriter, loc, adaptor.getBase());
    Value padding = adaptor.getPadding()
                        ? adaptor.getPadding()
                        : zeroOf(rewriter, loc, type.getElementType());
    Value passThrough = vector::BroadcastOp::create(rewriter, loc, type, padding);
    Value zero = indexConstant(rewriter, loc, 0);
    auto gather = [&](OpBuilder &b, Location l) -> Value {
      auto [linear, mask] = tile::addressesOf(b, l, view, positions, owned);
      return vector::GatherOp::create(b, l, type, view.flat, ValueRange{zero}, linear, mask,
                                      passThrough);
    };
    RunAccess access = runAccessOf(rewriter, loc, layout, result, adaptor.getBase(), view,
                                   adaptor.getIndices());
    if (!access) {
      rewriter.replaceOp(op, gather(rewriter, loc));
      return success();
    }
    // Where the buffer allows it, one vector load per run inside the
    // buffer (padding for a run outside); otherwise the gather, whose
    // addresses are computed in its own branch.
    auto runType = VectorType::get({access.run}, type.getElementType());
    auto ifOp = scf::IfOp::create(
        rewriter, loc, access.aligned,
        [&](OpBuilder &b, Location l) {
          Value loaded = passThrough;
          for (int64_t first = 0; first < lanes; first += access.run) {
            auto run = scf::IfOp::create(
                b, l, laneInside(b, l, view, positions, first),
                [&](OpBuilder &b, Location l) {
                  Value v = vector::LoadOp::create(
                      b, l, runType, view.flat,
                      ValueRange{linearOffsetOf(b, l, view, positions, first)},
                      /*nontemporal=*/false, llvm::MaybeAlign(access.alignment));
                  scf::YieldOp::create(b, l, v);
                },
                [&](OpBuilder &b, Location l) {
                  scf::YieldOp::create(b, l, lanesOf(b, l, passThrough, first, access.run));
                });
            loaded = withLanes(b, l, loaded, run.getResult(0), first);
          }
          scf::YieldOp::create(b, l, loaded);
        },
        [&](OpBuilder &b, Location l) { scf::YieldOp::create(b, l, gather(b, l)); });
    rewriter.replaceOp(op, ifOp.getResult(0));
    return success();
  }
};

/// Each thread writes its own elements (in fragments: at its fragment
/// positions; a mask is in the value's layout).
struct ConvertStore : DistributedPattern<tile::StoreOp> {
  ConvertStore(const TypeConverter &converter, MLIRContext *context, Layout layout,
               const MatrixCoreLowering *matrixCores)
      : DistributedPattern(converter, context, layout), matrixCores(matrixCores) {}
  const MatrixCoreLowering *matrixCores;
  LogicalResult
  matchAndRewrite(tile::StoreOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto tileType = cast<RankedTensorType>(op.getValue().getType());
    auto [flat, mask] = positionsInLayout(rewriter, loc, layout, matrixCores, tileType);
    int64_t lanes = cast<VectorType>(flat.getType()).getDimSize(0);
    SmallVector<Value> coords = coordinates(rewriter, loc, flat, tileType.getShape());
    SmallVector<Value> positions;
    for (auto [start, c] : llvm::zip(adaptor.getIndices(), coords))
      positions.push_back(arith::AddIOp::create(rewriter, loc, c,
                                                splatIndex(rewriter, loc, start, lanes)));
    if (adaptor.getMask())
      mask = arith::AndIOp::create(rewriter, loc, mask, adaptor.getMask());
    FlatView view = flatten(rewriter, loc, adaptor.getBase());
    Value zero = indexConstant(rewriter, loc, 0);
    auto scatter = [&](OpBuilder &b, Location l) {
      auto [linear, inside] = tile::addressesOf(b, l, view, positions, mask);
      vector::ScatterOp::create(b, l, Type(), view.flat, ValueRange{zero}, linear, inside,
                                adaptor.getValue());
    };
    RunAccess access = runAccessOf(rewriter, loc, layout, tileType, adaptor.getBase(), view,
                                   adaptor.getIndices());
    if (!access) {
      scatter(rewriter, loc);
      rewriter.eraseOp(op);
      return success();
    }
    // Where the buffer allows it, one vector store per run inside the
    // buffer (a masked one where the store's own mask leaves some of its
    // elements); otherwise the scatter, whose addresses are computed in
    // its own branch.
    Value userMask = adaptor.getMask() ? mask : Value();
    scf::IfOp::create(
        rewriter, loc, access.aligned,
        [&](OpBuilder &b, Location l) {
          for (int64_t first = 0; first < lanes; first += access.run) {
            scf::IfOp::create(b, l, laneInside(b, l, view, positions, first),
                              [&](OpBuilder &b, Location l) {
                                Value run = lanesOf(b, l, adaptor.getValue(), first,
                                                    access.run);
                                Value start = linearOffsetOf(b, l, view, positions, first);
                                if (userMask)
                                  vector::MaskedStoreOp::create(
                                      b, l, view.flat, ValueRange{start},
                                      lanesOf(b, l, userMask, first, access.run), run,
                                      llvm::MaybeAlign(access.alignment));
                                else
                                  vector::StoreOp::create(b, l, run, view.flat,
                                                          ValueRange{start},
                                                          /*nontemporal=*/false,
                                                          llvm::MaybeAlign(access.alignment));
                                scf::YieldOp::create(b, l);
                              });
          }
          scf::YieldOp::create(b, l);
        },
        [&](OpBuilder &b, Location l) {
          scatter(b, l);
          scf::YieldOp::create(b, l);
        });
    rewriter.eraseOp(op);
    return success();
  }
};

struct ConvertGather : DistributedPattern<tile::GatherOp> {
  using DistributedPattern::DistributedPattern;
  LogicalResult
  matchAndRewrite(tile::GatherOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    VectorType type = vectorTypeOf(op.getType());
    int64_t n = numElements(op.getType());
    Value flat = layout.owned(rewriter, loc, n);
    Value mask = layout.ownedMask(rewriter, loc, flat, n);
    if (adaptor.getMask())
      mask = arith::AndIOp::create(rewriter, loc, mask, adaptor.getMask());
    SmallVector<Value> positions(adaptor.getIndices().begin(),
                                 adaptor.getIndices().end());
    FlatView view = flatten(rewriter, loc, adaptor.getBase());
    auto [linear, inside] = tile::addressesOf(rewriter, loc, view, positions, mask);
    Value passThrough = vector::BroadcastOp::create(
        rewriter, loc, type, zeroOf(rewriter, loc, type.getElementType()));
    rewriter.replaceOpWithNewOp<vector::GatherOp>(
        op, type, view.flat, ValueRange{indexConstant(rewriter, loc, 0)}, linear,
        inside, passThrough);
    return success();
  }
};

struct ConvertReturn : OpConversionPattern<func::ReturnOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(func::ReturnOp op, OpAdaptor,
                  ConversionPatternRewriter &rewriter) const override {
    if (!op->getParentOfType<gpu::GPUFuncOp>())
      return failure();
    rewriter.replaceOpWithNewOp<gpu::ReturnOp>(op);
    return success();
  }
};

/// A kernel's threads: the default, or more if its dots ask for them.
int64_t kernelThreads(func::FuncOp function, const GpuLoweringOptions &options) {
  int64_t threads = options.threads;
  if (options.matrixCores)
    function.walk([&](tile::DotOp dot) {
      threads = std::max(threads, options.matrixCores->threadsFor(dot, options.threads));
    });
  return threads;
}

/// The longest runs of contiguous elements a kernel's threads hold: the
/// target's, unless a product or a transpose reads its tiles by single
/// rows and columns from shared memory (an FMA dot's operands, a
/// transpose's source), where runs would put the lanes of a warp on fewer
/// banks; those keep the strided layout.
int64_t kernelRuns(func::FuncOp function, const GpuLoweringOptions &options) {
  bool strided = function
                     .walk([](Operation *op) {
                       return isa<tile::DotOp, tile::TransposeOp>(op)
                                  ? WalkResult::interrupt()
                                  : WalkResult::advance();
                     })
                     .wasInterrupted();
  return strided ? 1 : options.contiguous;
}

/// Lowers the tile ops of one kernel (each kernel has its own layout).
LogicalResult convertKernel(gpu::GPUFuncOp kernel, Layout layout,
                            const GpuLoweringOptions &options) {
  MLIRContext *context = kernel.getContext();
  DistributedTypeConverter converter(layout, options.matrixCores);
  ConversionTarget target(*context);
  target.addIllegalDialect<tile::TileDialect>();
  target.addLegalDialect<vector::VectorDialect, gpu::GPUDialect>();
  // Matrix-core lowerings emit vendor intrinsics.
  if (options.matrixCores)
    options.matrixCores->addLegalDialects(target);
  target.addIllegalOp<func::ReturnOp>();
  target.addDynamicallyLegalDialect<arith::ArithDialect, math::MathDialect,
                                    memref::MemRefDialect>(
      [&](Operation *op) { return converter.isLegal(op); });
  // Layout changes (keepAccumulatorsInFragments) are converted; the
  // conversion's own casts (tensors to vectors and back) are legal.
  target.addDynamicallyLegalOp<UnrealizedConversionCastOp>(
      [](UnrealizedConversionCastOp cast) { return !isRelayout(cast); });
  RewritePatternSet patterns(context);
  patterns.add<ConvertElementwise>(converter, context);
  patterns.add<ConvertProgramId, ConvertNumPrograms, ConvertReturn>(converter,
                                                                    context);
  patterns.add<ConvertSplat, ConvertIota, ConvertSameLayout<tile::ReshapeOp>,
               ConvertSameLayout<tile::ExpandDimsOp>,
               ConvertTranspose, ConvertGather>(converter, context, layout);
  patterns.add<ConvertDot, ConvertRelayout, ConvertBroadcast, ConvertReduce, ConvertLoad,
               ConvertStore>(converter, context, layout, options.matrixCores);
  scf::populateSCFStructuralTypeConversionsAndLegality(converter, patterns,
                                                       target);
  if (failed(applyPartialConversion(kernel, target, std::move(patterns))))
    return failure();
  // The waits after K loops that left their dots in flight: every use of
  // the accumulators reads them from the wait; their initial values are
  // pinned before the loop.
  WalkResult walk = kernel.walk([&](scf::ForOp loop) {
    auto results = loop->getAttrOfType<DenseI64ArrayAttr>(kMatrixCoresDoneAttrName);
    if (!results)
      return WalkResult::advance();
    if (!options.matrixCores) {
      loop.emitError("a K loop left dots in flight without matrix cores to wait for");
      return WalkResult::interrupt();
    }
    loop->removeAttr(kMatrixCoresDoneAttrName);
    SmallVector<Value> accumulators;
    SmallVector<SmallVector<OpOperand *>> uses;
    for (int64_t result : results.asArrayRef()) {
      accumulators.push_back(loop.getResult(result));
      uses.emplace_back();
      for (OpOperand &use : loop.getResult(result).getUses())
        uses.back().push_back(&use);
    }
    OpBuilder b(loop);
    SmallVector<Value> inits;
    for (int64_t result : results.asArrayRef())
      inits.push_back(loop.getInitArgs()[result]);
    for (auto [result, pinned] : llvm::zip(
             results.asArrayRef(),
             options.matrixCores->pinAccumulatorsInFlight(b, loop.getLoc(), inits)))
      loop.getInitArgsMutable()[result].set(pinned);
    b.setInsertionPointAfter(loop);
    SmallVector<Value> waited =
        options.matrixCores->waitForMatrixCores(b, loop.getLoc(), accumulators);
    for (auto [value, usesOfValue] : llvm::zip(waited, uses))
      for (OpOperand *use : usesOfValue)
        use->set(value);
    return WalkResult::advance();
  });
  if (walk.wasInterrupted())
    return failure();
  return options.matrixCores ? options.matrixCores->finishKernel(kernel) : success();
}

} // namespace

LogicalResult prism::gpu_lowering::lowerTileKernelsToGpu(
    ModuleOp module, const GpuLoweringOptions &options) {
  {
    MLIRContext *context = module.getContext();
    SmallVector<func::FuncOp> kernels;
    for (auto function : module.getOps<func::FuncOp>())
      if (function->hasAttr(tile::TileDialect::getKernelAttrName()))
        kernels.push_back(function);
    if (kernels.empty())
      return success();

    OpBuilder builder(context);
    module->setAttr(gpu::GPUDialect::getContainerModuleAttrName(),
                    builder.getUnitAttr());
    builder.setInsertionPointToEnd(module.getBody());
    auto gpuModule =
        gpu::GPUModuleOp::create(builder, module.getLoc(), "prism_kernels");
    SmallVector<NamedAttribute> configs;
    auto workgroupSpace = gpu::AddressSpaceAttr::get(
        context, gpu::GPUDialect::getWorkgroupAddressSpace());
    for (func::FuncOp function : kernels) {
      int64_t threads = kernelThreads(function, options);
      // Every tile is spread over the block's threads: one far beyond the
      // register file (a few hundred elements per thread at most) would
      // spill without end and keep the vendor's assembler busy for hours.
      constexpr int64_t kMaxElementsPerThread = 512;
      if (auto tooLarge = tile::findTileLargerThan(function, kMaxElementsPerThread * threads)) {
        RankedTensorType tile = tooLarge->second;
        return tooLarge->first->emitError("kernel '")
               << function.getName() << "': a " << tile
               << " tile puts " << (tile.getNumElements() + threads - 1) / threads
               << " elements in each of the " << threads << " threads, more than the "
               << kMaxElementsPerThread
               << " the registers can hold even with spills; choose smaller tile sizes";
      }
      Layout layout{threads, options.warpShuffles, kernelRuns(function, options)};
      assignFragmentLayouts(function, layout, options.matrixCores);
      markUniformBroadcasts(function, layout);
      builder.setInsertionPointToEnd(gpuModule.getBody());
      // The workspace's size is set below, once the operands are staged.
      auto gpuFunc = gpu::GPUFuncOp::create(
          builder, function.getLoc(), function.getName(),
          function.getFunctionType(),
          TypeRange{MemRefType::get({16}, builder.getI8Type(), nullptr,
                                    workgroupSpace)},
          TypeRange{});
      gpuFunc->setAttr(gpu::GPUDialect::getKernelFuncAttrName(),
                       builder.getUnitAttr());
      gpuFunc.setKnownBlockSizeAttr(builder.getDenseI32ArrayAttr(
          {static_cast<int32_t>(threads), 1, 1}));
      // Move the body: the new entry block's arguments are the function's
      // followed by the workgroup buffer.
      Block &entry = gpuFunc.getBody().front();
      Block &old = function.getBody().front();
      for (auto [from, to] : llvm::zip(old.getArguments(),
                                       entry.getArguments().take_front(
                                           old.getNumArguments())))
        from.replaceAllUsesWith(to);
      entry.getOperations().splice(entry.end(), old.getOperations());
      PipelineChoices choices;
      if (auto stages = function->getAttrOfType<IntegerAttr>(
              tile::TileDialect::getPipelineStagesAttrName()))
        choices.stages = stages.getInt();
      if (auto inFlight = function->getAttrOfType<IntegerAttr>(
              tile::TileDialect::getDotsInFlightAttrName()))
        choices.dotsInFlight = inFlight.getInt();
      if (auto specialize = function->getAttrOfType<IntegerAttr>(
              tile::TileDialect::getWarpSpecializeAttrName()))
        choices.warpSpecialize = specialize.getInt();
      function.erase();

      Staging staging;
      if (options.matrixCores && options.asyncCopies)
        staging = stageDotOperands(
            gpuFunc, layout, *options.matrixCores, *options.asyncCopies,
            options.tensorCopies,
            std::max(options.sharedMemoryLimit, options.dynamicSharedMemoryLimit) -
                (options.tensorCopies ? kSwizzleAlignment : 0),
            choices);
      // A producer warp of a warp-specialized loop runs beside the
      // layout's threads.
      if (staging.producerThreads) {
        threads += staging.producerThreads;
        gpuFunc.setKnownBlockSizeAttr(builder.getDenseI32ArrayAttr(
            {static_cast<int32_t>(threads), 1, 1}));
      }
      // The workspace: the operand slots or the largest exchange.
      int64_t bytes = std::max<int64_t>(16, alignTo16(staging.bytes));
      gpuFunc.walk([&](Operation *op) {
        bytes = std::max(bytes, alignTo16(exchangeBytes(op, layout, options.matrixCores)));
      });
      int64_t limit = std::max(options.sharedMemoryLimit, options.dynamicSharedMemoryLimit);
      bool dynamic = bytes > options.sharedMemoryLimit;
      // Dynamic shared memory is only 16-byte aligned: swizzled slots take
      // the first 1024-byte boundary of one more KB, which the block needs
      // too (the stages were sized for it; an exchange larger than they
      // are must leave room for it as well).
      int64_t alignmentPad = dynamic && !staging.tensorMaps.empty() ? kSwizzleAlignment : 0;
      if (bytes + alignmentPad > limit)
        return gpuFunc.emitError("kernel '")
               << gpuFunc.getName() << "' needs " << bytes + alignmentPad
               << " bytes of shared memory for its tile exchanges"
               << (alignmentPad ? " (with the 1 KB that aligns its tensor-copy slots)" : "")
               << ", more than the " << limit
               << " available to a block; choose smaller tile sizes";
      BlockArgument workspace = gpuFunc.getWorkgroupAttributions().front();
      auto workspaceType =
          MemRefType::get({bytes}, builder.getI8Type(), nullptr, workgroupSpace);
      if (dynamic) {
        // Above the static limit: a view of the dynamic shared memory
        // replaces the workgroup buffer.
        Block &entry = gpuFunc.getBody().front();
        OpBuilder b = OpBuilder::atBlockBegin(&entry);
        Location loc = gpuFunc.getLoc();
        Value raw = gpu::DynamicSharedMemoryOp::create(
            b, loc,
            MemRefType::get({ShapedType::kDynamic}, b.getI8Type(), nullptr, workgroupSpace));
        Value shift = indexConstant(b, loc, 0);
        if (alignmentPad) {
          Value address = memref::ExtractAlignedPointerAsIndexOp::create(b, loc, raw);
          Value mask = indexConstant(b, loc, kSwizzleAlignment - 1);
          shift = arith::AndIOp::create(
              b, loc,
              arith::SubIOp::create(b, loc, indexConstant(b, loc, kSwizzleAlignment),
                                    arith::AndIOp::create(b, loc, address, mask)),
              mask);
        }
        auto view = memref::ViewOp::create(b, loc, workspaceType, raw, shift, ValueRange{});
        view->setAttr(kWorkspaceAttrName, b.getUnitAttr());
        workspace.replaceAllUsesWith(view.getResult());
        entry.eraseArgument(workspace.getArgNumber());
        gpuFunc->removeAttr(gpu::GPUFuncOp::getNumWorkgroupAttributionsAttrName());
      } else {
        workspace.setType(workspaceType);
        // 16-byte accesses (cp.async, ldmatrix rows, vector stores) and
        // wgmma descriptors (which drop the low 4 bits) need the buffer
        // 16-byte aligned; swizzled slots (tensor copies) 1024.
        gpuFunc.setWorkgroupAttributionAttr(
            0, LLVM::LLVMDialect::getAlignAttrName(),
            builder.getI64IntegerAttr(staging.tensorMaps.empty() ? 128 : kSwizzleAlignment));
      }
      SmallVector<NamedAttribute> config{
          builder.getNamedAttr("threads", builder.getI64IntegerAttr(threads)),
          builder.getNamedAttr("shared_bytes", builder.getI64IntegerAttr(bytes + alignmentPad)),
          builder.getNamedAttr("stages", builder.getI64IntegerAttr(staging.stages))};
      if (dynamic)
        config.push_back(builder.getNamedAttr("dynamic_shared", builder.getUnitAttr()));
      if (!staging.tensorMaps.empty())
        config.push_back(
            builder.getNamedAttr("tensor_maps", builder.getArrayAttr(staging.tensorMaps)));
      configs.push_back(
          builder.getNamedAttr(gpuFunc.getName(), builder.getDictionaryAttr(config)));
      if (failed(convertKernel(gpuFunc, layout, options)))
        return failure();
      if (staging.producerThreads)
        finishWarpSpecialization(gpuFunc, *options.tensorCopies);
    }
    module->setAttr(kKernelConfigsAttrName,
                    builder.getDictionaryAttr(configs));

    // The markers of staged operands, unused once their dots are lowered.
    gpuModule.walk([](UnrealizedConversionCastOp cast) {
      if (cast->hasAttr(kStagedOperandAttrName) && cast->use_empty())
        cast->erase();
    });
    return success();
  }
}
