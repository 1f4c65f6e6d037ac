//===- RuntimeModule.cpp - prism._runtime: load and run bundles -----------===//
//
// The runtime half of the Python package. It links PrismRuntime only (no
// LLVM, no MLIR), like prism-exec: a deployment that only runs bundles
// imports this module alone.
//
//===----------------------------------------------------------------------===//

#include "DLPackTensors.h"

#include "prism/Runtime/Bundle.h"

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <optional>

namespace py = pybind11;
using namespace prism::runtime;
namespace dlpack = prism::python::dlpack;
using prism::python::ImportedTensor;

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

  /// Where the kernels run, as a DLPack device: the host for the CPU and
  /// the Ascend emulation, device 0 of the vendor's runtime otherwise.
  dlpack::Device device() const {
    if (bundle->runsOnHost())
      return {dlpack::kCPU, 0};
    const std::string &target = bundle->manifest().target;
    return {target.rfind("amd", 0) == 0 ? dlpack::kROCM : dlpack::kCUDA, 0};
  }

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

  /// A numpy array (of the storage dtype: uint16 for bf16) over a host
  /// output, keeping the runtime's buffer alive through a capsule.
  static py::array hostArray(const HostTensor &t) {
    auto *owner = new std::shared_ptr<void>(t.storage);
    py::capsule capsule(owner, [](void *p) {
      delete static_cast<std::shared_ptr<void> *>(p);
    });
    std::string storage = t.dtype == "f32"    ? "float32"
                          : t.dtype == "f16"  ? "float16"
                          : t.dtype == "bf16" ? "uint16"
                          : t.dtype == "i8"   ? "int8"
                          : t.dtype == "i32"  ? "int32"
                          : t.dtype == "f64"  ? "float64"
                                              : "int64";
    std::vector<py::ssize_t> shape(t.shape.begin(), t.shape.end());
    return py::array(py::dtype(storage), shape, t.data, capsule);
  }

  /// Runs `name` on tensors of any library: numpy arrays (`dtypes[i]` names
  /// their Prism dtype: the Python layer maps numpy / ml_dtypes dtypes) or
  /// DLPack capsules (their own dtype, device and layout), without copying
  /// them. Device memory must be the bundle's device. `outs` likewise
  /// (written in place when the kernels can address them). Returns, per
  /// output, (dtype, result, written in place): the result is None when
  /// written in place, a numpy array of the storage dtype for host memory
  /// with `host_arrays`, a DLPack capsule otherwise. Outputs stay on the
  /// device with `outputs_on_device`.
  py::list runTensors(const std::string &name, const std::vector<py::object> &arrays,
                      const std::vector<std::string> &dtypes,
                      std::optional<std::vector<py::object>> outs,
                      std::optional<std::vector<std::string>> outDtypes,
                      bool outputsOnDevice, bool hostArrays) {
    const dlpack::Device bundleDevice = device();
    std::vector<std::unique_ptr<ImportedTensor>> imported; // alive until the end
    auto prepare = [&](const py::object &object, const std::string &dtype,
                       const std::string &what, bool written) {
      HostTensor t;
      if (py::isinstance<py::array>(object)) {
        py::array a = py::reinterpret_borrow<py::array>(object);
        if (!(a.flags() & py::array::c_style))
          raise(what + " is not C-contiguous");
        if (written && !a.writeable())
          raise(what + " is not writable");
        t.dtype = dtype;
        for (py::ssize_t d = 0; d < a.ndim(); ++d)
          t.shape.push_back(a.shape(d));
        if (static_cast<py::ssize_t>(elementSize(t.dtype)) != a.itemsize())
          raise(what + " has " + std::to_string(a.itemsize()) +
                "-byte elements, but dtype " + t.dtype + " needs " +
                std::to_string(elementSize(t.dtype)));
        t.data = const_cast<void *>(a.data());
        return t;
      }
      std::string error;
      imported.push_back(ImportedTensor::fromCapsule(object.ptr(), what, error));
      if (!imported.back())
        raise(error);
      const ImportedTensor &i = *imported.back();
      if (written && i.readOnly())
        raise(what + " is read-only");
      if (i.tensor().onDevice && (i.device().type != bundleDevice.type ||
                                  i.device().id != bundleDevice.id)) {
        std::string where = bundleDevice.type == dlpack::kCPU
                                ? "the host"
                                : prism::python::describeDevice(bundleDevice);
        raise(what + " lives on " + prism::python::describeDevice(i.device()) +
              ", but this bundle for '" + target() + "' runs on " + where +
              (bundleDevice.type == dlpack::kCPU
                   ? "; copy it to the host first (.cpu() in PyTorch)"
                   : "; move it there first"));
      }
      return i.tensor();
    };

    std::vector<HostTensor> inputs;
    for (size_t i = 0; i < arrays.size(); ++i)
      inputs.push_back(prepare(arrays[i], dtypes[i], "input " + std::to_string(i) +
                                                         " of '" + name + "'",
                               /*written=*/false));
    std::vector<HostTensor> provided;
    if (outs)
      for (size_t i = 0; i < outs->size(); ++i)
        provided.push_back(prepare((*outs)[i], (*outDtypes)[i],
                                   "out[" + std::to_string(i) + "]",
                                   /*written=*/true));
    std::vector<HostTensor> outputs;
    std::string error;
    bool ok;
    {
      py::gil_scoped_release release;
      ok = bundle->run(name, inputs, outputs, error, outputsOnDevice,
                       outs ? &provided : nullptr);
    }
    if (!ok)
      raise(error);
    py::list result;
    for (size_t o = 0; o < outputs.size(); ++o) {
      const HostTensor &t = outputs[o];
      bool inPlace = outs && provided[o].data && provided[o].data == t.data;
      if (inPlace) {
        result.append(py::make_tuple(t.dtype, py::none(), true));
        continue;
      }
      if (!t.onDevice && hostArrays) {
        result.append(py::make_tuple(t.dtype, hostArray(t), false));
        continue;
      }
      dlpack::Device where = t.onDevice ? bundleDevice : dlpack::Device{dlpack::kCPU, 0};
      PyObject *capsule = prism::python::exportTensor(t, where);
      if (!capsule)
        throw py::error_already_set();
      result.append(py::make_tuple(t.dtype, py::reinterpret_steal<py::object>(capsule),
                                   false));
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
      .def_property_readonly("device",
                             [](const PyBundle &b) {
                               dlpack::Device d = b.device();
                               return py::make_tuple(d.type, d.id);
                             })
      .def("inputs", [](const PyBundle &b, const std::string &n) { return b.signature(n, false); })
      .def("outputs", [](const PyBundle &b, const std::string &n) { return b.signature(n, true); })
      .def("run", &PyBundle::runTensors, py::arg("name"), py::arg("tensors"),
           py::arg("dtypes"), py::arg("outs") = py::none(),
           py::arg("out_dtypes") = py::none(), py::arg("outputs_on_device") = false,
           py::arg("host_arrays") = true);
}
