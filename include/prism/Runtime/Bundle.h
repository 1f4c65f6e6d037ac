//===- Bundle.h - Artifact bundles: manifest and execution ------*- C++ -*-===//
//
// A bundle is a directory: manifest.json (what to run, how, on which target,
// built by which toolchain from which source) and the target's binaries. The
// runtime opens it and runs its functions on host buffers. No LLVM, no MLIR:
// see ARCHITECTURE.md.
//
//===----------------------------------------------------------------------===//

#ifndef PRISM_RUNTIME_BUNDLE_H
#define PRISM_RUNTIME_BUNDLE_H

#include "prism/Runtime/BufferPool.h"
#include "prism/Runtime/Json.h"

#include <array>
#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace prism::runtime {

/// The manifest's format tag; bumped on any incompatible change.
/// 2: grid axes may have outer sizes (a runtime of format 1 would ignore
/// them and launch too few programs, so it must refuse these bundles).
/// 3: an alternative of a launch group may be several launches with one
/// range (split-K for a dynamic M's few rows), which a runtime of format 2
/// refuses as overlapping ranges; the version says why.
constexpr const char *kBundleFormat = "prism-bundle/3";

/// Bytes per element of a dtype name ("f32", "bf16", ...), 0 if unknown.
int64_t elementSize(const std::string &dtype);

/// constant * product(inputs[i].shape[d]) / divisor.
struct DimExpr {
  int64_t constant = 1;
  int64_t divisor = 1;
  std::vector<std::pair<int64_t, int64_t>> factors;
};

struct BufferPlan {
  std::string kind; // "input", "temporary", "view"
  std::string dtype;
  std::vector<DimExpr> shape;
  int64_t index = -1;  // input position
  int64_t source = -1; // viewed buffer
  std::string view;    // "reshape", "transpose", "broadcast"
  std::vector<int64_t> permutation;
  /// The compiler specialized kernels on this buffer's innermost stride
  /// being 1; the runtime checks that it is.
  bool unitInnermost = false;
};

/// One axis of a launch's grid: ceil(product(product) / tile) programs
/// for each index of `outer` (a kernel that tiles the last dimension of a
/// tensor and walks its leading dimensions on the same axis, so that
/// neither count meets y's and z's limit of 65535).
struct GridAxis {
  std::vector<DimExpr> product; // empty: 1
  int64_t tile = 1;
  std::vector<DimExpr> outer; // empty: 1
};

/// The sizes a launch is for: it runs when `size`, evaluated at run
/// time, is within [min, max]. A kernel specialized for a range of a
/// dynamic size (a matmul's few rows) comes with alternatives that cover
/// the other sizes: a group, consecutive launches named by the index of
/// the first, whose ranges cover every size from 0 in order (checked when
/// the manifest is read), so that exactly one alternative runs. An
/// alternative is one launch or several consecutive ones with the same
/// range (split-K's products, then their sum).
struct LaunchCondition {
  int64_t group = 0;
  DimExpr size;
  int64_t min = 0;
  int64_t max = std::numeric_limits<int64_t>::max();

  bool holds(int64_t value) const { return value >= min && value <= max; }
};

struct LaunchPlan {
  std::string kernel;
  std::array<GridAxis, 3> grid;
  std::vector<int64_t> args; // buffer ids
  std::optional<LaunchCondition> when; // absent: always
};

struct TensorSignature {
  std::string dtype;
  std::vector<int64_t> shape; // -1: dynamic
};

/// A relation between sizes that the op semantics require and no static
/// type could check (dynamic dims): `lhs == rhs` ("equal"), `lhs` a
/// multiple of a positive `rhs` ("multiple": grouped-query attention's
/// heads), or `lhs` above 0 ("positive": rope's table positions). `what`
/// names the op and the sizes ("prism.matmul at f.mlir:3:8: K of the lhs
/// and K of the rhs"; for the last two kinds, the whole requirement).
struct ShapeCheck {
  std::string kind;
  DimExpr lhs, rhs;
  std::string what;
};

