//===- Interpreter.h - Evaluate a prism function in float64 -----*- C++ -*-===//

#ifndef PRISM_REFERENCE_INTERPRETER_H
#define PRISM_REFERENCE_INTERPRETER_H

#include "prism/Reference/ReferenceTensor.h"
#include "prism/Runtime/Bundle.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/Support/Error.h"

namespace prism::reference {

/// Evaluates a function of prism ops on `inputs` with the float64 reference
/// of every op (ReferenceOps.h); dynamic sizes come from the inputs.
llvm::Expected<std::vector<Tensor>> evaluateFunction(mlir::func::FuncOp function,
                                                     llvm::ArrayRef<Tensor> inputs);

/// The values of a host tensor, exactly, as doubles.
llvm::Expected<Tensor> fromHost(const runtime::HostTensor &tensor);
/// A host tensor of `dtype` holding `tensor` rounded with prism.cast's rules.
llvm::Expected<runtime::HostTensor> toHost(const Tensor &tensor,
                                           const std::string &dtype);

} // namespace prism::reference

#endif // PRISM_REFERENCE_INTERPRETER_H
