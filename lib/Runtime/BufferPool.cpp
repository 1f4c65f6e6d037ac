//===- BufferPool.cpp - Reuse of host buffers between runs ----------------===//

#include "prism/Runtime/BufferPool.h"

#include <algorithm>
#include <cstdlib>

namespace prism::runtime {

std::shared_ptr<BufferPool> BufferPool::create(size_t capacityBytes) {
  return std::shared_ptr<BufferPool>(new BufferPool(capacityBytes));
}

std::shared_ptr<void> BufferPool::acquire(size_t bytes) {
  size_t rounded = std::max<size_t>(64, (bytes + 63) / 64 * 64);
  void *memory = nullptr;
  {
    std::lock_guard<std::mutex> lock(mutex);
    auto it = free.find(rounded);
    if (it != free.end()) {
      memory = it->second;
      free.erase(it);
      cached -= rounded;
    }
  }
  if (!memory)
    memory = std::aligned_alloc(64, rounded);
  if (!memory)
    return nullptr;
  std::weak_ptr<BufferPool> pool = weak_from_this();
  return std::shared_ptr<void>(memory, [pool, rounded](void *p) {
    if (std::shared_ptr<BufferPool> alive = pool.lock())
      alive->release(p, rounded);
    else
      std::free(p);
  });
}

void BufferPool::release(void *memory, size_t bytes) {
  {
    std::lock_guard<std::mutex> lock(mutex);
    if (cached + bytes <= capacity) {
      free.emplace(bytes, memory);
      cached += bytes;
      return;
    }
  }
  std::free(memory);
}

size_t BufferPool::cachedBytes() const {
  std::lock_guard<std::mutex> lock(mutex);
  return cached;
}

BufferPool::~BufferPool() {
  for (auto &[bytes, memory] : free)
    std::free(memory);
}

} // namespace prism::runtime