/// Whether sizes `lhs` and `rhs` satisfy a ShapeCheck of `kind` (the
/// compiler applies the same rule to sizes it knows statically).
inline bool shapeCheckHolds(const std::string &kind, int64_t lhs, int64_t rhs) {
  if (kind == "equal")
    return lhs == rhs;
  if (kind == "multiple")
    return rhs > 0 && lhs >= 0 && lhs % rhs == 0;
  return lhs > 0; // positive
}

struct FunctionPlan {
  std::string name;
  std::vector<ShapeCheck> checks;
  std::vector<TensorSignature> inputs;
  std::vector<TensorSignature> outputs;
  std::vector<BufferPlan> buffers;
  std::vector<LaunchPlan> launches;
  std::vector<int64_t> outputBuffers;
};

/// One alternative of a group of launches chosen by a dynamic size: its
/// range and its launches (indices into FunctionPlan::launches, in order).
struct LaunchAlternative {
  int64_t min = 0;
  int64_t max = std::numeric_limits<int64_t>::max();
  std::vector<size_t> launches;
};

/// A group of alternatives (consecutive launches of one LaunchCondition
/// group; an alternative is the consecutive ones with the same range).
struct LaunchChoice {
  DimExpr size;
  std::vector<LaunchAlternative> alternatives;
};

/// The launch groups of `f`, in order (of a plan the manifest reader
/// accepted: groups consecutive, ranges in order).
std::vector<LaunchChoice> launchChoices(const FunctionPlan &f);

/// A tensor map a kernel takes (NVIDIA's TMA): a description of kernel
/// argument `argument` that the runtime builds at each launch, for copies
/// of `box` elements (innermost dimension first) swizzled by
/// `swizzleBytes` (32, 64 or 128). The kernel takes all of its maps in one
/// extra buffer argument after its own, kTensorMapBytes each (see
/// TensorMaps.h).
struct TensorMapSpec {
  int64_t argument = 0;
  int64_t elementBytes = 2;
  std::vector<int64_t> box;
  int64_t swizzleBytes = 0;
};

/// How a GPU kernel is launched (absent for the CPU, whose programs are
/// function calls): threads per block and bytes of shared memory; and, for
/// the reader, the depth of its operand pipeline (1: none).
struct KernelConfig {
  int64_t threads = 1;
  int64_t sharedBytes = 0;
  int64_t stages = 1;
  /// Whether sharedBytes is dynamic shared memory, given at launch (above
  /// the 48 KB of static shared memory on NVIDIA GPUs).
  bool dynamicShared = false;
  std::vector<TensorMapSpec> tensorMaps;
};

struct Manifest {
  std::string format = kBundleFormat;
  std::string target;  // "cpu", "cpu:avx512", ...
  std::string library; // the binary, relative to the bundle directory
  /// Its size in bytes, checked before it is loaded (a truncated shared
  /// library can crash the loader); -1 when not recorded.
  int64_t libraryBytes = -1;
  Json toolchain = Json::object();
  std::string sourceHash;
  std::string pipeline;
  std::vector<FunctionPlan> functions;
  std::map<std::string, KernelConfig> kernels; // GPU targets only
  /// Every kernel's buffer arguments, by rank (all targets; absent in
  /// bundles from before 2026-12-03): each launch is checked against them
  /// when the manifest is read, so that a damaged plan cannot call a kernel
  /// with the wrong buffers.
  std::map<std::string, std::vector<int64_t>> kernelArguments;

  Json toJson() const;
  static bool fromJson(const Json &json, Manifest &manifest, std::string &error);
};

/// A strided view of memory handed to a kernel.
struct StridedBuffer {
  void *data = nullptr;
  int64_t offset = 0; // elements
  std::vector<int64_t> sizes;
  std::vector<int64_t> strides; // elements

  static StridedBuffer contiguous(void *data, std::vector<int64_t> sizes);
};

/// A point on the timeline of a runner's launches (KernelRunner::markTime).
class TimeMark {
public:
  virtual ~TimeMark();
};

