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
              const kernels::TileSizes &sizes)
      : module(module), function(function), sizes(sizes),
        builder(module.getContext()) {}

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
    launches.push_back(builder.getDictionaryAttr(
        {builder.getNamedAttr("kernel", SymbolRefAttr::get(kernel)),
         builder.getNamedAttr("grid", builder.getArrayAttr({grid[0], grid[1],
                                                            grid[2]})),
         builder.getNamedAttr("args", builder.getDenseI64ArrayAttr(args))}));
  }
  DictionaryAttr one() { return gridAxis({}, 1); }

  // Ops.
  LogicalResult visit(Operation *op);
  LogicalResult visitElementwise(Operation *op, StringRef what,
                                 const kernels::ElementwiseBody &body);
  LogicalResult visitReshape(ReshapeOp op);
  LogicalResult visitMatmul(MatmulOp op);

  ModuleOp module;
  func::FuncOp function;
  kernels::TileSizes sizes;
  Builder builder;
  SmallVector<BufferRecord> records;
  DenseMap<Value, int64_t> buffers;
  SmallVector<Attribute> launches;
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
  size_t lead = target.size() - src.shape.size();
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
  func::FuncOp kernel = kernels::buildElementwiseKernel(
      module, kernelName("copy"), {memrefTypeOf(source)}, memrefTypeOf(target),
      [](kernels::KernelBuilder &, ArrayRef<Value> in) { return in[0]; },
      sizes);
  ArrayRef<DimExpr> shape = records[target].shape;
  addLaunch(kernel,
            {gridAxis(shape.take_back(1), sizes.elementwiseBlock),
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

/// The f32 body of each elementwise op.
static Value unaryBody(OpBuilder &b, Location loc, Operation *op, Value x) {
  auto splatLike = [&](double value) {
    auto type = cast<RankedTensorType>(x.getType());
    Value scalar = arith::ConstantOp::create(
        b, loc, b.getF32Type(), b.getF32FloatAttr(static_cast<float>(value)));
    return tile::SplatOp::create(b, loc, type, scalar).getResult();
  };
  auto sigmoid = [&](Value v) {
    Value e = math::ExpOp::create(b, loc, arith::NegFOp::create(b, loc, v));
    return arith::DivFOp::create(b, loc, splatLike(1.0),
                                 arith::AddFOp::create(b, loc, splatLike(1.0), e))
        .getResult();
  };
  return llvm::TypeSwitch<Operation *, Value>(op)
      .Case([&](ExpOp) { return math::ExpOp::create(b, loc, x); })
      .Case([&](LogOp) { return math::LogOp::create(b, loc, x); })
      .Case([&](SqrtOp) { return math::SqrtOp::create(b, loc, x); })
      .Case([&](RsqrtOp) { return math::RsqrtOp::create(b, loc, x); })
      .Case([&](NegOp) { return arith::NegFOp::create(b, loc, x); })
      .Case([&](AbsOp) { return math::AbsFOp::create(b, loc, x); })
      .Case([&](TanhOp) { return math::TanhOp::create(b, loc, x); })
      .Case([&](SigmoidOp) { return sigmoid(x); })
      .Case([&](ReluOp) {
        // maxnumf would turn NaN into 0; relu(NaN) is NaN.
        return arith::MaximumFOp::create(b, loc, x, splatLike(0.0));
      })
      .Case([&](SiluOp) { return arith::MulFOp::create(b, loc, x, sigmoid(x)); })
      .Case([&](GeluOp gelu) -> Value {
        Value half = arith::MulFOp::create(b, loc, x, splatLike(0.5));
        Value inner;
        if (gelu.getApproximate() == GeluApproximation::Tanh) {
          Value cube = arith::MulFOp::create(
              b, loc, x, arith::MulFOp::create(b, loc, x, x));
          Value poly = arith::AddFOp::create(
              b, loc, x, arith::MulFOp::create(b, loc, cube, splatLike(0.044715)));
          inner = math::TanhOp::create(
              b, loc,
              arith::MulFOp::create(b, loc, poly,
                                    splatLike(std::sqrt(2.0 / M_PI))));
        } else {
          inner = math::ErfOp::create(
              b, loc, arith::MulFOp::create(b, loc, x, splatLike(M_SQRT1_2)));
        }
        return arith::MulFOp::create(
            b, loc, half, arith::AddFOp::create(b, loc, splatLike(1.0), inner));
      })
      .Default([](Operation *) { return Value(); });
}

static Value binaryBody(OpBuilder &b, Location loc, Operation *op, Value x,
                        Value y) {
  return llvm::TypeSwitch<Operation *, Value>(op)
      .Case([&](AddOp) { return arith::AddFOp::create(b, loc, x, y); })
      .Case([&](SubOp) { return arith::SubFOp::create(b, loc, x, y); })
      .Case([&](MulOp) { return arith::MulFOp::create(b, loc, x, y); })
      .Case([&](DivOp) { return arith::DivFOp::create(b, loc, x, y); })
      .Case([&](MaxOp) { return arith::MaximumFOp::create(b, loc, x, y); })
      .Case([&](MinOp) { return arith::MinimumFOp::create(b, loc, x, y); })
      .Case([&](SwigluOp) {
        Value e = math::ExpOp::create(b, loc, arith::NegFOp::create(b, loc, x));
        auto type = cast<RankedTensorType>(x.getType());
        Value one = tile::SplatOp::create(
            b, loc, type,
            arith::ConstantOp::create(b, loc, b.getF32Type(),
                                      b.getF32FloatAttr(1.0f)));
        Value silu = arith::DivFOp::create(
            b, loc, x, arith::AddFOp::create(b, loc, one, e));
        return arith::MulFOp::create(b, loc, silu, y);
      })
      .Default([](Operation *) { return Value(); });
}

LogicalResult PlanBuilder::visitElementwise(Operation *op, StringRef what,
                                            const kernels::ElementwiseBody &body) {
  Value result = op->getResult(0);
  auto resultType = cast<RankedTensorType>(result.getType());
  if (resultType.getRank() == 0)
    return op->emitError("kernelization of rank-0 results is not supported yet");
  // The result shape: per dimension, the first operand dimension that is not
  // a broadcast 1 (numpy rules were checked by the verifier).
  SmallVector<DimExpr> shape;
  for (int64_t d = 0; d < resultType.getRank(); ++d) {
    DimExpr chosen = DimExpr::of(1);
    for (Value operand : op->getOperands()) {
      SmallVector<DimExpr> s = shapeOf(operand);
      int64_t i = d - (resultType.getRank() - static_cast<int64_t>(s.size()));
      if (i >= 0 && !(s[i].isConstant() && s[i].constant == 1)) {
        chosen = s[i];
        break;
      }
    }
    shape.push_back(chosen);
  }
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
  func::FuncOp kernel = kernels::buildElementwiseKernel(
      module, kernelName(what), inputTypes, memrefTypeOf(output), body, sizes);
  addLaunch(kernel,
            {gridAxis(ArrayRef<DimExpr>(shape).take_back(1),
                      sizes.elementwiseBlock),
             gridAxis(ArrayRef<DimExpr>(shape).drop_back(1), 1), one()},
            args);
  return success();
}

LogicalResult PlanBuilder::visitReshape(ReshapeOp op) {
  int64_t source = buffers.lookup(op.getInput());
  if (!records[source].contiguous)
    source = contiguousCopy(op, source);
  SmallVector<DimExpr> sourceShape = records[source].shape;
  DimExpr total = DimExpr::of(1);
  for (const DimExpr &d : sourceShape)
    total = total * d;
  int64_t staticProduct = 1;
  for (int64_t d : op.getType().getShape())
    if (!ShapedType::isDynamic(d))
      staticProduct *= d;
  BufferRecord view{BufferKind::View, records[source].elementType, {}};
  for (int64_t d : op.getType().getShape()) {
    if (!ShapedType::isDynamic(d)) {
      view.shape.push_back(DimExpr::of(d));
      continue;
    }
    DimExpr dynamic = total;
    if (dynamic.constant % staticProduct == 0)
      dynamic.constant /= staticProduct;
    else
      dynamic.divisor *= staticProduct;
    view.shape.push_back(dynamic);
  }
  view.source = source;
  view.view = ViewKind::Reshape;
  buffers[op.getResult()] = addBuffer(std::move(view));
  return success();
}

LogicalResult PlanBuilder::visitMatmul(MatmulOp op) {
  auto resultType = op.getType();
  int64_t rank = resultType.getRank();
  SmallVector<DimExpr> lhsShape = shapeOf(op.getLhs()),
                       rhsShape = shapeOf(op.getRhs());
  bool tl = op.getTransposeLhs(), tr = op.getTransposeRhs();
  DimExpr m = lhsShape[lhsShape.size() - (tl ? 1 : 2)];
  DimExpr n = rhsShape[rhsShape.size() - (tr ? 2 : 1)];
  // Batch dims of the result: from whichever operand is not broadcasting.
  SmallVector<DimExpr> batch;
  for (int64_t d = 0; d + 2 < rank; ++d) {
    DimExpr chosen = DimExpr::of(1);
    for (const SmallVector<DimExpr> *s : {&lhsShape, &rhsShape}) {
      int64_t i = d - (rank - static_cast<int64_t>(s->size()));
      if (i >= 0 && !((*s)[i].isConstant() && (*s)[i].constant == 1)) {
        chosen = (*s)[i];
        break;
      }
    }
    batch.push_back(chosen);
  }
  auto withBatch = [&](ArrayRef<DimExpr> shape) {
    SmallVector<DimExpr> full(batch);
    full.append(shape.end() - 2, shape.end());
    return full;
  };
  FailureOr<int64_t> lhs =
      broadcastView(op, buffers.lookup(op.getLhs()), withBatch(lhsShape));
  FailureOr<int64_t> rhs =
      broadcastView(op, buffers.lookup(op.getRhs()), withBatch(rhsShape));
  if (failed(lhs) || failed(rhs))
    return failure();
  SmallVector<DimExpr> shape(batch);
  shape.push_back(m);
  shape.push_back(n);
  BufferRecord out{BufferKind::Temporary, resultType.getElementType(), shape};
  int64_t output = addBuffer(std::move(out));
  buffers[op.getResult()] = output;

  SmallVector<int64_t> args = {*lhs, *rhs};
  MemRefType biasType;
  if (Value bias = op.getBias()) {
    int64_t b = buffers.lookup(bias);
    args.push_back(b);
    biasType = memrefTypeOf(b);
  }
  args.push_back(output);
  func::FuncOp kernel = kernels::buildMatmulKernel(
      module, kernelName("matmul"), memrefTypeOf(*lhs), memrefTypeOf(*rhs),
      biasType, memrefTypeOf(output), tl, tr, op.getAccumulatorType(), sizes);
  addLaunch(kernel,
            {gridAxis({m}, sizes.matmulM), gridAxis({n}, sizes.matmulN),
             gridAxis(batch, 1)},
            args);
  return success();
}

LogicalResult PlanBuilder::visit(Operation *op) {
  Location loc = op->getLoc();
  auto elementwise = [&](StringRef what) {
    return visitElementwise(
        op, what,
        [op, loc](kernels::KernelBuilder &k, ArrayRef<Value> in) -> Value {
          OpBuilder &b = k.builder();
          if (in.size() == 1)
            return unaryBody(b, loc, op, in[0]);
          return binaryBody(b, loc, op, in[0], in[1]);
        });
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
        buffers[transpose.getResult()] = transposeView(
            buffers.lookup(transpose.getInput()), transpose.getPermutation());
        return success();
      })
      .Case([&](MatmulOp matmul) { return visitMatmul(matmul); })
      .Case([&](RmsNormOp norm) -> LogicalResult {
        int64_t input = buffers.lookup(norm.getInput());
        int64_t weight = buffers.lookup(norm.getWeight());
        BufferRecord out{BufferKind::Temporary,
                         norm.getType().getElementType(), records[input].shape};
        int64_t output = addBuffer(std::move(out));
        buffers[norm.getResult()] = output;
        func::FuncOp kernel = kernels::buildRmsNormKernel(
            module, kernelName("rms_norm"), memrefTypeOf(input),
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
    SmallVector<func::FuncOp> graphs;
    for (auto function : module.getOps<func::FuncOp>())
      if (!function->hasAttr(tile::TileDialect::getKernelAttrName()) &&
          !function.isExternal() && !function->hasAttr(kPlanAttrName))
        graphs.push_back(function);
    for (func::FuncOp function : graphs) {
      PlanBuilder plan(module, function, sizes);
      if (failed(plan.build()))
        return signalPassFailure();
    }
  }
};

} // namespace
