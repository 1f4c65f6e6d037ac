//===- PlanBuilder.cpp - Buffers, views, and the walk over a function -----===//

#include "passes/Kernelize/PlanBuilder.h"

#include "passes/Passes.h"
#include "prism/Runtime/Bundle.h"

#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;

namespace prism::kernelize {

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
            rowBlocksGrid(shape, local.elementwiseBlock),
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
    // The kernels this op gets carry its location (the kernel library
    // builds them at the module's), so that a later lowering error names
    // the op's line.
    // New kernels are appended to the module (a duplicate is erased, not
    // an earlier kernel), so they follow its last op before the visit.
    Operation *last = &module.getBody()->back();
    if (failed(visit(&op)))
      return failure();
    for (Operation *kernel = last->getNextNode(); kernel; kernel = kernel->getNextNode())
      kernel->walk([&](Operation *inner) {
        if (inner->getLoc() == module.getLoc())
          inner->setLoc(op.getLoc());
      });
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
           attr("outputs", builder.getDenseI64ArrayAttr(outputs)),
           attr("checks", builder.getArrayAttr(checks))}));
  return success();
}

/// "prism.matmul at FILE:LINE:COL" (or without the place).
static std::string describe(Operation *op) {
  std::string text = op->getName().getStringRef().str();
  if (auto place = dyn_cast<FileLineColLoc>(op->getLoc()))
    text += " at " + place.getFilename().str() + ":" + std::to_string(place.getLine()) + ":" +
            std::to_string(place.getColumn());
  return text;
}

LogicalResult PlanBuilder::requireSizes(Operation *op, StringRef kind, const DimExpr &lhs,
                                        const DimExpr &rhs, const Twine &what) {
  if (lhs == rhs && kind == "equal")
    return success();
  if (lhs.isConstant() && rhs.isConstant()) {
    if (!runtime::shapeCheckHolds(kind.str(), lhs.constant, rhs.constant))
      return op->emitError() << what << (kind == "equal" ? " must be equal" : "")
                             << ", but they are " << lhs.constant
                             << (kind == "positive" ? "" : " and " + std::to_string(rhs.constant));
    return success();
  }
  checks.push_back(builder.getDictionaryAttr(
      {builder.getNamedAttr("kind", builder.getStringAttr(kind)),
       builder.getNamedAttr("lhs", lhs.toAttr(builder)),
       builder.getNamedAttr("rhs", rhs.toAttr(builder)),
       builder.getNamedAttr("what", builder.getStringAttr(describe(op) + ": " + what.str()))}));
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
            rowBlocksGrid(shape, local.elementwiseBlock),
            args);
  return success();
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


LogicalResult PlanBuilder::visit(Operation *op) {
  // Every operand is a buffer, a value computed inside the same fusion, or,
  // for elementwise ops, a splat constant (computed in the kernel); other
  // constants are refused where they are defined (see arith.constant below).
  auto readsBuffers = [&](Operation *reader) -> LogicalResult {
    bool takesSplats = FusionOp::isElementwise(reader) && !isa<CastOp>(reader);
    for (auto [i, operand] : llvm::enumerate(reader->getOperands())) {
      Operation *def = operand.getDefiningOp();
      if (buffers.count(operand) || (def && isa<FusionOp>(def->getParentOp())) ||
          (takesSplats && FusionOp::isSplatConstant(def)))
        continue;
      return reader->emitError("operand #")
             << i << " is a constant; only elementwise ops can take "
             << "constants in a compiled graph";
    }
    return success();
  };
  if (auto fusion = dyn_cast<FusionOp>(op)) {
    for (Operation *inner : fusion.getBodyOps())
      if (!FusionOp::isSplatConstant(inner) && failed(readsBuffers(inner)))
        return failure();
  } else if (!isa<arith::ConstantOp>(op) && failed(readsBuffers(op))) {
    return failure();
  }
  auto elementwise = [&](StringRef what) -> LogicalResult {
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
        return addNorm(
            norm, kernels::RowPrologue{{memrefTypeOf(input)}, nullptr, MemRefType()},
            {input}, records[input].shape, norm.getResult(), Value(), "rms_norm");
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
            memrefTypeOf(result), softmax.getScale().convertToDouble(),
            sizes.forRow(staticSize(records[result].shape.back())));
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

} // namespace prism::kernelize
