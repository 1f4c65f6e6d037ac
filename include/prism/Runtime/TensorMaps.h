//===- TensorMaps.h - Tensor maps built at launch --------------*- C++ -*-===//
//
// A kernel with tensor copies (NVIDIA's TMA) takes, after its own
// arguments, one buffer of kTensorMapBytes per map (KernelConfig
// tensorMaps). The runtime fills it at every launch from the arguments:
// each map describes its argument's tensor (start, dimensions and strides,
// innermost first) in the format of the runner's device (the CUDA driver's
// cuTensorMapEncodeTiled, or the GPU emulator's own). A tensor the copy
// engine cannot describe (start not 16-byte aligned, an outer stride not a
// positive multiple of 16 bytes, an empty dimension) gets a zero map; the
// kernel
// tests the same conditions and copies those tiles by other means.
//
// The kernel also takes a maps buffer shorter than a map's end as "no map"
// (the buffer's size is a kernel argument, so this costs no load): with
// PRISM_TENSOR_MAPS=0 (or off) in the environment, the runners pass an
// empty maps buffer and every kernel fills its slots by cp.async instead.
// On a GPU this tells a fault of the tensor copies from one of the matrix
// cores, and it is a way around the former.
//
//===----------------------------------------------------------------------===//

#ifndef PRISM_RUNTIME_TENSORMAPS_H
#define PRISM_RUNTIME_TENSORMAPS_H

#include "prism/Runtime/Bundle.h"

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace prism::runtime {

/// Whether PRISM_TENSOR_MAPS says to pass no maps (0 or off).
bool tensorMapsDisabled();

/// Bytes of one map in the kernel's buffer (the size of a CUtensorMap),
/// 64-byte aligned.
constexpr size_t kTensorMapBytes = 128;

/// The tensor a map describes, innermost dimension first.
struct TensorMapGeometry {
  const uint8_t *start = nullptr;
  std::vector<uint64_t> dims;
  /// Bytes between consecutive elements of dimensions 1 .. rank - 1.
  std::vector<uint64_t> strides;
};

/// The geometry of map `spec` over `buffer`; nothing (and no error) when
/// the copy engine cannot describe it (see above), and an error when the
/// map does not fit the buffer (the bundle is inconsistent).
std::optional<TensorMapGeometry> tensorMapGeometry(const TensorMapSpec &spec,
                                                   const StridedBuffer &buffer,
                                                   std::string &error);

/// Writes one map's kTensorMapBytes bytes; false with `error` on failure.
using TensorMapEncoder = std::function<bool(
    const TensorMapSpec &, const TensorMapGeometry &, void *out, std::string &error)>;

/// The maps buffer of a launch with `arguments`: kTensorMapBytes per spec,
/// encoded where the tensor can be described, zero elsewhere; and in
/// `kernelBytes` the size the kernel is to see (that of `maps`, or 0 when
/// nothing is encoded: with PRISM_TENSOR_MAPS=0, or when `encode` refuses
/// a map, which `refused` then says; the kernel copies every tile by
/// cp.async). False with `error` when a map does not fit its argument.
bool buildTensorMaps(const std::vector<TensorMapSpec> &specs,
                     const std::vector<StridedBuffer> &arguments,
                     const TensorMapEncoder &encode, std::vector<uint8_t> &maps,
                     int64_t &kernelBytes, std::string &refused, std::string &error);

} // namespace prism::runtime

#endif // PRISM_RUNTIME_TENSORMAPS_H
