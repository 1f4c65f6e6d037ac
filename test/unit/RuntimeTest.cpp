//===- RuntimeTest.cpp - The runtime's error paths ------------------------===//
//
// The runtime runs where no compiler is installed; what it is given may be
// damaged or meant for another machine. Each case must end in a clear
// message, never a crash.
//
//===----------------------------------------------------------------------===//

#include "prism/Runtime/BufferPool.h"
#include "prism/Runtime/Bundle.h"
#include "prism/Runtime/DeviceKernelRunner.h"
#include "prism/Runtime/Json.h"

#include <gtest/gtest.h>

#include <dlfcn.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <algorithm>
#include <set>
#include <thread>
#include <filesystem>
#include <fstream>

using namespace prism::runtime;

namespace {

std::string manifestText(const std::string &target, const std::string &kernels) {
  return R"({"format": "prism-bundle/3", "target": ")" + target +
         R"(", "library": "kernels.cubin", "toolchain": {}, "source_hash": "x",
  "pipeline": "p", )" + kernels + R"("functions": []})";
}

bool parseManifest(const std::string &text, Manifest &manifest, std::string &error) {
  Json json;
  if (!Json::parse(text, json, error))
    return false;
  return Manifest::fromJson(json, manifest, error);
}

std::filesystem::path writeBundle(const std::string &name, const std::string &manifest) {
  auto dir = std::filesystem::temp_directory_path() / name;
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "manifest.json") << manifest;
  std::ofstream(dir / "kernels.cubin") << "not a cubin";
  return dir;
}

bool haveCudaDriver() {
  void *handle = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
  if (handle)
    dlclose(handle);
  return handle != nullptr;
}

} // namespace

TEST(Runtime, KernelConfigsRoundTrip) {
  Manifest m;
  std::string error;
  ASSERT_TRUE(parseManifest(
      manifestText("nvidia:sm_90a",
                   R"("kernels": {"k": {"threads": 128, "shared_bytes": 4096}}, )"),
      m, error))
      << error;
  ASSERT_EQ(m.kernels.count("k"), 1u);
  EXPECT_EQ(m.kernels["k"].threads, 128);
  EXPECT_EQ(m.kernels["k"].sharedBytes, 4096);
  Manifest again;
  ASSERT_TRUE(Manifest::fromJson(m.toJson(), again, error)) << error;
  EXPECT_EQ(again.kernels["k"].sharedBytes, 4096);
}

// Pipeline stages and dynamic shared memory travel in the manifest; a
// launch of a kernel with dynamic shared memory passes its size to the
// device API (static kernels pass 0).
TEST(Runtime, DynamicSharedMemoryReachesTheLaunch) {
  Manifest m;
  std::string error;
  ASSERT_TRUE(parseManifest(
      manifestText("nvidia:sm_90a",
                   R"("kernels": {"big": {"threads": 128, "shared_bytes": 73728, "stages": 3, "dynamic_shared": true},
                                  "small": {"threads": 128, "shared_bytes": 4096}}, )"),
      m, error))
      << error;
  EXPECT_TRUE(m.kernels["big"].dynamicShared);
  EXPECT_EQ(m.kernels["big"].stages, 3);
  EXPECT_FALSE(m.kernels["small"].dynamicShared);
  EXPECT_EQ(m.kernels["small"].stages, 1);
  Manifest again;
  ASSERT_TRUE(Manifest::fromJson(m.toJson(), again, error)) << error;
  EXPECT_TRUE(again.kernels["big"].dynamicShared);
  EXPECT_EQ(again.kernels["big"].stages, 3);
  EXPECT_FALSE(parseManifest(
      manifestText("nvidia:sm_90a",
                   R"("kernels": {"k": {"threads": 128, "shared_bytes": 1, "dynamic_shared": 1}}, )"),
      m, error));
  EXPECT_NE(error.find("dynamic_shared must be true or false"), std::string::npos) << error;

  struct RecordingApi : DeviceApi {
    std::vector<int64_t> dynamicBytes;
    bool makeCurrent(std::string &) override { return true; }
    bool loadModule(const std::string &, const std::string &, std::string &) override {
      return true;
    }
    void *getFunction(const std::string &name, std::string &) override {
      return reinterpret_cast<void *>(name.size());
    }
    bool launch(void *, std::array<int64_t, 3>, int64_t, int64_t dynamicSharedBytes,
                void **, std::string &) override {
      dynamicBytes.push_back(dynamicSharedBytes);
      return true;
    }
    void *allocate(size_t, std::string &) override { return nullptr; }
    void release(void *) override {}
    bool copyToDevice(void *, const void *, size_t, std::string &) override { return true; }
    bool copyToHost(void *, const void *, size_t, std::string &) override { return true; }
    bool synchronize(std::string &) override { return true; }
    std::array<int64_t, 3> maxGrid() const override { return {1 << 30, 65535, 65535}; }
  };
  auto api = std::make_shared<RecordingApi>();
  auto dir = writeBundle("prism-dynamic-shared", manifestText("nvidia:sm_90a", ""));
  auto runner = DeviceKernelRunner::create(api, dir.string(), again, error);
  ASSERT_TRUE(runner) << error;
  ASSERT_TRUE(runner->launch("big", {}, {1, 1, 1}, error)) << error;
  ASSERT_TRUE(runner->launch("small", {}, {1, 1, 1}, error)) << error;
  EXPECT_EQ(api->dynamicBytes, (std::vector<int64_t>{73728, 0}));
  std::filesystem::remove_all(dir);
}

