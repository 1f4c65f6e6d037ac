//===- Kernelize.cpp - prism ops to tile kernels and a launch plan --------===//
//
// Walks each function of prism ops in order, giving every value a buffer:
// function inputs, fresh temporaries for op results, or views (reshape,
// transpose, broadcast) of another buffer. Each computing op gets one kernel
// from the kernel library, specialized on the element types and on whether
// each memref argument has a unit innermost stride, and one launch.
//
// Shapes are symbolic: every dimension is `constant * product(input dims) /
// divisor`, which is enough for the dynamic dimensions of transformer graphs
// (batch, sequence) and for the reshapes between them.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "dialects/Prism/IR/PrismOps.h"
#include "passes/KernelLibrary/KernelBuilder.h"
#include "passes/KernelLibrary/KernelLibrary.h"

#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/IR/Builders.h"
#include "llvm/ADT/SmallPtrSet.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/TypeSwitch.h"

namespace prism {
#define GEN_PASS_DEF_KERNELIZE
#include "passes/Passes.h.inc"
} // namespace prism

using namespace mlir;
using namespace prism;

namespace {

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
  MemRefType memrefTypeOf(int64_t buffer) const {
    const BufferRecord &r = records[buffer];
    return kernels::kernelMemRefType(builder.getContext(), r.shape.size(),
                                     r.elementType, r.unitInnermost);
  }

