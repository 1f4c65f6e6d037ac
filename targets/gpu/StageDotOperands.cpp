//===- StageDotOperands.cpp - Multi-stage operand pipelines for K loops ---===//

#include "targets/gpu/StageDotOperands.h"

#include "dialects/Tile/Utils/MemoryAccess.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "llvm/ADT/MapVector.h"
#include "llvm/ADT/SetVector.h"

using namespace mlir;
using prism::tile::FlatView;
using prism::tile::flatten;
using prism::tile::indexConstant;

namespace prism::gpu_lowering {

/// Elements per copy: 16 bytes of 16-bit elements.
constexpr int64_t kCopyElements = 8;
/// Padding of a slot row (elements): 16 bytes.
constexpr int64_t kRowPadding = 8;

std::optional<StagedOperand> stagedOperand(Value operand) {
  auto cast = operand.getDefiningOp<UnrealizedConversionCastOp>();
  if (!cast || cast->getNumOperands() != 1)
    return std::nullopt;
  auto info = cast->getAttrOfType<DictionaryAttr>(kStagedOperandAttrName);
  if (!info)
    return std::nullopt;
  auto rowLength = info.getAs<IntegerAttr>("row_length");
  auto transposed = info.getAs<BoolAttr>("transposed");
  auto coreMatrices = info.getAs<BoolAttr>("core_matrices");
  auto swizzle = info.getAs<IntegerAttr>("swizzle_bytes");
  if (!rowLength || !transposed || !coreMatrices)
    return std::nullopt;
  SharedLayout layout = coreMatrices.getValue() ? SharedLayout::CoreMatrices
                        : swizzle              ? SharedLayout::SwizzledRows
                                               : SharedLayout::Rows;
  return StagedOperand{cast.getOperand(0), rowLength.getInt(), transposed.getValue(),
                       layout, swizzle ? swizzle.getInt() : 0};
}

namespace {

/// A loaded tile a loop's dots read, and where it goes in each slot.
struct StagedLoad {
  mutable tile::LoadOp load; // (op accessors are not const)
  int64_t byteOffset; // in the slot
  int64_t rows, columns;
  SharedLayout layout;
  int64_t swizzleBytes = 0; // SharedLayout::SwizzledRows
  /// Index of its tensor map (tensor copies).
  int64_t map = -1;
  int64_t rowLength() const {
    return layout == SharedLayout::Rows ? columns + kRowPadding : columns;
  }
  /// Bytes of one swizzled block (the swizzle span of every row).
  int64_t blockBytes() const { return rows * swizzleBytes; }
  /// Where chunk (row, column) goes in the slot, in elements.
  Value target(OpBuilder &b, Location loc, Value row, Value column) const {
    auto c = [&](int64_t v) { return indexConstant(b, loc, v); };
    if (layout == SharedLayout::Rows)
      return arith::AddIOp::create(b, loc, arith::MulIOp::create(b, loc, row, c(rowLength())),
                                   column);
    if (layout == SharedLayout::SwizzledRows) {
      // Block column * 2 / S, row `row` of it, then the swizzle (the slot
      // is 1024-byte aligned, so offsets in it have the address's bits).
      Value byte = arith::MulIOp::create(b, loc, column, c(2));
      Value block = arith::MulIOp::create(
          b, loc, arith::DivUIOp::create(b, loc, byte, c(swizzleBytes)), c(blockBytes()));
      Value inBlock = arith::AddIOp::create(
          b, loc, arith::MulIOp::create(b, loc, row, c(swizzleBytes)),
          arith::RemUIOp::create(b, loc, byte, c(swizzleBytes)));
      Value offset = swizzledOffset(b, loc, arith::AddIOp::create(b, loc, block, inBlock),
                                    swizzleBytes);
      return arith::DivUIOp::create(b, loc, offset, c(2));
    }
    // Row group (row / 8) of columns / 8 core matrices of 64 elements,
    // core matrix column / 8 in it, row row % 8 in that.
    Value group = arith::MulIOp::create(b, loc, arith::DivUIOp::create(b, loc, row, c(8)),
                                        c(8 * columns));
    Value inGroup = arith::AddIOp::create(
        b, loc, arith::MulIOp::create(b, loc, column, c(8)),
        arith::MulIOp::create(b, loc, arith::RemUIOp::create(b, loc, row, c(8)), c(8)));
    return arith::AddIOp::create(b, loc, group, inGroup);
  }
};

/// A dot operand: the load behind it and whether a transpose is between.
struct OperandSource {
  tile::LoadOp load;
  bool transposed;
};

class LoopStaging {
public:
  LoopStaging(scf::ForOp loop, const Layout &layout,
              const MatrixCoreLowering &matrixCores, const AsyncCopyLowering &copies,
              const TensorCopyLowering *tensorCopies)
      : loop(loop), layout(layout), matrixCores(matrixCores), copies(copies),
        tensorCopies(tensorCopies) {}

  /// Whether the loop qualifies; fills the plan.
  bool plan();
  /// Bytes of one stage's slots (after plan), and its barriers'.
  int64_t bytesPerStage() const { return slotBytes + barriersPerStage() * kBarrierBytes; }
  /// Whether tensor copies fill the slots (after plan).
  bool usesTensorCopies() const { return tensorMode; }
  /// The tensor maps of the loop's loads ({argument, box, swizzle_bytes}),
  /// numbered from `firstMap` (after plan, tensor copies only).
  SmallVector<Attribute> tensorMaps(int64_t firstMap);
  /// With tensor copies: the kernel's tensor maps buffer.
  void setTensorMaps(Value maps) { tensorMapsBuffer = maps; }
  /// Bytes the pipeline needs besides its stages: the loop's other
  /// exchanges (below the slots) and the pinned operands (above them).
  int64_t fixedBytes() const { return base + pinnedBytes; }
  /// Whether the loop's dots may be left in flight (one group each step,
  /// MatrixCoreLowering::leavesDotsInFlight; after plan): the matrix cores
  /// read both operands of every dot from slots themselves, and nothing
  /// else in the loop touches the accumulators (the loop's own values,
  /// yielded as they are), so that no register of a dot in flight is read
  /// before the wait after the loop.
  bool dotsCanStayInFlight();
  /// Whether the loop can run warp-specialized (after plan): its slots
  /// are filled by tensor copies, it has no pinned operands, and it is in
  /// the kernel's entry block after nothing but pure ops (which the
  /// producer warp runs too, in a layout that has no place for it).
  bool canSpecializeWarps();
  /// Makes apply build the warp-specialized pipeline (`pingPong`: with
  /// two consumer warpgroups taking turns at the matrix cores).
  void specializeWarps(bool pingPong) {
    warpSpecialized = true;
    alternateWarpgroups = pingPong;
  }
  /// Rewrites the loop into a pipeline of `stages`, with `inFlight` groups
  /// of dots left running at each step (0 or 1); returns the slot bytes of
  /// all stages.
  int64_t apply(Value workspace, int64_t stages, int64_t inFlight);

