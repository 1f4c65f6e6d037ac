//===- Npy.h - .npy files for prism-run -------------------------*- C++ -*-===//

#ifndef PRISM_TOOLS_PRISM_RUN_NPY_H
#define PRISM_TOOLS_PRISM_RUN_NPY_H

#include "prism/Runtime/Bundle.h"

#include "llvm/Support/Error.h"

namespace prism {

/// Reads a C-order, little-endian .npy file of f32, f16, i8, i32 or i64;
/// '<u2' arrays are taken as raw bf16 bits (numpy has no bf16; this is how
/// writeNpy and prism-exec store it).
llvm::Expected<runtime::HostTensor> readNpy(llvm::StringRef path);

/// Writes a tensor as .npy (bf16 as '<u2' raw bits).
llvm::Error writeNpy(llvm::StringRef path, const runtime::HostTensor &tensor);

/// Writes float64 values of `shape` as .npy ('<f8').
llvm::Error writeNpyF64(llvm::StringRef path, llvm::ArrayRef<int64_t> shape,
                        llvm::ArrayRef<double> values);

} // namespace prism

#endif // PRISM_TOOLS_PRISM_RUN_NPY_H