/// What a target's runtime provides: launching one kernel of the bundle,
/// and, for devices with their own memory, allocating and copying it.
class KernelRunner {
public:
  virtual ~KernelRunner();
  virtual bool launch(const std::string &kernel,
                      const std::vector<StridedBuffer> &arguments,
                      std::array<int64_t, 3> grid, std::string &error) = 0;

  /// Whether kernels read and write host memory (the CPU). Otherwise
  /// Bundle::run keeps every buffer in memory from allocate() and copies
  /// inputs in and outputs out.
  virtual bool usesHostMemory() const { return true; }
  /// Device memory of at least `bytes`, released by the returned pointer.
  virtual std::shared_ptr<void> allocate(size_t bytes, std::string &error);
  virtual bool copyToDevice(void *device, const void *host, size_t bytes,
                            std::string &error);
  virtual bool copyToHost(void *host, const void *device, size_t bytes,
                          std::string &error);
  /// Waits for every launch to finish; reports the first failure.
  virtual bool synchronize(std::string &error) { return true; }

  /// Work a launch needs before it can be queued that the runtime can do
  /// ahead of the run's first launch (a GPU's tensor maps, uploaded with a
  /// copy that would wait for the kernels before it): Bundle::run prepares
  /// every launch first and hands each its `prepared` state (kept alive
  /// until the run has synchronized), so that the launches follow each
  /// other without host round trips. Optional: the default prepares
  /// nothing.
  virtual bool prepareLaunch(const std::string &kernel,
                             const std::vector<StridedBuffer> &arguments,
                             std::shared_ptr<void> &prepared, std::string &error) {
    prepared.reset();
    return true;
  }
  /// launch() with what prepareLaunch made for these arguments (null:
  /// nothing).
  virtual bool launchPrepared(const std::string &kernel,
                              const std::vector<StridedBuffer> &arguments,
                              std::array<int64_t, 3> grid,
                              const std::shared_ptr<void> &prepared, std::string &error) {
    return launch(kernel, arguments, grid, error);
  }

  /// A mark for a point on the timeline of the launches, recorded later by
  /// recordTime (creating one may be slow: Bundle::run creates them all
  /// before its first launch). Null (and `error`) when the runner cannot
  /// time its launches.
  virtual std::unique_ptr<TimeMark> createTimeMark(std::string &error);
  /// Records `mark` at the point the launches have reached: after every
  /// kernel launched before and before any launched after. The default
  /// reads the host clock, which is that point for runners whose launch
  /// returns when the kernel has finished (the CPU, the emulators); a
  /// device runner records an event on its launch stream.
  virtual bool recordTime(TimeMark &mark, std::string &error);
  /// Milliseconds from `start` to `end` (recorded marks of this runner,
  /// the later one second), once synchronize() has returned.
  virtual bool elapsedMilliseconds(const TimeMark &start, const TimeMark &end,
                                   double &milliseconds, std::string &error);
  /// What the marks read, for reports: "host clock" or "device events".
  virtual const char *timeSource() const { return "host clock"; }
  /// Queues a write of `bytes` of scratch device memory on the launch
  /// stream (before a timed run: the device's caches lose the run's data,
  /// as in a model step where other layers ran in between, and the device
  /// is busy while the host queues the run, so that the run's first mark
  /// does not time the host). False, and `error` says why, where the
  /// runner cannot; the default (host runtimes) cannot.
  virtual bool flushCaches(int64_t bytes, std::string &error) {
    error = "this runtime does not flush caches before a timed run";
    return false;
  }
};

/// The time a run's launches took (Bundle::run): from before the first
/// launch to after the last, on the runner's own timeline (a GPU's events,
/// not the host's clock), and each launch's with `perLaunch`.
struct RunTiming {
  /// In: time every launch, not only the whole run (one mark more per
  /// launch).
  bool perLaunch = false;
  /// In: before the first mark, KernelRunner::flushCaches of this many
  /// bytes (0: none). Out: `flushed` says whether the runner did, and
  /// `notFlushed` why not (the run is timed either way).
  int64_t flushBytes = 0;
  bool flushed = false;
  std::string notFlushed;

