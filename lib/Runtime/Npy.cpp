//===- Npy.cpp - Parsing .npy files (no LLVM) -----------------------------===//

#include "prism/Runtime/Npy.h"

#include <cstring>
#include <fstream>
#include <limits>
#include <regex>

namespace prism::runtime {

/// The dims of a Python tuple "(a, b, )": non-negative decimal integers
/// that fit int64 and whose product, times `elementBytes`, fits too.
static bool parseShape(const std::string &text, int64_t elementBytes,
                       std::vector<int64_t> &shape, std::string &problem) {
  int64_t bytes = elementBytes;
  size_t i = 0;
  auto skipSpaces = [&] {
    while (i < text.size() && (text[i] == ' ' || text[i] == '\t'))
      ++i;
  };
  while (true) {
    skipSpaces();
    if (i == text.size())
      return true;
    if (text[i] < '0' || text[i] > '9') {
      problem = "the shape (" + text + ") is not a tuple of non-negative integers";
      return false;
    }
    int64_t dim = 0;
    for (; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i) {
      if (dim > (std::numeric_limits<int64_t>::max() - (text[i] - '0')) / 10) {
        problem = "a dimension of the shape (" + text + ") does not fit in 64 bits";
        return false;
      }
      dim = dim * 10 + (text[i] - '0');
    }
    if (dim != 0 && bytes > std::numeric_limits<int64_t>::max() / dim) {
      problem = "the shape (" + text + ") holds more bytes than 2^63";
      return false;
    }
    bytes = dim == 0 ? 0 : bytes * dim;
    shape.push_back(dim);
    skipSpaces();
    if (i < text.size() && text[i] == ',')
      ++i;
    else if (i != text.size()) {
      problem = "the shape (" + text + ") is not a tuple of non-negative integers";
      return false;
    }
  }
}

bool parseNpy(const std::string &data, const std::string &path, HostTensor &tensor,
              std::string &error) {
  auto fail = [&](const std::string &what) {
    error = path + ": " + what;
    return false;
  };
  if (data.size() < 10 || data.compare(0, 6, "\x93NUMPY") != 0)
    return fail("not a .npy file");
  uint8_t major = static_cast<uint8_t>(data[6]);
  size_t headerLength, headerStart;
  if (major == 1) {
    headerLength = static_cast<uint8_t>(data[8]) | (static_cast<uint8_t>(data[9]) << 8);
    headerStart = 10;
  } else if (major == 2 || major == 3) {
    if (data.size() < 12)
      return fail("truncated header");
    headerLength = 0;
    for (int i = 0; i < 4; ++i)
      headerLength |= static_cast<size_t>(static_cast<uint8_t>(data[8 + i])) << (8 * i);
    headerStart = 12;
  } else {
    return fail("unsupported .npy version " + std::to_string(major));
  }
  if (headerLength > data.size() - headerStart)
    return fail("truncated header");
  std::string header = data.substr(headerStart, headerLength);
  std::smatch match;
  if (!std::regex_search(header, match, std::regex("'descr':\\s*'([^']*)'")))
    return fail("header has no 'descr'");
  std::string descr = match[1];
  std::string dtype = descr == "<f4"                    ? "f32"
                      : descr == "<f2"                  ? "f16"
                      : descr == "|i1" || descr == "<i1" ? "i8"
                      : descr == "<i4"                  ? "i32"
                      : descr == "<i8"                  ? "i64"
                      : descr == "<u2"                  ? "bf16"
                                                        : "";
  if (dtype.empty())
    return fail("dtype '" + descr +
                "' is not supported (f32, f16, i8, i32, i64, and '<u2' as raw bf16 bits)");
  if (!std::regex_search(header, std::regex("'fortran_order':\\s*False")))
    return fail("Fortran-order arrays are not supported; save with np.ascontiguousarray");
  if (!std::regex_search(header, match, std::regex("'shape':\\s*\\(([^)]*)\\)")))
    return fail("header has no 'shape'");
  std::vector<int64_t> shape;
  std::string problem;
  if (!parseShape(match[1], elementSize(dtype), shape, problem))
    return fail(problem);
  HostTensor probe;
  probe.dtype = dtype;
  probe.shape = shape;
  size_t bytes = static_cast<size_t>(probe.byteSize()); // no overflow: checked above
  size_t payload = headerStart + headerLength;
  if (data.size() - payload != bytes)
    return fail("holds " + std::to_string(data.size() - payload) +
                " bytes of data, but its shape needs " + std::to_string(bytes));
  tensor = HostTensor::allocate(dtype, shape);
  if (bytes)
    std::memcpy(tensor.data, data.data() + payload, bytes);
  return true;
}

const char *npyDescr(const std::string &dtype) {
  if (dtype == "f32") return "<f4";
  if (dtype == "f16") return "<f2";
  if (dtype == "bf16") return "<u2"; // raw bf16 bits
  if (dtype == "i8") return "|i1";
  if (dtype == "i32") return "<i4";
  if (dtype == "i64") return "<i8";
  return nullptr;
}

bool writeNpyFile(const std::string &path, const std::string &descr,
                  const std::vector<int64_t> &shape, const void *data, size_t bytes,
                  std::string &error) {
  // Python tuple syntax: (), (n,), (a, b).
  std::string dims;
  for (size_t i = 0; i < shape.size(); ++i)
    dims += (i ? ", " : "") + std::to_string(shape[i]);
  if (shape.size() == 1)
    dims += ",";
  std::string header = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': (" +
                       dims + "), }";
  // Version 1.0: the magic, the version, a 2-byte length, then the header
  // padded with spaces to a multiple of 64 bytes, ending in a newline.
  while ((10 + header.size() + 1) % 64 != 0)
    header += ' ';
  header += '\n';
  std::ofstream out(path, std::ios::binary);
  out.write("\x93NUMPY\x01\x00", 8);
  out.put(static_cast<char>(header.size() & 0xFF));
  out.put(static_cast<char>(header.size() >> 8));
  out << header;
  out.write(static_cast<const char *>(data), static_cast<std::streamsize>(bytes));
  out.close();
  if (!out) {
    error = "cannot write " + path;
    return false;
  }
  return true;
}

bool writeNpy(const std::string &path, const HostTensor &tensor, std::string &error) {
  const char *descr = npyDescr(tensor.dtype);
  if (!descr) {
    error = path + ": no .npy form for dtype " + tensor.dtype;
    return false;
  }
  return writeNpyFile(path, descr, tensor.shape, tensor.data,
                      static_cast<size_t>(tensor.byteSize()), error);
}

} // namespace prism::runtime
