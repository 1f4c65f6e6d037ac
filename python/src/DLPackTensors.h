//===- DLPackTensors.h - Tensors in and out through DLPack ------*- C++ -*-===//
//
// Importing a tensor of another library (a DLPack capsule from
// `__dlpack__`) as memory a bundle can run on, without a copy, and
// exporting a bundle's output as a capsule that library can take over.
// Host memory and device memory alike: the runtime decides whether a
// bundle can address it.
//
//===----------------------------------------------------------------------===//

#ifndef PRISM_PYTHON_DLPACKTENSORS_H
#define PRISM_PYTHON_DLPACKTENSORS_H

#include "DLPack.h"

#include "prism/Runtime/Bundle.h"

#include <Python.h>

#include <memory>
#include <string>

namespace prism::python {

/// A tensor received through DLPack. It owns the producer's managed tensor
/// and hands it back (calls its deleter) when destroyed.
class ImportedTensor {
public:
  /// Takes over the tensor of a "dltensor" or "dltensor_versioned" capsule
  /// (renaming it "used_...", as the protocol asks). Reports a dtype Prism
  /// does not have, vector lanes, or a layout that is not compact
  /// row-major in `error` (prefixed with `what`, e.g. "input 2").
  static std::unique_ptr<ImportedTensor>
  fromCapsule(PyObject *capsule, const std::string &what, std::string &error);

  ~ImportedTensor();
  ImportedTensor(const ImportedTensor &) = delete;
  ImportedTensor &operator=(const ImportedTensor &) = delete;

  /// dtype, shape and data (the byte offset applied); `onDevice` for
  /// memory only a device addresses.
  const runtime::HostTensor &tensor() const { return view; }
  dlpack::Device device() const { return where; }
  bool readOnly() const { return isReadOnly; }

private:
  ImportedTensor() = default;

  dlpack::ManagedTensor *managed = nullptr;
  dlpack::ManagedTensorVersioned *versioned = nullptr;
  runtime::HostTensor view;
  dlpack::Device where{dlpack::kCPU, 0};
  bool isReadOnly = false;
};

/// Whether memory on `device` is addressable from the host.
bool isHostMemory(dlpack::Device device);

/// "cpu", "cuda:0", "rocm:1", ... for messages.
std::string describeDevice(dlpack::Device device);

/// A new "dltensor" capsule over `tensor` (which keeps its storage alive
/// until the consumer releases it), located on `device`. Null with a
/// Python exception set on failure.
PyObject *exportTensor(const runtime::HostTensor &tensor, dlpack::Device device);

} // namespace prism::python

#endif // PRISM_PYTHON_DLPACKTENSORS_H
