//===- RuntimeTest.cpp - The runtime's error paths ------------------------===//
//
// The runtime runs where no compiler is installed; what it is given may be
// damaged or meant for another machine. Each case must end in a clear
// message, never a crash.
//
//===----------------------------------------------------------------------===//

#include "prism/Runtime/BufferPool.h"
#include "prism/Runtime/Bundle.h"
#include "prism/Runtime/Json.h"

#include <gtest/gtest.h>

#include <dlfcn.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

using namespace prism::runtime;

namespace {

std::string manifestText(const std::string &target, const std::string &kernels) {
  return R"({"format": "prism-bundle/1", "target": ")" + target +
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