  /// Warp specialization: the producer warpgroup, its registers per
  /// thread, and the most the consumers take.
  static constexpr int64_t kProducerThreads = 128;
  static constexpr int64_t kProducerRegisters = 40;
  static constexpr int64_t kMostConsumerRegisters = 240;

private:
  static constexpr int64_t kBarrierBytes = 8;
  /// Each stage's mbarriers: with tensor copies, one its copies complete
  /// on ("full"); warp-specialized, also one its consumers release it on
  /// ("empty").
  int64_t barriersPerStage() const { return tensorMode ? (warpSpecialized ? 2 : 1) : 0; }
  /// The warp-specialized form of apply's loop (the prologue's barriers
  /// made): the producer warp's loop of tensor copies beside the
  /// consumers', which wait for each stage and release it.
  void specializeLoop(OpBuilder &b, Location loc, int64_t stages, int64_t inFlight,
                      int64_t distance);
  /// The dots read this step's slot `slot` and the pinned ones; the loads
  /// (and their views) the slots replace are erased.
  void readSlots(OpBuilder &b, Value slot, int64_t inFlight);
  /// Runs `body` (which builds at `b`) when `iv` is below the loop's end.
  void guarded(OpBuilder &b, Location loc, Value iv, function_ref<void()> body);
  /// Waits for the copies of the step (the vendor's copy groups, `distance`
  /// iterations ahead) and fences them for the matrix cores.
  void waitForCopies(OpBuilder &b, Location loc, int64_t distance);
  /// The parity (i1) of phase `phase` (index) of an mbarrier.
  Value parityOf(OpBuilder &b, Location loc, Value phase);
  /// Makes the host's tensor maps visible to the copies this thread
  /// issues (before the first).
  void acquireMaps(OpBuilder &b, Location loc);
  /// Fills the pinned operands' slots (every thread's copies); with tensor
  /// copies, waits for them.
  void fillPinned(OpBuilder &b, Location loc);
  /// The loop's iteration number of iteration variable `iv`.
  Value iterationOf(OpBuilder &b, Location loc, Value iv);
  /// The prologue's fills of iterations 0 .. distance - 1, a group each
  /// (`ownCopies`: by the threads' copies even with tensor copies).
  void fillFirst(OpBuilder &b, Location loc, int64_t distance, bool ownCopies);
  /// Waits for the tensor copies of `iteration` into `slot`.
  void waitForStage(OpBuilder &b, Location loc, Value iteration, Value slot);
  /// After the step's wait: every thread is past the previous step's
  /// reads (a barrier), then the slot `distance` iterations ahead is
  /// refilled and its group committed.
  void refillAhead(OpBuilder &b, Location loc, Value iteration, int64_t distance,
                   bool ownCopies);
  /// Whether the loop's loads can be tensor copies; lays their slots out
  /// as swizzled rows if so.
  bool planTensorCopies();
  /// Whether the host could build every map (the runtime's conditions).
  Value tensorCopiesUsable(OpBuilder &b, Location loc);
  /// The byte address (index) of a view's first element.
  Value addressOf(OpBuilder &b, Location loc, Value view);
  Value barrierAddress(OpBuilder &b, Location loc, Value slot);
  /// The byte address (index) of a staged load's tensor map.
  Value mapAddress(OpBuilder &b, Location loc, const StagedLoad &staged);
  /// Opens an scf.if on thread 0 (and on `also`, when given) and leaves `b`
  /// in its then block (callers hold an InsertionGuard).
  void onThread0(OpBuilder &b, Location loc, Value also);
  /// Thread 0 (any thread with `onAnyThread`) expects the stage's bytes
  /// on its barrier and copies each staged tile of iteration `iv` into
  /// slot `slot`.
  void copyTiles(OpBuilder &b, Location loc, Value iv, Value slot, bool onAnyThread = false);
  std::optional<OperandSource> sourceOf(Value operand);
  /// The same for an operand the loop does not change (loaded before it):
  /// staged once, in a pinned slot.
  std::optional<OperandSource> invariantSourceOf(Value operand);
  bool stageable(tile::LoadOp load);
  bool computableAhead(Value index);
  /// `value` (an index of a staged load) as computed for iteration
  /// variable `iv` instead of the loop's (the loop-invariant part reused).
  Value valueAt(OpBuilder &b, Value value, Value iv, IRMapping &mapping);
  /// `tensorCopies` where the tensor maps are usable (useTensorCopies),
  /// `ownCopies` where they are not (an unaligned buffer), each inside
  /// its arm of one scf.if; `b` stays before the if's end.
  void byCopyKind(OpBuilder &b, Location loc, function_ref<void()> tensorCopies,
                  function_ref<void()> ownCopies);
  /// All staged loads of iteration variable `iv` into slot `slot`.
  void fill(OpBuilder &b, Location loc, Value iv, Value slot);
  /// The same by every thread's copies (cp.async or loads and stores).
  void fillEach(OpBuilder &b, Location loc, Value iv, Value slot);
  void fillOne(OpBuilder &b, Location loc, const StagedLoad &staged,
               ArrayRef<Value> indices, Value slotBase);
  Value slotView(OpBuilder &b, Location loc, const StagedLoad &staged, Value slot);
  /// Where each dot operand read from a slot comes from (a staged load, or
  /// a pinned one); found before apply changes the loop's block.
  struct SlotOperand {
    OperandSource source;
    bool pinned;
  };
  void findSlotOperands();
  const StagedLoad &stagedLoadOf(const SlotOperand &operand) {
    return (operand.pinned ? pinned : loads).find(operand.source.load)->second;
  }

