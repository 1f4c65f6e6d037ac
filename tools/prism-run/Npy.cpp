//===- Npy.cpp - Reading .npy files for prism-run -------------------------===//

#include "Npy.h"

#include "llvm/Support/MemoryBuffer.h"

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
  else
    return npyError(path, "dtype '" + descr +
                              "' is not supported (f32, f16, i8, i32, i64; "
                              "bf16 inputs are generated, not read)");
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

} // namespace prism
