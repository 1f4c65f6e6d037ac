//===- AscendKernelBuilder.cpp - Tile kernels to Ascend C vector kernels ---===//
//
// Every tile value lives in a UB buffer of its own (VECCALC), sized to the
// tile and aligned to 32 bytes; reshape and expand_dims alias their input.
// A tile.load is a copy-in stage (a VECIN queue of depth 2: DataCopyPad
// per row from GM, the edge of the block padded), a tile.store a copy-out
// stage (a VECOUT queue: DataCopyPad per row to GM, only the rows and
// columns inside the tensor). Elementwise arithmetic, conversions and
// reductions are vector instructions over whole tiles; 0-d tiles are
// one-element buffers, read by the scalar unit after a V->S sync when a
// broadcast needs their value. Scalar index and float arithmetic (the
// tile kernel's address computations) is plain C++ on the scalar unit.
//
//===----------------------------------------------------------------------===//

#include "targets/ascend/AscendKernel.h"

#include "dialects/Tile/IR/TileOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/MathExtras.h"
#include "llvm/Support/raw_ostream.h"

#include <cmath>

using namespace mlir;

namespace prism::ascend {

int64_t AscendKernel::bytesIn(llvm::StringRef memory) const {
  int64_t total = 0;
  for (const AscendBuffer &b : buffers)
    if (b.memory() == memory)
      total += b.bytes * b.depth;
  return total;
}

int64_t AscendKernel::unifiedBufferBytes() const { return bytesIn("UB"); }

namespace {

/// UB the library's own temporaries take: Select (tensor-tensor mode) needs
/// 8 KB left unallocated on A2; the math library (Tanh, Erf, Sin, Cos)
/// allocates its temporary itself, Prism leaves it 16 KB.
constexpr int64_t kSelectReserve = 8 * 1024;
constexpr int64_t kMathLibraryReserve = 16 * 1024;

/// Ascend C's name of a scalar or element type, or "" if it has none here.
std::string cType(Type type) {
  if (type.isF32()) return "float";
  if (type.isF16()) return "half";
  if (type.isBF16()) return "bfloat16_t";
  if (type.isIndex() || type.isInteger(64)) return "int64_t";
  if (type.isInteger(32)) return "int32_t";
  if (type.isInteger(16)) return "int16_t";
  if (type.isInteger(8)) return "int8_t";
  if (type.isInteger(1)) return "bool";
  return "";
}

int64_t bytesOf(Type element) {
  if (element.isIndex())
    return 8;
  return std::max<int64_t>(1, element.getIntOrFloatBitWidth() / 8);
}

std::string floatLiteral(double v, Type type) {
  std::string text;
  if (std::isnan(v))
    text = "NAN";
  else if (std::isinf(v))
    text = v < 0 ? "-INFINITY" : "INFINITY";
  else
    text = llvm::formatv("{0:e9}f", v).str();
  if (type.isF32())
    return text;
  return cType(type) + "(" + text + ")";
}

/// A tile value: the buffer that holds it.
struct TileValue {
  std::string tensor; // a LocalTensor<T> variable
  Type element;       // the tile's (index tiles are stored as float, i1 as bits)
  SmallVector<int64_t> shape;
  bool isIndex() const { return element.isIndex(); }
  bool isMask() const { return element.isInteger(1); }
  /// Elements vector instructions over the whole tile process: the count
  /// rounded up to whole 256-byte repeats (Compare and Select work in them).
  int64_t padded() const {
    int64_t perRepeat = 256 / (isIndex() || isMask() ? 4 : bytesOf(element));
    return (std::max<int64_t>(1, count()) + perRepeat - 1) / perRepeat * perRepeat;
  }
  int64_t count() const {
    int64_t n = 1;
    for (int64_t d : shape)
      n *= d;
    return n;
  }
};

class Builder {
public:
  Builder(func::FuncOp function, const ChipModel &chip)
      : function(function), chip(chip), os(body) {}

  FailureOr<AscendKernel> build() {
    kernel.name = function.getName().str();
    // Dots belong on the cube unit (L1/L0A/L0B/L0C, Mmad), which this
    // backend does not drive yet: say so before anything else.
    Operation *cube = nullptr;
    function.walk([&](Operation *op) {
      if (!cube && isa<tile::DotOp, tile::TransposeOp>(op))
        cube = op;
    });
    // f32 dots (and the transposes feeding them) run on the vector unit.
    bool vectorDots = true;
    function.walk([&](tile::DotOp dot) {
      for (Value v : {dot.getLhs(), dot.getRhs(), dot.getAcc()})
        vectorDots &= cast<RankedTensorType>(v.getType()).getElementType().isF32();
    });
    if (cube && !vectorDots && !isCubeMatmul()) {
      return fail(cube, "'")
             << cube->getName() << "' is not supported by the Ascend backend yet ("
             << (cubeMismatch.empty() ? "matmul and attention need the cube unit"
                                      : cubeMismatch)
             << ")";
    }
    kernel.onCube = cube != nullptr && !vectorDots;
    for (BlockArgument arg : function.getArguments()) {
      auto memref = dyn_cast<MemRefType>(arg.getType());
      if (!memref)
        return fail(function, "only memref arguments are supported, got ")
               << arg.getType();
      SmallVector<int64_t> strides;
      int64_t offset;
      if (failed(memref.getStridesAndOffset(strides, offset)))
        return fail(function, "argument ")
               << arg.getArgNumber() << " (" << memref << ") has no strided layout";
      // Rows of a unit-stride last dimension move by DataCopyPad; other
      // views (broadcast, transposed) element by element on the scalar unit.
      unitInnerStride.push_back(memref.getRank() > 0 && strides.back() == 1);
      if (memref.getRank() == 0)
        return fail(function, "argument ")
               << arg.getArgNumber() << " is rank 0: not supported by the Ascend backend yet";
      std::string element = cType(memref.getElementType());
      if (element.empty() || element == "bool")
        return fail(function, "unsupported element type ") << memref.getElementType();
      kernel.arguments.push_back({element, static_cast<unsigned>(memref.getRank())});
      names[arg] = "arg" + std::to_string(arg.getArgNumber());
    }
    for (Operation &op : function.getBody().front())
      if (failed(kernel.onCube ? emitCubeOp(&op) : emit(&op)))
        return failure();
    kernel.body = body;
    if (hasCopyIn) kernel.stages.push_back("copy_in");
    if (hasCompute) kernel.stages.push_back("compute");
    if (hasCopyOut) kernel.stages.push_back("copy_out");
    return kernel;
  }

private:
  InFlightDiagnostic fail(Operation *op, const Twine &message) {
    return op->emitError("cannot emit Ascend C: ") << message;
  }

  std::string fresh(StringRef prefix) { return (prefix + Twine(counter++)).str(); }

  std::string scalar(Value v) { return names.lookup(v); }

  /// A new VECCALC buffer for a tile of `element` x `shape`.
  /// Ascend C element type a tile is stored as: index tiles as float
  /// (exact below 2^24), masks as bits in uint8_t.
  static std::string storageType(const TileValue &t) {
    if (t.isIndex())
      return "float";
    if (t.isMask())
      return "uint8_t";
    return cType(t.element);
  }

  TileValue newTile(Type element, ArrayRef<int64_t> shape) {
    TileValue t;
    t.element = element;
    t.shape.assign(shape.begin(), shape.end());
    std::string buffer = fresh("calc");
    int64_t bytes = t.isMask() ? alignUb((t.padded() + 7) / 8)
                   : alignUb(t.padded() * (t.isIndex() ? 4 : bytesOf(element)));
    kernel.buffers.push_back({buffer, "VECCALC", bytes, 1, describe(element, shape)});
    t.tensor = buffer + "_t";
    declarations += llvm::formatv("    LocalTensor<{0}> {1} = {2}.Get<{0}>();\n",
                                  storageType(t), t.tensor, buffer)
                        .str();
    return t;
  }

  std::string newQueue(StringRef position, Type element, ArrayRef<int64_t> shape) {
    std::string queue = fresh(position == "VECIN" ? "in" : "out");
    int64_t count = 1;
    for (int64_t d : shape)
      count *= d;
    kernel.buffers.push_back({queue, position.str(),
                              alignUb(std::max<int64_t>(1, count) * bytesOf(element)),
                              2, describe(element, shape)});
    return queue;
  }

  int64_t alignUb(int64_t bytes) const {
    return (bytes + chip.ubAlignment - 1) / chip.ubAlignment * chip.ubAlignment;
  }

  static std::string describe(Type element, ArrayRef<int64_t> shape) {
    std::string s;
    llvm::raw_string_ostream out(s);
    for (int64_t d : shape)
      out << d << "x";
    out << element;
    return s;
  }

  FailureOr<TileValue> tileOf(Operation *user, Value v) {
    auto it = tiles.find(v);
    if (it == tiles.end()) {
      fail(user, "operand is not a tile this backend holds");
      return failure();
    }
    return it->second;
  }

