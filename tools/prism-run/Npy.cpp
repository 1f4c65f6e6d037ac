//===- Npy.cpp - Reading .npy files for prism-run -------------------------===//

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
  // Python tuple syntax: (), (n,), (a, b).
  std::string dims;
  for (size_t i = 0; i < shape.size(); ++i)
    dims += (i ? ", " : "") + std::to_string(shape[i]);
  if (shape.size() == 1)
    dims += ",";
  std::string header = "{'descr': '" + descr.str() +
                       "', 'fortran_order': False, 'shape': (" + dims + "), }";
  while ((10 + header.size() + 1) % 64 != 0)
    header += ' ';
  header += '\n';
  std::error_code ec;
  llvm::raw_fd_ostream out(path, ec);
  if (ec)
    return npyError(path, "cannot write: " + ec.message());
  out.write("\x93NUMPY\x01\x00", 8);
  out << static_cast<char>(header.size() & 0xFF)
      << static_cast<char>(header.size() >> 8) << header;
  out.write(static_cast<const char *>(data), bytes);
  return llvm::Error::success();
}

llvm::Error writeNpy(llvm::StringRef path, const runtime::HostTensor &tensor) {
  const char *descr = tensor.dtype == "f32"    ? "<f4"
                      : tensor.dtype == "f16"  ? "<f2"
                      : tensor.dtype == "bf16" ? "<u2"
                      : tensor.dtype == "i8"   ? "|i1"
                      : tensor.dtype == "i32"  ? "<i4"
                      : tensor.dtype == "i64"  ? "<i8"
                                               : nullptr;
  if (!descr)
    return npyError(path, "no .npy form for dtype " + tensor.dtype);
  return writeArray(path, descr, tensor.shape, tensor.data,
                    static_cast<size_t>(tensor.byteSize()));
}

llvm::Error writeNpyF64(llvm::StringRef path, llvm::ArrayRef<int64_t> shape,
                        llvm::ArrayRef<double> values) {
  return writeArray(path, "<f8", shape, values.data(),
                    values.size() * sizeof(double));
}

} // namespace prism