  scf::ForOp loop;
  const Layout &layout;
  const MatrixCoreLowering &matrixCores;
  const AsyncCopyLowering &copies;
  const TensorCopyLowering *tensorCopies;
  bool tensorMode = false, warpSpecialized = false, alternateWarpgroups = false;
  Value tensorMapsBuffer, useTensorCopies;
  Value workspace;
  SmallVector<tile::DotOp> dots;
  llvm::MapVector<Operation *, StagedLoad> loads, pinned;
  llvm::DenseMap<OpOperand *, SlotOperand> slotOperands;
  int64_t slotBytes = 0, pinnedBytes = 0, stageCount = 0;
  /// Where the slots start: the loop's other exchanges (and its dots'
  /// published operands and results) use the workspace below.
  int64_t base = 0;
};

/// Whether `op` (or an op nested in it) writes memory, or may.
static bool mayWriteMemory(Operation *op) {
  bool writes = false;
  op->walk([&](Operation *inner) {
    if (auto effects = dyn_cast<MemoryEffectOpInterface>(inner)) {
      if (effects.hasEffect<MemoryEffects::Write>())
        writes = true;
    } else if (!inner->hasTrait<OpTrait::HasRecursiveMemoryEffects>() &&
               !inner->hasTrait<OpTrait::IsTerminator>()) {
      writes = true; // unknown effects
    }
  });
  return writes;
}

/// The load behind a dot operand: the operand itself, or through a 2-D
/// transpose and/or a reshape dropping leading unit dimensions (a batched
/// matmul's [1, R, C] tiles); each op on the way in `block` when given.
static std::optional<OperandSource> loadBehind(Value operand, Block *block) {
  auto inBlock = [&](Operation *op) { return !block || op->getBlock() == block; };
  bool transposed = false;
  if (auto transpose = operand.getDefiningOp<tile::TransposeOp>()) {
    if (!inBlock(transpose) || transpose.getPermutation() != ArrayRef<int64_t>{1, 0})
      return std::nullopt;
    operand = transpose.getInput();
    transposed = true;
  }
  if (auto reshape = operand.getDefiningOp<tile::ReshapeOp>()) {
    auto from = cast<RankedTensorType>(reshape.getInput().getType());
    auto to = cast<RankedTensorType>(reshape.getType());
    if (!inBlock(reshape) || to.getRank() != 2 || from.getRank() < 2 ||
        from.getShape().take_back(2) != to.getShape() ||
        !llvm::all_of(from.getShape().drop_back(2), [](int64_t d) { return d == 1; }))
      return std::nullopt;
    operand = reshape.getInput();
  }
  auto load = operand.getDefiningOp<tile::LoadOp>();
  if (!load || !inBlock(load))
    return std::nullopt;
  return OperandSource{load, transposed};
}

std::optional<OperandSource> LoopStaging::sourceOf(Value operand) {
  std::optional<OperandSource> source = loadBehind(operand, loop.getBody());
  if (!source || !stageable(source->load))
    return std::nullopt;
  return source;
}

std::optional<OperandSource> LoopStaging::invariantSourceOf(Value operand) {
  if (!loop.isDefinedOutsideOfLoop(operand))
    return std::nullopt;
  std::optional<OperandSource> source = loadBehind(operand, nullptr);
  if (!source || !stageable(source->load))
    return std::nullopt;
  // The pinned fill reads the buffer just before the loop instead of at
  // the load: the load must be in the loop's block, with nothing between
  // them that writes memory (or may).
  tile::LoadOp load = source->load;
  if (load->getBlock() != loop->getBlock())
    return std::nullopt;
  for (Operation *op = load->getNextNode(); op != loop.getOperation(); op = op->getNextNode())
    if (mayWriteMemory(op))
      return std::nullopt;
  return source;
}

/// 16-bit elements with unit innermost stride, a tile of rows of whole
/// copies ([R, C], or [1, ..., 1, R, C]), no padding value (staged slots
/// are zero-filled), and indices that can be computed for a later
/// iteration.
bool LoopStaging::stageable(tile::LoadOp load) {
  auto memref = cast<MemRefType>(load.getBase().getType());
  auto tileType = load.getType();
  int64_t rank = tileType.getRank();
  if (rank < 2 || load.getPadding() || memref.getElementTypeBitWidth() != 16 ||
      tileType.getDimSize(rank - 1) % kCopyElements != 0 ||
      !llvm::all_of(tileType.getShape().drop_back(2), [](int64_t d) { return d == 1; }))
    return false;
  SmallVector<int64_t> strides;
  int64_t offset;
  if (failed(memref.getStridesAndOffset(strides, offset)) || strides.back() != 1)
    return false;
  // The buffer must be the same at every iteration: fills read it ahead.
  if (!loop.isDefinedOutsideOfLoop(load.getBase()))
    return false;
  return llvm::all_of(load.getIndices(), [&](Value v) { return computableAhead(v); });
}

/// Defined outside the loop, the iteration variable, or pure scalar
/// arithmetic in the loop body on such values.
bool LoopStaging::computableAhead(Value index) {
  if (index == loop.getInductionVar())
    return true;
  Operation *def = index.getDefiningOp();
  if (!def) // a block argument: of the loop (its iteration values) or outside
    return !loop->isAncestor(index.getParentBlock()->getParentOp());
  if (!loop->isAncestor(def))
    return true;
  if (def->getParentOp() != loop.getOperation() || !isPure(def) ||
      def->getNumRegions() != 0 ||
      !llvm::all_of(def->getResultTypes(),
                    [](Type t) { return t.isIntOrIndex(); }))
    return false;
  return llvm::all_of(def->getOperands(), [&](Value v) { return computableAhead(v); });
}

bool LoopStaging::plan() {
  // Fills run stages - 1 iterations ahead with signed bounds.
  if (loop.getUnsignedCmp())
    return false;
  for (Operation &op : loop.getBody()->without_terminator())
    if (auto dot = dyn_cast<tile::DotOp>(op))
      dots.push_back(dot);
  if (dots.empty())
    return false;
  llvm::SmallPtrSet<Operation *, 8> covered;
  auto newSlot = [&](tile::LoadOp load, SharedLayout slotLayout, int64_t &bytes) {
    auto type = load.getType();
    int64_t rank = type.getRank();
    StagedLoad staged{load, bytes, type.getDimSize(rank - 2), type.getDimSize(rank - 1),
                      slotLayout};
    bytes += alignTo16(staged.rows * staged.rowLength() * 2);
    return staged;
  };
  // A slot of `slotLayout` for `load` in `slots` (the stages' or the
  // pinned ones), unless it has one; false if a dot wants another layout
  // for it or core matrices do not fit it.
  auto addSlot = [&](llvm::MapVector<Operation *, StagedLoad> &slots, tile::LoadOp load,
                     SharedLayout slotLayout, int64_t &bytes) {
    if (auto known = slots.find(load); known != slots.end())
      return known->second.layout == slotLayout;
    StagedLoad slot = newSlot(load, slotLayout, bytes);
    if (slotLayout == SharedLayout::CoreMatrices && slot.rows % 8 != 0)
      return false;
    slots.insert({load, slot});
    return true;
  };
  for (tile::DotOp dot : dots) {
    if (!matrixCores.supports(dot))
      return false;
    covered.insert(dot);
    // Each operand: loaded in the loop (staged), before it (pinned), or
    // anything else (published at every step, as without a pipeline).
    std::optional<OperandSource> staged[2] = {sourceOf(dot.getLhs()), sourceOf(dot.getRhs())};
    std::optional<OperandSource> invariant[2];
    for (unsigned i = 0; i < 2; ++i)
      if (!staged[i])
        invariant[i] = invariantSourceOf(dot->getOperand(i));
    // The slots' layout, as the matrix cores want it for this dot given
    // how its operands are stored (a published operand as it is).
    bool transposed[2];
    for (unsigned i = 0; i < 2; ++i) {
      if (staged[i] || invariant[i]) {
        transposed[i] = (staged[i] ? staged[i] : invariant[i])->transposed;
      } else {
        auto transpose = dot->getOperand(i).getDefiningOp<tile::TransposeOp>();
        transposed[i] = transpose && transpose.getPermutation() == ArrayRef<int64_t>{1, 0};
      }
    }
    SharedLayout slotLayout =
        staged[0] || staged[1] || invariant[0] || invariant[1]
            ? matrixCores.stagedLayout(dot, layout, transposed[0], transposed[1])
            : SharedLayout::Rows;
    // A dot that publishes an operand or its result does so below the
    // slots. One with its result in fragments publishes nothing when both
    // operands are in slots (staged or pinned), or B is and A is taken from
    // the registers of its fragments (attention's P V).
    bool inSlot[2] = {staged[0] || invariant[0], staged[1] || invariant[1]};
    bool publishesNothing =
        inFragments(dot.getType()) && inSlot[1] &&
        (inSlot[0] || (inFragments(dot.getLhs().getType()) &&
                       matrixCores.takesOperandAInFragments(dot, layout, slotLayout,
                                                            transposed[1])));
    if (!publishesNothing)
      base = std::max(base, exchangeBytes(dot, layout, &matrixCores));
    for (unsigned i = 0; i < 2; ++i) {
      Value operand = dot->getOperand(i);
      if (staged[i]) {
        // The ops from the operand back to the load.
        for (Operation *op = operand.getDefiningOp(); op != staged[i]->load;
             op = op->getOperand(0).getDefiningOp())
          covered.insert(op);
        covered.insert(staged[i]->load);
        if (!addSlot(loads, staged[i]->load, slotLayout, slotBytes))
          return false;
      } else if (invariant[i] &&
                 !addSlot(pinned, invariant[i]->load, slotLayout, pinnedBytes)) {
        return false;
      }
    }
  }
  if (loads.empty())
    return false;
  // The staged loads feed the dots only (directly or through their
  // transposes); nothing else in the loop exchanges through shared memory
  // (it would share the workspace with the slots).
  for (auto &entry : loads)
    for (Operation *user : entry.first->getUsers())
      if (!covered.contains(user))
        return false;
  for (Operation *t : covered)
    if (isa<tile::TransposeOp, tile::ReshapeOp>(t))
      for (Operation *user : t->getUsers())
        if (!covered.contains(user))
          return false;
  // The loop's other exchanges go below the slots. Nothing in the loop may
  // write memory: a fill ahead would read what an iteration has not
  // written yet.
  bool conflicts = false;
  loop.getBody()->walk([&](Operation *op) {
    if (covered.contains(op))
      return;
    base = std::max(base, exchangeBytes(op, layout, &matrixCores));
    if (isa<gpu::BarrierOp>(op) || mayWriteMemory(op))
      conflicts = true;
  });
  base = alignTo16(base);
  if (conflicts)
    return false;
  tensorMode = tensorCopies && planTensorCopies();
  return true;
}

static int64_t alignTo(int64_t bytes, int64_t alignment) {
  return (bytes + alignment - 1) / alignment * alignment;
}

bool LoopStaging::planTensorCopies() {
  // Pinned operands (filled once) stay in core matrices, filled by every
  // thread's copies before the loop.
  Block *entry = &loop->getParentOfType<gpu::GPUFuncOp>().getBody().front();
  for (auto &entryOfLoad : loads) {
    const StagedLoad &staged = entryOfLoad.second;
    // Boxes of a kernel argument (the host describes it), at most 5-D and
    // 256 rows, whose rows are whole swizzle spans.
    auto argument = dyn_cast<BlockArgument>(staged.load.getBase());
    int64_t rowBytes = staged.columns * 2;
    if (staged.layout != SharedLayout::CoreMatrices || !argument ||
        argument.getOwner() != entry || staged.load.getType().getRank() > 5 ||
        staged.rows > 256 || staged.rows % 8 != 0 ||
        !(rowBytes == 32 || rowBytes == 64 || rowBytes % 128 == 0))
      return false;
  }
  // Swizzled blocks start 1024-byte aligned (the period of the widest
  // swizzle): the slots, each tile in them, and the base below them.
  slotBytes = 0;
  int64_t map = 0;
  for (auto &entryOfLoad : loads) {
    StagedLoad &staged = entryOfLoad.second;
    staged.layout = SharedLayout::SwizzledRows;
    staged.swizzleBytes = std::min<int64_t>(128, staged.columns * 2);
    staged.byteOffset = slotBytes;
    staged.map = map++;
    slotBytes += alignTo(staged.rows * staged.columns * 2, 1024);
  }
  base = alignTo(base, 1024);
  return true;
}

SmallVector<Attribute> LoopStaging::tensorMaps(int64_t firstMap) {
  MLIRContext *context = loop.getContext();
  Builder b(context);
  SmallVector<Attribute> maps;
  for (auto &entryOfLoad : loads) {
    StagedLoad &staged = entryOfLoad.second;
    staged.map += firstMap;
    // Innermost first: a swizzle span of columns, the rows, 1 for the
    // leading (unit) dimensions.
    SmallVector<int64_t> box{staged.swizzleBytes / 2, staged.rows};
    box.append(staged.load.getType().getRank() - 2, 1);
    maps.push_back(b.getDictionaryAttr(
        {b.getNamedAttr("argument",
                        b.getI64IntegerAttr(
                            cast<BlockArgument>(staged.load.getBase()).getArgNumber())),
         b.getNamedAttr("element_bytes", b.getI64IntegerAttr(2)),
         b.getNamedAttr("box", b.getI64ArrayAttr(box)),
         b.getNamedAttr("swizzle_bytes", b.getI64IntegerAttr(staged.swizzleBytes))}));
  }
  return maps;
}

Value LoopStaging::addressOf(OpBuilder &b, Location loc, Value view) {
  return memref::ExtractAlignedPointerAsIndexOp::create(b, loc, view);
}

/// The runtime builds a map when the tensor's base is 16-byte aligned,
/// every stride but the innermost a positive multiple of 16 bytes (not a
/// broadcast) and no dimension empty (kTensorMapBytes); the same test
/// here. A maps buffer that ends before a map's end holds no map (the
/// runtime passes an empty one when PRISM_TENSOR_MAPS=0): its size is a
/// kernel argument, so the test costs no load.
Value LoopStaging::tensorCopiesUsable(OpBuilder &b, Location loc) {
  auto c = [&](int64_t v) { return indexConstant(b, loc, v); };
  auto isMultiple = [&](Value v, int64_t of) { return isMultipleOf(b, loc, v, of); };
  Value usable = arith::ConstantIntOp::create(b, loc, 1, 1);
  auto both = [&](Value condition) {
    usable = arith::AndIOp::create(b, loc, usable, condition);
  };
  Value mapsBytes = memref::DimOp::create(b, loc, tensorMapsBuffer, 0);
  for (auto &entryOfLoad : loads) {
    both(arith::CmpIOp::create(b, loc, arith::CmpIPredicate::uge, mapsBytes,
                               c((entryOfLoad.second.map + 1) * kTensorMapBytes)));
    FlatView global = flatten(b, loc, entryOfLoad.second.load.getBase());
    Value start = arith::AddIOp::create(
        b, loc, addressOf(b, loc, entryOfLoad.second.load.getBase()),
        arith::MulIOp::create(b, loc, global.offset, c(2)));
    both(isMultiple(start, 16));
    for (Value stride : ArrayRef<Value>(global.strides).drop_back()) {
      both(isMultiple(stride, kCopyElements));
      both(arith::CmpIOp::create(b, loc, arith::CmpIPredicate::sgt, stride, c(0)));
    }
    for (Value size : global.sizes)
      both(arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ne, size, c(0)));
  }
  return usable;
}

Value LoopStaging::barrierAddress(OpBuilder &b, Location loc, Value slot) {
  Value offset = arith::AddIOp::create(
      b, loc, arith::MulIOp::create(b, loc, slot, indexConstant(b, loc, kBarrierBytes)),
      indexConstant(b, loc, base + stageCount * slotBytes + pinnedBytes));
  return arith::AddIOp::create(b, loc, addressOf(b, loc, workspace), offset);
}

Value LoopStaging::mapAddress(OpBuilder &b, Location loc, const StagedLoad &staged) {
  return arith::AddIOp::create(b, loc, addressOf(b, loc, tensorMapsBuffer),
                               indexConstant(b, loc, staged.map * kTensorMapBytes));
}

void LoopStaging::onThread0(OpBuilder &b, Location loc, Value also) {
  Value first = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq,
                                      gpu::ThreadIdOp::create(b, loc, gpu::Dimension::x),
                                      indexConstant(b, loc, 0));
  if (also)
    first = arith::AndIOp::create(b, loc, also, first);
  auto thread0 = scf::IfOp::create(b, loc, first, /*withElseRegion=*/false);
  b.setInsertionPoint(thread0.thenBlock()->getTerminator());
}

