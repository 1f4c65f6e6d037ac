//===- WarpgroupMma.cpp - tile.dot as wgmma.mma_async on sm_90a -----------===//

#include "targets/nvidia/WarpgroupMma.h"

#include "dialects/Tile/Utils/MemoryAccess.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "llvm/ADT/MapVector.h"

#include <string>

using namespace mlir;
using namespace prism::gpu_lowering;

namespace prism::nvidia {

bool fitsWarpgroupMma(tile::DotOp dot, int64_t threads, bool aTransposed,
                      bool bTransposed) {
  auto lhs = cast<RankedTensorType>(dot.getLhs().getType());
  auto result = cast<RankedTensorType>(dot.getType());
  Type element = lhs.getElementType();
  int64_t m = result.getDimSize(0), n = result.getDimSize(1), k = lhs.getDimSize(1);
  return (m == 64 || m == 128) && threads == 2 * m && n % 8 == 0 && n >= 8 && n <= 256 &&
         k % 16 == 0 && !aTransposed && (element.isBF16() || element.isF16()) &&
         cast<RankedTensorType>(dot.getRhs().getType()).getElementType() == element &&
         result.getElementType().isF32();
}

void fenceSharedMemoryForAsyncProxy(OpBuilder &b, Location loc) {
  NVVM::FenceProxyOp::create(
      b, loc, NVVM::ProxyKind::async_shared,
      NVVM::SharedSpaceAttr::get(b.getContext(), NVVM::SharedSpace::shared_cta));
}

Value matrixDescriptor(OpBuilder &b, Location loc, Value address, int64_t leadingBytes,
                       int64_t strideBytes, int64_t swizzleBytes) {
  Type i64 = b.getI64Type();
  auto constant = [&](int64_t v) -> Value {
    return arith::ConstantOp::create(b, loc, i64, b.getI64IntegerAttr(v));
  };
  // Bits 0-13: (address & 0x3FFFF) >> 4; 16-29: leading-dimension byte
  // offset >> 4; 32-45: stride-dimension byte offset >> 4; 49-51: base
  // offset (0: every swizzled block is 1024-byte aligned); 62-63: the
  // layout (0 none, 1 128-byte, 2 64-byte, 3 32-byte swizzle).
  Value start = arith::ShRUIOp::create(
      b, loc, arith::AndIOp::create(b, loc, address, constant(0x3FFFF)), constant(4));
  int64_t layoutType = swizzleBytes == 0     ? 0
                       : swizzleBytes == 128 ? 1
                       : swizzleBytes == 64  ? 2
                                             : 3;
  return arith::OrIOp::create(b, loc, start,
                              constant(((leadingBytes >> 4) << 16) |
                                       ((strideBytes >> 4) << 32) | (layoutType << 62)));
}

namespace {

/// How one operand's K steps are laid out in its shared memory: the
/// descriptor's two byte offsets and where the step at k0 starts, for an
/// operand stored as `rows` rows of `rowLength` 16-bit elements, K-major
/// (rows are M or N, K along the row) or MN-major (rows are K).
struct OperandSteps {
  int64_t leadingBytes, strideBytes, swizzleBytes;
  bool kMajor;
  int64_t rows, rowLength;

  static OperandSteps of(SharedLayout layout, int64_t swizzleBytes, bool kMajor,
                         int64_t rows, int64_t rowLength) {
    OperandSteps steps{0, 0, layout == SharedLayout::SwizzledRows ? swizzleBytes : 0,
                       kMajor, rows, rowLength};
    int64_t s = steps.swizzleBytes;
    if (kMajor) {
      // Core matrices adjacent in K 128 bytes apart, row groups 8 rows of
      // the tile; swizzled: row groups 8 spans apart (the leading offset
      // is not used, 1 by convention).
      steps.leadingBytes = s ? 16 : 128;
      steps.strideBytes = s ? 8 * s : 16 * rowLength;
    } else {
      // Core matrices (8 K rows x 16 bytes of N) adjacent in N 128 bytes
      // apart, in K a row group of the tile apart; swizzled: the atoms of
      // S / 2 columns a block (rows x S bytes) apart, 8 K rows 8 spans.
      steps.leadingBytes = s ? rows * s : 16 * rowLength;
      steps.strideBytes = s ? 8 * s : 128;
    }
    return steps;
  }