// Tensor maps (TMA) travel in the manifest; at each launch the runner
// builds them from the arguments (through the device API's encoder, zero
// for a tensor the engine cannot describe), copies them to the device and
// passes them as one more buffer argument, reusing the device copy when a
// later launch has the same maps.
TEST(Runtime, TensorMapsAreBuiltAtEachLaunch) {
  Manifest m;
  std::string error;
  ASSERT_TRUE(parseManifest(
      manifestText("nvidia:sm_90a",
                   R"("kernels": {"mm": {"threads": 128, "shared_bytes": 24608, "stages": 3,
                                  "tensor_maps": [{"argument": 1, "element_bytes": 2, "box": [32, 64], "swizzle_bytes": 64}]}}, )"),
      m, error))
      << error;
  ASSERT_EQ(m.kernels["mm"].tensorMaps.size(), 1u);
  Manifest again;
  ASSERT_TRUE(Manifest::fromJson(m.toJson(), again, error)) << error;
  const TensorMapSpec &spec = again.kernels["mm"].tensorMaps[0];
  EXPECT_EQ(spec.argument, 1);
  EXPECT_EQ(spec.box, (std::vector<int64_t>{32, 64}));
  EXPECT_EQ(spec.swizzleBytes, 64);
  for (const char *bad : {R"("box": [32, 300], "swizzle_bytes": 64)",
                          R"("box": [32, 64], "swizzle_bytes": 48)"}) {
    std::string text = std::string(R"("kernels": {"k": {"threads": 128, "shared_bytes": 1,
        "tensor_maps": [{"argument": 0, "element_bytes": 2, )") + bad + "}]}}, ";
    EXPECT_FALSE(parseManifest(manifestText("nvidia:sm_90a", text), m, error));
    EXPECT_NE(error.find("is not a tensor map a GPU can use"), std::string::npos) << error;
    error.clear();
  }

  struct MapsApi : DeviceApi {
    std::vector<std::vector<uint8_t>> copies;
    std::vector<uint64_t> lastArgument;
    std::vector<uint8_t> device = std::vector<uint8_t>(4096);
    bool makeCurrent(std::string &) override { return true; }
    bool loadModule(const std::string &, const std::string &, std::string &) override {
      return true;
    }
    void *getFunction(const std::string &, std::string &) override { return this; }
    bool launch(void *, std::array<int64_t, 3>, int64_t, int64_t, void **parameters,
                std::string &) override {
      // Buffers 0 and 1 (rank 2: 7 slots each), then the maps (rank 1: 5).
      lastArgument.clear();
      for (int i = 14; i < 19; ++i)
        lastArgument.push_back(*static_cast<uint64_t *>(parameters[i]));
      return true;
    }
    void *allocate(size_t bytes, std::string &) override { return device.data(); }
    void release(void *) override {}
    bool copyToDevice(void *, const void *host, size_t bytes, std::string &) override {
      auto begin = static_cast<const uint8_t *>(host);
      copies.emplace_back(begin, begin + bytes);
      return true;
    }
    bool copyToHost(void *, const void *, size_t, std::string &) override { return true; }
    bool synchronize(std::string &) override { return true; }
    std::array<int64_t, 3> maxGrid() const override { return {1 << 30, 65535, 65535}; }
    bool refuse = false; // as a driver that cannot encode the map
    bool encodeTensorMap(const TensorMapSpec &spec, const TensorMapGeometry &geometry,
                         void *out, std::string &problem) override {
      if (refuse) {
        problem = "cuTensorMapEncodeTiled: CUDA_ERROR_INVALID_VALUE";
        return false;
      }
      // A recognizable map: the start, the dimensions and the stride.
      uint64_t words[4] = {reinterpret_cast<uint64_t>(geometry.start), geometry.dims[0],
                           geometry.dims[1], geometry.strides[0]};
      std::memcpy(out, words, sizeof(words));
      return true;
    }
  };
  auto api = std::make_shared<MapsApi>();
  auto dir = writeBundle("prism-tensor-maps", manifestText("nvidia:sm_90a", ""));
  auto runner = DeviceKernelRunner::create(api, dir.string(), again, error);
  ASSERT_TRUE(runner) << error;
  alignas(16) static uint16_t weights[64 * 40];
  StridedBuffer x = StridedBuffer::contiguous(weights, {8, 8});
  StridedBuffer w = StridedBuffer::contiguous(weights, {64, 40});
  w.offset = 8; // 16 bytes: still aligned
  ASSERT_TRUE(runner->launch("mm", {x, w}, {1, 1, 1}, error)) << error;
  ASSERT_EQ(api->copies.size(), 1u);
  ASSERT_EQ(api->copies[0].size(), kTensorMapBytes);
  uint64_t words[4];
  std::memcpy(words, api->copies[0].data(), sizeof(words));
  EXPECT_EQ(words[0], reinterpret_cast<uint64_t>(weights + 8));
  EXPECT_EQ(words[1], 40u); // innermost first
  EXPECT_EQ(words[2], 64u);
  EXPECT_EQ(words[3], 80u); // bytes between rows
  EXPECT_EQ(api->lastArgument[0], reinterpret_cast<uint64_t>(api->device.data()));
  EXPECT_EQ(api->lastArgument[3], kTensorMapBytes);
  // The same maps again: no new copy.
  ASSERT_TRUE(runner->launch("mm", {x, w}, {1, 1, 1}, error)) << error;
  EXPECT_EQ(api->copies.size(), 1u);
  // New maps prepared before the launch (Bundle::run prepares every launch
  // before its first, so that no copy waits between two kernels): the
  // launch finds them uploaded.
  StridedBuffer fewerRows = StridedBuffer::contiguous(weights, {32, 40});
  std::shared_ptr<void> prepared;
  ASSERT_TRUE(runner->prepareLaunch("mm", {x, fewerRows}, prepared, error)) << error;
  ASSERT_NE(prepared, nullptr);
  ASSERT_EQ(api->copies.size(), 2u);
  ASSERT_TRUE(runner->launchPrepared("mm", {x, fewerRows}, {1, 1, 1}, prepared, error))
      << error;
  EXPECT_EQ(api->copies.size(), 2u);
  api->copies.erase(api->copies.begin() + 1);
  {
    // Maps prepared for a run stay the run's even when the kept maps fill
    // up and are cleared while it prepares: its launches copy nothing.
    // (A runner of its own: this one's kept maps are the test's below.)
    auto freshApi = std::make_shared<MapsApi>();
    auto fresh = DeviceKernelRunner::create(freshApi, dir.string(), again, error);
    ASSERT_TRUE(fresh) << error;
    alignas(16) static uint16_t rows[300 * 64];
    for (int64_t r = 1; r <= 250; ++r)
      ASSERT_TRUE(fresh->launch("mm", {x, StridedBuffer::contiguous(rows, {r, 64})},
                                {1, 1, 1}, error))
          << error;
    std::vector<std::shared_ptr<void>> run;
    for (int64_t r = 251; r <= 260; ++r) {
      run.emplace_back();
      ASSERT_TRUE(fresh->prepareLaunch("mm", {x, StridedBuffer::contiguous(rows, {r, 64})},
                                       run.back(), error))
          << error;
    }
    EXPECT_EQ(freshApi->copies.size(), 260u);
    for (int64_t r = 251; r <= 260; ++r)
      ASSERT_TRUE(fresh->launchPrepared("mm", {x, StridedBuffer::contiguous(rows, {r, 64})},
                                        {1, 1, 1}, run[r - 251], error))
          << error;
    EXPECT_EQ(freshApi->copies.size(), 260u);
  }
  // Rows of 36 elements (72 bytes): not describable, a zero map.
  StridedBuffer odd = StridedBuffer::contiguous(weights, {64, 36});
  ASSERT_TRUE(runner->launch("mm", {x, odd}, {1, 1, 1}, error)) << error;
  ASSERT_EQ(api->copies.size(), 2u);
  EXPECT_EQ(api->copies[1], std::vector<uint8_t>(kTensorMapBytes, 0));
  // A start that is not 16-byte aligned: zero too.
  StridedBuffer shifted = w;
  shifted.offset = 3;
  ASSERT_TRUE(runner->launch("mm", {x, shifted}, {1, 1, 1}, error)) << error;
  EXPECT_EQ(api->copies.back(), std::vector<uint8_t>(kTensorMapBytes, 0));
  // A broadcast (row stride 0): zero too (the kernel copies it itself).
  StridedBuffer broadcast = w;
  broadcast.strides = {0, 1};
  ASSERT_TRUE(runner->launch("mm", {x, broadcast}, {1, 1, 1}, error)) << error;
  std::string problem;
  EXPECT_FALSE(tensorMapGeometry(spec, broadcast, problem));
  EXPECT_TRUE(problem.empty()) << problem;
  // PRISM_TENSOR_MAPS=0: nothing encoded, and the kernel sees an empty
  // maps buffer (its size, the last slot, is 0), so it copies by cp.async.
  for (const char *off : {"0", "off"}) {
    setenv("PRISM_TENSOR_MAPS", off, 1);
    EXPECT_TRUE(tensorMapsDisabled());
    ASSERT_TRUE(runner->launch("mm", {x, w}, {1, 1, 1}, error)) << error;
    EXPECT_EQ(api->copies.back(), std::vector<uint8_t>(kTensorMapBytes, 0));
    EXPECT_EQ(api->lastArgument[3], 0u);
  }
  setenv("PRISM_TENSOR_MAPS", "1", 1);
  EXPECT_FALSE(tensorMapsDisabled());
  unsetenv("PRISM_TENSOR_MAPS");
  EXPECT_FALSE(tensorMapsDisabled());
  ASSERT_TRUE(runner->launch("mm", {x, w}, {1, 1, 1}, error)) << error;
  EXPECT_EQ(api->lastArgument[3], kTensorMapBytes);
  // A map the driver refuses: the kernel decides from the geometry which
  // tensors TMA copies, so no map of the launch is passed (an empty maps
  // buffer: every tile by cp.async), and a warning says so once.
  api->refuse = true;
  testing::internal::CaptureStderr();
  ASSERT_TRUE(runner->launch("mm", {x, w}, {1, 1, 1}, error)) << error;
  ASSERT_TRUE(runner->launch("mm", {x, w}, {1, 1, 1}, error)) << error;
  std::string warned = testing::internal::GetCapturedStderr();
  EXPECT_EQ(api->copies.back(), std::vector<uint8_t>(kTensorMapBytes, 0));
  EXPECT_EQ(api->lastArgument[3], 0u);
  EXPECT_NE(warned.find("prism: warning: kernel 'mm': the driver refused tensor map 0 "
                        "(cuTensorMapEncodeTiled: CUDA_ERROR_INVALID_VALUE); the kernel "
                        "copies its tiles by cp.async instead"),
            std::string::npos)
      << warned;
  EXPECT_EQ(warned.find("warning", warned.find("warning") + 1), std::string::npos) << warned;
  api->refuse = false;
  // A map for an argument the launch does not have is an error.
  EXPECT_FALSE(runner->launch("mm", {x}, {1, 1, 1}, error));
  EXPECT_NE(error.find("describes argument 1 of a kernel launched with 1"), std::string::npos)
      << error;
  std::filesystem::remove_all(dir);
}

