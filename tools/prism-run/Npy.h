//===- Npy.h - Reading .npy files for prism-run -----------------*- C++ -*-===//

#ifndef PRISM_TOOLS_PRISM_RUN_NPY_H
#define PRISM_TOOLS_PRISM_RUN_NPY_H

#include "prism/Runtime/Bundle.h"

#include "llvm/Support/Error.h"

namespace prism {

/// Reads a C-order, little-endian .npy file of f32, f16, i8, i32 or i64.
llvm::Expected<runtime::HostTensor> readNpy(llvm::StringRef path);

} // namespace prism

#endif // PRISM_TOOLS_PRISM_RUN_NPY_H
