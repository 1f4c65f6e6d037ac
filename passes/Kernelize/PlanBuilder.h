//===- PlanBuilder.h - One function's launch plan, op by op -----*- C++ -*-===//
//
// Kernelization walks each function of prism ops in order, giving every value
// a buffer: function inputs, fresh temporaries for op results, or views
// (reshape, transpose, broadcast) of another buffer. Each computing op (or
// prism.fusion) gets one kernel from the kernel library, specialized on the
// element types and on whether each memref argument has a unit innermost
// stride, and one launch.
//
// Shapes are symbolic: every dimension is `constant * product(input dims) /
// divisor`, which is enough for the dynamic dimensions of transformer graphs
// (batch, sequence) and for the reshapes between them.
//
// The builder's methods live in three files: PlanBuilder.cpp (buffers, views,
// the walk), OpPlans.cpp (one op, one kernel), FusionPlans.cpp (fusions).
//
//===----------------------------------------------------------------------===//

#ifndef PRISM_PASSES_KERNELIZE_PLANBUILDER_H
#define PRISM_PASSES_KERNELIZE_PLANBUILDER_H

#include "dialects/Prism/IR/PrismOps.h"
#include "passes/KernelLibrary/KernelBuilder.h"
#include "passes/KernelLibrary/KernelLibrary.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "llvm/ADT/StringMap.h"

#include <limits>
#include <optional>

namespace prism::kernelize {

using namespace mlir;

/// constant * product(input[i].dim[d]) / divisor.
struct DimExpr {
  int64_t constant = 1;
  int64_t divisor = 1;
  SmallVector<std::pair<int64_t, int64_t>> factors;

  static DimExpr of(int64_t value) { return DimExpr{value, 1, {}}; }
  /// This size divided by `n` (exact at run time: the verifier or the
  /// runtime's shape checks guarantee divisibility).
  DimExpr dividedBy(int64_t n) const {
    DimExpr result = *this;
    if (result.constant % n == 0)
      result.constant /= n;
    else
      result.divisor *= n;
    return result;
  }
  bool isConstant() const { return factors.empty() && divisor == 1; }
  bool operator==(const DimExpr &other) const {
    return constant == other.constant && divisor == other.divisor &&
           factors == other.factors;
  }
  DimExpr operator*(const DimExpr &other) const {
    DimExpr result{constant * other.constant, divisor * other.divisor,
                   factors};
    result.factors.append(other.factors.begin(), other.factors.end());
    llvm::sort(result.factors);
    return result;
  }
  Attribute toAttr(Builder &b) const {
    SmallVector<int64_t> flat = {constant, divisor};
    for (auto [input, dim] : factors) {
      flat.push_back(input);
      flat.push_back(dim);
    }
    return b.getDenseI64ArrayAttr(flat);
  }
};

enum class BufferKind { Input, Temporary, View };
enum class ViewKind { None, Reshape, Transpose, Broadcast };

struct BufferRecord {
  BufferRecord(BufferKind kind, Type elementType,
               SmallVector<DimExpr> shape = {})
      : kind(kind), elementType(elementType), shape(std::move(shape)) {}

  BufferKind kind;
  Type elementType;
  SmallVector<DimExpr> shape;
  int64_t inputIndex = -1;
  int64_t source = -1;
  ViewKind view = ViewKind::None;
  SmallVector<int64_t> permutation;
  /// Statically known layout facts, which select the kernel specialization.
  bool contiguous = true;
  bool unitInnermost = true;
};

class PlanBuilder {
public:
  PlanBuilder(ModuleOp module, func::FuncOp function,
              const kernels::TileSizes &sizes,
              llvm::StringMap<func::FuncOp> &kernelsByText)
      : module(module), function(function), sizes(sizes),
        builder(module.getContext()), kernelsByText(kernelsByText) {}

