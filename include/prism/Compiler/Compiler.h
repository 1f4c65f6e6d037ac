//===- Compiler.h - From prism IR to an artifact bundle ---------*- C++ -*-===//

#ifndef PRISM_COMPILER_COMPILER_H
#define PRISM_COMPILER_COMPILER_H

#include "prism/Target/TargetBackend.h"

#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/Error.h"

namespace prism {

struct CompileResult {
  std::string bundleDirectory;
  /// Kernel launches per run of every function, at most (launches chosen
  /// by ranges of a dynamic size count as the longest choice).
  size_t numKernels = 0;
  /// The choices among those made at run time by a dynamic size (a
  /// matmul's few rows: a kernel for them, or split-K's two).
  size_t numSizeChoices = 0;
};

struct CompileOptions {
  /// Run the prism-optimize pipeline (cleanups, attention recognition,
  /// fusion) before kernelization.
  bool optimize = true;
  /// Kernelization options ("matmul-m=64 matmul-n=64") replacing the
  /// target's own for those keys: tile sizes chosen by a benchmark.
  std::string tileSizes;
};

/// Compiles every function of prism ops in `source` (left unchanged) for
/// `target` into a bundle in `directory` (created if needed): optimization,
/// kernelization, the target's lowering and code generation, and
/// manifest.json. Errors are returned, with the MLIR diagnostics of the
/// failing step in the message.
llvm::Expected<CompileResult> compileToBundle(mlir::ModuleOp source,
                                              llvm::StringRef target,
                                              llvm::StringRef directory,
                                              const CompileOptions &options = {});

/// The dtype name of an element type in manifests ("f32", "bf16", ...).
std::string dtypeName(mlir::Type elementType);

} // namespace prism

#endif // PRISM_COMPILER_COMPILER_H
