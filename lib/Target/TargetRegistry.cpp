//===- TargetRegistry.cpp - Backends by name ------------------------------===//

#include "prism/Target/TargetBackend.h"

#include "mlir/IR/DialectRegistry.h"
#include "llvm/ADT/StringMap.h"

#include <algorithm>
#include <mutex>

namespace prism {

TargetBackend::~TargetBackend() = default;

std::optional<TargetSpec> TargetSpec::parse(llvm::StringRef text) {
  auto [backend, chip] = text.split(':');
  if (backend.empty())
    return std::nullopt;
  return TargetSpec{backend.str(), chip.str()};
}

namespace {
struct Registry {
  std::mutex mutex;
  llvm::StringMap<std::unique_ptr<TargetBackend>> backends;
};
Registry &registry() {
  static Registry instance;
  return instance;
}
} // namespace

void registerTargetBackend(std::unique_ptr<TargetBackend> backend) {
  Registry &r = registry();
  std::lock_guard<std::mutex> lock(r.mutex);
  std::string name = backend->getName().str();
  r.backends.try_emplace(name, std::move(backend));
}

const TargetBackend *lookupTargetBackend(const TargetSpec &spec) {
  Registry &r = registry();
  std::lock_guard<std::mutex> lock(r.mutex);
  auto it = r.backends.find(spec.backend);
  if (it == r.backends.end() || !it->second->supportsChip(spec.chip))
    return nullptr;
  return it->second.get();
}

std::vector<std::string> registeredTargetNames() {
  Registry &r = registry();
  std::lock_guard<std::mutex> lock(r.mutex);
  std::vector<std::string> names;
  for (auto &entry : r.backends)
    names.push_back(entry.getKey().str());
  std::sort(names.begin(), names.end());
  return names;
}

} // namespace prism

void prism::registerTargetDialects(mlir::DialectRegistry &registry) {
  Registry &r = ::prism::registry();
  std::lock_guard<std::mutex> lock(r.mutex);
  for (auto &entry : r.backends)
    entry.getValue()->registerDialects(registry);
}
