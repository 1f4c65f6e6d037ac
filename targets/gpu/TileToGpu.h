//===- TileToGpu.h - Tile kernels to GPU kernels, for every vendor -*- C++ -*-===//
//
// The GPU layout machinery the NVIDIA and AMD backends share. A tile kernel
// becomes a gpu.func kernel; one program instance is one thread block of
// `threads` threads. A tile of N elements is spread over the block
// element-wise: thread t holds elements t, t + T, t + 2T, ... as a vector,
// or, in kernels whose layout keeps runs of C contiguous elements
// (Layout::contiguous), runs tC .. tC + C - 1, then those plus CT, and so on,
// so that global and shared memory see whole 16-byte vectors.
// The layout is the same for every shape of a size, so reshape and
// expand_dims move nothing, elementwise ops are local, and global accesses
// to a row-major block are coalesced. Ops that change which thread needs
// which element (broadcast, transpose, reduce, dot) publish the tile to a
// shared-memory workspace between barriers and read it back; row
// reductions with few outputs use a group of threads per output and a
// tree. A vendor lowers suitable dots onto its matrix cores through
// MatrixCoreLowering; other dots are FMA loops over K.
//
//===----------------------------------------------------------------------===//

#ifndef PRISM_TARGETS_GPU_TILETOGPU_H
#define PRISM_TARGETS_GPU_TILETOGPU_H

#include "dialects/Tile/IR/TileOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Transforms/DialectConversion.h"

#include <string>

namespace prism::gpu_lowering {

/// Where each thread's elements of a tile are.
struct Layout {
  int64_t threads;
  /// Whether the target exchanges registers between the 32 lanes of a
  /// warp by xor shuffles (gpu.shuffle xor, width 32) in reductions.
  bool warpShuffles = false;
  /// The longest run of contiguous elements a thread holds (a power of
  /// two; 1: thread t holds t, t + T, ...). A tile of N elements takes
  /// runsOf(N): the longest run up to this that divides it evenly.
  int64_t contiguous = 1;