  LogicalResult build();

private:
  // Buffers.
  int64_t addBuffer(BufferRecord record) {
    records.push_back(std::move(record));
    return static_cast<int64_t>(records.size()) - 1;
  }
  SmallVector<DimExpr> shapeOf(Value value) const {
    return records[buffers.lookup(value)].shape;
  }
  FailureOr<int64_t> broadcastView(Operation *op, int64_t source,
                                   ArrayRef<DimExpr> target);
  int64_t transposeView(int64_t source, ArrayRef<int64_t> permutation);
  int64_t contiguousCopy(Operation *op, int64_t source);
  /// A reshape view of `source` (copied first if it is not contiguous).
  int64_t reshapeView(Operation *op, int64_t source, SmallVector<DimExpr> shape);
  /// The buffer for `result` (of `shape`): a new temporary, laid out so
  /// that the transpose which is its only use (keeping the innermost dim)
  /// reads it contiguously; the kernel then writes through a transposed view
  /// (`attention` followed by the [B, H, S, D] -> [B, S, H, D] transpose of
  /// multi-head outputs: no copy before the output projection).
  int64_t addResultBuffer(Value result, ArrayRef<DimExpr> shape) {
    Type element = cast<RankedTensorType>(result.getType()).getElementType();
    auto transpose = result.hasOneUse()
                         ? dyn_cast<TransposeOp>(*result.getUsers().begin())
                         : TransposeOp();
    int64_t output;
    if (transpose && !transpose.getPermutation().empty() &&
        transpose.getPermutation().back() ==
            static_cast<int64_t>(shape.size()) - 1) {
      ArrayRef<int64_t> permutation = transpose.getPermutation();
      SmallVector<DimExpr> transposed;
      SmallVector<int64_t> inverse(permutation.size());
      for (auto [i, p] : llvm::enumerate(permutation)) {
        transposed.push_back(shape[p]);
        inverse[p] = i;
      }
      output = transposeView(addTemporary(element, transposed), inverse);
    } else {
      output = addTemporary(element, SmallVector<DimExpr>(shape.begin(), shape.end()));
    }
    buffers[result] = output;
    return output;
  }
  int64_t addTemporary(Type elementType, SmallVector<DimExpr> shape) {
    return addBuffer(BufferRecord{BufferKind::Temporary, elementType,
                                  std::move(shape)});
  }
  /// The value of a size known at compile time; nothing for a dynamic one.
  static std::optional<int64_t> staticSize(const DimExpr &size) {
    if (size.isConstant())
      return size.constant;
    return std::nullopt;
  }
  /// The element type both operands of a product share (which picks the
  /// matrix-core tiles, `TileSizes::forProductsOf`); null if they differ.
  Type productOperandType(int64_t lhs, int64_t rhs) const {
    Type element = records[lhs].elementType;
    return element == records[rhs].elementType ? element : Type();
  }
  MemRefType memrefTypeOf(int64_t buffer) const {
    const BufferRecord &r = records[buffer];
    return kernels::kernelMemRefType(builder.getContext(), r.shape.size(),
                                     r.elementType, r.unitInnermost);
  }

