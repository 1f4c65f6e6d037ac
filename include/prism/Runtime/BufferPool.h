//===- BufferPool.h - Reuse of host buffers between runs ---------*- C++ -*-===//
//
// Running a graph allocates its temporaries and outputs. Fresh large
// allocations come from the kernel as zero pages that every thread then
// faults in (under the process's memory-map lock), which costs more than the
// memory-bound kernels themselves. The pool keeps released buffers, by
// rounded size, and hands them out again: the second run of a graph touches
// no new pages. It holds at most `capacityBytes` of free buffers.
//
//===----------------------------------------------------------------------===//

#ifndef PRISM_RUNTIME_BUFFERPOOL_H
#define PRISM_RUNTIME_BUFFERPOOL_H

#include <cstddef>
#include <map>
#include <memory>
#include <mutex>
#include <vector>

namespace prism::runtime {

class BufferPool : public std::enable_shared_from_this<BufferPool> {
public:
  static std::shared_ptr<BufferPool> create(size_t capacityBytes = size_t(4) << 30);

  /// A 64-byte aligned, uninitialized buffer of at least `bytes`, owned by
  /// the returned pointer; releasing it returns the memory to the pool (or
  /// frees it when the pool is gone or full).
  std::shared_ptr<void> acquire(size_t bytes);

  size_t cachedBytes() const;
  ~BufferPool();

private:
  explicit BufferPool(size_t capacityBytes) : capacity(capacityBytes) {}
  void release(void *memory, size_t bytes);

  size_t capacity;
  size_t cached = 0;
  mutable std::mutex mutex;
  std::multimap<size_t, void *> free;
};

} // namespace prism::runtime

#endif // PRISM_RUNTIME_BUFFERPOOL_H
