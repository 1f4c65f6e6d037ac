//===- ReferenceOps.cpp - Every prism op, in float64 ----------------------===//
//
// Deliberately plain loops over multi-indices. Read each function next to the
// op's description in docs/dialects/Prism.md.
//
//===----------------------------------------------------------------------===//

#include "prism/Reference/ReferenceOps.h"

#include "llvm/ADT/APFloat.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <limits>

namespace prism::reference {
namespace {

constexpr double kNegativeInfinity = -std::numeric_limits<double>::infinity();

llvm::Error shapeError(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

/// Calls `body` with every multi-index of `shape`, in row-major order.
template <typename Body>
void forEachIndex(const std::vector<int64_t> &shape, Body &&body) {
  if (numElementsOf(shape) == 0)
    return;
  std::vector<int64_t> index(shape.size(), 0);
  while (true) {
    body(index);
    int64_t d = static_cast<int64_t>(shape.size()) - 1;
    for (; d >= 0; --d) {
      if (++index[d] < shape[d])
        break;
      index[d] = 0;
    }
    if (d < 0)
      return;
  }
}

/// numpy broadcasting of two runtime shapes.
llvm::Expected<std::vector<int64_t>>
broadcastShape(const std::vector<int64_t> &a, const std::vector<int64_t> &b) {
  size_t rank = std::max(a.size(), b.size());
  std::vector<int64_t> result(rank);
  for (size_t i = 0; i < rank; ++i) {
    int64_t da = i + a.size() >= rank ? a[i + a.size() - rank] : 1;
    int64_t db = i + b.size() >= rank ? b[i + b.size() - rank] : 1;
    if (da != db && da != 1 && db != 1)
      return shapeError("shapes " + formatShape(a) + " and " + formatShape(b) +
                        " do not broadcast");
    result[i] = da == 1 ? db : da;
  }
  return result;
}

/// The element of `t` that broadcasts to position `index` of a larger shape.
double broadcastAt(const Tensor &t, const std::vector<int64_t> &index) {
  int64_t linear = 0;
  size_t lead = index.size() - t.shape.size();
  for (size_t i = 0; i < t.shape.size(); ++i)
    linear = linear * t.shape[i] + (t.shape[i] == 1 ? 0 : index[lead + i]);
  return t.data[linear];
}

double sigmoid(double x) { return 1.0 / (1.0 + std::exp(-x)); }

int64_t normalizeAxis(int64_t axis, int64_t rank) {
  return axis < 0 ? axis + rank : axis;
}

} // namespace

llvm::Expected<Tensor> binary(BinaryKind kind, const Tensor &lhs,
                              const Tensor &rhs) {
  auto shape = broadcastShape(lhs.shape, rhs.shape);
  if (!shape)
    return shape.takeError();
  Tensor result(*shape);
  int64_t linear = 0;
  forEachIndex(*shape, [&](const std::vector<int64_t> &index) {
    double a = broadcastAt(lhs, index), b = broadcastAt(rhs, index), r = 0;
    switch (kind) {
    case BinaryKind::Add: r = a + b; break;
    case BinaryKind::Sub: r = a - b; break;
    case BinaryKind::Mul: r = a * b; break;
    case BinaryKind::Div: r = a / b; break;
    case BinaryKind::Max:
      r = (std::isnan(a) || std::isnan(b)) ? std::nan("") : std::max(a, b);
      break;
    case BinaryKind::Min:
      r = (std::isnan(a) || std::isnan(b)) ? std::nan("") : std::min(a, b);
      break;
    }
    result.data[linear++] = r;
  });
  return result;
}

Tensor unary(UnaryKind kind, const Tensor &input) {
  Tensor result = input;
  for (double &x : result.data) {
    switch (kind) {
    case UnaryKind::Exp: x = std::exp(x); break;
    case UnaryKind::Log: x = std::log(x); break;
    case UnaryKind::Sqrt: x = std::sqrt(x); break;
    case UnaryKind::Rsqrt: x = 1.0 / std::sqrt(x); break;
    case UnaryKind::Neg: x = -x; break;
    case UnaryKind::Abs: x = std::fabs(x); break;
    case UnaryKind::Tanh: x = std::tanh(x); break;
    case UnaryKind::Sigmoid: x = sigmoid(x); break;
    case UnaryKind::Relu: x = std::isnan(x) ? x : std::max(x, 0.0); break;
    case UnaryKind::Silu: x = x * sigmoid(x); break;
    case UnaryKind::GeluErf: x = 0.5 * x * (1.0 + std::erf(x / std::sqrt(2.0))); break;
    case UnaryKind::GeluTanh:
      x = 0.5 * x *
          (1.0 + std::tanh(std::sqrt(2.0 / M_PI) * (x + 0.044715 * x * x * x)));
      break;
    }
  }
  return result;
}

Tensor swiglu(const Tensor &gate, const Tensor &up) {
  assert(gate.shape == up.shape && "swiglu operands have one shape");
  Tensor result = gate;
  for (size_t i = 0; i < result.data.size(); ++i)
    result.data[i] = gate.data[i] * sigmoid(gate.data[i]) * up.data[i];
  return result;
}

/// Applies `rowFn(get, set, length)` to every 1-D slice of `t` along `axis`.
template <typename RowFn>
static void forEachRow(Tensor &t, int64_t axis, RowFn &&rowFn) {
  if (t.numElements() == 0)
    return; // no element to compute (rows of length 0, or no rows)
  std::vector<int64_t> outer = t.shape;
  int64_t length = outer[axis];
  outer[axis] = 1;
  int64_t stride = t.strides()[axis];
  forEachIndex(outer, [&](const std::vector<int64_t> &index) {
    double *row = &t.data[t.offset(index)];
    rowFn([&](int64_t i) -> double & { return row[i * stride]; }, length);
  });
}

Tensor softmax(const Tensor &input, int64_t axis, double scale) {
  Tensor result = input;
  if (result.numElements() == 0)
    return result;
  forEachRow(result, normalizeAxis(axis, input.rank()), [&](auto x, int64_t n) {
    double maximum = kNegativeInfinity;
    for (int64_t i = 0; i < n; ++i)
      maximum = std::max(maximum, scale * x(i));
    double sum = 0.0;
    for (int64_t i = 0; i < n; ++i)
      sum += std::exp(scale * x(i) - maximum);
    for (int64_t i = 0; i < n; ++i)
      x(i) = std::exp(scale * x(i) - maximum) / sum;
  });
  return result;
}

Tensor reduce(ReduceKind kind, const Tensor &input, std::vector<int64_t> axes,
              bool keepdims) {
  for (int64_t &axis : axes)
    axis = normalizeAxis(axis, input.rank());
  std::vector<int64_t> keptShape = input.shape;
  int64_t count = 1;
  for (int64_t axis : axes) {
    count *= keptShape[axis];
    keptShape[axis] = 1;
  }
  double initial = kind == ReduceKind::Max   ? kNegativeInfinity
                   : kind == ReduceKind::Min ? -kNegativeInfinity
                                             : 0.0;
  Tensor kept(keptShape, initial);
  forEachIndex(input.shape, [&](const std::vector<int64_t> &index) {
    std::vector<int64_t> target = index;
    for (int64_t axis : axes)
      target[axis] = 0;
    double &acc = kept.at(target);
    double x = input.at(index);
    switch (kind) {
    case ReduceKind::Sum:
    case ReduceKind::Mean: acc += x; break;
    case ReduceKind::Max: acc = std::isnan(x) || std::isnan(acc) ? std::nan("") : std::max(acc, x); break;
    case ReduceKind::Min: acc = std::isnan(x) || std::isnan(acc) ? std::nan("") : std::min(acc, x); break;
    }
  });
  if (kind == ReduceKind::Mean)
    for (double &x : kept.data)
      x /= static_cast<double>(count);
  if (keepdims)
    return kept;
  std::vector<int64_t> shape;
  for (int64_t i = 0; i < input.rank(); ++i)
    if (std::find(axes.begin(), axes.end(), i) == axes.end())
      shape.push_back(input.shape[i]);
  return Tensor(shape, std::move(kept.data));
}

Tensor rmsNorm(const Tensor &input, const Tensor &weight, double epsilon) {
  Tensor result = input;
  forEachRow(result, input.rank() - 1, [&](auto x, int64_t n) {
    double sumSquares = 0.0;
    for (int64_t i = 0; i < n; ++i)
      sumSquares += x(i) * x(i);
    double inverse = 1.0 / std::sqrt(sumSquares / n + epsilon);
    for (int64_t i = 0; i < n; ++i)
      x(i) = x(i) * inverse * weight.data[i];
  });
  return result;
}

Tensor layerNorm(const Tensor &input, const Tensor *weight, const Tensor *bias,
                 double epsilon) {
  Tensor result = input;
  forEachRow(result, input.rank() - 1, [&](auto x, int64_t n) {
    double mean = 0.0;
    for (int64_t i = 0; i < n; ++i)
      mean += x(i);
    mean /= n;
    double variance = 0.0;
    for (int64_t i = 0; i < n; ++i)
      variance += (x(i) - mean) * (x(i) - mean);
    variance /= n;
    double inverse = 1.0 / std::sqrt(variance + epsilon);
    for (int64_t i = 0; i < n; ++i) {
      double y = (x(i) - mean) * inverse;
      if (weight)
        y *= weight->data[i];
      if (bias)
        y += bias->data[i];
      x(i) = y;
    }
  });
  return result;
}

llvm::Expected<Tensor> matmul(const Tensor &lhs, const Tensor &rhs,
                              const Tensor *bias, MatmulOptions options) {
  int64_t lr = lhs.rank(), rr = rhs.rank();
  int64_t m = lhs.shape[lr - (options.transposeLhs ? 1 : 2)];
  int64_t k = lhs.shape[lr - (options.transposeLhs ? 2 : 1)];
  int64_t rk = rhs.shape[rr - (options.transposeRhs ? 1 : 2)];
  int64_t n = rhs.shape[rr - (options.transposeRhs ? 2 : 1)];
  if (k != rk)
    return shapeError("matmul: K of lhs (" + llvm::Twine(k) +
                      ") differs from K of rhs (" + llvm::Twine(rk) + ")");
  std::vector<int64_t> lhsBatch(lhs.shape.begin(), lhs.shape.end() - 2);
  std::vector<int64_t> rhsBatch(rhs.shape.begin(), rhs.shape.end() - 2);
  auto batch = broadcastShape(lhsBatch, rhsBatch);
  if (!batch)
    return batch.takeError();
  // Views of the operands with their batch dims only, for broadcastAt.
  Tensor lhsBatchIndex(lhsBatch), rhsBatchIndex(rhsBatch);
  for (int64_t i = 0; i < lhsBatchIndex.numElements(); ++i)
    lhsBatchIndex.data[i] = static_cast<double>(i);
  for (int64_t i = 0; i < rhsBatchIndex.numElements(); ++i)
    rhsBatchIndex.data[i] = static_cast<double>(i);

  std::vector<int64_t> shape = *batch;
  shape.push_back(m);
  shape.push_back(n);
  Tensor result(shape);
  int64_t out = 0;
  forEachIndex(*batch, [&](const std::vector<int64_t> &b) {
    int64_t lb = static_cast<int64_t>(broadcastAt(lhsBatchIndex, b)) * m * k;
    int64_t rb = static_cast<int64_t>(broadcastAt(rhsBatchIndex, b)) * k * n;
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) {
        double sum = bias ? bias->data[j] : 0.0;
        for (int64_t p = 0; p < k; ++p) {
          double a = lhs.data[lb + (options.transposeLhs ? p * m + i : i * k + p)];
          double w = rhs.data[rb + (options.transposeRhs ? j * k + p : p * n + j)];
          sum += a * w;
        }
        result.data[out++] = sum;
      }
  });
  return result;
}

llvm::Expected<Tensor> attention(const Tensor &query, const Tensor &key,
                                 const Tensor &value, const Tensor *mask,
                                 AttentionOptions options) {
  int64_t batch = query.shape[0], qHeads = query.shape[1];
  int64_t qSeq = query.shape[2], headDim = query.shape[3];
  int64_t kvHeads = key.shape[1], kvSeq = key.shape[2];
  int64_t valueDim = value.shape[3];
  if (key.shape[0] != batch || value.shape[0] != batch ||
      value.shape[1] != kvHeads || value.shape[2] != kvSeq ||
      key.shape[3] != headDim || kvHeads == 0 || qHeads % kvHeads != 0)
    return shapeError("attention: query " + formatShape(query.shape) +
                      ", key " + formatShape(key.shape) + " and value " +
                      formatShape(value.shape) + " do not fit together");
  if (mask) {
    auto scores = broadcastShape(mask->shape, {batch, qHeads, qSeq, kvSeq});
    if (!scores)
      return scores.takeError();
    if (*scores != std::vector<int64_t>{batch, qHeads, qSeq, kvSeq})
      return shapeError("attention: mask " + formatShape(mask->shape) +
                        " does not broadcast to the scores");
  }
  int64_t group = qHeads / kvHeads;
  int64_t offset = kvSeq - qSeq; // bottom-right causal alignment
  Tensor result({batch, qHeads, qSeq, valueDim});
  std::vector<double> scores(kvSeq);
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t h = 0; h < qHeads; ++h)
      for (int64_t i = 0; i < qSeq; ++i) {
        int64_t kvh = h / group;
        double maximum = kNegativeInfinity;
        for (int64_t j = 0; j < kvSeq; ++j) {
          bool visible = true;
          if (options.causal)
            visible = j <= i + offset;
          if (visible && options.window)
            visible = j > i + offset - *options.window;
          double s = kNegativeInfinity;
          if (visible) {
            s = 0.0;
            for (int64_t d = 0; d < headDim; ++d)
              s += query.at({b, h, i, d}) * key.at({b, kvh, j, d});
            s *= options.scale;
            if (mask)
              s += broadcastAt(*mask, {b, h, i, j});
          }
          scores[j] = s;
          maximum = std::max(maximum, s);
        }
        // A query that sees no key produces zeros.
        if (maximum == kNegativeInfinity)
          continue;
        double sum = 0.0;
        for (int64_t j = 0; j < kvSeq; ++j) {
          scores[j] = std::exp(scores[j] - maximum);
          sum += scores[j];
        }
        for (int64_t d = 0; d < valueDim; ++d) {
          double acc = 0.0;
          for (int64_t j = 0; j < kvSeq; ++j)
            acc += scores[j] * value.at({b, kvh, j, d});
          result.at({b, h, i, d}) = acc / sum;
        }
      }
  return result;
}