void LoopStaging::copyTiles(OpBuilder &b, Location loc, Value iv, Value slot,
                            bool onAnyThread) {
  auto c = [&](int64_t v) { return indexConstant(b, loc, v); };
  OpBuilder::InsertionGuard guard(b);
  if (!onAnyThread)
    onThread0(b, loc, Value());
  int64_t bytes = 0;
  for (auto &entryOfLoad : loads)
    bytes += entryOfLoad.second.rows * entryOfLoad.second.columns * 2;
  Value barrier = barrierAddress(b, loc, slot);
  tensorCopies->arriveExpectingBytes(b, loc, barrier, bytes);
  IRMapping mapping;
  for (auto &entryOfLoad : loads) {
    const StagedLoad &staged = entryOfLoad.second;
    SmallVector<Value> indices;
    for (Value index : staged.load.getIndices())
      indices.push_back(valueAt(b, index, iv, mapping));
    Value map = mapAddress(b, loc, staged);
    Value slotStart = addressOf(b, loc, slotView(b, loc, staged, slot));
    // One box per swizzle span of the row.
    for (int64_t block = 0; block * staged.swizzleBytes < staged.columns * 2; ++block) {
      SmallVector<Value> coordinates;
      coordinates.push_back(arith::AddIOp::create(
          b, loc, indices.back(), c(block * staged.swizzleBytes / 2)));
      for (Value index : llvm::reverse(ArrayRef<Value>(indices).drop_back()))
        coordinates.push_back(index);
      for (Value &coordinate : coordinates)
        coordinate = arith::IndexCastOp::create(b, loc, b.getI32Type(), coordinate);
      Value shared = arith::AddIOp::create(b, loc, slotStart, c(block * staged.blockBytes()));
      tensorCopies->copyBox(b, loc, shared, map, coordinates, barrier);
    }
  }
}

Value LoopStaging::valueAt(OpBuilder &b, Value value, Value iv, IRMapping &mapping) {
  if (value == loop.getInductionVar())
    return iv;
  Operation *def = value.getDefiningOp();
  if (!def || !loop->isAncestor(def))
    return value;
  if (Value known = mapping.lookupOrNull(value))
    return known;
  for (Value operand : def->getOperands())
    mapping.map(operand, valueAt(b, operand, iv, mapping));
  Operation *clone = b.clone(*def, mapping);
  for (auto [from, to] : llvm::zip(def->getResults(), clone->getResults()))
    mapping.map(from, to);
  return mapping.lookup(value);
}

Value LoopStaging::slotView(OpBuilder &b, Location loc, const StagedLoad &staged,
                            Value slot) {
  // Pinned slots (no `slot`) follow the stages.
  Value shift =
      slot ? arith::AddIOp::create(
                 b, loc, arith::MulIOp::create(b, loc, slot, indexConstant(b, loc, slotBytes)),
                 indexConstant(b, loc, base + staged.byteOffset))
                 .getResult()
           : indexConstant(b, loc, base + stageCount * slotBytes + staged.byteOffset);
  auto space = cast<MemRefType>(workspace.getType()).getMemorySpace();
  auto type = MemRefType::get({staged.rows * staged.rowLength()},
                              staged.load.getType().getElementType(), nullptr, space);
  return memref::ViewOp::create(b, loc, type, workspace, shift, ValueRange{});
}

void LoopStaging::byCopyKind(OpBuilder &b, Location loc, function_ref<void()> tensorCopies,
                             function_ref<void()> ownCopies) {
  auto choice = scf::IfOp::create(b, loc, useTensorCopies, /*withElseRegion=*/true);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPoint(choice.thenBlock()->getTerminator());
  tensorCopies();
  b.setInsertionPoint(choice.elseBlock()->getTerminator());
  ownCopies();
}