TEST(Runtime, ImpossibleLaunchConfigurationsAreRejected) {
  Manifest m;
  std::string error;
  EXPECT_FALSE(parseManifest(
      manifestText("nvidia", R"("kernels": {"k": {"threads": 4096, "shared_bytes": 0}}, )"),
      m, error));
  EXPECT_NE(error.find("impossible launch configuration"), std::string::npos) << error;
  error.clear();
  EXPECT_FALSE(parseManifest(
      manifestText("nvidia", R"("kernels": {"k": {"threads": 128}}, )"), m, error));
  EXPECT_NE(error.find("shared_bytes"), std::string::npos) << error;
  error.clear();
  EXPECT_FALSE(parseManifest(manifestText("nvidia", R"("kernels": [1], )"), m, error));
  EXPECT_NE(error.find("kernels must be an object"), std::string::npos) << error;
}

TEST(Runtime, UnknownTargetIsAClearError) {
  auto dir = writeBundle("prism-runtime-test-tpu", manifestText("tpu:v5", ""));
  std::string error;
  EXPECT_EQ(Bundle::open(dir.string(), error), nullptr);
  EXPECT_NE(error.find("tpu"), std::string::npos) << error;
  std::filesystem::remove_all(dir);
}

TEST(Runtime, NvidiaBundleWithoutDriverOrWithBadBinary) {
  auto dir = writeBundle("prism-runtime-test-nvidia", manifestText("nvidia:sm_90a", ""));
  std::string error;
  auto bundle = Bundle::open(dir.string(), error);
  EXPECT_EQ(bundle, nullptr);
  if (haveCudaDriver())
    // A driver is here: the damaged cubin is refused by name.
    EXPECT_NE(error.find("cannot load"), std::string::npos) << error;
  else
    EXPECT_NE(error.find("cannot load the CUDA driver libcuda.so.1"), std::string::npos)
        << error;
  std::filesystem::remove_all(dir);
}

TEST(Runtime, BufferPoolReusesReleasedMemory) {
  auto pool = BufferPool::create(1 << 20);
  void *first;
  {
    auto a = pool->acquire(1000);
    first = a.get();
    ASSERT_NE(first, nullptr);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(first) % 64, 0u);
  }
  EXPECT_EQ(pool->cachedBytes(), 1024u);
  auto b = pool->acquire(1000);
  EXPECT_EQ(b.get(), first);
  EXPECT_EQ(pool->cachedBytes(), 0u);
  // Over capacity: freed, not cached.
  { auto big = pool->acquire(2 << 20); }
  EXPECT_EQ(pool->cachedBytes(), 0u);
}

TEST(Runtime, BuffersOutliveTheirPool) {
  std::shared_ptr<void> kept;
  {
    auto pool = BufferPool::create();
    kept = pool->acquire(256);
  }
  kept.reset(); // freed directly, no use after free (ASan/valgrind clean)
  SUCCEED();
}

namespace {

/// A GPU stand-in: "device" memory is host memory the runner hands out and
/// tracks, so that a test sees which buffers a bundle placed where and how
/// many copies it made. Its one kernel doubles a vector of f32.
struct FakeDevice {
  std::set<const void *> memory;
  int copiesIn = 0, copiesOut = 0;
  std::vector<std::vector<const void *>> launches;
};

class FakeDeviceRunner : public KernelRunner {
public:
  explicit FakeDeviceRunner(std::shared_ptr<FakeDevice> device) : device(device) {}