  /// `dst = src` for `count` elements of UB (whole 32-byte blocks go
  /// through DataCopy, anything else through an exact Muls by one).
  void copyLocal(const TileValue &dst, const TileValue &src) {
    // UB -> UB DataCopy is documented for VECIN -> VECCALC and VECCALC ->
    // VECOUT only: between scratch buffers, an exact vector instruction.
    std::string storage = storageType(src);
    if (storage == "float" || storage == "half" || storage == "int32_t") {
      int64_t count = src.isIndex() ? src.padded() : std::max<int64_t>(1, src.count());
      std::string one = storage == "int32_t" ? "static_cast<int32_t>(1)"
                        : storage == "half"  ? "static_cast<half>(1.0f)"
                                             : "1.0f";
      os << llvm::formatv("    Muls({0}, {1}, {2}, {3});\n", dst.tensor, src.tensor, one, count);
      return;
    }
    // Anything else (bf16, masks, narrow integers) as 16-bit lanes: x | x.
    int64_t bytes = src.isMask() ? alignUb((src.padded() + 7) / 8)
                                 : alignUb(std::max<int64_t>(1, src.count()) * bytesOf(src.element));
    os << llvm::formatv("    Or({0}.ReinterpretCast<uint16_t>(), {1}.ReinterpretCast<uint16_t>(), "
                        "{1}.ReinterpretCast<uint16_t>(), {2});\n",
                        dst.tensor, src.tensor, bytes / 2);
  }


  //===------------------------------------------------------------------===//
  // The cube unit: a matmul kernel whose product goes straight to GM.
  //===------------------------------------------------------------------===//

  /// The operand chain of a dot: load [-> reshape] [-> transpose].
  struct CubeOperand {
    tile::LoadOp load;
    bool transposed = false;
  };
  static std::optional<CubeOperand> cubeOperand(Value v) {
    CubeOperand o;
    if (auto t = v.getDefiningOp<tile::TransposeOp>()) {
      o.transposed = true;
      v = t.getInput();
    }
    if (auto r = v.getDefiningOp<tile::ReshapeOp>())
      v = r.getInput();
    o.load = v.getDefiningOp<tile::LoadOp>();
    if (!o.load || !isa<BlockArgument>(o.load.getBase()))
      return std::nullopt;
    return o;
  }

  /// The kernel library's matmul with its epilogue split off
  /// (separate-matmul-epilogue): a K loop accumulating one f16/bf16 dot into
  /// an f32 tile from zero, whose result is only reshaped and stored to an
  /// f32 argument.
  bool isCubeMatmul() {
    auto mismatch = [&](StringRef why) {
      cubeMismatch = why.str();
      return false;
    };
    scf::ForOp loop;
    int loops = 0, dots = 0;
    function.walk([&](scf::ForOp f) {
      loop = f;
      ++loops;
    });
    function.walk([&](tile::DotOp) { ++dots; });
    if (dots != 1 || loops != 1 || loop->getParentOp() != function ||
        loop.getNumRegionIterArgs() != 1)
      return mismatch("the cube unit runs the library's matmul kernels (one dot "
                      "accumulated over a K loop); the fused attention kernel needs "
                      "kernelization with unfused-attention");
    auto yield = cast<scf::YieldOp>(loop.getBody()->getTerminator());
    auto dot = yield.getOperand(0).getDefiningOp<tile::DotOp>();
    if (!dot || dot.getAcc() != loop.getRegionIterArgs()[0])
      return mismatch("the dot does not accumulate the K loop's tile");
    Type a = cast<RankedTensorType>(dot.getLhs().getType()).getElementType();
    Type b = cast<RankedTensorType>(dot.getRhs().getType()).getElementType();
    if (a != b || !(a.isF16() || a.isBF16()) || !dot.getType().getElementType().isF32())
      return mismatch("the cube unit multiplies f16 or bf16 into f32 and the vector "
                      "unit f32: i8 weights and f16 accumulation are not supported yet");
    auto lhs = cubeOperand(dot.getLhs()), rhs = cubeOperand(dot.getRhs());
    if (!lhs || !rhs)
      return mismatch("dot operands must be loaded from kernel arguments");
    if (lhs->transposed)
      return mismatch("a transposed left operand is not supported on the cube unit yet");

    auto splat = loop.getInitArgs()[0].getDefiningOp<tile::SplatOp>();
    auto zero = splat ? splat.getOperand().getDefiningOp<arith::ConstantOp>() : nullptr;
    if (!zero || !isa<FloatAttr>(zero.getValue()) ||
        !cast<FloatAttr>(zero.getValue()).getValue().isZero())
      return false;
    // After the loop: reshape + store of the product, nothing else.
    Value result = loop.getResult(0);
    for (Operation *user : result.getUsers()) {
      auto reshape = dyn_cast<tile::ReshapeOp>(user);
      if (reshape && !reshape->hasOneUse())
        return false;
      auto store = dyn_cast<tile::StoreOp>(reshape ? *reshape->getUsers().begin() : user);
      if (!store || store.getMask() || !isa<BlockArgument>(store.getBase()) ||
          !cast<MemRefType>(store.getBase().getType()).getElementType().isF32())
        return false;
      cubeStore = store;
    }
    cubeLoop = loop;
    cubeDot = dot;
    return cubeStore != nullptr;
  }

  std::string newCubeBuffer(StringRef position, StringRef prefix, int64_t bytes,
                            int64_t buffers, StringRef holds) {
    std::string name = fresh(prefix);
    kernel.buffers.push_back({name, position.str(), bytes, buffers, holds.str()});
    return name;
  }

  /// C++ of the GM offset of a load's block and of its row pitch, and the
  /// valid rows and columns (declared as `rows`, `columns`).
  std::string cubeBlock(Value base, ValueRange indices, ArrayRef<int64_t> shape,
                        StringRef rows, StringRef columns, StringRef indent) {
    unsigned a = cast<BlockArgument>(base).getArgNumber();
    unsigned rank = cast<MemRefType>(base.getType()).getRank();
    SmallVector<std::string> index;
    for (Value i : indices)
      index.push_back(scalar(i));
    std::string offset = llvm::formatv("offset{0}", a).str();
    for (unsigned d = 0; d < rank; ++d)
      offset += llvm::formatv(" + {0} * stride{1}[{2}]", index[d], a, d).str();
    for (auto [name, d] : {std::pair<StringRef, unsigned>{rows, rank - 2}, {columns, rank - 1}})
      os << llvm::formatv("{0}const int64_t {1} = prism_extent(size{2}[{3}] - {4}, {5});\n",
                          indent, name, a, d, index[d], shape[d]);
    return offset;
  }
  std::string cubeBlock(tile::LoadOp load, StringRef rows, StringRef columns) {
    return cubeBlock(load.getBase(), load.getIndices(),
                     cast<RankedTensorType>(load.getType()).getShape(), rows, columns,
                     "      ");
  }

  LogicalResult emitCubeOp(Operation *op) {
    if (auto loop = dyn_cast<scf::ForOp>(op))
      return emitCubeLoop(loop);
    if (op == cubeStore.getOperation())
      return emitCubeStore();
    // The zero the accumulator starts from (Mmad's cmatrixInitVal) and the
    // reshape before the store.
    if (isa<tile::SplatOp, tile::ReshapeOp>(op))
      return success();
    return emit(op);
  }

