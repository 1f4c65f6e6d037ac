//===- DLPackTensors.cpp - Tensors in and out through DLPack --------------===//

#include "DLPackTensors.h"

#include <vector>

namespace prism::python {

using runtime::HostTensor;

namespace {

/// Prism's dtypes and their DLPack types, both ways.
struct DtypePair {
  const char *prism;
  dlpack::DataType dlpack;
};
constexpr DtypePair kDtypes[] = {
    {"f32", {dlpack::kFloat, 32, 1}}, {"f16", {dlpack::kFloat, 16, 1}},
    {"f64", {dlpack::kFloat, 64, 1}}, {"bf16", {dlpack::kBfloat, 16, 1}},
    {"i8", {dlpack::kInt, 8, 1}},     {"i32", {dlpack::kInt, 32, 1}},
    {"i64", {dlpack::kInt, 64, 1}},
};

/// The Prism dtype of a DLPack dtype, "" if Prism has none.
std::string prismDtype(dlpack::DataType t) {
  for (const DtypePair &d : kDtypes)
    if (d.dlpack.code == t.code && d.dlpack.bits == t.bits && d.dlpack.lanes == t.lanes)
      return d.prism;
  return "";
}

std::string describeDtype(dlpack::DataType t) {
  const char *code = t.code == dlpack::kInt      ? "int"
                     : t.code == dlpack::kUInt   ? "uint"
                     : t.code == dlpack::kFloat  ? "float"
                     : t.code == dlpack::kBfloat ? "bfloat"
                     : t.code == dlpack::kBool   ? "bool"
                                                 : "code ";
  std::string name = code;
  if (t.code > dlpack::kBool || t.code == 3 || t.code == 5)
    name += std::to_string(t.code) + " ";
  name += std::to_string(t.bits);
  if (t.lanes != 1)
    name += "x" + std::to_string(t.lanes);
  return name;
}

/// The DLPack dtype of a Prism dtype; lanes 0 if DLPack has none.
dlpack::DataType dlpackDtype(const std::string &dtype) {
  for (const DtypePair &d : kDtypes)
    if (dtype == d.prism)
      return d.dlpack;
  return {0, 0, 0};
}

/// What an exported capsule owns: the output's storage and the shape the
/// DLTensor points into.
struct ExportContext {
  std::shared_ptr<void> storage;
  std::vector<int64_t> shape;
  dlpack::ManagedTensor managed;
};

void deleteExport(dlpack::ManagedTensor *self) {
  delete static_cast<ExportContext *>(self->managerContext);
}

/// A capsule nobody consumed still owns its tensor.
void destroyCapsule(PyObject *capsule) {
  if (!PyCapsule_IsValid(capsule, dlpack::kCapsuleName))
    return;
  auto *managed = static_cast<dlpack::ManagedTensor *>(
      PyCapsule_GetPointer(capsule, dlpack::kCapsuleName));
  if (managed && managed->deleter)
    managed->deleter(managed);
}

} // namespace

bool isHostMemory(dlpack::Device device) {
  return device.type == dlpack::kCPU || device.type == dlpack::kCUDAHost ||
         device.type == dlpack::kROCMHost;
}

std::string describeDevice(dlpack::Device device) {
  switch (device.type) {
  case dlpack::kCPU:
    return "cpu";
  case dlpack::kCUDA:
    return "cuda:" + std::to_string(device.id);
  case dlpack::kCUDAHost:
    return "cuda pinned host memory";
  case dlpack::kROCM:
    return "rocm:" + std::to_string(device.id);
  case dlpack::kROCMHost:
    return "rocm pinned host memory";
  case dlpack::kCUDAManaged:
    return "cuda managed memory";
  default:
    return "DLPack device type " + std::to_string(device.type) + ":" +
           std::to_string(device.id);
  }
}

std::unique_ptr<ImportedTensor>
ImportedTensor::fromCapsule(PyObject *capsule, const std::string &what,
                            std::string &error) {
  std::unique_ptr<ImportedTensor> imported(new ImportedTensor);
  const dlpack::Tensor *t = nullptr;
  if (PyCapsule_IsValid(capsule, dlpack::kVersionedCapsuleName)) {
    imported->versioned = static_cast<dlpack::ManagedTensorVersioned *>(
        PyCapsule_GetPointer(capsule, dlpack::kVersionedCapsuleName));
    if (imported->versioned->version.major != 1) {
      // Another major version may lay the struct out differently: leave
      // the capsule to its producer.
      error = what + ": DLPack " +
              std::to_string(imported->versioned->version.major) + "." +
              std::to_string(imported->versioned->version.minor) +
              " is not supported (1.x is)";
      imported->versioned = nullptr;
      return nullptr;
    }
    PyCapsule_SetName(capsule, dlpack::kUsedVersionedCapsuleName);
    t = &imported->versioned->tensor;
    imported->isReadOnly = imported->versioned->flags & dlpack::kFlagReadOnly;
  } else if (PyCapsule_IsValid(capsule, dlpack::kCapsuleName)) {
    imported->managed = static_cast<dlpack::ManagedTensor *>(
        PyCapsule_GetPointer(capsule, dlpack::kCapsuleName));
    PyCapsule_SetName(capsule, dlpack::kUsedCapsuleName);
    t = &imported->managed->tensor;
  } else {
    error = what + ": __dlpack__ did not return an unused DLPack capsule";
    return nullptr;
  }

  imported->where = t->device;
  HostTensor &view = imported->view;
  view.dtype = prismDtype(t->dtype);
  if (view.dtype.empty()) {
    error = what + " has dtype " + describeDtype(t->dtype) +
            ", which Prism does not have (float32, float16, bfloat16, int8, "
            "int32, int64)";
    return nullptr;
  }
  if (t->ndim < 0 || (t->ndim > 0 && !t->shape)) {
    error = what + ": the DLPack tensor has no valid shape";
    return nullptr;
  }
  view.shape.assign(t->shape, t->shape + t->ndim);
  // Compact row-major, ignoring the strides of dimensions of size 1 and of
  // empty tensors (which producers set freely).
  bool empty = false;
  for (int32_t d = 0; d < t->ndim; ++d)
    empty |= t->shape[d] == 0;
  if (t->strides && !empty) {
    int64_t expected = 1;
    for (int32_t d = t->ndim - 1; d >= 0; --d) {
      if (t->shape[d] != 1 && t->strides[d] != expected) {
        std::string strides;
        for (int32_t i = 0; i < t->ndim; ++i)
          strides += (i ? ", " : "") + std::to_string(t->strides[i]);
        error = what + " is not contiguous (strides [" + strides +
                "] in elements); make it contiguous first (e.g. "
                ".contiguous() in PyTorch)";
        return nullptr;
      }
      expected *= t->shape[d];
    }
  }
  view.data = static_cast<char *>(t->data) + t->byteOffset;
  view.onDevice = !isHostMemory(t->device);
  return imported;
}

ImportedTensor::~ImportedTensor() {
  if (managed && managed->deleter)
    managed->deleter(managed);
  if (versioned && versioned->deleter)
    versioned->deleter(versioned);
}

PyObject *exportTensor(const HostTensor &tensor, dlpack::Device device) {
  if (dlpackDtype(tensor.dtype).lanes == 0) {
    PyErr_SetString(PyExc_RuntimeError,
                    ("an output of dtype " + tensor.dtype +
                     " cannot be exported through DLPack yet")
                        .c_str());
    return nullptr;
  }
  auto *context = new ExportContext;
  context->storage = tensor.storage;
  context->shape = tensor.shape;
  dlpack::ManagedTensor &m = context->managed;
  m.tensor.data = tensor.data;
  m.tensor.device = device;
  m.tensor.ndim = static_cast<int32_t>(context->shape.size());
  m.tensor.dtype = dlpackDtype(tensor.dtype);
  m.tensor.shape = context->shape.empty() ? nullptr : context->shape.data();
  m.tensor.strides = nullptr; // compact row-major
  m.tensor.byteOffset = 0;
  m.managerContext = context;
  m.deleter = deleteExport;
  PyObject *capsule = PyCapsule_New(&m, dlpack::kCapsuleName, destroyCapsule);
  if (!capsule)
    delete context;
  return capsule;
}

} // namespace prism::python
