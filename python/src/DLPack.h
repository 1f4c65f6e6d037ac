//===- DLPack.h - The DLPack tensor exchange ABI ----------------*- C++ -*-===//
//
// The C structures of the DLPack protocol (https://dmlc.github.io/dlpack),
// as far as Prism exchanges tensors: the unversioned `DLManagedTensor`
// (capsule "dltensor") every producer speaks, and the versioned one of
// DLPack 1.x (capsule "dltensor_versioned"). The layouts are the ABI and
// must not change; the names follow Prism's style.
//
//===----------------------------------------------------------------------===//

#ifndef PRISM_PYTHON_DLPACK_H
#define PRISM_PYTHON_DLPACK_H

#include <cstdint>

namespace prism::python::dlpack {

enum DeviceType : int32_t {
  kCPU = 1,
  kCUDA = 2,
  kCUDAHost = 3, // pinned host memory: addressable from the host
  kROCM = 10,
  kROCMHost = 11,
  kCUDAManaged = 13,
};

enum TypeCode : uint8_t {
  kInt = 0,
  kUInt = 1,
  kFloat = 2,
  kBfloat = 4,
  kBool = 6,
};

struct Device {
  int32_t type;
  int32_t id;
};

struct DataType {
  uint8_t code;
  uint8_t bits;
  uint16_t lanes;
};

struct Tensor {
  void *data;
  Device device;
  int32_t ndim;
  DataType dtype;
  int64_t *shape;
  int64_t *strides; // elements; null: compact row-major
  uint64_t byteOffset;
};

struct ManagedTensor {
  Tensor tensor;
  void *managerContext;
  void (*deleter)(ManagedTensor *self);
};

struct Version {
  uint32_t major;
  uint32_t minor;
};

struct ManagedTensorVersioned {
  Version version;
  void *managerContext;
  void (*deleter)(ManagedTensorVersioned *self);
  uint64_t flags;
  Tensor tensor;
};

constexpr uint64_t kFlagReadOnly = 1ull << 0;

constexpr const char *kCapsuleName = "dltensor";
constexpr const char *kUsedCapsuleName = "used_dltensor";
constexpr const char *kVersionedCapsuleName = "dltensor_versioned";
constexpr const char *kUsedVersionedCapsuleName = "used_dltensor_versioned";

} // namespace prism::python::dlpack

#endif // PRISM_PYTHON_DLPACK_H