  LogicalResult emitCubeLoop(scf::ForOp loop) {
    auto lhs = *cubeOperand(cubeDot.getLhs()), rhs = *cubeOperand(cubeDot.getRhs());
    auto aType = cast<RankedTensorType>(cubeDot.getLhs().getType());
    auto cType_ = cast<RankedTensorType>(cubeDot.getType());
    Type element = aType.getElementType();
    std::string t = cType(element);
    int64_t bm = aType.getDimSize(0), bk = aType.getDimSize(1), bn = cType_.getDimSize(1);
    auto up16 = [](int64_t v) { return (v + 15) / 16 * 16; };
    std::string a1 = newCubeBuffer("A1", "l1a", up16(bm) * up16(bk) * 2, 2,
                                   describe(element, {bm, bk}));
    std::string b1 = newCubeBuffer("B1", "l1b", up16(bk) * up16(bn) * 2, 2,
                                   describe(element, {bk, bn}));
    std::string a2 = newCubeBuffer("A2", "l0a", up16(bm) * up16(bk) * 2, 2,
                                   describe(element, {bm, bk}));
    std::string b2 = newCubeBuffer("B2", "l0b", up16(bk) * up16(bn) * 2, 2,
                                   describe(element, {bk, bn}));
    cubeAccumulator = newCubeBuffer("CO1", "l0c", up16(bm) * up16(bn) * 4, 1,
                                    describe(cType_.getElementType(), {bm, bn}));
    os << llvm::formatv("    LocalTensor<float> acc = {0}.AllocTensor<float>();\n",
                        cubeAccumulator);
    std::string accumulated = fresh("accumulated");
    os << llvm::formatv("    bool {0} = false; // whether a K step wrote acc\n", accumulated);
    std::string iv = fresh("iv");
    names[loop.getInductionVar()] = iv;
    os << llvm::formatv("    for (int64_t {0} = {1}; {0} < {2}; {0} += {3}) {{\n", iv,
                        scalar(loop.getLowerBound()), scalar(loop.getUpperBound()),
                        scalar(loop.getStep()));
    // GM -> L1 with the ND -> NZ conversion: `rows` x `columns` of argument
    // `arg` at `offset`, columns of 16 (C0) `stride` rows apart in L1.
    auto toL1 = [&](StringRef var, StringRef queue, unsigned arg, unsigned rank,
                    StringRef offset, StringRef rows, StringRef columns,
                    StringRef c0Stride) {
      os << llvm::formatv(
          "      {{\n      LocalTensor<{0}> {1} = {2}.AllocTensor<{0}>();\n"
          "      Nd2NzParams p;\n      p.ndNum = 1;\n      p.nValue = {3};\n"
          "      p.dValue = {4};\n      p.srcNdMatrixStride = 0;\n"
          "      p.srcDValue = stride{5}[{6}];\n      p.dstNzC0Stride = {7};\n"
          "      p.dstNzNStride = 1;\n      p.dstNzMatrixStride = 0;\n"
          "      DataCopy({1}, gm{5}[{8}], p);\n      {2}.EnQue({1});\n      }\n",
          t, var, queue, rows, columns, arg, rank - 2, c0Stride, offset);
    };
    // L1 -> L0A / L0B: `loops` LoadData calls of `repeats` fractals each,
    // `srcStride` fractals apart in L1; `transpose` each fractal.
    auto toL0 = [&](StringRef from, StringRef fromQueue, StringRef to, StringRef toQueue,
                    StringRef loops, StringRef repeats, StringRef srcStride,
                    StringRef dstOffset, StringRef srcOffset, bool transpose) {
      // LoadData transposes fractals of half (ifTranspose); bf16 takes
      // LoadDataWithTranspose, documented for it.
      bool withTranspose = transpose && element.isBF16();
      os << llvm::formatv(
          "      {{\n      LocalTensor<{0}> {1} = {2}.DeQue<{0}>();\n"
          "      LocalTensor<{0}> {3} = {4}.AllocTensor<{0}>();\n"
          "      for (int64_t i = 0; i < {5}; ++i) {{\n        {6} p;\n"
          "        p.startIndex = 0;\n        p.repeatTimes = {7};\n"
          "        p.srcStride = {8};\n        p.dstGap = 0;\n{9}"
          "        {10}({3}[{11}], {1}[{12}], p);\n      }\n"
          "      {2}.FreeTensor({1});\n      {4}.EnQue({3});\n      }\n",
          t, from, fromQueue, to, toQueue, loops,
          withTranspose ? "LoadData2dTransposeParams" : "LoadData2DParams", repeats,
          srcStride,
          withTranspose ? "        p.dstFracGap = 0;\n"
                        : (transpose ? "        p.ifTranspose = true;\n"
                                     : "        p.ifTranspose = false;\n"),
          withTranspose ? "LoadDataWithTranspose" : "LoadData", dstOffset, srcOffset);
    };
    // A [M, K]: GM -> L1 as NZ (columns of 16), L1 -> L0A as Zz.
    os << "      // A: GM -> L1 (ND -> NZ) -> L0A (Zz)\n";
    std::string aOffset = cubeBlock(lhs.load, "mv", "kv");
    os << "      const int64_t mb = (mv + 15) / 16, kb = (kv + 15) / 16;\n";
    auto aArg = cast<BlockArgument>(lhs.load.getBase()).getArgNumber();
    unsigned aRank = cast<MemRefType>(lhs.load.getBase().getType()).getRank();
    toL1("a1", a1, aArg, aRank, aOffset, "mv", "kv", "mb * 16");
    toL0("a1", a1, "a2", a2, "mb", "kb", "mb", "i * kb * 256", "i * 256", false);
    // B: [N, K] storage (a Linear weight; the dot reads it transposed) or
    // [K, N].
    auto bArg = cast<BlockArgument>(rhs.load.getBase()).getArgNumber();
    unsigned bRank = cast<MemRefType>(rhs.load.getBase().getType()).getRank();
    if (rhs.transposed) {
      os << "      // B stored [N, K]: GM -> L1 (NZ) -> L0B (Zn) without a transpose\n";
      std::string bOffset = cubeBlock(rhs.load, "nv", "kvb");
      os << "      const int64_t nb = (nv + 15) / 16;\n";
      toL1("b1", b1, bArg, bRank, bOffset, "nv", "kvb", "nb * 16");
      toL0("b1", b1, "b2", b2, "kb", "nb", "1", "i * nb * 256", "i * nb * 256", false);
    } else {
      os << "      // B stored [K, N]: GM -> L1 (NZ) -> L0B (Zn) with a fractal transpose\n";
      std::string bOffset = cubeBlock(rhs.load, "kvb", "nv");
      os << "      const int64_t nb = (nv + 15) / 16;\n";
      toL1("b1", b1, bArg, bRank, bOffset, "kvb", "nv", "kb * 16");
      toL0("b1", b1, "b2", b2, "kb", "nb", "kb", "i * nb * 256", "i * 256", true);
    }
    os << llvm::formatv(
        "      {{\n      LocalTensor<{0}> a2 = {1}.DeQue<{0}>();\n"
        "      LocalTensor<{0}> b2 = {2}.DeQue<{0}>();\n"
        "      if (mv > 0 && nv > 0 && kv > 0) {{\n"
        "        MmadParams p;\n"
        "        p.m = mv < 2 ? 2 : mv; // M = 1 would switch Mmad to GEMV (ND L0A)\n"
        "        p.n = nv;\n        p.k = kv;\n"
        "        p.cmatrixSource = false;\n"
        "        p.cmatrixInitVal = {3} == {4}; // the first K step starts from zero\n"
        "        Mmad(acc, a2, b2, p);\n        {5} = true;\n      }\n"
        "      {1}.FreeTensor(a2);\n      {2}.FreeTensor(b2);\n      }\n    }\n",
        t, a2, b2, iv, scalar(loop.getLowerBound()), accumulated);
    // Without a K step (K = 0, or an empty split-K part) the product is
    // zero, but nothing wrote L0C, which the cube writes only through Mmad:
    // one Mmad of zero fractals (InitConstValue in L0A / L0B) starts it
    // from zero.
    os << llvm::formatv(
        "    if (!{0}) {{\n"
        "      LocalTensor<{1}> a2 = {2}.AllocTensor<{1}>();\n"
        "      LocalTensor<{1}> b2 = {3}.AllocTensor<{1}>();\n"
        "      InitConstValueParams<{1}> z;\n      z.repeatTimes = 1;\n"
        "      z.dstGap = 0;\n      z.initValue = static_cast<{1}>(0.0f);\n"
        "      z.blockNum = {4}; // [M, 16]: one 512-byte fractal per 16 rows\n"
        "      InitConstValue(a2, z);\n"
        "      z.blockNum = {5}; // [16, N]\n"
        "      InitConstValue(b2, z);\n"
        "      {2}.EnQue(a2);\n      {3}.EnQue(b2);\n"
        "      a2 = {2}.DeQue<{1}>();\n      b2 = {3}.DeQue<{1}>();\n"
        "      MmadParams p;\n      p.m = {6};\n      p.n = {7};\n      p.k = 16;\n"
        "      p.cmatrixSource = false;\n      p.cmatrixInitVal = true;\n"
        "      Mmad(acc, a2, b2, p);\n"
        "      {2}.FreeTensor(a2);\n      {3}.FreeTensor(b2);\n    }\n",
        accumulated, t, a2, b2, up16(bm) / 16, up16(bn) / 16, up16(bm), up16(bn));
    os << llvm::formatv("    {0}.EnQue(acc);\n", cubeAccumulator);
    hasCopyIn = hasCompute = true;
    return success();
  }

  /// L0C -> GM, NZ -> ND, only the rows and columns inside the output.
  LogicalResult emitCubeStore() {
    auto arg = cast<BlockArgument>(cubeStore.getBase());
    unsigned a = arg.getArgNumber(), rank = cast<MemRefType>(arg.getType()).getRank();
    os << "    // C: L0C (NZ) -> GM (ND) through the fixpipe\n    {\n";
    os << llvm::formatv("    LocalTensor<float> acc = {0}.DeQue<float>();\n", cubeAccumulator);
    std::string offset = cubeBlock(
        cubeStore.getBase(), cubeStore.getIndices(),
        cast<RankedTensorType>(cubeStore.getValue().getType()).getShape(), "mo", "no", "    ");
    os << llvm::formatv(
        "    if (mo > 0 && no > 0) {{\n      FixpipeParamsV220 p;\n      p.nSize = no;\n"
        "      p.mSize = mo;\n      p.srcStride = ((mo < 2 ? 2 : mo) + 15) / 16 * 16; // L0C's rows, as Mmad laid them\n"
        "      p.dstStride = stride{0}[{1}];\n      p.ndNum = 1;\n"
        "      Fixpipe<float, float, CFG_ROW_MAJOR>(gm{0}[{2}], acc, p);\n    }\n",
        a, rank - 2, offset);
    os << llvm::formatv("    {0}.FreeTensor(acc);\n    }\n", cubeAccumulator);
    hasCopyOut = true;
    return success();
  }