  /// Contiguous elements per run of a tile of `n` elements: the largest
  /// power of two C <= `contiguous` with n a multiple of C * threads, so
  /// that every thread holds whole runs (1 if there is none).
  int64_t runsOf(int64_t n) const;
  /// The flat row-major indices of the elements this thread holds: with
  /// runs of C = runsOf(n), element j of the thread is
  /// (j / C) * C * T + t * C + j % C.
  mlir::Value owned(mlir::OpBuilder &b, mlir::Location loc, int64_t n) const;
  /// Which of those exist (the last lanes of the last threads may not).
  mlir::Value ownedMask(mlir::OpBuilder &b, mlir::Location loc, mlir::Value flat,
                        int64_t n) const;
};

int64_t numElements(mlir::ShapedType type);
int64_t alignTo16(int64_t bytes);
/// Bytes of one element of `element` in shared memory (i1 as i8, index as i64).
int64_t storageBytes(mlir::Type element);
/// Whether the index `v` is a multiple of `of` (an i1).
mlir::Value isMultipleOf(mlir::OpBuilder &b, mlir::Location loc, mlir::Value v, int64_t of);
/// A vector<lanes x index> filled with `scalar`.
mlir::Value splatIndex(mlir::OpBuilder &b, mlir::Location loc, mlir::Value scalar,
                       int64_t lanes);
/// A vector<lanes x i1> of trues (every lane of a gather or scatter).
mlir::Value allLanes(mlir::OpBuilder &b, mlir::Location loc, int64_t lanes);
/// The kernel's shared-memory workspace: its workgroup buffer, or the view
/// of its dynamic shared memory (marked kWorkspaceAttrName).
mlir::Value workspaceOf(mlir::gpu::GPUFuncOp kernel);
constexpr llvm::StringLiteral kWorkspaceAttrName = "prism.workspace";
/// The kernel's shared-memory workspace, viewed as `count` elements of
/// `element` from `byteOffset`.
mlir::Value workspaceView(mlir::OpBuilder &b, mlir::Operation *user,
                          int64_t byteOffset, mlir::Type element, int64_t count);
/// Elements `indices` (masked) of a published tile.
mlir::Value readPublished(mlir::OpBuilder &b, mlir::Location loc, mlir::Value view,
                          mlir::Value indices, mlir::Value mask, mlir::Type element);

class MatrixCoreLowering;

/// Whether a tile type is in the matrix cores' fragment layout.
bool inFragments(mlir::Type type);
/// Whether a tile type is in the rows layout of fragments (see
/// MatrixCoreLowering::fragmentRows).
bool inFragmentRows(mlir::Type type);
/// Bytes of shared memory an op's exchange needs (0 if it needs none).
int64_t exchangeBytes(mlir::Operation *op, const Layout &layout,
                      const MatrixCoreLowering *matrixCores);

/// Spreads `tiles` matrix-core tiles round-robin over `groups` warps or
/// waves: for each round, `body(tileIndex)` is emitted inside an scf.if on
/// tile group + round * groups existing (a group without a tile skips it;
/// there is no barrier inside).
void forEachGroupTile(mlir::OpBuilder &b, mlir::Location loc, mlir::Value group,
                      int64_t groups, int64_t tiles,
                      llvm::function_ref<void(mlir::Value tileIndex)> body);
/// After the groups wrote their C tiles to the published f32 `result`
/// ([m * n]): a barrier, then `acc` plus this thread's elements of it.
mlir::Value addPublishedResult(mlir::OpBuilder &b, mlir::Location loc,
                               const Layout &layout, mlir::Value result,
                               mlir::Value acc, int64_t count);

/// How a tile is stored in shared memory.
enum class SharedLayout {
  /// Row after row, each `rowLength` elements after the previous one.
  Rows,
  /// In 8 x 16-byte core matrices (NVIDIA's wgmma, no swizzling): rows r to
  /// r + 7 of 16-byte column group c form one core matrix of 128
  /// contiguous bytes (row by row); the core matrices of a row group follow
  /// each other along the row, and the row groups each other.
  CoreMatrices,
  /// Rows of the tile's own length in swizzled blocks (NVIDIA's TMA and
  /// wgmma swizzle modes of `swizzleBytes` S = 32, 64 or 128 bytes): the
  /// first S bytes of every row, row after row, then the next S bytes of
  /// every row, and so on; each block starts 1024-byte aligned in shared
  /// memory, and the 16-byte chunk at shared address o is stored at
  /// o XOR (((o >> 7) mod (S / 16)) << 4).
  SwizzledRows,
};

/// The shared-memory address of byte `offset` (an index) of a tile stored
/// as SwizzledRows with `swizzleBytes`, at the slot that holds it
/// (1024-byte aligned): the offset with the swizzle applied.
mlir::Value swizzledOffset(mlir::OpBuilder &b, mlir::Location loc, mlir::Value offset,
                           int64_t swizzleBytes);

/// Where a dot's operands are in shared memory: `a` holds A as [M, K] (or
/// [K, M] when `aTransposed`), `b` holds B as [K, N] (or [N, K] when
/// `bTransposed`), each row of the stored tile `aRowLength` / `bRowLength`
/// elements after the previous one (the stored tile's last dimension, plus
/// the padding of staged operands), or in core matrices or swizzled rows
/// (each operand as its own layout says).
struct SharedOperands {
  mlir::Value a, b;
  int64_t aRowLength, bRowLength;
  bool aTransposed, bTransposed;
  SharedLayout aLayout = SharedLayout::Rows, bLayout = SharedLayout::Rows;
  /// The swizzle spans of SharedLayout::SwizzledRows (bytes).
  int64_t aSwizzleBytes = 0, bSwizzleBytes = 0;
  /// Whether the matrix cores read the operands from shared memory
  /// themselves (neither is in padded rows).
  bool readByMatrixCores() const {
    return aLayout != SharedLayout::Rows && bLayout != SharedLayout::Rows;
  }
};

/// How the fragment layout holds the rows of m-row tiles, when each row's
/// elements are held by one group of consecutive lanes whatever the number
/// of columns (NVIDIA's quads with one warp per 16 rows).
struct FragmentRows {
  /// Rows each thread holds (the length of a row vector in the rows layout).
  int64_t perThread;
  /// Consecutive lanes that share each of those rows: a row reduction
  /// combines their partials by xor shuffles over this many lanes.
  int64_t lanesPerRow;
};

/// A vendor's lowering of tile.dot onto matrix cores.
class MatrixCoreLowering {
public:
  virtual ~MatrixCoreLowering();
  /// Whether this dot runs on matrix cores.
  virtual bool supports(tile::DotOp dot) const = 0;
  /// The threads a block should have for `dot` to run its best way when
  /// the lowering's default is `threads` (more warps for tiles the matrix
  /// cores split into more warps' rows); a kernel gets the most that its
  /// dots ask for. The default by default.
  virtual int64_t threadsFor(tile::DotOp dot, int64_t threads) const { return threads; }
  /// Marks the dialects of the intrinsics `emit` creates legal.
  virtual void addLegalDialects(mlir::ConversionTarget &target) const = 0;
  /// Emits `acc + lhs * rhs` and returns it in the element-wise layout.
  /// The operands are in shared memory as `operands` says (in rows); the
  /// workspace from `resultOffset` holds M * N f32 for the result.
  virtual mlir::Value emit(mlir::ConversionPatternRewriter &rewriter,
                           tile::DotOp dot, const Layout &layout,
                           const SharedOperands &operands, mlir::Value acc,
                           int64_t m, int64_t n, int64_t k,
                           int64_t resultOffset) const = 0;

