//===- Npy.cpp - Reading .npy files for prism-run -------------------------===//

#include "Npy.h"

#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/raw_ostream.h"

#include <cstring>
#include <regex>

namespace prism {

static llvm::Error npyError(llvm::StringRef path, const llvm::Twine &what) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                 path + ": " + what);
}

llvm::Expected<runtime::HostTensor> readNpy(llvm::StringRef path) {
  auto file = llvm::MemoryBuffer::getFile(path);
  if (!file)
    return npyError(path, "cannot read: " + file.getError().message());
  llvm::StringRef data = (*file)->getBuffer();
  if (data.size() < 10 || !data.starts_with("\x93NUMPY"))
    return npyError(path, "not a .npy file");
  uint8_t major = data[6];
  size_t headerLength, headerStart;
  if (major == 1) {
    headerLength = static_cast<uint8_t>(data[8]) |
                   (static_cast<uint8_t>(data[9]) << 8);
    headerStart = 10;
  } else if (major == 2 || major == 3) {
    if (data.size() < 12)
      return npyError(path, "truncated header");
    headerLength = 0;
    for (int i = 0; i < 4; ++i)
      headerLength |= static_cast<size_t>(static_cast<uint8_t>(data[8 + i])) << (8 * i);
    headerStart = 12;
  } else {
    return npyError(path, "unsupported .npy version " + llvm::Twine(major));
  }
  if (headerStart + headerLength > data.size())
    return npyError(path, "truncated header");
  std::string header = data.substr(headerStart, headerLength).str();
  std::smatch match;
  if (!std::regex_search(header, match,
                         std::regex("'descr':\\s*'([^']*)'")))
    return npyError(path, "header has no 'descr'");
  std::string descr = match[1];
  if (std::regex_search(header, std::regex("'fortran_order':\\s*True")))
    return npyError(path, "Fortran-order arrays are not supported; save with "
                          "np.ascontiguousarray");
  if (!std::regex_search(header, match, std::regex("'shape':\\s*\\(([^)]*)\\)")))
    return npyError(path, "header has no 'shape'");
  std::vector<int64_t> shape;
  std::string dims = match[1];
  std::regex number("[0-9]+");
  for (auto it = std::sregex_iterator(dims.begin(), dims.end(), number);
       it != std::sregex_iterator(); ++it)
    shape.push_back(std::stoll(it->str()));
  std::string dtype;
  if (descr == "<f4")
    dtype = "f32";
  else if (descr == "<f2")
    dtype = "f16";
  else if (descr == "|i1" || descr == "<i1")
    dtype = "i8";
  else if (descr == "<i4")
    dtype = "i32";
  else if (descr == "<i8")
    dtype = "i64";
  else if (descr == "<u2")
    dtype = "bf16";
  else
    return npyError(path, "dtype '" + descr +
                              "' is not supported (f32, f16, i8, i32, i64, and "
                              "'<u2' as raw bf16 bits)");
  runtime::HostTensor tensor = runtime::HostTensor::allocate(dtype, shape);
  size_t bytes = static_cast<size_t>(tensor.byteSize());
  size_t payload = headerStart + headerLength;
  if (data.size() - payload != bytes)
    return npyError(path, "holds " + llvm::Twine(data.size() - payload) +
                              " bytes of data, but its shape needs " +
                              llvm::Twine(bytes));
  std::memcpy(tensor.data, data.data() + payload, bytes);
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