  scf::ForOp cubeLoop;
  std::string cubeMismatch; // why a kernel with a dot is not a cube matmul
  tile::DotOp cubeDot;
  tile::StoreOp cubeStore;
  std::string cubeAccumulator;

  LogicalResult emitRegion(Block &block) {
    for (Operation &op : block)
      if (failed(emit(&op)))
        return failure();
    return success();
  }

  LogicalResult emit(Operation *op) {
    if (isa<func::ReturnOp, scf::YieldOp>(op))
      return success();
    if (auto c = dyn_cast<arith::ConstantOp>(op))
      return emitConstant(c);
    if (auto pid = dyn_cast<tile::ProgramIdOp>(op)) {
      define(op->getResult(0), "int64_t",
             "pid" + std::to_string(static_cast<int>(pid.getAxis())));
      return success();
    }
    if (auto n = dyn_cast<tile::NumProgramsOp>(op)) {
      define(op->getResult(0), "int64_t",
             "grid[" + std::to_string(static_cast<int>(n.getAxis())) + "]");
      return success();
    }
    if (auto dim = dyn_cast<memref::DimOp>(op)) {
      std::optional<int64_t> index = dim.getConstantIndex();
      auto arg = dyn_cast<BlockArgument>(dim.getSource());
      if (!index || !arg)
        return fail(op, "memref.dim needs a constant index of a kernel argument");
      define(op->getResult(0), "int64_t",
             llvm::formatv("size{0}[{1}]", arg.getArgNumber(), *index).str());
      return success();
    }
    if (op->getNumResults() == 1 && !isa<RankedTensorType>(op->getResult(0).getType()) &&
        op->getDialect() && op->getDialect()->getNamespace() == "arith")
      return emitScalarArith(op);
    if (auto load = dyn_cast<tile::LoadOp>(op))
      return emitLoad(load);
    if (auto store = dyn_cast<tile::StoreOp>(op))
      return emitStore(store);
    if (isa<tile::ReshapeOp, tile::ExpandDimsOp>(op)) {
      FailureOr<TileValue> in = tileOf(op, op->getOperand(0));
      if (failed(in))
        return failure();
      TileValue alias = *in;
      auto type = cast<RankedTensorType>(op->getResult(0).getType());
      alias.shape.assign(type.getShape().begin(), type.getShape().end());
      tiles[op->getResult(0)] = alias;
      return success();
    }
    if (auto splat = dyn_cast<tile::SplatOp>(op))
      return emitSplat(splat);
    if (auto gather = dyn_cast<tile::GatherOp>(op))
      return emitGather(gather);
    if (auto dot = dyn_cast<tile::DotOp>(op))
      return emitVectorDot(dot);
    if (auto transpose = dyn_cast<tile::TransposeOp>(op))
      return emitTranspose(transpose);
    if (auto iota = dyn_cast<tile::IotaOp>(op)) {
      auto type = cast<RankedTensorType>(iota.getType());
      if (type.getRank() != 1)
        return fail(op, "only 1-D iota tiles are supported by the Ascend backend yet");
      TileValue t = newTile(type.getElementType(), type.getShape());
      os << llvm::formatv("    CreateVecIndex({0}, 0.0f, {1});\n", t.tensor, t.count());
      tiles[iota.getResult()] = t;
      hasCompute = true;
      return success();
    }
    if (auto broadcast = dyn_cast<tile::BroadcastOp>(op))
      return emitBroadcast(broadcast);
    if (auto reduce = dyn_cast<tile::ReduceOp>(op))
      return emitReduce(reduce);
    if (auto loop = dyn_cast<scf::ForOp>(op))
      return emitFor(loop);
    if (op->getNumResults() == 1 && isa<RankedTensorType>(op->getResult(0).getType()))
      return emitTileArith(op);
    return fail(op, "'") << op->getName()
                         << "' is not supported by the Ascend backend yet";
  }

  void define(Value v, StringRef type, StringRef expression) {
    std::string name = fresh("s");
    os << "    const " << type << " " << name << " = " << expression << ";\n";
    names[v] = name;
  }

  LogicalResult emitConstant(arith::ConstantOp c) {
    Type type = c.getType();
    if (auto tensor = dyn_cast<RankedTensorType>(type)) {
      auto dense = dyn_cast<DenseElementsAttr>(c.getValue());
      if (!dense || !dense.isSplat())
        return fail(c, "only splat tile constants are supported");
      std::string value;
      if (auto f = dyn_cast<FloatType>(tensor.getElementType()))
        value = floatLiteral(dense.getSplatValue<APFloat>().convertToDouble(), f);
      else
        value = std::to_string(dense.getSplatValue<APInt>().getSExtValue());
      return duplicate(c.getResult(), tensor, value);
    }
    std::string t = cType(type);
    if (t.empty())
      return fail(c, "unsupported constant type ") << type;
    if (auto f = dyn_cast<FloatAttr>(c.getValue()))
      define(c.getResult(), t, floatLiteral(f.getValueAsDouble(), type));
    else if (auto i = dyn_cast<IntegerAttr>(c.getValue()))
      define(c.getResult(), t,
             type.isInteger(1) ? (i.getValue().isZero() ? "false" : "true")
                               : std::to_string(i.getValue().getSExtValue()));
    else
      return fail(c, "unsupported constant");
    return success();
  }

  LogicalResult duplicate(Value result, RankedTensorType type, StringRef value) {
    if (cType(type.getElementType()).empty() || type.getElementType().isInteger(1))
      return fail(result.getDefiningOp(), "tiles of ")
             << type.getElementType() << " are not supported by the Ascend backend yet";
    TileValue t = newTile(type.getElementType(), type.getShape());
    os << llvm::formatv("    Duplicate({0}, static_cast<{1}>({2}), {3});\n", t.tensor,
                        storageType(t), value, std::max<int64_t>(1, t.count()));
    hasCompute = true;
    tiles[result] = t;
    return success();
  }

  LogicalResult emitSplat(tile::SplatOp splat) {
    auto type = cast<RankedTensorType>(splat.getType());
    return duplicate(splat.getResult(), type, scalar(splat.getOperand()));
  }

  LogicalResult emitScalarArith(Operation *op) {
    Value r = op->getResult(0);
    std::string t = cType(r.getType());
    if (t.empty())
      return fail(op, "unsupported scalar type ") << r.getType();
    auto a = [&](unsigned i) { return scalar(op->getOperand(i)); };
    auto u = [&](unsigned i) { return "static_cast<uint64_t>(" + a(i) + ")"; };
    std::string e;
    if (isa<arith::AddIOp, arith::AddFOp>(op)) e = a(0) + " + " + a(1);
    else if (isa<arith::SubIOp, arith::SubFOp>(op)) e = a(0) + " - " + a(1);
    else if (isa<arith::MulIOp, arith::MulFOp>(op)) e = a(0) + " * " + a(1);
    else if (isa<arith::DivFOp, arith::DivSIOp>(op)) e = a(0) + " / " + a(1);
    else if (isa<arith::RemSIOp>(op)) e = a(0) + " % " + a(1);
    else if (isa<arith::DivUIOp>(op)) e = "static_cast<int64_t>(" + u(0) + " / " + u(1) + ")";
    else if (isa<arith::RemUIOp>(op)) e = "static_cast<int64_t>(" + u(0) + " % " + u(1) + ")";
    else if (isa<arith::CeilDivUIOp>(op))
      e = "static_cast<int64_t>((" + u(0) + " + " + u(1) + " - 1) / " + u(1) + ")";
    else if (isa<arith::MinSIOp>(op)) e = "(" + a(0) + " < " + a(1) + " ? " + a(0) + " : " + a(1) + ")";
    else if (isa<arith::MaxSIOp>(op)) e = "(" + a(0) + " > " + a(1) + " ? " + a(0) + " : " + a(1) + ")";
    else if (isa<arith::MinUIOp>(op)) e = "(" + u(0) + " < " + u(1) + " ? " + a(0) + " : " + a(1) + ")";
    else if (isa<arith::MaxUIOp>(op)) e = "(" + u(0) + " > " + u(1) + " ? " + a(0) + " : " + a(1) + ")";
    else if (isa<arith::IndexCastOp, arith::IndexCastUIOp, arith::SIToFPOp,
                 arith::ExtSIOp, arith::TruncIOp, arith::FPToSIOp>(op))
      e = "static_cast<" + t + ">(" + a(0) + ")";
    else if (isa<arith::UIToFPOp>(op)) e = "static_cast<" + t + ">(" + u(0) + ")";
    else if (isa<arith::SelectOp>(op)) e = a(0) + " ? " + a(1) + " : " + a(2);
    else if (auto cmp = dyn_cast<arith::CmpIOp>(op)) {
      bool unsignedCompare = false;
      StringRef symbol;
      switch (cmp.getPredicate()) {
      case arith::CmpIPredicate::eq: symbol = "=="; break;
      case arith::CmpIPredicate::ne: symbol = "!="; break;
      case arith::CmpIPredicate::slt: symbol = "<"; break;
      case arith::CmpIPredicate::sle: symbol = "<="; break;
      case arith::CmpIPredicate::sgt: symbol = ">"; break;
      case arith::CmpIPredicate::sge: symbol = ">="; break;
      case arith::CmpIPredicate::ult: symbol = "<"; unsignedCompare = true; break;
      case arith::CmpIPredicate::ule: symbol = "<="; unsignedCompare = true; break;
      case arith::CmpIPredicate::ugt: symbol = ">"; unsignedCompare = true; break;
      case arith::CmpIPredicate::uge: symbol = ">="; unsignedCompare = true; break;
      }
      e = unsignedCompare ? u(0) + " " + symbol.str() + " " + u(1)
                          : a(0) + " " + symbol.str() + " " + a(1);
    } else
      return fail(op, "scalar '") << op->getName()
                                  << "' is not supported by the Ascend backend yet";
    define(r, t, e);
    return success();
  }