  /// Whether the accumulator of `dot` can stay in the matrix cores'
  /// register layout (fragments) across the loop that carries it: each
  /// thread must hold as many fragment elements as element-wise ones (the
  /// converted vector type is the same), so that only the loop's entry
  /// and exit change layout. A lowering that says yes implements the two
  /// methods below.
  virtual bool keepsAccumulatorInFragments(tile::DotOp dot,
                                           const Layout &layout) const {
    return false;
  }
  /// `acc + lhs * rhs` with `acc` and the result in the fragment layout
  /// (operands in shared memory as `operands` says); no shared memory for
  /// the result.
  virtual mlir::Value emitOnFragments(mlir::ConversionPatternRewriter &rewriter,
                                      tile::DotOp dot, const Layout &layout,
                                      const SharedOperands &operands,
                                      mlir::Value acc, int64_t m, int64_t n,
                                      int64_t k) const;
  /// Whether `dot`, its result in fragments, can take A ([m, k], in the
  /// fragment layout: attention's P computed from the fragments of a
  /// product) straight from this thread's registers, B being in shared
  /// memory stored as `bLayout` (transposed: [N, K]). Then nothing of A
  /// goes through shared memory, and no barrier is needed for it.
  virtual bool takesOperandAInFragments(tile::DotOp dot, const Layout &layout,
                                        SharedLayout bLayout, bool bTransposed) const {
    return false;
  }
  /// `acc + lhs * rhs` with A's fragments `a`, B in shared memory as
  /// `operands` says (its `a` is unused) and `acc` and the result in
  /// fragments; only where takesOperandAInFragments says yes.
  virtual mlir::Value emitOnFragmentsWithOperandAInFragments(
      mlir::ConversionPatternRewriter &rewriter, tile::DotOp dot, const Layout &layout,
      mlir::Value a, const SharedOperands &operands, mlir::Value acc, int64_t m,
      int64_t n, int64_t k) const;
  /// How the operands of `dot` are to be staged in shared memory (see
  /// StageDotOperands.h) given how they are stored; `emit` and
  /// `emitOnFragments` then read them so. CoreMatrices means the matrix
  /// cores read shared memory themselves: every operand of the dot in a
  /// slot (staged or pinned) gets it, an operand published by the dot
  /// itself is published in it, and SwizzledRows (what tensor copies
  /// write) is accepted for either operand as well.
  virtual SharedLayout stagedLayout(tile::DotOp dot, const Layout &layout,
                                    bool aTransposed, bool bTransposed) const {
    return SharedLayout::Rows;
  }
  /// Whether dots whose operands the matrix cores read from shared memory
  /// themselves (SharedOperands::readByMatrixCores) can be left in flight:
  /// such a dot with kDotsInFlightAttrName = N, its result in fragments,
  /// returns once its products are issued and at most N of the groups
  /// this thread issued are still running; waitForMatrixCores finishes
  /// them. (NVIDIA's wgmma.)
  virtual bool leavesDotsInFlight() const { return false; }
  /// Waits until every group of products this thread issued is done, and
  /// returns `results` (vectors of the registers that dots left in flight
  /// accumulate into) as read after the wait: uses of the returned values
  /// cannot be moved before it. The values as they are by default.
  virtual llvm::SmallVector<mlir::Value>
  waitForMatrixCores(mlir::OpBuilder &b, mlir::Location loc, mlir::ValueRange results) const {
    return llvm::SmallVector<mlir::Value>(results);
  }
  /// The initial values of those accumulators, as the loop is to take them
  /// (before it); the values as they are by default.
  virtual llvm::SmallVector<mlir::Value>
  pinAccumulatorsInFlight(mlir::OpBuilder &b, mlir::Location loc, mlir::ValueRange inits) const {
    return llvm::SmallVector<mlir::Value>(inits);
  }
  /// After a kernel's tile ops are lowered: the lowering's own fix-ups
  /// (NVIDIA: each wgmma's wait moved down to its result's first use, so
  /// that products run while the code between does). Nothing by default.
  virtual mlir::LogicalResult finishKernel(mlir::gpu::GPUFuncOp kernel) const {
    return mlir::success();
  }
  /// Orders this thread's ordinary writes to shared memory before reads by
  /// matrix cores that read it themselves (an operand published in
  /// SharedLayout::CoreMatrices), ahead of the barrier that publishes it.
  virtual void fenceWritesForMatrixCores(mlir::OpBuilder &b, mlir::Location loc) const {}
  /// The flat row-major positions in the [m, n] tile of the calling
  /// thread's fragment elements, in the order the fragment vector holds
  /// them (vector<count x index>).
  virtual mlir::Value fragmentPositions(mlir::OpBuilder &b, mlir::Location loc,
                                        const Layout &layout, int64_t m,
                                        int64_t n) const;

