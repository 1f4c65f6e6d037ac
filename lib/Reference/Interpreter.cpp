//===- Interpreter.cpp - Evaluate a prism function in float64 -------------===//

#include "prism/Reference/Interpreter.h"

#include "dialects/Prism/IR/PrismOps.h"
#include "prism/Reference/ReferenceOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "llvm/ADT/APFloat.h"

#include <functional>

#include <cmath>
#include <cstring>
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

  // Evaluates a block (the function's, or a fusion's body, which reads the
  // values above it) up to its terminator, whose operands it returns.
  std::function<llvm::Expected<std::vector<Tensor>>(Block &)> evaluateBlock =
      [&](Block &block) -> llvm::Expected<std::vector<Tensor>> {
  for (Operation &op : block) {
    if (isa<func::ReturnOp, YieldOp>(op)) {
      std::vector<Tensor> results;
      for (Value v : op.getOperands())
        results.push_back(get(v));
      return results;
    }
    if (auto fusion = dyn_cast<FusionOp>(op)) {
      // Fused ops mean what they meant unfused: the reference rounds only
      // at casts in both cases.
      llvm::Expected<std::vector<Tensor>> results =
          evaluateBlock(fusion.getBody().front());
      if (!results)
        return results.takeError();
      for (auto [value, tensor] : llvm::zip(fusion.getResults(), *results))
        values[value] = std::move(tensor);
      continue;
    }
    if (auto constant = dyn_cast<arith::ConstantOp>(op)) {
      auto dense = dyn_cast<DenseElementsAttr>(constant.getValue());
      if (!dense || !isa<FloatType>(dense.getElementType()))
        return unsupported("the reference evaluates float tensor constants "
                           "only");
      std::vector<int64_t> shape(dense.getType().getShape().begin(),
                                 dense.getType().getShape().end());
      Tensor t(shape);
      if (dense.isSplat()) {
        std::fill(t.data.begin(), t.data.end(),
                  dense.getSplatValue<APFloat>().convertToDouble());
      } else {
        size_t i = 0;
        for (APFloat v : dense.getValues<APFloat>())
          t.data[i++] = v.convertToDouble();
      }
      values[op.getResult(0)] = std::move(t);
      continue;
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
  return unsupported("block has no terminator");
  };
  return evaluateBlock(function.getBody().front());
}

//===----------------------------------------------------------------------===//
// Host tensors
//===----------------------------------------------------------------------===//

/// IEEE half / bfloat16 bits of a value that is exactly representable in
/// them (the reference rounds first), and back; f8 goes through APFloat.
static uint16_t exactHalfBits(double v) {
  uint16_t sign = std::signbit(v) ? 0x8000 : 0;
  double a = std::fabs(v);
  if (std::isnan(v))
    return 0x7e00;
  if (std::isinf(v))
    return sign | 0x7c00;
  if (a == 0.0)
    return sign;
  int e = std::ilogb(a);
  if (e < -14) // subnormal: a = m * 2^-24
    return sign | static_cast<uint16_t>(std::ldexp(a, 24));
  uint16_t mantissa = static_cast<uint16_t>(std::ldexp(a, 10 - e) - 1024.0);
  return sign | static_cast<uint16_t>((e + 15) << 10) | mantissa;
}

static double halfBitsToDouble(uint16_t bits) {
  double sign = (bits & 0x8000) ? -1.0 : 1.0;
  int exponent = (bits >> 10) & 0x1f, mantissa = bits & 0x3ff;
  if (exponent == 0x1f)
    return mantissa ? std::nan("") : sign * INFINITY;
  if (exponent == 0)
    return sign * std::ldexp(mantissa, -24);
  return sign * std::ldexp(1024 + mantissa, exponent - 25);
}

static uint16_t exactBfloatBits(double v) {
  float f = static_cast<float>(v); // exact: v is a bf16 value
  uint32_t bits;
  std::memcpy(&bits, &f, 4);
  if (std::isnan(f))
    return 0x7fc0;
  return static_cast<uint16_t>(bits >> 16);
}

static double bfloatBitsToDouble(uint16_t bits) {
  uint32_t wide = static_cast<uint32_t>(bits) << 16;
  float f;
  std::memcpy(&f, &wide, 4);
  return f;
}

template <typename T>
static void decode(const uint8_t *bytes, std::vector<double> &out) {
  for (size_t i = 0; i < out.size(); ++i) {
    T x;
    std::memcpy(&x, bytes + sizeof(T) * i, sizeof(T));
    out[i] = static_cast<double>(x);
  }
}

llvm::Expected<Tensor> fromHost(const runtime::HostTensor &host) {
  Tensor t(host.shape);
  const auto *bytes = static_cast<const uint8_t *>(host.data);
  int64_t n = host.numElements();
  const std::string &dtype = host.dtype;
  if (dtype == "f32") {
    decode<float>(bytes, t.data);
  } else if (dtype == "i32") {
    decode<int32_t>(bytes, t.data);
  } else if (dtype == "i64") {
    decode<int64_t>(bytes, t.data);
  } else if (dtype == "i8") {
    decode<int8_t>(bytes, t.data);
  } else if (dtype == "f16" || dtype == "bf16") {
    auto convert = dtype == "f16" ? halfBitsToDouble : bfloatBitsToDouble;
    for (int64_t i = 0; i < n; ++i) {
      uint16_t raw;
      std::memcpy(&raw, bytes + 2 * i, 2);
      t.data[i] = convert(raw);
    }
  } else if (dtype == "f8E4M3FN") {
    for (int64_t i = 0; i < n; ++i) {
      llvm::APFloat f(llvm::APFloat::Float8E4M3FN(), llvm::APInt(8, bytes[i]));
      bool lost;
      f.convert(llvm::APFloat::IEEEdouble(), llvm::APFloat::rmNearestTiesToEven,
                &lost);
      t.data[i] = f.convertToDouble();
    }
  } else {
    return unsupported("unsupported dtype '" + dtype + "'");
  }
  return t;
}

llvm::Expected<runtime::HostTensor> toHost(const Tensor &t,
                                           const std::string &dtype) {
  runtime::HostTensor host = runtime::HostTensor::allocate(dtype, t.shape);
  auto *bytes = static_cast<uint8_t *>(host.data);
  int64_t n = t.numElements();
  auto each = [&](auto store) {
    for (int64_t i = 0; i < n; ++i)
      store(i, t.data[i]);
  };
  if (dtype == "f32") {
    each([&](int64_t i, double v) {
      float f = static_cast<float>(v);
      std::memcpy(bytes + 4 * i, &f, 4);
    });
  } else if (dtype == "i32") {
    each([&](int64_t i, double v) {
      int32_t x = static_cast<int32_t>(v);
      std::memcpy(bytes + 4 * i, &x, 4);
    });
  } else if (dtype == "i64") {
    each([&](int64_t i, double v) {
      int64_t x = static_cast<int64_t>(v);
      std::memcpy(bytes + 8 * i, &x, 8);
    });
  } else if (dtype == "i8") {
    each([&](int64_t i, double v) {
      bytes[i] = static_cast<uint8_t>(
          static_cast<int8_t>(roundTo(v, ElementKind::I8)));
    });
  } else if (dtype == "f16") {
    each([&](int64_t i, double v) {
      uint16_t raw = exactHalfBits(roundTo(v, ElementKind::F16));
      std::memcpy(bytes + 2 * i, &raw, 2);
    });
  } else if (dtype == "bf16") {
    each([&](int64_t i, double v) {
      uint16_t raw = exactBfloatBits(roundTo(v, ElementKind::BF16));
      std::memcpy(bytes + 2 * i, &raw, 2);
    });
  } else if (dtype == "f8E4M3FN") {
    each([&](int64_t i, double v) {
      llvm::APFloat f(roundTo(v, ElementKind::F8E4M3FN));
      bool lost;
      f.convert(llvm::APFloat::Float8E4M3FN(),
                llvm::APFloat::rmNearestTiesToEven, &lost);
      bytes[i] = static_cast<uint8_t>(f.bitcastToAPInt().getZExtValue());
    });
  } else {
    return unsupported("unsupported dtype '" + dtype + "'");
  }
  return host;
}

} // namespace prism::reference