  /// A block of a tile shape at `indices` of an argument: rows of its last
  /// dimension, nested over the leading dimensions.
  struct BlockND {
    SmallVector<int64_t> shape;     // the tile's
    SmallVector<std::string> index; // C++ expressions of the block's origin
    bool scalar = false;            // moved element by element (see blockOf)
    int64_t columns() const { return shape.back(); }
    int64_t count() const {
      int64_t n = 1;
      for (int64_t d : shape)
        n *= d;
      return n;
    }
  };
  FailureOr<BlockND> blockOf(Operation *op, BlockArgument base, ValueRange indices,
                             RankedTensorType tile) {
    auto memref = cast<MemRefType>(base.getType());
    if (tile.getRank() != memref.getRank() || tile.getRank() == 0) {
      fail(op, "a tile of rank ") << tile.getRank() << " of a rank "
                                  << memref.getRank() << " argument";
      return failure();
    }
    BlockND b;
    b.shape.assign(tile.getShape().begin(), tile.getShape().end());
    for (Value index : indices)
      b.index.push_back(scalar(index));
    // Rows that are not whole 32-byte blocks would land misaligned in UB.
    b.scalar = !unitInnerStride[base.getArgNumber()] ||
               (b.columns() * bytesOf(tile.getElementType())) % chip.ubAlignment != 0;
    return b;
  }

  /// Declares the extents of the block inside argument `arg` (<tag>_e<d>,
  /// the rows or columns of dimension d that exist); returns the C++
  /// condition that the whole block exists.
  std::string declareExtents(unsigned arg, const BlockND &b, StringRef tag) {
    std::string full;
    for (size_t d = 0; d < b.shape.size(); ++d) {
      std::string e = (tag + "_e" + Twine(d)).str();
      os << llvm::formatv("    const int64_t {0} = prism_extent(size{1}[{2}] - {3}, {4});\n", e,
                          arg, d, b.index[d], b.shape[d]);
      full += (d ? " && " : "") + e + " == " + std::to_string(b.shape[d]);
    }
    return full;
  }

  /// Opens one loop (<tag>_r<d>) per dimension over what exists of the
  /// block: per leading dimension when moving whole `rows` (guarded by the
  /// row having columns), else per dimension (element by element). Returns
  /// the C++ of the UB offset (of the row, or of the element) and of the GM
  /// element offset.
  std::pair<std::string, std::string> openLoops(unsigned arg, const BlockND &b,
                                                StringRef tag, bool rows) {
    size_t rank = b.shape.size(), loops = rows ? rank - 1 : rank;
    if (rows)
      os << llvm::formatv("    if ({0}_e{1} > 0)\n", tag, rank - 1);
    std::string ub = "0", gm = llvm::formatv("offset{0}", arg).str();
    for (size_t d = 0; d < loops; ++d) {
      std::string r = (tag + "_r" + Twine(d)).str();
      os << llvm::formatv("    for (int64_t {0} = 0; {0} < {1}_e{2}; ++{0})\n", r, tag, d);
      ub = "(" + ub + ") * " + std::to_string(b.shape[d]) + " + " + r;
      gm += llvm::formatv(" + ({0} + {1}) * stride{2}[{3}]", b.index[d], r, arg, d).str();
    }
    if (rows) {
      ub = "(" + ub + ") * " + std::to_string(b.columns());
      gm += " + " + b.index.back();
    }
    return {ub, gm};
  }

  LogicalResult emitLoad(tile::LoadOp load) {
    auto base = dyn_cast<BlockArgument>(load.getBase());
    if (!base)
      return fail(load, "loads must read a kernel argument");
    auto type = cast<RankedTensorType>(load.getType());
    FailureOr<BlockND> b = blockOf(load, base, load.getIndices(), type);
    if (failed(b))
      return failure();
    unsigned arg = base.getArgNumber();
    std::string t = cType(type.getElementType());
    std::string pad = load.getPadding() ? "static_cast<" + t + ">(" + scalar(load.getPadding()) + ")"
                                        : "static_cast<" + t + ">(0)";
    if (b->scalar)
      return emitScalarLoad(load, arg, *b, pad);
    std::string queue = newQueue("VECIN", type.getElementType(), type.getShape());
    TileValue value = newTile(type.getElementType(), type.getShape());
    std::string tag = fresh("ld");
    int64_t count = b->count(), elementBytes = bytesOf(type.getElementType());
    os << "    // copy-in: " << describe(type.getElementType(), type.getShape())
       << " from argument " << arg << "\n    {\n";
    os << llvm::formatv("    LocalTensor<{0}> in = {1}.AllocTensor<{0}>();\n", t, queue);
    std::string full = declareExtents(arg, *b, tag);
    os << llvm::formatv("    if (!({0})) {{ Duplicate(in, {1}, {2}); PRISM_SYNC(V_MTE2); }\n",
                        full, pad, count);
    auto [ubRow, gm] = openLoops(arg, *b, tag, /*rows=*/true);
    os << llvm::formatv(
        "        DataCopyPad(in[{0}], gm{1}[{2}], DataCopyExtParams{{1, "
        "static_cast<uint32_t>({3}_e{4} * {5}), 0, 0, 0}, DataCopyPadExtParams<{6}>{{true, 0, "
        "prism_right_padding({3}_e{4}, {5}), {7}});\n",
        ubRow, arg, gm, tag, b->shape.size() - 1, elementBytes, t, pad);
    os << llvm::formatv("    {0}.EnQue(in);\n    }\n", queue);
    os << llvm::formatv("    {{\n    LocalTensor<{0}> in = {1}.DeQue<{0}>();\n", t, queue);
    os << llvm::formatv("    DataCopy({0}, in, {1});\n", value.tensor, count);
    os << llvm::formatv("    {0}.FreeTensor(in);\n    }\n", queue);
    tiles[load.getResult()] = value;
    hasCopyIn = true;
    return success();
  }

  LogicalResult emitStore(tile::StoreOp store) {
    if (store.getMask())
      return fail(store, "masked stores are not supported by the Ascend backend yet");
    auto base = dyn_cast<BlockArgument>(store.getBase());
    if (!base)
      return fail(store, "stores must write a kernel argument");
    auto type = cast<RankedTensorType>(store.getValue().getType());
    FailureOr<BlockND> b = blockOf(store, base, store.getIndices(), type);
    FailureOr<TileValue> value = tileOf(store, store.getValue());
    if (failed(b) || failed(value))
      return failure();
    unsigned arg = base.getArgNumber();
    std::string t = cType(type.getElementType());
    if (b->scalar)
      return emitScalarStore(*value, arg, *b, t);
    std::string queue = newQueue("VECOUT", type.getElementType(), type.getShape());
    std::string tag = fresh("st");
    int64_t count = b->count(), elementBytes = bytesOf(type.getElementType());
    os << "    // copy-out: " << describe(type.getElementType(), type.getShape())
       << " to argument " << arg << "\n    {\n";
    os << llvm::formatv("    LocalTensor<{0}> out = {1}.AllocTensor<{0}>();\n", t, queue);
    os << llvm::formatv("    DataCopy(out, {0}, {1});\n", value->tensor, count);
    os << llvm::formatv("    {0}.EnQue(out);\n    }\n    {{\n", queue);
    os << llvm::formatv("    LocalTensor<{0}> out = {1}.DeQue<{0}>();\n", t, queue);
    declareExtents(arg, *b, tag);
    auto [ubRow, gm] = openLoops(arg, *b, tag, /*rows=*/true);
    os << llvm::formatv("        DataCopyPad(gm{0}[{1}], out[{2}], DataCopyExtParams{{1, "
                        "static_cast<uint32_t>({3}_e{4} * {5}), 0, 0, 0});\n",
                        arg, gm, ubRow, tag, b->shape.size() - 1, elementBytes);
    os << llvm::formatv("    {0}.FreeTensor(out);\n    }\n", queue);
    hasCopyOut = true;
    return success();
  }

