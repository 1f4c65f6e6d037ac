//===- CpuSerializer.h - LLVM-dialect kernels to a shared library -*- C++ -*-===//

#ifndef PRISM_TARGETS_CPU_CPUSERIALIZER_H
#define PRISM_TARGETS_CPU_CPUSERIALIZER_H

#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/Error.h"

#include <string>

namespace prism::cpu {

/// Translates a module in the LLVM dialect (the output of the CPU lowering
/// pipeline) to LLVM IR, optimizes it at O3 for the host CPU (or for `chip`:
/// "avx2", "avx512"), and returns the object file's bytes.
llvm::Expected<std::string> compileToObject(mlir::ModuleOp module,
                                            llvm::StringRef chip);

/// Links an object file into a shared library with LLVM's ld.lld (from the
/// LLVM this Prism was built against, then PATH).
llvm::Error linkSharedLibrary(llvm::StringRef objectPath,
                              llvm::StringRef libraryPath);

/// compileToObject, then linkSharedLibrary into `directory`/`libraryName`
/// (the object file is removed). Returns the library's name.
llvm::Expected<std::string> writeSharedLibrary(mlir::ModuleOp module,
                                               llvm::StringRef chip,
                                               llvm::StringRef directory,
                                               llvm::StringRef libraryName);

} // namespace prism::cpu

#endif // PRISM_TARGETS_CPU_CPUSERIALIZER_H
