//===- TensorMaps.cpp - Tensor maps built at launch -----------------------===//

#include "prism/Runtime/TensorMaps.h"

#include <algorithm>
#include <cstdlib>
#include <string_view>

namespace prism::runtime {

bool tensorMapsDisabled() {
  const char *value = std::getenv("PRISM_TENSOR_MAPS");
  return value && (std::string_view(value) == "0" || std::string_view(value) == "off");
}

std::optional<TensorMapGeometry> tensorMapGeometry(const TensorMapSpec &spec,
                                                   const StridedBuffer &buffer,
                                                   std::string &error) {
  size_t rank = buffer.sizes.size();
  if (rank != spec.box.size() || buffer.strides.size() != rank || rank == 0) {
    error = "a tensor map of rank " + std::to_string(spec.box.size()) +
            " for an argument of rank " + std::to_string(rank);
    return std::nullopt;
  }
  if (buffer.strides.back() != 1) {
    error = "a tensor map for an argument whose innermost stride is not 1";
    return std::nullopt;
  }
  TensorMapGeometry geometry;
  auto start = reinterpret_cast<uintptr_t>(buffer.data) +
               static_cast<uintptr_t>(buffer.offset * spec.elementBytes);
  geometry.start = reinterpret_cast<const uint8_t *>(start);
  bool describable = start % 16 == 0;
  for (size_t d = rank; d-- > 0;) {
    int64_t size = buffer.sizes[d];
    describable = describable && size > 0;
    geometry.dims.push_back(static_cast<uint64_t>(size));
    if (d + 1 < rank) {
      int64_t stride = buffer.strides[d] * spec.elementBytes;
      describable = describable && stride > 0 && stride % 16 == 0;
      geometry.strides.push_back(static_cast<uint64_t>(stride));
    }
  }
  if (!describable)
    return std::nullopt;
  // The engine's own limits: the kernel does not test these, so a tensor
  // beyond them is an error rather than a silent fallback.
  for (uint64_t dim : geometry.dims)
    if (dim > (uint64_t(1) << 32)) {
      error = "a tensor dimension of " + std::to_string(dim) +
              " elements, beyond what a tensor map describes (2^32)";
      return std::nullopt;
    }
  for (uint64_t stride : geometry.strides)
    if (stride >= (uint64_t(1) << 40)) {
      error = "a tensor stride of " + std::to_string(stride) +
              " bytes, beyond what a tensor map describes (2^40)";
      return std::nullopt;
    }
  return geometry;
}

bool buildTensorMaps(const std::vector<TensorMapSpec> &specs,
                     const std::vector<StridedBuffer> &arguments,
                     const TensorMapEncoder &encode, std::vector<uint8_t> &maps,
                     int64_t &kernelBytes, std::string &refused, std::string &error) {
  maps.assign(specs.size() * kTensorMapBytes, 0);
  refused.clear();
  bool disabled = tensorMapsDisabled();
  kernelBytes = disabled ? 0 : static_cast<int64_t>(maps.size());
  for (size_t i = 0; i < specs.size(); ++i) {
    const TensorMapSpec &spec = specs[i];
    if (spec.argument < 0 || static_cast<size_t>(spec.argument) >= arguments.size()) {
      error = "tensor map " + std::to_string(i) + " describes argument " +
              std::to_string(spec.argument) + " of a kernel launched with " +
              std::to_string(arguments.size());
      return false;
    }
    std::string problem;
    std::optional<TensorMapGeometry> geometry =
        tensorMapGeometry(spec, arguments[spec.argument], problem);
    if (!problem.empty()) {
      error = "tensor map " + std::to_string(i) + ": " + problem;
      return false;
    }
    if (geometry && !disabled &&
        !encode(spec, *geometry, maps.data() + i * kTensorMapBytes, problem)) {
      // The kernel decides from the tensor's geometry, not the map, which
      // tensors it copies by TMA, so a map the driver refuses must not
      // stay zero in a buffer the kernel reads: the whole launch takes the
      // kernel's cp.async path instead (it sees an empty maps buffer).
      refused = "the driver refused tensor map " + std::to_string(i) + " (" + problem +
                "); the kernel copies its tiles by cp.async instead";
      disabled = true;
      kernelBytes = 0;
      std::fill(maps.begin(), maps.end(), 0);
    }
  }
  return true;
}

} // namespace prism::runtime
