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
                          : t.dtype == "i64"  ? "int64"
                                              : "";
    if (storage.empty())
      raise("an output of dtype " + t.dtype + " cannot be returned to Python yet");
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
  /// device with `outputs_on_device`. With `timing` 1 (the run's launches)
  /// or 2 (and each launch), returns (that list, the RunTiming as a dict).
  py::object runTensors(const std::string &name, const std::vector<py::object> &arrays,
                        const std::vector<std::string> &dtypes,
                        std::optional<std::vector<py::object>> outs,
                        std::optional<std::vector<std::string>> outDtypes,
                        bool outputsOnDevice, bool hostArrays, int timing) {
    if (timing < 0 || timing > 2)
      raise("timing must be 0 (none), 1 (the run) or 2 (each launch), not " +
            std::to_string(timing));
    if (dtypes.size() != arrays.size())
      raise("internal: one dtype per input (" + std::to_string(arrays.size()) +
            " inputs, " + std::to_string(dtypes.size()) + " dtypes)");
    if (outs && (!outDtypes || outDtypes->size() != outs->size()))
      raise("internal: one dtype per out= tensor");
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
    // Memory given for an output that overlaps an input (or another
    // output) cannot be written while the kernels still read: the bundle
    // writes new memory and the caller copies.
    std::vector<HostTensor> writable = provided;
    auto overlaps = [](const HostTensor &x, const HostTensor &y) {
      if (!x.data || !y.data || x.onDevice != y.onDevice)
        return false;
      auto *a = static_cast<const char *>(x.data), *b = static_cast<const char *>(y.data);
      return a < b + y.byteSize() && b < a + x.byteSize();
    };
    for (size_t o = 0; o < writable.size(); ++o) {
      bool shared = false;
      for (const HostTensor &input : inputs)
        shared |= overlaps(writable[o], input);
      for (size_t p = 0; p < writable.size(); ++p)
        shared |= p != o && overlaps(writable[o], provided[p]);
      if (shared)
        writable[o].data = nullptr;
    }
    std::vector<HostTensor> outputs;
    std::string error;
    RunTiming runTiming;
    runTiming.perLaunch = timing == 2;
    bool ok;
    {
      py::gil_scoped_release release;
      ok = bundle->run(name, inputs, outputs, error, outputsOnDevice,
                       outs ? &writable : nullptr, timing ? &runTiming : nullptr);
    }
    if (!ok)
      raise(error);
    // Memory the kernels did not write is checked here (the runtime checks
    // what it writes): the caller copies into it.
    if (outs)
      for (size_t o = 0; o < outputs.size() && o < provided.size(); ++o)
        if (provided[o].dtype != outputs[o].dtype || provided[o].shape != outputs[o].shape) {
          auto format = [](const HostTensor &t) {
            std::string text = t.dtype + "[";
            for (size_t d = 0; d < t.shape.size(); ++d)
              text += (d ? ", " : "") + std::to_string(t.shape[d]);
            return text + "]";
          };
          raise("output " + std::to_string(o) + " of '" + name + "' is " +
                format(outputs[o]) + ", but the memory given for it is " +
                format(provided[o]));
        }
    py::list result;
    for (size_t o = 0; o < outputs.size(); ++o) {
      const HostTensor &t = outputs[o];
      py::tuple shape(t.shape.size());
      for (size_t d = 0; d < t.shape.size(); ++d)
        shape[d] = t.shape[d];
      bool inPlace = outs && writable[o].data && writable[o].data == t.data;
      if (inPlace) {
        result.append(py::make_tuple(t.dtype, py::none(), true, shape));
        continue;
      }
      if (!t.onDevice && hostArrays) {
        result.append(py::make_tuple(t.dtype, hostArray(t), false, shape));
        continue;
      }
      dlpack::Device where = t.onDevice ? bundleDevice : dlpack::Device{dlpack::kCPU, 0};
      PyObject *capsule = prism::python::exportTensor(t, where);
      if (!capsule)
        throw py::error_already_set();
      result.append(py::make_tuple(t.dtype, py::reinterpret_steal<py::object>(capsule),
                                   false, shape));
    }
    if (!timing)
      return std::move(result);
    py::dict times;
    times["measured"] = runTiming.measured;
    times["unavailable"] = runTiming.unavailable;
    times["source"] = runTiming.source;
    times["milliseconds"] = runTiming.milliseconds;
    py::list launches;
    for (const RunTiming::Launch &launch : runTiming.launches)
      launches.append(py::make_tuple(launch.kernel,
                                     py::make_tuple(launch.grid[0], launch.grid[1],
                                                    launch.grid[2]),
                                     launch.milliseconds, launch.bytes));
    times["launches"] = launches;
    return py::make_tuple(result, times);
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
           py::arg("host_arrays") = true, py::arg("timing") = 0);
}