  /// A load of a strided view or of rows narrower than 32 bytes: element by
  /// element from GM into the tile's buffer on the scalar unit.
  LogicalResult emitScalarLoad(tile::LoadOp load, unsigned arg, const BlockND &b,
                               StringRef pad) {
    auto type = cast<RankedTensorType>(load.getType());
    TileValue value = newTile(type.getElementType(), type.getShape());
    std::string tag = fresh("ld");
    os << "    // copy-in (scalar unit): " << describe(type.getElementType(), type.getShape())
       << " from argument " << arg << "\n    {\n";
    std::string full = declareExtents(arg, b, tag);
    os << llvm::formatv("    PRISM_SYNC(V_S);\n    if (!({0}))\n      for (int64_t k = 0; k < "
                        "{1}; ++k)\n        {2}.SetValue(k, {3});\n",
                        full, b.count(), value.tensor, pad);
    auto [ub, gm] = openLoops(arg, b, tag, /*rows=*/false);
    os << llvm::formatv("        {0}.SetValue({1}, gm{2}.GetValue({3}));\n", value.tensor, ub,
                        arg, gm);
    os << "    PRISM_SYNC(S_V);\n    }\n";
    tiles[load.getResult()] = value;
    hasCopyIn = true;
    return success();
  }

  LogicalResult emitScalarStore(const TileValue &value, unsigned arg, const BlockND &b,
                                StringRef t) {
    std::string tag = fresh("st");
    os << "    // copy-out (scalar unit) to argument " << arg << "\n    {\n";
    os << "    PRISM_SYNC(V_S);\n";
    declareExtents(arg, b, tag);
    auto [ub, gm] = openLoops(arg, b, tag, /*rows=*/false);
    os << llvm::formatv("        gm{0}.SetValue({1}, {2}.GetValue({3}));\n", arg, gm,
                        value.tensor, ub);
    os << llvm::formatv("    DataCacheCleanAndInvalid<{0}, CacheLine::ENTIRE_DATA_CACHE, DcciDst::CACHELINE_OUT>(gm{1});\n",
                        t, arg);
    os << "    }\n";
    hasCopyOut = true;
    return success();
  }

  /// Arbitrary elements of an argument, on the scalar unit (embedding rows,
  /// table lookups); elements outside the argument (or masked) are zero.
  LogicalResult emitGather(tile::GatherOp gather) {
    auto base = dyn_cast<BlockArgument>(gather.getBase());
    if (!base)
      return fail(gather, "gathers must read a kernel argument");
    unsigned arg = base.getArgNumber();
    auto type = cast<RankedTensorType>(gather.getType());
    SmallVector<TileValue> indices;
    for (Value index : gather.getIndices()) {
      FailureOr<TileValue> t = tileOf(gather, index);
      if (failed(t))
        return failure();
      indices.push_back(*t);
    }
    std::optional<TileValue> mask;
    if (gather.getMask()) {
      FailureOr<TileValue> m = tileOf(gather, gather.getMask());
      if (failed(m))
        return failure();
      mask = *m;
    }
    TileValue out = newTile(type.getElementType(), type.getShape());
    std::string t = storageType(out);
    os << "    // gather (scalar unit) from argument " << arg << "\n";
    os << "    PRISM_SYNC(V_S);\n";
    os << llvm::formatv("    for (int64_t k = 0; k < {0}; ++k) {{\n", out.count());
    std::string inside = "true", address = llvm::formatv("offset{0}", arg).str();
    for (size_t d = 0; d < indices.size(); ++d) {
      os << llvm::formatv("      const int64_t g{0} = static_cast<int64_t>({1}.GetValue(k));\n",
                          d, indices[d].tensor);
      inside += llvm::formatv(" && g{0} >= 0 && g{0} < size{1}[{0}]", d, arg).str();
      address += llvm::formatv(" + g{0} * stride{1}[{0}]", d, arg).str();
    }
    if (mask)
      inside += llvm::formatv(" && (({0}.GetValue(k / 8) >> (k % 8)) & 1)", mask->tensor).str();
    os << llvm::formatv("      {0}.SetValue(k, ({1}) ? gm{2}.GetValue({3}) : static_cast<{4}>(0));\n",
                        out.tensor, inside, arg, address, t);
    os << "    }\n    PRISM_SYNC(S_V);\n";
    tiles[gather.getResult()] = out;
    hasCopyIn = true;
    return success();
  }

  /// An f32 dot on the vector unit: C[m, :] += A[m, k] * B[k, :], one
  /// scalar-times-row and one add per (m, k). Correct, not fast: f16/bf16
  /// dots run on the cube unit instead.
  LogicalResult emitVectorDot(tile::DotOp dot) {
    FailureOr<TileValue> a = tileOf(dot, dot.getLhs()), b = tileOf(dot, dot.getRhs()),
                         acc = tileOf(dot, dot.getAcc());
    if (failed(a) || failed(b) || failed(acc))
      return failure();
    int64_t m = a->shape[0], k = a->shape[1], n = b->shape[1];
    if ((n * 4) % chip.ubAlignment)
      return fail(dot, "f32 dots need rows of whole 32-byte blocks (N a multiple of 8)");
    TileValue out = newTile(acc->element, acc->shape);
    TileValue row = newTile(acc->element, {n});
    copyLocal(out, *acc);
    os << "    PRISM_SYNC(V_S);\n";
    os << llvm::formatv("    for (int64_t m = 0; m < {0}; ++m)\n"
                        "      for (int64_t k = 0; k < {1}; ++k) {{\n"
                        "        const float a = {2}.GetValue(m * {1} + k);\n"
                        "        Muls({3}, {4}[k * {5}], a, {5});\n"
                        "        Add({6}[m * {5}], {6}[m * {5}], {3}, {5});\n      }\n",
                        m, k, a->tensor, row.tensor, b->tensor, n, out.tensor);
    tiles[dot.getResult()] = out;
    hasCompute = true;
    return success();
  }

  /// A 2-D transpose on the scalar unit.
  LogicalResult emitTranspose(tile::TransposeOp op) {
    FailureOr<TileValue> in = tileOf(op, op.getInput());
    if (failed(in))
      return failure();
    if (in->shape.size() != 2)
      return fail(op, "only 2-D transposes are supported by the Ascend backend yet");
    auto type = cast<RankedTensorType>(op.getType());
    TileValue out = newTile(type.getElementType(), type.getShape());
    int64_t rows = in->shape[0], columns = in->shape[1];
    os << "    PRISM_SYNC(V_S);\n";
    os << llvm::formatv("    for (int64_t i = 0; i < {0}; ++i)\n"
                        "      for (int64_t j = 0; j < {1}; ++j)\n"
                        "        {2}.SetValue(j * {0} + i, {3}.GetValue(i * {1} + j));\n",
                        rows, columns, out.tensor, in->tensor);
    os << "    PRISM_SYNC(S_V);\n";
    tiles[op.getResult()] = out;
    hasCompute = true;
    return success();
  }

  LogicalResult emitBroadcast(tile::BroadcastOp op) {
    FailureOr<TileValue> in = tileOf(op, op.getInput());
    if (failed(in))
      return failure();
    auto type = cast<RankedTensorType>(op.getType());
    if (type.getElementType().isInteger(1))
      return fail(op, "broadcasts of masks are not supported by the Ascend backend yet");
    TileValue out = newTile(type.getElementType(), type.getShape());
    hasCompute = true;
    std::string t = storageType(out);
    int64_t inCount = in->count(), outCount = out.count();
    int64_t columns = type.getRank() ? type.getShape().back() : 1;
    if (inCount == 1) { // a scalar everywhere
      os << "    PRISM_SYNC(V_S);\n";
      os << llvm::formatv("    Duplicate({0}, static_cast<{1}>({2}.GetValue(0)), {3});\n",
                          out.tensor, t, in->tensor, outCount);
    } else if (inCount == columns && !in->shape.empty() && in->shape.back() == columns) {
      // A row repeated over the leading dimensions.
      for (int64_t r = 0; r < outCount / columns; ++r)
        os << llvm::formatv("    DataCopy({0}[{1}], {2}, {3});\n", out.tensor, r * columns,
                            in->tensor, columns);
    } else if (type.getRank() == 2 && inCount == type.getDimSize(0) &&
               (in->shape.empty() || in->shape.back() == 1 || in->shape.size() == 1)) {
      // A column repeated along the rows.
      os << "    PRISM_SYNC(V_S);\n";
      os << llvm::formatv("    for (int64_t r = 0; r < {0}; ++r)\n"
                          "      Duplicate({1}[r * {2}], static_cast<{3}>({4}.GetValue(r)), {2});\n",
                          type.getDimSize(0), out.tensor, columns, t, in->tensor);
    } else {
      return fail(op, "this broadcast is not supported by the Ascend backend yet");
    }
    tiles[op.getResult()] = out;
    return success();
  }

