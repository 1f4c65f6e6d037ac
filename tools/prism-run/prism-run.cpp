//===- prism-run.cpp - Compile, run and check a prism function ------------===//
//
//   prism-run FILE.mlir --target=cpu [--entry=f] [--inputs=a.npy,...]
//             [--seed=N] [--dynamic-size=N] [--check] [--bench] [--profile]
//             [--repeat=N] [--bundle=DIR]
//
// Compiles FILE for the target into a bundle, runs its entry function through
// the runtime on random (seeded, normal, never all-zero) or given inputs, and
// with --check compares every output with the float64 reference, printing
// the relative L2 error next to the dtype's tolerance; it exits non-zero on a
// mismatch or on any error. --bench prints the median time of repeated runs,
// --profile each launch's.
//
//===----------------------------------------------------------------------===//

#include "Npy.h"

#include "prism/Compiler/Compiler.h"
#include "prism/InitAll.h"
#include "prism/Reference/Interpreter.h"
#include "prism/Reference/Tolerance.h"
#include "prism/Runtime/Profile.h"
#include "prism/Runtime/Bundle.h"

#include "dialects/Prism/IR/PrismOps.h"
#include "dialects/Prism/IR/PrismTypeInference.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <cmath>
#include <chrono>
#include <random>

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
static cl::opt<std::string> targetName("target", cl::init("cpu"),
                                       cl::desc("Target to compile for"));
static cl::opt<std::string> entryName("entry",
                                      cl::desc("Function to run (default: "
                                               "the only function of prism ops)"));
static cl::list<std::string> inputPaths("inputs", cl::CommaSeparated,
                                        cl::desc(".npy files, one per input"));
static cl::opt<unsigned> seed("seed", cl::init(0),
                              cl::desc("Seed of the random inputs"));
static cl::opt<int64_t> dynamicSize(
    "dynamic-size", cl::init(37),
    cl::desc("Size given to every dynamic dimension of random inputs"));
static cl::opt<bool> check("check", cl::desc("Compare with the float64 reference"));
static cl::opt<bool> bench("bench", cl::desc("Time repeated runs"));
static cl::opt<bool> profileLaunches(
    "profile", cl::desc("Time each launch of repeated runs (--repeat): the kernels' medians, "
                        "bandwidths and shares"));
static cl::opt<bool> compileOnly(
    "compile-only",
    cl::desc("Compile the bundle (keep it with --bundle) and do not run it, "
             "e.g. for a GPU this machine does not have"));
static cl::opt<std::string> saveCase(
    "save-case",
    cl::desc("Write the inputs (in<i>.npy) and the float64 reference outputs "
             "(ref<i>.npy) and case.json (dtypes, tolerances) to this "
             "directory, for checking the bundle on another machine"));
static cl::opt<unsigned> repeat("repeat", cl::init(20),
                                cl::desc("Runs timed by --bench and --profile"));
static cl::opt<std::string> bundleDirectory(
    "bundle", cl::desc("Keep the compiled bundle in this directory"));

static int fail(const llvm::Twine &message) {
  llvm::errs() << "prism-run: error: " << message << "\n";
  return 1;
}

static std::string formatShape(llvm::ArrayRef<int64_t> shape) {
  std::string s;
  for (size_t i = 0; i < shape.size(); ++i)
    s += (i ? "x" : "") + std::to_string(shape[i]);
  return s.empty() ? "scalar" : s;
}

/// The standard deviation of random float input `index` of `entry`: 1,
/// except for the right-hand side of a matmul (a weight), which gets
/// 1 / sqrt(K) as initialized models have it. With N(0, 1) weights a
/// 4096-wide projection makes values 64 times larger than its input, and
/// attention's logits reach thousands: softmax is then an argmax, and the
/// bf16 rounding the graph asks for (which the float64 reference does not
/// apply) flips its near-ties once there are enough keys, so the check
/// would fail on correct kernels.
static double inputStandardDeviation(func::FuncOp entry, unsigned index) {
  BlockArgument argument = entry.getArgument(index);
  auto type = dyn_cast<RankedTensorType>(argument.getType());
  if (!type || type.getRank() < 2)
    return 1.0;
  for (Operation *user : argument.getUsers())
    if (auto matmul = dyn_cast<prism::MatmulOp>(user))
      if (matmul.getRhs() == argument) {
        int64_t k = type.getDimSize(type.getRank() - (matmul.getTransposeRhs() ? 1 : 2));
        if (!ShapedType::isDynamic(k) && k > 0)
          return 1.0 / std::sqrt(static_cast<double>(k));
      }
  return 1.0;
}