void LoopStaging::fill(OpBuilder &b, Location loc, Value iv, Value slot) {
  if (tensorMode) {
    // Tensor copies, or (an unaligned buffer) the threads' own copies into
    // the same swizzled slots.
    byCopyKind(
        b, loc, [&] { copyTiles(b, loc, iv, slot); }, [&] { fillEach(b, loc, iv, slot); });
    return;
  }
  fillEach(b, loc, iv, slot);
}

void LoopStaging::fillEach(OpBuilder &b, Location loc, Value iv, Value slot) {
  IRMapping mapping;
  for (auto &entry : loads) {
    const StagedLoad &staged = entry.second;
    SmallVector<Value> indices;
    for (Value index : staged.load.getIndices())
      indices.push_back(valueAt(b, index, iv, mapping));
    fillOne(b, loc, staged, indices, slotView(b, loc, staged, slot));
  }
}

/// Thread t copies chunks t, t + T, ... of the tile (a chunk: 8 elements
/// of a row): with the vendor's asynchronous copies when the buffer is
/// 16-byte aligned, else by loads and stores.
void LoopStaging::fillOne(OpBuilder &b, Location loc, const StagedLoad &staged,
                          ArrayRef<Value> indices, Value view) {
  auto c = [&](int64_t v) { return indexConstant(b, loc, v); };
  Type element = staged.load.getType().getElementType();
  FlatView global = flatten(b, loc, staged.load.getBase());
  Value base = memref::ExtractAlignedPointerAsIndexOp::create(b, loc, staged.load.getBase());
  auto isMultiple = [&](Value v, int64_t of) { return isMultipleOf(b, loc, v, of); };
  size_t rank = indices.size();
  Value aligned = isMultiple(base, 16);
  SmallVector<Value> multiplesOf8{global.offset, indices[rank - 1]};
  multiplesOf8.append(global.strides.begin(), global.strides.end() - 1);
  for (Value v : multiplesOf8)
    aligned = arith::AndIOp::create(b, loc, aligned, isMultiple(v, kCopyElements));
  // The leading (unit) dimensions: their offset and whether inside.
  Value leadingOffset = global.offset;
  Value leadingInside = arith::ConstantIntOp::create(b, loc, 1, 1);
  for (size_t d = 0; d + 2 < rank; ++d) {
    leadingOffset = arith::AddIOp::create(
        b, loc, leadingOffset, arith::MulIOp::create(b, loc, indices[d], global.strides[d]));
    leadingInside = arith::AndIOp::create(
        b, loc, leadingInside,
        arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, indices[d], global.sizes[d]));
  }
  int64_t perRow = staged.columns / kCopyElements;
  int64_t chunks = staged.rows * perRow;
  int64_t threads = layout.threads;
  Value tid = gpu::ThreadIdOp::create(b, loc, gpu::Dimension::x);

  // Chunks first + t of one round; `partial` when some may be past the
  // tile.
  auto copyRound = [&](OpBuilder &bb, Value first, bool partial, bool async) {
    Value chunk = arith::AddIOp::create(bb, loc, tid, first);
    OpBuilder::InsertionGuard guard(bb);
    if (partial) {
      Value exists = arith::CmpIOp::create(bb, loc, arith::CmpIPredicate::ult, chunk,
                                           c(chunks));
      auto inside = scf::IfOp::create(bb, loc, exists, /*withElseRegion=*/false);
      bb.setInsertionPoint(inside.thenBlock()->getTerminator());
    }
    Value row = arith::DivUIOp::create(bb, loc, chunk, c(perRow));
    Value column = arith::MulIOp::create(
        bb, loc, arith::RemUIOp::create(bb, loc, chunk, c(perRow)), c(kCopyElements));
    Value globalRow = arith::AddIOp::create(bb, loc, indices[rank - 2], row);
    Value globalColumn = arith::AddIOp::create(bb, loc, indices[rank - 1], column);
    // Elements of this chunk inside the buffer (unsigned compares: a
    // "negative" position is outside).
    Value rowInside = arith::CmpIOp::create(bb, loc, arith::CmpIPredicate::ult,
                                            globalRow, global.sizes[rank - 2]);
    Value columnInside = arith::CmpIOp::create(bb, loc, arith::CmpIPredicate::ult,
                                               globalColumn, global.sizes[rank - 1]);
    Value left = arith::MinUIOp::create(
        bb, loc, arith::SubIOp::create(bb, loc, global.sizes[rank - 1], globalColumn),
        c(kCopyElements));
    Value inside = arith::AndIOp::create(
        bb, loc, leadingInside, arith::AndIOp::create(bb, loc, rowInside, columnInside));
    Value valid = arith::SelectOp::create(bb, loc, inside, left, c(0));
    // A chunk with nothing to read points at the buffer's first element.
    Value source = arith::AddIOp::create(
        bb, loc, leadingOffset,
        arith::AddIOp::create(
            bb, loc, arith::MulIOp::create(bb, loc, globalRow, global.strides[rank - 2]),
            globalColumn));
    Value any = arith::CmpIOp::create(bb, loc, arith::CmpIPredicate::ne, valid, c(0));
    source = arith::SelectOp::create(bb, loc, any, source, global.offset);
    Value target = staged.target(bb, loc, row, column);
    if (async) {
      copies.copy(bb, loc, view, target, global.flat, source, kCopyElements, valid);
      return;
    }
    auto lanes = VectorType::get({kCopyElements}, bb.getIndexType());
    SmallVector<int64_t> iota(kCopyElements);
    for (int64_t e = 0; e < kCopyElements; ++e)
      iota[e] = e;
    Value offsets = arith::ConstantOp::create(bb, loc, lanes, bb.getIndexVectorAttr(iota));
    Value mask = arith::CmpIOp::create(bb, loc, arith::CmpIPredicate::ult, offsets,
                                       vector::BroadcastOp::create(bb, loc, lanes, valid));
    Value addresses = arith::AddIOp::create(
        bb, loc, vector::BroadcastOp::create(bb, loc, lanes, source), offsets);
    auto type = VectorType::get({kCopyElements}, element);
    Value zeros = arith::ConstantOp::create(bb, loc, type, bb.getZeroAttr(type));
    Value values = vector::GatherOp::create(bb, loc, type, global.flat,
                                            ValueRange{c(0)}, addresses, mask, zeros);
    vector::StoreOp::create(bb, loc, values, view, ValueRange{target});
  };
  // Unrolled, except where tensor copies fill the slots: there these
  // copies are the fallback for buffers the host cannot describe, and a
  // loop over the rounds keeps their addresses out of the registers the
  // tensor-copy path holds across the K loop (64x256x64 tiles spilled).
  auto copyAll = [&](OpBuilder &bb, bool async) {
    if (tensorMode && chunks > threads) {
      scf::ForOp::create(bb, loc, c(0), c(chunks), c(threads), ValueRange{},
                         [&](OpBuilder &body, Location, Value first, ValueRange) {
                           copyRound(body, first, chunks % threads != 0, async);
                           scf::YieldOp::create(body, loc);
                         });
      return;
    }
    for (int64_t first = 0; first < chunks; first += threads)
      copyRound(bb, c(first), first + threads > chunks, async);
  };
  scf::IfOp::create(
      b, loc, aligned,
      [&](OpBuilder &bb, Location) {
        copyAll(bb, true);
        scf::YieldOp::create(bb, loc);
      },
      [&](OpBuilder &bb, Location) {
        copyAll(bb, false);
        scf::YieldOp::create(bb, loc);
      });
}

void LoopStaging::findSlotOperands() {
  slotOperands.clear();
  for (tile::DotOp dot : dots)
    for (OpOperand &operand : dot->getOpOperands().take_front(2)) {
      if (std::optional<OperandSource> source = sourceOf(operand.get()))
        slotOperands[&operand] = {*source, false};
      else if (std::optional<OperandSource> source = invariantSourceOf(operand.get());
               source && pinned.contains(source->load))
        slotOperands[&operand] = {*source, true};
    }
}

