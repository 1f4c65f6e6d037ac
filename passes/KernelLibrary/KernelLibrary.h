//===- KernelLibrary.h - Every prism op as one tile kernel ------*- C++ -*-===//
//
// Each function builds one tile kernel into a module. Kernels take memrefs of
// any strides (views: broadcasts are stride-0 dimensions, transposes permuted
// strides), read runtime sizes from them, mask their tails, and compute in
// f32 whatever the storage type. The launch grid each kernel expects is
// stated next to it and computed by kernelization.
//
//===----------------------------------------------------------------------===//

#ifndef PRISM_PASSES_KERNELLIBRARY_KERNELLIBRARY_H
#define PRISM_PASSES_KERNELLIBRARY_KERNELLIBRARY_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/BuiltinTypes.h"
#include "llvm/ADT/DenseMap.h"

#include <functional>
#include <optional>

namespace prism::kernels {

class KernelBuilder;

/// Tile sizes, chosen by the target backend.
struct TileSizes {
  int64_t elementwiseBlock = 256; // elements of the last dim per program
  int64_t rowBlock = 256;         // row chunk of norms and softmax
  /// Norm and softmax rows whose static length is at most this are one
  /// chunk, read once and kept in registers between the reduction and the
  /// output (0: always chunks of rowBlock, each read again per pass).
  int64_t wholeRowMax = 0;
  /// Set by forRow: the planner guarantees that every row of the kernel
  /// fits one chunk of rowBlock (forOperands clears it when it shortens
  /// the chunk); the row kernels read it from forOperands' sizes.
  bool wholeRow = false;
  int64_t matmulM = 8;
  int64_t matmulN = 64;
  int64_t matmulK = 16;
  /// Matmul programs in launch order walk this many row blocks for each
  /// column block (1: every row block, the grid's own order).
  int64_t matmulGroupM = 1;
  /// Split-K: the K range of a matmul is cut into this many parts, each
  /// program summing one into an f32 partial that the epilogue kernel
  /// adds up (1: never; 0: the planner's choice from matmulSplitKFill).
  int64_t matmulSplitK = 0;
  /// The programs that fill the target (its multiprocessors; 0: none).
  /// With matmulSplitK = 0, a matmul of static sizes whose output tiles
  /// are at most half of these (a decode step: 8 rows x 4096 columns is
  /// 32 tiles of 128 columns for an H100's 132 SMs) splits its K range so
  /// that the programs fill the target, each summing at least
  /// kSplitKMinSteps K steps.
  int64_t matmulSplitKFill = 0;
  static constexpr int64_t kSplitKMinSteps = 8;
  static constexpr int64_t kSplitKMax = 16;
  /// Split-KV (flash-decoding): attention cuts each query block's key
  /// range into this many parts, a program each, writing an f32 partial
  /// output with its rows' maximum and sum, which a combine kernel merges
  /// (1: never; 0: the planner's choice from matmulSplitKFill: attention
  /// of static query blocks x batch x heads at most half the fill, a
  /// decode step's single query row, splits so that the programs fill the
  /// target, each part at least kAttentionSplitMinSteps key blocks).
  int64_t attentionSplitKV = 0;
  static constexpr int64_t kAttentionSplitMinSteps = 4;
  static constexpr int64_t kAttentionSplitMax = 32;
  int64_t attentionM = 16; // query rows per attention program
  int64_t attentionN = 32; // keys per step of the online softmax
  /// The matmul and attention tiles of kernels whose products take 16-bit
  /// float operands (bf16, f16), the types matrix cores multiply: a target
  /// sizes those for its tensor cores and the others (f32 products on the
  /// vector units) for its registers. 0 keeps the plain size.
  int64_t matrixCoreMatmulM = 0;
  int64_t matrixCoreMatmulN = 0;
  int64_t matrixCoreMatmulK = 0;
  int64_t matrixCoreAttentionM = 0;
  int64_t matrixCoreAttentionN = 0;
  /// With matrix-core attention tiles: attention's products overlap the
  /// softmax (attentionOverlap) in the kernels forProductsOf sizes.
  bool matrixCoreAttentionOverlap = false;
  /// The attention kernel issues P V of key block j - 1 after Q K^T of
  /// block j (P carried between steps, one more step past the last block),
  /// so that the softmax of block j can run while P V does, on a target
  /// that leaves both products in flight (FlashAttention 3's overlap within
  /// a warpgroup). Elsewhere it costs a step: only where the target asks.
  bool attentionOverlap = false;
  /// The fewest rows a matrix-core matmul tile may have (0: the tile is
  /// never shrunk): a matmul whose static M is at most half its tile takes
  /// a tile of fewer rows, down to this.
  int64_t matrixCoreMinM = 0;
  /// The same for the matmul tiles of products without matrix-core tiles
  /// (the CPU's register-blocked products, whose tiles are large).
  int64_t matmulMinM = 0;
  /// The fewest rows the matmul tile of products of `element` operands
  /// may shrink to (0: it is never shrunk).
  int64_t minMatmulRows(mlir::Type element) const {
    return isMatrixCoreOperand(element) && matrixCoreMatmulM > 0 ? matrixCoreMinM : matmulMinM;
  }
  /// Whether products of `element` operands take the matrix-core tiles
  /// (bf16, f16).
  static bool isMatrixCoreOperand(mlir::Type element) {
    return element && (element.isBF16() || element.isF16());
  }
  /// Replaces elementwiseBlock and rowBlock in kernels that read a row whose
  /// innermost stride is not 1 (a transposed or interleaved view): targets
  /// that read such rows element by element want shorter chunks.
  int64_t stridedBlock = 256;
  /// Matmul kernels end at the f32 product; bias and conversion run in a
  /// separate elementwise kernel (the cube/vector split through memory).
  bool separateMatmulEpilogue = false;
  /// Attention as matmul -> softmax -> matmul through GM temporaries (for
  /// targets whose matrix unit cannot interleave with vector code).
  bool unfusedAttention = false;