llvm::Expected<Tensor> rope(const Tensor &input, const Tensor &positions,
                            RopeOptions options) {
  int64_t batch = input.shape[0];
  int64_t seq = input.shape[options.bhsd ? 2 : 1];
  int64_t headDim = input.shape[3], half = headDim / 2;
  bool perBatch = positions.rank() == 2;
  if ((perBatch && (positions.shape[0] != batch || positions.shape[1] != seq)) ||
      (!perBatch && positions.shape[0] != seq))
    return shapeError("rope: positions " + formatShape(positions.shape) +
                      " do not match input " + formatShape(input.shape));
  Tensor result = input;
  forEachIndex(input.shape, [&](const std::vector<int64_t> &index) {
    int64_t d = index[3];
    bool first = options.interleaved ? d % 2 == 0 : d < half;
    int64_t pair = options.interleaved ? d / 2 : d % half;
    int64_t partner = options.interleaved ? (first ? d + 1 : d - 1)
                                          : (first ? d + half : d - half);
    int64_t b = index[0], s = index[options.bhsd ? 2 : 1];
    double position = perBatch ? positions.at({b, s}) : positions.at({s});
    double cosine, sine;
    if (options.cosTable) {
      int64_t rows = options.cosTable->shape[0];
      int64_t row = std::clamp<int64_t>(static_cast<int64_t>(position), 0,
                                        rows - 1);
      cosine = options.cosTable->at({row, pair});
      sine = options.sinTable->at({row, pair});
    } else {
      double angle = position * std::pow(options.theta, -2.0 * pair / headDim);
      cosine = std::cos(angle);
      sine = std::sin(angle);
    }
    std::vector<int64_t> other = index;
    other[3] = partner;
    double x = input.at(index), y = input.at(other);
    // (a, b) -> (a cos - b sin, b cos + a sin)
    result.at(index) = first ? x * cosine - y * sine : x * cosine + y * sine;
  });
  return result;
}