  LogicalResult emitReduce(tile::ReduceOp op) {
    FailureOr<TileValue> in = tileOf(op, op.getInput());
    if (failed(in))
      return failure();
    if (!in->element.isF32() && !in->element.isF16())
      return fail(op, "reductions of ") << in->element << " are not on the vector unit";
    auto type = cast<RankedTensorType>(op.getType());
    int64_t rank = in->shape.size(), axis = op.getAxis();
    if (axis != rank - 1)
      return fail(op, "only reductions along the last axis are supported by the Ascend backend yet");
    StringRef name = op.getKind() == tile::CombineKind::Sum   ? "ReduceSum"
                     : op.getKind() == tile::CombineKind::Max ? "ReduceMax"
                                                              : "ReduceMin";
    int64_t columns = in->shape.back(), rows = in->count() / columns;
    TileValue out = newTile(type.getElementType(), type.getShape());
    // The work buffer ReduceSum/ReduceMax need (Ascend C's formula, in
    // elements), at least one row.
    int64_t perBlock = 32 / bytesOf(in->element), perRepeat = 256 / bytesOf(in->element);
    int64_t firstRepeats = std::max<int64_t>(1, (columns + perRepeat - 1) / perRepeat);
    int64_t workElements = std::max<int64_t>(
        columns, (2 * firstRepeats + perBlock - 1) / perBlock * perBlock * perBlock);
    TileValue work = newTile(in->element, {workElements});
    hasCompute = true;
    if (rows == 1) {
      os << llvm::formatv("    {0}({1}, {2}, {3}, {4});\n", name, out.tensor, in->tensor,
                          work.tensor, columns);
    } else {
      TileValue one = newTile(in->element, {1});
      os << llvm::formatv("    for (int64_t r = 0; r < {0}; ++r) {{\n"
                          "      {1}({2}, {3}[r * {4}], {5}, {4});\n"
                          "      PRISM_SYNC(V_S);\n"
                          "      {6}.SetValue(r, {2}.GetValue(0));\n"
                          "      PRISM_SYNC(S_V);\n    }\n",
                          rows, name, one.tensor, in->tensor, columns, work.tensor,
                          out.tensor);
    }
    tiles[op.getResult()] = out;
    return success();
  }

  LogicalResult emitTileArith(Operation *op) {
    auto type = cast<RankedTensorType>(op->getResult(0).getType());
    SmallVector<TileValue> in;
    for (Value operand : op->getOperands()) {
      if (!isa<RankedTensorType>(operand.getType()))
        return fail(op, "mixes tiles and scalars");
      FailureOr<TileValue> t = tileOf(op, operand);
      if (failed(t))
        return failure();
      in.push_back(*t);
    }
    Type element = type.getElementType();
    if (isa<arith::SIToFPOp, arith::UIToFPOp, arith::IndexCastOp, arith::IndexCastUIOp,
            arith::FPToSIOp>(op))
      return emitIntegerConversion(op, type, in[0]);
    if (element.isIndex() || element.isInteger(1) || isa<arith::SelectOp>(op))
      return emitIndexOrMaskArith(op, type, in);
    bool conversion = isa<arith::ExtFOp, arith::TruncFOp>(op);
    if (!conversion && !element.isF32() && !element.isF16())
      return fail(op, "'") << op->getName() << "' on " << element
                           << " tiles: the vector unit computes in f16 and f32 "
                              "(bf16 only converts)";
    TileValue out = newTile(element, type.getShape());
    int64_t n = std::max<int64_t>(1, out.count());
    auto emit2 = [&](StringRef fn) {
      os << llvm::formatv("    {0}({1}, {2}, {3}, {4});\n", fn, out.tensor, in[0].tensor,
                          in[1].tensor, n);
    };
    auto emit1 = [&](StringRef fn, const std::string &dst, const std::string &src) {
      os << llvm::formatv("    {0}({1}, {2}, {3});\n", fn, dst, src, n);
    };
    auto emitScalar = [&](StringRef fn, const std::string &dst, const std::string &src,
                          double value) {
      os << llvm::formatv("    {0}({1}, {2}, {3}, {4});\n", fn, dst, src,
                          floatLiteral(value, element), n);
    };
    hasCompute = true;
    if (isa<math::TanhOp, math::ErfOp, math::SinOp, math::CosOp>(op))
      kernel.reservedBytes = std::max<int64_t>(kernel.reservedBytes, kMathLibraryReserve);
    if (isa<arith::AddFOp>(op)) emit2("Add");
    else if (isa<arith::SubFOp>(op)) emit2("Sub");
    else if (isa<arith::MulFOp>(op)) emit2("Mul");
    else if (isa<arith::DivFOp>(op)) emit2("Div");
    else if (isa<arith::MaximumFOp, arith::MaxNumFOp>(op)) emit2("Max");
    else if (isa<arith::MinimumFOp, arith::MinNumFOp>(op)) emit2("Min");
    else if (isa<arith::NegFOp>(op)) emitScalar("Muls", out.tensor, in[0].tensor, -1.0);
    else if (isa<math::ExpOp>(op)) emit1("Exp", out.tensor, in[0].tensor);
    else if (isa<math::Exp2Op>(op)) {
      // Ascend C has no Exp2: exp(x ln 2).
      emitScalar("Muls", out.tensor, in[0].tensor, llvm::numbers::ln2);
      emit1("Exp", out.tensor, out.tensor);
    }
    else if (isa<math::LogOp>(op)) emit1("Ln", out.tensor, in[0].tensor);
    else if (isa<math::SqrtOp>(op)) emit1("Sqrt", out.tensor, in[0].tensor);
    else if (isa<math::RsqrtOp>(op)) {
      // Rsqrt is below f32 accuracy (its documentation says so): 1 / sqrt.
      TileValue ones = newTile(element, type.getShape());
      emit1("Sqrt", out.tensor, in[0].tensor);
      os << llvm::formatv("    Duplicate({0}, {1}, {2});\n", ones.tensor,
                          floatLiteral(1.0, element), n);
      os << llvm::formatv("    Div({0}, {1}, {0}, {2});\n", out.tensor, ones.tensor, n);
    }
    else if (isa<math::AbsFOp>(op)) emit1("Abs", out.tensor, in[0].tensor);
    // Ascend C's math library (tanh, erf, sin, cos: calls that take the
    // count, with the library's own temporary buffer).
    else if (isa<math::RoundEvenOp>(op)) {
      // Through int32 with round-to-nearest-even (saturating), and back.
      TileValue integers = newTile(IntegerType::get(op->getContext(), 32), type.getShape());
      os << llvm::formatv("    Cast({0}, {1}, RoundMode::CAST_RINT, {2});\n", integers.tensor,
                          in[0].tensor, n);
      os << llvm::formatv("    Cast({0}, {1}, RoundMode::CAST_NONE, {2});\n", out.tensor,
                          integers.tensor, n);
    } else if (isa<math::TanhOp>(op)) emit1("Tanh", out.tensor, in[0].tensor);
    else if (isa<math::ErfOp>(op)) emit1("Erf", out.tensor, in[0].tensor);
    else if (isa<math::SinOp>(op)) emit1("Sin", out.tensor, in[0].tensor);
    else if (isa<math::CosOp>(op)) emit1("Cos", out.tensor, in[0].tensor);
    else if (isa<arith::ExtFOp, arith::TruncFOp>(op)) {
      os << llvm::formatv("    Cast({0}, {1}, RoundMode::{2}, {3});\n", out.tensor,
                          in[0].tensor, isa<arith::TruncFOp>(op) ? "CAST_RINT" : "CAST_NONE",
                          n);
    } else
      return fail(op, "'") << op->getName()
                           << "' is not supported by the Ascend backend yet";
    tiles[op->getResult(0)] = out;
    return success();
  }