  /// These sizes for a kernel over `operands`.
  TileSizes forOperands(llvm::ArrayRef<mlir::MemRefType> operands) const;

  /// These sizes for a norm or softmax kernel over rows of `length`
  /// elements (nothing: dynamic): one whole chunk when it is static and at
  /// most wholeRowMax.
  TileSizes forRow(std::optional<int64_t> length) const;

  /// These sizes for a matmul or attention kernel whose products take
  /// operands of `element` type: the matrix-core tiles for bf16 and f16.
  /// The matrix-core attention tile is sized for head dims up to 128; with
  /// an attention's larger `headDim` (padded to a power of two, as the
  /// kernel does) it takes proportionally fewer keys per step (at least
  /// 16), since the output accumulator grows with the head dim.
  /// A matmul's static row count `rows` shrinks the matrix-core M tile to
  /// the power of two that holds it, not below matrixCoreMinM (a decode
  /// step of 8 rows on a 128-row tile computes 120 rows of padding); an
  /// attention's static query count shrinks its matrix-core query tile
  /// the same way (a decode step's one row per head: 64 rows on sm_90a,
  /// one warpgroup, instead of two).
  TileSizes forProductsOf(mlir::Type element, int64_t headDim = 0,
                          std::optional<int64_t> rows = std::nullopt) const;
};

/// What a reduce kernel combines with.
enum class ReduceCombiner { Sum, Mean, Max, Min };

/// The computation of an elementwise kernel on f32 tiles, one per input.
using ElementwiseBody =
    std::function<mlir::Value(KernelBuilder &, llvm::ArrayRef<mlir::Value>)>;

/// The f32 tile computation of one prism elementwise op
/// (`prism::FusionOp::isElementwise`) on f32 tiles of one shape, one per
/// operand. A `prism.cast` rounds to its element type (and gives f32 back).
mlir::Value emitElementwiseOp(KernelBuilder &k, mlir::Operation *op,
                              llvm::ArrayRef<mlir::Value> operands);

/// The f32 tile of `root`, computed by emitting `ops` (in order, elementwise
/// ops and splat constants, as in a fusion body) on f32 tiles of `shape`:
/// `known` maps the values already computed or loaded (the leaves) to their
/// tiles, and gains every value emitted.
mlir::Value emitFusedValue(KernelBuilder &k, llvm::ArrayRef<mlir::Operation *> ops,
                           llvm::DenseMap<mlir::Value, mlir::Value> &known,
                           mlir::Value root, llvm::ArrayRef<int64_t> shape);

/// Elementwise work a kernel does on what it computed, before storing it:
/// `operands` are views of the output's shape, read at the same positions;
/// `body(computed, operands)` gives the f32 result. Without a body the
/// kernel stores computed[0].
struct Epilogue {
  llvm::SmallVector<mlir::MemRefType> operands;
  std::function<mlir::Value(KernelBuilder &, llvm::ArrayRef<mlir::Value> computed,
                            llvm::ArrayRef<mlir::Value> operands)>
      body;
};

/// What a row kernel normalizes: the elementwise combination `body` of
/// `operands` (views of the row shape; e.g. a residual add), rounded to and
/// also stored in `stored` when that is given. One operand without a body is
/// the operand itself.
struct RowPrologue {
  llvm::SmallVector<mlir::MemRefType> operands;
  ElementwiseBody body;
  mlir::MemRefType stored;
};

/// out[i...] = body(in_0[i...], ...), all of one shape (inputs are views,
/// broadcasts included). Grid: x = ceil(last / elementwiseBlock) times
/// the product of the leading dims (rowBlocksGrid; KernelBuilder::rowBlockOf).
mlir::func::FuncOp buildElementwiseKernel(mlir::ModuleOp module,
                                          llvm::StringRef name,
                                          llvm::ArrayRef<mlir::MemRefType> inputs,
                                          mlir::MemRefType output,
                                          const ElementwiseBody &body,
                                          const TileSizes &sizes);

/// buildElementwiseKernel whose first `partials.size()` inputs are the
/// sums of split-K partials: f32 [splits, shape...] each, read as the sum
/// over the leading dimension (in order; the others are views of the
/// output's shape). Arguments: partials..., inputs..., output. Grid: as
/// buildElementwiseKernel.
mlir::func::FuncOp buildSplitSumKernel(mlir::ModuleOp module, llvm::StringRef name,
                                       llvm::ArrayRef<mlir::MemRefType> partials,
                                       int64_t splits,
                                       llvm::ArrayRef<mlir::MemRefType> inputs,
                                       mlir::MemRefType output, const ElementwiseBody &body,
                                       const TileSizes &sizes);

/// RMS normalization over the last axis of what `input` computes.
/// Arguments: input operands..., weight, [stored], output. Grid: x = rows.
mlir::func::FuncOp buildRmsNormKernel(mlir::ModuleOp module, llvm::StringRef name,
                                      const RowPrologue &input,
                                      mlir::MemRefType weight,
                                      mlir::MemRefType output, double epsilon,
                                      const TileSizes &sizes);

/// Layer normalization over the last axis (mean, biased variance) of what
/// `input` computes, with an optional weight and bias (null types when
/// absent). Arguments: input operands..., [weight], [bias], [stored],
/// output. Grid: x = rows.
mlir::func::FuncOp buildLayerNormKernel(mlir::ModuleOp module,
                                        llvm::StringRef name,
                                        const RowPrologue &input,
                                        mlir::MemRefType weight,
                                        mlir::MemRefType bias,
                                        mlir::MemRefType output, double epsilon,
                                        const TileSizes &sizes);

/// Reduction of the last `reducedRank` dims of `input` (a view that put the
/// reduced axes last); `output` has the other dims (rank >= 1). Arguments:
/// input, output. Grid: x = product of the output dims.
mlir::func::FuncOp buildReduceKernel(mlir::ModuleOp module, llvm::StringRef name,
                                     ReduceCombiner combiner,
                                     mlir::MemRefType input,
                                     mlir::MemRefType output,
                                     int64_t reducedRank,
                                     const TileSizes &sizes);

/// Softmax over the last axis (online max and sum, then a second pass).
/// Arguments: input, output. Grid: x = rows.
mlir::func::FuncOp buildSoftmaxKernel(mlir::ModuleOp module, llvm::StringRef name,
                                      mlir::MemRefType input,
                                      mlir::MemRefType output, double scale,
                                      const TileSizes &sizes);

/// A batched matmul kernel: lhs [b..., M, K] (or [b..., K, M]), one or two
/// rhs [b..., K, N] (or [b..., N, K]; two share each read of lhs: a gated
/// MLP's gate and up projections), optional bias [N] (one rhs only), output
/// [b..., M, N]; batch dims of the operands are already broadcast (views).
/// The epilogue receives one accumulator per rhs (bias added).
/// Rotary embedding (neox) in a matmul's epilogue: the output's columns are
/// heads of `headDim` whose halves are rotated pairs. Each program computes
/// a block of pairs: first halves and their partners headDim / 2 columns
/// further (two accumulators over the one rhs), rotates them by the angles
/// of each row's position and stores both. `positions` is a [B, S] view
/// (B the batch dim, S the rows).
struct RotaryEpilogue {
  mlir::MemRefType positions;
  int64_t headDim = 0;
  double theta = 0.0;
};

struct MatmulKernelSpec {
  mlir::MemRefType lhs;
  llvm::SmallVector<mlir::MemRefType, 2> rhs;
  mlir::MemRefType bias;
  mlir::MemRefType output;
  bool transposeLhs = false;
  bool transposeRhs = false;
  mlir::Type accumulator;
  Epilogue epilogue;
  /// With a rotary epilogue: one rhs, a rank-3 output, no epilogue body;
  /// matmulN must divide headDim / 2.
  std::optional<RotaryEpilogue> rotary;
  /// Split-K (more than 1): one rhs, no bias, epilogue or rotary; the
  /// output is f32 [splitK, batch..., M, N], part s of it the product over
  /// K steps [s * steps / splitK, (s + 1) * steps / splitK) (zeros where
  /// that is empty: fewer steps than parts), which buildSplitSumKernel
  /// adds up.
  int64_t splitK = 1;
};

/// Arguments: lhs, rhs..., [bias], [positions], epilogue operands...,
/// output. Grid: x = ceil(M / matmulM), y = ceil(N / matmulN) (N / 2 with a
/// rotary epilogue: pairs), z = product of the batch dims (times splitK,
/// the part innermost).
mlir::func::FuncOp buildMatmulKernel(mlir::ModuleOp module, llvm::StringRef name,
                                     const MatmulKernelSpec &spec,
                                     const TileSizes &sizes);

/// The softmax of attention scores, for attention computed as two matmuls
/// around it: P = softmax(scale * S + mask) over the last axis of `scores`
/// ([..., queries, keys], f32), with causal (bottom-right aligned) and
/// sliding-window visibility; rows that see no key are zeros. Arguments:
/// scores, [mask (a view of the scores' shape)], output (the value dtype).
/// Grid: x = rows.
mlir::func::FuncOp buildAttentionSoftmaxKernel(
    mlir::ModuleOp module, llvm::StringRef name, mlir::MemRefType scores,
    mlir::MemRefType mask, mlir::MemRefType output, double scale, bool causal,
    std::optional<int64_t> window, const TileSizes &sizes);

/// Rotary embedding. `input` and `output` are rank-5 views
/// [d0, d1, d2, 2, D/2] of the rank-4 tensors: index 3 picks the member of
/// a rotated pair and index 4 the pair (neox and interleaved differ only in
/// the strides of these views). `positions` is a [B, S] view; the sequence
/// index is dim `sequenceDim` (1 for bshd, 2 for bhsd) of the input. With
/// `cosTable` / `sinTable` ([P, D/2]) the angles are read from row
/// clamp(pos, 0, P - 1); otherwise angle = pos * theta^(-2i/D). Arguments:
/// input, positions, [cos, sin], output. A program rotates `tiling.rows`
/// consecutive vectors along d2, `tiling.columns` pairs at a time. Grid:
/// bshd x = d0 * d1, y = ceil(d2 / rows); bhsd (d2 the sequence) x =
/// ceil(d2 / rows), y = d0 * d1.
/// How much a rope program rotates: `rows` consecutive vectors along d2,
/// `columns` pairs of each at a time.
struct RopeTiling {
  int64_t rows = 1;
  int64_t columns = 1;
};
/// The tiling for `half` pairs per vector and `vectors` along d2 (each
/// given when static): one row of rowBlock pairs when half is dynamic or
/// below 16; else columns = half rounded up to a power of two, at most
/// rowBlock, and rows = elementwiseBlock / columns (a
/// tile of about elementwiseBlock elements per member of the pairs: on
/// NVIDIA 1024, 8 per thread, 16-byte runs), at most `vectors` rounded up
/// to a power of two.
RopeTiling ropeTiling(std::optional<int64_t> half, std::optional<int64_t> vectors,
                      const TileSizes &sizes);
mlir::func::FuncOp buildRopeKernel(mlir::ModuleOp module, llvm::StringRef name,
                                   mlir::MemRefType input,
                                   mlir::MemRefType positions,
                                   mlir::MemRefType cosTable,
                                   mlir::MemRefType sinTable,
                                   mlir::MemRefType output,
                                   int64_t sequenceDim, double theta,
                                   RopeTiling tiling);

/// Row gather: output[i..., :] = table[indices[i...], :], zero rows for
/// indices outside [0, V). Arguments: table, indices, output. Grid:
/// x = ceil(D / elementwiseBlock) times the number of indices.
mlir::func::FuncOp buildEmbeddingKernel(mlir::ModuleOp module,
                                        llvm::StringRef name,
                                        mlir::MemRefType table,
                                        mlir::MemRefType indices,
                                        mlir::MemRefType output,
                                        const TileSizes &sizes);

/// What an attention kernel computes besides softmax(scale q k^T) v.
struct AttentionOptions {
  double scale = 1.0;
  bool causal = false;
  std::optional<int64_t> window;
  /// Head dims (static; tiles are padded to a power of two and masked).
  int64_t headDim = 0;
  int64_t valueHeadDim = 0;
  /// Split-KV: program z of the grid's `splitParts` sums part z of its
  /// query block's key range, parts of ceil(range / splitParts) keys
  /// rounded up to whole key blocks and to at least `splitMinKeys` (the
  /// parts past the range sum nothing). 1: the whole range, one program.
  int64_t splitParts = 1;
  int64_t splitMinKeys = 0;
  /// Pack-GQA: the query's (and output's) dim 1 is the KV heads and dim 2
  /// the G query heads of each, `packedQueryRows` (Sq) rows apiece: row r
  /// is query r mod Sq of one of them (0: dim 1 the query heads, dim 2
  /// their queries). A block then reads each key block once for G heads.
  int64_t packedQueryRows = 0;
};

/// Flash attention: online softmax over blocks of `attentionN` keys for
/// `attentionM` queries at a time, blocks outside the causal window skipped.
/// query [B, Hq, Sq, D], key [B, Hkv, Skv, D], value [B, Hkv, Skv, Dv],
/// optional mask (a [B, Hq, Sq, Skv] view), output [B, Hq, Sq, Dv].
/// Arguments: query, key, value, [mask], output. Grid:
/// x = ceil(Sq / attentionM), y = B * Hq.
/// With options.splitParts = P > 1 (split-KV), `output` is an f32 partial
/// [B, Hq, P, Sq, Dv] (each part's sum of p v, not yet divided) and
/// `partialStats` an f32 [B, Hq, P, 2, Sq]: each part's row maximum (index
/// 0, in log2 units of the scaled scores, -inf where the part saw no key)
/// and row sum of exp2(logit - maximum) (index 1); grid z = P.
/// buildAttentionCombineKernel merges them.
mlir::func::FuncOp buildAttentionKernel(mlir::ModuleOp module,
                                        llvm::StringRef name,
                                        mlir::MemRefType query,
                                        mlir::MemRefType key,
                                        mlir::MemRefType value,
                                        mlir::MemRefType mask,
                                        mlir::MemRefType output,
                                        const AttentionOptions &options,
                                        const TileSizes &sizes,
                                        mlir::MemRefType partialStats = {});

/// The output of a split-KV attention from its parts (buildAttentionKernel
/// with splitParts = `parts`): out = sum_p 2^(max_p - M) acc_p /
/// sum_p 2^(max_p - M) sum_p, M the rows' largest maximum; zeros for a
/// row no part saw a key of. Arguments: the partial [B, Hq, P, Sq, Dv],
/// the stats [B, Hq, P, 2, Sq], output [B, Hq, Sq, Dv]. A program merges
/// `rows` query rows (a power of two) of `valueHeadDim` values. Grid:
/// x = ceil(Sq / rows), y = B * Hq.
mlir::func::FuncOp buildAttentionCombineKernel(mlir::ModuleOp module, llvm::StringRef name,
                                               mlir::MemRefType partial,
                                               mlir::MemRefType partialStats,
                                               mlir::MemRefType output, int64_t parts,
                                               int64_t rows, int64_t valueHeadDim);

} // namespace prism::kernels

#endif // PRISM_PASSES_KERNELLIBRARY_KERNELLIBRARY_H