  bool launch(const std::string &kernel, const std::vector<StridedBuffer> &args,
              std::array<int64_t, 3> grid, std::string &error) override {
    std::vector<const void *> pointers;
    for (const StridedBuffer &b : args) {
      if (!device->memory.count(b.data)) {
        error = "the kernel was given memory that is not the device's";
        return false;
      }
      pointers.push_back(b.data);
    }
    device->launches.push_back(pointers);
    const float *in = static_cast<const float *>(args[0].data);
    float *out = static_cast<float *>(args[1].data);
    for (int64_t i = 0; i < args[0].sizes[0]; ++i)
      out[i] = 2 * in[i];
    return true;
  }
  bool usesHostMemory() const override { return false; }
  std::shared_ptr<void> allocate(size_t bytes, std::string &) override {
    std::shared_ptr<FakeDevice> d = device;
    void *p = std::malloc(bytes);
    d->memory.insert(p);
    return std::shared_ptr<void>(p, [d](void *q) {
      d->memory.erase(q);
      std::free(q);
    });
  }
  bool copyToDevice(void *dst, const void *src, size_t bytes, std::string &) override {
    ++device->copiesIn;
    std::memcpy(dst, src, bytes);
    return true;
  }
  bool copyToHost(void *dst, const void *src, size_t bytes, std::string &) override {
    ++device->copiesOut;
    std::memcpy(dst, src, bytes);
    return true;
  }

private:
  std::shared_ptr<FakeDevice> device;
};

/// Registers backend `backend` as a DeviceKernelRunner on `api` (with
/// `fallback` as its fallback library).
template <typename Api>
void registerDeviceApi(const std::string &backend, std::shared_ptr<Api> api,
                       const std::string &fallback = "") {
  registerKernelRunner(backend, [api, fallback](const std::string &directory,
                                                const Manifest &manifest, std::string &error) {
    return DeviceKernelRunner::create(api, directory, manifest, error, fallback);
  });
}

/// A manifest for backend `backend` whose function "twice" is a chain of
/// launches on a dynamic-length f32 vector, launch i (kernel `kernels[i]`,
/// `tiles[i]` elements per program) reading buffer i and writing buffer
/// i + 1; the last is the output.
Manifest chainManifest(const std::string &backend, const std::vector<std::string> &kernels,
                       const std::vector<int64_t> &tiles) {
  Manifest m;
  m.target = backend + ":test";
  m.library = "kernels.cubin";
  FunctionPlan f;
  f.name = "twice";
  f.inputs.push_back({"f32", {-1}});
  f.outputs.push_back({"f32", {-1}});
  DimExpr n;
  n.factors.push_back({0, 0});
  BufferPlan input;
  input.kind = "input";
  input.dtype = "f32";
  input.shape = {n};
  input.index = 0;
  f.buffers = {input};
  for (size_t i = 0; i < kernels.size(); ++i) {
    BufferPlan output;
    output.kind = "temporary";
    output.dtype = "f32";
    output.shape = {n};
    f.buffers.push_back(output);
    LaunchPlan launch;
    launch.kernel = kernels[i];
    launch.grid[0].product = {n};
    launch.grid[0].tile = tiles[i];
    launch.args = {static_cast<int64_t>(i), static_cast<int64_t>(i + 1)};
    f.launches.push_back(launch);
    m.kernels[kernels[i]].threads = 128;
  }
  f.outputBuffers = {static_cast<int64_t>(kernels.size())};
  m.functions.push_back(f);
  return m;
}

/// The bundle of manifest `m` (its binary a stand-in).
std::unique_ptr<Bundle> openManifest(const Manifest &m, std::string &error) {
  auto dir = writeBundle("prism-runtime-test-" + m.target.substr(0, m.target.find(':')),
                         m.toJson().dump());
  auto bundle = Bundle::open(dir.string(), error);
  std::filesystem::remove_all(dir);
  return bundle;
}

/// Runs `bundle`'s "twice" on a vector of `size` ones; `launched` gets the
/// kernels the run launched, in order.
::testing::AssertionResult runTwice(Bundle &bundle, int64_t size,
                                    std::vector<std::string> &launched) {
  std::vector<float> values(static_cast<size_t>(size), 1.0f);
  HostTensor host{"f32", {size}, nullptr, values.data()};
  std::vector<HostTensor> outputs;
  RunTiming timing;
  timing.perLaunch = true;
  std::string error;
  if (!bundle.run("twice", {host}, outputs, error, false, nullptr, &timing))
    return ::testing::AssertionFailure() << error;
  launched.clear();
  for (const auto &launch : timing.launches)
    launched.push_back(launch.kernel);
  return ::testing::AssertionSuccess();
}

/// A bundle for the fake device: y = 2 * x on a dynamic-length f32 vector.
std::unique_ptr<Bundle> openDoublingBundle(std::shared_ptr<FakeDevice> device,
                                           std::string &error) {
  registerKernelRunner("fakegpu", [device](const std::string &, const Manifest &,
                                           std::string &) {
    return std::make_unique<FakeDeviceRunner>(device);
  });
  return openManifest(chainManifest("fakegpu", {"double"}, {1}), error);
}

} // namespace

// What device tensors from Python (DLPack) rely on: inputs already on the
// device are used in place, outputs stay there on request, and output
// memory given on the device is written directly; host memory is copied.
TEST(Runtime, DeviceResidentTensorsAndGivenDeviceMemory) {
  auto device = std::make_shared<FakeDevice>();
  std::string error;
  auto bundle = openDoublingBundle(device, error);
  ASSERT_NE(bundle, nullptr) << error;
  EXPECT_FALSE(bundle->runsOnHost());
  std::vector<float> values = {1.5f, -2.0f, 3.25f};
  HostTensor host{"f32", {3}, nullptr, values.data()};

  // Host in, host out: copied in and out.
  std::vector<HostTensor> outputs;
  ASSERT_TRUE(bundle->run("twice", {host}, outputs, error)) << error;
  EXPECT_EQ(device->copiesIn, 1);
  EXPECT_EQ(device->copiesOut, 1);
  ASSERT_FALSE(outputs[0].onDevice);
  EXPECT_EQ(static_cast<float *>(outputs[0].data)[2], 6.5f);

  // Device in, device out: no copies.
  HostTensor onDevice;
  ASSERT_TRUE(bundle->upload(host, onDevice, error)) << error;
  ASSERT_TRUE(onDevice.onDevice);
  device->copiesIn = device->copiesOut = 0;
  ASSERT_TRUE(bundle->run("twice", {onDevice}, outputs, error, /*outputsOnDevice=*/true))
      << error;
  EXPECT_EQ(device->copiesIn + device->copiesOut, 0);
  ASSERT_TRUE(outputs[0].onDevice);
  EXPECT_EQ(device->launches.back()[0], onDevice.data);
  EXPECT_EQ(static_cast<float *>(outputs[0].data)[0], 3.0f);

  // Output memory given on the device: the kernel writes it directly.
  HostTensor given;
  ASSERT_TRUE(bundle->upload(host, given, error)) << error;
  std::vector<HostTensor> provided = {given};
  ASSERT_TRUE(bundle->run("twice", {onDevice}, outputs, error, true, &provided)) << error;
  EXPECT_EQ(outputs[0].data, given.data);
  EXPECT_EQ(device->launches.back()[1], given.data);
  EXPECT_EQ(static_cast<float *>(given.data)[1], -4.0f);

  // Host memory given for an output of a device bundle is not addressable
  // by the kernels: the bundle allocates (the caller copies).
  std::vector<float> hostOut(3, 0.0f);
  provided = {HostTensor{"f32", {3}, nullptr, hostOut.data()}};
  ASSERT_TRUE(bundle->run("twice", {onDevice}, outputs, error, true, &provided)) << error;
  EXPECT_NE(outputs[0].data, static_cast<void *>(hostOut.data()));
  EXPECT_EQ(hostOut[0], 0.0f);

  // Given device memory of the wrong shape is refused by name.
  HostTensor small;
  HostTensor two{"f32", {2}, nullptr, values.data()};
  ASSERT_TRUE(bundle->upload(two, small, error)) << error;
  provided = {small};
  EXPECT_FALSE(bundle->run("twice", {onDevice}, outputs, error, true, &provided));
  EXPECT_NE(error.find("output 0 of 'twice' is f32[3], but the memory given for it is f32[2]"),
            std::string::npos)
      << error;
}