/// Random inputs: N(0, sigma) for floats (rounded to the dtype; sigma from
/// inputStandardDeviation), uniform [0, 64) for integers (positions, token
/// ids).
static llvm::Expected<prism::runtime::HostTensor>
randomInput(RankedTensorType type, unsigned index, double sigma) {
  std::vector<int64_t> shape;
  for (int64_t d : type.getShape())
    shape.push_back(ShapedType::isDynamic(d) ? dynamicSize.getValue() : d);
  // Random inputs and the float64 reference hold every element in host
  // memory: 2^30 elements (8 GiB of float64) at most.
  constexpr int64_t kMaxRandomElements = int64_t(1) << 30;
  std::optional<int64_t> elements = prism::staticElementCount(shape);
  if (!elements || *elements > kMaxRandomElements)
    return llvm::createStringError(
        "input " + std::to_string(index) +
        " would have more than 2^30 elements, too many for random inputs and a "
        "float64 reference; give a "
        "smaller --dynamic-size, or inputs with --inputs");
  prism::reference::Tensor values(shape);
  std::mt19937_64 generator(seed * 1000003ull + index);
  if (isa<FloatType>(type.getElementType())) {
    std::normal_distribution<double> normal(0.0, sigma);
    for (double &v : values.data)
      v = normal(generator);
  } else {
    std::uniform_int_distribution<int64_t> uniform(0, 63);
    for (double &v : values.data)
      v = static_cast<double>(uniform(generator));
  }
  return prism::reference::toHost(values,
                                  prism::dtypeName(type.getElementType()));
}

