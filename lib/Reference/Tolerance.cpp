//===- Tolerance.cpp - Per-dtype tolerances, declared once ----------------===//

#include "prism/Reference/Tolerance.h"

#include "llvm/ADT/StringSwitch.h"

namespace prism::reference {

std::optional<double> relativeL2Tolerance(llvm::StringRef dtype) {
  double tolerance = llvm::StringSwitch<double>(dtype)
                         .Case("f32", 1e-5)
                         .Case("tf32", 5e-4)
                         .Case("f16", 1e-2)
                         .Case("bf16", 1e-2)
                         // 3-bit significand: unit roundoff 2^-4.
                         .Case("f8E4M3FN", 7e-2)
                         .Case("i8", 1e-2)
                         .Default(-1.0);
  if (tolerance < 0.0)
    return std::nullopt;
  return tolerance;
}

} // namespace prism::reference