// A run can be timed on the runner's own timeline. A runner whose launch
// returns when the kernel is done (here the fake device, like the CPU)
// reads the host clock; every launch gets its own figure with perLaunch.
TEST(Runtime, RunsAreTimedOnTheHostClockByDefault) {
  auto device = std::make_shared<FakeDevice>();
  std::string error;
  auto bundle = openDoublingBundle(device, error);
  ASSERT_NE(bundle, nullptr) << error;
  std::vector<float> values = {1.5f, -2.0f, 3.25f};
  HostTensor host{"f32", {3}, nullptr, values.data()};
  std::vector<HostTensor> outputs;
  RunTiming timing;
  ASSERT_TRUE(bundle->run("twice", {host}, outputs, error, false, nullptr, &timing)) << error;
  EXPECT_TRUE(timing.measured) << timing.unavailable;
  EXPECT_EQ(timing.source, "host clock");
  EXPECT_GE(timing.milliseconds, 0.0);
  EXPECT_TRUE(timing.launches.empty());
  timing.perLaunch = true;
  ASSERT_TRUE(bundle->run("twice", {host}, outputs, error, false, nullptr, &timing)) << error;
  ASSERT_EQ(timing.launches.size(), 1u);
  EXPECT_EQ(timing.launches[0].kernel, "double");
  EXPECT_EQ(timing.launches[0].grid, (std::array<int64_t, 3>{3, 1, 1}));
  EXPECT_LE(timing.launches[0].milliseconds, timing.milliseconds + 1e-9);
  // An empty input: nothing is launched, and nothing took any time.
  HostTensor empty{"f32", {0}, nullptr, nullptr};
  ASSERT_TRUE(bundle->run("twice", {empty}, outputs, error, false, nullptr, &timing)) << error;
  EXPECT_TRUE(timing.measured);
  EXPECT_TRUE(timing.launches.empty());
  EXPECT_EQ(timing.milliseconds, 0.0);
}

namespace {

/// A device API whose kernels take simulated time: each launch advances a
/// device clock by one millisecond per block, and an event reads that
/// clock; events are counted so that a test sees every one destroyed.
struct ClockedApi : DeviceApi {
  bool hasEvents = true;
  double clock = 0;
  int liveEvents = 0;
  std::vector<std::unique_ptr<double>> events;
  bool makeCurrent(std::string &) override { return true; }
  bool loadModule(const std::string &, const std::string &, std::string &) override {
    return true;
  }
  void *getFunction(const std::string &name, std::string &) override {
    return reinterpret_cast<void *>(name.size());
  }
  bool launch(void *, std::array<int64_t, 3> grid, int64_t, int64_t, void **,
              std::string &) override {
    clock += static_cast<double>(grid[0] * grid[1] * grid[2]);
    return true;
  }
  void *allocate(size_t bytes, std::string &) override { return std::malloc(bytes); }
  void release(void *p) override { std::free(p); }
  bool copyToDevice(void *d, const void *h, size_t n, std::string &) override {
    std::memcpy(d, h, n);
    return true;
  }
  bool copyToHost(void *h, const void *d, size_t n, std::string &) override {
    std::memcpy(h, d, n);
    return true;
  }
  bool synchronize(std::string &) override { return true; }
  std::array<int64_t, 3> maxGrid() const override { return {1 << 30, 65535, 65535}; }
  void *createEvent(std::string &error) override {
    if (!hasEvents)
      return DeviceApi::createEvent(error);
    ++liveEvents;
    return new double(-1);
  }
  int recordsLeft = -1; // failures after this many records (-1: never)
  bool recordEvent(void *event, std::string &error) override {
    if (recordsLeft == 0) {
      error = "cuEventRecord failed: CUDA_ERROR_ILLEGAL_STATE";
      return false;
    }
    if (recordsLeft > 0)
      --recordsLeft;
    *static_cast<double *>(event) = clock;
    return true;
  }
  bool eventElapsedMilliseconds(void *start, void *end, double &ms, std::string &) override {
    ms = *static_cast<double *>(end) - *static_cast<double *>(start);
    return true;
  }
  void destroyEvent(void *event) override {
    --liveEvents;
    delete static_cast<double *>(event);
  }
};

/// A bundle of two launches on `api`: y = f(x) with a grid of n blocks,
/// then z = g(y) with a grid of ceil(n / 2).
std::unique_ptr<Bundle> openClockedBundle(std::shared_ptr<ClockedApi> api, std::string &error) {
  registerDeviceApi("clockedgpu", api);
  return openManifest(chainManifest("clockedgpu", {"f", "g"}, {1, 2}), error);
}

} // namespace

