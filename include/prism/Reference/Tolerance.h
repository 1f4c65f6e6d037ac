//===- Tolerance.h - Per-dtype tolerances, declared once --------*- C++ -*-===//
//
// Every comparison of a Prism result with the float64 reference (prism-run
// --check, the tests, the Python package) uses these numbers and no others.
//
//===----------------------------------------------------------------------===//

#ifndef PRISM_REFERENCE_TOLERANCE_H
#define PRISM_REFERENCE_TOLERANCE_H

#include "llvm/ADT/StringRef.h"

#include <optional>

namespace prism::reference {

/// Maximum relative L2 error of a result of element type `dtype` ("f32",
/// "f16", "bf16", "f8E4M3FN", "i8", "tf32") against the float64 reference,
/// or std::nullopt for an unknown dtype.
///
/// The values allow for the rounding of every intermediate result a kernel
/// keeps in the dtype (e.g. the bf16 output of a projection fed to the next
/// matmul) through a whole decoder block: bf16 has an 8-bit significand
/// (unit roundoff 2^-9 ~ 2e-3), f16 11 bits (2^-12 ~ 2.4e-4).
std::optional<double> relativeL2Tolerance(llvm::StringRef dtype);

} // namespace prism::reference

#endif // PRISM_REFERENCE_TOLERANCE_H
