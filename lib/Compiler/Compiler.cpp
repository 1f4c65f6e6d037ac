//===- Compiler.cpp - From prism IR to an artifact bundle -----------------===//

#include "prism/Compiler/Compiler.h"

#include "passes/Passes.h"
#include "dialects/Tile/IR/TileDialect.h"
#include "prism/Runtime/Bundle.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Config/llvm-config.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/SHA256.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;

namespace prism {

std::string dtypeName(Type type) {
  std::string name;
  llvm::raw_string_ostream os(name);
  type.print(os);
  return name;
}

static llvm::Error fail(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

/// Runs `pm` on `module`, collecting its diagnostics into the error.
static llvm::Error runCollectingDiagnostics(PassManager &pm, ModuleOp module,
                                            llvm::StringRef step) {
  std::string diagnostics;
  ScopedDiagnosticHandler handler(module.getContext(), [&](Diagnostic &diag) {
    llvm::raw_string_ostream os(diagnostics);
    os << "\n  " << diag.getLocation() << ": " << diag.str();
    return success();
  });
  if (failed(pm.run(module)))
    return fail(step + " failed:" + diagnostics);
  return llvm::Error::success();
}

static runtime::DimExpr dimFromAttr(DenseI64ArrayAttr attr) {
  ArrayRef<int64_t> flat = attr.asArrayRef();
  runtime::DimExpr d;
  d.constant = flat[0];
  d.divisor = flat[1];
  for (size_t i = 2; i + 1 < flat.size(); i += 2)
    d.factors.emplace_back(flat[i], flat[i + 1]);
  return d;
}

static std::vector<runtime::DimExpr> shapeFromAttr(ArrayAttr attr) {
  std::vector<runtime::DimExpr> shape;
  for (Attribute a : attr)
    shape.push_back(dimFromAttr(cast<DenseI64ArrayAttr>(a)));
  return shape;
}

static runtime::TensorSignature signatureOf(Type type) {
  auto tensor = cast<RankedTensorType>(type);
  runtime::TensorSignature s;
  s.dtype = dtypeName(tensor.getElementType());
  for (int64_t d : tensor.getShape())
    s.shape.push_back(ShapedType::isDynamic(d) ? -1 : d);
  return s;
}

/// Reads the prism.plan attribute kernelization left on `function`.
static runtime::FunctionPlan planOf(func::FuncOp function) {
  auto plan = function->getAttrOfType<DictionaryAttr>(kPlanAttrName);
  runtime::FunctionPlan f;
  f.name = function.getName().str();
  for (Type t : function.getArgumentTypes())
    f.inputs.push_back(signatureOf(t));
  for (Type t : function.getResultTypes())
    f.outputs.push_back(signatureOf(t));
  for (Attribute a : plan.getAs<ArrayAttr>("buffers")) {
    auto b = cast<DictionaryAttr>(a);
    runtime::BufferPlan buffer;
    buffer.kind = b.getAs<StringAttr>("kind").str();
    buffer.dtype = dtypeName(b.getAs<TypeAttr>("dtype").getValue());
    buffer.shape = shapeFromAttr(b.getAs<ArrayAttr>("shape"));
    if (auto unit = b.getAs<BoolAttr>("unit_innermost"))
      buffer.unitInnermost = unit.getValue();
    if (auto index = b.getAs<IntegerAttr>("index"))
      buffer.index = index.getInt();
    if (auto source = b.getAs<IntegerAttr>("source"))
      buffer.source = source.getInt();
    if (auto view = b.getAs<StringAttr>("view"))
      buffer.view = view.str();
    if (auto permutation = b.getAs<DenseI64ArrayAttr>("permutation"))
      buffer.permutation.assign(permutation.asArrayRef().begin(),
                                permutation.asArrayRef().end());
    f.buffers.push_back(std::move(buffer));
  }
  if (auto checks = plan.getAs<ArrayAttr>("checks"))
    for (Attribute a : checks) {
      auto c = cast<DictionaryAttr>(a);
      runtime::ShapeCheck check;
      check.kind = c.getAs<StringAttr>("kind").str();
      check.lhs = dimFromAttr(c.getAs<DenseI64ArrayAttr>("lhs"));
      check.rhs = dimFromAttr(c.getAs<DenseI64ArrayAttr>("rhs"));
      check.what = c.getAs<StringAttr>("what").str();
      f.checks.push_back(std::move(check));
    }
  for (Attribute a : plan.getAs<ArrayAttr>("launches")) {
    auto l = cast<DictionaryAttr>(a);
    runtime::LaunchPlan launch;
    launch.kernel =
        l.getAs<SymbolRefAttr>("kernel").getRootReference().str();
    auto grid = l.getAs<ArrayAttr>("grid");
    for (int axis = 0; axis < 3; ++axis) {
      auto g = cast<DictionaryAttr>(grid[axis]);
      launch.grid[axis].product = shapeFromAttr(g.getAs<ArrayAttr>("product"));
      launch.grid[axis].tile = g.getAs<IntegerAttr>("tile").getInt();
      if (auto outer = g.getAs<ArrayAttr>("outer"))
        launch.grid[axis].outer = shapeFromAttr(outer);
    }
    auto args = l.getAs<DenseI64ArrayAttr>("args").asArrayRef();
    launch.args.assign(args.begin(), args.end());
    if (auto when = l.getAs<DictionaryAttr>("when")) {
      runtime::LaunchCondition condition;
      condition.group = when.getAs<IntegerAttr>("group").getInt();
      condition.size = dimFromAttr(when.getAs<DenseI64ArrayAttr>("size"));
      condition.min = when.getAs<IntegerAttr>("min").getInt();
      if (auto max = when.getAs<IntegerAttr>("max")) // absent: no bound
        condition.max = max.getInt();
      launch.when = std::move(condition);
    }
    f.launches.push_back(std::move(launch));
  }
  auto outputs = plan.getAs<DenseI64ArrayAttr>("outputs").asArrayRef();
  f.outputBuffers.assign(outputs.begin(), outputs.end());
  return f;
}

/// "key=value" options `defaults` with the keys of `overrides` replaced
/// (or added), in their order.
static std::string withOverrides(llvm::StringRef defaults, llvm::StringRef overrides) {
  llvm::SmallVector<std::pair<std::string, std::string>> entries;
  auto set = [&](llvm::StringRef key, llvm::StringRef value) {
    auto it = llvm::find_if(entries, [&](const auto &e) { return e.first == key; });
    if (it != entries.end())
      it->second = value.str();
    else
      entries.push_back({key.str(), value.str()});
  };
  auto words = [](llvm::StringRef text) {
    llvm::SmallVector<llvm::StringRef> result;
    text.split(result, ' ', -1, /*KeepEmpty=*/false);
    return result;
  };
  for (llvm::StringRef word : words(defaults)) {
    auto [key, value] = word.split('=');
    set(key, value);
  }
  // A tile size given for every matmul or attention kernel ("matmul-m=64")
  // applies to bf16/f16 products too: it replaces the target's matrix-core
  // size unless the overrides give that one as well.
  llvm::SmallVector<llvm::StringRef> given = words(overrides);
  auto isGiven = [&](llvm::StringRef key) {
    return llvm::any_of(given, [&](llvm::StringRef w) { return w.split('=').first == key; });
  };
  for (llvm::StringRef word : given) {
    auto [key, value] = word.split('=');
    set(key, value);
    if (key.starts_with("matmul-") || key.starts_with("attention-")) {
      std::string matrixCore = ("matrix-core-" + key).str();
      if (!isGiven(matrixCore) &&
          llvm::any_of(entries, [&](const auto &e) { return e.first == matrixCore; }))
        set(matrixCore, "0");
    }
  }
  std::string merged;
  for (const auto &[key, value] : entries)
    merged += (merged.empty() ? "" : " ") + key + "=" + value;
  return merged;
}

llvm::Expected<CompileResult> compileToBundle(ModuleOp source,
                                              llvm::StringRef targetString,
                                              llvm::StringRef directory,
                                              const CompileOptions &options) {
  std::optional<TargetSpec> spec = TargetSpec::parse(targetString);
  const TargetBackend *backend = spec ? lookupTargetBackend(*spec) : nullptr;
  if (!backend) {
    std::string known;
    for (const std::string &name : registeredTargetNames())
      known += (known.empty() ? "" : ", ") + name;
    return fail("unknown or unsupported target '" + targetString +
                "'; this build has: " + known);
  }

  // The content hash covers the source IR and the whole pipeline.
  std::string sourceText;
  {
    llvm::raw_string_ostream os(sourceText);
    source.print(os);
  }
  std::string kernelize =
      (options.optimize ? "prism-optimize," : "") +
      ("prism-kernelize{" +
       withOverrides(backend->getKernelizeOptions(*spec), options.tileSizes) + "}");
  OwningOpRef<ModuleOp> module(cast<ModuleOp>(source->clone()));
  PassManager kernelizePm(module->getContext());
  std::string pipelineError;
  llvm::raw_string_ostream pipelineErrorStream(pipelineError);
  if (failed(parsePassPipeline(kernelize, kernelizePm, pipelineErrorStream)))
    return fail("bad kernelize options: " + pipelineError);
  if (llvm::Error error =
          runCollectingDiagnostics(kernelizePm, *module,
                                   options.optimize ? "optimization and kernelization"
                                                    : "kernelization"))
    return std::move(error);

  runtime::Manifest manifest;
  manifest.target = spec->str();
  SmallVector<func::FuncOp> graphs;
  for (auto function : module->getOps<func::FuncOp>())
    if (function->hasAttr(kPlanAttrName))
      graphs.push_back(function);
  if (graphs.empty())
    return fail("the module has no function of prism ops to compile");
  for (func::FuncOp graph : graphs) {
    manifest.functions.push_back(planOf(graph));
    graph.erase(); // kernels only from here on
  }
  // Each kernel's buffers, by rank, for the runtime's launch checks.
  for (auto kernel : module->getOps<func::FuncOp>()) {
    if (!kernel->hasAttr(tile::TileDialect::getKernelAttrName()))
      continue;
    std::vector<int64_t> &ranks = manifest.kernelArguments[kernel.getName().str()];
    for (Type type : kernel.getArgumentTypes())
      ranks.push_back(isa<MemRefType>(type) ? cast<MemRefType>(type).getRank() : 0);
  }

  PassManager lowering(module->getContext());
  backend->buildTileLoweringPipeline(lowering, *spec);
  std::string loweringText;
  {
    llvm::raw_string_ostream os(loweringText);
    lowering.printAsTextualPipeline(os);
  }
  if (llvm::Error error = runCollectingDiagnostics(
          lowering, *module, "lowering for " + spec->str()))
    return std::move(error);

  if (std::error_code ec = llvm::sys::fs::create_directories(directory))
    return fail("cannot create bundle directory " + directory + ": " +
                ec.message());
  // Backends that emit source report what they cannot express as
  // diagnostics: they become part of the error.
  std::string binaryDiagnostics;
  llvm::Expected<std::string> library = [&] {
    ScopedDiagnosticHandler handler(module->getContext(), [&](Diagnostic &diag) {
      llvm::raw_string_ostream os(binaryDiagnostics);
      os << "\n  " << diag.getLocation() << ": " << diag.str();
      return success();
    });
    return backend->writeBinaries(*module, *spec, directory);
  }();
  if (!library)
    return fail(llvm::toString(library.takeError()) + binaryDiagnostics);
  manifest.library = *library;
  {
    uint64_t bytes = 0;
    if (std::error_code ec =
            llvm::sys::fs::file_size(llvm::Twine(directory) + "/" + *library, bytes))
      return fail("cannot read the kernels the backend wrote (" + *library + "): " +
                  ec.message());
    manifest.libraryBytes = static_cast<int64_t>(bytes);
  }
  // GPU backends record each kernel's launch configuration on the module.
  if (auto configs = (*module)->getAttrOfType<DictionaryAttr>(
          "prism.kernel_configs")) {
    for (NamedAttribute entry : configs) {
      auto config = cast<DictionaryAttr>(entry.getValue());
      runtime::KernelConfig k;
      k.threads = config.getAs<IntegerAttr>("threads").getInt();
      k.sharedBytes = config.getAs<IntegerAttr>("shared_bytes").getInt();
      if (auto stages = config.getAs<IntegerAttr>("stages"))
        k.stages = stages.getInt();
      k.dynamicShared = config.contains("dynamic_shared");
      if (auto maps = config.getAs<ArrayAttr>("tensor_maps"))
        for (auto map : maps.getAsRange<DictionaryAttr>()) {
          runtime::TensorMapSpec spec;
          spec.argument = map.getAs<IntegerAttr>("argument").getInt();
          spec.elementBytes = map.getAs<IntegerAttr>("element_bytes").getInt();
          for (auto d : map.getAs<ArrayAttr>("box").getAsRange<IntegerAttr>())
            spec.box.push_back(d.getInt());
          spec.swizzleBytes = map.getAs<IntegerAttr>("swizzle_bytes").getInt();
          k.tensorMaps.push_back(spec);
        }
      manifest.kernels[entry.getName().str()] = k;
    }
  }
  manifest.pipeline = kernelize + " | " + loweringText;
  llvm::SHA256 hash;
  hash.update(sourceText);
  hash.update(manifest.pipeline);
  hash.update(manifest.target);
  manifest.sourceHash = llvm::toHex(hash.final(), /*LowerCase=*/true);
  manifest.toolchain.set("prism", PRISM_VERSION_STRING);
  manifest.toolchain.set("llvm", LLVM_VERSION_STRING);

  llvm::SmallString<256> manifestPath(directory);
  llvm::sys::path::append(manifestPath, "manifest.json");
  std::error_code ec;
  llvm::raw_fd_ostream out(manifestPath, ec);
  if (ec)
    return fail("cannot write " + manifestPath + ": " + ec.message());
  out << manifest.toJson().dump() << "\n";

  CompileResult result;
  result.bundleDirectory = directory.str();
  // A group of alternatives (LaunchCondition) counts as its longest
  // alternative.
  for (const auto &f : manifest.functions) {
    for (const runtime::LaunchPlan &launch : f.launches)
      result.numKernels += launch.when ? 0 : 1;
    for (const runtime::LaunchChoice &choice : runtime::launchChoices(f)) {
      size_t longest = 0;
      for (const runtime::LaunchAlternative &alternative : choice.alternatives)
        longest = std::max(longest, alternative.launches.size());
      result.numKernels += longest;
      ++result.numSizeChoices;
    }
  }
  return result;
}

} // namespace prism