// A device runner times its launches with the device API's events, not
// the host clock: the figures are the device's (here its simulated clock),
// every event is destroyed, and an API without events runs untimed with
// the reason given.
TEST(Runtime, DeviceRunsAreTimedWithEvents) {
  auto api = std::make_shared<ClockedApi>();
  std::string error;
  auto bundle = openClockedBundle(api, error);
  ASSERT_NE(bundle, nullptr) << error;
  std::vector<float> values(7, 1.0f);
  HostTensor host{"f32", {7}, nullptr, values.data()};
  std::vector<HostTensor> outputs;
  RunTiming timing;
  ASSERT_TRUE(bundle->run("twice", {host}, outputs, error, false, nullptr, &timing)) << error;
  ASSERT_TRUE(timing.measured) << timing.unavailable;
  EXPECT_EQ(timing.source, "device events");
  EXPECT_EQ(timing.milliseconds, 7.0 + 4.0);
  timing.perLaunch = true;
  ASSERT_TRUE(bundle->run("twice", {host}, outputs, error, false, nullptr, &timing)) << error;
  ASSERT_EQ(timing.launches.size(), 2u);
  EXPECT_EQ(timing.launches[0].kernel, "f");
  EXPECT_EQ(timing.launches[0].milliseconds, 7.0);
  EXPECT_EQ(timing.launches[1].kernel, "g");
  EXPECT_EQ(timing.launches[1].grid, (std::array<int64_t, 3>{4, 1, 1}));
  EXPECT_EQ(timing.launches[1].milliseconds, 4.0);
  EXPECT_EQ(timing.launches[0].bytes, 2 * 7 * 4); // reads x, writes y: f32[7] each
  EXPECT_EQ(timing.milliseconds, 11.0);
  EXPECT_EQ(api->liveEvents, 0);

  // A record that fails mid-run: the run completes, untimed, with the reason.
  api->recordsLeft = 1;
  ASSERT_TRUE(bundle->run("twice", {host}, outputs, error, false, nullptr, &timing)) << error;
  EXPECT_FALSE(timing.measured);
  EXPECT_TRUE(timing.launches.empty());
  EXPECT_EQ(timing.unavailable, "cuEventRecord failed: CUDA_ERROR_ILLEGAL_STATE");
  EXPECT_EQ(api->liveEvents, 0);
  api->recordsLeft = -1;

  api->hasEvents = false;
  ASSERT_TRUE(bundle->run("twice", {host}, outputs, error, false, nullptr, &timing)) << error;
  EXPECT_FALSE(timing.measured);
  EXPECT_TRUE(timing.launches.empty());
  EXPECT_EQ(timing.unavailable, "this device API has no timing events");
  EXPECT_EQ(api->liveEvents, 0);
}

namespace {

/// A device API that, like the CUDA driver, refuses work on a thread where
/// its context is not current, logs its calls in order, and can fail a
/// synchronize (a kernel's fault) or a library's load.
struct StrictApi : ClockedApi {
  static thread_local const StrictApi *current;
  std::vector<std::string> log;
  int allocations = 0;
  int faultAtSynchronize = -1; // the synchronize that fails (-1: none)
  int synchronizes = 0;
  bool makeCurrent(std::string &) override {
    current = this;
    return true;
  }
  bool refuseWithoutContext(const char *what, std::string &error) {
    log.push_back(what);
    if (current == this)
      return true;
    error = std::string(what) + " failed: CUDA_ERROR_INVALID_CONTEXT";
    return false;
  }
  bool loadModule(const std::string &image, const std::string &, std::string &error) override {
    log.push_back("load " + image);
    if (image == "kernels")
      return true;
    error = "CUDA_ERROR_NO_BINARY_FOR_GPU";
    return false;
  }
  bool launch(void *f, std::array<int64_t, 3> grid, int64_t t, int64_t s, void **p,
              std::string &error) override {
    return refuseWithoutContext("launch", error) && ClockedApi::launch(f, grid, t, s, p, error);
  }
  void *allocate(size_t bytes, std::string &error) override {
    ++allocations;
    return refuseWithoutContext("allocate", error) ? std::malloc(bytes) : nullptr;
  }
  bool copyToDevice(void *d, const void *h, size_t n, std::string &error) override {
    return refuseWithoutContext("copyToDevice", error) &&
           ClockedApi::copyToDevice(d, h, n, error);
  }
  bool copyToHost(void *h, const void *d, size_t n, std::string &error) override {
    return refuseWithoutContext("copyToHost", error) && ClockedApi::copyToHost(h, d, n, error);
  }
  bool synchronize(std::string &error) override {
    if (!refuseWithoutContext("synchronize", error))
      return false;
    if (synchronizes++ == faultAtSynchronize) {
      error = "CUDA_ERROR_ILLEGAL_ADDRESS";
      return false;
    }
    return true;
  }
  bool recordEvent(void *event, std::string &error) override {
    log.push_back("record");
    return ClockedApi::recordEvent(event, error);
  }
  bool fill(void *, size_t bytes, std::string &error) override {
    log.push_back("fill " + std::to_string(bytes));
    return refuseWithoutContext("fill", error);
  }
};
thread_local const StrictApi *StrictApi::current = nullptr;

/// Writes a bundle directory for `m` whose library holds "broken" and
/// whose kernels.ptx holds "kernels" (what StrictApi loads); `name` keeps
/// the tests' directories apart (ctest runs them in parallel).
std::filesystem::path writeStrictBundle(const std::string &name, const Manifest &m) {
  auto dir = writeBundle("prism-runtime-test-" + name, m.toJson().dump());
  std::ofstream(dir / "kernels.cubin", std::ios::trunc) << "broken";
  std::ofstream(dir / "kernels.ptx") << "kernels";
  return dir;
}

/// The "twice" chain of `kernels` on backend `backend`, a StrictApi
/// runner with the PTX fallback, opened from a bundle written and removed
/// again.
std::unique_ptr<Bundle> openStrictBundle(const std::string &backend,
                                         std::shared_ptr<StrictApi> api,
                                         const std::vector<std::string> &kernels,
                                         std::string &error) {
  registerDeviceApi(backend, api, "kernels.ptx");
  std::vector<int64_t> tiles;
  for (size_t i = 0; i < kernels.size(); ++i)
    tiles.push_back(static_cast<int64_t>(i) + 1);
  auto dir = writeStrictBundle(backend, chainManifest(backend, kernels, tiles));
  auto bundle = Bundle::open(dir.string(), error);
  std::filesystem::remove_all(dir);
  return bundle;
}

} // namespace

// The first call a host thread makes may be an allocation (Bundle::run
// allocates before it launches): the runner makes its context current for
// every call, so a run on a new thread works as on the opening one.
TEST(Runtime, DeviceRunsOnAnyThread) {
  auto api = std::make_shared<StrictApi>();
  std::string error;
  auto bundle = openStrictBundle("strictgpu", api, {"f", "g"}, error);
  ASSERT_NE(bundle, nullptr) << error;
  std::vector<float> values = {1.5f, -2.0f, 3.25f};
  HostTensor host{"f32", {3}, nullptr, values.data()};
  bool ran = false;
  std::thread other([&] {
    std::vector<HostTensor> outputs;
    std::string threadError;
    ran = bundle->run("twice", {host}, outputs, threadError);
    EXPECT_TRUE(ran) << threadError;
  });
  other.join();
  EXPECT_TRUE(ran);
}

