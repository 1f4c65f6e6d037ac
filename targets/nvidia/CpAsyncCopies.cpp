//===- CpAsyncCopies.cpp - Asynchronous global-to-shared copies on NVIDIA -===//

#include "targets/nvidia/CpAsyncCopies.h"
#include "targets/nvidia/WarpgroupMma.h"

#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/NVGPU/IR/NVGPUDialect.h"

using namespace mlir;

namespace prism::nvidia {

void CpAsyncCopies::copy(OpBuilder &b, Location loc, Value shared, Value sharedIndex,
                         Value global, Value globalIndex, int64_t elements,
                         Value validElements) const {
  nvgpu::DeviceAsyncCopyOp::create(b, loc, shared, ValueRange{sharedIndex}, global,
                                   ValueRange{globalIndex}, b.getIndexAttr(elements),
                                   validElements, b.getUnitAttr());
}

void CpAsyncCopies::commit(OpBuilder &b, Location loc) const {
  NVVM::CpAsyncCommitGroupOp::create(b, loc);
}

void CpAsyncCopies::wait(OpBuilder &b, Location loc, int64_t pendingGroups) const {
  NVVM::CpAsyncWaitGroupOp::create(b, loc, static_cast<uint32_t>(pendingGroups));
}

void CpAsyncCopies::fenceForMatrixCores(OpBuilder &b, Location loc) const {
  fenceSharedMemoryForAsyncProxy(b, loc);
}

} // namespace prism::nvidia