bool LoopStaging::dotsCanStayInFlight() {
  if (!matrixCores.leavesDotsInFlight())
    return false;
  findSlotOperands();
  return llvm::all_of(dots, [&](tile::DotOp dot) {
    for (OpOperand &operand : dot->getOpOperands().take_front(2)) {
      auto found = slotOperands.find(&operand);
      if (found == slotOperands.end() ||
          stagedLoadOf(found->second).layout == SharedLayout::Rows)
        return false;
    }
    auto acc = dyn_cast<BlockArgument>(dot.getAcc());
    if (!acc || acc.getOwner() != loop.getBody() || acc.getArgNumber() == 0 ||
        !acc.hasOneUse() || !dot->hasOneUse())
      return false;
    OpOperand &use = *dot->getUses().begin();
    return use.getOwner() == loop.getBody()->getTerminator() &&
           use.getOperandNumber() == acc.getArgNumber() - 1;
  });
}

bool LoopStaging::canSpecializeWarps() {
  // Whole consumer warpgroups (setmaxnreg is per warpgroup), one or two
  // (wgmma's tiles), which the register split below is made for.
  if (!tensorMode || layout.threads % 128 != 0 || layout.threads > 256)
    return false;
  Block *entry = &loop->getParentOfType<gpu::GPUFuncOp>().getBody().front();
  if (loop->getBlock() != entry)
    return false;
  // A pinned operand's load (attention's Q) goes: its slot is filled by
  // the consumers, and the load is erased, when its views feed the dots
  // only.
  auto replacedBySlot = [&](Operation *op) {
    if (!pinned.contains(op))
      return false;
    SmallVector<Operation *> users(op->getUsers());
    while (!users.empty()) {
      Operation *user = users.pop_back_val();
      if (isa<tile::TransposeOp, tile::ReshapeOp>(user))
        llvm::append_range(users, user->getUsers());
      else if (!llvm::is_contained(dots, user))
        return false;
    }
    return true;
  };
  // The ops before the loop run on the producer's threads too, which the
  // layout has no place for: pure ops that exchange nothing (an exchange
  // would meet at barriers with threads outside the layout).
  for (Operation *op = &entry->front(); op != loop.getOperation(); op = op->getNextNode()) {
    if (replacedBySlot(op))
      continue;
    bool exchanges = false;
    op->walk([&](Operation *inner) {
      exchanges |= exchangeBytes(inner, layout, &matrixCores) != 0;
    });
    if (!isMemoryEffectFree(op) || exchanges)
      return false;
  }
  return true;
}

int64_t LoopStaging::apply(Value workspaceValue, int64_t stages, int64_t inFlight) {
  workspace = workspaceValue;
  stageCount = stages;
  Location loc = loop.getLoc();
  OpBuilder b(loop);
  auto c = [&](int64_t v) { return indexConstant(b, loc, v); };

  // Prologue: earlier users of the workspace are done; the pinned
  // operands and iterations 0 .. S-2 into their slots, a group each (the
  // pinned ones in the first). Tensor copies: every thread's earlier
  // accesses to the workspace are fenced before the copies that write it;
  // after that barrier (the barriers' memory may have been another
  // exchange's), thread 0 makes the stages' barriers and acquires the
  // host's maps, and a second barrier shows the barriers to every
  // thread's waits.
  // Where each dot operand comes from (a staged load, or a pinned one),
  // found now: the prologue goes between a pinned load and the loop, and
  // its barrier and copies would hide the load from invariantSourceOf.
  findSlotOperands();
  if (tensorMode) {
    useTensorCopies = tensorCopiesUsable(b, loc);
    tensorCopies->fenceBeforeCopies(b, loc);
  }
  gpu::BarrierOp::create(b, loc);
  if (tensorMode) {
    {
      OpBuilder::InsertionGuard guard(b);
      onThread0(b, loc, useTensorCopies);
      // A full barrier completes with its stage's copies (one arrival:
      // the thread that issues them); an empty one (warp-specialized)
      // when every consumer warp released the stage.
      for (int64_t s = 0; s < stages; ++s)
        tensorCopies->initBarrier(b, loc, barrierAddress(b, loc, c(s)), 1);
      if (warpSpecialized)
        for (int64_t s = 0; s < stages; ++s)
          tensorCopies->initBarrier(b, loc, barrierAddress(b, loc, c(stages + s)),
                                    layout.threads / 32);
      // (Warp-specialized, the producer's thread, which issues the
      // copies, acquires the maps itself.)
      if (!warpSpecialized)
        acquireMaps(b, loc);
      tensorCopies->fenceBeforeCopies(b, loc);
    }
    gpu::BarrierOp::create(b, loc);
  }
  // (Warp-specialized, the consumers fill the pinned slots.)
  if (!warpSpecialized)
    fillPinned(b, loc);
  // With dots left in flight (one group each step), the slot a step
  // refills is the one read two steps before, whose dots the previous
  // step's wait retired: fills run `distance` = S - 2 iterations ahead
  // (the caller gave such a loop one more stage).
  int64_t distance = stages - 1 - inFlight;
  if (warpSpecialized) {
    specializeLoop(b, loc, stages, inFlight, distance);
  } else {
    fillFirst(b, loc, distance, /*ownCopies=*/false);

    // Each step: its group landed and every thread is past the previous
    // step's reads; then the slot read one step ago is refilled ahead.
    b.setInsertionPointToStart(loop.getBody());
    Value iteration = iterationOf(b, loc, loop.getInductionVar());
    Value slot = arith::RemUIOp::create(b, loc, iteration, c(stages));
    if (tensorMode) {
      byCopyKind(
          b, loc, [&] { waitForStage(b, loc, iteration, slot); },
          [&] { waitForCopies(b, loc, distance); });
    } else {
      waitForCopies(b, loc, distance);
    }
    refillAhead(b, loc, iteration, distance, /*ownCopies=*/false);
    readSlots(b, slot, inFlight);
  }

  // Nothing is left in flight after the loop (the last groups are empty).
  b.setInsertionPointAfter(loop);
  if (inFlight) {
    // The accumulators are read (and the slots reused) once the dots are
    // done: the wait goes after the loop when it is lowered.
    SmallVector<int64_t> accumulators;
    for (tile::DotOp dot : dots)
      accumulators.push_back(cast<BlockArgument>(dot.getAcc()).getArgNumber() - 1);
    loop->setAttr(kMatrixCoresDoneAttrName, b.getDenseI64ArrayAttr(accumulators));
  }
  copies.wait(b, loc, 0);
  if (tensorMode) {
    // Every thread is past its last wait before thread 0 invalidates the
    // barriers (their memory is the workspace's again).
    gpu::BarrierOp::create(b, loc);
    OpBuilder::InsertionGuard guard(b);
    onThread0(b, loc, useTensorCopies);
    for (int64_t s = 0; s < stages * barriersPerStage(); ++s)
      tensorCopies->invalidateBarrier(b, loc, barrierAddress(b, loc, c(s)));
  }
  return base + stages * (slotBytes + barriersPerStage() * kBarrierBytes) + pinnedBytes;
}

void LoopStaging::guarded(OpBuilder &b, Location loc, Value iv, function_ref<void()> body) {
  Value before = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt, iv,
                                       loop.getUpperBound());
  auto inside = scf::IfOp::create(b, loc, before, /*withElseRegion=*/false);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPoint(inside.thenBlock()->getTerminator());
  body();
}

void LoopStaging::waitForCopies(OpBuilder &b, Location loc, int64_t distance) {
  copies.wait(b, loc, distance - 1);
  auto readByMatrixCores = [](auto &entry) {
    return entry.second.layout != SharedLayout::Rows;
  };
  if (llvm::any_of(loads, readByMatrixCores) || llvm::any_of(pinned, readByMatrixCores))
    copies.fenceForMatrixCores(b, loc);
}

void LoopStaging::acquireMaps(OpBuilder &b, Location loc) {
  for (auto &entryOfLoad : loads)
    tensorCopies->acquireMap(b, loc, mapAddress(b, loc, entryOfLoad.second));
}

void LoopStaging::fillPinned(OpBuilder &b, Location loc) {
  for (auto &entry : pinned) {
    const StagedLoad &staged = entry.second;
    SmallVector<Value> indices(staged.load.getIndices());
    fillOne(b, loc, staged, indices, slotView(b, loc, staged, Value()));
  }
  if (tensorMode && !pinned.empty()) {
    // The loop waits on the stages' barriers, not on copy groups: the
    // pinned copies land now (the loop's first barrier publishes them).
    copies.commit(b, loc);
    copies.wait(b, loc, 0);
    copies.fenceForMatrixCores(b, loc);
  }
}