  // Launches.
  /// "<function>__<n>_<what>", n counting the launches before it (the
  /// alternatives of one launch, LaunchWhen, count once; within a side of
  /// addRowAlternatives, from the index where the sides start).
  std::string kernelName(StringRef what) {
    int64_t index = static_cast<int64_t>(launches.size()) - alternativeLaunches;
    if (alternativeSide)
      index = alternativeSide->nameBase +
              (static_cast<int64_t>(launches.size()) - alternativeSide->firstLaunch);
    return (function.getName() + "__" + Twine(index) + "_" + what).str();
  }
  /// The sizes a launch is for (the manifest's LaunchCondition): `size`
  /// within [min, max].
  struct LaunchWhen {
    int64_t group = 0; // the index of the alternatives' first launch
    DimExpr size;
    int64_t min = 0;
    int64_t max = std::numeric_limits<int64_t>::max();
  };
  /// The tiles of one kernel of a product over `rows` rows (RowTiles).
  struct RowTiles {
    kernels::TileSizes tiles;
    std::optional<LaunchWhen> when; // absent: every row count
    std::string suffix;             // of the kernel's name: "_m64"
  };
  /// The kernels a product over `rows` rows of `element` operands is built
  /// as (`headDim` as TileSizes::forProductsOf takes it; `adjust` refines
  /// each choice, e.g. a fused kernel's narrower N tile). One, with the
  /// tiles for `rows`, when it is static or when the target tiles every
  /// row count alike; for a dynamic count that the target tiles more
  /// narrowly when it is small (matrix-core-min-m), two chosen at launch:
  /// the narrow tiles for at most their M rows, the default for more.
  SmallVector<RowTiles, 2>
  tilesForRows(Type element, int64_t headDim, const DimExpr &rows,
               llvm::function_ref<kernels::TileSizes(kernels::TileSizes)> adjust = {}) const {
    auto refine = [&](kernels::TileSizes t) { return adjust ? adjust(t) : t; };
    kernels::TileSizes all = refine(sizes.forProductsOf(element, headDim, staticSize(rows)));
    int64_t minRows = sizes.minMatmulRows(element);
    if (staticSize(rows) || minRows <= 0)
      return {RowTiles{all, std::nullopt, ""}};
    kernels::TileSizes few = refine(sizes.forProductsOf(element, headDim, minRows));
    if (few.matmulM >= all.matmulM)
      return {RowTiles{all, std::nullopt, ""}};
    return {RowTiles{few, LaunchWhen{0, rows, 0, few.matmulM},
                     "_m" + std::to_string(few.matmulM)},
            RowTiles{all, LaunchWhen{0, rows, few.matmulM + 1}, ""}};
  }
  /// grid axis = ceil(product(dims) / tile) * product(outer).
  DictionaryAttr gridAxis(ArrayRef<DimExpr> product, int64_t tile,
                          ArrayRef<DimExpr> outer = {}) {
    auto toAttr = [&](ArrayRef<DimExpr> sizes) {
      SmallVector<Attribute> dims;
      for (const DimExpr &d : sizes)
        dims.push_back(d.toAttr(builder));
      return builder.getArrayAttr(dims);
    };
    SmallVector<NamedAttribute> entries = {
        builder.getNamedAttr("product", toAttr(product)),
        builder.getNamedAttr("tile", builder.getI64IntegerAttr(tile))};
    if (!outer.empty())
      entries.push_back(builder.getNamedAttr("outer", toAttr(outer)));
    return builder.getDictionaryAttr(entries);
  }
  /// The grid of a kernel that tiles the last dimension of `shape` by
  /// `block` for every index of the leading ones (element-wise kernels,
  /// embeddings): all on x, the blocks of a row consecutive, so that no
  /// row count meets y's limit of 65535 programs.
  std::array<DictionaryAttr, 3> rowBlocksGrid(ArrayRef<DimExpr> shape, int64_t block) {
    return {gridAxis(shape.take_back(1), block, shape.drop_back(1)), one(), one()};
  }
  /// A launch of `kernel`; with `when`, only for those sizes, as one of the
  /// alternatives of a launch (each but the first counted in
  /// alternativeLaunches, so that later kernels keep their names).
  void addLaunch(func::FuncOp kernel, std::array<DictionaryAttr, 3> grid,
                 ArrayRef<int64_t> args, std::optional<LaunchWhen> when = std::nullopt,
                 bool alternative = false) {
    kernel = deduplicate(kernel);
    if (alternativeSide) {
      assert(!when && !alternative && "alternatives inside a side of addRowAlternatives");
      when = alternativeSide->when;
    }
    SmallVector<NamedAttribute> entries = {
        builder.getNamedAttr("kernel", SymbolRefAttr::get(kernel)),
        builder.getNamedAttr("grid", builder.getArrayAttr({grid[0], grid[1], grid[2]})),
        builder.getNamedAttr("args", builder.getDenseI64ArrayAttr(args))};
    if (when) {
      SmallVector<NamedAttribute> range = {
          builder.getNamedAttr("group", builder.getI64IntegerAttr(when->group)),
          builder.getNamedAttr("size", when->size.toAttr(builder)),
          builder.getNamedAttr("min", builder.getI64IntegerAttr(when->min))};
      if (when->max != std::numeric_limits<int64_t>::max()) // absent: no bound
        range.push_back(builder.getNamedAttr("max", builder.getI64IntegerAttr(when->max)));
      entries.push_back(builder.getNamedAttr("when", builder.getDictionaryAttr(range)));
    }
    launches.push_back(builder.getDictionaryAttr(entries));
    if (alternative)
      ++alternativeLaunches;
  }
  /// Launches the kernels of a product (tilesForRows' `variants`, named
  /// kernelName(what) plus each one's suffix): `build` makes one with its
  /// tiles, `grid` gives its grid.
  void addProductLaunches(
      ArrayRef<RowTiles> variants, StringRef what,
      llvm::function_ref<func::FuncOp(const kernels::TileSizes &, StringRef name)> build,
      llvm::function_ref<std::array<DictionaryAttr, 3>(const kernels::TileSizes &)> grid,
      ArrayRef<int64_t> args) {
    std::string name = kernelName(what);
    int64_t group = static_cast<int64_t>(launches.size());
    for (auto [i, variant] : llvm::enumerate(variants)) {
      std::optional<LaunchWhen> when = variant.when;
      if (when)
        when->group = group;
      addLaunch(build(variant.tiles, name + variant.suffix), grid(variant.tiles), args, when,
                /*alternative=*/i > 0);
    }
  }
  /// addProductLaunches of buildMatmulKernel(`spec`) kernels over an
  /// [m, n] output: grid x = row blocks, y = column blocks, z = the
  /// product of `zSizes` (the batch, with split-K its parts).
  void addMatmulLaunches(ArrayRef<RowTiles> variants, StringRef what,
                         const kernels::MatmulKernelSpec &spec, const DimExpr &m,
                         const DimExpr &n, ArrayRef<DimExpr> zSizes, ArrayRef<int64_t> args) {
    addProductLaunches(
        variants, what,
        [&](const kernels::TileSizes &tiles, StringRef name) {
          return kernels::buildMatmulKernel(module, name, spec, tiles);
        },
        [&](const kernels::TileSizes &tiles) -> std::array<DictionaryAttr, 3> {
          return {gridAxis({m}, tiles.matmulM), gridAxis({n}, tiles.matmulN),
                  gridAxis(zSizes, 1)};
        },
        args);
  }
  /// Two ways to compute a product over `rows` rows (a dynamic M), chosen
  /// at each run: the launches `few` adds run for at most `limit` rows,
  /// those `many` adds for more (each side any number of launches, all
  /// writing the same buffers; one group of the manifest's `when` ranges,
  /// a side's launches sharing its range). Both sides name their kernels
  /// from the same index, and the launches after them are numbered as if
  /// the longer side came alone.
  LogicalResult addRowAlternatives(const DimExpr &rows, int64_t limit,
                                   llvm::function_ref<LogicalResult()> few,
                                   llvm::function_ref<LogicalResult()> many) {
    assert(!alternativeSide && "nested row alternatives");
    int64_t group = static_cast<int64_t>(launches.size());
    int64_t nameBase = group - alternativeLaunches;
    alternativeSide = AlternativeSide{LaunchWhen{group, rows, 0, limit}, nameBase, group};
    LogicalResult fewAdded = few();
    int64_t fewCount = static_cast<int64_t>(launches.size()) - group;
    alternativeSide = AlternativeSide{LaunchWhen{group, rows, limit + 1}, nameBase,
                                      static_cast<int64_t>(launches.size())};
    LogicalResult manyAdded = succeeded(fewAdded) ? many() : failure();
    int64_t manyCount = static_cast<int64_t>(launches.size()) - group - fewCount;
    alternativeSide.reset();
    if (failed(manyAdded))
      return failure();
    assert(fewCount > 0 && manyCount > 0 && "each side launches something");
    alternativeLaunches += std::min(fewCount, manyCount);
    return success();
  }
  DictionaryAttr one() { return gridAxis({}, 1); }
  /// The first kernel of the module with the same signature and body as
  /// `kernel` (which is then erased), or `kernel` itself. Ops of one kind
  /// with the same types and layouts share one compiled kernel.
  func::FuncOp deduplicate(func::FuncOp kernel) {
    std::string text;
    {
      StringAttr name = kernel.getSymNameAttr();
      kernel.setSymName("kernel");
      llvm::raw_string_ostream os(text);
      kernel->print(os, OpPrintingFlags().useLocalScope().enableDebugInfo(false));
      kernel.setSymNameAttr(name);
    }
    auto [it, inserted] = kernelsByText.try_emplace(text, kernel);
    if (inserted)
      return kernel;
    kernel.erase();
    return it->second;
  }