Tensor embedding(const Tensor &table, const Tensor &indices) {
  int64_t vocab = table.shape[0], features = table.shape[1];
  std::vector<int64_t> shape = indices.shape;
  shape.push_back(features);
  Tensor result(shape);
  for (int64_t i = 0; i < indices.numElements(); ++i) {
    double id = indices.data[i];
    if (id < 0 || id >= static_cast<double>(vocab))
      continue; // out-of-range ids give a zero row
    int64_t row = static_cast<int64_t>(id);
    std::copy_n(&table.data[row * features], features,
                &result.data[i * features]);
  }
  return result;
}

Tensor transpose(const Tensor &input, const std::vector<int64_t> &permutation) {
  std::vector<int64_t> shape;
  for (int64_t p : permutation)
    shape.push_back(input.shape[p]);
  Tensor result(shape);
  int64_t linear = 0;
  forEachIndex(shape, [&](const std::vector<int64_t> &index) {
    std::vector<int64_t> source(index.size());
    for (size_t i = 0; i < index.size(); ++i)
      source[permutation[i]] = index[i];
    result.data[linear++] = input.at(source);
  });
  return result;
}

llvm::Expected<Tensor> reshape(const Tensor &input, std::vector<int64_t> shape) {
  int64_t known = 1, dynamicIndex = -1;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] < 0)
      dynamicIndex = static_cast<int64_t>(i);
    else
      known *= shape[i];
  }
  if (dynamicIndex >= 0) {
    if (known == 0 || input.numElements() % known != 0)
      return shapeError("reshape: cannot infer the dynamic dimension of " +
                        formatShape(shape) + " from " +
                        llvm::Twine(input.numElements()) + " elements");
    shape[dynamicIndex] = input.numElements() / known;
  }
  if (numElementsOf(shape) != input.numElements())
    return shapeError("reshape: " + formatShape(input.shape) + " has " +
                      llvm::Twine(input.numElements()) + " elements, " +
                      formatShape(shape) + " has " +
                      llvm::Twine(numElementsOf(shape)));
  return Tensor(shape, input.data);
}

