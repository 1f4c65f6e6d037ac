//===- CpuSerializer.cpp - LLVM-dialect kernels to a shared library -------===//

#include "targets/cpu/CpuSerializer.h"

#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Export.h"

#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/Module.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Passes/PassBuilder.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/TargetParser/Host.h"

#include <mutex>

using namespace mlir;

namespace prism::cpu {

static llvm::Error makeError(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

static void initializeNativeTarget() {
  static std::once_flag once;
  std::call_once(once, [] {
    llvm::InitializeNativeTarget();
    llvm::InitializeNativeTargetAsmPrinter();
  });
}

/// The CPU name and features for `chip`: the host's, or a named x86 level.
static std::pair<std::string, std::string> cpuFor(llvm::StringRef chip) {
  if (chip == "avx512")
    return {"skylake-avx512", ""};
  if (chip == "avx2")
    return {"haswell", ""};
  std::string features;
  for (const auto &feature : llvm::sys::getHostCPUFeatures())
    features += (feature.getValue() ? "+" : "-") + feature.getKey().str() + ",";
  return {llvm::sys::getHostCPUName().str(), features};
}

llvm::Expected<std::string> compileToObject(ModuleOp module,
                                            llvm::StringRef chip) {
  initializeNativeTarget();
  DialectRegistry registry;
  registerBuiltinDialectTranslation(registry);
  registerLLVMDialectTranslation(registry);
  module->getContext()->appendDialectRegistry(registry);

  llvm::LLVMContext llvmContext;
  std::unique_ptr<llvm::Module> llvmModule =
      translateModuleToLLVMIR(module, llvmContext, "prism_cpu_kernels");
  if (!llvmModule)
    return makeError("translation of the lowered kernels to LLVM IR failed");

  llvm::Triple triple(llvm::sys::getProcessTriple());
  std::string lookupError;
  const llvm::Target *target =
      llvm::TargetRegistry::lookupTarget(triple, lookupError);
  if (!target)
    return makeError("no LLVM target for " + triple.str() + ": " + lookupError);
  auto [cpu, features] = cpuFor(chip);
  llvm::TargetOptions options;
  std::unique_ptr<llvm::TargetMachine> machine(target->createTargetMachine(
      triple, cpu, features, options, llvm::Reloc::PIC_, std::nullopt,
      llvm::CodeGenOptLevel::Aggressive));
  if (!machine)
    return makeError("cannot create an LLVM target machine for " + cpu);
  llvmModule->setTargetTriple(triple);
  llvmModule->setDataLayout(machine->createDataLayout());

  // O3 over the kernels (the loop vectorizer and SLP help the scalar tails).
  {
    llvm::LoopAnalysisManager lam;
    llvm::FunctionAnalysisManager fam;
    llvm::CGSCCAnalysisManager cgam;
    llvm::ModuleAnalysisManager mam;
    llvm::PassBuilder builder(machine.get());
    builder.registerModuleAnalyses(mam);
    builder.registerCGSCCAnalyses(cgam);
    builder.registerFunctionAnalyses(fam);
    builder.registerLoopAnalyses(lam);
    builder.crossRegisterProxies(lam, fam, cgam, mam);
    llvm::ModulePassManager passes =
        builder.buildPerModuleDefaultPipeline(llvm::OptimizationLevel::O3);
    passes.run(*llvmModule, mam);
  }

  llvm::SmallString<0> object;
  llvm::raw_svector_ostream stream(object);
  llvm::legacy::PassManager codegen;
  if (machine->addPassesToEmitFile(codegen, stream, nullptr,
                                   llvm::CodeGenFileType::ObjectFile))
    return makeError("the LLVM target cannot emit object files");
  codegen.run(*llvmModule);
  return std::string(object.begin(), object.end());
}

llvm::Error linkSharedLibrary(llvm::StringRef objectPath,
                              llvm::StringRef libraryPath) {
  llvm::SmallVector<llvm::StringRef, 2> searchPaths = {PRISM_LLVM_TOOLS_DIR};
  llvm::ErrorOr<std::string> linker =
      llvm::sys::findProgramByName("ld.lld", searchPaths);
  if (!linker)
    linker = llvm::sys::findProgramByName("ld.lld");
  if (!linker)
    return makeError("ld.lld not found (looked in " PRISM_LLVM_TOOLS_DIR
                     " and PATH); install lld-22");
  std::string message;
  llvm::StringRef arguments[] = {*linker, "-shared", "--as-needed", "-o",
                                 libraryPath, objectPath};
  int status = llvm::sys::ExecuteAndWait(*linker, arguments, std::nullopt, {},
                                         /*SecondsToWait=*/120, 0, &message);
  if (status != 0)
    return makeError("ld.lld failed (" + llvm::Twine(status) + ") linking " +
                     libraryPath + (message.empty() ? "" : ": " + message));
  return llvm::Error::success();
}

llvm::Expected<std::string> writeSharedLibrary(ModuleOp module, llvm::StringRef chip,
                                               llvm::StringRef directory,
                                               llvm::StringRef libraryName) {
  llvm::Expected<std::string> object = compileToObject(module, chip);
  if (!object)
    return object.takeError();
  llvm::SmallString<256> objectPath(directory), libraryPath(directory);
  llvm::sys::path::append(objectPath, "kernels.o");
  llvm::sys::path::append(libraryPath, libraryName);
  {
    std::error_code ec;
    llvm::raw_fd_ostream out(objectPath, ec);
    if (ec)
      return llvm::createStringError(ec, "cannot write " + objectPath);
    out << *object;
  }
  if (llvm::Error error = linkSharedLibrary(objectPath, libraryPath))
    return std::move(error);
  llvm::sys::fs::remove(objectPath);
  return libraryName.str();
}

} // namespace prism::cpu
