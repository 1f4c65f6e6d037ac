//===- Npy.cpp - .npy files for prism-run (llvm::Error wrappers) ----------===//

#include "Npy.h"
#include "prism/Runtime/Npy.h"

#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/raw_ostream.h"

#include <cstring>

namespace prism {

static llvm::Error npyError(llvm::StringRef path, const llvm::Twine &what) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                 path + ": " + what);
}

llvm::Expected<runtime::HostTensor> readNpy(llvm::StringRef path) {
  auto file = llvm::MemoryBuffer::getFile(path);
  if (!file)
    return npyError(path, "cannot read: " + file.getError().message());
  runtime::HostTensor tensor;
  std::string error;
  if (!runtime::parseNpy((*file)->getBuffer().str(), path.str(), tensor, error))
    return llvm::createStringError(llvm::inconvertibleErrorCode(), error);
  return tensor;
}

static llvm::Error writeArray(llvm::StringRef path, llvm::StringRef descr,
                              llvm::ArrayRef<int64_t> shape, const void *data,
                              size_t bytes) {
  std::string error;
  if (!runtime::writeNpyFile(path.str(), descr.str(), shape.vec(), data, bytes, error))
    return llvm::createStringError(llvm::inconvertibleErrorCode(), error);
  return llvm::Error::success();
}

llvm::Error writeNpy(llvm::StringRef path, const runtime::HostTensor &tensor) {
  std::string error;
  if (!runtime::writeNpy(path.str(), tensor, error))
    return llvm::createStringError(llvm::inconvertibleErrorCode(), error);
  return llvm::Error::success();
}

llvm::Error writeNpyF64(llvm::StringRef path, llvm::ArrayRef<int64_t> shape,
                        llvm::ArrayRef<double> values) {
  return writeArray(path, "<f8", shape, values.data(),
                    values.size() * sizeof(double));
}

} // namespace prism