Value LoopStaging::iterationOf(OpBuilder &b, Location loc, Value iv) {
  return arith::DivUIOp::create(
      b, loc, arith::SubIOp::create(b, loc, iv, loop.getLowerBound()), loop.getStep());
}

void LoopStaging::fillFirst(OpBuilder &b, Location loc, int64_t distance, bool ownCopies) {
  for (int64_t j = 0; j < distance; ++j) {
    Value c = indexConstant(b, loc, j);
    Value iv = arith::AddIOp::create(b, loc, loop.getLowerBound(),
                                     arith::MulIOp::create(b, loc, loop.getStep(), c));
    guarded(b, loc, iv, [&] { ownCopies ? fillEach(b, loc, iv, c) : fill(b, loc, iv, c); });
    copies.commit(b, loc);
  }
}

void LoopStaging::waitForStage(OpBuilder &b, Location loc, Value iteration, Value slot) {
  // Slot s holds iterations s, s + S, ...: phase i / S of its barrier.
  tensorCopies->waitBarrier(
      b, loc, barrierAddress(b, loc, slot),
      parityOf(b, loc,
               arith::DivUIOp::create(b, loc, iteration, indexConstant(b, loc, stageCount))));
}

void LoopStaging::refillAhead(OpBuilder &b, Location loc, Value iteration, int64_t distance,
                              bool ownCopies) {
  auto c = [&](int64_t v) { return indexConstant(b, loc, v); };
  gpu::BarrierOp::create(b, loc);
  Value ahead = arith::AddIOp::create(
      b, loc, loop.getInductionVar(), arith::MulIOp::create(b, loc, loop.getStep(), c(distance)));
  Value aheadSlot = arith::RemUIOp::create(
      b, loc, arith::AddIOp::create(b, loc, iteration, c(distance)), c(stageCount));
  guarded(b, loc, ahead, [&] {
    ownCopies ? fillEach(b, loc, ahead, aheadSlot) : fill(b, loc, ahead, aheadSlot);
  });
  copies.commit(b, loc);
}

Value LoopStaging::parityOf(OpBuilder &b, Location loc, Value phase) {
  return arith::TruncIOp::create(
      b, loc, b.getI1Type(), arith::IndexCastUIOp::create(b, loc, b.getI64Type(), phase));
}

/// Warp specialization (FlashAttention 3's and CUTLASS's producer and
/// consumers): one more warpgroup, the producer, issues every tensor
/// copy (one of its threads), each into a slot its consumers released,
/// while the layout's threads (the consumers) only wait for each stage's
/// copies and compute:
///
///   all:       barrier; thread 0 makes the full and empty barriers; barrier
///   producer:  for i: wait empty[i % S] phase i / S - 1 (none yet for
///                     i < S); copy iteration i into slot i % S on full
///   consumers: for i: wait full[i % S] phase i / S; dots (leaving
///                     `inFlight` groups running); each warp releases the
///                     slot whose dots just retired (i - inFlight) on
///                     empty, once all its lanes are past the wait
///              (the rest of the kernel)
///
/// No barrier of the block in the loop: a consumer warpgroup waits for
/// data only, never for the other warpgroup or for a copy being issued.
/// Without tensor maps (a buffer the host cannot describe) the producer
/// does nothing and the consumers fill the slots themselves as
/// without specialization. Barriers after the split are for the consumers
/// only (finishWarpSpecialization).
void LoopStaging::specializeLoop(OpBuilder &b, Location loc, int64_t stages, int64_t inFlight,
                                 int64_t distance) {
  auto c = [&](int64_t v) { return indexConstant(b, loc, v); };
  int64_t consumers = layout.threads;
  Value lb = loop.getLowerBound(), ub = loop.getUpperBound(), step = loop.getStep();
  Value tid = gpu::ThreadIdOp::create(b, loc, gpu::Dimension::x);
  auto roles = scf::IfOp::create(
      b, loc, arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, tid, c(consumers)),
      /*withElseRegion=*/true);
  roles->setAttr(kConsumerThreadsAttrName, b.getI64IntegerAttr(consumers));
  // (Only where each step waits for its own products, attention's: a
  // matmul's warpgroups have nothing to do between their products.)
  if (alternateWarpgroups && consumers == 256 && inFlight == 0)
    loop->setAttr(kWarpgroupPingPongAttrName, b.getI64IntegerAttr(consumers));
  // The block's registers shared out: ptxas gives every thread the even
  // share at the entry (a multiple of 8, one block per multiprocessor);
  // the producer warpgroup needs few, and the consumers take what it
  // gives back (CUTLASS's 40 and 232 for two consumer warpgroups).
  int64_t threads = consumers + kProducerThreads;
  int64_t atEntry =
      std::min<int64_t>(255, tensorCopies->registersPerMultiprocessor() / threads) / 8 * 8;
  int64_t consumerRegisters = std::min<int64_t>(
      kMostConsumerRegisters,
      (atEntry * threads - kProducerThreads * kProducerRegisters) / consumers / 8 * 8);
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(roles.thenBlock());
    tensorCopies->setRegisters(b, loc, consumerRegisters, /*increase=*/true);
    b.setInsertionPointToStart(roles.elseBlock());
    tensorCopies->setRegisters(b, loc, kProducerRegisters, /*increase=*/false);
  }
  // The consumers run the loop and everything after it.
  Block *entry = loop->getBlock();
  Block *consumer = roles.thenBlock();
  consumer->getOperations().splice(consumer->getTerminator()->getIterator(),
                                   entry->getOperations(), loop->getIterator(),
                                   entry->getTerminator()->getIterator());

  // The producer: one thread of the extra warpgroup.
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPoint(roles.elseBlock()->getTerminator());
    Value first = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, tid, c(consumers));
    auto producer = scf::IfOp::create(b, loc, arith::AndIOp::create(b, loc, first,
                                                                     useTensorCopies),
                                      /*withElseRegion=*/false);
    b.setInsertionPoint(producer.thenBlock()->getTerminator());
    acquireMaps(b, loc);
    scf::ForOp::create(
        b, loc, lb, ub, step, ValueRange{},
        [&](OpBuilder &body, Location, Value iv, ValueRange) {
          Value iteration = iterationOf(body, loc, iv);
          Value slot = arith::RemUIOp::create(body, loc, iteration, c(stages));
          // Its consumers' release of iteration i - S: phase i / S - 1 of
          // the empty barrier, whose parity for i < S is the phase before
          // the first, complete from the start.
          Value round = arith::DivUIOp::create(body, loc, iteration, c(stages));
          tensorCopies->waitBarrier(
              body, loc, barrierAddress(body, loc, arith::AddIOp::create(body, loc, slot,
                                                                          c(stages))),
              parityOf(body, loc, arith::AddIOp::create(body, loc, round, c(1))));
          copyTiles(body, loc, iv, slot, /*onAnyThread=*/true);
          scf::YieldOp::create(body, loc);
        });
  }

  // The consumers fill the pinned slots (with the block's layout, which
  // has no place for the producer's threads) and show them to each other
  // (the loop has no barrier on the tensor-copy path).
  b.setInsertionPoint(loop);
  if (!pinned.empty()) {
    fillPinned(b, loc);
    gpu::BarrierOp::create(b, loc);
  }
  // The consumers' fallback prologue: their own copies of the first
  // iterations, when there are no tensor maps.
  Value noMaps = arith::XOrIOp::create(b, loc, useTensorCopies,
                                       arith::ConstantIntOp::create(b, loc, 1, 1));
  {
    OpBuilder::InsertionGuard guard(b);
    auto own = scf::IfOp::create(b, loc, noMaps, /*withElseRegion=*/false);
    b.setInsertionPoint(own.thenBlock()->getTerminator());
    fillFirst(b, loc, distance, /*ownCopies=*/true);
  }

  // Each consumer step: the stage's copies landed (or, without maps, the
  // pipeline as without specialization), the dots read its slot.
  b.setInsertionPointToStart(loop.getBody());
  Value iteration = iterationOf(b, loc, loop.getInductionVar());
  Value slot = arith::RemUIOp::create(b, loc, iteration, c(stages));
  byCopyKind(
      b, loc, [&] { waitForStage(b, loc, iteration, slot); },
      [&] {
        waitForCopies(b, loc, distance);
        refillAhead(b, loc, iteration, distance, /*ownCopies=*/true);
      });
  readSlots(b, slot, inFlight);

  // The release, after the dots (whose wait_group comes first: an op with
  // regions stops a wait's descent, placeWarpgroupMmaWaits): the slot of
  // iteration i - inFlight, whose group every lane of the warp has
  // retired once they all reach the warp barrier.
  b.setInsertionPoint(loop.getBody()->getTerminator());
  Value release = useTensorCopies;
  if (inFlight)
    release = arith::AndIOp::create(
        b, loc, release,
        arith::CmpIOp::create(b, loc, arith::CmpIPredicate::uge, iteration, c(inFlight)));
  auto releasing = scf::IfOp::create(b, loc, release, /*withElseRegion=*/false);
  b.setInsertionPoint(releasing.thenBlock()->getTerminator());
  Value released = arith::RemUIOp::create(
      b, loc, arith::SubIOp::create(b, loc, iteration, c(inFlight)), c(stages));
  tensorCopies->syncWarp(b, loc);
  Value lane0 = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq,
                                      arith::RemUIOp::create(b, loc, tid, c(32)), c(0));
  auto signalling = scf::IfOp::create(b, loc, lane0, /*withElseRegion=*/false);
  b.setInsertionPoint(signalling.thenBlock()->getTerminator());
  tensorCopies->arrive(
      b, loc, barrierAddress(b, loc, arith::AddIOp::create(b, loc, released, c(stages))));
}