  /// Whether [m, n] tiles can take the fragment layout outside a dot's
  /// accumulator (a dot's product, values computed from it element-wise):
  /// the shape conditions of keepsAccumulatorInFragments.
  virtual bool fragmentLayoutFits(int64_t m, int64_t n, const Layout &layout) const {
    return false;
  }
  /// The rows layout of m-row tiles (kFragmentRowsEncoding), if every
  /// [m, n] tile in the fragment layout keeps each row in one group of
  /// lanes; then row reductions of fragments, the row vectors computed
  /// from them and the broadcasts of those back to [m, n] need no shared
  /// memory. None by default.
  virtual std::optional<FragmentRows> fragmentRows(int64_t m, const Layout &layout) const {
    return std::nullopt;
  }
  /// Which of the thread's rows (0 .. perThread - 1) fragment element
  /// `element` of an [m, n] tile is in (the same for every thread).
  virtual int64_t fragmentRowSlot(int64_t element, int64_t m, int64_t n) const;
  /// The indices of the calling thread's rows, in the order of its row
  /// vectors (vector<perThread x index>).
  virtual mlir::Value fragmentRowIndices(mlir::OpBuilder &b, mlir::Location loc,
                                         const Layout &layout, int64_t m) const;
};

/// On a tile.dot (set by the operand staging of a K loop, see
/// StageDotOperands.h): how many groups of products the dot may leave in
/// flight when it returns (MatrixCoreLowering::leavesDotsInFlight).
constexpr llvm::StringLiteral kDotsInFlightAttrName = "prism.dots_in_flight";
/// On a warp-specialized K loop (stageDotOperands) whose consumer
/// warpgroups should take turns at the matrix cores (FlashAttention 3's
/// ping-pong: one's products run while the other's softmax does): the
/// consumers' threads. The vendor's MatrixCoreLowering::finishKernel
/// orders them.
constexpr llvm::StringLiteral kWarpgroupPingPongAttrName = "prism.warpgroup_ping_pong";

/// On a K loop whose dots the operand staging left in flight: the loop
/// results that are their accumulators (an array of result numbers). Once
/// the loop is lowered, a wait (MatrixCoreLowering::waitForMatrixCores)
/// follows it and every use of those results reads them from the wait.
constexpr llvm::StringLiteral kMatrixCoresDoneAttrName = "prism.matrix_cores_done";

/// The encoding of a tile type whose value lives in the matrix cores'
/// fragment layout (set on a dot accumulator and the loop carrying it,
/// before the conversion; see lowerTileKernelsToGpu).
constexpr llvm::StringLiteral kFragmentsEncoding = "prism.mma_fragments";
/// The encoding of a row vector ([m] or [m, 1]) in the rows layout of
/// fragments (MatrixCoreLowering::fragmentRows): each thread holds the
/// values of the rows its fragment elements are in.
constexpr llvm::StringLiteral kFragmentRowsEncoding = "prism.mma_rows";

/// Before the conversion: gives the values of `function` the fragment
/// layouts where they save exchanges (FragmentLayouts.cpp).
void assignFragmentLayouts(mlir::func::FuncOp function, const Layout &layout,
                           const MatrixCoreLowering *matrixCores);

/// A vendor's asynchronous copies from global to shared memory (NVIDIA's
/// cp.async), used to stage the operands of K-loop dots in a multi-stage
/// pipeline (see StageDotOperands.h). Copies go into groups; a wait lets
/// at most `pendingGroups` of the committed groups still be in flight.
class AsyncCopyLowering {
public:
  virtual ~AsyncCopyLowering();
  /// Stages of the pipeline (slots of each staged operand).
  virtual int64_t stages() const = 0;
  /// Copies `elements` elements (16 bytes) from `global[globalIndex]` to
  /// `shared[sharedIndex]`; the elements from `validElements` on are
  /// zeros, not read. Both addresses are 16-byte aligned.
  virtual void copy(mlir::OpBuilder &b, mlir::Location loc, mlir::Value shared,
                    mlir::Value sharedIndex, mlir::Value global,
                    mlir::Value globalIndex, int64_t elements,
                    mlir::Value validElements) const = 0;
  /// Closes the group of the copies issued since the last commit.
  virtual void commit(mlir::OpBuilder &b, mlir::Location loc) const = 0;
  virtual void wait(mlir::OpBuilder &b, mlir::Location loc,
                    int64_t pendingGroups) const = 0;
  /// Makes this thread's landed copies visible to matrix cores that read
  /// shared memory themselves (SharedLayout::CoreMatrices), before the
  /// barrier that publishes them.
  virtual void fenceForMatrixCores(mlir::OpBuilder &b, mlir::Location loc) const {}
};

/// A vendor's tensor-copy engine (NVIDIA's TMA, cp.async.bulk.tensor): one
/// thread copies a whole box of a global tensor into shared memory, as a
/// tensor map built by the host describes it (out-of-bounds elements
/// zero-filled, SharedLayout::SwizzledRows), and the copy completes on a
/// barrier object in shared memory (mbarrier) that counts both arrivals
/// and the bytes copied. Addresses are byte addresses (index): `barrier`
/// and `shared` in shared memory, `map` in global memory.
class TensorCopyLowering {
public:
  virtual ~TensorCopyLowering();
  virtual void initBarrier(mlir::OpBuilder &b, mlir::Location loc, mlir::Value barrier,
                           int64_t arrivals) const = 0;
  virtual void invalidateBarrier(mlir::OpBuilder &b, mlir::Location loc,
                                 mlir::Value barrier) const = 0;
  /// Arrives on `barrier`, whose current phase then also waits for `bytes`
  /// more bytes of copies.
  virtual void arriveExpectingBytes(mlir::OpBuilder &b, mlir::Location loc,
                                    mlir::Value barrier, int64_t bytes) const = 0;
  /// Copies the box at `coordinates` (elements, innermost dimension first)
  /// of the tensor `map` describes to `shared`, completing on `barrier`.
  virtual void copyBox(mlir::OpBuilder &b, mlir::Location loc, mlir::Value shared,
                       mlir::Value map, mlir::ArrayRef<mlir::Value> coordinates,
                       mlir::Value barrier) const = 0;
  /// Waits until the phase of `barrier` with parity `parity` (i1) completed.
  virtual void waitBarrier(mlir::OpBuilder &b, mlir::Location loc, mlir::Value barrier,
                           mlir::Value parity) const = 0;
  /// Orders this thread's earlier ordinary accesses to shared memory before
  /// the copies that follow (which write it through another path).
  virtual void fenceBeforeCopies(mlir::OpBuilder &b, mlir::Location loc) const = 0;
  /// Makes the map at `map`, written by the host before the launch, visible
  /// to the copies this thread issues through it (once, before the first).
  virtual void acquireMap(mlir::OpBuilder &b, mlir::Location loc, mlir::Value map) const = 0;

