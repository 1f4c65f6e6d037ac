//===- ReferenceTensor.cpp - Dense float64 tensors for the reference ------===//

#include "prism/Reference/ReferenceTensor.h"

#include <cassert>
#include <cmath>
#include <limits>

namespace prism::reference {

int64_t numElementsOf(const std::vector<int64_t> &shape) {
  int64_t count = 1;
  for (int64_t dim : shape)
    count *= dim;
  return count;
}

std::string formatShape(const std::vector<int64_t> &shape) {
  std::string text = "[";
  for (size_t i = 0; i < shape.size(); ++i)
    text += (i ? ", " : "") + std::to_string(shape[i]);
  return text + "]";
}

Tensor::Tensor(std::vector<int64_t> shape, double fill)
    : shape(std::move(shape)) {
  data.assign(numElementsOf(this->shape), fill);
}

Tensor::Tensor(std::vector<int64_t> shape, std::vector<double> data)
    : shape(std::move(shape)), data(std::move(data)) {
  assert(numElementsOf(this->shape) == static_cast<int64_t>(this->data.size()) &&
         "data does not match the shape");
}

std::vector<int64_t> Tensor::strides() const {
  std::vector<int64_t> result(shape.size(), 1);
  for (int64_t i = rank() - 2; i >= 0; --i)
    result[i] = result[i + 1] * shape[i + 1];
  return result;
}

int64_t Tensor::offset(const std::vector<int64_t> &index) const {
  assert(static_cast<int64_t>(index.size()) == rank() && "index rank");
  int64_t linear = 0;
  for (int64_t i = 0; i < rank(); ++i) {
    assert(index[i] >= 0 && index[i] < shape[i] && "index out of bounds");
    linear = linear * shape[i] + index[i];
  }
  return linear;
}

double relativeL2Error(const Tensor &actual, const Tensor &expected) {
  if (actual.shape != expected.shape)
    return std::numeric_limits<double>::infinity();
  double diff = 0.0, norm = 0.0;
  for (size_t i = 0; i < expected.data.size(); ++i) {
    double e = expected.data[i], a = actual.data[i];
    if (std::isnan(e) && std::isnan(a))
      continue;
    if (std::isinf(e) && a == e)
      continue;
    if (!std::isfinite(a) || !std::isfinite(e))
      return std::numeric_limits<double>::infinity();
    diff += (a - e) * (a - e);
    norm += e * e;
  }
  return norm > 0.0 ? std::sqrt(diff / norm) : std::sqrt(diff);
}

} // namespace prism::reference