void LoopStaging::readSlots(OpBuilder &b, Value slot, int64_t inFlight) {
  // The dots read this step's slots and the pinned ones.
  for (tile::DotOp dot : dots) {
    b.setInsertionPoint(dot);
    if (inFlight)
      dot->setAttr(kDotsInFlightAttrName, b.getI64IntegerAttr(inFlight));
    for (unsigned i = 0; i < 2; ++i) {
      Value operand = dot->getOperand(i);
      auto found = slotOperands.find(&dot->getOpOperand(i));
      if (found == slotOperands.end())
        continue; // published by the dot itself
      const OperandSource *source = &found->second.source;
      bool isPinned = found->second.pinned;
      const StagedLoad &staged = stagedLoadOf(found->second);
      SmallVector<NamedAttribute> fields{
          b.getNamedAttr("row_length", b.getI64IntegerAttr(staged.rowLength())),
          b.getNamedAttr("transposed", b.getBoolAttr(source->transposed)),
          b.getNamedAttr("core_matrices",
                         b.getBoolAttr(staged.layout == SharedLayout::CoreMatrices))};
      if (staged.layout == SharedLayout::SwizzledRows)
        fields.push_back(
            b.getNamedAttr("swizzle_bytes", b.getI64IntegerAttr(staged.swizzleBytes)));
      auto info = b.getDictionaryAttr(fields);
      auto marker = UnrealizedConversionCastOp::create(
          b, dot.getLoc(), operand.getType(),
          slotView(b, dot.getLoc(), staged, isPinned ? Value() : slot));
      marker->setAttr(kStagedOperandAttrName, info);
      dot->setOperand(i, marker.getResult(0));
    }
  }
  // The transposes and reshapes (users first), then the loads, are dead.
  SmallVector<Operation *> views;
  for (Operation &op : loop.getBody()->without_terminator())
    if (isa<tile::TransposeOp, tile::ReshapeOp>(op))
      views.push_back(&op);
  for (Operation *op : llvm::reverse(views))
    if (op->use_empty())
      op->erase();
  for (auto &entry : loads)
    entry.first->erase();

  // The pinned operands' loads (and views) outside the loop, unless used
  // elsewhere.
  for (auto &entry : pinned) {
    // The load, the views of it, the views of those: users last.
    llvm::SetVector<Operation *> chain;
    chain.insert(entry.first);
    for (size_t i = 0; i < chain.size(); ++i)
      for (Operation *user : chain[i]->getUsers())
        if (isa<tile::TransposeOp, tile::ReshapeOp>(user))
          chain.insert(user);
    for (Operation *op : llvm::reverse(chain))
      if (op->use_empty())
        op->erase();
  }
}

} // namespace

Staging stageDotOperands(gpu::GPUFuncOp kernel, const Layout &layout,
                         const MatrixCoreLowering &matrixCores,
                         const AsyncCopyLowering &copies,
                         const TensorCopyLowering *tensorCopies,
                         int64_t sharedMemoryLimit, PipelineChoices choices) {
  Staging staging;
  Value workspace = workspaceOf(kernel);
  if (copies.stages() < 2 || !workspace)
    return staging;
  SmallVector<scf::ForOp> loops;
  kernel.walk([&](scf::ForOp loop) { loops.push_back(loop); });
  for (scf::ForOp loop : loops) {
    LoopStaging stagingOfLoop(loop, layout, matrixCores, copies, tensorCopies);
    if (!stagingOfLoop.plan())
      continue;
    bool specialized = choices.warpSpecialize > 0 && staging.producerThreads == 0 &&
                       stagingOfLoop.canSpecializeWarps();
    if (specialized)
      stagingOfLoop.specializeWarps(/*pingPong=*/choices.warpSpecialize == 2);
    // As deep as the shared memory allows; unstaged below two stages. Dots
    // left in flight keep a slot busy one step longer: such a loop gets
    // one more stage, and if that does not fit, its dots are waited for at
    // each step.
    int64_t fitting = (sharedMemoryLimit - stagingOfLoop.fixedBytes()) /
                      std::max<int64_t>(1, stagingOfLoop.bytesPerStage());
    int64_t stages, inFlight;
    if (choices.stages) {
      // The kernel's stages, as many as fit; dots in flight within them.
      stages = std::min(choices.stages, fitting);
      inFlight = choices.dotsInFlight != 0 && stages >= 3 &&
                         stagingOfLoop.dotsCanStayInFlight()
                     ? 1
                     : 0;
    } else {
      inFlight = choices.dotsInFlight != 0 && fitting > copies.stages() &&
                         stagingOfLoop.dotsCanStayInFlight()
                     ? 1
                     : 0;
      stages = std::min(copies.stages() + inFlight, fitting);
    }
    if (stages < 2)
      continue;
    if (stagingOfLoop.usesTensorCopies()) {
      // The kernel's tensor maps: one buffer argument after its own.
      if (staging.tensorMaps.empty()) {
        MLIRContext *context = kernel.getContext();
        // (Appending an argument to a gpu.func cannot fail.)
        (void)kernel.insertArgument(kernel.getNumArguments(),
                              MemRefType::get({ShapedType::kDynamic}, IntegerType::get(context, 8)),
                              DictionaryAttr::get(context), kernel.getLoc());
      }
      SmallVector<Attribute> maps = stagingOfLoop.tensorMaps(staging.tensorMaps.size());
      staging.tensorMaps.append(maps.begin(), maps.end());
      stagingOfLoop.setTensorMaps(kernel.getArgument(kernel.getNumArguments() - 1));
    }
    staging.bytes = std::max(staging.bytes, stagingOfLoop.apply(workspace, stages, inFlight));
    staging.stages = std::max(staging.stages, stages);
    if (specialized)
      staging.producerThreads = LoopStaging::kProducerThreads;
  }
  return staging;
}

void finishWarpSpecialization(gpu::GPUFuncOp kernel, const TensorCopyLowering &tensorCopies) {
  kernel.walk([&](scf::IfOp split) {
    auto consumers = split->getAttrOfType<IntegerAttr>(kConsumerThreadsAttrName);
    if (!consumers)
      return;
    split->removeAttr(kConsumerThreadsAttrName);
    SmallVector<gpu::BarrierOp> barriers;
    split.getThenRegion().walk([&](gpu::BarrierOp barrier) { barriers.push_back(barrier); });
    for (gpu::BarrierOp barrier : barriers) {
      OpBuilder b(barrier);
      tensorCopies.syncThreads(b, barrier.getLoc(), 1, consumers.getInt());
      barrier.erase();
    }
  });
}

} // namespace prism::gpu_lowering