// A library that does not load, with a fallback beside it (an NVIDIA
// bundle's PTX beside a cubin the driver refuses): the fallback is loaded;
// without a fallback, or when both fail, the message says what each did.
TEST(Runtime, DeviceLibraryFallback) {
  auto api = std::make_shared<StrictApi>();
  Manifest m = chainManifest("strictgpu", {"f"}, {1});
  auto dir = writeStrictBundle("fallback", m);
  std::string error;
  EXPECT_NE(DeviceKernelRunner::create(api, dir.string(), m, error, "kernels.ptx"), nullptr)
      << error;
  EXPECT_EQ(api->log, (std::vector<std::string>{"load broken", "load kernels"}));
  EXPECT_EQ(DeviceKernelRunner::create(api, dir.string(), m, error), nullptr);
  EXPECT_NE(error.find("kernels.cubin: CUDA_ERROR_NO_BINARY_FOR_GPU"), std::string::npos)
      << error;
  std::ofstream(dir / "kernels.ptx", std::ios::trunc) << "also broken";
  EXPECT_EQ(DeviceKernelRunner::create(api, dir.string(), m, error, "kernels.ptx"), nullptr);
  EXPECT_NE(error.find("kernels.cubin: CUDA_ERROR_NO_BINARY_FOR_GPU; and its fallback: "
                       "cannot load"),
            std::string::npos)
      << error;
  std::filesystem::remove_all(dir);
}

// A timed run with RunTiming::flushBytes: the fill is queued before the
// first mark (so the device is busy while the host queues the launches),
// its scratch buffer is allocated once; a runner without it says why.
TEST(Runtime, TimedRunsFlushCachesFirst) {
  auto api = std::make_shared<StrictApi>();
  std::string error;
  auto bundle = openStrictBundle("flushgpu", api, {"f"}, error);
  ASSERT_NE(bundle, nullptr) << error;
  std::vector<float> values = {1.5f, -2.0f, 3.25f};
  HostTensor host{"f32", {3}, nullptr, values.data()};
  std::vector<HostTensor> outputs;
  RunTiming timing;
  timing.flushBytes = 1001;
  for (int run = 0; run < 2; ++run) {
    api->log.clear();
    int allocationsBefore = api->allocations;
    ASSERT_TRUE(bundle->run("twice", {host}, outputs, error, false, nullptr, &timing)) << error;
    EXPECT_TRUE(timing.flushed) << timing.notFlushed;
    auto fill = std::find(api->log.begin(), api->log.end(), "fill 1004");
    auto record = std::find(api->log.begin(), api->log.end(), "record");
    ASSERT_NE(fill, api->log.end());
    EXPECT_LT(fill - api->log.begin(), record - api->log.begin());
    // Run 0 allocates the input, the output and the scratch buffer; run 1
    // finds all three in the pool.
    EXPECT_EQ(api->allocations - allocationsBefore, run == 0 ? 3 : 0);
  }
  EXPECT_EQ(timing.flushBytes, 1001); // kept across runs

  // A host runner (KernelRunner's default) does not flush, and says so.
  struct HostRunner : KernelRunner {
    bool launch(const std::string &, const std::vector<StridedBuffer> &,
                std::array<int64_t, 3>, std::string &) override {
      return true;
    }
  } hostRunner;
  EXPECT_FALSE(hostRunner.flushCaches(1024, error));
  EXPECT_EQ(error, "this runtime does not flush caches before a timed run");
}

// PRISM_SYNC_LAUNCHES=1: each launch is waited for, and a fault is
// reported with the kernel that caused it.
TEST(Runtime, SynchronizedLaunchesNameTheFaultingKernel) {
  auto api = std::make_shared<StrictApi>();
  setenv("PRISM_SYNC_LAUNCHES", "1", 1);
  std::string error;
  auto bundle = openStrictBundle("syncgpu", api, {"f", "g"}, error);
  unsetenv("PRISM_SYNC_LAUNCHES");
  ASSERT_NE(bundle, nullptr) << error;
  std::vector<float> values = {1.5f, -2.0f, 3.25f};
  HostTensor host{"f32", {3}, nullptr, values.data()};
  std::vector<HostTensor> outputs;
  api->faultAtSynchronize = 1; // the second: after g
  EXPECT_FALSE(bundle->run("twice", {host}, outputs, error));
  EXPECT_EQ(error, "kernel 'g' (PRISM_SYNC_LAUNCHES: waited for after its launch): "
                   "CUDA_ERROR_ILLEGAL_ADDRESS");
}

// Alternative kernels of one launch, chosen by a dynamic size at run time
// (a matmul with few rows): the manifest keeps each launch's range, an
// open range without a max; a malformed range is refused; a run launches
// only the kernel whose range holds the size.
TEST(Runtime, LaunchesChosenBySize) {
  auto api = std::make_shared<ClockedApi>();
  std::string error;
  registerDeviceApi("sizedgpu", api);
  // Two kernels of one launch: "few" for sizes up to 4, "many" above.
  Manifest m = chainManifest("sizedgpu", {"few"}, {1});
  m.kernels["many"].threads = 128;
  std::vector<LaunchPlan> &launches = m.functions[0].launches;
  launches.push_back(launches[0]);
  launches[1].kernel = "many";
  const DimExpr n = launches[0].grid[0].product[0];
  launches[0].when = LaunchCondition{0, n, 0, 4};
  launches[1].when = LaunchCondition{0, n, 5};

  Json json = m.toJson();
  std::string text = json.dump();
  const Json &written = *json.find("functions")->items()[0].find("launches");
  const Json *fewWhen = written.items()[0].find("when");
  const Json *manyWhen = written.items()[1].find("when");
  ASSERT_TRUE(fewWhen && manyWhen) << text;
  EXPECT_EQ(fewWhen->find("min")->asInteger(), 0);
  EXPECT_EQ(fewWhen->find("max")->asInteger(), 4);
  EXPECT_EQ(manyWhen->find("min")->asInteger(), 5);
  EXPECT_EQ(manyWhen->find("max"), nullptr); // open: no bound written
  Manifest again;
  ASSERT_TRUE(Manifest::fromJson(json, again, error)) << error;
  ASSERT_TRUE(again.functions[0].launches[1].when.has_value());
  EXPECT_EQ(again.functions[0].launches[1].when->min, 5);
  EXPECT_EQ(again.functions[0].launches[1].when->max, std::numeric_limits<int64_t>::max());
  EXPECT_FALSE(again.functions[0].launches[0].when->holds(5));
  EXPECT_TRUE(again.functions[0].launches[0].when->holds(4));
  EXPECT_EQ(manyWhen->find("group")->asInteger(), 0);
  // Damaged ranges: reversed, a gap, an overlap, a bounded last range, a
  // group that is not the preceding launch's: each would run no kernel or
  // two for some size.
  struct Damage {
    LaunchCondition few, many;
    const char *message;
  };
  for (const Damage &damage :
       {Damage{{0, n, 4, 0}, {0, n, 5}, "launches[0].when must be a range 0 <= min <= max, not [4, 0]"},
        Damage{{0, n, 0, 4}, {0, n, 6}, "launches[1].when: the launches of group 0 must cover"},
        Damage{{0, n, 0, 4}, {0, n, 3}, "launches[1].when: the launches of group 0 must cover"},
        Damage{{0, n, 1, 4}, {0, n, 5}, "launches[0].when: the launches of group 0 must cover"},
        Damage{{0, n, 0, 4}, {0, n, 5, 100}, "launches[1].when: the last launch of group 0 must have no max"},
        Damage{{0, n, 0, 4}, {1, n, 5}, "launches[0].when: the last launch of group 0 must have no max"}}) {
    Manifest damaged = m;
    damaged.functions[0].launches[0].when = damage.few;
    damaged.functions[0].launches[1].when = damage.many;
    Manifest bad;
    error.clear();
    EXPECT_FALSE(Manifest::fromJson(damaged.toJson(), bad, error)) << damage.message;
    EXPECT_NE(error.find(damage.message), std::string::npos) << error;
  }
  error.clear();

  auto bundle = openManifest(m, error);
  ASSERT_NE(bundle, nullptr) << error;
  for (int64_t size : {1, 4, 5, 7}) {
    std::vector<std::string> launched;
    ASSERT_TRUE(runTwice(*bundle, size, launched));
    ASSERT_EQ(launched.size(), 1u) << size;
    EXPECT_EQ(launched[0], size <= 4 ? "few" : "many") << size;
  }
}

