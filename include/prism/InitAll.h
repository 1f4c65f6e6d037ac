//===- InitAll.h - Register every Prism dialect and pass --------*- C++ -*-===//
//
// The one place tools (prism-opt, prism-translate, prism-run) and the Python
// compiler module get their dialects and passes from, so that they all accept
// the same IR.
//
//===----------------------------------------------------------------------===//

#ifndef PRISM_INITALL_H
#define PRISM_INITALL_H

namespace mlir {
class DialectRegistry;
} // namespace mlir

namespace prism {

/// Adds the Prism dialects and the upstream dialects Prism IR uses.
void registerAllDialects(mlir::DialectRegistry &registry);

/// Registers the Prism passes and the upstream passes the Prism pipelines
/// use, so that they can be named on a command line.
void registerAllPasses();

} // namespace prism

#endif // PRISM_INITALL_H
