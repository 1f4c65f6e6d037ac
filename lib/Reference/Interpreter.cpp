//===- Interpreter.cpp - Evaluate a prism function in float64 -------------===//

#include "prism/Reference/Interpreter.h"

#include "dialects/Prism/IR/PrismOps.h"
#include "prism/Reference/ReferenceOps.h"

#include "llvm/ADT/APFloat.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/TypeSwitch.h"

#include <cstring>

using namespace mlir;

namespace prism::reference {

static llvm::Error unsupported(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

static std::optional<ElementKind> elementKindOf(Type type) {
  if (type.isF32())
    return ElementKind::F32;
  if (type.isF16())
    return ElementKind::F16;
  if (type.isBF16())
    return ElementKind::BF16;
  if (isa<Float8E4M3FNType>(type))
    return ElementKind::F8E4M3FN;
  if (type.isSignlessInteger(8))
    return ElementKind::I8;
  return std::nullopt;
}

llvm::Expected<std::vector<Tensor>> evaluateFunction(func::FuncOp function,
                                                     ArrayRef<Tensor> inputs) {
  if (inputs.size() != function.getNumArguments())
    return unsupported("evaluateFunction: wrong number of inputs");
  llvm::DenseMap<Value, Tensor> values;
  for (auto [argument, input] : llvm::zip(function.getArguments(), inputs))
    values[argument] = input;
  auto get = [&](Value v) -> const Tensor & { return values[v]; };
  auto optional = [&](Value v) -> const Tensor * {
    return v ? &values[v] : nullptr;
  };

  for (Operation &op : function.getBody().front()) {
    if (auto ret = dyn_cast<func::ReturnOp>(op)) {
      std::vector<Tensor> results;
      for (Value v : ret.getOperands())
        results.push_back(get(v));
      return results;
    }
    auto binaryKind = [&](Operation *o) -> std::optional<BinaryKind> {
      return llvm::TypeSwitch<Operation *, std::optional<BinaryKind>>(o)
          .Case([](AddOp) { return BinaryKind::Add; })
          .Case([](SubOp) { return BinaryKind::Sub; })
          .Case([](MulOp) { return BinaryKind::Mul; })
          .Case([](DivOp) { return BinaryKind::Div; })
          .Case([](MaxOp) { return BinaryKind::Max; })
          .Case([](MinOp) { return BinaryKind::Min; })
          .Default([](Operation *) { return std::nullopt; });
    };
    auto unaryKind = [&](Operation *o) -> std::optional<UnaryKind> {
      return llvm::TypeSwitch<Operation *, std::optional<UnaryKind>>(o)
          .Case([](ExpOp) { return UnaryKind::Exp; })
          .Case([](LogOp) { return UnaryKind::Log; })
          .Case([](SqrtOp) { return UnaryKind::Sqrt; })
          .Case([](RsqrtOp) { return UnaryKind::Rsqrt; })
          .Case([](NegOp) { return UnaryKind::Neg; })
          .Case([](AbsOp) { return UnaryKind::Abs; })
          .Case([](TanhOp) { return UnaryKind::Tanh; })
          .Case([](SigmoidOp) { return UnaryKind::Sigmoid; })
          .Case([](ReluOp) { return UnaryKind::Relu; })
          .Case([](SiluOp) { return UnaryKind::Silu; })
          .Case([](GeluOp g) {
            return g.getApproximate() == GeluApproximation::Tanh
                       ? UnaryKind::GeluTanh
                       : UnaryKind::GeluErf;
          })
          .Default([](Operation *) { return std::nullopt; });
    };

    llvm::Expected<Tensor> result = unsupported("");
    llvm::consumeError(result.takeError());
    if (auto kind = binaryKind(&op)) {
      result = binary(*kind, get(op.getOperand(0)), get(op.getOperand(1)));
    } else if (auto kind = unaryKind(&op)) {
      result = unary(*kind, get(op.getOperand(0)));
    } else if (auto o = dyn_cast<SwigluOp>(op)) {
      result = swiglu(get(o.getGate()), get(o.getUp()));
    } else if (auto o = dyn_cast<SoftmaxOp>(op)) {
      result = softmax(get(o.getInput()), static_cast<int64_t>(o.getAxis()),
                       o.getScale().convertToDouble());
    } else if (auto o = dyn_cast<ReduceOp>(op)) {
      ReduceKind kind = o.getKind() == prism::ReduceKind::Sum   ? ReduceKind::Sum
                        : o.getKind() == prism::ReduceKind::Max ? ReduceKind::Max
                        : o.getKind() == prism::ReduceKind::Min ? ReduceKind::Min
                                                                : ReduceKind::Mean;
      std::vector<int64_t> axes(o.getAxes().begin(), o.getAxes().end());
      result = reduce(kind, get(o.getInput()), axes, o.getKeepdims());
    } else if (auto o = dyn_cast<RmsNormOp>(op)) {
      result = rmsNorm(get(o.getInput()), get(o.getWeight()),
                       o.getEpsilon().convertToDouble());
    } else if (auto o = dyn_cast<LayerNormOp>(op)) {
      result = layerNorm(get(o.getInput()), optional(o.getWeight()),
                         optional(o.getBias()), o.getEpsilon().convertToDouble());
    } else if (auto o = dyn_cast<MatmulOp>(op)) {
      result = matmul(get(o.getLhs()), get(o.getRhs()), optional(o.getBias()),
                      {o.getTransposeLhs(), o.getTransposeRhs()});
    } else if (auto o = dyn_cast<AttentionOp>(op)) {
      AttentionOptions options;
      options.causal = o.getCausal();
      if (std::optional<APFloat> scale = o.getScale())
        options.scale = scale->convertToDouble();
      else
        options.scale = 1.0 / std::sqrt(static_cast<double>(
                                  get(o.getQuery()).shape.back()));
      if (std::optional<uint64_t> window = o.getWindow())
        options.window = static_cast<int64_t>(*window);
      result = attention(get(o.getQuery()), get(o.getKey()), get(o.getValue()),
                         optional(o.getMask()), options);
    } else if (auto o = dyn_cast<RopeOp>(op)) {
      RopeOptions options;
      options.interleaved = o.getStyle() == RopeStyle::Interleaved;
      options.bhsd = o.getLayout() == RopeLayout::BHSD;
      options.theta = o.getEffectiveTheta();
      options.cosTable = optional(o.getCosTable());
      options.sinTable = optional(o.getSinTable());
      result = rope(get(o.getInput()), get(o.getPositions()), options);
    } else if (auto o = dyn_cast<EmbeddingOp>(op)) {
      result = embedding(get(o.getTable()), get(o.getIndices()));
    } else if (auto o = dyn_cast<TransposeOp>(op)) {
      std::vector<int64_t> perm(o.getPermutation().begin(),
                                o.getPermutation().end());
      result = transpose(get(o.getInput()), perm);
    } else if (auto o = dyn_cast<ReshapeOp>(op)) {
      std::vector<int64_t> shape;
      for (int64_t d : o.getType().getShape())
        shape.push_back(ShapedType::isDynamic(d) ? -1 : d);
      result = reshape(get(o.getInput()), shape);
    } else if (auto o = dyn_cast<CastOp>(op)) {
      std::optional<ElementKind> kind =
          elementKindOf(o.getType().getElementType());
      if (!kind)
        return unsupported("cast to an unsupported element type");
      result = castTo(get(o.getInput()), *kind);
    } else {
      return unsupported("the reference has no evaluation for '" +
                         op.getName().getStringRef() + "'");
    }
    if (!result)
      return result.takeError();
    values[op.getResult(0)] = std::move(*result);
  }
  return unsupported("function has no return");
}

//===----------------------------------------------------------------------===//
// Host tensors
//===----------------------------------------------------------------------===//

static const llvm::fltSemantics *semanticsOf(const std::string &dtype) {
  if (dtype == "f16")
    return &llvm::APFloat::IEEEhalf();
  if (dtype == "bf16")
    return &llvm::APFloat::BFloat();
  if (dtype == "f8E4M3FN")
    return &llvm::APFloat::Float8E4M3FN();
  return nullptr;
}

llvm::Expected<Tensor> fromHost(const runtime::HostTensor &host) {
  Tensor t(host.shape);
  const auto *bytes = static_cast<const uint8_t *>(host.data);
  int64_t n = host.numElements();
  for (int64_t i = 0; i < n; ++i) {
    double v;
    if (host.dtype == "f32") {
      float f;
      std::memcpy(&f, bytes + 4 * i, 4);
      v = f;
    } else if (host.dtype == "i32") {
      int32_t x;
      std::memcpy(&x, bytes + 4 * i, 4);
      v = x;
    } else if (host.dtype == "i64") {
      int64_t x;
      std::memcpy(&x, bytes + 8 * i, 8);
      v = static_cast<double>(x);
    } else if (host.dtype == "i8") {
      v = static_cast<int8_t>(bytes[i]);
    } else if (const llvm::fltSemantics *sem = semanticsOf(host.dtype)) {
      unsigned bits = llvm::APFloat::getSizeInBits(*sem);
      uint64_t raw = 0;
      std::memcpy(&raw, bytes + i * (bits / 8), bits / 8);
      llvm::APFloat f(*sem, llvm::APInt(bits, raw));
      bool lost;
      f.convert(llvm::APFloat::IEEEdouble(), llvm::APFloat::rmNearestTiesToEven,
                &lost);
      v = f.convertToDouble();
    } else {
      return unsupported("unsupported dtype '" + host.dtype + "'");
    }
    t.data[i] = v;
  }
  return t;
}

llvm::Expected<runtime::HostTensor> toHost(const Tensor &t,
                                           const std::string &dtype) {
  runtime::HostTensor host = runtime::HostTensor::allocate(dtype, t.shape);
  auto *bytes = static_cast<uint8_t *>(host.data);
  for (int64_t i = 0; i < t.numElements(); ++i) {
    double v = t.data[i];
    if (dtype == "f32") {
      float f = static_cast<float>(v);
      std::memcpy(bytes + 4 * i, &f, 4);
    } else if (dtype == "i32") {
      int32_t x = static_cast<int32_t>(v);
      std::memcpy(bytes + 4 * i, &x, 4);
    } else if (dtype == "i64") {
      int64_t x = static_cast<int64_t>(v);
      std::memcpy(bytes + 8 * i, &x, 8);
    } else if (dtype == "i8") {
      bytes[i] = static_cast<uint8_t>(
          static_cast<int8_t>(roundTo(v, ElementKind::I8)));
    } else if (const llvm::fltSemantics *sem = semanticsOf(dtype)) {
      double rounded = roundTo(v, dtype == "f16"    ? ElementKind::F16
                                  : dtype == "bf16" ? ElementKind::BF16
                                                    : ElementKind::F8E4M3FN);
      llvm::APFloat f(rounded);
      bool lost;
      f.convert(*sem, llvm::APFloat::rmNearestTiesToEven, &lost);
      uint64_t raw = f.bitcastToAPInt().getZExtValue();
      unsigned bits = llvm::APFloat::getSizeInBits(*sem);
      std::memcpy(bytes + i * (bits / 8), &raw, bits / 8);
    } else {
      return unsupported("unsupported dtype '" + dtype + "'");
    }
  }
  return host;
}

} // namespace prism::reference