// An alternative of several launches (split-K's products and their sum
// for few rows, one kernel for more): consecutive launches with the same
// range are one alternative, and a run launches all of the one whose range
// holds. A temporary that only the other alternative uses (split-K's
// partials, sized by the rows) gets no memory. A sequence whose ranges
// differ is still refused.
TEST(Runtime, AlternativesOfSeveralLaunches) {
  struct CountingApi : ClockedApi {
    std::vector<size_t> allocations;
    void *allocate(size_t bytes, std::string &error) override {
      allocations.push_back(bytes);
      return ClockedApi::allocate(bytes, error);
    }
  };
  auto api = std::make_shared<CountingApi>();
  std::string error;
  registerDeviceApi("splitgpu", api);
  Manifest m = chainManifest("splitgpu", {"many"}, {1});
  FunctionPlan &f = m.functions[0];
  const DimExpr n = f.launches[0].grid[0].product[0];
  // Buffer 2: partials of 1000 n floats, written by "products", read by
  // "sum" into the output (buffer 1).
  BufferPlan partials = f.buffers[1];
  partials.shape[0].constant = 1000;
  f.buffers.push_back(partials);
  LaunchPlan products = f.launches[0], sum = f.launches[0], many = f.launches[0];
  products.kernel = "products";
  products.args = {0, 2};
  sum.kernel = "sum";
  sum.args = {2, 1};
  products.when = sum.when = LaunchCondition{0, n, 0, 4};
  many.when = LaunchCondition{0, n, 5};
  f.launches = {products, sum, many};
  m.kernels["products"].threads = 128;
  m.kernels["sum"].threads = 128;

  Manifest again;
  ASSERT_TRUE(Manifest::fromJson(m.toJson(), again, error)) << error;
  Manifest damaged = m;
  damaged.functions[0].launches[1].when = LaunchCondition{0, n, 0, 3};
  error.clear();
  EXPECT_FALSE(Manifest::fromJson(damaged.toJson(), again, error));
  EXPECT_NE(error.find("launches[1].when: the launches of group 0 must cover"),
            std::string::npos)
      << error;
  error.clear();

  auto bundle = openManifest(m, error);
  ASSERT_NE(bundle, nullptr) << error;
  // Many rows first: memory the pool kept from a run with partials would
  // hide an allocation.
  for (int64_t size : {5, 7, 3, 4}) {
    api->allocations.clear();
    std::vector<std::string> launched;
    ASSERT_TRUE(runTwice(*bundle, size, launched));
    size_t partialBytes = static_cast<size_t>(1000 * size) * sizeof(float);
    bool partialsAllocated =
        std::any_of(api->allocations.begin(), api->allocations.end(),
                    [&](size_t bytes) { return bytes >= partialBytes; });
    if (size <= 4) {
      EXPECT_EQ(launched, (std::vector<std::string>{"products", "sum"})) << size;
      if (size == 3) // the first run that needs them
        EXPECT_TRUE(partialsAllocated);
    } else {
      EXPECT_EQ(launched, (std::vector<std::string>{"many"})) << size;
      EXPECT_FALSE(partialsAllocated) << size;
    }
  }
}

// A grid axis with outer sizes (an element-wise kernel's row blocks, all
// on x): ceil(product / tile) programs for each index of the outer sizes.
// The manifest keeps the outer sizes (written only when there are some),
// refuses malformed ones, and a run launches their product of programs.
TEST(Runtime, GridAxisWithOuterSizes) {
  auto api = std::make_shared<ClockedApi>();
  std::string error;
  registerDeviceApi("outergpu", api);
  // ceil(n / 2) * n * n programs for a vector of n.
  Manifest m = chainManifest("outergpu", {"blocks"}, {2});
  GridAxis &x = m.functions[0].launches[0].grid[0];
  x.outer = {x.product[0], x.product[0]};

  Json json = m.toJson();
  const Json &written = *json.find("functions")->items()[0].find("launches");
  const Json &axes = *written.items()[0].find("grid");
  ASSERT_NE(axes.items()[0].find("outer"), nullptr) << json.dump();
  EXPECT_EQ(axes.items()[0].find("outer")->items().size(), 2u);
  EXPECT_EQ(axes.items()[1].find("outer"), nullptr); // y and z: none written
  Manifest again;
  ASSERT_TRUE(Manifest::fromJson(json, again, error)) << error;
  EXPECT_EQ(again.functions[0].launches[0].grid[0].outer.size(), 2u);
  EXPECT_TRUE(again.functions[0].launches[0].grid[1].outer.empty());

  std::string text = json.dump();
  size_t at = text.find("\"outer\"");
  ASSERT_NE(at, std::string::npos);
  text.replace(at, 7, "\"outer\": 5, \"unused\"");
  Json damaged;
  ASSERT_TRUE(Json::parse(text, damaged, error)) << error;
  Manifest bad;
  error.clear();
  EXPECT_FALSE(Manifest::fromJson(damaged, bad, error));
  EXPECT_NE(error.find("launches[0].grid.outer must be an array"), std::string::npos) << error;
  error.clear();

  auto bundle = openManifest(m, error);
  ASSERT_NE(bundle, nullptr) << error;
  std::vector<float> values(5, 1.0f);
  std::vector<HostTensor> outputs;
  RunTiming timing;
  timing.perLaunch = true;
  HostTensor host{"f32", {5}, nullptr, values.data()};
  ASSERT_TRUE(bundle->run("twice", {host}, outputs, error, false, nullptr, &timing)) << error;
  ASSERT_EQ(timing.launches.size(), 1u);
  EXPECT_EQ(timing.launches[0].grid, (std::array<int64_t, 3>{3 * 5 * 5, 1, 1}));
}
