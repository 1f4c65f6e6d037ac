//===- Bundle.cpp - Open a bundle and run its functions -------------------===//

#include "prism/Runtime/Bundle.h"

#include <cstdlib>
#include <algorithm>
#include <chrono>
#include <cstring>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>

#include <limits>

namespace prism::runtime {

KernelRunner::~KernelRunner() = default;
TimeMark::~TimeMark() = default;

namespace {
/// A host-clock mark (KernelRunner's default timer).
struct HostTimeMark : TimeMark {
  std::chrono::steady_clock::time_point time = std::chrono::steady_clock::now();
};

/// The marks of a timed run (RunTiming), all created before its first
/// launch: one recorded before it, one after the last (and one after each
/// launch with perLaunch); read once the run has synchronized. A runner
/// that cannot time says why, and the run goes on untimed. Without a
/// RunTiming, nothing.
class LaunchTimer {
public:
  LaunchTimer(KernelRunner &runner, RunTiming *timing, size_t launches)
      : runner(runner), timing(timing) {
    if (!timing)
      return;
    size_t count = timing->perLaunch ? launches + 1 : 2;
    for (size_t i = 0; i < count && timing->unavailable.empty(); ++i) {
      std::string why;
      marks.push_back(runner.createTimeMark(why));
      if (!marks.back())
        timing->unavailable = why.empty() ? "the runtime cannot time its launches" : why;
    }
    if (!timing->unavailable.empty())
      marks.clear();
  }
  /// Records the next mark.
  void mark() {
    if (marks.empty())
      return;
    std::string why;
    if (!runner.recordTime(*marks[recorded++], why)) {
      timing->unavailable = why;
      marks.clear();
    }
  }
  /// After each launch (its figure filled in by read()).
  void launched(RunTiming::Launch launch) {
    if (!timing || !timing->perLaunch)
      return;
    mark();
    launches.push_back(std::move(launch));
  }
  /// After the last launch.
  void ended() {
    if (timing && !timing->perLaunch)
      mark();
  }
  /// Fills the RunTiming; after the runner has synchronized.
  void read() {
    if (!timing || !timing->unavailable.empty())
      return;
    timing->source = runner.timeSource();
    if (marks.size() < 2) { // nothing launched (every tensor empty): no time
      timing->measured = true;
      return;
    }
    std::string why;
    double total = 0;
    bool ok = runner.elapsedMilliseconds(*marks.front(), *marks.back(), total, why);
    for (size_t i = 0; ok && i < launches.size(); ++i)
      ok = runner.elapsedMilliseconds(*marks[i], *marks[i + 1], launches[i].milliseconds, why);
    if (!ok) {
      timing->unavailable = why;
      return;
    }
    timing->measured = true;
    timing->milliseconds = total;
    timing->launches = std::move(launches);
  }

private:
  KernelRunner &runner;
  RunTiming *timing;
  std::vector<std::unique_ptr<TimeMark>> marks;
  size_t recorded = 0;
  std::vector<RunTiming::Launch> launches;
};
} // namespace

std::unique_ptr<TimeMark> KernelRunner::createTimeMark(std::string &) {
  return std::make_unique<HostTimeMark>();
}

bool KernelRunner::recordTime(TimeMark &mark, std::string &error) {
  auto *host = dynamic_cast<HostTimeMark *>(&mark);
  if (!host) {
    error = "this time mark is not this runtime's";
    return false;
  }
  host->time = std::chrono::steady_clock::now();
  return true;
}

bool KernelRunner::elapsedMilliseconds(const TimeMark &start, const TimeMark &end,
                                       double &milliseconds, std::string &error) {
  auto *from = dynamic_cast<const HostTimeMark *>(&start);
  auto *to = dynamic_cast<const HostTimeMark *>(&end);
  if (!from || !to) {
    error = "these time marks are not this runtime's";
    return false;
  }
  milliseconds = std::chrono::duration<double, std::milli>(to->time - from->time).count();
  return true;
}

StridedBuffer StridedBuffer::contiguous(void *data, std::vector<int64_t> sizes) {
  StridedBuffer buffer;
  buffer.data = data;
  buffer.strides.assign(sizes.size(), 1);
  for (int64_t i = static_cast<int64_t>(sizes.size()) - 2; i >= 0; --i)
    buffer.strides[i] = buffer.strides[i + 1] * sizes[i + 1];
  buffer.sizes = std::move(sizes);
  return buffer;
}

int64_t HostTensor::numElements() const {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

std::shared_ptr<void> KernelRunner::allocate(size_t, std::string &error) {
  error = "this runtime has no device memory";
  return nullptr;
}
bool KernelRunner::copyToDevice(void *, const void *, size_t, std::string &error) {
  error = "this runtime has no device memory";
  return false;
}
bool KernelRunner::copyToHost(void *, const void *, size_t, std::string &error) {
  error = "this runtime has no device memory";
  return false;
}

HostTensor HostTensor::allocateUninitialized(const std::string &dtype,
                                             std::vector<int64_t> shape) {
  HostTensor t;
  t.dtype = dtype;
  t.shape = std::move(shape);
  size_t bytes = static_cast<size_t>(t.byteSize());
  size_t rounded = std::max<size_t>(64, ((bytes + 63) / 64) * 64);
  void *memory = std::aligned_alloc(64, rounded);
  t.storage = std::shared_ptr<void>(memory, std::free);
  t.data = memory;
  return t;
}

HostTensor HostTensor::allocate(const std::string &dtype,
                                std::vector<int64_t> shape) {
  HostTensor t = allocateUninitialized(dtype, std::move(shape));
  std::memset(t.data, 0, std::max<int64_t>(64, t.byteSize()));
  return t;
}

namespace {
std::mutex &registryMutex() {
  static std::mutex m;
  return m;
}
std::map<std::string, KernelRunnerFactory> &registry() {
  static std::map<std::string, KernelRunnerFactory> factories;
  return factories;
}
} // namespace

void registerKernelRunner(const std::string &backend,
                          KernelRunnerFactory factory) {
  std::lock_guard<std::mutex> lock(registryMutex());
  registry()[backend] = std::move(factory);
}

std::unique_ptr<Bundle> Bundle::open(const std::string &directory,
                                     std::string &error) {
  registerAllKernelRunners();
  std::string path = directory + "/manifest.json";
  std::ifstream file(path);
  if (!file) {
    error = "cannot read " + path + " (is '" + directory + "' a Prism bundle?)";
    return nullptr;
  }
  std::stringstream text;
  text << file.rdbuf();
  Json json;
  std::string parseError;
  if (!Json::parse(text.str(), json, parseError)) {
    error = path + " is not valid JSON: " + parseError;
    return nullptr;
  }
  auto bundle = std::unique_ptr<Bundle>(new Bundle());
  if (!Manifest::fromJson(json, bundle->bundleManifest, error)) {
    error = path + ": " + error;
    return nullptr;
  }
  const Manifest &manifest = bundle->bundleManifest;
  {
    std::string library = directory + "/" + manifest.library;
    std::ifstream binary(library, std::ios::binary | std::ios::ate);
    if (!binary) {
      error = "cannot read " + library + ", the bundle's kernels";
      return nullptr;
    }
    auto bytes = static_cast<int64_t>(binary.tellg());
    if (manifest.libraryBytes >= 0 && bytes != manifest.libraryBytes) {
      error = library + " has " + std::to_string(bytes) + " bytes, but the manifest says " +
              std::to_string(manifest.libraryBytes) + " (a damaged or partly copied bundle?)";
      return nullptr;
    }
  }
  std::string backend = bundle->bundleManifest.target.substr(
      0, bundle->bundleManifest.target.find(':'));
  KernelRunnerFactory factory;
  {
    std::lock_guard<std::mutex> lock(registryMutex());
    auto it = registry().find(backend);
    if (it != registry().end())
      factory = it->second;
  }
  if (!factory) {
    error = "the bundle targets '" + bundle->bundleManifest.target +
            "', which this runtime was built without";
    return nullptr;
  }
  bundle->runner = factory(directory, bundle->bundleManifest, error);
  if (!bundle->runner)
    return nullptr;
  return bundle;
}

const FunctionPlan *Bundle::function(const std::string &name) const {
  for (const FunctionPlan &f : bundleManifest.functions)
    if (f.name == name)
      return &f;
  return nullptr;
}

namespace {

std::string formatShape(const std::vector<int64_t> &shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i)
    s += (i ? ", " : "") + (shape[i] < 0 ? std::string("?") : std::to_string(shape[i]));
  return s + "]";
}

/// Evaluates the plan's symbolic sizes against the actual input shapes.
class ShapeEvaluator {
public:
  ShapeEvaluator(const std::vector<HostTensor> &inputs) : inputs(inputs) {}

  bool evaluate(const DimExpr &d, int64_t &value, std::string &error) const {
    int64_t product = d.constant;
    for (auto [input, dim] : d.factors) {
      if (input < 0 || input >= static_cast<int64_t>(inputs.size()) || dim < 0 ||
          dim >= static_cast<int64_t>(inputs[input].shape.size())) {
        error = "manifest refers to dimension " + std::to_string(dim) +
                " of input " + std::to_string(input) + ", which does not exist";
        return false;
      }
      if (__builtin_mul_overflow(product, inputs[input].shape[dim], &product)) {
        error = "a size of the plan overflows 64 bits with these inputs";
        return false;
      }
    }
    if (product % d.divisor != 0) {
      error = "a reshape needs a size that is a multiple of " +
              std::to_string(d.divisor) + ", but the inputs give " +
              std::to_string(product);
      return false;
    }
    value = product / d.divisor;
    return true;
  }

  /// The product of `dims` (1 when empty).
  bool evaluateProduct(const std::vector<DimExpr> &dims, int64_t &value,
                       std::string &error) const {
    value = 1;
    for (const DimExpr &d : dims) {
      int64_t size;
      if (!evaluate(d, size, error))
        return false;
      if (__builtin_mul_overflow(value, size, &value)) {
        error = "a launch's grid overflows 64 bits with these inputs";
        return false;
      }
    }
    return true;
  }

private:
  const std::vector<HostTensor> &inputs;
};

} // namespace

bool Bundle::upload(const HostTensor &host, HostTensor &device,
                    std::string &error) const {
  if (runner->usesHostMemory() || host.onDevice) {
    device = host;
    return true;
  }
  device.dtype = host.dtype;
  device.shape = host.shape;
  device.onDevice = true;
  size_t bytes = static_cast<size_t>(host.byteSize());
  device.storage = runner->allocate(bytes, error);
  device.data = device.storage.get();
  return device.storage && runner->copyToDevice(device.data, host.data, bytes, error);
}

bool Bundle::run(const std::string &name, const std::vector<HostTensor> &inputs,
                 std::vector<HostTensor> &outputs, std::string &error,
                 bool outputsOnDevice, const std::vector<HostTensor> *provided,
                 RunTiming *timing) const {
  if (timing) { // nothing of an earlier run survives a failure of this one
    bool perLaunch = timing->perLaunch;
    int64_t flushBytes = timing->flushBytes;
    *timing = RunTiming();
    timing->perLaunch = perLaunch;
    timing->flushBytes = flushBytes;
  }
  const FunctionPlan *plan = function(name);
  if (!plan) {
    error = "the bundle has no function '" + name + "'";
    return false;
  }
  if (provided && provided->size() != plan->outputBuffers.size()) {
    error = "'" + name + "' has " + std::to_string(plan->outputBuffers.size()) +
            " outputs, but memory for " + std::to_string(provided->size()) +
            " was given";
    return false;
  }
  if (inputs.size() != plan->inputs.size()) {
    error = "'" + name + "' takes " + std::to_string(plan->inputs.size()) +
            " inputs, but " + std::to_string(inputs.size()) + " were given";
    return false;
  }
  for (size_t i = 0; i < inputs.size(); ++i) {
    const TensorSignature &expected = plan->inputs[i];
    const HostTensor &given = inputs[i];
    bool shapeOk = given.shape.size() == expected.shape.size();
    for (size_t d = 0; shapeOk && d < given.shape.size(); ++d)
      shapeOk = given.shape[d] >= 0 &&
                (expected.shape[d] < 0 || expected.shape[d] == given.shape[d]);
    if (given.dtype != expected.dtype || !shapeOk) {
      error = "input " + std::to_string(i) + " of '" + name + "' must be " +
              expected.dtype + formatShape(expected.shape) + ", but got " +
              given.dtype + formatShape(given.shape);
      return false;
    }
    if (!given.data && given.numElements() > 0) {
      error = "input " + std::to_string(i) + " has no data";
      return false;
    }
  }

  ShapeEvaluator shapes(inputs);
  // The relations between dynamic sizes that the ops need (a matmul's K,
  // grouped-query heads, ...): a mismatch would read past a buffer.
  for (const ShapeCheck &check : plan->checks) {
    int64_t lhs = 0, rhs = 0;
    if (!shapes.evaluate(check.lhs, lhs, error) || !shapes.evaluate(check.rhs, rhs, error))
      return false;
    if (!shapeCheckHolds(check.kind, lhs, rhs)) {
      error = "'" + name + "': " + check.what +
              (check.kind == "equal" ? " must be equal" : "") + ", but the inputs give " +
              std::to_string(lhs) +
              (check.kind == "positive" ? "" : " and " + std::to_string(rhs));
      return false;
    }
  }
  // The launches for these sizes (a launch with a `when` range runs when
  // its size is in it; an alternative covers the others), and the buffers
  // they use: a temporary only the launches of other sizes use (split-K's
  // partials, sized by rows for which the alternative does not split) gets
  // no memory.
  std::vector<bool> launchRuns(plan->launches.size(), true);
  std::vector<bool> bufferUsed(plan->buffers.size(), false);
  for (size_t i = 0; i < plan->launches.size(); ++i) {
    const LaunchPlan &launch = plan->launches[i];
    if (launch.when) {
      int64_t size;
      if (!shapes.evaluate(launch.when->size, size, error))
        return false;
      launchRuns[i] = launch.when->holds(size);
    }
    if (launchRuns[i])
      for (int64_t a : launch.args)
        bufferUsed[a] = true;
  }
  for (int64_t id : plan->outputBuffers)
    bufferUsed[id] = true;
  for (size_t id = plan->buffers.size(); id-- > 0;) {
    const BufferPlan &b = plan->buffers[id];
    if (bufferUsed[id] && b.kind == "view" && b.source >= 0 &&
        b.source < static_cast<int64_t>(id))
      bufferUsed[b.source] = true;
  }
  const bool onHost = runner->usesHostMemory();
  std::vector<StridedBuffer> buffers(plan->buffers.size());
  std::vector<HostTensor> temporaries(plan->buffers.size());
  // The buffer each one's memory is (a view's source, to the root) and the
  // bytes of each root: what a launch reads or writes, for RunTiming.
  std::vector<int64_t> rootOf(plan->buffers.size());
  std::vector<int64_t> rootBytes(plan->buffers.size(), 0);
  for (size_t id = 0; id < plan->buffers.size(); ++id) {
    const BufferPlan &b = plan->buffers[id];
    std::vector<int64_t> sizes;
    // Bytes that fit 63 bits (a damaged manifest could ask for more).
    int64_t bytes = elementSize(b.dtype);
    for (const DimExpr &d : b.shape) {
      int64_t value;
      if (!shapes.evaluate(d, value, error))
        return false;
      if (value < 0 || (value != 0 && bytes > std::numeric_limits<int64_t>::max() / value)) {
        error = "buffer " + std::to_string(id) + " of '" + name +
                "' would have a negative size or more than 2^63 bytes";
        return false;
      }
      bytes *= value;
      sizes.push_back(value);
    }
    rootOf[id] = b.kind == "view" && b.source >= 0 && b.source < static_cast<int64_t>(id)
                     ? rootOf[b.source]
                     : static_cast<int64_t>(id);
    if (rootOf[id] == static_cast<int64_t>(id))
      rootBytes[id] = bytes;
    // Memory the kernels can address: host memory for the CPU, the
    // runner's device memory otherwise.
    auto allocate = [&](HostTensor &t) {
      size_t bytes = static_cast<size_t>(t.byteSize());
      t.storage = onHost ? pool->acquire(bytes) : runner->allocate(bytes, error);
      if (!t.storage && error.empty())
        error = "out of memory for a " + formatShape(t.shape) + " " + t.dtype +
                " buffer";
      t.data = t.storage.get();
      return static_cast<bool>(t.storage);
    };
    if (b.kind == "input") {
      const HostTensor &given = inputs[b.index];
      if (onHost && given.onDevice) {
        error = "input " + std::to_string(b.index) +
                " is device memory, but this bundle runs on the host";
        return false;
      }
      if (onHost || given.onDevice) {
        buffers[id] = StridedBuffer::contiguous(given.data, sizes);
      } else {
        HostTensor &copy = temporaries[id];
        copy.dtype = given.dtype;
        copy.shape = given.shape;
        if (!allocate(copy) ||
            !runner->copyToDevice(copy.data, given.data,
                                  static_cast<size_t>(given.byteSize()), error))
          return false;
        buffers[id] = StridedBuffer::contiguous(copy.data, sizes);
      }
    } else if (b.kind == "temporary") {
      // Every temporary is written entirely by the kernel that produces it,
      // so pooled memory needs no clearing.
      HostTensor &t = temporaries[id];
      t.dtype = b.dtype;
      t.shape = sizes;
      // An output the caller gave memory for, if the kernels can address it.
      const HostTensor *given = nullptr;
      if (provided)
        for (size_t o = 0; o < plan->outputBuffers.size(); ++o)
          if (plan->outputBuffers[o] == static_cast<int64_t>(id) &&
              (*provided)[o].data && (*provided)[o].onDevice != onHost) {
            given = &(*provided)[o];
            if (given->dtype != t.dtype || given->shape != t.shape) {
              error = "output " + std::to_string(o) + " of '" + name + "' is " + t.dtype +
                      formatShape(t.shape) + ", but the memory given for it is " +
                      given->dtype + formatShape(given->shape);
              return false;
            }
          }
      if (given) {
        t.storage = nullptr;
        t.data = given->data;
      } else if (!bufferUsed[id]) {
        t.storage = nullptr;
        t.data = nullptr;
      } else if (!allocate(t))
        return false;
      buffers[id] = StridedBuffer::contiguous(temporaries[id].data, sizes);
    } else {
      const StridedBuffer &source = buffers[b.source];
      StridedBuffer view;
      view.data = source.data;
      view.offset = source.offset;
      view.sizes = sizes;
      if (b.view == "reshape") {
        view.strides = StridedBuffer::contiguous(nullptr, sizes).strides;
        int64_t sourceCount = 1, count = 1;
        for (int64_t s : source.sizes)
          sourceCount *= s;
        for (int64_t s : sizes)
          count *= s;
        if (sourceCount != count) {
          error = "a reshape from " + formatShape(source.sizes) + " to " +
                  formatShape(sizes) + " does not keep the element count";
          return false;
        }
      } else if (b.view == "transpose") {
        for (int64_t p : b.permutation)
          view.strides.push_back(source.strides[p]);
      } else { // broadcast: stride 0 on stretched and added dims
        size_t lead = sizes.size() - source.sizes.size();
        view.strides.assign(sizes.size(), 0);
        for (size_t d = 0; d < source.sizes.size(); ++d) {
          if (source.sizes[d] == sizes[lead + d])
            view.strides[lead + d] = source.strides[d];
          else if (source.sizes[d] != 1) {
            error = "shapes " + formatShape(source.sizes) + " and " +
                    formatShape(sizes) + " do not broadcast at run time";
            return false;
          }
        }
      }
      buffers[id] = std::move(view);
    }
    const StridedBuffer &built = buffers[id];
    if (b.unitInnermost && !built.sizes.empty() && built.sizes.back() > 1 &&
        built.strides.back() != 1) {
      error = "buffer " + std::to_string(id) + " " + formatShape(built.sizes) +
              " was compiled for a contiguous innermost dimension, but at run "
              "time it has stride " + std::to_string(built.strides.back()) +
              " (a dynamic dimension of size 1 broadcast along the last "
              "axis); give that dimension a static size of 1";
      return false;
    }
  }

  // The launches for these sizes, their grids and buffers, each prepared
  // (KernelRunner::prepareLaunch) before the first is queued.
  struct Queued {
    const LaunchPlan *plan;
    std::array<int64_t, 3> grid;
    std::vector<StridedBuffer> args;
    std::shared_ptr<void> prepared; // alive until the run returns
    int64_t bytes = 0;              // of the buffers it reads or writes
  };
  std::vector<Queued> queue;
  for (size_t i = 0; i < plan->launches.size(); ++i) {
    const LaunchPlan &launch = plan->launches[i];
    if (!launchRuns[i])
      continue; // a kernel for other sizes (an alternative covers these)
    Queued queued{&launch, {}, {}, nullptr};
    for (int axis = 0; axis < 3; ++axis) {
      const GridAxis &g = launch.grid[axis];
      int64_t product, outer;
      if (!shapes.evaluateProduct(g.product, product, error) ||
          !shapes.evaluateProduct(g.outer, outer, error))
        return false;
      if (__builtin_mul_overflow(product / g.tile + (product % g.tile != 0), outer,
                                 &queued.grid[axis])) {
        error = "a launch's grid overflows 64 bits with these inputs";
        return false;
      }
    }
    int64_t programs;
    if (__builtin_mul_overflow(queued.grid[0], queued.grid[1], &programs) ||
        __builtin_mul_overflow(programs, queued.grid[2], &programs)) {
      error = "a launch's grid overflows 64 bits with these inputs";
      return false;
    }
    if (programs == 0)
      continue; // an empty tensor: nothing to compute
    std::vector<int64_t> roots;
    for (int64_t a : launch.args) {
      queued.args.push_back(buffers[a]);
      // Its bytes, for a profile only.
      if (timing && timing->perLaunch &&
          std::find(roots.begin(), roots.end(), rootOf[a]) == roots.end()) {
        roots.push_back(rootOf[a]);
        queued.bytes += rootBytes[rootOf[a]];
      }
    }
    if (!runner->prepareLaunch(launch.kernel, queued.args, queued.prepared, error))
      return false;
    queue.push_back(std::move(queued));
  }

  LaunchTimer timer(*runner, timing, queue.size());
  if (timing && timing->flushBytes > 0 && !queue.empty())
    timing->flushed = runner->flushCaches(timing->flushBytes, timing->notFlushed);
  timer.mark(); // before the first launch
  for (const Queued &queued : queue) {
    if (!runner->launchPrepared(queued.plan->kernel, queued.args, queued.grid,
                                queued.prepared, error))
      return false;
    timer.launched({queued.plan->kernel, queued.grid, 0, queued.bytes});
  }
  timer.ended();
  if (!runner->synchronize(error))
    return false;
  timer.read();
  outputs.clear();
  for (int64_t id : plan->outputBuffers) {
    if (onHost || outputsOnDevice) {
      outputs.push_back(temporaries[id]);
      outputs.back().onDevice = !onHost;
      continue;
    }
    const HostTensor &device = temporaries[id];
    HostTensor host;
    host.dtype = device.dtype;
    host.shape = device.shape;
    host.storage = pool->acquire(static_cast<size_t>(device.byteSize()));
    host.data = host.storage.get();
    if (!host.storage ||
        !runner->copyToHost(host.data, device.data,
                            static_cast<size_t>(device.byteSize()), error))
      return false;
    outputs.push_back(std::move(host));
  }
  return true;
}

} // namespace prism::runtime
