//===- PackKernelArguments.cpp - One entry-point signature per kernel -----===//

#include "targets/cpu/Passes.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/Builders.h"

namespace prism::cpu {
#define GEN_PASS_DEF_CPUPACKKERNELARGUMENTS
#include "targets/cpu/Passes.h.inc"
} // namespace prism::cpu

using namespace mlir;

namespace {

struct CpuPackKernelArgumentsPass
    : prism::cpu::impl::CpuPackKernelArgumentsBase<CpuPackKernelArgumentsPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    MLIRContext *context = &getContext();
    SmallVector<LLVM::LLVMFuncOp> kernels;
    module.walk([&](LLVM::LLVMFuncOp function) {
      if (function->hasAttr("prism.cpu_kernel") && !function.isExternal())
        kernels.push_back(function);
    });

    auto pointer = LLVM::LLVMPointerType::get(context);
    auto i64 = IntegerType::get(context, 64);
    OpBuilder builder(context);
    for (LLVM::LLVMFuncOp kernel : kernels) {
      LLVM::LLVMFunctionType type = kernel.getFunctionType();
      unsigned numParams = type.getNumParams();
      if (numParams < prism::cpu::kNumGridArguments) {
        kernel.emitError("lowered kernel lacks its grid arguments");
        return signalPassFailure();
      }
      unsigned numData = numParams - prism::cpu::kNumGridArguments;
      SmallVector<Type> params(1 + prism::cpu::kNumGridArguments, i64);
      params[0] = pointer;
      auto wrapperType = LLVM::LLVMFunctionType::get(
          LLVM::LLVMVoidType::get(context), params);

      builder.setInsertionPointToEnd(module.getBody());
      Location loc = kernel.getLoc();
      auto wrapper = LLVM::LLVMFuncOp::create(
          builder, loc,
          (prism::cpu::kKernelEntryPrefix + kernel.getName()).str(),
          wrapperType);
      Block *entry = wrapper.addEntryBlock(builder);
      builder.setInsertionPointToStart(entry);
      SmallVector<Value> arguments;
      for (unsigned i = 0; i < numData; ++i) {
        Value slot = LLVM::GEPOp::create(
            builder, loc, pointer, pointer, entry->getArgument(0),
            ArrayRef<LLVM::GEPArg>{static_cast<int32_t>(i)});
        Value address = LLVM::LoadOp::create(builder, loc, pointer, slot);
        arguments.push_back(
            LLVM::LoadOp::create(builder, loc, type.getParamType(i), address));
      }
      for (unsigned i = 0; i < prism::cpu::kNumGridArguments; ++i) {
        Value grid = entry->getArgument(1 + i);
        Type expected = type.getParamType(numData + i);
        if (expected != i64)
          grid = LLVM::TruncOp::create(builder, loc, expected, grid);
        arguments.push_back(grid);
      }
      LLVM::CallOp::create(builder, loc, kernel, arguments);
      LLVM::ReturnOp::create(builder, loc, ValueRange{});
      // Only the packed entry point is exported.
      kernel.setLinkage(LLVM::Linkage::Internal);
    }
  }
};

} // namespace