/// Inputs, float64 reference outputs and their tolerances, for a device
/// harness that runs the bundle elsewhere (scripts/gpu/check_cases.py).
static llvm::Error writeCase(func::FuncOp entry,
                             const std::vector<prism::runtime::HostTensor> &inputs,
                             llvm::StringRef directory) {
  if (std::error_code ec = llvm::sys::fs::create_directories(directory))
    return llvm::createStringError(ec, "cannot create " + directory);
  std::vector<prism::reference::Tensor> referenceInputs;
  for (auto [i, input] : llvm::enumerate(inputs)) {
    llvm::SmallString<256> path(directory);
    llvm::sys::path::append(path, "in" + std::to_string(i) + ".npy");
    if (llvm::Error e = prism::writeNpy(path, input))
      return e;
    llvm::Expected<prism::reference::Tensor> t = prism::reference::fromHost(input);
    if (!t)
      return t.takeError();
    referenceInputs.push_back(std::move(*t));
  }
  llvm::Expected<std::vector<prism::reference::Tensor>> reference =
      prism::reference::evaluateFunction(entry, referenceInputs);
  if (!reference)
    return reference.takeError();
  std::string json = "{\"entry\": \"" + entry.getName().str() +
                     "\", \"inputs\": " + std::to_string(inputs.size()) +
                     ", \"outputs\": [";
  for (auto [i, result] : llvm::enumerate(*reference)) {
    llvm::SmallString<256> path(directory);
    llvm::sys::path::append(path, "ref" + std::to_string(i) + ".npy");
    if (llvm::Error e = prism::writeNpyF64(path, result.shape, result.data))
      return e;
    auto type = cast<RankedTensorType>(entry.getResultTypes()[i]);
    std::string dtype = prism::dtypeName(type.getElementType());
    std::optional<double> tolerance =
        prism::reference::relativeL2Tolerance(dtype);
    json += (i ? ", " : "") + std::string("{\"dtype\": \"") + dtype +
            "\", \"tolerance\": " +
            llvm::formatv("{0:e6}", tolerance.value_or(0.0)).str() + "}";
  }
  json += "]}\n";
  llvm::SmallString<256> path(directory);
  llvm::sys::path::append(path, "case.json");
  std::error_code ec;
  llvm::raw_fd_ostream out(path, ec);
  if (ec)
    return llvm::createStringError(ec, "cannot write " + path);
  out << json;
  return llvm::Error::success();
}

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  cl::ParseCommandLineOptions(argc, argv,
                              "Prism: compile, run and check a function\n");
  prism::registerAllPasses();
  DialectRegistry registry;
  prism::registerAllDialects(registry);
  MLIRContext context(registry);
  context.loadAllAvailableDialects();

  llvm::SourceMgr sourceMgr;
  SourceMgrDiagnosticHandler diagnostics(sourceMgr, &context);
  OwningOpRef<ModuleOp> module =
      parseSourceFile<ModuleOp>(inputFile.getValue(), sourceMgr,
                                ParserConfig(&context));
  if (!module)
    return fail("cannot parse " + inputFile);

  // The entry function: named, or the only function of prism ops.
  func::FuncOp entry;
  SmallVector<func::FuncOp> candidates;
  for (auto f : module->getOps<func::FuncOp>())
    if (!f.isExternal() && !f->hasAttr("tile.kernel"))
      candidates.push_back(f);
  if (dynamicSize < 0)
    return fail("--dynamic-size must be at least 0, not " + llvm::Twine(dynamicSize.getValue()));
  if (!entryName.empty()) {
    entry = module->lookupSymbol<func::FuncOp>(entryName);
    if (!entry)
      return fail("no function '" + entryName + "' in " + inputFile);
    if (entry.isExternal())
      return fail("'" + entryName + "' is a declaration (no body): it cannot be the entry");
  } else if (candidates.size() == 1) {
    entry = candidates.front();
  } else {
    std::string names;
    for (auto f : candidates)
      names += (names.empty() ? "" : ", ") + f.getName().str();
    return fail(llvm::Twine(candidates.size()) +
                " functions could be the entry (" + names +
                "); choose one with --entry");
  }

  // Only the entry function is compiled (with what it calls, which the
  // compiler then reports if it cannot inline it).
  // Erasing a caller can free its callees: until nothing changes.
  for (bool erased = true; erased;) {
    erased = false;
    for (func::FuncOp &other : candidates)
      if (other && other != entry && SymbolTable::symbolKnownUseEmpty(other, *module)) {
        other.erase();
        other = nullptr;
        erased = true;
      }
  }

  // Inputs.
  std::vector<prism::runtime::HostTensor> inputs;
  if (!inputPaths.empty()) {
    if (inputPaths.size() != entry.getNumArguments())
      return fail("--inputs gives " + llvm::Twine(inputPaths.size()) +
                  " files but '" + entry.getName() + "' takes " +
                  llvm::Twine(entry.getNumArguments()) + " inputs");
    for (const std::string &path : inputPaths) {
      llvm::Expected<prism::runtime::HostTensor> t = prism::readNpy(path);
      if (!t)
        return fail(llvm::toString(t.takeError()));
      inputs.push_back(std::move(*t));
    }
  } else {
    for (auto [index, type] : llvm::enumerate(entry.getArgumentTypes())) {
      auto tensor = dyn_cast<RankedTensorType>(type);
      if (!tensor)
        return fail("input " + llvm::Twine(index) + " is not a ranked tensor");
      llvm::Expected<prism::runtime::HostTensor> t =
          randomInput(tensor, index, inputStandardDeviation(entry, index));
      if (!t)
        return fail(llvm::toString(t.takeError()));
      inputs.push_back(std::move(*t));
    }
  }

  // Compile into a bundle (kept with --bundle, else a temporary directory).
  std::string directory = bundleDirectory;
  bool temporary = directory.empty();
  if (temporary) {
    llvm::SmallString<128> path;
    if (llvm::sys::fs::createUniqueDirectory("prism-run", path))
      return fail("cannot create a temporary directory");
    directory = path.str().str();
  }
  auto compileStart = std::chrono::steady_clock::now();
  llvm::Expected<prism::CompileResult> compiled =
      prism::compileToBundle(*module, targetName, directory,
                             prism::CompileOptions{optimize, tileSizes});
  if (!compiled)
    return fail(llvm::toString(compiled.takeError()));
  double compileSeconds = std::chrono::duration<double>(
                              std::chrono::steady_clock::now() - compileStart)
                              .count();

  if (!saveCase.empty()) {
    if (llvm::Error e = writeCase(entry, inputs, saveCase))
      return fail(llvm::toString(std::move(e)));
  }
  // Launches whose kernel is chosen at run time by a dynamic size.
  std::string sizeChoices =
      compiled->numSizeChoices
          ? " (" + std::to_string(compiled->numSizeChoices) + " chosen at run time by a dynamic size)"
          : "";
  if (compileOnly) {
    llvm::outs() << "prism-run: " << entry.getName() << " for " << targetName
                 << ": " << compiled->numKernels << " kernel launches" << sizeChoices
                 << ", compiled in "
                 << llvm::format("%.2f", compileSeconds) << " s"
                 << (temporary ? "" : ", bundle in " + directory) << "\n";
    if (temporary)
      llvm::sys::fs::remove_directories(directory);
    return 0;
  }

  std::string error;
  std::unique_ptr<prism::runtime::Bundle> bundle =
      prism::runtime::Bundle::open(directory, error);
  if (!bundle)
    return fail(error);
  std::vector<prism::runtime::HostTensor> outputs;
  if (!bundle->run(entry.getName().str(), inputs, outputs, error))
    return fail(error);

  llvm::outs() << "prism-run: " << entry.getName() << " on " << targetName
               << ": " << compiled->numKernels << " kernel launches" << sizeChoices
               << ", compiled in "
               << llvm::format("%.2f", compileSeconds) << " s"
               << (temporary ? "" : ", bundle in " + directory) << "\n";

  int status = 0;
  std::vector<prism::reference::Tensor> expected;
  if (check) {
    std::vector<prism::reference::Tensor> referenceInputs;
    for (const auto &input : inputs) {
      llvm::Expected<prism::reference::Tensor> t =
          prism::reference::fromHost(input);
      if (!t)
        return fail(llvm::toString(t.takeError()));
      referenceInputs.push_back(std::move(*t));
    }
    llvm::Expected<std::vector<prism::reference::Tensor>> reference =
        prism::reference::evaluateFunction(entry, referenceInputs);
    if (!reference)
      return fail("reference: " + llvm::toString(reference.takeError()));
    expected = std::move(*reference);
  }
  for (size_t i = 0; i < outputs.size(); ++i) {
    const auto &out = outputs[i];
    llvm::outs() << "  output " << i << ": " << out.dtype << " "
                 << formatShape(out.shape);
    if (check) {
      llvm::Expected<prism::reference::Tensor> actual =
          prism::reference::fromHost(out);
      if (!actual)
        return fail(llvm::toString(actual.takeError()));
      double relError = prism::reference::relativeL2Error(*actual, expected[i]);
      std::optional<double> tolerance =
          prism::reference::relativeL2Tolerance(out.dtype);
      bool ok = tolerance && relError <= *tolerance;
      llvm::outs() << "  rel-L2 error " << llvm::format("%.3e", relError)
                   << " (tolerance "
                   << (tolerance ? llvm::formatv("{0:e2}", *tolerance).str()
                                 : std::string("none"))
                   << ") " << (ok ? "PASS" : "FAIL");
      if (!ok)
        status = 1;
    }
    llvm::outs() << "\n";
  }

  if (bench) {
    std::vector<double> times;
    for (unsigned r = 0; r < std::max(1u, repeat.getValue()); ++r) {
      std::vector<prism::runtime::HostTensor> scratch;
      auto start = std::chrono::steady_clock::now();
      if (!bundle->run(entry.getName().str(), inputs, scratch, error))
        return fail(error);
      times.push_back(std::chrono::duration<double>(
                          std::chrono::steady_clock::now() - start)
                          .count());
    }
    std::sort(times.begin(), times.end());
    llvm::outs() << "  median " << llvm::format("%.3f", times[times.size() / 2] * 1e3)
                 << " ms over " << times.size() << " runs (min "
                 << llvm::format("%.3f", times.front() * 1e3) << " ms)\n";
  }
  if (profileLaunches) {
    prism::runtime::FunctionProfile profile;
    if (!prism::runtime::profileFunction(*bundle, entry.getName().str(), inputs,
                                         static_cast<int>(std::max(1u, repeat.getValue())),
                                         profile, error))
      return fail(error);
    llvm::outs() << prism::runtime::formatProfile(profile);
  }
  if (temporary)
    llvm::sys::fs::remove_directories(directory);
  if (status)
    llvm::errs() << "prism-run: error: an output differs from the reference "
                    "beyond its tolerance\n";
  return status;
}
