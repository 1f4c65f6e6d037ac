//===- TensorMemoryAccess.cpp - TMA copies and mbarriers on sm_90a --------===//

#include "targets/nvidia/TensorMemoryAccess.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"

using namespace mlir;

namespace prism::nvidia {

namespace {

/// A byte address (index) as a pointer of `addressSpace` (3: shared).
Value pointerTo(OpBuilder &b, Location loc, Value address, unsigned addressSpace) {
  Value word = arith::IndexCastUIOp::create(b, loc, b.getI64Type(), address);
  return LLVM::IntToPtrOp::create(
      b, loc, LLVM::LLVMPointerType::get(b.getContext(), addressSpace), word);
}

Value shared(OpBuilder &b, Location loc, Value address) {
  return pointerTo(b, loc, address, 3);
}

Value i32Constant(OpBuilder &b, Location loc, int64_t value) {
  return arith::ConstantOp::create(b, loc, b.getI32Type(), b.getI32IntegerAttr(value));
}

} // namespace

void TensorMemoryAccess::initBarrier(OpBuilder &b, Location loc, Value barrier,
                                     int64_t arrivals) const {
  NVVM::MBarrierInitOp::create(b, loc, shared(b, loc, barrier), i32Constant(b, loc, arrivals),
                               /*predicate=*/Value());
}

void TensorMemoryAccess::invalidateBarrier(OpBuilder &b, Location loc, Value barrier) const {
  NVVM::MBarrierInvalOp::create(b, loc, shared(b, loc, barrier));
}

void TensorMemoryAccess::arriveExpectingBytes(OpBuilder &b, Location loc, Value barrier,
                                              int64_t bytes) const {
  NVVM::MBarrierArriveExpectTxOp::create(b, loc, /*res=*/Type(), shared(b, loc, barrier),
                                         i32Constant(b, loc, bytes),
                                         NVVM::MemScopeKindAttr::get(b.getContext(),
                                                                     NVVM::MemScopeKind::CTA),
                                         /*relaxed=*/b.getBoolAttr(false),
                                         /*predicate=*/Value());
}

void TensorMemoryAccess::copyBox(OpBuilder &b, Location loc, Value sharedAddress, Value map,
                                 ArrayRef<Value> coordinates, Value barrier) const {
  NVVM::CpAsyncBulkTensorGlobalToSharedClusterOp::create(
      // An address of this block's shared memory is also one in the
      // cluster's window (address space 7), which the instruction takes.
      b, loc, pointerTo(b, loc, sharedAddress, 7), pointerTo(b, loc, map, 0), coordinates,
      shared(b, loc, barrier), /*im2colOffsets=*/ValueRange(), /*multicastMask=*/Value(),
      /*l2CacheHint=*/Value(), NVVM::TMALoadModeAttr::get(b.getContext(), NVVM::TMALoadMode::TILE),
      /*isCTAOnly=*/b.getBoolAttr(false),
      /*group=*/nullptr, /*predicate=*/Value());
}

void TensorMemoryAccess::waitBarrier(OpBuilder &b, Location loc, Value barrier,
                                     Value parity) const {
  Value phase = arith::ExtUIOp::create(b, loc, b.getI32Type(), parity);
  // A suspend-time hint (ns) between the loop's tries.
  NVVM::MBarrierTryWaitParityOp::create(b, loc, shared(b, loc, barrier), phase,
                                        i32Constant(b, loc, 0x989680));
}

void TensorMemoryAccess::acquireMap(OpBuilder &b, Location loc, Value map) const {
  NVVM::FenceProxyAcquireOp::create(b, loc, NVVM::MemScopeKind::SYS, pointerTo(b, loc, map, 0),
                                    i32Constant(b, loc, gpu_lowering::kTensorMapBytes));
}

void TensorMemoryAccess::fenceBeforeCopies(OpBuilder &b, Location loc) const {
  NVVM::FenceProxyOp::create(b, loc, NVVM::ProxyKind::async_shared,
                             NVVM::SharedSpaceAttr::get(b.getContext(),
                                                        NVVM::SharedSpace::shared_cta));
}

void TensorMemoryAccess::arrive(OpBuilder &b, Location loc, Value barrier) const {
  // (The state it returns, the phase before, goes unused.)
  NVVM::MBarrierArriveOp::create(b, loc, TypeRange{b.getI64Type()}, shared(b, loc, barrier),
                                 /*count=*/Value());
}

void TensorMemoryAccess::syncWarp(OpBuilder &b, Location loc) const {
  NVVM::SyncWarpOp::create(b, loc, i32Constant(b, loc, -1));
}

void TensorMemoryAccess::syncThreads(OpBuilder &b, Location loc, int64_t id,
                                     int64_t threads) const {
  NVVM::BarrierOp::create(b, loc, TypeRange{}, i32Constant(b, loc, id),
                          i32Constant(b, loc, threads), /*reductionOp=*/nullptr,
                          /*reductionPredicate=*/Value());
}

void TensorMemoryAccess::setRegisters(OpBuilder &b, Location loc, int64_t count,
                                      bool increase) const {
  // ptxas honours setmaxnreg only with the registers at the kernel's entry
  // known (else C7508, "setmaxnreg ignored; unable to determine register
  // count at entry"): its threads (.maxntid) and one block per
  // multiprocessor (.minnctapersm 1), as CUDA's __launch_bounds__(T, 1).
  auto kernel = b.getInsertionBlock()->getParentOp()->getParentOfType<gpu::GPUFuncOp>();
  if (kernel)
    kernel->setAttr(NVVM::NVVMDialect::getMinctasmAttrName(), b.getI32IntegerAttr(1));
  NVVM::SetMaxRegisterOp::create(b, loc, static_cast<uint32_t>(count),
                                 increase ? NVVM::SetMaxRegisterAction::increase
                                          : NVVM::SetMaxRegisterAction::decrease);
}

} // namespace prism::nvidia