  struct Launch {
    std::string kernel;
    std::array<int64_t, 3> grid{};
    double milliseconds = 0;
    /// The bytes of the buffers the launch reads or writes, each counted
    /// once (a view as the memory it views): the least memory traffic the
    /// kernel can have, for its bandwidth.
    int64_t bytes = 0;
  };
  /// Out: whether the run was timed; if not, `unavailable` says why (the
  /// run itself goes on untimed).
  bool measured = false;
  std::string unavailable;
  std::string source; // KernelRunner::timeSource()
  double milliseconds = 0;
  std::vector<Launch> launches; // with perLaunch, in launch order
};

using KernelRunnerFactory = std::function<std::unique_ptr<KernelRunner>(
    const std::string &bundleDirectory, const Manifest &, std::string &error)>;

/// Registers the runtime of a target backend ("cpu"); called by
/// register<Name>Runtime().
void registerKernelRunner(const std::string &backend, KernelRunnerFactory factory);
/// Registers every runtime backend this build has.
void registerAllKernelRunners();

/// A host tensor handed to or returned by a bundle function.
struct HostTensor {
  std::string dtype;
  std::vector<int64_t> shape;
  std::shared_ptr<void> storage; // owns `data` for outputs; may be empty
  void *data = nullptr;
  /// `data` is memory of the bundle's device (from Bundle::upload or a
  /// device-resident run), not host memory.
  bool onDevice = false;

  int64_t numElements() const;
  int64_t byteSize() const { return numElements() * elementSize(dtype); }
  /// A zero-initialized tensor with 64-byte aligned storage.
  static HostTensor allocate(const std::string &dtype,
                             std::vector<int64_t> shape);
  /// The same without the zero fill, for buffers a kernel writes entirely.
  static HostTensor allocateUninitialized(const std::string &dtype,
                                          std::vector<int64_t> shape);
};

class Bundle {
public:
  /// Opens the bundle in `directory`: reads and checks the manifest, loads
  /// the binaries through the target's runtime.
  static std::unique_ptr<Bundle> open(const std::string &directory,
                                      std::string &error);

  const Manifest &manifest() const { return bundleManifest; }
  const FunctionPlan *function(const std::string &name) const;
  /// Whether the kernels address host memory (the CPU, the Ascend
  /// emulation) rather than a device's.
  bool runsOnHost() const { return runner->usesHostMemory(); }

  /// Runs `name` on `inputs`; fills `outputs`. Checks dtypes, ranks and
  /// static sizes of the inputs, and every runtime size relation the plan
  /// needs (reshape divisibility); reports a clear error otherwise.
  /// Inputs may be on the device (onDevice); with `outputsOnDevice` the
  /// outputs stay there too (for a GPU target), otherwise they are copied
  /// to host memory. `provided`: memory for the outputs, one tensor per
  /// output (null data: allocate it), checked against the computed dtype
  /// and shape; the kernels write into it directly when the bundle can
  /// address it (host memory for a host bundle, device memory for a GPU
  /// bundle) and the caller copies otherwise.
  /// With `timing`, the launches are also timed (RunTiming).
  bool run(const std::string &name, const std::vector<HostTensor> &inputs,
           std::vector<HostTensor> &outputs, std::string &error,
           bool outputsOnDevice = false,
           const std::vector<HostTensor> *provided = nullptr,
           RunTiming *timing = nullptr) const;

  /// A copy of a host tensor in the memory the bundle's kernels use (the
  /// tensor itself for a host target).
  bool upload(const HostTensor &host, HostTensor &device,
              std::string &error) const;

private:
  Manifest bundleManifest;
  std::unique_ptr<KernelRunner> runner;
  /// Temporaries and outputs come from here and return to it when released,
  /// so repeated runs reuse memory instead of faulting in fresh pages.
  std::shared_ptr<BufferPool> pool = BufferPool::create();
};

} // namespace prism::runtime

#endif // PRISM_RUNTIME_BUNDLE_H
