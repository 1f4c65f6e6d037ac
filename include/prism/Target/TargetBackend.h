//===- TargetBackend.h - The interface every backend implements -*- C++ -*-===//
//
// Core code knows backends only through this interface. Each backend lives in
// targets/<vendor>/, is built only when its PRISM_ENABLE_<VENDOR> option is
// on, and registers itself through one register<Vendor>Target() function,
// which InitAll calls through the CMake-generated Targets.def.
//
//===----------------------------------------------------------------------===//

#ifndef PRISM_TARGET_TARGETBACKEND_H
#define PRISM_TARGET_TARGETBACKEND_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/Support/Error.h"
#include "llvm/ADT/StringRef.h"

#include <memory>
#include <string>
#include <vector>

namespace prism {

/// A parsed target string: "cpu", "cpu:avx512", "nvidia:sm_90a", ...
struct TargetSpec {
  std::string backend; // "cpu", "nvidia", "amd", "ascend"
  std::string chip;    // "", "avx512", "sm_90a", "gfx942", "910b"

  /// Splits "backend[:chip]"; returns std::nullopt on an empty backend.
  static std::optional<TargetSpec> parse(llvm::StringRef text);
  std::string str() const { return chip.empty() ? backend : backend + ":" + chip; }
};

class TargetBackend {
public:
  virtual ~TargetBackend();

  /// The backend part of a target string ("cpu").
  virtual llvm::StringRef getName() const = 0;
  virtual llvm::StringRef getDescription() const = 0;
  /// Whether this backend accepts `spec.chip`.
  virtual bool supportsChip(llvm::StringRef chip) const = 0;

  /// Adds the dialects, interfaces and translations the backend's pipeline
  /// needs to a registry (called by prism::registerAllDialects).
  virtual void registerDialects(mlir::DialectRegistry &registry) const {}

  /// Adds the passes that lower a module of tile kernels (func.func marked
  /// tile.kernel) to the backend's code-generation input (LLVM dialect for
  /// cpu, nvidia and amd; Ascend tile IR for ascend).
  virtual void buildTileLoweringPipeline(mlir::OpPassManager &pm,
                                         const TargetSpec &spec) const = 0;

  /// The options of prism-kernelize for this target: its tile sizes
  /// ("elementwise-block=256 matmul-m=8 ...").
  virtual std::string getKernelizeOptions(const TargetSpec &spec) const = 0;

  /// Writes the binaries of a lowered module (the output of
  /// buildTileLoweringPipeline) into `directory`; returns the file name the
  /// manifest's "library" field names.
  virtual llvm::Expected<std::string>
  writeBinaries(mlir::ModuleOp lowered, const TargetSpec &spec,
                llvm::StringRef directory) const = 0;
};

/// Makes `backend` available under its name. Called by register<X>Target().
void registerTargetBackend(std::unique_ptr<TargetBackend> backend);

/// The backend for `spec`, or nullptr (the caller reports which backends
/// exist: see registeredTargetNames()).
const TargetBackend *lookupTargetBackend(const TargetSpec &spec);

/// The names of the registered backends, sorted.
std::vector<std::string> registeredTargetNames();

/// Lets every registered backend add what its pipeline needs to `registry`.
void registerTargetDialects(mlir::DialectRegistry &registry);

/// Calls register<X>Target() for every backend this build enabled (each
/// registers its passes and its TargetBackend).
void registerAllTargets();

} // namespace prism

#endif // PRISM_TARGET_TARGETBACKEND_H