  /// Byte offset of row r0 (a multiple of 8; K-major) from the
  /// operand's start: r0 / 8 row groups.
  int64_t rowOffset(int64_t r0) const { return r0 / 8 * strideBytes; }

  /// Byte offset of the K step at k0 from the operand's start.
  int64_t stepOffset(int64_t k0) const {
    int64_t s = swizzleBytes;
    if (kMajor) // core matrix k0 / 8 of row group 0; swizzled: byte 2 k0 of row 0
      return s ? (2 * k0 / s) * rows * s + (2 * k0) % s : k0 / 8 * 128;
    return s ? k0 * s : k0 / 8 * 16 * rowLength; // row k0
  }
};


/// The byte address (i64) of a view's first element.
Value sharedAddress(OpBuilder &b, Location loc, Value view) {
  Value address = memref::ExtractAlignedPointerAsIndexOp::create(b, loc, view);
  return arith::IndexCastOp::create(b, loc, b.getI64Type(), address);
}

/// The descriptor of the K step at k0 of an operand at `address`.
Value stepDescriptor(OpBuilder &b, Location loc, Value address, const OperandSteps &steps,
                     int64_t k0) {
  Value start = arith::AddIOp::create(
      b, loc, address,
      arith::ConstantOp::create(b, loc, b.getI64Type(),
                                b.getI64IntegerAttr(steps.stepOffset(k0))));
  return matrixDescriptor(b, loc, start, steps.leadingBytes, steps.strideBytes,
                          steps.swizzleBytes);
}

/// Whether the accumulator vector is zeros: a zero constant, or a zero
/// scalar broadcast (the fragment layout's splat).
bool isZeroAccumulator(Value acc) {
  if (matchPattern(acc, m_AnyZeroFloat()))
    return true;
  auto broadcast = acc.getDefiningOp<vector::BroadcastOp>();
  return broadcast && matchPattern(broadcast.getSource(), m_AnyZeroFloat());
}

/// The shared frame of a warpgroup MMA: the accumulator vector as the
/// instruction's register struct, a fence (its registers were written by
/// other instructions), `steps(d, accumulate)` issuing the K steps, then
/// commit and wait until at most `inFlight` groups run (0: done before the
/// registers are read and the slots refilled; kWaitAtFirstUse: no wait,
/// the result marked for placeWarpgroupMmaWaits), and the struct back as
/// a vector.
///
/// A zero accumulator (attention's S = Q K^T at every KV step) is not
/// passed in registers: `accumulate` is false, and the first K step sets
/// scale-d to 0 (D = A B, the input registers unread; FlashAttention 3's
/// zero_init). Zeros passed in would be register writes LLVM places after
/// the fence (a constant is materialized at its use), which the PTX ISA
/// leaves undefined: wgmma.fence must separate every register access from
/// a wgmma that accesses the same accumulator registers.
Value warpgroupMmaFrame(ConversionPatternRewriter &rewriter, Location loc, Value acc,
                        int64_t n, int64_t inFlight,
                        function_ref<Value(Type accumulator, Value d, bool accumulate)> steps) {
  Type f32 = rewriter.getF32Type();
  auto accumulator = LLVM::LLVMStructType::getLiteral(
      rewriter.getContext(), SmallVector<Type>(n / 2, f32));
  bool accumulate = !isZeroAccumulator(acc);
  Value d = LLVM::UndefOp::create(rewriter, loc, accumulator);
  for (int64_t e = 0; accumulate && e < n / 2; ++e)
    d = LLVM::InsertValueOp::create(
        rewriter, loc, d,
        vector::ExtractOp::create(rewriter, loc, acc, ArrayRef<int64_t>{e}),
        ArrayRef<int64_t>{e});
  NVVM::WgmmaFenceAlignedOp::create(rewriter, loc);
  d = steps(accumulator, d, accumulate);
  NVVM::WgmmaGroupSyncAlignedOp::create(rewriter, loc);
  if (inFlight != kWaitAtFirstUse)
    NVVM::WgmmaWaitGroupSyncOp::create(rewriter, loc, inFlight);
  Value result = acc;
  for (int64_t e = 0; e < n / 2; ++e)
    result = vector::InsertOp::create(
        rewriter, loc,
        LLVM::ExtractValueOp::create(rewriter, loc, d, ArrayRef<int64_t>{e}), result,
        ArrayRef<int64_t>{e});
  if (inFlight == kWaitAtFirstUse)
    result.getDefiningOp()->setAttr(kWaitAtFirstUseAttrName, rewriter.getUnitAttr());
  return result;
}

/// The B operand's steps (see OperandSteps) and start address.
std::pair<OperandSteps, Value> operandB(ConversionPatternRewriter &rewriter, Location loc,
                                        const SharedOperands &operands, int64_t n,
                                        int64_t k) {
  OperandSteps steps =
      OperandSteps::of(operands.bLayout, operands.bSwizzleBytes, operands.bTransposed,
                       operands.bTransposed ? n : k, operands.bRowLength);
  return {steps, sharedAddress(rewriter, loc, operands.b)};
}

} // namespace

Value emitWarpgroupMma(ConversionPatternRewriter &rewriter, tile::DotOp op,
                       const SharedOperands &operands, Value acc, int64_t m, int64_t n,
                       int64_t k, int64_t inFlight) {
  Location loc = op.getLoc();
  Type element = cast<RankedTensorType>(op.getLhs().getType()).getElementType();
  NVVM::WGMMATypes type = element.isBF16() ? NVVM::WGMMATypes::bf16 : NVVM::WGMMATypes::f16;
  // A is [M, K] (K-major); B is [N, K] (K-major, bTransposed) or [K, N]
  // (MN-major: the instruction's B transpose).
  OperandSteps stepsA = OperandSteps::of(operands.aLayout, operands.aSwizzleBytes,
                                         /*kMajor=*/true, m, operands.aRowLength);
  Value a = sharedAddress(rewriter, loc, operands.a);
  if (m > 64) {
    // Warpgroup w multiplies A's rows 64 w .. 64 w + 63 (its warps' rows
    // in the fragment layout) by all of B.
    Type i64 = rewriter.getI64Type();
    Value warpgroup = arith::IndexCastOp::create(
        rewriter, loc, i64,
        arith::DivUIOp::create(rewriter, loc,
                               gpu::ThreadIdOp::create(rewriter, loc, gpu::Dimension::x),
                               tile::indexConstant(rewriter, loc, 128)));
    a = arith::AddIOp::create(
        rewriter, loc, a,
        arith::MulIOp::create(rewriter, loc, warpgroup,
                              arith::ConstantOp::create(
                                  rewriter, loc, i64,
                                  rewriter.getI64IntegerAttr(stepsA.rowOffset(64)))));
  }
  std::pair<OperandSteps, Value> operandOfB = operandB(rewriter, loc, operands, n, k);
  const OperandSteps &stepsB = operandOfB.first;
  Value b = operandOfB.second;
  return warpgroupMmaFrame(rewriter, loc, acc, n, inFlight,
                           [&](Type accumulator, Value d, bool accumulate) {
    for (int64_t k0 = 0; k0 < k; k0 += 16)
      d = NVVM::WgmmaMmaAsyncOp::create(
          rewriter, loc, accumulator, d, stepDescriptor(rewriter, loc, a, stepsA, k0),
          stepDescriptor(rewriter, loc, b, stepsB, k0),
          NVVM::MMAShapeAttr::get(rewriter.getContext(), 64, n, 16), type, type,
          NVVM::WGMMATypes::f32,
          accumulate || k0 > 0 ? NVVM::WGMMAScaleOut::one : NVVM::WGMMAScaleOut::zero,
          NVVM::WGMMAScaleIn::one,
          NVVM::WGMMAScaleIn::one, NVVM::MMALayout::row,
          operands.bTransposed ? NVVM::MMALayout::col : NVVM::MMALayout::row,
          /*satfinite=*/nullptr);
    return d;
  });
}

namespace {

/// The inline PTX of one K step of wgmma with A from registers, and its
/// constraints: operands $0 .. $(N/2 - 1) are D's registers (outputs,
/// tied to the N / 2 inputs that follow), then A's 4 registers, B's
/// descriptor, and the immediate that sets the scale-d predicate (1:
/// accumulate; 0: D = A B, the first step into a zero accumulator).
std::string warpgroupMmaWithRegisterAPtx(int64_t n, bool bf16, bool bTransposed) {
  int64_t h = n / 2;
  std::string text = "{\n.reg .pred p;\nsetp.ne.b32 p, $" + std::to_string(2 * h + 5) +
                     ", 0;\nwgmma.mma_async.sync.aligned.m64n" + std::to_string(n) +
                     "k16.f32." + (bf16 ? "bf16.bf16" : "f16.f16") + " {";
  for (int64_t e = 0; e < h; ++e)
    text += (e ? ", $" : "$") + std::to_string(e);
  text += "}, {";
  for (int64_t j = 0; j < 4; ++j)
    text += (j ? ", $" : "$") + std::to_string(2 * h + j);
  // imm-scale-a, imm-scale-b 1; imm-trans-b: B MN-major ([K, N]).
  text += "}, $" + std::to_string(2 * h + 4) + ", p, 1, 1, " + (bTransposed ? "0" : "1") +
          ";\n}\n";
  return text;
}

/// `floats` f32 outputs, then `words` i32 ones, each tied to the input of
/// its number: "=f,...,=r,...,0,1,...".
std::string tiedConstraints(int64_t floats, int64_t words = 0) {
  int64_t count = floats + words;
  std::string constraints;
  for (int64_t e = 0; e < count; ++e)
    constraints += e < floats ? "=f," : "=r,";
  for (int64_t e = 0; e < count; ++e)
    constraints += std::to_string(e) + (e + 1 < count ? "," : "");
  return constraints;
}

std::string warpgroupMmaWithRegisterAConstraints(int64_t n) {
  return tiedConstraints(n / 2) + ",r,r,r,r,l,n";
}

} // namespace

namespace {

/// Inline PTX `text` with the f32 elements of `accumulators` tied to it
/// (outputs "=f", inputs "0", "1", ...), then the i32 `words` the same
/// way ("=r": registers that wgmmas in flight read, kept from being
/// reused before it), and the accumulators as it gives them back.
SmallVector<Value> withTiedAccumulators(OpBuilder &b, Location loc, StringRef text,
                                        ValueRange accumulators, ValueRange words = {}) {
  Type f32 = b.getF32Type();
  SmallVector<Value> registers;
  for (Value accumulator : accumulators) {
    auto type = cast<VectorType>(accumulator.getType());
    for (int64_t e = 0; e < type.getNumElements(); ++e)
      registers.push_back(vector::ExtractOp::create(b, loc, accumulator, ArrayRef<int64_t>{e}));
  }
  int64_t floats = static_cast<int64_t>(registers.size());
  llvm::append_range(registers, words);
  std::string constraints = tiedConstraints(floats, static_cast<int64_t>(words.size()));
  SmallVector<Type> types(floats, f32);
  types.append(words.size(), b.getI32Type());
  auto type = LLVM::LLVMStructType::getLiteral(b.getContext(), types);
  Value waited =
      LLVM::InlineAsmOp::create(b, loc, type, registers, text, constraints,
                                /*has_side_effects=*/true, /*is_align_stack=*/false,
                                LLVM::tailcallkind::TailCallKind::None,
                                LLVM::AsmDialectAttr::get(b.getContext(), LLVM::AsmDialect::AD_ATT),
                                /*operand_attrs=*/nullptr)
          .getRes();
  SmallVector<Value> results;
  int64_t next = 0;
  for (Value accumulator : accumulators) {
    Value result = accumulator;
    for (int64_t e = 0; e < cast<VectorType>(accumulator.getType()).getNumElements(); ++e)
      result = vector::InsertOp::create(
          b, loc, LLVM::ExtractValueOp::create(b, loc, waited, ArrayRef<int64_t>{next++}),
          result, ArrayRef<int64_t>{e});
    results.push_back(result);
  }
  return results;
}

} // namespace

std::string warpgroupMmaWaitPtx(int64_t inFlight) {
  return "wgmma.wait_group.sync.aligned " + std::to_string(inFlight) + ";";
}

namespace {

/// Whether a wgmma's wait may move down past `op`: pure ops and reads
/// (the tensor cores only read shared memory) and other wgmma groups'
/// fences, products, commits and waits; not an op that may write memory
/// or synchronize threads (a barrier, a copy, a store: the wgmma may still
/// read the shared memory they change, or other threads wait on this
/// one), nor an op with regions or a terminator.
bool waitMayMovePast(Operation *op) {
  if (op->hasTrait<OpTrait::IsTerminator>() || op->getNumRegions() != 0)
    return false;
  if (isa<NVVM::WgmmaFenceAlignedOp, NVVM::WgmmaMmaAsyncOp, NVVM::WgmmaGroupSyncAlignedOp,
          NVVM::WgmmaWaitGroupSyncOp>(op))
    return true;
  if (auto inlinePtx = dyn_cast<LLVM::InlineAsmOp>(op))
    return inlinePtx.getAsmString().empty() ||
           inlinePtx.getAsmString().contains("wgmma.mma_async") ||
           inlinePtx.getAsmString().starts_with("wgmma.wait_group");
  if (isMemoryEffectFree(op))
    return true;
  auto effects = dyn_cast<MemoryEffectOpInterface>(op);
  return effects && effects.onlyHasEffect<MemoryEffects::Read>();
}

/// The A registers (i32 words) of the register-A wgmmas whose result
/// `marked` (a frame's last op, warpgroupMmaFrame) gives: each K step's
/// inline PTX takes D's registers, then A's 4 words.
SmallVector<Value> registerOperandsOfFrame(Operation *marked) {
  SmallVector<Value> words;
  auto insert = dyn_cast<vector::InsertOp>(marked);
  auto extract =
      insert ? insert.getValueToStore().getDefiningOp<LLVM::ExtractValueOp>() : nullptr;
  auto step = extract ? extract.getContainer().getDefiningOp<LLVM::InlineAsmOp>() : nullptr;
  while (step && step.getAsmString().contains("wgmma.mma_async")) {
    auto d = cast<LLVM::LLVMStructType>(step.getRes().getType());
    int64_t h = static_cast<int64_t>(d.getBody().size());
    llvm::append_range(words, step.getOperands().slice(h, 4));
    auto previous = step.getOperand(0).getDefiningOp<LLVM::ExtractValueOp>();
    step = previous ? previous.getContainer().getDefiningOp<LLVM::InlineAsmOp>() : nullptr;
  }
  return words;
}

/// Vector arithmetic ops a wait must have moved past to be put in a block
/// of its own (placeWarpgroupMmaWaits): below, what it overlaps is a few
/// ops (operand shuffles, descriptors) not worth a branch.
constexpr int64_t kArithmeticToAnchorWait = 8;

} // namespace

LogicalResult placeWarpgroupMmaWaits(gpu::GPUFuncOp kernel) {
  SmallVector<Operation *> marked;
  kernel.walk([&](Operation *op) {
    if (op->hasAttr(kWaitAtFirstUseAttrName))
      marked.push_back(op);
  });
  struct Wait {
    int64_t inFlight;
    SmallVector<Value> results, words;
    /// Vector arithmetic the wait moved past (for one of its results).
    int64_t arithmetic = 0;
  };
  llvm::MapVector<Operation *, Wait> waits;
  for (Operation *op : marked) {
    op->removeAttr(kWaitAtFirstUseAttrName);
    Value result = op->getResult(0);
    int64_t committed = 0, arithmetic = 0;
    Operation *before = op->getNextNode();
    for (; before; before = before->getNextNode()) {
      if (llvm::any_of(result.getUsers(),
                       [&](Operation *user) { return before->isAncestor(user); }) ||
          !waitMayMovePast(before))
        break;
      if (isa<NVVM::WgmmaGroupSyncAlignedOp>(before))
        ++committed;
      if (isa<arith::ArithDialect, math::MathDialect>(before->getDialect()) &&
          before->getNumResults() == 1 && isa<VectorType>(before->getResult(0).getType()))
        ++arithmetic;
    }
    if (!before) // (a block ends with its terminator)
      return op->emitError("a wgmma's result has no op after it to wait before");
    // wait_group N retires every group but the N newest.
    auto [it, inserted] = waits.try_emplace(before, Wait{committed, {}, {}, 0});
    it->second.inFlight = std::min(it->second.inFlight, committed);
    it->second.arithmetic = std::max(it->second.arithmetic, arithmetic);
    it->second.results.push_back(result);
    // A wgmma reads its A registers until it is done too: tied, so that
    // nothing is written to them before the wait (attention's next P,
    // computed while P V runs, into the registers of the P it reads).
    llvm::append_range(it->second.words, registerOperandsOfFrame(op));
  }
  for (auto &[before, wait] : waits) {
    // (Groups retire in order: with more than 7 committed since, leaving
    // 7 running still retires this one; 7 is the instruction's largest.)
    wait.inFlight = std::min<int64_t>(wait.inFlight, 7);
    SmallVector<SmallVector<OpOperand *>> uses;
    for (Value result : wait.results) {
      uses.emplace_back();
      for (OpOperand &use : result.getUses())
        uses.back().push_back(&use);
    }
    OpBuilder b(before);
    Location loc = before->getLoc();
    std::string text = warpgroupMmaWaitPtx(wait.inFlight);
    SmallVector<Value> waited;
    if (wait.arithmetic < kArithmeticToAnchorWait) {
      waited = withTiedAccumulators(b, loc, text, wait.results, wait.words);
    } else {
      // A wait moved past the work it is to overlap (attention's softmax
      // during P V) sits in a block of its own: ptxas schedules a
      // WARPGROUP.DEPBAR within its block as early as the registers allow
      // (84 instructions into the softmax, whatever follows it), but not
      // above the block's start. Both arms wait (their PTX differs by a
      // newline, so that LLVM does not merge them back into one block),
      // so the condition, uniform over the block (its id), is any.
      Value block = gpu::BlockIdOp::create(b, loc, gpu::Dimension::x);
      Value any = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, block,
                                        tile::indexConstant(b, loc, 0x5eed));
      auto arms = scf::IfOp::create(b, loc, TypeRange(ValueRange(wait.results)), any,
                                    /*addThenBlock=*/true, /*addElseBlock=*/true);
      for (auto [region, armText] :
           {std::pair<Region *, std::string>{&arms.getThenRegion(), text},
            {&arms.getElseRegion(), text + "\n"}}) {
        OpBuilder arm = OpBuilder::atBlockEnd(&region->front());
        scf::YieldOp::create(
            arm, loc, withTiedAccumulators(arm, loc, armText, wait.results, wait.words));
      }
      waited.assign(arms.getResults().begin(), arms.getResults().end());
    }
    for (auto [value, usesOfValue] : llvm::zip(waited, uses))
      for (OpOperand *use : usesOfValue)
        use->set(value);
  }
  return success();
}