  /// Records that sizes `lhs` and `rhs` of `op`'s operands must be equal
  /// (`kind` "equal") or `lhs` a positive multiple of a positive `rhs`
  /// ("multiple") for the op to mean anything: an error now when both are
  /// static, else a check the runtime makes before any launch (the plan's
  /// `checks`). `what` names the sizes ("K of the lhs and of the rhs").
  LogicalResult requireSizes(Operation *op, StringRef kind, const DimExpr &lhs,
                             const DimExpr &rhs, const Twine &what);

  LogicalResult requireAttentionShapes(AttentionOp op);

  // Ops.
  LogicalResult visit(Operation *op);
  /// One elementwise kernel computing `root` (of `shape`) from `ops` (a
  /// fusion body's elementwise part, or one op) into a new temporary.
  FailureOr<int64_t> addFusedElementwise(Operation *op, ArrayRef<Operation *> ops,
                                         Value root, ArrayRef<DimExpr> shape,
                                         StringRef what);
  LogicalResult visitElementwise(Operation *op, StringRef what,
                                 const kernels::ElementwiseBody &body);
  LogicalResult visitReshape(ReshapeOp op);
  /// A matmul's operands as views with the result's batch dims, and its
  /// result's shape.
  struct MatmulOperands {
    int64_t lhs, rhs;
    SmallVector<DimExpr> batch;
    DimExpr m, n;
    SmallVector<DimExpr> shape() const {
      SmallVector<DimExpr> full(batch);
      full.push_back(m);
      full.push_back(n);
      return full;
    }
  };
  FailureOr<MatmulOperands> matmulOperands(MatmulOp op);
  LogicalResult visitMatmul(MatmulOp op);
  /// A prism.fusion: one kernel (two on targets that split matmul
  /// epilogues) for the whole body.
  LogicalResult visitFusion(FusionOp op);
  /// The symbolic shape of a value: its buffer's, or for a value computed
  /// inside a fusion body, the one recorded in `fusedShapes`.
  SmallVector<DimExpr> shapeOfAny(Value value) const;
  /// The broadcast result shape of an elementwise op.
  SmallVector<DimExpr> elementwiseShape(Operation *op) const;
  /// The values a fused body reads from above it (no constants), once each.
  SmallVector<Value> fusionLeaves(ArrayRef<Operation *> ops) const;
  /// A batched matmul of two views into a new temporary of `element`
  /// ([batch..., m, n]), f32 accumulation; with separateMatmulEpilogue and
  /// a bias or a non-f32 result, the f32 product and an elementwise kernel
  /// for bias + conversion.
  FailureOr<int64_t> addMatmul(Operation *op, int64_t lhs, int64_t rhs, Value bias,
                               Type element, bool transposeLhs, bool transposeRhs,
                               ArrayRef<DimExpr> batch, DimExpr m, DimExpr n);
  /// addMatmul's products through memory into the existing `output` (of
  /// `element`, [batch..., m, n]): f32 products (split-K partials when
  /// `splits` > 1) by kernels with `variants`' tiles, then bias and
  /// conversion in one element-wise kernel.
  LogicalResult addMatmulToOutput(Operation *op, int64_t lhs, int64_t rhs, Value bias,
                                  bool transposeLhs, bool transposeRhs, ArrayRef<DimExpr> batch,
                                  const DimExpr &m, const DimExpr &n, ArrayRef<RowTiles> variants,
                                  int64_t splits, int64_t output);
  /// The parts split-K cuts the K range of products tiled by `variants`
  /// into (1: none): matmulSplitK when given; else, with
  /// matmulSplitKFill, enough parts for the programs to fill the target
  /// when a product of static sizes has few output tiles (at most half
  /// the fill) and at least kSplitKMinSteps K steps per part.
  /// The programs of `tiles` per batch entry times the static `batch`
  /// dims, when that is at most half of `fill` (and not 0): the few
  /// programs a split fills the target from; nothing when a batch dim is
  /// dynamic or there are more.
  static std::optional<int64_t> fewPrograms(int64_t tiles, ArrayRef<DimExpr> batch,
                                            int64_t fill);
  int64_t splitKOf(ArrayRef<RowTiles> variants, ArrayRef<DimExpr> batch, const DimExpr &m,
                   const DimExpr &n, const DimExpr &k) const;
  /// With a dynamic M (tilesForRows' two `variants`, the few-rows kernel
  /// first), the parts split-K cuts the few-rows kernel's K range into
  /// when that kernel, for its most rows, has few enough output tiles
  /// (splitKOf as for a static M of that many rows); 1 otherwise, and
  /// when matmulSplitK forces a split of every row count.
  int64_t splitKForFewRows(ArrayRef<RowTiles> variants, ArrayRef<DimExpr> batch,
                           const DimExpr &n, const DimExpr &k) const {
    if (variants.size() != 2 || sizes.matmulSplitK != 0)
      return 1;
    RowTiles few = withoutRange(variants[0]);
    return splitKOf({few}, batch, DimExpr::of(few.tiles.matmulM), n, k);
  }
  /// How split-KV cuts a fused attention's key range (AttentionOptions).
  struct AttentionSplit {
    int64_t parts = 1; // 1: not split
    int64_t minKeys = 0;
  };
  /// The split of an attention whose query is [B, Hq, Sq, D] (`query`)
  /// over `keys` keys, tiled by `tiles`: attentionSplitKV parts of at
  /// least a key block when given; else, with matmulSplitKFill, enough
  /// parts for the programs to fill the target when the static query
  /// blocks x B x Hq are at most half the fill, each part at least
  /// kAttentionSplitMinSteps key blocks (no more parts than a static key
  /// count, or the keys a `window` leaves a query block, has of those).
  AttentionSplit attentionSplitOf(ArrayRef<DimExpr> query, const DimExpr &keys,
                                  std::optional<int64_t> window,
                                  const kernels::TileSizes &tiles) const;
  /// A variant of tilesForRows for use inside a side of addRowAlternatives
  /// (which gives the range): its tiles and name suffix, no `when`.
  static RowTiles withoutRange(const RowTiles &variant) {
    return RowTiles{variant.tiles, std::nullopt, variant.suffix};
  }
  /// The K of a matmul whose lhs is buffer `lhs` (transposed or not).
  DimExpr matmulDepth(int64_t lhs, bool transposeLhs) const {
    ArrayRef<DimExpr> shape = records[lhs].shape;
    return shape[shape.size() - (transposeLhs ? 2 : 1)];
  }
  /// Products through memory: `spec`'s lhs (buffer `lhs`) times each of
  /// `rhs` ([batch..., m, n]) into an f32 temporary by kernels named
  /// `productName` (one per variant, as addProductLaunches), with split-K
  /// (`splits` > 1) partials [splits, batch..., m, n]; then one
  /// element-wise kernel `epilogueName` that writes body(the products (the
  /// partials' sums)..., the buffers `operands` (views of the output's
  /// shape)...) into `output`. Split-K, and targets whose matrix unit
  /// cannot run the epilogue (separateMatmulEpilogue).
  void addProductsThenEpilogue(ArrayRef<RowTiles> variants, StringRef productName,
                               StringRef epilogueName, kernels::MatmulKernelSpec spec,
                               int64_t lhs, ArrayRef<int64_t> rhs, ArrayRef<DimExpr> batch,
                               const DimExpr &m, const DimExpr &n, int64_t splits,
                               ArrayRef<int64_t> operands, const kernels::ElementwiseBody &body,
                               int64_t output);
  LogicalResult visitUnfusedAttention(AttentionOp op);
  LogicalResult visitLayerNorm(LayerNormOp op);
  /// One rms_norm / layer_norm kernel over what `prologue` computes from
  /// the buffers `args` (of `shape`): the norm's weight and bias follow,
  /// then, with `stored`, a temporary for the prologue's value, then the
  /// output (the buffer of `result`).
  LogicalResult addNorm(Operation *norm, kernels::RowPrologue prologue,
                        SmallVector<int64_t> args, ArrayRef<DimExpr> shape,
                        Value result, Value stored, StringRef what);
  LogicalResult visitReduce(ReduceOp op);
  LogicalResult visitRope(RopeOp op);
  /// The rope of `op` from buffer `input` into buffer `output` (both of the
  /// rope's [d0, d1, d2, D] shape).
  LogicalResult addRope(RopeOp op, int64_t input, int64_t output);
  LogicalResult visitEmbedding(EmbeddingOp op);
  LogicalResult visitAttention(AttentionOp op);

  ModuleOp module;
  func::FuncOp function;
  kernels::TileSizes sizes;
  Builder builder;
  SmallVector<BufferRecord> records;
  DenseMap<Value, int64_t> buffers;
  DenseMap<Value, SmallVector<DimExpr>> fusedShapes;
  SmallVector<Attribute> launches;
  /// Launches after the first of a set of alternatives (kernelName).
  int64_t alternativeLaunches = 0;
  /// The side of addRowAlternatives being built: the range its launches
  /// get, the index its kernel names count from, its first launch.
  struct AlternativeSide {
    LaunchWhen when;
    int64_t nameBase;
    int64_t firstLaunch;
  };
  std::optional<AlternativeSide> alternativeSide;
  /// Size relations the runtime checks (requireSizes).
  SmallVector<Attribute> checks;
  llvm::StringMap<func::FuncOp> &kernelsByText;
};

} // namespace prism::kernelize

#endif // PRISM_PASSES_KERNELIZE_PLANBUILDER_H