/// Round to nearest even to a binary format with `precision` significant
/// bits and minimum normal exponent `minExponent`, saturating nothing:
/// values past the largest finite number become infinities. Written with
/// exact double arithmetic (power-of-two scaling and one nearbyint in the
/// default rounding mode), so it is one correct rounding, not two.
static double roundToBinary(double value, int precision, int minExponent,
                            double largest) {
  if (value == 0.0 || !std::isfinite(value))
    return value;
  int exponent = std::max(std::ilogb(value), minExponent);
  double quantum = std::ldexp(1.0, exponent - precision + 1);
  double rounded = std::nearbyint(value / quantum) * quantum;
  if (std::fabs(rounded) > largest)
    return std::copysign(std::numeric_limits<double>::infinity(), value);
  return rounded;
}

double roundTo(double value, ElementKind kind) {
  switch (kind) {
  case ElementKind::F32:
    return static_cast<double>(static_cast<float>(value));
  case ElementKind::BF16:
    return roundToBinary(value, 8, -126, std::ldexp(255.0, 120));
  case ElementKind::F16:
    return roundToBinary(value, 11, -14, 65504.0);
  default:
    break;
  }
  if (kind == ElementKind::I8) {
    if (std::isnan(value))
      return 0.0;
    return std::clamp(std::nearbyint(value), -128.0, 127.0);
  }
  const llvm::fltSemantics *semantics = nullptr;
  switch (kind) {
  case ElementKind::F32: semantics = &llvm::APFloat::IEEEsingle(); break;
  case ElementKind::F16: semantics = &llvm::APFloat::IEEEhalf(); break;
  case ElementKind::BF16: semantics = &llvm::APFloat::BFloat(); break;
  case ElementKind::F8E4M3FN:
    semantics = &llvm::APFloat::Float8E4M3FN();
    if (!std::isnan(value))
      value = std::clamp(value, -448.0, 448.0); // no infinity: saturate
    break;
  case ElementKind::I8: break;
  }
  llvm::APFloat rounded(value);
  bool losesInfo = false;
  rounded.convert(*semantics, llvm::APFloat::rmNearestTiesToEven, &losesInfo);
  rounded.convert(llvm::APFloat::IEEEdouble(),
                  llvm::APFloat::rmNearestTiesToEven, &losesInfo);
  return rounded.convertToDouble();
}

Tensor castTo(const Tensor &input, ElementKind kind) {
  Tensor result = input;
  for (double &x : result.data)
    x = roundTo(x, kind);
  return result;
}

} // namespace prism::reference
