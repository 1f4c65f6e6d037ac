//===- RuntimeModule.cpp - prism._runtime: load and run bundles -----------===//
//
// The runtime half of the Python package. It links PrismRuntime only (no
// LLVM, no MLIR), like prism-exec: a deployment that only runs bundles
// imports this module alone.
//
//===----------------------------------------------------------------------===//

#include "prism/Runtime/Bundle.h"

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <optional>

namespace py = pybind11;
using namespace prism::runtime;

namespace {

/// Raised for every failure of the compiler or the runtime.
PyObject *prismError = nullptr;

[[noreturn]] void raise(const std::string &message) {
  PyErr_SetString(prismError, message.c_str());
  throw py::error_already_set();
}

struct PyBundle {
  std::unique_ptr<Bundle> bundle;

  explicit PyBundle(const std::string &directory) {
    std::string error;
    bundle = Bundle::open(directory, error);
    if (!bundle)
      raise(error);
  }

  std::string target() const { return bundle->manifest().target; }

  std::vector<std::string> functions() const {
    std::vector<std::string> names;
    for (const FunctionPlan &f : bundle->manifest().functions)
      names.push_back(f.name);
    return names;
  }

  /// [(dtype, shape with -1 for dynamic)] of a function's inputs or outputs.
  py::list signature(const std::string &name, bool outputs) const {
    const FunctionPlan *f = bundle->function(name);
    if (!f)
      raise("the bundle has no function '" + name + "'");
    py::list result;
    for (const TensorSignature &s : outputs ? f->outputs : f->inputs)
      result.append(py::make_tuple(s.dtype, s.shape));
    return result;
  }

  /// Runs `name` on C-contiguous arrays whose Prism dtypes are given (the
  /// Python layer maps numpy / ml_dtypes dtypes to names and checks
  /// contiguity). Returns [(dtype, array of the storage type)].
  py::list run(const std::string &name, const std::vector<py::array> &arrays,
               const std::vector<std::string> &dtypes,
               std::optional<std::vector<py::array>> outs,
               std::optional<std::vector<std::string>> outDtypes) {
    if (arrays.size() != dtypes.size())
      raise("internal: one dtype per array");
    // Memory for the outputs, written by the kernels directly (host
    // bundles); checked against the outputs' dtype and shape.
    std::vector<HostTensor> provided;
    if (outs) {
      for (size_t i = 0; i < outs->size(); ++i) {
        py::array &a = (*outs)[i];
        if (!(a.flags() & py::array::c_style) || !a.writeable())
          raise("out[" + std::to_string(i) + "] must be a writable C-contiguous array");
        HostTensor t;
        t.dtype = (*outDtypes)[i];
        for (py::ssize_t d = 0; d < a.ndim(); ++d)
          t.shape.push_back(a.shape(d));
        t.data = a.mutable_data();
        provided.push_back(std::move(t));
      }
    }
    std::vector<HostTensor> inputs;
    for (size_t i = 0; i < arrays.size(); ++i) {
      const py::array &a = arrays[i];
      if (!(a.flags() & py::array::c_style))
        raise("input " + std::to_string(i) + " is not C-contiguous");
      HostTensor t;
      t.dtype = dtypes[i];
      for (py::ssize_t d = 0; d < a.ndim(); ++d)
        t.shape.push_back(a.shape(d));
      if (static_cast<py::ssize_t>(elementSize(t.dtype)) != a.itemsize())
        raise("input " + std::to_string(i) + " has " +
              std::to_string(a.itemsize()) + "-byte elements, but dtype " +
              t.dtype + " needs " + std::to_string(elementSize(t.dtype)));
      t.data = const_cast<void *>(a.data());
      inputs.push_back(std::move(t));
    }
    std::vector<HostTensor> outputs;
    std::string error;
    bool ok;
    {
      py::gil_scoped_release release; // kernels may run for a while
      ok = bundle->run(name, inputs, outputs, error, /*outputsOnDevice=*/false,
                       outs ? &provided : nullptr);
    }
    if (!ok)
      raise(error);
    py::list result;
    for (HostTensor &t : outputs) {
      // The array keeps the runtime's buffer alive through a capsule.
      auto *owner = new std::shared_ptr<void>(t.storage);
      py::capsule capsule(owner, [](void *p) {
        delete static_cast<std::shared_ptr<void> *>(p);
      });
      std::string storage = t.dtype == "f32"    ? "float32"
                            : t.dtype == "f16"  ? "float16"
                            : t.dtype == "bf16" ? "uint16"
                            : t.dtype == "i8"   ? "int8"
                            : t.dtype == "i32"  ? "int32"
                                                : "int64";
      std::vector<py::ssize_t> shape(t.shape.begin(), t.shape.end());
      py::array array(py::dtype(storage), shape, t.data, capsule);
      result.append(py::make_tuple(t.dtype, array));
    }
    return result;
  }
};

} // namespace

PYBIND11_MODULE(_runtime, m) {
  m.doc() = "Prism runtime: load artifact bundles and run them (no LLVM/MLIR)";
  prismError = PyErr_NewException("prism.PrismError", PyExc_RuntimeError, nullptr);
  m.attr("PrismError") = py::handle(prismError);
  py::class_<PyBundle>(m, "Bundle")
      .def(py::init<const std::string &>(), py::arg("directory"))
      .def_property_readonly("target", &PyBundle::target)
      .def_property_readonly("functions", &PyBundle::functions)
      .def("inputs", [](const PyBundle &b, const std::string &n) { return b.signature(n, false); })
      .def("outputs", [](const PyBundle &b, const std::string &n) { return b.signature(n, true); })
      .def("run", &PyBundle::run, py::arg("name"), py::arg("arrays"), py::arg("dtypes"),
           py::arg("outs") = py::none(), py::arg("out_dtypes") = py::none());
}