  // Warp specialization (stageDotOperands): a producer warp copies, the
  // other threads (the consumers) compute and release the slots they read.
  /// One plain arrival on `barrier` (one of its phase's expected ones),
  /// ordering this thread's earlier accesses before what its waiters do.
  virtual void arrive(mlir::OpBuilder &b, mlir::Location loc, mlir::Value barrier) const = 0;
  /// Every lane of this thread's warp gets here before any goes on.
  virtual void syncWarp(mlir::OpBuilder &b, mlir::Location loc) const = 0;
  /// Barrier `id` (1 to 15) of the block's `threads` threads that reach it
  /// (the consumers), without the others (the producer warp).
  virtual void syncThreads(mlir::OpBuilder &b, mlir::Location loc, int64_t id,
                           int64_t threads) const = 0;
  /// This warpgroup's registers per thread from here on: `count` (a
  /// multiple of 8), more than at the launch (`increase`) or fewer.
  virtual void setRegisters(mlir::OpBuilder &b, mlir::Location loc, int64_t count,
                            bool increase) const = 0;
  /// 32-bit registers of a multiprocessor, which a block's warpgroups
  /// share out.
  virtual int64_t registersPerMultiprocessor() const = 0;
};

/// The argument a kernel with tensor copies gets after its buffers: a
/// buffer (memref<?xi8>) of kTensorMapBytes per map, built at each launch
/// by the runtime from the kernel's configuration (`tensor_maps` in
/// kKernelConfigsAttrName: for map i, {argument, box, swizzle_bytes}, the
/// box innermost dimension first). A map whose tensor the engine cannot
/// describe (base not 16-byte aligned, a stride not a positive multiple of
/// 16 bytes, an empty dimension) is left zero, and the kernel, testing the same
/// conditions, fills those slots by its own copies instead.
constexpr int64_t kTensorMapBytes = 128;
/// Alignment of the shared memory of a kernel with tensor copies: swizzled
/// slots start at multiples of it (a backend whose dynamic shared memory
/// is declared elsewhere aligns it so).
constexpr int64_t kSwizzleAlignment = 1024;

struct GpuLoweringOptions {
  /// Threads of a block, unless the kernel's dots ask for more
  /// (MatrixCoreLowering::threadsFor).
  int64_t threads = 128;
  /// Layout::warpShuffles.
  bool warpShuffles = false;
  /// Layout::contiguous of kernels without products or transposes (whose
  /// exchanges read other threads' elements of single rows and columns,
  /// which runs would spread over fewer shared-memory banks); the others
  /// keep 1.
  int64_t contiguous = 8;
  /// Bytes of static shared memory a block may use.
  int64_t sharedMemoryLimit = 48 * 1024;
  /// Bytes of dynamic shared memory a block may use (0: none): a kernel
  /// whose workspace exceeds the static limit gets it dynamically
  /// (gpu.dynamic_shared_memory; the runtime passes its size at launch).
  int64_t dynamicSharedMemoryLimit = 0;
  /// Null: every dot is an FMA loop.
  const MatrixCoreLowering *matrixCores = nullptr;
  /// Null: dot operands are published from registers at every K step.
  const AsyncCopyLowering *asyncCopies = nullptr;
  /// Null: staged operands are filled by asyncCopies only. Otherwise the
  /// loops whose operands the matrix cores read from shared memory
  /// themselves (MatrixCoreLowering::stagedLayout gives CoreMatrices) are
  /// filled by tensor copies where the buffers allow.
  const TensorCopyLowering *tensorCopies = nullptr;
};

/// The module attribute where the lowering records each kernel's launch
/// configuration: {name = {threads = T, shared_bytes = S, stages = P}}, plus
/// a unit dynamic_shared when the S bytes are dynamic shared memory, sized
/// at launch (stages: the depth of the kernel's operand pipeline, 1
/// without one), and tensor_maps when it takes tensor maps (see
/// kTensorMapBytes).
constexpr llvm::StringLiteral kKernelConfigsAttrName = "prism.kernel_configs";

/// Moves every tile.kernel function of `module` into `gpu.module
/// @prism_kernels` as a gpu.func kernel with a workgroup workspace, lowers
/// its tile ops, and records the launch configurations. Kernels whose
/// exchanges exceed the shared-memory limit are rejected with an error.
mlir::LogicalResult lowerTileKernelsToGpu(mlir::ModuleOp module,
                                          const GpuLoweringOptions &options);

} // namespace prism::gpu_lowering

#endif // PRISM_TARGETS_GPU_TILETOGPU_H
