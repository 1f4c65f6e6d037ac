//===- prism-translate.cpp - Prism IR to target artifacts -----------------===//
//
// prism-translate FILE --target=T [--entry=f] [--emit=bundle|ptx|asm] -o OUT
// prism-translate FILE --target=nvidia:sm_90a --report
//
// Compiles the functions of prism ops in FILE (or only --entry) for a
// target, like prism-run without running, and writes the bundle (a
// directory) or one of its artifacts. --report prints, per GPU kernel, the
// registers, spills and shared memory ptxas reports and the tensor-core and
// asynchronous-copy instructions found in the PTX and (with cuobjdump) the
// SASS.
//
//===----------------------------------------------------------------------===//

#include "KernelReport.h"

#include "prism/Compiler/Compiler.h"
#include "prism/InitAll.h"
#include "prism/Runtime/Bundle.h"
#include "prism/Runtime/Json.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "llvm/ADT/ScopeExit.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Support/raw_ostream.h"

#include <limits>
#include <map>

using namespace mlir;
namespace cl = llvm::cl;

static cl::opt<bool> optimize(
    "optimize", cl::init(true),
    cl::desc("Run prism-optimize (cleanups, attention recognition, fusion) "
             "before kernelization; --optimize=false compiles every op alone"));
static cl::opt<std::string> tileSizes(
    "tile-sizes", cl::init(""),
    cl::desc("Kernelization options replacing the target's for those keys, "
             "e.g. 'matmul-m=64 matmul-n=64' (tile sizes chosen by a benchmark)"));
static cl::opt<std::string> inputFile(cl::Positional, cl::Required,
                                      cl::desc("<input .mlir>"));
static cl::opt<std::string> targetName("target", cl::Required,
                                       cl::desc("Target, e.g. cpu, nvidia:sm_90a"));
static cl::opt<std::string> entryName("entry", cl::desc("Compile only this function"));
static cl::opt<std::string> emit("emit", cl::init("bundle"),
                                 cl::desc("bundle (a directory), ptx (NVIDIA), "
                                          "or the bundle's binary (asm: cubin/so)"));
static cl::opt<std::string> outputPath("o", cl::desc("Output path"), cl::init("-"));
static cl::opt<bool> report("report",
                            cl::desc("Print each GPU kernel's registers, spills, "
                                     "shared memory and tensor-core instructions"));

static int fail(const llvm::Twine &message) {
  llvm::errs() << "prism-translate: error: " << message << "\n";
  return 1;
}

/// The bundle's manifest (empty if it cannot be read: the report then
/// leaves out what only the manifest says).
static prism::runtime::Manifest readManifest(llvm::StringRef directory) {
  llvm::SmallString<256> path(directory);
  llvm::sys::path::append(path, "manifest.json");
  auto text = llvm::MemoryBuffer::getFile(path);
  prism::runtime::Json json;
  prism::runtime::Manifest manifest;
  std::string error;
  if (!text || !prism::runtime::Json::parse((*text)->getBuffer().str(), json, error) ||
      !prism::runtime::Manifest::fromJson(json, manifest, error))
    return prism::runtime::Manifest();
  return manifest;
}

/// Bytes of dynamic shared memory of each kernel of the manifest that has
/// any (ptxas counts only static shared memory).
static std::map<std::string, int64_t>
dynamicSharedBytes(const prism::runtime::Manifest &manifest) {
  std::map<std::string, int64_t> bytes;
  for (const auto &[name, config] : manifest.kernels)
    if (config.dynamicShared)
      bytes[name] = config.sharedBytes;
  return bytes;
}

/// A symbolic size as a reader writes it: "input 0 dim 1", times and
/// divided by its constants.
static std::string describeSize(const prism::runtime::DimExpr &size) {
  std::string text;
  for (const auto &[input, dim] : size.factors)
    text += (text.empty() ? "" : " * ") + ("input " + std::to_string(input) + " dim " +
                                            std::to_string(dim));
  if (size.constant != 1 || text.empty())
    text = std::to_string(size.constant) + (text.empty() ? "" : " * " + text);
  if (size.divisor != 1)
    text += " / " + std::to_string(size.divisor);
  return text;
}

