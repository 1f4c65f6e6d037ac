//===- CompilerModule.cpp - prism._compiler: IR to bundles ----------------===//
//
// The compiler half of the Python package (links MLIR): parses and verifies
// prism IR and compiles it to a bundle for a target. Errors carry MLIR's
// diagnostics (location and message).
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"
#include "prism/Compiler/Compiler.h"
#include "prism/InitAll.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/Config/llvm-config.h"

#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

namespace py = pybind11;
using namespace mlir;

namespace {

PyObject *prismError = nullptr;

[[noreturn]] void raise(const std::string &message) {
  PyErr_SetString(prismError, message.c_str());
  throw py::error_already_set();
}

/// One context per process, with every Prism dialect, pass and target.
MLIRContext &context() {
  static MLIRContext *instance = [] {
    prism::registerAllPasses();
    DialectRegistry registry;
    prism::registerAllDialects(registry);
    auto *c = new MLIRContext(registry);
    c->loadAllAvailableDialects();
    return c;
  }();
  return *instance;
}

/// Parses and verifies `text`; the diagnostics become the exception.
OwningOpRef<ModuleOp> parse(const std::string &text) {
  std::string diagnostics;
  ScopedDiagnosticHandler handler(&context(), [&](Diagnostic &d) {
    llvm::raw_string_ostream os(diagnostics);
    os << d.getLocation() << ": " << d << "\n";
    return success();
  });
  OwningOpRef<ModuleOp> module =
      parseSourceString<ModuleOp>(text, ParserConfig(&context()));
  if (!module)
    raise("the IR does not parse or verify:\n" + diagnostics);
  return module;
}

std::string verify(const std::string &text) {
  OwningOpRef<ModuleOp> module = parse(text);
  std::string printed;
  llvm::raw_string_ostream os(printed);
  module->print(os);
  return printed;
}

/// The result types of the one op in the body of `text`'s first function
/// (the graph builder's type inference: the op's own inferReturnTypes and
/// verifier run, so a wrong shape or dtype fails here, at the op).
std::vector<std::string> resultTypes(const std::string &text) {
  OwningOpRef<ModuleOp> module = parse(text);
  func::FuncOp function;
  for (func::FuncOp f : module->getOps<func::FuncOp>()) {
    function = f;
    break;
  }
  if (!function || function.isExternal() || function.getBody().front().empty())
    raise("result_types expects a function whose body starts with the op");
  Operation &op = function.getBody().front().front();
  std::vector<std::string> types;
  for (Type type : op.getResultTypes()) {
    std::string printed;
    llvm::raw_string_ostream os(printed);
    type.print(os);
    types.push_back(printed);
  }
  return types;
}

/// What a compiled bundle depends on besides the IR, for cache keys: the
/// target's kernelization options and lowering pipeline, and the versions.
py::dict describeTarget(const std::string &targetString) {
  context(); // registers the targets
  std::optional<prism::TargetSpec> spec = prism::TargetSpec::parse(targetString);
  const prism::TargetBackend *backend =
      spec ? prism::lookupTargetBackend(*spec) : nullptr;
  if (!backend)
    raise("unknown or unsupported target '" + targetString + "'");
  PassManager pm(&context());
  backend->buildTileLoweringPipeline(pm, *spec);
  std::string pipeline;
  llvm::raw_string_ostream os(pipeline);
  pm.printAsTextualPipeline(os);
  py::dict d;
  d["target"] = spec->str();
  d["kernelize"] = backend->getKernelizeOptions(*spec);
  d["pipeline"] = pipeline;
  // The optimization pipeline (prism-optimize), applied when compile()
  // is asked to optimize.
  {
    OpPassManager optimize(ModuleOp::getOperationName());
    prism::buildOptimizationPipeline(optimize);
    std::string text;
    llvm::raw_string_ostream ts(text);
    optimize.printAsTextualPipeline(ts);
    d["optimize"] = text;
  }
  d["llvm"] = LLVM_VERSION_STRING;
  return d;
}

size_t compile(const std::string &text, const std::string &target,
               const std::string &directory, const std::string &entry,
               bool optimize) {
  OwningOpRef<ModuleOp> module = parse(text);
  if (!entry.empty()) {
    auto function = module->lookupSymbol<func::FuncOp>(entry);
    if (!function)
      raise("no function '" + entry + "' in the module");
    SmallVector<func::FuncOp> others;
    for (auto f : module->getOps<func::FuncOp>())
      if (f != function && !f.isExternal())
        others.push_back(f);
    for (auto f : others)
      f.erase();
  }
  prism::CompileOptions options;
  options.optimize = optimize;
  llvm::Expected<prism::CompileResult> result = [&] {
    py::gil_scoped_release release;
    return prism::compileToBundle(*module, target, directory, options);
  }();
  if (!result)
    raise(llvm::toString(result.takeError()));
  return result->numKernels;
}

} // namespace

PYBIND11_MODULE(_compiler, m) {
  m.doc() = "Prism compiler: prism IR to artifact bundles";
  // The same exception type as the runtime module's.
  prismError = py::module_::import("prism._runtime").attr("PrismError").ptr();
  m.def("verify", &verify, py::arg("text"),
        "Parses and verifies prism IR; returns it printed.");
  m.def("result_types", &resultTypes, py::arg("text"),
        "The result types of the first op of the first function in `text` "
        "(after parsing and verifying it).");
  m.def("describe_target", &describeTarget, py::arg("target"),
        "The kernelization options, lowering pipeline and LLVM version a "
        "bundle for `target` depends on.");
  m.def("compile", &compile, py::arg("text"), py::arg("target"),
        py::arg("directory"), py::arg("entry") = "", py::arg("optimize") = true,
        "Compiles the functions of prism ops in `text` (or only `entry`) for "
        "`target` into a bundle in `directory` (after prism-optimize unless "
        "`optimize` is false); returns the kernel launches per run at most (a "
        "choice by a dynamic size counts as its longest alternative).");
}