  // Launches.
  std::string kernelName(StringRef what) {
    return (function.getName() + "__" + Twine(launches.size()) + "_" + what)
        .str();
  }
  /// grid axis = ceil(product(dims) / tile).
  DictionaryAttr gridAxis(ArrayRef<DimExpr> product, int64_t tile) {
    SmallVector<Attribute> dims;
    for (const DimExpr &d : product)
      dims.push_back(d.toAttr(builder));
    return builder.getDictionaryAttr(
        {builder.getNamedAttr("product", builder.getArrayAttr(dims)),
         builder.getNamedAttr("tile", builder.getI64IntegerAttr(tile))});
  }
  void addLaunch(func::FuncOp kernel, std::array<DictionaryAttr, 3> grid,
                 ArrayRef<int64_t> args) {
    kernel = deduplicate(kernel);
    launches.push_back(builder.getDictionaryAttr(
        {builder.getNamedAttr("kernel", SymbolRefAttr::get(kernel)),
         builder.getNamedAttr("grid", builder.getArrayAttr({grid[0], grid[1],
                                                            grid[2]})),
         builder.getNamedAttr("args", builder.getDenseI64ArrayAttr(args))}));
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
  LogicalResult visitUnfusedAttention(AttentionOp op);
  LogicalResult visitLayerNorm(LayerNormOp op);
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
  llvm::StringMap<func::FuncOp> &kernelsByText;
};

FailureOr<int64_t> PlanBuilder::broadcastView(Operation *op, int64_t source,
                                              ArrayRef<DimExpr> target) {
  const BufferRecord &src = records[source];
  if (ArrayRef<DimExpr>(src.shape) == target)
    return source;
  BufferRecord view{BufferKind::View, src.elementType, {}};
  view.shape.assign(target.begin(), target.end());
  view.source = source;
  view.view = ViewKind::Broadcast;
  view.contiguous = false;
  // The innermost stride stays 1 only if the last dimension is not stretched.
  bool lastStretched = src.shape.empty() ||
                       (src.shape.back().isConstant() &&
                        src.shape.back().constant == 1 &&
                        !(target.back().isConstant() && target.back().constant == 1));
  view.unitInnermost = src.unitInnermost && !lastStretched;
  // Dimensions that differ symbolically (two dynamic sizes from different
  // inputs, or a dynamic size against a static one) must agree at run time;
  // the runtime checks it when it builds the view.
  (void)op;
  return addBuffer(std::move(view));
}

int64_t PlanBuilder::transposeView(int64_t source,
                                   ArrayRef<int64_t> permutation) {
  const BufferRecord &src = records[source];
  BufferRecord view{BufferKind::View, src.elementType, {}};
  for (int64_t p : permutation)
    view.shape.push_back(src.shape[p]);
  view.source = source;
  view.view = ViewKind::Transpose;
  view.permutation.assign(permutation.begin(), permutation.end());
  bool identity = llvm::equal(permutation, llvm::seq<int64_t>(0, permutation.size()));
  view.contiguous = src.contiguous && identity;
  view.unitInnermost = src.unitInnermost &&
                       (permutation.empty() ||
                        permutation.back() == static_cast<int64_t>(permutation.size()) - 1);
  return addBuffer(std::move(view));
}

int64_t PlanBuilder::contiguousCopy(Operation *op, int64_t source) {
  BufferRecord copy{BufferKind::Temporary, records[source].elementType,
                    records[source].shape};
  int64_t target = addBuffer(std::move(copy));
  kernels::TileSizes local =
      sizes.forOperands({memrefTypeOf(source), memrefTypeOf(target)});
  func::FuncOp kernel = kernels::buildElementwiseKernel(
      module, kernelName("copy"), {memrefTypeOf(source)}, memrefTypeOf(target),
      [](kernels::KernelBuilder &, ArrayRef<Value> in) { return in[0]; },
      local);
  ArrayRef<DimExpr> shape = records[target].shape;
  addLaunch(kernel,
            {gridAxis(shape.take_back(1), local.elementwiseBlock),
             gridAxis(shape.drop_back(1), 1), one()},
            {source, target});
  return target;
}

LogicalResult PlanBuilder::build() {
  for (auto [index, argument] : llvm::enumerate(function.getArguments())) {
    auto type = dyn_cast<RankedTensorType>(argument.getType());
    if (!type)
      return function.emitError("kernelization needs ranked tensor arguments");
    BufferRecord record{BufferKind::Input, type.getElementType(), {}};
    record.inputIndex = index;
    for (auto [d, size] : llvm::enumerate(type.getShape()))
      record.shape.push_back(ShapedType::isDynamic(size)
                                 ? DimExpr{1, 1, {{(int64_t)index, (int64_t)d}}}
                                 : DimExpr::of(size));
    buffers[argument] = addBuffer(std::move(record));
  }

  SmallVector<int64_t> outputs;
  for (Operation &op : function.getBody().front()) {
    if (auto ret = dyn_cast<func::ReturnOp>(op)) {
      for (Value value : ret.getOperands()) {
        int64_t buffer = buffers.lookup(value);
        // Outputs are fresh contiguous buffers the caller receives.
        if (records[buffer].kind != BufferKind::Temporary ||
            llvm::is_contained(outputs, buffer))
          buffer = contiguousCopy(&op, buffer);
        outputs.push_back(buffer);
      }
      continue;
    }
    if (failed(visit(&op)))
      return failure();
  }

  auto attr = [&](StringRef name, Attribute value) {
    return builder.getNamedAttr(name, value);
  };
  SmallVector<Attribute> bufferAttrs;
  for (const BufferRecord &r : records) {
    SmallVector<NamedAttribute> fields;
    SmallVector<Attribute> shape;
    for (const DimExpr &d : r.shape)
      shape.push_back(d.toAttr(builder));
    fields.push_back(attr("dtype", TypeAttr::get(r.elementType)));
    fields.push_back(attr("unit_innermost", builder.getBoolAttr(r.unitInnermost)));
    fields.push_back(attr("shape", builder.getArrayAttr(shape)));
    switch (r.kind) {
    case BufferKind::Input:
      fields.push_back(attr("kind", builder.getStringAttr("input")));
      fields.push_back(attr("index", builder.getI64IntegerAttr(r.inputIndex)));
      break;
    case BufferKind::Temporary:
      fields.push_back(attr("kind", builder.getStringAttr("temporary")));
      break;
    case BufferKind::View:
      fields.push_back(attr("kind", builder.getStringAttr("view")));
      fields.push_back(attr("source", builder.getI64IntegerAttr(r.source)));
      fields.push_back(attr(
          "view", builder.getStringAttr(r.view == ViewKind::Reshape ? "reshape"
                                        : r.view == ViewKind::Transpose
                                            ? "transpose"
                                            : "broadcast")));
      if (r.view == ViewKind::Transpose)
        fields.push_back(attr("permutation",
                              builder.getDenseI64ArrayAttr(r.permutation)));
      break;
    }
    bufferAttrs.push_back(builder.getDictionaryAttr(fields));
  }
  function->setAttr(
      kPlanAttrName,
      builder.getDictionaryAttr(
          {attr("buffers", builder.getArrayAttr(bufferAttrs)),
           attr("launches", builder.getArrayAttr(launches)),
           attr("outputs", builder.getDenseI64ArrayAttr(outputs))}));
  return success();
}

SmallVector<DimExpr> PlanBuilder::shapeOfAny(Value value) const {
  auto it = fusedShapes.find(value);
  if (it != fusedShapes.end())
    return it->second;
  if (!buffers.count(value)) { // a constant
    SmallVector<DimExpr> shape;
    for (int64_t d : cast<RankedTensorType>(value.getType()).getShape())
      shape.push_back(DimExpr::of(d));
    return shape;
  }
  return shapeOf(value);
}

SmallVector<DimExpr> PlanBuilder::elementwiseShape(Operation *op) const {
  // Per dimension, the first operand dimension that is not a broadcast 1
  // (numpy rules were checked by the verifier).
  int64_t rank = cast<RankedTensorType>(op->getResult(0).getType()).getRank();
  SmallVector<DimExpr> shape;
  for (int64_t d = 0; d < rank; ++d) {
    DimExpr chosen = DimExpr::of(1);
    for (Value operand : op->getOperands()) {
      SmallVector<DimExpr> s = shapeOfAny(operand);
      int64_t i = d - (rank - static_cast<int64_t>(s.size()));
      if (i >= 0 && !(s[i].isConstant() && s[i].constant == 1)) {
        chosen = s[i];
        break;
      }
    }
    shape.push_back(chosen);
  }
  return shape;
}

LogicalResult PlanBuilder::visitElementwise(Operation *op, StringRef what,
                                            const kernels::ElementwiseBody &body) {
  Value result = op->getResult(0);
  auto resultType = cast<RankedTensorType>(result.getType());
  if (resultType.getRank() == 0)
    return op->emitError("kernelization of rank-0 results is not supported yet");
  SmallVector<DimExpr> shape = elementwiseShape(op);
  SmallVector<int64_t> args;
  SmallVector<MemRefType> inputTypes;
  for (Value operand : op->getOperands()) {
    FailureOr<int64_t> view = broadcastView(op, buffers.lookup(operand), shape);
    if (failed(view))
      return failure();
    args.push_back(*view);
    inputTypes.push_back(memrefTypeOf(*view));
  }
  BufferRecord out{BufferKind::Temporary, resultType.getElementType(), shape};
  int64_t output = addBuffer(std::move(out));
  args.push_back(output);
  buffers[result] = output;
  kernels::TileSizes local = sizes.forOperands(inputTypes);
  func::FuncOp kernel = kernels::buildElementwiseKernel(
      module, kernelName(what), inputTypes, memrefTypeOf(output), body, local);
  addLaunch(kernel,
            {gridAxis(ArrayRef<DimExpr>(shape).take_back(1),
                      local.elementwiseBlock),
             gridAxis(ArrayRef<DimExpr>(shape).drop_back(1), 1), one()},
            args);
  return success();
}

SmallVector<Value> PlanBuilder::fusionLeaves(ArrayRef<Operation *> ops) const {
  llvm::SmallPtrSet<Operation *, 8> inside(ops.begin(), ops.end());
  SmallVector<Value> leaves;
  for (Operation *op : ops)
    for (Value operand : op->getOperands()) {
      Operation *def = operand.getDefiningOp();
      if ((def && (inside.contains(def) || FusionOp::isSplatConstant(def))) ||
          fusedShapes.count(operand) || llvm::is_contained(leaves, operand))
        continue;
      leaves.push_back(operand);
    }
  return leaves;
}

/// A name for a fused kernel: its ops' names (`matmul_add`, `add_rms_norm`,
/// `matmul_rope`; reshapes, which compute nothing, are left out).
static std::string fusedName(ArrayRef<Operation *> ops) {
  std::string name;
  for (Operation *op : ops) {
    if (FusionOp::isSplatConstant(op) || isa<ReshapeOp>(op))
      continue;
    if (!name.empty())
      name += "_";
    name += op->getName().stripDialect().str();
  }
  return name;
}

FailureOr<int64_t> PlanBuilder::addFusedElementwise(Operation *op,
                                                    ArrayRef<Operation *> ops,
                                                    Value root,
                                                    ArrayRef<DimExpr> shape,
                                                    StringRef what) {
  if (shape.empty())
    return op->emitError("kernelization of rank-0 results is not supported yet");
  SmallVector<Value> leaves = fusionLeaves(ops);
  SmallVector<int64_t> args;
  SmallVector<MemRefType> inputTypes;
  for (Value leaf : leaves) {
    if (!buffers.count(leaf))
      return op->emitError("an operand of a fused elementwise op is neither "
                           "a tensor nor a splat constant");
    FailureOr<int64_t> view = broadcastView(op, buffers.lookup(leaf), shape);
    if (failed(view))
      return failure();
    args.push_back(*view);
    inputTypes.push_back(memrefTypeOf(*view));
  }
  if (leaves.empty())
    return op->emitError("an elementwise computation of constants only has no "
                         "kernel; fold it into a constant first");
  auto resultType = cast<RankedTensorType>(root.getType());
  int64_t output = addTemporary(resultType.getElementType(),
                                SmallVector<DimExpr>(shape.begin(), shape.end()));
  args.push_back(output);
  kernels::TileSizes local = sizes.forOperands(inputTypes);
  SmallVector<Operation *> body(ops.begin(), ops.end());
  func::FuncOp kernel = kernels::buildElementwiseKernel(
      module, kernelName(what), inputTypes, memrefTypeOf(output),
      [body, leaves, root](kernels::KernelBuilder &k, ArrayRef<Value> in) {
        DenseMap<Value, Value> known;
        for (auto [leaf, tile] : llvm::zip(leaves, in))
          known[leaf] = tile;
        auto shape = cast<RankedTensorType>(in[0].getType()).getShape();
        return kernels::emitFusedValue(k, body, known, root, shape);
      },
      local);
  addLaunch(kernel,
            {gridAxis(shape.take_back(1), local.elementwiseBlock),
             gridAxis(shape.drop_back(1), 1), one()},
            args);
  return output;
}

LogicalResult PlanBuilder::visitFusion(FusionOp op) {
  // The computing ops (splat constants are materialized where used).
  SmallVector<Operation *> ops = op.getBodyOps();
  llvm::erase_if(ops, [](Operation *inner) { return FusionOp::isSplatConstant(inner); });
  // Shapes of the values computed inside the body.
  for (Operation *inner : ops) {
    if (FusionOp::isSplatConstant(inner))
      continue;
    if (FusionOp::isElementwise(inner)) {
      fusedShapes[inner->getResult(0)] = elementwiseShape(inner);
    } else if (auto matmul = dyn_cast<MatmulOp>(inner)) {
      FailureOr<MatmulOperands> operands = matmulOperands(matmul);
      if (failed(operands))
        return failure();
      fusedShapes[matmul.getResult()] = operands->shape();
    }
  }
  std::string what = fusedName(ops);
  Value root = op.getYield().getValues()[0];
  SmallVector<DimExpr> rootShape = shapeOfAny(root);

  switch (op.getKind()) {
  case FusionKind::Elementwise: {
    FailureOr<int64_t> output = addFusedElementwise(op, ops, root, rootShape, what);
    if (failed(output))
      return failure();
    buffers[op.getResult(0)] = *output;
    return success();
  }
  case FusionKind::Matmul:
  case FusionKind::GatedMatmul: {
    size_t count = op.getKind() == FusionKind::Matmul ? 1 : 2;
    SmallVector<MatmulOp, 2> matmuls;
    for (size_t i = 0; i < count; ++i)
      matmuls.push_back(cast<MatmulOp>(ops[i]));
    Type f32 = Float32Type::get(op.getContext());
    if (matmuls[0].getAccumulatorType() != f32)
      return op.emitError("fused matmul epilogues need an f32 accumulator; "
                          "this matmul accumulates in ")
             << matmuls[0].getAccumulatorType();
    ArrayRef<Operation *> epilogueOps = ArrayRef<Operation *>(ops).drop_front(count);
    FailureOr<MatmulOperands> first = matmulOperands(matmuls[0]);
    if (failed(first))
      return failure();
    SmallVector<int64_t> rhs = {first->rhs};
    if (count == 2) {
      FailureOr<MatmulOperands> second = matmulOperands(matmuls[1]);
      if (failed(second))
        return failure();
      rhs.push_back(second->rhs);
    }
    SmallVector<DimExpr> shape = first->shape();
    // Epilogue operands: the biases, then the values read from above.
    SmallVector<Value> biases;
    for (MatmulOp matmul : matmuls)
      biases.push_back(matmul.getBias());
    SmallVector<Value> leaves = fusionLeaves(epilogueOps);
    llvm::erase_if(leaves, [&](Value v) { return fusedShapes.count(v); });
    SmallVector<int64_t> epilogueArgs;
    SmallVector<MemRefType> epilogueTypes;
    for (Value v : llvm::concat<Value>(biases, leaves)) {
      if (!v)
        continue;
      FailureOr<int64_t> view = broadcastView(op, buffers.lookup(v), shape);
      if (failed(view))
        return failure();
      epilogueArgs.push_back(*view);
      epilogueTypes.push_back(memrefTypeOf(*view));
    }
    SmallVector<Operation *> body(epilogueOps.begin(), epilogueOps.end());
    SmallVector<Value> products;
    for (MatmulOp matmul : matmuls)
      products.push_back(matmul.getResult());
    // computed: one f32 tile per product; operands: biases (present ones),
    // then leaves.
    auto epilogue = [body, products, biases, leaves, root](
                        kernels::KernelBuilder &k, ArrayRef<Value> computed,
                        ArrayRef<Value> operands) {
      DenseMap<Value, Value> known;
      size_t next = 0;
      for (auto [product, bias, tile] : llvm::zip(products, biases, computed))
        known[product] = bias ? k.addf(tile, operands[next++]) : tile;
      for (Value leaf : leaves)
        known[leaf] = operands[next++];
      auto shape = cast<RankedTensorType>(computed[0].getType()).getShape();
      return kernels::emitFusedValue(k, body, known, root, shape);
    };
    auto resultType = cast<RankedTensorType>(root.getType());
    int64_t output = addTemporary(resultType.getElementType(), shape);
    buffers[op.getResult(0)] = output;
    // Two products per program hold two accumulators: the fused kernel
    // halves the N tile so that it keeps the registers (and shared memory)
    // of one matmul tile.
    kernels::TileSizes fused = sizes;
    if (count == 2 && !sizes.separateMatmulEpilogue)
      fused.matmulN = std::max<int64_t>(sizes.matmulN / 2, 16);
    std::array<DictionaryAttr, 3> grid = {gridAxis({first->m}, fused.matmulM),
                                          gridAxis({first->n}, fused.matmulN),
                                          gridAxis(first->batch, 1)};
    kernels::MatmulKernelSpec spec;
    spec.lhs = memrefTypeOf(first->lhs);
    spec.transposeLhs = matmuls[0].getTransposeLhs();
    spec.transposeRhs = matmuls[0].getTransposeRhs();
    spec.accumulator = f32;
    if (!sizes.separateMatmulEpilogue) {
      for (int64_t r : rhs)
        spec.rhs.push_back(memrefTypeOf(r));
      spec.output = memrefTypeOf(output);
      spec.epilogue.operands = epilogueTypes;
      spec.epilogue.body = epilogue;
      SmallVector<int64_t> args = {first->lhs};
      args.append(rhs.begin(), rhs.end());
      args.append(epilogueArgs.begin(), epilogueArgs.end());
      args.push_back(output);
      addLaunch(kernels::buildMatmulKernel(module, kernelName(what), spec, fused),
                grid, args);
      return success();
    }
    // The matrix unit writes f32 products; one elementwise kernel applies
    // the whole epilogue.
    SmallVector<int64_t> productBuffers;
    for (int64_t r : rhs) {
      int64_t product = addTemporary(f32, shape);
      kernels::MatmulKernelSpec one = spec;
      one.rhs = {memrefTypeOf(r)};
      one.output = memrefTypeOf(product);
      addLaunch(kernels::buildMatmulKernel(module, kernelName("matmul"), one, sizes),
                grid, {first->lhs, r, product});
      productBuffers.push_back(product);
    }
    SmallVector<int64_t> args(productBuffers);
    SmallVector<MemRefType> inputTypes;
    for (int64_t product : productBuffers)
      inputTypes.push_back(memrefTypeOf(product));
    args.append(epilogueArgs.begin(), epilogueArgs.end());
    inputTypes.append(epilogueTypes.begin(), epilogueTypes.end());
    args.push_back(output);
    kernels::TileSizes local = sizes.forOperands(inputTypes);
    size_t numProducts = productBuffers.size();
    func::FuncOp kernel = kernels::buildElementwiseKernel(
        module, kernelName(what + "_epilogue"), inputTypes, memrefTypeOf(output),
        [epilogue, numProducts](kernels::KernelBuilder &k, ArrayRef<Value> in) {
          return epilogue(k, in.take_front(numProducts), in.drop_front(numProducts));
        },
        local);
    addLaunch(kernel,
              {gridAxis(ArrayRef<DimExpr>(shape).take_back(1), local.elementwiseBlock),
               gridAxis(ArrayRef<DimExpr>(shape).drop_back(1), 1), one()},
              args);
    return success();
  }
  case FusionKind::MatmulRope: {
    auto matmul = cast<MatmulOp>(ops[0]);
    auto reshape = cast<ReshapeOp>(ops[1]);
    auto rope = cast<RopeOp>(ops[2]);
    FailureOr<MatmulOperands> operands = matmulOperands(matmul);
    if (failed(operands))
      return failure();
    ArrayRef<int64_t> heads = reshape.getType().getShape();
    int64_t headDim = heads[3], half = headDim / 2;
    SmallVector<DimExpr> product = operands->shape();
    SmallVector<DimExpr> headShape = {product[0], product[1], DimExpr::of(heads[2]),
                                      DimExpr::of(headDim)};
    Type element = rope.getType().getElementType();
    int64_t output = addTemporary(element, headShape);
    buffers[op.getResult(0)] = output;
    Value bias = matmul.getBias();
    Type f32 = Float32Type::get(op.getContext());
    if (sizes.separateMatmulEpilogue) {
      // The f32 product (with its bias) through memory, then the rope
      // kernel reads it as [B, S, H, D].
      FailureOr<int64_t> computed =
          addMatmul(matmul, operands->lhs, operands->rhs, bias, f32,
                    matmul.getTransposeLhs(), matmul.getTransposeRhs(),
                    operands->batch, operands->m, operands->n);
      if (failed(computed))
        return failure();
      return addRope(rope, reshapeView(op, *computed, headShape), output);
    }
    FailureOr<int64_t> positions = broadcastView(
        op, buffers.lookup(rope.getPositions()), {product[0], product[1]});
    if (failed(positions))
      return failure();
    // Blocks of pairs must not cross a head: the N tile divides D / 2.
    kernels::TileSizes local = sizes;
    while (local.matmulN > 1 && half % local.matmulN != 0)
      local.matmulN /= 2;
    int64_t flat = reshapeView(op, output, product);
    kernels::MatmulKernelSpec spec;
    spec.lhs = memrefTypeOf(operands->lhs);
    spec.rhs = {memrefTypeOf(operands->rhs)};
    spec.output = memrefTypeOf(flat);
    spec.transposeLhs = matmul.getTransposeLhs();
    spec.transposeRhs = matmul.getTransposeRhs();
    spec.accumulator = f32;
    spec.rotary = kernels::RotaryEpilogue{memrefTypeOf(*positions), headDim,
                                          rope.getEffectiveTheta()};
    SmallVector<int64_t> args = {operands->lhs, operands->rhs};
    if (bias) {
      args.push_back(buffers.lookup(bias));
      spec.bias = memrefTypeOf(args.back());
    }
    args.push_back(*positions);
    args.push_back(flat);
    addLaunch(kernels::buildMatmulKernel(module, kernelName(what), spec, local),
              {gridAxis({operands->m}, local.matmulM),
               gridAxis({operands->n.dividedBy(2)}, local.matmulN),
               gridAxis(operands->batch, 1)},
              args);
    return success();
  }
  case FusionKind::Norm: {
    Operation *norm = ops.back();
    ArrayRef<Operation *> prologueOps = ArrayRef<Operation *>(ops).drop_back();
    Value normalized = norm->getOperand(0);
    SmallVector<DimExpr> shape = shapeOfAny(normalized);
    SmallVector<Value> leaves = fusionLeaves(prologueOps);
    SmallVector<int64_t> args;
    kernels::RowPrologue prologue;
    for (Value leaf : leaves) {
      FailureOr<int64_t> view = broadcastView(op, buffers.lookup(leaf), shape);
      if (failed(view))
        return failure();
      args.push_back(*view);
      prologue.operands.push_back(memrefTypeOf(*view));
    }
    SmallVector<Operation *> body(prologueOps.begin(), prologueOps.end());
    prologue.body = [body, leaves, normalized](kernels::KernelBuilder &k,
                                               ArrayRef<Value> in) {
      DenseMap<Value, Value> known;
      for (auto [leaf, tile] : llvm::zip(leaves, in))
        known[leaf] = tile;
      auto shape = cast<RankedTensorType>(in[0].getType()).getShape();
      return kernels::emitFusedValue(k, body, known, normalized, shape);
    };
    auto typeOf = [](Value v) {
      return cast<RankedTensorType>(v.getType()).getElementType();
    };
    MemRefType weightType, biasType;
    SmallVector<int64_t> normArgs;
    double epsilon;
    if (auto rms = dyn_cast<RmsNormOp>(norm)) {
      normArgs.push_back(buffers.lookup(rms.getWeight()));
      weightType = memrefTypeOf(normArgs.back());
      epsilon = rms.getEpsilon().convertToDouble();
    } else {
      auto layer = cast<LayerNormOp>(norm);
      if (Value w = layer.getWeight()) {
        normArgs.push_back(buffers.lookup(w));
        weightType = memrefTypeOf(normArgs.back());
      }
      if (Value b = layer.getBias()) {
        normArgs.push_back(buffers.lookup(b));
        biasType = memrefTypeOf(normArgs.back());
      }
      epsilon = layer.getEpsilon().convertToDouble();
    }
    args.append(normArgs.begin(), normArgs.end());
    if (op.getNumResults() == 2) {
      int64_t stored = addTemporary(typeOf(normalized), shape);
      buffers[op.getResult(1)] = stored;
      args.push_back(stored);
      prologue.stored = memrefTypeOf(stored);
    }
    int64_t output = addTemporary(typeOf(norm->getResult(0)), shape);
    buffers[op.getResult(0)] = output;
    args.push_back(output);
    func::FuncOp kernel =
        isa<RmsNormOp>(norm)
            ? kernels::buildRmsNormKernel(module, kernelName(what), prologue,
                                          weightType, memrefTypeOf(output),
                                          epsilon, sizes)
            : kernels::buildLayerNormKernel(module, kernelName(what), prologue,
                                            weightType, biasType,
                                            memrefTypeOf(output), epsilon, sizes);
    addLaunch(kernel,
              {gridAxis(ArrayRef<DimExpr>(shape).drop_back(1), 1), one(), one()},
              args);
    return success();
  }
  }
  return op.emitError("unknown fusion kind");
}

int64_t PlanBuilder::reshapeView(Operation *op, int64_t source,
                                 SmallVector<DimExpr> shape) {
  if (!records[source].contiguous)
    source = contiguousCopy(op, source);
  BufferRecord view{BufferKind::View, records[source].elementType,
                    std::move(shape)};
  view.source = source;
  view.view = ViewKind::Reshape;
  return addBuffer(std::move(view));
}

LogicalResult PlanBuilder::visitReshape(ReshapeOp op) {
  DimExpr total = DimExpr::of(1);
  for (const DimExpr &d : shapeOf(op.getInput()))
    total = total * d;
  int64_t staticProduct = 1;
  for (int64_t d : op.getType().getShape())
    if (!ShapedType::isDynamic(d))
      staticProduct *= d;
  SmallVector<DimExpr> shape;
  for (int64_t d : op.getType().getShape())
    shape.push_back(ShapedType::isDynamic(d) ? total.dividedBy(staticProduct)
                                             : DimExpr::of(d));
  buffers[op.getResult()] =
      reshapeView(op, buffers.lookup(op.getInput()), std::move(shape));
  return success();
}

FailureOr<PlanBuilder::MatmulOperands>
PlanBuilder::matmulOperands(MatmulOp op) {
  int64_t rank = op.getType().getRank();
  SmallVector<DimExpr> lhsShape = shapeOf(op.getLhs()),
                       rhsShape = shapeOf(op.getRhs());
  bool tl = op.getTransposeLhs(), tr = op.getTransposeRhs();
  MatmulOperands result;
  result.m = lhsShape[lhsShape.size() - (tl ? 1 : 2)];
  result.n = rhsShape[rhsShape.size() - (tr ? 2 : 1)];
  // Batch dims of the result: from whichever operand is not broadcasting.
  for (int64_t d = 0; d + 2 < rank; ++d) {
    DimExpr chosen = DimExpr::of(1);
    for (const SmallVector<DimExpr> *s : {&lhsShape, &rhsShape}) {
      int64_t i = d - (rank - static_cast<int64_t>(s->size()));
      if (i >= 0 && !((*s)[i].isConstant() && (*s)[i].constant == 1)) {
        chosen = (*s)[i];
        break;
      }
    }
    result.batch.push_back(chosen);
  }
  auto withBatch = [&](ArrayRef<DimExpr> shape) {
    SmallVector<DimExpr> full(result.batch);
    full.append(shape.end() - 2, shape.end());
    return full;
  };
  FailureOr<int64_t> lhs =
      broadcastView(op, buffers.lookup(op.getLhs()), withBatch(lhsShape));
  FailureOr<int64_t> rhs =
      broadcastView(op, buffers.lookup(op.getRhs()), withBatch(rhsShape));
  if (failed(lhs) || failed(rhs))
    return failure();
  result.lhs = *lhs;
  result.rhs = *rhs;
  return result;
}

LogicalResult PlanBuilder::visitMatmul(MatmulOp op) {
  auto resultType = op.getType();
  bool tl = op.getTransposeLhs(), tr = op.getTransposeRhs();
  FailureOr<MatmulOperands> operands = matmulOperands(op);
  if (failed(operands))
    return failure();
  auto [lhs, rhs, batch, m, n] = *operands;
  SmallVector<DimExpr> shape = operands->shape();
  Type f32 = Float32Type::get(op.getContext());
  bool split = sizes.separateMatmulEpilogue && op.getAccumulatorType() == f32 &&
               (op.getBias() || resultType.getElementType() != f32);
  if (split) {
    FailureOr<int64_t> output = addMatmul(op, lhs, rhs, op.getBias(),
                                          resultType.getElementType(), tl, tr, batch, m, n);
    if (failed(output))
      return failure();
    buffers[op.getResult()] = *output;
    return success();
  }
  int64_t output = addTemporary(resultType.getElementType(), shape);
  buffers[op.getResult()] = output;

  SmallVector<int64_t> args = {lhs, rhs};
  kernels::MatmulKernelSpec spec;
  spec.lhs = memrefTypeOf(lhs);
  spec.rhs = {memrefTypeOf(rhs)};
  if (Value bias = op.getBias()) {
    int64_t b = buffers.lookup(bias);
    args.push_back(b);
    spec.bias = memrefTypeOf(b);
  }
  args.push_back(output);
  spec.output = memrefTypeOf(output);
  spec.transposeLhs = tl;
  spec.transposeRhs = tr;
  spec.accumulator = op.getAccumulatorType();
  func::FuncOp kernel =
      kernels::buildMatmulKernel(module, kernelName("matmul"), spec, sizes);
  addLaunch(kernel,
            {gridAxis({m}, sizes.matmulM), gridAxis({n}, sizes.matmulN),
             gridAxis(batch, 1)},
            args);
  return success();
}

LogicalResult PlanBuilder::visitLayerNorm(LayerNormOp op) {
  int64_t input = buffers.lookup(op.getInput());
  SmallVector<int64_t> args = {input};
  kernels::RowPrologue prologue;
  prologue.operands = {memrefTypeOf(input)};
  MemRefType weightType, biasType;
  if (Value weight = op.getWeight()) {
    args.push_back(buffers.lookup(weight));
    weightType = memrefTypeOf(args.back());
  }
  if (Value bias = op.getBias()) {
    args.push_back(buffers.lookup(bias));
    biasType = memrefTypeOf(args.back());
  }
  int64_t output = addTemporary(op.getType().getElementType(),
                                records[input].shape);
  buffers[op.getResult()] = output;
  args.push_back(output);
  func::FuncOp kernel = kernels::buildLayerNormKernel(
      module, kernelName("layer_norm"), prologue, weightType,
      biasType, memrefTypeOf(output), op.getEpsilon().convertToDouble(), sizes);
  ArrayRef<DimExpr> shape = records[output].shape;
  addLaunch(kernel, {gridAxis(shape.drop_back(1), 1), one(), one()}, args);
  return success();
}

LogicalResult PlanBuilder::visitReduce(ReduceOp op) {
  int64_t input = buffers.lookup(op.getInput());
  SmallVector<DimExpr> inputShape = records[input].shape;
  int64_t rank = inputShape.size();
  SmallVector<bool> reduced(rank, false);
  for (int64_t axis : op.getAxes())
    reduced[axis < 0 ? axis + rank : axis] = true;
  // Kept axes first, reduced axes last (in their order).
  SmallVector<int64_t> permutation;
  SmallVector<DimExpr> keptShape;
  for (int64_t d = 0; d < rank; ++d)
    if (!reduced[d]) {
      permutation.push_back(d);
      keptShape.push_back(inputShape[d]);
    }
  int64_t reducedRank = rank - static_cast<int64_t>(keptShape.size());
  for (int64_t d = 0; d < rank; ++d)
    if (reduced[d])
      permutation.push_back(d);
  if (keptShape.empty())
    return op.emitError("kernelization of a reduction over every axis "
                        "(a rank-0 result) is not supported yet; keep one "
                        "axis, e.g. reshape the input to [1, N] first");
  bool identity = llvm::equal(permutation, llvm::seq<int64_t>(0, rank));
  int64_t in = identity ? input : transposeView(input, permutation);
  int64_t output = addTemporary(op.getType().getElementType(), keptShape);
  kernels::ReduceCombiner combiner;
  switch (op.getKind()) {
  case ReduceKind::Sum: combiner = kernels::ReduceCombiner::Sum; break;
  case ReduceKind::Mean: combiner = kernels::ReduceCombiner::Mean; break;
  case ReduceKind::Max: combiner = kernels::ReduceCombiner::Max; break;
  case ReduceKind::Min: combiner = kernels::ReduceCombiner::Min; break;
  }
  func::FuncOp kernel = kernels::buildReduceKernel(
      module, kernelName("reduce"), combiner, memrefTypeOf(in),
      memrefTypeOf(output), reducedRank, sizes);
  addLaunch(kernel, {gridAxis(keptShape, 1), one(), one()}, {in, output});
  if (op.getKeepdims()) {
    SmallVector<DimExpr> keptDims;
    for (int64_t d = 0; d < rank; ++d)
      keptDims.push_back(reduced[d] ? DimExpr::of(1) : inputShape[d]);
    buffers[op.getResult()] = reshapeView(op, output, std::move(keptDims));
  } else {
    buffers[op.getResult()] = output;
  }
  return success();
}

LogicalResult PlanBuilder::visitRope(RopeOp op) {
  int64_t input = buffers.lookup(op.getInput());
  int64_t output = addTemporary(op.getType().getElementType(), records[input].shape);
  buffers[op.getResult()] = output;
  return addRope(op, input, output);
}

LogicalResult PlanBuilder::addRope(RopeOp op, int64_t input, int64_t output) {
  SmallVector<DimExpr> shape = records[input].shape;
  DimExpr half = shape[3].dividedBy(2);
  bool neox = op.getStyle() == RopeStyle::Neox;
  // [d0, d1, d2, 2, D/2] views: (.., 0, i) and (.., 1, i) are pair i.
  auto pairView = [&](int64_t buffer) {
    SmallVector<DimExpr> pairs(shape.begin(), shape.begin() + 3);
    if (neox) {
      pairs.push_back(DimExpr::of(2));
      pairs.push_back(half);
      return reshapeView(op, buffer, pairs);
    }
    pairs.push_back(half);
    pairs.push_back(DimExpr::of(2));
    return transposeView(reshapeView(op, buffer, pairs), {0, 1, 2, 4, 3});
  };
  int64_t in = pairView(input);
  int64_t out = pairView(output);

  int64_t sequenceDim = op.getLayout() == RopeLayout::BSHD ? 1 : 2;
  FailureOr<int64_t> positions = broadcastView(
      op, buffers.lookup(op.getPositions()), {shape[0], shape[sequenceDim]});
  if (failed(positions))
    return failure();
  SmallVector<int64_t> args = {in, *positions};
  MemRefType cosType, sinType;
  if (op.getCosTable()) {
    args.push_back(buffers.lookup(op.getCosTable()));
    cosType = memrefTypeOf(args.back());
    args.push_back(buffers.lookup(op.getSinTable()));
    sinType = memrefTypeOf(args.back());
  }
  args.push_back(out);
  func::FuncOp kernel = kernels::buildRopeKernel(
      module, kernelName("rope"), memrefTypeOf(in), memrefTypeOf(*positions),
      cosType, sinType, memrefTypeOf(out), sequenceDim,
      op.getEffectiveTheta(), sizes);
  addLaunch(kernel,
            {gridAxis(ArrayRef<DimExpr>(shape).take_front(3), 1), one(), one()},
            args);
  return success();
}

LogicalResult PlanBuilder::visitEmbedding(EmbeddingOp op) {
  int64_t table = buffers.lookup(op.getTable());
  int64_t indices = buffers.lookup(op.getIndices());
  SmallVector<DimExpr> indexShape = records[indices].shape;
  if (indexShape.empty())
    return op.emitError("kernelization of an embedding with rank-0 indices "
                        "is not supported yet; give the indices shape [1]");
  SmallVector<DimExpr> shape(indexShape);
  shape.push_back(records[table].shape[1]);
  int64_t output = addTemporary(op.getType().getElementType(), shape);
  buffers[op.getResult()] = output;
  kernels::TileSizes local = sizes.forOperands({memrefTypeOf(table)});
  func::FuncOp kernel = kernels::buildEmbeddingKernel(
      module, kernelName("embedding"), memrefTypeOf(table),
      memrefTypeOf(indices), memrefTypeOf(output), local);
  addLaunch(kernel,
            {gridAxis({shape.back()}, local.elementwiseBlock),
             gridAxis(indexShape, 1), one()},
            {table, indices, output});
  return success();
}

FailureOr<int64_t> PlanBuilder::addMatmul(Operation *op, int64_t lhs, int64_t rhs,
                                          Value bias, Type element, bool transposeLhs,
                                          bool transposeRhs, ArrayRef<DimExpr> batch,
                                          DimExpr m, DimExpr n) {
  Type f32 = Float32Type::get(module.getContext());
  SmallVector<DimExpr> shape(batch.begin(), batch.end());
  shape.push_back(m);
  shape.push_back(n);
  bool split = sizes.separateMatmulEpilogue && (bias || element != f32);
  int64_t product = addTemporary(split ? f32 : element, shape);
  kernels::MatmulKernelSpec spec;
  spec.lhs = memrefTypeOf(lhs);
  spec.rhs = {memrefTypeOf(rhs)};
  spec.output = memrefTypeOf(product);
  spec.transposeLhs = transposeLhs;
  spec.transposeRhs = transposeRhs;
  spec.accumulator = f32;
  func::FuncOp kernel =
      kernels::buildMatmulKernel(module, kernelName("matmul"), spec, sizes);
  addLaunch(kernel,
            {gridAxis({m}, sizes.matmulM), gridAxis({n}, sizes.matmulN),
             gridAxis(batch, 1)},
            {lhs, rhs, product});
  if (!split)
    return product;
  // Bias + conversion of the f32 product, elementwise.
  SmallVector<int64_t> args = {product};
  SmallVector<MemRefType> inputTypes = {memrefTypeOf(product)};
  if (bias) {
    FailureOr<int64_t> view = broadcastView(op, buffers.lookup(bias), shape);
    if (failed(view))
      return failure();
    args.push_back(*view);
    inputTypes.push_back(memrefTypeOf(*view));
  }
  int64_t output = addTemporary(element, shape);
  args.push_back(output);
  kernels::TileSizes local = sizes.forOperands(inputTypes);
  kernels::ElementwiseBody body = [](kernels::KernelBuilder &k, ArrayRef<Value> in) {
    if (in.size() == 1)
      return in[0];
    return arith::AddFOp::create(k.builder(), in[0].getLoc(), in[0], in[1]).getResult();
  };
  func::FuncOp epilogue = kernels::buildElementwiseKernel(
      module, kernelName("matmul_epilogue"), inputTypes, memrefTypeOf(output), body, local);
  addLaunch(epilogue,
            {gridAxis(ArrayRef<DimExpr>(shape).take_back(1), local.elementwiseBlock),
             gridAxis(ArrayRef<DimExpr>(shape).drop_back(1), 1), one()},
            args);
  return output;
}

/// Attention as S = Q K^T (f32), P = softmax(scale S + mask) with causal /
/// window visibility (in the value dtype, as the fused kernel rounds P),
/// O = P V: three launches through GM temporaries. Grouped-query heads are
/// batch dims: Q [B, Hkv, G, Sq, D] against K [B, Hkv, 1 -> G, Sk, D].
LogicalResult PlanBuilder::visitUnfusedAttention(AttentionOp op) {
  auto queryType = cast<RankedTensorType>(op.getQuery().getType());
  auto keyType = cast<RankedTensorType>(op.getKey().getType());
  auto valueType = cast<RankedTensorType>(op.getValue().getType());
  if (queryType.isDynamicDim(1) || keyType.isDynamicDim(1))
    return op.emitError("unfused attention needs static head counts; got ")
           << queryType << " and " << keyType;
  int64_t heads = queryType.getDimSize(1), kvHeads = keyType.getDimSize(1);
  int64_t group = heads / kvHeads;
  SmallVector<DimExpr> qShape = shapeOf(op.getQuery()), kShape = shapeOf(op.getKey()),
                       vShape = shapeOf(op.getValue());
  DimExpr b = qShape[0], sq = qShape[2], sk = kShape[2], dv = vShape[3];
  DimExpr hkv = DimExpr::of(kvHeads), g = DimExpr::of(group);
  int64_t q = reshapeView(op, buffers.lookup(op.getQuery()), {b, hkv, g, sq, qShape[3]});
  auto perGroup = [&](Value v, SmallVector<DimExpr> shape) -> FailureOr<int64_t> {
    int64_t unit = reshapeView(op, buffers.lookup(v),
                               {shape[0], hkv, DimExpr::of(1), shape[2], shape[3]});
    return broadcastView(op, unit, {shape[0], hkv, g, shape[2], shape[3]});
  };
  FailureOr<int64_t> k = perGroup(op.getKey(), kShape);
  FailureOr<int64_t> v = perGroup(op.getValue(), vShape);
  if (failed(k) || failed(v))
    return failure();
  SmallVector<DimExpr> batch = {b, hkv, g};
  Type f32 = Float32Type::get(op.getContext());
  FailureOr<int64_t> scores = addMatmul(op, q, *k, Value(), f32, /*transposeLhs=*/false,
                                        /*transposeRhs=*/true, batch, sq, sk);
  if (failed(scores))
    return failure();

  SmallVector<int64_t> args = {*scores};
  MemRefType maskType;
  SmallVector<DimExpr> scoreShape = {b, hkv, g, sq, sk};
  if (Value mask = op.getMask()) {
    // The mask is [.., Sq, Sk] against [B, Hq, Sq, Sk]: broadcast, then
    // split Hq (a mask per head is a view with the heads split).
    FailureOr<int64_t> full =
        broadcastView(op, buffers.lookup(mask), {b, DimExpr::of(heads), sq, sk});
    if (failed(full))
      return failure();
    FailureOr<int64_t> view = broadcastView(
        op, reshapeView(op, *full, scoreShape), scoreShape);
    if (failed(view))
      return failure();
    args.push_back(*view);
    maskType = memrefTypeOf(*view);
  }
  int64_t probabilities = addTemporary(valueType.getElementType(), scoreShape);
  args.push_back(probabilities);
  func::FuncOp softmax = kernels::buildAttentionSoftmaxKernel(
      module, kernelName("attention_softmax"), memrefTypeOf(*scores), maskType,
      memrefTypeOf(probabilities), *op.getEffectiveScale(), op.getCausal(),
      op.getWindow(), sizes);
  addLaunch(softmax, {gridAxis({b, hkv, g, sq}, 1), one(), one()}, args);

  FailureOr<int64_t> out =
      addMatmul(op, probabilities, *v, Value(), op.getType().getElementType(),
                /*transposeLhs=*/false, /*transposeRhs=*/false, batch, sq, dv);
  if (failed(out))
    return failure();
  buffers[op.getResult()] = reshapeView(op, *out, {b, DimExpr::of(heads), sq, dv});
  return success();
}

LogicalResult PlanBuilder::visitAttention(AttentionOp op) {
  if (sizes.unfusedAttention)
    return visitUnfusedAttention(op);
  auto queryType = cast<RankedTensorType>(op.getQuery().getType());
  auto valueType = cast<RankedTensorType>(op.getValue().getType());
  kernels::AttentionOptions options;
  options.headDim = queryType.getDimSize(3);
  options.valueHeadDim = valueType.getDimSize(3);
  if (ShapedType::isDynamic(options.headDim) ||
      ShapedType::isDynamic(options.valueHeadDim))
    return op.emitError("attention kernels need static head dims (tiles are "
                        "sized by them); got query ")
           << queryType << " and value " << valueType;
  std::optional<double> scale = op.getEffectiveScale();
  options.scale = *scale; // static head dim: always known
  options.causal = op.getCausal();
  options.window = op.getWindow();

  int64_t query = buffers.lookup(op.getQuery());
  SmallVector<DimExpr> qShape = records[query].shape,
                       kShape = shapeOf(op.getKey()),
                       vShape = shapeOf(op.getValue());
  SmallVector<int64_t> args = {query, buffers.lookup(op.getKey()),
                               buffers.lookup(op.getValue())};
  MemRefType maskType;
  if (Value mask = op.getMask()) {
    FailureOr<int64_t> view = broadcastView(
        op, buffers.lookup(mask), {qShape[0], qShape[1], qShape[2], kShape[2]});
    if (failed(view))
      return failure();
    args.push_back(*view);
    maskType = memrefTypeOf(*view);
  }
  SmallVector<DimExpr> shape = {qShape[0], qShape[1], qShape[2], vShape[3]};
  int64_t output = addResultBuffer(op.getResult(), shape);
  args.push_back(output);
  func::FuncOp kernel = kernels::buildAttentionKernel(
      module, kernelName("attention"), memrefTypeOf(args[0]),
      memrefTypeOf(args[1]), memrefTypeOf(args[2]), maskType,
      memrefTypeOf(output), options, sizes);
  addLaunch(kernel,
            {gridAxis({qShape[2]}, sizes.attentionM),
             gridAxis({qShape[0], qShape[1]}, 1), one()},
            args);
  return success();
}

LogicalResult PlanBuilder::visit(Operation *op) {
  // Only elementwise ops compute with (splat) constants; everything else
  // reads buffers.
  auto readsBuffers = [&](Operation *reader) -> LogicalResult {
    if (isa<arith::ConstantOp, FusionOp>(reader) ||
        (FusionOp::isElementwise(reader) && !isa<CastOp>(reader)))
      return success();
    for (auto [i, operand] : llvm::enumerate(reader->getOperands()))
      if (!buffers.count(operand) &&
          !(operand.getDefiningOp() &&
            isa<FusionOp>(operand.getDefiningOp()->getParentOp())))
        return reader->emitError("operand #")
               << i << " is a constant; only elementwise ops can take "
               << "constants in a compiled graph";
    return success();
  };
  if (failed(readsBuffers(op)))
    return failure();
  if (auto fusion = dyn_cast<FusionOp>(op))
    for (Operation *inner : fusion.getBodyOps())
      if (failed(readsBuffers(inner)))
        return failure();
  auto elementwise = [&](StringRef what) -> LogicalResult {
    for (Value operand : op->getOperands())
      if (!buffers.count(operand) && !FusionOp::isSplatConstant(operand.getDefiningOp()))
        return op->emitError("operand ")
               << operand << " is a constant that is not a splat; graph "
               << "constants other than splats have no kernel yet";
    FailureOr<int64_t> output =
        addFusedElementwise(op, {op}, op->getResult(0), elementwiseShape(op), what);
    if (failed(output))
      return failure();
    buffers[op->getResult(0)] = *output;
    return success();
  };
  return llvm::TypeSwitch<Operation *, LogicalResult>(op)
      .Case<AddOp, SubOp, MulOp, DivOp, MaxOp, MinOp, SwigluOp, ExpOp, LogOp,
            SqrtOp, RsqrtOp, NegOp, AbsOp, TanhOp, SigmoidOp, ReluOp, SiluOp,
            GeluOp>([&](Operation *) {
        return elementwise(op->getName().stripDialect());
      })
      .Case([&](CastOp) {
        return visitElementwise(
            op, "cast", [](kernels::KernelBuilder &, ArrayRef<Value> in) {
              return in[0];
            });
      })
      .Case([&](ReshapeOp reshape) { return visitReshape(reshape); })
      .Case([&](TransposeOp transpose) {
        int64_t input = buffers.lookup(transpose.getInput());
        SmallVector<int64_t> permutation(transpose.getPermutation());
        // A transpose of a transpose view is one view of the source, and
        // the source itself when the two cancel.
        if (records[input].kind == BufferKind::View &&
            records[input].view == ViewKind::Transpose) {
          for (int64_t &p : permutation)
            p = records[input].permutation[p];
          input = records[input].source;
        }
        buffers[transpose.getResult()] =
            llvm::equal(permutation, llvm::seq<int64_t>(0, permutation.size()))
                ? input
                : transposeView(input, permutation);
        return success();
      })
      .Case([&](MatmulOp matmul) { return visitMatmul(matmul); })
      .Case([&](FusionOp fusion) { return visitFusion(fusion); })
      .Case([&](arith::ConstantOp constant) -> LogicalResult {
        // Splats are computed where they are used; other constants have
        // no buffer yet.
        if (FusionOp::isSplatConstant(constant))
          return success();
        return constant.emitError("graph constants other than float splats "
                                  "are not supported by kernelization yet");
      })
      .Case([&](LayerNormOp norm) { return visitLayerNorm(norm); })
      .Case([&](ReduceOp reduce) { return visitReduce(reduce); })
      .Case([&](RopeOp rope) { return visitRope(rope); })
      .Case([&](EmbeddingOp embedding) { return visitEmbedding(embedding); })
      .Case([&](AttentionOp attention) { return visitAttention(attention); })
      .Case([&](RmsNormOp norm) -> LogicalResult {
        int64_t input = buffers.lookup(norm.getInput());
        int64_t weight = buffers.lookup(norm.getWeight());
        BufferRecord out{BufferKind::Temporary,
                         norm.getType().getElementType(), records[input].shape};
        int64_t output = addBuffer(std::move(out));
        buffers[norm.getResult()] = output;
        func::FuncOp kernel = kernels::buildRmsNormKernel(
            module, kernelName("rms_norm"),
            kernels::RowPrologue{{memrefTypeOf(input)}, nullptr, MemRefType()},
            memrefTypeOf(weight), memrefTypeOf(output),
            norm.getEpsilon().convertToDouble(), sizes);
        ArrayRef<DimExpr> shape = records[output].shape;
        addLaunch(kernel, {gridAxis(shape.drop_back(1), 1), one(), one()},
                  {input, weight, output});
        return success();
      })
      .Case([&](SoftmaxOp softmax) -> LogicalResult {
        int64_t rank = softmax.getType().getRank();
        int64_t axis = static_cast<int64_t>(softmax.getAxis());
        if (axis < 0)
          axis += rank;
        int64_t input = buffers.lookup(softmax.getInput());
        BufferRecord out{BufferKind::Temporary,
                         softmax.getType().getElementType(),
                         records[input].shape};
        int64_t output = addBuffer(std::move(out));
        buffers[softmax.getResult()] = output;
        // Softmax over another axis: the kernel reads and writes transposed
        // views that put the axis last.
        int64_t in = input, result = output;
        if (axis != rank - 1) {
          SmallVector<int64_t> permutation;
          for (int64_t d = 0; d < rank; ++d)
            if (d != axis)
              permutation.push_back(d);
          permutation.push_back(axis);
          in = transposeView(input, permutation);
          result = transposeView(output, permutation);
        }
        func::FuncOp kernel = kernels::buildSoftmaxKernel(
            module, kernelName("softmax"), memrefTypeOf(in),
            memrefTypeOf(result), softmax.getScale().convertToDouble(), sizes);
        ArrayRef<DimExpr> shape = records[result].shape;
        addLaunch(kernel, {gridAxis(shape.drop_back(1), 1), one(), one()},
                  {in, result});
        return success();
      })
      .Default([&](Operation *other) {
        return other->emitError("'")
               << other->getName()
               << "' has no kernel in the kernel library yet; it cannot be "
                  "compiled for any target";
      });
}

struct KernelizePass : prism::impl::KernelizeBase<KernelizePass> {
  using KernelizeBase::KernelizeBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    kernels::TileSizes sizes;
    sizes.elementwiseBlock = elementwiseBlock;
    sizes.rowBlock = rowBlock;
    sizes.matmulM = matmulM;
    sizes.matmulN = matmulN;
    sizes.matmulK = matmulK;
    sizes.attentionM = attentionM;
    sizes.attentionN = attentionN;
    sizes.stridedBlock = stridedBlock;
    sizes.separateMatmulEpilogue = separateMatmulEpilogue;
    sizes.unfusedAttention = unfusedAttention;
    SmallVector<func::FuncOp> graphs;
    for (auto function : module.getOps<func::FuncOp>())
      if (!function->hasAttr(tile::TileDialect::getKernelAttrName()) &&
          !function.isExternal() && !function->hasAttr(kPlanAttrName))
        graphs.push_back(function);
    llvm::StringMap<func::FuncOp> kernelsByText;
    for (func::FuncOp function : graphs) {
      PlanBuilder plan(module, function, sizes, kernelsByText);
      if (failed(plan.build()))
        return signalPassFailure();
    }
  }
};

} // namespace