/// The launches chosen at run time by a dynamic size (the manifest's
/// `when` groups): per group, each range and the kernels it runs, in order
/// (a range may run several: split-K's products, then their sum).
static void printSizeChoices(const prism::runtime::Manifest &manifest) {
  for (const prism::runtime::FunctionPlan &f : manifest.functions)
    for (const prism::runtime::LaunchChoice &choice : prism::runtime::launchChoices(f)) {
      std::string line = f.name + ": " + describeSize(choice.size);
      for (const prism::runtime::LaunchAlternative &alternative : choice.alternatives) {
        line += &alternative == &choice.alternatives.front() ? " " : "; ";
        line += alternative.max == std::numeric_limits<int64_t>::max()
                    ? ">= " + std::to_string(alternative.min)
                    : "in [" + std::to_string(alternative.min) + ", " +
                          std::to_string(alternative.max) + "]";
        for (size_t i : alternative.launches)
          line += (i == alternative.launches.front() ? ": " : ", ") + f.launches[i].kernel;
      }
      llvm::outs() << "chosen by size: " << line << "\n";
    }
}

static int printReport(llvm::StringRef directory) {
  bool sass = false;
  auto reports = prism::readNvidiaReport(directory, sass);
  if (!reports)
    return fail(llvm::toString(reports.takeError()));
  prism::runtime::Manifest manifest = readManifest(directory);
  std::map<std::string, int64_t> dynamic = dynamicSharedBytes(manifest);
  llvm::outs() << llvm::formatv("{0,-44} {1,5} {2,7} {3,7} {4,7}  {5}\n", "kernel",
                                "regs", "spill-s", "spill-l", "smem",
                                sass ? "instructions (PTX; SASS)" : "instructions (PTX; no cuobjdump: no SASS)");
  for (const auto &[name, r] : *reports) {
    std::string instructions;
    for (const auto &[what, n] : r.ptxInstructions)
      if (n > 0)
        instructions += what + "=" + std::to_string(n) + " ";
    if (sass) {
      instructions += ";";
      for (const auto &[what, n] : r.sassInstructions)
        instructions += " " + what + "=" + std::to_string(n);
    }
    // Dynamic shared memory (sized at launch) after a '+'.
    std::string shared = std::to_string(r.sharedBytes);
    if (auto it = dynamic.find(name); it != dynamic.end())
      shared += "+" + std::to_string(it->second);
    llvm::outs() << llvm::formatv("{0,-44} {1,5} {2,7} {3,7} {4,7}  {5}\n", name,
                                  r.registers, r.spillStores, r.spillLoads, shared,
                                  instructions);
  }
  // What ptxas says may cost performance (serialized wgmma, ...).
  for (const auto &[name, r] : *reports)
    for (const std::string &note : r.notes)
      llvm::outs() << "ptxas on " << name << ": " << note << "\n";
  printSizeChoices(manifest);
  return 0;
}