  /// Conversions between integer, index (float storage) and float tiles.
  LogicalResult emitIntegerConversion(Operation *op, RankedTensorType type,
                                      const TileValue &in) {
    Type to = type.getElementType();
    // An index tile already holds floats: to f32 it is the same buffer.
    if (in.isIndex() && to.isF32()) {
      TileValue alias = in;
      alias.element = to;
      tiles[op->getResult(0)] = alias;
      return success();
    }
    TileValue out = newTile(to, type.getShape());
    hasCompute = true;
    int64_t n = std::max<int64_t>(1, out.count());
    std::string from = storageType(in), into = storageType(out);
    bool vectorCast = (from == "int32_t" && (into == "float" || into == "half")) ||
                      ((from == "float" || from == "half") && into == "int32_t") ||
                      (from == "half" && into == "int8_t") ||
                      (from == "int8_t" && into == "half");
    if (from == "int8_t" && into == "float") {
      // int8 -> half is exact, then half -> float.
      TileValue halves = newTile(Float16Type::get(op->getContext()), type.getShape());
      os << llvm::formatv("    Cast({0}, {1}, RoundMode::CAST_NONE, {2});\n", halves.tensor,
                          in.tensor, n);
      os << llvm::formatv("    Cast({0}, {1}, RoundMode::CAST_NONE, {2});\n", out.tensor,
                          halves.tensor, n);
    } else if (from == "float" && into == "int8_t") {
      // No float -> int8 conversion on A2: through half (exact for the
      // integral values in int8's range this is used for).
      TileValue halves = newTile(Float16Type::get(op->getContext()), type.getShape());
      os << llvm::formatv("    Cast({0}, {1}, RoundMode::CAST_RINT, {2});\n", halves.tensor,
                          in.tensor, n);
      os << llvm::formatv("    Cast({0}, {1}, RoundMode::CAST_TRUNC, {2});\n", out.tensor,
                          halves.tensor, n);
    } else if (vectorCast) {
      os << llvm::formatv("    Cast({0}, {1}, RoundMode::{2}, {3});\n", out.tensor, in.tensor,
                          into == "int32_t" ? "CAST_TRUNC" : "CAST_NONE", n);
    } else if (from == "int64_t" || into == "int64_t") {
      // No 64-bit integers on the vector unit: convert on the scalar unit.
      os << llvm::formatv("    PRISM_SYNC(V_S);\n    for (int64_t k = 0; k < {0}; ++k)\n"
                          "      {1}.SetValue(k, static_cast<{2}>({3}.GetValue(k)));\n"
                          "    PRISM_SYNC(S_V);\n",
                          n, out.tensor, into, in.tensor);
    } else {
      return fail(op, "converting ") << in.element << " tiles to " << to
                                     << " is not supported by the Ascend backend yet";
    }
    tiles[op->getResult(0)] = out;
    return success();
  }

  /// Index tiles (float storage), comparisons into masks, and selects.
  LogicalResult emitIndexOrMaskArith(Operation *op, RankedTensorType type,
                                     ArrayRef<TileValue> in) {
    TileValue out = newTile(type.getElementType(), type.getShape());
    hasCompute = true;
    auto padded = [&](const TileValue &t) { return t.padded(); };
    if (out.isIndex()) {
      StringRef fn = isa<arith::AddIOp>(op)                    ? "Add"
                     : isa<arith::SubIOp>(op)                  ? "Sub"
                     : isa<arith::MulIOp>(op)                  ? "Mul"
                     : isa<arith::MaxSIOp, arith::MaxUIOp>(op) ? "Max"
                     : isa<arith::MinSIOp, arith::MinUIOp>(op) ? "Min"
                                                               : "";
      if (fn.empty())
        return fail(op, "'") << op->getName()
                             << "' on index tiles is not supported by the Ascend backend yet";
      os << llvm::formatv("    {0}({1}, {2}, {3}, {4});\n", fn, out.tensor, in[0].tensor,
                          in[1].tensor, out.count());
    } else if (auto select = dyn_cast<arith::SelectOp>(op)) {
      if (!in[0].isMask() || in[1].isMask())
        return fail(op, "selects of masks, or with a scalar condition, are not "
                        "supported by the Ascend backend yet");
      if (!out.isIndex() && !out.element.isF32() && !out.element.isF16())
        return fail(op, "selects of ") << out.element << " tiles are not on the vector unit";
      // Select in tensor-tensor mode keeps 8 KB of UB for itself on A2.
      kernel.reservedBytes = std::max<int64_t>(kernel.reservedBytes, kSelectReserve);
      os << llvm::formatv("    Select({0}, {1}, {2}, {3}, SELMODE::VSEL_TENSOR_TENSOR_MODE, "
                          "{4});\n",
                          out.tensor, in[0].tensor, in[1].tensor, in[2].tensor, padded(out));
    } else if (isa<arith::CmpIOp, arith::CmpFOp>(op)) {
      std::string mode;
      if (auto cmp = dyn_cast<arith::CmpIOp>(op)) {
        switch (cmp.getPredicate()) {
        case arith::CmpIPredicate::eq: mode = "EQ"; break;
        case arith::CmpIPredicate::ne: mode = "NE"; break;
        case arith::CmpIPredicate::slt: case arith::CmpIPredicate::ult: mode = "LT"; break;
        case arith::CmpIPredicate::sle: case arith::CmpIPredicate::ule: mode = "LE"; break;
        case arith::CmpIPredicate::sgt: case arith::CmpIPredicate::ugt: mode = "GT"; break;
        case arith::CmpIPredicate::sge: case arith::CmpIPredicate::uge: mode = "GE"; break;
        }
      } else {
        switch (cast<arith::CmpFOp>(op).getPredicate()) {
        case arith::CmpFPredicate::OEQ: mode = "EQ"; break;
        case arith::CmpFPredicate::UNE: mode = "NE"; break;
        case arith::CmpFPredicate::OLT: mode = "LT"; break;
        case arith::CmpFPredicate::OLE: mode = "LE"; break;
        case arith::CmpFPredicate::OGT: mode = "GT"; break;
        case arith::CmpFPredicate::OGE: mode = "GE"; break;
        case arith::CmpFPredicate::UNO:
          // isnan(x): x != x (NaN compares unequal to itself).
          if (op->getOperand(0) == op->getOperand(1)) {
            mode = "NE";
            break;
          }
          return fail(op, "this float comparison is not supported by the Ascend backend yet");
        default:
          return fail(op, "this float comparison is not supported by the Ascend backend yet");
        }
      }
      if (!in[0].isIndex() && !in[0].element.isF32() && !in[0].element.isF16())
        return fail(op, "comparisons of ") << in[0].element
                                           << " tiles are not on the vector unit";
      os << llvm::formatv("    Compare({0}, {1}, {2}, CMPMODE::{3}, {4});\n", out.tensor,
                          in[0].tensor, in[1].tensor, mode, padded(in[0]));
    } else if (isa<arith::AndIOp, arith::OrIOp>(op) && out.isMask()) {
      os << llvm::formatv("    {0}({1}.ReinterpretCast<uint16_t>(), "
                          "{2}.ReinterpretCast<uint16_t>(), {3}.ReinterpretCast<uint16_t>(), "
                          "{4});\n",
                          isa<arith::AndIOp>(op) ? "And" : "Or", out.tensor, in[0].tensor,
                          in[1].tensor, (padded(out) + 15) / 16);
    } else {
      return fail(op, "'") << op->getName()
                           << "' on index or mask tiles is not supported by the Ascend "
                              "backend yet";
    }
    tiles[op->getResult(0)] = out;
    return success();
  }

  LogicalResult emitFor(scf::ForOp loop) {
    std::vector<TileValue> carried;
    for (auto [init, arg] : llvm::zip(loop.getInitArgs(), loop.getRegionIterArgs())) {
      if (!isa<RankedTensorType>(arg.getType()))
        return fail(loop, "loops may carry tiles only");
      FailureOr<TileValue> start = tileOf(loop, init);
      if (failed(start))
        return failure();
      TileValue slot = newTile(start->element, start->shape);
      copyLocal(slot, *start);
      tiles[arg] = slot;
      carried.push_back(slot);
    }
    std::string iv = fresh("iv");
    os << llvm::formatv("    for (int64_t {0} = {1}; {0} < {2}; {0} += {3}) {{\n", iv,
                        scalar(loop.getLowerBound()), scalar(loop.getUpperBound()),
                        scalar(loop.getStep()));
    names[loop.getInductionVar()] = iv;
    if (failed(emitRegion(*loop.getBody())))
      return failure();
    auto yield = cast<scf::YieldOp>(loop.getBody()->getTerminator());
    for (auto [slot, yielded] : llvm::zip(carried, yield.getOperands())) {
      FailureOr<TileValue> next = tileOf(yield, yielded);
      if (failed(next))
        return failure();
      if (next->tensor != slot.tensor)
        copyLocal(slot, *next);
    }
    os << "    }\n";
    for (auto [slot, result] : llvm::zip(carried, loop.getResults()))
      tiles[result] = slot;
    return success();
  }

  func::FuncOp function;
  const ChipModel &chip;
  AscendKernel kernel;
  std::string body, declarations;
  llvm::raw_string_ostream os;
  llvm::DenseMap<Value, std::string> names;
  llvm::DenseMap<Value, TileValue> tiles;
  std::vector<bool> unitInnerStride; // per argument
  int counter = 0;
  bool hasCopyIn = false, hasCompute = false, hasCopyOut = false;

public:
  std::string takeDeclarations() { return declarations; }
};

} // namespace

FailureOr<AscendKernel> buildAscendKernel(func::FuncOp tileKernel,
                                          const ChipModel &chip) {
  Builder builder(tileKernel, chip);
  FailureOr<AscendKernel> kernel = builder.build();
  if (failed(kernel))
    return failure();
  kernel->body = builder.takeDeclarations() + kernel->body;
  return kernel;
}

} // namespace prism::ascend