LogicalResult alternateWarpgroups(gpu::GPUFuncOp kernel) {
  SmallVector<scf::ForOp> loops;
  kernel.walk([&](scf::ForOp loop) {
    if (loop->hasAttr(kWarpgroupPingPongAttrName))
      loops.push_back(loop);
  });
  auto contains = [](Operation *op, function_ref<bool(Operation *)> matches) {
    return op->walk([&](Operation *inner) {
               return matches(inner) ? WalkResult::interrupt() : WalkResult::advance();
             })
        .wasInterrupted();
  };
  auto isFence = [](Operation *op) { return isa<NVVM::WgmmaFenceAlignedOp>(op); };
  auto isWait = [](Operation *op) {
    auto inlinePtx = dyn_cast<LLVM::InlineAsmOp>(op);
    return isa<NVVM::WgmmaWaitGroupSyncOp>(op) ||
           (inlinePtx && inlinePtx.getAsmString().starts_with("wgmma.wait_group"));
  };
  for (scf::ForOp loop : loops) {
    int64_t threads = loop->getAttrOfType<IntegerAttr>(kWarpgroupPingPongAttrName).getInt();
    loop->removeAttr(kWarpgroupPingPongAttrName);
    // The step's products: from the first op that holds a fence to the
    // last commit before the first op that holds a wait.
    Operation *first = nullptr, *lastCommit = nullptr;
    for (Operation &op : loop.getBody()->without_terminator()) {
      if (!first && !contains(&op, isFence))
        continue;
      first = first ? first : &op;
      if (contains(&op, isWait))
        break;
      if (isa<NVVM::WgmmaGroupSyncAlignedOp>(op))
        lastCommit = &op;
    }
    if (!first || !lastCommit)
      return loop.emitError("warpgroup ping-pong needs the loop's matrix-core products "
                            "issued before their first wait");
    Location loc = loop.getLoc();
    OpBuilder b(loop);
    auto i32 = [&](int64_t v) -> Value {
      return arith::ConstantOp::create(b, loc, b.getI32Type(), b.getI32IntegerAttr(v));
    };
    Value second = arith::CmpIOp::create(
        b, loc, arith::CmpIPredicate::uge, gpu::ThreadIdOp::create(b, loc, gpu::Dimension::x),
        tile::indexConstant(b, loc, threads / 2));
    // bar.sync / bar.arrive of barrier 2 + g for warpgroup g (`forFirst`
    // for warpgroup 0, `forSecond` for 1; -1: nothing).
    auto each = [&](int64_t forFirst, int64_t forSecond, bool wait) {
      auto arms = scf::IfOp::create(b, loc, second, /*withElseRegion=*/true);
      for (auto [block, id] : {std::pair{arms.thenBlock(), forSecond},
                               std::pair{arms.elseBlock(), forFirst}}) {
        if (id < 0)
          continue;
        OpBuilder::InsertionGuard guard(b);
        b.setInsertionPoint(block->getTerminator());
        if (wait)
          NVVM::BarrierOp::create(b, loc, TypeRange{}, i32(id), i32(threads),
                                  /*reductionOp=*/nullptr, /*reductionPredicate=*/Value());
        else
          NVVM::BarrierArriveOp::create(b, loc, i32(id), i32(threads));
      }
    };
    constexpr int64_t kFirstBarrier = 2; // (0: the block's, 1: the consumers')
    each(-1, kFirstBarrier, /*wait=*/false); // warpgroup 0 goes first
    b.setInsertionPoint(first);
    each(kFirstBarrier, kFirstBarrier + 1, /*wait=*/true);
    b.setInsertionPointAfter(lastCommit);
    each(kFirstBarrier + 1, kFirstBarrier, /*wait=*/false);
    b.setInsertionPointAfter(loop);
    each(kFirstBarrier, -1, /*wait=*/true); // the last arrival of warpgroup 1
  }
  return success();
}

