//===- EmulateGpuKernelsOnCpu.cpp - GPU kernels as host functions ---------===//
//
// Turns the gpu.func kernels of a GPU backend's lowering (before the
// vendor's own conversion to NVVM or ROCDL) into host functions that the
// CPU backend compiles, so that the exact kernels a GPU would run (their
// layout, exchanges through shared memory, barriers and matrix
// instructions) run on the CPU, every thread a host thread. What hardware
// provides is read from or called through the thread's context
// (EmulatorAbi.h). The result has the CPU backend's kernel signature (the
// buffers, then the shared-memory workspace, the context and the six grid
// arguments), so the rest of the CPU pipeline packs it like any CPU kernel.
//
//===----------------------------------------------------------------------===//

#include "targets/gpu-emulator/EmulatorAbi.h"
#include "targets/gpu-emulator/Passes.h"

#include "mlir/Dialect/AMDGPU/IR/AMDGPUDialect.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/NVGPU/IR/NVGPUDialect.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/Matchers.h"

#include "llvm/Support/Regex.h"

namespace prism::gpu_emulator {
#define GEN_PASS_DEF_EMULATEGPUKERNELSONCPU
#include "targets/gpu-emulator/Passes.h.inc"
} // namespace prism::gpu_emulator

using namespace mlir;
using namespace prism::gpu_emulator;

namespace {

/// The same type without a memory space (workgroup memory is host memory).
Type withoutMemorySpace(Type type) {
  auto memref = dyn_cast<MemRefType>(type);
  if (!memref || !memref.getMemorySpace())
    return type;
  return MemRefType::get(memref.getShape(), memref.getElementType(),
                         memref.getLayout());
}

/// Number of grid arguments of a CPU kernel: program id x, y, z, then the
/// number of programs x, y, z (targets/cpu/Passes.h).
constexpr unsigned kGridArguments = 6;

class KernelEmulation {
public:
  KernelEmulation(gpu::GPUFuncOp kernel, ModuleOp module)
      : kernel(kernel), module(module), context(kernel.getContext()),
        pointer(LLVM::LLVMPointerType::get(context)),
        i64(IntegerType::get(context, 64)), i32(IntegerType::get(context, 32)) {}

  LogicalResult run();

private:
  Value load(OpBuilder &b, Location loc, Type type, int64_t byteOffset);
  LogicalResult emulateMma(NVVM::MmaOp mma);
  LogicalResult emulateLdmatrix(nvgpu::LdMatrixOp load);
  LogicalResult emulateShuffle(gpu::ShuffleOp shuffle);
  LogicalResult emulateAsyncCopy(nvgpu::DeviceAsyncCopyOp copy);
  LogicalResult emulateWgmma(NVVM::WgmmaMmaAsyncOp wgmma);
  LogicalResult emulateInlinePtx(LLVM::InlineAsmOp inlinePtx);
  /// The accumulator part of both wgmma forms: this lane's D registers `d`
  /// to the fragment buffer from word `firstWord` (no `d`: scale-d 0, D =
  /// A B, the registers unread and zeros in their place), the
  /// instruction, and the new D back as `accumulator` (which replaces
  /// `op`'s result).
  void callWgmma(Operation *op, OpBuilder &b, ValueRange d, int64_t firstWord,
                 LLVM::LLVMStructType accumulator, int64_t instruction);
  /// Calls the context's tensor-copy function; `pointers` are LLVM
  /// pointers (any address space), `values` i64 (coordinates i32).
  void callTensorCopy(OpBuilder &b, Location loc, int64_t operation, Value barrier,
                      Value shared, Value map, Value value, ValueRange coordinates);
  /// Calls the context's asynchronous-copy function.
  void callAsyncCopy(OpBuilder &b, Location loc, int64_t operation, Value shared,
                     Value global, Value bytes, Value sourceBytes);
  /// The host address (i64) of element `indices` of `memref`.
  Value addressOf(OpBuilder &b, Location loc, Value memref, ValueRange indices);
  /// amdgpu.mfma / amdgpu.wmma 16x16x16: operands and C to the fragment
  /// buffer as words, D back.
  LogicalResult emulateAmdMatrix(Operation *op, Value a, Value b, Value c,
                                 Value result, bool wmma);
  /// Stores `value` (a vector of 16-bit or 32-bit elements) as 32-bit words
  /// from `word`; returns the next word.
  int64_t storeWords(OpBuilder &b, Location loc, Value value, int64_t word);
  /// The address of 32-bit word `word` of the fragment buffer.
  Value fragmentWord(OpBuilder &b, Location loc, int64_t word);
  /// Calls the context's matrix function on the fragment buffer.
  void callMatrix(OpBuilder &b, Location loc, int64_t instruction);
  /// Calls the context's barrier function: barrier `id` of `threads`
  /// threads (0: all), numbered `site` in the kernel, waited at or (with
  /// `arriveOnly`) arrived at.
  void callBarrier(OpBuilder &b, Location loc, int64_t site, int64_t id, int64_t threads,
                   bool arriveOnly);
  LogicalResult emulateTiedRegisters(LLVM::InlineAsmOp inlinePtx);