static int printAmdReport(llvm::StringRef directory, llvm::StringRef chip) {
  auto reports = prism::readAmdReport(directory, chip);
  if (!reports)
    return fail(llvm::toString(reports.takeError()));
  llvm::outs() << llvm::formatv("{0,-44} {1,5} {2,5} {3,5} {4,6} {5,6} {6,6} {7,5}  {8}\n",
                                "kernel", "vgpr", "sgpr", "agpr", "vspill",
                                "sspill", "lds", "waves", "instructions");
  for (const auto &[name, r] : *reports) {
    std::string instructions;
    for (const auto &[what, n] : r.instructions)
      instructions += what + "=" + std::to_string(n) + " ";
    llvm::outs() << llvm::formatv("{0,-44} {1,5} {2,5} {3,5} {4,6} {5,6} {6,6} {7,5}  {8}\n",
                                  name, r.vgprs, r.sgprs, r.agprs, r.vgprSpills,
                                  r.sgprSpills, r.ldsBytes, r.vgprLimitedWaves,
                                  instructions);
  }
  llvm::outs() << "(vspill: VGPRs spilled to scratch memory; sspill: SGPRs "
                  "spilled into VGPR lanes, no memory traffic; waves: waves per "
                  "SIMD the VGPRs allow; LDS and the rest of the compute unit "
                  "are not modelled)\n";
  return 0;
}

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  cl::ParseCommandLineOptions(argc, argv, "Prism: IR to target artifacts\n");
  prism::registerAllPasses();
  DialectRegistry registry;
  prism::registerAllDialects(registry);
  MLIRContext context(registry);
  context.loadAllAvailableDialects();

  llvm::SourceMgr sourceMgr;
  SourceMgrDiagnosticHandler diagnostics(sourceMgr, &context);
  OwningOpRef<ModuleOp> module =
      parseSourceFile<ModuleOp>(inputFile.getValue(), sourceMgr, ParserConfig(&context));
  if (!module)
    return fail("cannot parse " + inputFile);
  if (!entryName.empty()) {
    auto entry = module->lookupSymbol<func::FuncOp>(entryName);
    if (!entry)
      return fail("no function '" + entryName + "' in " + inputFile);
    SmallVector<func::FuncOp> others;
    for (auto f : module->getOps<func::FuncOp>())
      if (f != entry && !f.isExternal())
        others.push_back(f);
    for (auto f : others)
      f.erase();
  }

  bool toDirectory = emit == "bundle" && !report;
  std::string directory;
  if (toDirectory) {
    if (outputPath == "-")
      return fail("--emit=bundle writes a directory: give it with -o");
    directory = outputPath;
  } else {
    llvm::SmallString<128> path;
    if (llvm::sys::fs::createUniqueDirectory("prism-translate", path))
      return fail("cannot create a temporary directory");
    directory = path.str().str();
  }
  auto compiled = prism::compileToBundle(*module, targetName, directory,
                             prism::CompileOptions{optimize, tileSizes});
  if (!compiled)
    return fail(llvm::toString(compiled.takeError()));
  llvm::scope_exit cleanup([&] {
    if (!toDirectory)
      llvm::sys::fs::remove_directories(directory);
  });
  if (toDirectory)
    return 0;
  if (report) {
    llvm::StringRef target(targetName);
    if (target.starts_with("amd"))
      return printAmdReport(directory, target.contains(':')
                                           ? target.split(':').second
                                           : llvm::StringRef("gfx942"));
    if (!target.starts_with("nvidia"))
      return fail("--report describes GPU kernels; target '" + targetName +
                  "' has none (use --emit to get its artifacts)");
    return printReport(directory);
  }

  std::string artifact;
  if (emit == "ptx") {
    if (!llvm::StringRef(targetName).starts_with("nvidia"))
      return fail("--emit=ptx needs an nvidia target");
    artifact = "kernels.ptx";
  } else if (emit == "asm") {
    auto text = llvm::MemoryBuffer::getFile(directory + "/manifest.json");
    prism::runtime::Json json;
    std::string error;
    prism::runtime::Manifest manifest;
    if (!text || !prism::runtime::Json::parse((*text)->getBuffer().str(), json, error) ||
        !prism::runtime::Manifest::fromJson(json, manifest, error))
      return fail("cannot read the manifest: " + error);
    artifact = manifest.library;
  } else {
    return fail("unknown --emit '" + emit + "' (bundle, ptx, asm)");
  }
  auto buffer = llvm::MemoryBuffer::getFile(directory + "/" + artifact);
  if (!buffer)
    return fail("the bundle has no " + artifact);
  std::error_code ec;
  llvm::ToolOutputFile out(outputPath, ec, llvm::sys::fs::OF_None);
  if (ec)
    return fail("cannot write " + outputPath + ": " + ec.message());
  out.os() << (*buffer)->getBuffer();
  out.keep();
  return 0;
}