SmallVector<Value> pinWarpgroupMmaAccumulators(OpBuilder &b, Location loc,
                                               ValueRange accumulators) {
  return withTiedAccumulators(b, loc, "", accumulators);
}

SmallVector<Value> waitForWarpgroupMma(OpBuilder &b, Location loc, ValueRange accumulators) {
  return withTiedAccumulators(b, loc, kWarpgroupMmaWaitAllPtx, accumulators);
}

Value emitWarpgroupMmaWithRegisterA(ConversionPatternRewriter &rewriter, tile::DotOp op,
                                    ArrayRef<SmallVector<Value>> aSteps,
                                    const SharedOperands &operands, Value acc, int64_t n,
                                    int64_t k) {
  Location loc = op.getLoc();
  Type element = cast<RankedTensorType>(op.getLhs().getType()).getElementType();
  std::pair<OperandSteps, Value> operandOfB = operandB(rewriter, loc, operands, n, k);
  const OperandSteps &stepsB = operandOfB.first;
  Value b = operandOfB.second;
  std::string text = warpgroupMmaWithRegisterAPtx(n, element.isBF16(), operands.bTransposed);
  std::string constraints = warpgroupMmaWithRegisterAConstraints(n);
  return warpgroupMmaFrame(rewriter, loc, acc, n, kWaitAtFirstUse,
                           [&](Type accumulator, Value d, bool accumulate) {
    Value one = LLVM::ConstantOp::create(rewriter, loc, rewriter.getI32Type(),
                                         rewriter.getI32IntegerAttr(1));
    Value zero = LLVM::ConstantOp::create(rewriter, loc, rewriter.getI32Type(),
                                          rewriter.getI32IntegerAttr(0));
    for (int64_t k0 = 0; k0 < k; k0 += 16) {
      SmallVector<Value> inputs;
      for (int64_t e = 0; e < n / 2; ++e)
        inputs.push_back(LLVM::ExtractValueOp::create(rewriter, loc, d, ArrayRef<int64_t>{e}));
      llvm::append_range(inputs, aSteps[k0 / 16]);
      inputs.push_back(stepDescriptor(rewriter, loc, b, stepsB, k0));
      inputs.push_back(accumulate || k0 > 0 ? one : zero);
      d = LLVM::InlineAsmOp::create(rewriter, loc, accumulator, inputs, text, constraints,
                                    /*has_side_effects=*/true, /*is_align_stack=*/false,
                                    LLVM::tailcallkind::TailCallKind::None,
                                    LLVM::AsmDialectAttr::get(rewriter.getContext(),
                                                              LLVM::AsmDialect::AD_ATT),
                                    /*operand_attrs=*/nullptr)
              .getRes();
    }
    return d;
  });
}

} // namespace prism::nvidia
