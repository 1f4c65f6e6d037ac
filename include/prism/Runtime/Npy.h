//===- Npy.h - Parsing .npy files (no LLVM) ---------------------*- C++ -*-===//
//
// The one reader and writer of NumPy's .npy format that prism-exec and
// prism-run share.
// It takes C-order, little-endian arrays of f32, f16, i8, i32 and i64, and
// '<u2' arrays as raw bf16 bits (numpy has no bf16; the tools write bf16
// that way). Anything else (Fortran order, another dtype, a shape whose
// size overflows, data that does not match the shape) is an error naming
// the file.
//
//===----------------------------------------------------------------------===//

#ifndef PRISM_RUNTIME_NPY_H
#define PRISM_RUNTIME_NPY_H

#include "prism/Runtime/Bundle.h"

#include <cstdint>
#include <string>
#include <vector>

namespace prism::runtime {

/// Parses the contents `bytes` of the .npy file `path` into `tensor`; false
/// with `error` (which names `path`) on bad input.
bool parseNpy(const std::string &bytes, const std::string &path, HostTensor &tensor,
              std::string &error);

/// The .npy dtype of a tensor dtype ("<f4" for f32, "<u2" for bf16's raw
/// bits); null for one .npy cannot hold.
const char *npyDescr(const std::string &dtype);

/// Writes `bytes` of C-order data of NumPy dtype `descr` ("<f8") and
/// `shape` as the .npy file `path`; false with `error` naming it.
bool writeNpyFile(const std::string &path, const std::string &descr,
                  const std::vector<int64_t> &shape, const void *data, size_t bytes,
                  std::string &error);

/// Writes `tensor` as .npy (bf16 as '<u2' raw bits).
bool writeNpy(const std::string &path, const HostTensor &tensor, std::string &error);

} // namespace prism::runtime

#endif // PRISM_RUNTIME_NPY_H
