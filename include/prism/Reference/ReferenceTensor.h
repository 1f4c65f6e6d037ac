//===- ReferenceTensor.h - Dense float64 tensors for the reference -*- C++ -*-===//
//
// The float64 reference evaluator works on plain row-major tensors of doubles.
// It is written to be obviously right, not fast: it is what every compiled
// kernel, on every target, is checked against.
//
//===----------------------------------------------------------------------===//

#ifndef PRISM_REFERENCE_REFERENCETENSOR_H
#define PRISM_REFERENCE_REFERENCETENSOR_H

#include <cstdint>
#include <string>
#include <vector>

namespace prism::reference {

/// A row-major tensor of doubles with a static shape.
struct Tensor {
  std::vector<int64_t> shape;
  std::vector<double> data;

  Tensor() = default;
  explicit Tensor(std::vector<int64_t> shape, double fill = 0.0);
  Tensor(std::vector<int64_t> shape, std::vector<double> data);

  int64_t rank() const { return static_cast<int64_t>(shape.size()); }
  int64_t numElements() const { return static_cast<int64_t>(data.size()); }
  int64_t dim(int64_t i) const { return shape[i < 0 ? i + rank() : i]; }

  /// Row-major strides, in elements.
  std::vector<int64_t> strides() const;
  /// The linear offset of a multi-index.
  int64_t offset(const std::vector<int64_t> &index) const;
  double &at(const std::vector<int64_t> &index) { return data[offset(index)]; }
  double at(const std::vector<int64_t> &index) const {
    return data[offset(index)];
  }
};

/// Product of a shape's dimensions.
int64_t numElementsOf(const std::vector<int64_t> &shape);
/// "[2, 3, 4]".
std::string formatShape(const std::vector<int64_t> &shape);

/// Relative L2 error ||actual - expected|| / ||expected||; the absolute L2
/// error when `expected` is all zeros. Infinite if the shapes differ or a
/// value of `actual` is NaN where `expected` is not.
double relativeL2Error(const Tensor &actual, const Tensor &expected);

} // namespace prism::reference

#endif // PRISM_REFERENCE_REFERENCETENSOR_H