  gpu::GPUFuncOp kernel;
  ModuleOp module;
  MLIRContext *context;
  Type pointer, i64, i32;
  func::FuncOp function;
  Value threadContext;
  SmallVector<Value> grid;
  Value fragments; // a stack buffer for matrix-instruction registers
};

/// A field of the thread context, loaded at the current position.
Value KernelEmulation::load(OpBuilder &b, Location loc, Type type,
                            int64_t byteOffset) {
  Value address = threadContext;
  if (byteOffset)
    address = LLVM::GEPOp::create(b, loc, pointer, IntegerType::get(context, 8),
                                  threadContext,
                                  ArrayRef<LLVM::GEPArg>{static_cast<int32_t>(byteOffset)});
  return LLVM::LoadOp::create(b, loc, type, address);
}

LogicalResult KernelEmulation::run() {
  Location loc = kernel.getLoc();
  if (kernel.getNumPrivateAttributions() != 0)
    return kernel.emitError("cannot emulate a kernel with private memory "
                            "attributions");
  if (kernel.getNumWorkgroupAttributions() > 1)
    return kernel.emitError("cannot emulate a kernel with more than one "
                            "shared-memory buffer");
  std::optional<ArrayRef<int32_t>> blockSize = kernel.getKnownBlockSize();
  if (!blockSize || (*blockSize)[1] != 1 || (*blockSize)[2] != 1)
    return kernel.emitError("cannot emulate a kernel without a known "
                            "one-dimensional block size");
  int64_t threads = (*blockSize)[0];

  // The CPU signature: buffers, workspace, context, grid.
  Block &entry = kernel.getBody().front();
  SmallVector<Type> inputs;
  for (BlockArgument argument : entry.getArguments())
    inputs.push_back(withoutMemorySpace(argument.getType()));
  if (kernel.getNumWorkgroupAttributions() == 0)
    inputs.push_back(MemRefType::get({0}, IntegerType::get(context, 8)));
  inputs.push_back(pointer);
  IndexType index = IndexType::get(context);
  inputs.append(kGridArguments, index);

  OpBuilder b(context);
  b.setInsertionPointToEnd(module.getBody());
  function = func::FuncOp::create(b, loc, kernel.getName(),
                                  FunctionType::get(context, inputs, {}));
  function->setAttr("prism.cpu_kernel", UnitAttr::get(context));
  function.getBody().takeBody(kernel.getBody());
  Block &body = function.front();
  for (BlockArgument argument : body.getArguments())
    argument.setType(withoutMemorySpace(argument.getType()));
  if (kernel.getNumWorkgroupAttributions() == 0)
    body.addArgument(inputs[body.getNumArguments()], loc);
  threadContext = body.addArgument(pointer, loc);
  for (unsigned i = 0; i < kGridArguments; ++i)
    grid.push_back(body.addArgument(index, loc));

  // Memory spaces go everywhere in the body.
  function.walk([&](Operation *op) {
    for (Value result : op->getResults())
      result.setType(withoutMemorySpace(result.getType()));
    for (Region &region : op->getRegions())
      for (Block &block : region)
        for (BlockArgument argument : block.getArguments())
          argument.setType(withoutMemorySpace(argument.getType()));
  });

  b.setInsertionPointToStart(&body);
  Value threadId = arith::IndexCastOp::create(
      b, loc, index, load(b, loc, i64, kThreadIdOffset));
  Value zero = arith::ConstantIndexOp::create(b, loc, 0);
  Value blockDim = arith::ConstantIndexOp::create(b, loc, threads);
  fragments = LLVM::AllocaOp::create(
      b, loc, pointer, i32,
      LLVM::ConstantOp::create(b, loc, i64, b.getI64IntegerAttr(kFragmentWords)),
      /*alignment=*/16);

  // Vector accesses with an alignment (16-byte ld.v4 / st.v4 on a GPU):
  // the runtime reports a misaligned address, where a GPU would fault and
  // the CPU would not notice.
  struct AlignedAccess {
    Operation *op;
    Value memref;
    ValueRange indices;
    uint64_t alignment;
  };
  SmallVector<AlignedAccess> alignedAccesses;
  function.walk([&](Operation *op) {
    if (auto load = dyn_cast<vector::LoadOp>(op))
      alignedAccesses.push_back(
          {op, load.getBase(), load.getIndices(), load.getAlignment().value_or(1)});
    else if (auto store = dyn_cast<vector::StoreOp>(op))
      alignedAccesses.push_back(
          {op, store.getBase(), store.getIndices(), store.getAlignment().value_or(1)});
  });
  for (const AlignedAccess &access : alignedAccesses) {
    if (access.alignment <= 1)
      continue;
    if (access.alignment > 16 || !llvm::isPowerOf2_64(access.alignment))
      return access.op->emitError("the GPU emulator checks vector accesses aligned to 2 "
                                  "to 16 bytes only");
    Location opLoc = access.op->getLoc();
    b.setInsertionPoint(access.op);
    LLVM::StoreOp::create(b, opLoc, addressOf(b, opLoc, access.memref, access.indices),
                          fragments);
    callMatrix(b, opLoc, kVectorAccess + llvm::Log2_64(access.alignment));
  }

  SmallVector<Operation *> hardware;
  function.walk([&](Operation *op) {
    if (isa<gpu::GPUDialect, NVVM::NVVMDialect, nvgpu::NVGPUDialect,
            amdgpu::AMDGPUDialect>(op->getDialect()) ||
        isa<LLVM::InlineAsmOp>(op))
      hardware.push_back(op);
  });
  int64_t barrierSite = 0;
  for (Operation *op : hardware) {
    b.setInsertionPoint(op);
    Location opLoc = op->getLoc();
    if (auto id = dyn_cast<gpu::ThreadIdOp>(op)) {
      id.replaceAllUsesWith(id.getDimension() == gpu::Dimension::x ? threadId : zero);
    } else if (auto id = dyn_cast<gpu::BlockIdOp>(op)) {
      id.replaceAllUsesWith(grid[static_cast<unsigned>(id.getDimension())]);
    } else if (auto dim = dyn_cast<gpu::GridDimOp>(op)) {
      dim.replaceAllUsesWith(grid[3 + static_cast<unsigned>(dim.getDimension())]);
    } else if (auto shared = dyn_cast<gpu::DynamicSharedMemoryOp>(op)) {
      // The workspace argument (sized by the kernel's shared bytes).
      Value workspace = body.getArgument(body.getNumArguments() - 2 - kGridArguments);
      shared.replaceAllUsesWith(
          memref::CastOp::create(b, opLoc, withoutMemorySpace(shared.getType()), workspace)
              .getResult());
    } else if (auto dim = dyn_cast<gpu::BlockDimOp>(op)) {
      dim.replaceAllUsesWith(dim.getDimension() == gpu::Dimension::x
                                 ? blockDim
                                 : arith::ConstantIndexOp::create(b, opLoc, 1).getResult());
    } else if (isa<gpu::BarrierOp>(op)) {
      callBarrier(b, opLoc, barrierSite++, 0, 0, /*arriveOnly=*/false);
    } else if (isa<NVVM::BarrierOp, NVVM::BarrierArriveOp>(op)) {
      // A named barrier of some of the block's threads (a warp-specialized
      // kernel's consumers, warpgroups taking turns): constant id and count
      // (none: every thread), no reduction.
      auto wait = dyn_cast<NVVM::BarrierOp>(op);
      Value idValue = wait ? wait.getBarrierId() : cast<NVVM::BarrierArriveOp>(op).getBarrierId();
      Value countValue = wait ? wait.getNumberOfThreads()
                              : cast<NVVM::BarrierArriveOp>(op).getNumberOfThreads();
      std::optional<int64_t> id = idValue ? getConstantIntValue(idValue) : 0;
      std::optional<int64_t> count = countValue ? getConstantIntValue(countValue) : 0;
      if (!id || !count || *id < 0 || *id > 15 || *count < 0 || *count % 32 != 0 ||
          (!wait && *count == 0) || (wait && (wait.getReductionOp() || wait->getNumResults())))
        return op->emitError("the GPU emulator runs ")
               << op->getName()
               << " with a constant id (0 to 15) and thread count (a multiple of 32), "
                  "without a reduction, only";
      callBarrier(b, opLoc, barrierSite++, *id, *count, /*arriveOnly=*/!wait);
    } else if (auto sync = dyn_cast<NVVM::SyncWarpOp>(op)) {
      std::optional<int64_t> mask = getConstantIntValue(sync.getMask());
      if (!mask || static_cast<uint32_t>(*mask) != 0xffffffffu)
        return sync.emitError("the GPU emulator runs bar.warp.sync of every lane only");
      callMatrix(b, opLoc, kWarpSync);
    } else if (auto registers = dyn_cast<NVVM::SetMaxRegisterOp>(op)) {
      // Registers are the host's: nothing to share out, but the count must
      // be one the instruction takes.
      uint32_t count = registers.getRegCount();
      if (count < 24 || count > 256 || count % 8 != 0)
        return registers.emitError("setmaxnreg with ")
               << count << " registers (24 to 256, a multiple of 8)";
    } else if (auto arrive = dyn_cast<NVVM::MBarrierArriveOp>(op)) {
      if (arrive.getCount() || arrive.getRelaxed() ||
          arrive.getScope() != NVVM::MemScopeKind::CTA ||
          (arrive.getRes() && !arrive.getRes().use_empty()))
        return arrive.emitError("the GPU emulator runs mbarrier.arrive of a CTA, one "
                                "arrival, its state unused, only");
      callTensorCopy(b, opLoc, kBarrierArrive, arrive.getAddr(), Value(), Value(), Value(),
                     {});
    } else if (isa<gpu::ReturnOp>(op)) {
      func::ReturnOp::create(b, opLoc);
    } else if (auto mma = dyn_cast<NVVM::MmaOp>(op)) {
      if (failed(emulateMma(mma)))
        return failure();
      continue; // emulateMma erased it
    } else if (auto load = dyn_cast<nvgpu::LdMatrixOp>(op)) {
      if (failed(emulateLdmatrix(load)))
        return failure();
      continue;
    } else if (auto copy = dyn_cast<nvgpu::DeviceAsyncCopyOp>(op)) {
      if (failed(emulateAsyncCopy(copy)))
        return failure();
      continue;
    } else if (auto shuffle = dyn_cast<gpu::ShuffleOp>(op)) {
      if (failed(emulateShuffle(shuffle)))
        return failure();
      continue;
    } else if (auto wgmma = dyn_cast<NVVM::WgmmaMmaAsyncOp>(op)) {
      if (failed(emulateWgmma(wgmma)))
        return failure();
      continue;
    } else if (auto inlinePtx = dyn_cast<LLVM::InlineAsmOp>(op)) {
      if (failed(emulateInlinePtx(inlinePtx)))
        return failure();
      continue;
    } else if (isa<NVVM::WgmmaGroupSyncAlignedOp>(op)) {
      callMatrix(b, opLoc, kWgmmaCommitGroup);
    } else if (auto wait = dyn_cast<NVVM::WgmmaWaitGroupSyncOp>(op)) {
      if (wait.getGroup() > 7)
        return wait.emitError("the GPU emulator runs wgmma.wait_group 0 to 7 only");
      callMatrix(b, opLoc, kWgmmaWaitGroup + wait.getGroup());
    } else if (auto acquire = dyn_cast<NVVM::FenceProxyAcquireOp>(op)) {
      // The thread's copies through this map may follow.
      callTensorCopy(b, opLoc, kMapAcquire, Value(), Value(), acquire.getAddr(), Value(), {});
    } else if (isa<NVVM::WgmmaFenceAlignedOp, NVVM::FenceProxyOp>(op)) {
      // The emulated wgmma completes when the warpgroup issues it (commit
      // and wait only track the shared memory it read), and tensor copies
      // read their maps, through the one memory every thread sees: nothing
      // to order.
    } else if (auto init = dyn_cast<NVVM::MBarrierInitOp>(op)) {
      if (init.getPredicate())
        return init.emitError("the GPU emulator runs mbarrier.init without a predicate");
      callTensorCopy(b, opLoc, kBarrierInit, init.getAddr(), Value(), Value(),
                     init.getCount(), {});
    } else if (auto inval = dyn_cast<NVVM::MBarrierInvalOp>(op)) {
      callTensorCopy(b, opLoc, kBarrierInval, inval.getAddr(), Value(), Value(), Value(),
                     {});
    } else if (auto arrive = dyn_cast<NVVM::MBarrierArriveExpectTxOp>(op)) {
      if (arrive.getPredicate() || arrive->getNumResults() != 0 ||
          arrive.getScope() != NVVM::MemScopeKind::CTA)
        return arrive.emitError("the GPU emulator runs mbarrier.arrive.expect_tx of a CTA "
                                "without a predicate or result only");
      callTensorCopy(b, opLoc, kBarrierArriveExpectBytes, arrive.getAddr(), Value(),
                     Value(), arrive.getTxcount(), {});
    } else if (auto copy = dyn_cast<NVVM::CpAsyncBulkTensorGlobalToSharedClusterOp>(op)) {
      if (copy.getMode() != NVVM::TMALoadMode::TILE || !copy.getIm2colOffsets().empty() ||
          copy.getMulticastMask() || copy.getL2CacheHint() || copy.getPredicate() ||
          copy.getCoordinates().size() > 5)
        return copy.emitError("the GPU emulator runs tiled cp.async.bulk.tensor of up to "
                              "5 dimensions, without multicast, cache hints or "
                              "predicates, only");
      callTensorCopy(b, opLoc, kTensorCopy, copy.getMbar(), copy.getDstMem(),
                     copy.getTmaDescriptor(), Value(), copy.getCoordinates());
    } else if (auto wait = dyn_cast<NVVM::MBarrierTryWaitParityOp>(op)) {
      callTensorCopy(b, opLoc, kBarrierWait, wait.getAddr(), Value(), Value(),
                     wait.getPhase(), {});
    } else if (isa<NVVM::CpAsyncCommitGroupOp>(op)) {
      Value zero = LLVM::ConstantOp::create(b, opLoc, i64, b.getI64IntegerAttr(0));
      callAsyncCopy(b, opLoc, kAsyncCommit, zero, zero, zero, zero);
    } else if (auto wait = dyn_cast<NVVM::CpAsyncWaitGroupOp>(op)) {
      Value zero = LLVM::ConstantOp::create(b, opLoc, i64, b.getI64IntegerAttr(0));
      Value groups = LLVM::ConstantOp::create(b, opLoc, i64,
                                              b.getI64IntegerAttr(wait.getN()));
      callAsyncCopy(b, opLoc, kAsyncWait, zero, zero, groups, zero);
    } else if (auto mfma = dyn_cast<amdgpu::MFMAOp>(op)) {
      if (mfma.getM() != 16 || mfma.getN() != 16 || mfma.getK() != 16 ||
          mfma.getBlocks() != 1 || mfma.getCbsz() != 0 || mfma.getAbid() != 0 ||
          mfma.getBlgp() != amdgpu::MFMAPermB::none || mfma.getReducePrecision() ||
          mfma.getNegateA() || mfma.getNegateB() || mfma.getNegateC())
        return mfma.emitError("the GPU emulator runs plain 16x16x16 MFMA only");
      if (failed(emulateAmdMatrix(op, mfma.getSourceA(), mfma.getSourceB(),
                                  mfma.getDestC(), mfma.getDestD(), false)))
        return failure();
      continue;
    } else if (auto wmma = dyn_cast<amdgpu::WMMAOp>(op)) {
      if (wmma.getM() != 16 || wmma.getN() != 16 || wmma.getK() != 16 ||
          wmma.getSubwordOffset() != 0 || wmma.getUnsignedA() ||
          wmma.getUnsignedB() || wmma.getClamp())
        return wmma.emitError("the GPU emulator runs plain 16x16x16 WMMA only");
      if (failed(emulateAmdMatrix(op, wmma.getSourceA(), wmma.getSourceB(),
                                  wmma.getDestC(), wmma.getDestD(), true)))
        return failure();
      continue;
    } else {
      return op->emitError("the GPU emulator cannot run '")
             << op->getName() << "'";
    }
    op->erase();
  }
  return success();
}

/// mma.sync m16n8k16 with bf16 or f16 operands into f32: this lane's
/// registers go to the fragment buffer, the runtime computes the warp's
/// product, and the result registers come back from the buffer.
LogicalResult KernelEmulation::emulateMma(NVVM::MmaOp mma) {
  Location loc = mma.getLoc();
  OpBuilder b(mma);
  auto shape = mma.getShapeAttr();
  std::optional<NVVM::MMATypes> type = mma.getMultiplicandAPtxType();
  auto resultStruct = dyn_cast<LLVM::LLVMStructType>(mma.getResult().getType());
  if (shape.getM() != 16 || shape.getN() != 8 || shape.getK() != 16 || !type ||
      (*type != NVVM::MMATypes::bf16 && *type != NVVM::MMATypes::f16) ||
      mma.getOperandA().size() != 4 || mma.getOperandB().size() != 2 ||
      mma.getOperandC().size() != 4 || !resultStruct ||
      mma.getLayoutA() != NVVM::MMALayout::row ||
      mma.getLayoutB() != NVVM::MMALayout::col ||
      resultStruct.getBody().size() != 4 ||
      !llvm::all_of(resultStruct.getBody(), [](Type t) { return t.isF32(); }))
    return mma.emitError("the GPU emulator runs mma.sync m16n8k16.row.col "
                         "with bf16 or f16 operands into f32 only");
  Type f32 = b.getF32Type();
  auto slot = [&](int64_t word) { return fragmentWord(b, loc, word); };
  int64_t word = 0;
  // A register holds two 16-bit elements: stored as its 32 bits.
  for (Value value : llvm::concat<Value>(mma.getOperandA(), mma.getOperandB())) {
    if (value.getType() != i32) {
      auto pair = dyn_cast<VectorType>(value.getType());
      if (!pair || pair.getNumElements() != 2 ||
          pair.getElementType().getIntOrFloatBitWidth() != 16)
        return mma.emitError("unexpected mma.sync register type ") << value.getType();
      Value bits = vector::BitCastOp::create(b, loc, VectorType::get({1}, i32), value);
      value = vector::ExtractOp::create(b, loc, bits, ArrayRef<int64_t>{0});
    }
    LLVM::StoreOp::create(b, loc, value, slot(word++));
  }
  for (Value value : mma.getOperandC())
    LLVM::StoreOp::create(b, loc, value, slot(word++));
  callMatrix(b, loc, *type == NVVM::MMATypes::bf16 ? kMmaM16N8K16Bf16 : kMmaM16N8K16F16);
  Value result = LLVM::UndefOp::create(b, loc, resultStruct);
  for (int64_t r = 0; r < 4; ++r) {
    Value d = LLVM::LoadOp::create(b, loc, f32, slot(word + r));
    result = LLVM::InsertValueOp::create(b, loc, result, d, ArrayRef<int64_t>{r});
  }
  mma.getResult().replaceAllUsesWith(result);
  mma.erase();
  return success();
}

/// A butterfly shuffle of 32-bit values over a whole warp: this lane's
/// value to the fragment buffer, the runtime exchanges the warp's values,
/// lane XOR offset's comes back.
LogicalResult KernelEmulation::emulateShuffle(gpu::ShuffleOp shuffle) {
  Location loc = shuffle.getLoc();
  OpBuilder b(shuffle);
  std::optional<int64_t> offset = getConstantIntValue(shuffle.getOffset());
  std::optional<int64_t> width = getConstantIntValue(shuffle.getWidth());
  Type type = shuffle.getShuffleResult().getType();
  if (shuffle.getMode() != gpu::ShuffleMode::XOR || !offset || *offset < 1 ||
      *offset >= 32 || !width || *width != 32 || type.getIntOrFloatBitWidth() != 32)
    return shuffle.emitError("the GPU emulator runs gpu.shuffle xor of 32-bit values "
                             "over whole warps (width 32, a constant offset) only");
  Value bits = shuffle.getValue();
  if (type != i32)
    bits = arith::BitcastOp::create(b, loc, i32, bits);
  LLVM::StoreOp::create(b, loc, bits, fragmentWord(b, loc, 0));
  callMatrix(b, loc, shuffleXorInstruction(*offset));
  Value result = LLVM::LoadOp::create(b, loc, i32, fragmentWord(b, loc, 1));
  if (type != i32)
    result = arith::BitcastOp::create(b, loc, type, result);
  shuffle.getShuffleResult().replaceAllUsesWith(result);
  shuffle.getValid().replaceAllUsesWith(
      arith::ConstantOp::create(b, loc, b.getBoolAttr(true)).getResult());
  shuffle.erase();
  return success();
}

Value KernelEmulation::fragmentWord(OpBuilder &b, Location loc, int64_t word) {
  if (word == 0)
    return fragments;
  return LLVM::GEPOp::create(b, loc, pointer, i32, fragments,
                             ArrayRef<LLVM::GEPArg>{static_cast<int32_t>(word)});
}

void KernelEmulation::callMatrix(OpBuilder &b, Location loc, int64_t instruction) {
  Value callee = load(b, loc, pointer, kMatrixOffset);
  Value id = LLVM::ConstantOp::create(b, loc, i64, b.getI64IntegerAttr(instruction));
  auto functionType = LLVM::LLVMFunctionType::get(LLVM::LLVMVoidType::get(context),
                                                  {pointer, pointer, i64});
  LLVM::CallOp::create(b, loc, functionType,
                       ValueRange{callee, threadContext, fragments, id});
}

void KernelEmulation::callBarrier(OpBuilder &b, Location loc, int64_t site, int64_t id,
                                  int64_t threads, bool arriveOnly) {
  Value callee = load(b, loc, pointer, kBarrierOffset);
  auto constant = [&](int64_t v) -> Value {
    return LLVM::ConstantOp::create(b, loc, i64, b.getI64IntegerAttr(v));
  };
  auto type = LLVM::LLVMFunctionType::get(LLVM::LLVMVoidType::get(context),
                                          {pointer, i64, i64, i64, i64});
  LLVM::CallOp::create(b, loc, type,
                       ValueRange{callee, threadContext, constant(site), constant(id),
                                  constant(threads), constant(arriveOnly ? 1 : 0)});
}

/// ldmatrix: this lane's row address (a host pointer into the emulated
/// shared memory) goes to the fragment buffer, the runtime gathers the
/// warp's rows, and the loaded 32-bit registers come back.
LogicalResult KernelEmulation::emulateLdmatrix(nvgpu::LdMatrixOp ldmatrix) {
  Location loc = ldmatrix.getLoc();
  OpBuilder b(ldmatrix);
  auto source = cast<MemRefType>(ldmatrix.getSrcMemref().getType());
  auto result = cast<VectorType>(ldmatrix.getRes().getType());
  int64_t matrices = ldmatrix.getNumTiles();
  if (source.getElementTypeBitWidth() != 16 || result.getRank() != 2 ||
      result.getDimSize(0) != matrices || result.getDimSize(1) != 2 ||
      (matrices != 1 && matrices != 2 && matrices != 4))
    return ldmatrix.emitError("the GPU emulator runs ldmatrix of 1, 2 or 4 "
                              "8x8 matrices of 16-bit elements only");
  LLVM::StoreOp::create(
      b, loc, addressOf(b, loc, ldmatrix.getSrcMemref(), ldmatrix.getIndices()), fragments);
  callMatrix(b, loc, ldmatrixInstruction(matrices, ldmatrix.getTranspose()));
  SmallVector<Value> words;
  for (int64_t r = 0; r < matrices; ++r)
    words.push_back(LLVM::LoadOp::create(b, loc, i32, fragmentWord(b, loc, 2 + r)));
  Value packed = vector::FromElementsOp::create(
      b, loc, VectorType::get({matrices, 1}, i32), words);
  ldmatrix.getRes().replaceAllUsesWith(
      vector::BitCastOp::create(b, loc, result, packed).getResult());
  ldmatrix.erase();
  return success();
}

Value KernelEmulation::addressOf(OpBuilder &b, Location loc, Value memref,
                                 ValueRange indices) {
  auto type = cast<MemRefType>(memref.getType());
  auto metadata = memref::ExtractStridedMetadataOp::create(b, loc, memref);
  Value element = metadata.getOffset();
  for (auto [i, stride] : llvm::enumerate(metadata.getStrides()))
    element = arith::AddIOp::create(b, loc, element,
                                    arith::MulIOp::create(b, loc, indices[i], stride));
  Value base = memref::ExtractAlignedPointerAsIndexOp::create(b, loc, memref);
  Value address = arith::AddIOp::create(
      b, loc, base,
      arith::MulIOp::create(
          b, loc, element,
          arith::ConstantIndexOp::create(b, loc, type.getElementTypeBitWidth() / 8)));
  return arith::IndexCastOp::create(b, loc, i64, address);
}

void KernelEmulation::callTensorCopy(OpBuilder &b, Location loc, int64_t operation,
                                     Value barrier, Value shared, Value map, Value value,
                                     ValueRange coordinates) {
  Value zero = LLVM::ConstantOp::create(b, loc, i64, b.getI64IntegerAttr(0));
  auto address = [&](Value p) -> Value {
    return p ? LLVM::PtrToIntOp::create(b, loc, i64, p).getResult() : zero;
  };
  // Counts and parities are unsigned, coordinates signed (i32 all).
  auto widen = [&](Value v, bool isSigned) -> Value {
    if (!v)
      return zero;
    if (v.getType() == i64)
      return v;
    return isSigned ? LLVM::SExtOp::create(b, loc, i64, v).getResult()
                    : LLVM::ZExtOp::create(b, loc, i64, v).getResult();
  };
  SmallVector<Value> arguments{load(b, loc, pointer, kTensorCopyOffset), threadContext,
                               LLVM::ConstantOp::create(b, loc, i64,
                                                        b.getI64IntegerAttr(operation)),
                               address(barrier), address(shared), address(map),
                               widen(value, /*isSigned=*/false)};
  for (unsigned i = 0; i < 5; ++i)
    arguments.push_back(i < coordinates.size() ? widen(coordinates[i], /*isSigned=*/true)
                                               : zero);
  SmallVector<Type> parameters{pointer};
  parameters.append(10, i64);
  auto functionType =
      LLVM::LLVMFunctionType::get(LLVM::LLVMVoidType::get(context), parameters);
  LLVM::CallOp::create(b, loc, functionType, arguments);
}

void KernelEmulation::callAsyncCopy(OpBuilder &b, Location loc, int64_t operation,
                                    Value shared, Value global, Value bytes,
                                    Value sourceBytes) {
  Value callee = load(b, loc, pointer, kAsyncCopyOffset);
  Value code = LLVM::ConstantOp::create(b, loc, i64, b.getI64IntegerAttr(operation));
  auto toPointer = [&](Value address) -> Value {
    return LLVM::IntToPtrOp::create(b, loc, pointer, address);
  };
  auto functionType = LLVM::LLVMFunctionType::get(
      LLVM::LLVMVoidType::get(context), {pointer, i64, pointer, pointer, i64, i64});
  LLVM::CallOp::create(b, loc, functionType,
                       ValueRange{callee, threadContext, code, toPointer(shared),
                                  toPointer(global), bytes, sourceBytes});
}

/// wgmma.mma_async: this lane's descriptors and accumulator registers go to
/// the fragment buffer, the runtime computes the warpgroup's product from
/// shared memory, and the new accumulator comes back.
LogicalResult KernelEmulation::emulateWgmma(NVVM::WgmmaMmaAsyncOp wgmma) {
  Location loc = wgmma.getLoc();
  OpBuilder b(wgmma);
  auto shape = wgmma.getShape();
  auto accumulator = dyn_cast<LLVM::LLVMStructType>(wgmma.getInouts().getType());
  int64_t n = shape.getN();
  NVVM::WGMMATypes typeA = wgmma.getTypeA();
  if (shape.getM() != 64 || shape.getK() != 16 || n % 8 != 0 || n > kWgmmaMaxN ||
      typeA != wgmma.getTypeB() ||
      (typeA != NVVM::WGMMATypes::bf16 && typeA != NVVM::WGMMATypes::f16) ||
      wgmma.getTypeD() != NVVM::WGMMATypes::f32 ||
      wgmma.getScaleA() != NVVM::WGMMAScaleIn::one ||
      wgmma.getScaleB() != NVVM::WGMMAScaleIn::one ||
      wgmma.getLayoutA() != NVVM::MMALayout::row || !accumulator ||
      static_cast<int64_t>(accumulator.getBody().size()) != n / 2)
    return wgmma.emitError("the GPU emulator runs wgmma.mma_async m64nNk16 with "
                           "K-major A, bf16 or f16 operands into f32 only");
  auto slot = [&](int64_t word) { return fragmentWord(b, loc, word); };
  LLVM::StoreOp::create(b, loc, wgmma.getDescriptorA(), slot(0));
  LLVM::StoreOp::create(b, loc, wgmma.getDescriptorB(), slot(2));
  SmallVector<Value> d;
  if (wgmma.getScaleD() == NVVM::WGMMAScaleOut::one)
    for (int64_t e = 0; e < n / 2; ++e)
      d.push_back(
          LLVM::ExtractValueOp::create(b, loc, wgmma.getInouts(), ArrayRef<int64_t>{e}));
  callWgmma(wgmma, b, d, 4, accumulator,
            wgmmaInstruction(n, typeA == NVVM::WGMMATypes::f16,
                             wgmma.getLayoutB() == NVVM::MMALayout::row));
  return success();
}

void KernelEmulation::callWgmma(Operation *op, OpBuilder &b, ValueRange d,
                                int64_t firstWord, LLVM::LLVMStructType accumulator,
                                int64_t instruction) {
  Location loc = op->getLoc();
  int64_t count = static_cast<int64_t>(accumulator.getBody().size());
  SmallVector<Value> registers(d.begin(), d.end());
  if (registers.empty())
    registers.assign(count, LLVM::ConstantOp::create(b, loc, b.getF32Type(),
                                                     b.getF32FloatAttr(0.0f)));
  for (auto [e, value] : llvm::enumerate(registers))
    LLVM::StoreOp::create(b, loc, value, fragmentWord(b, loc, firstWord + e));
  callMatrix(b, loc, instruction);
  Value result = LLVM::UndefOp::create(b, loc, accumulator);
  for (int64_t e = 0; e < count; ++e)
    result = LLVM::InsertValueOp::create(
        b, loc, result,
        LLVM::LoadOp::create(b, loc, b.getF32Type(),
                             fragmentWord(b, loc, firstWord + count + e)),
        ArrayRef<int64_t>{e});
  op->getResult(0).replaceAllUsesWith(result);
  op->erase();
}

/// Inline PTX: the one instruction the NVIDIA backend writes so, wgmma
/// with A from registers (`{.reg .pred p; setp.ne.b32 p, $S, 0; wgmma
/// .mma_async.sync.aligned.m64nNk16.f32.T.T {D}, {A}, $B, p, 1, 1, t;}`,
/// operands D's N / 2 registers, A's 4, B's descriptor and S: 1 to
/// accumulate, 0 for D = A B). This lane's A registers, B descriptor and
/// accumulator go to the fragment buffer as for emulateWgmma.
LogicalResult KernelEmulation::emulateInlinePtx(LLVM::InlineAsmOp inlinePtx) {
  Location loc = inlinePtx.getLoc();
  StringRef text = inlinePtx.getAsmString();
  if (text.starts_with("wgmma.wait_group.sync.aligned ") || text.empty())
    return emulateTiedRegisters(inlinePtx);
  llvm::Regex pattern("wgmma\\.mma_async\\.sync\\.aligned\\.m64n([0-9]+)k16\\.f32\\."
                      "(bf16|f16)\\.(bf16|f16) \\{[^}]*\\}, \\{[^}]*\\}, \\$[0-9]+, p, 1, "
                      "1, ([01]);");
  SmallVector<StringRef> groups;
  int64_t n = 0;
  if (!pattern.match(text, &groups) || groups[2] != groups[3] ||
      groups[1].getAsInteger(10, n) || n % 8 != 0 || n < 8 || n > kWgmmaMaxN)
    return inlinePtx.emitError("the GPU emulator runs no inline PTX but wgmma.mma_async "
                               "m64nNk16 with A from registers (bf16 or f16 into f32): ")
           << text;
  // Exactly the instruction text and operands the NVIDIA backend writes
  // (WarpgroupMma.h), written out here again: D's registers as outputs
  // tied to the first N / 2 inputs (f32), A's 4 words (i32), B's
  // descriptor (i64), and the constant 1 for the scale-d predicate.
  int64_t h = n / 2;
  std::string expected = "{\n.reg .pred p;\nsetp.ne.b32 p, $" + std::to_string(2 * h + 5) +
                         ", 0;\nwgmma.mma_async.sync.aligned.m64n" + std::to_string(n) +
                         "k16.f32." + groups[2].str() + "." + groups[3].str() + " {";
  std::string constraints;
  for (int64_t e = 0; e < h; ++e) {
    expected += (e ? ", $" : "$") + std::to_string(e);
    constraints += "=f,";
  }
  expected += "}, {";
  for (int64_t j = 0; j < 4; ++j)
    expected += (j ? ", $" : "$") + std::to_string(2 * h + j);
  expected += "}, $" + std::to_string(2 * h + 4) + ", p, 1, 1, " + groups[4].str() + ";\n}\n";
  for (int64_t e = 0; e < h; ++e)
    constraints += std::to_string(e) + ",";
  constraints += "r,r,r,r,l,n";
  ValueRange operands = inlinePtx.getOperands();
  auto accumulator = dyn_cast_or_null<LLVM::LLVMStructType>(
      inlinePtx.getRes() ? inlinePtx.getRes().getType() : Type());
  auto typesAre = [&](int64_t from, int64_t count, Type type) {
    return llvm::all_of(operands.slice(from, count),
                        [&](Value v) { return v.getType() == type; });
  };
  IntegerAttr scale;
  Type f32 = Float32Type::get(context);
  if (text != expected || inlinePtx.getConstraints() != constraints ||
      static_cast<int64_t>(operands.size()) != h + 6 || !accumulator ||
      accumulator.getBody() != ArrayRef<Type>(SmallVector<Type>(h, f32)) ||
      !typesAre(0, h, f32) || !typesAre(h, 4, i32) || !typesAre(h + 4, 1, i64) ||
      !matchPattern(operands[h + 5], m_Constant(&scale)) ||
      (scale.getInt() != 0 && scale.getInt() != 1))
    return inlinePtx.emitError("the GPU emulator runs register-A wgmma only as the NVIDIA "
                               "backend writes it: D's N / 2 f32 registers tied, A in 4 "
                               "i32, B's i64 descriptor, scale-d 0 or 1");
  OpBuilder b(inlinePtx);
  for (int64_t j = 0; j < 4; ++j)
    LLVM::StoreOp::create(b, loc, operands[h + j], fragmentWord(b, loc, j));
  LLVM::StoreOp::create(b, loc, operands[h + 4], fragmentWord(b, loc, 4));
  ValueRange d = scale.getInt() == 1 ? operands.take_front(h) : ValueRange();
  callWgmma(inlinePtx, b, d, 6, accumulator,
            wgmmaInstruction(n, groups[2] == "f16", groups[4] == "1", /*registerA=*/true));
  return success();
}

/// The other inline PTX the NVIDIA backend writes, with the accumulator
/// registers of wgmmas in flight tied to it (outputs "=f", inputs "0", "1",
/// ...): `wgmma.wait_group.sync.aligned N;` (a wait) or nothing (before
/// the K loop); the registers pass through.
LogicalResult KernelEmulation::emulateTiedRegisters(LLVM::InlineAsmOp inlinePtx) {
  // f32 accumulators ("=f"), then i32 A registers of register-A wgmmas in
  // flight ("=r"), each output tied to its input.
  ValueRange operands = inlinePtx.getOperands();
  int64_t count = static_cast<int64_t>(operands.size());
  Type f32 = Float32Type::get(context);
  int64_t floats = 0;
  while (floats < count && operands[floats].getType() == f32)
    ++floats;
  std::string constraints;
  for (int64_t e = 0; e < count; ++e)
    constraints += e < floats ? "=f," : "=r,";
  for (int64_t e = 0; e < count; ++e)
    constraints += std::to_string(e) + (e + 1 < count ? "," : "");
  auto registers = dyn_cast_or_null<LLVM::LLVMStructType>(
      inlinePtx.getRes() ? inlinePtx.getRes().getType() : Type());
  // `wgmma.wait_group.sync.aligned N;` with N from 0 to 7, or nothing.
  // (A trailing newline tells apart the arms of a wait in a block of its
  // own: placeWarpgroupMmaWaits.)
  StringRef text = inlinePtx.getAsmString().rtrim("\n");
  int64_t inFlight = 0;
  bool wait = !text.empty();
  if (wait) {
    StringRef groups = text.drop_front(StringRef("wgmma.wait_group.sync.aligned ").size());
    if (!groups.consume_back(";") || groups.getAsInteger(10, inFlight) || inFlight < 0 ||
        inFlight > 7)
      return inlinePtx.emitError("the GPU emulator runs wgmma.wait_group with 0 to 7 "
                                 "groups in flight, not: ")
             << text;
  }
  if (floats == 0 || inlinePtx.getConstraints() != constraints || !registers ||
      registers.getBody() != ArrayRef<Type>(llvm::to_vector(operands.getTypes())) ||
      !llvm::all_of(operands.drop_front(floats), [&](Value v) { return v.getType() == i32; }))
    return inlinePtx.emitError("the GPU emulator runs wgmma.wait_group N or empty inline "
                               "PTX only with f32 registers (then i32 ones) tied to it, as "
                               "the NVIDIA backend writes them");
  OpBuilder b(inlinePtx);
  Location loc = inlinePtx.getLoc();
  if (wait)
    callMatrix(b, loc, kWgmmaWaitGroup + inFlight);
  Value result = LLVM::UndefOp::create(b, loc, registers);
  for (auto [e, value] : llvm::enumerate(operands))
    result = LLVM::InsertValueOp::create(b, loc, result, value,
                                         ArrayRef<int64_t>{static_cast<int64_t>(e)});
  inlinePtx.getRes().replaceAllUsesWith(result);
  inlinePtx->erase();
  return success();
}

/// cp.async: the addresses and sizes go to the runtime, which queues the
/// copy in the thread's open group.
LogicalResult KernelEmulation::emulateAsyncCopy(nvgpu::DeviceAsyncCopyOp copy) {
  Location loc = copy.getLoc();
  OpBuilder b(copy);
  if (!copy.getAsyncToken().use_empty())
    return copy.emitError("the GPU emulator runs cp.async grouped by "
                          "nvvm.cp.async.commit.group, not by tokens");
  int64_t elementBytes =
      cast<MemRefType>(copy.getDst().getType()).getElementTypeBitWidth() / 8;
  int64_t elements = copy.getDstElements().getZExtValue();
  Value shared = addressOf(b, loc, copy.getDst(), copy.getDstIndices());
  Value global = addressOf(b, loc, copy.getSrc(), copy.getSrcIndices());
  Value bytes = LLVM::ConstantOp::create(b, loc, i64,
                                         b.getI64IntegerAttr(elements * elementBytes));
  Value sourceBytes = bytes;
  if (Value valid = copy.getSrcElements())
    sourceBytes = arith::MulIOp::create(
        b, loc, arith::IndexCastOp::create(b, loc, i64, valid),
        LLVM::ConstantOp::create(b, loc, i64, b.getI64IntegerAttr(elementBytes)));
  callAsyncCopy(b, loc, kAsyncCopy, shared, global, bytes, sourceBytes);
  copy.erase();
  return success();
}

int64_t KernelEmulation::storeWords(OpBuilder &b, Location loc, Value value,
                                    int64_t word) {
  auto type = cast<VectorType>(value.getType());
  int64_t count = type.getNumElements() * type.getElementTypeBitWidth() / 32;
  Value words = vector::BitCastOp::create(b, loc, VectorType::get({count}, i32), value);
  for (int64_t i = 0; i < count; ++i) {
    Value w = vector::ExtractOp::create(b, loc, words, ArrayRef<int64_t>{i});
    LLVM::StoreOp::create(b, loc, w, fragmentWord(b, loc, word + i));
  }
  return word + count;
}

LogicalResult KernelEmulation::emulateAmdMatrix(Operation *op, Value a, Value b,
                                                Value c, Value result, bool wmma) {
  Location loc = op->getLoc();
  OpBuilder builder(op);
  auto aType = dyn_cast<VectorType>(a.getType());
  auto cType = dyn_cast<VectorType>(c.getType());
  int64_t operandElements = wmma ? 16 : 4, resultElements = wmma ? 8 : 4;
  if (!aType || aType != b.getType() || aType.getNumElements() != operandElements ||
      !(aType.getElementType().isBF16() || aType.getElementType().isF16()) || !cType ||
      cType.getNumElements() != resultElements || !cType.getElementType().isF32() ||
      result.getType() != cType)
    return op->emitError("the GPU emulator runs 16x16x16 matrix-core products of "
                         "bf16 or f16 into f32 only");
  int64_t word = storeWords(builder, loc, a, 0);
  word = storeWords(builder, loc, b, word);
  word = storeWords(builder, loc, c, word);
  bool bf16 = aType.getElementType().isBF16();
  callMatrix(builder, loc,
             wmma ? (bf16 ? kWmma16x16x16Bf16 : kWmma16x16x16F16)
                  : (bf16 ? kMfma16x16x16Bf16 : kMfma16x16x16F16));
  SmallVector<Value> d;
  for (int64_t i = 0; i < resultElements; ++i)
    d.push_back(LLVM::LoadOp::create(
        builder, loc, builder.getF32Type(),
        LLVM::GEPOp::create(builder, loc, pointer, i32, fragments,
                            ArrayRef<LLVM::GEPArg>{static_cast<int32_t>(word + i)})));
  result.replaceAllUsesWith(vector::FromElementsOp::create(builder, loc, cType, d).getResult());
  op->erase();
  return success();
}

struct EmulateGpuKernelsOnCpuPass
    : prism::gpu_emulator::impl::EmulateGpuKernelsOnCpuBase<
          EmulateGpuKernelsOnCpuPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    SmallVector<gpu::GPUModuleOp> gpuModules(module.getOps<gpu::GPUModuleOp>());
    for (gpu::GPUModuleOp gpuModule : gpuModules) {
      for (auto kernel : llvm::make_early_inc_range(gpuModule.getOps<gpu::GPUFuncOp>())) {
        if (!kernel.isKernel()) {
          kernel.emitError("the GPU emulator runs kernels only, not device "
                           "functions");
          return signalPassFailure();
        }
        if (failed(KernelEmulation(kernel, module).run()))
          return signalPassFailure();
      }
      gpuModule.erase();
    }
    module->removeAttr(gpu::GPUDialect::getContainerModuleAttrName());
  }
};

} // namespace
