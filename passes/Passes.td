//===- Passes.td - Target-independent Prism passes ---------*- tablegen -*-===//

#ifndef PRISM_PASSES_TD
#define PRISM_PASSES_TD

include "mlir/Pass/PassBase.td"

def Kernelize : Pass<"prism-kernelize", "mlir::ModuleOp"> {
  let summary = "Turn every prism op into a tile kernel plus a launch plan";
  let description = [{
    For every function of prism ops, builds one tile kernel per op from the
    kernel library (passes/KernelLibrary), and records on the function a
    `prism.plan`: the buffers (inputs, temporaries, and views of them), the
    launches (kernel, grid as a function of the input sizes, buffer
    arguments) and the outputs. The function itself is kept, unchanged: it is
    what the float64 reference evaluates.

    `reshape` and `transpose` are views (no kernel, no copy) when their
    source allows it; broadcasting operands are stride-0 views. Tile sizes
    are options, chosen by the target backend.

    ```mlir
    func.func @f(%x: tensor<?x64xf32>, %w: tensor<64xf32>) -> tensor<?x64xf32> {
      %y = prism.rms_norm %x, %w : tensor<?x64xf32>, tensor<64xf32>
      return %y : tensor<?x64xf32>
    }
    // becomes the same function with a `prism.plan` attribute (one launch
    // of @f__0_rms_norm over buffers 0, 1, 2; output buffer 2) and a kernel
    func.func @f__0_rms_norm(%x: memref<?x?xf32, strided<[?, 1], offset: ?>>, ...)
        attributes {tile.kernel} { ... }
    ```
  }];
  let options = [
    Option<"elementwiseBlock", "elementwise-block", "int64_t", "256",
           "Elements of the last dimension per elementwise program">,
    Option<"rowBlock", "row-block", "int64_t", "256",
           "Chunk of a row processed at once by norms and softmax">,
    Option<"wholeRowMax", "whole-row-max", "int64_t", "0",
           "Norm and softmax rows of a static length up to this are one "
           "chunk, read once and kept in registers (0: chunks of row-block, "
           "read again by each pass)">,
    Option<"matmulM", "matmul-m", "int64_t", "8", "Matmul tile rows">,
    Option<"matmulN", "matmul-n", "int64_t", "64", "Matmul tile columns">,
    Option<"matmulK", "matmul-k", "int64_t", "16", "Matmul K step">,
    Option<"matmulGroupM", "matmul-group-m", "int64_t", "1",
           "Matmul programs, in launch order, walk this many row blocks for "
           "each column block (Triton's GROUP_M): the blocks a GPU runs at "
           "once then share A and B tiles in its L2 cache; 1: every row "
           "block for each column block">,
    Option<"matmulSplitK", "matmul-split-k", "int64_t", "0",
           "Split-K: matmuls with an f32 accumulator (not rope-fused "
           "products or fused attention) sum their K range in this many "
           "parts (at most their K steps; a dynamic K not on targets that "
           "split matmul epilogues), each an f32 partial, which the "
           "epilogue kernel adds up (1: never; 0: the choice of "
           "matmul-split-k-fill)">,
    Option<"matmulSplitKFill", "matmul-split-k-fill", "int64_t", "0",
           "The programs that fill the target (its multiprocessors): a "
           "matmul of static sizes with at most half as many output tiles "
           "splits its K range to fill it, each part at least 8 K steps, "
           "at most 16 parts; an attention with at most half as many "
           "programs (static query blocks x batch x heads) its key range, "
           "each part at least 4 key blocks, at most 32 parts (0: never)">,
    Option<"attentionSplitKV", "attention-split-kv", "int64_t", "0",
           "Split-KV (flash-decoding): fused attention cuts each query "
           "block's key range into this many parts (at most 32), each "
           "program writing an f32 partial output with its rows' maximum "
           "and sum, which a combine kernel merges (1: never; 0: the choice "
           "of matmul-split-k-fill). Forced, it splits every fused "
           "attention, a prefill's too, whose partial then takes N x B x Hq "
           "x Sq x Dv x 4 bytes">,
    Option<"pipelineStages", "pipeline-stages", "int64_t", "0",
           "Stages of every kernel's K-loop operand pipelines (at least 2; "
           "0: the target's choice), as tile.pipeline_stages on the kernels">,
    Option<"dotsInFlight", "dots-in-flight", "int64_t", "-1",
           "Groups of matrix-core products a K-loop step may leave running "
           "(0 or 1; -1: the target's choice), as tile.dots_in_flight on the "
           "kernels">,
    Option<"warpSpecialize", "warp-specialize", "int64_t", "-1",
           "Whether a producer warpgroup of its own copies the operands of a "
           "kernel's K loop while the other threads compute (1; 2: and two "
           "consumer warpgroups take turns at the matrix cores, "
           "FlashAttention 3's ping-pong), or the threads that compute copy "
           "them (0); -1: the target's choice. "
           "For targets with tensor copies (NVIDIA sm_90a), as "
           "tile.warp_specialize on the kernels">,
    Option<"attentionM", "attention-m", "int64_t", "16",
           "Queries per attention program">,
    Option<"attentionN", "attention-n", "int64_t", "32",
           "Keys per step of attention's online softmax">,
    Option<"matrixCoreMatmulM", "matrix-core-matmul-m", "int64_t", "0",
           "Matmul tile rows when the products take bf16 or f16 operands "
           "(the matrix cores' types); 0: matmul-m">,
    Option<"matrixCoreMatmulN", "matrix-core-matmul-n", "int64_t", "0",
           "Matmul tile columns for bf16/f16 products; 0: matmul-n">,
    Option<"matrixCoreMatmulK", "matrix-core-matmul-k", "int64_t", "0",
           "Matmul K step for bf16/f16 products; 0: matmul-k">,
    Option<"matrixCoreAttentionM", "matrix-core-attention-m", "int64_t", "0",
           "Queries per attention program with bf16/f16 queries and keys; "
           "0: attention-m">,
    Option<"matrixCoreAttentionN", "matrix-core-attention-n", "int64_t", "0",
           "Keys per online-softmax step with bf16/f16 queries and keys; "
           "0: attention-n">,
    Option<"matrixCoreAttentionOverlap", "matrix-core-attention-overlap", "bool",
           "false",
           "Attention with matrix-core tiles issues P V of the previous key "
           "block after Q K^T of the current one, so that a target which "
           "leaves both products in flight runs the softmax while P V runs "
           "(one more step past the last key block adds the last P V)">,
    Option<"matrixCoreMinM", "matrix-core-min-m", "int64_t", "0",
           "The fewest rows of a bf16/f16 matmul or attention tile: a matmul "
           "whose static M is at most half of matrix-core-matmul-m takes "
           "fewer rows, down to this, and so does an attention whose static "
           "query count is at most half of matrix-core-attention-m (0: never "
           "shrunk)">,
    Option<"matmulMinM", "matmul-min-m", "int64_t", "0",
           "The fewest rows of a matmul tile sized by matmul-m (the products "
           "without matrix-core tiles): a matmul whose static M is at most "
           "half of matmul-m takes fewer rows, down to this, and a dynamic M "
           "gets that kernel too, for at most its rows (0: never shrunk)">,
    Option<"stridedBlock", "strided-block", "int64_t", "256",
           "Chunk of a row whose innermost stride is not 1">,
    Option<"separateMatmulEpilogue", "separate-matmul-epilogue", "bool", "false",
           "Matmuls with a bias or a non-f32 result write the f32 product to "
           "a temporary and an elementwise kernel applies the epilogue (for "
           "targets whose matrix unit cannot run vector code: Ascend's cube)">,
    Option<"unfusedAttention", "unfused-attention", "bool", "false",
           "Attention as matmul, softmax, matmul through temporaries instead "
           "of one flash-attention kernel">,
  ];
  let dependentDialects = ["prism::tile::TileDialect",
                           "mlir::arith::ArithDialect",
                           "mlir::math::MathDialect",
                           "mlir::memref::MemRefDialect",
                           "mlir::scf::SCFDialect",
                           "mlir::func::FuncDialect"];
}

//===----------------------------------------------------------------------===//
// Optimization: cleanups and fusion (passes/Fusion)
//===----------------------------------------------------------------------===//

def SinkViews : Pass<"prism-sink-views", "mlir::func::FuncOp"> {
  let summary = "Move transposes and reshapes below elementwise ops; drop "
                "rank-expanding reshapes that broadcasting makes redundant";
  let description = [{
    Cleanups that let the fusion passes see elementwise chains and keep
    elementwise kernels on contiguous data:

    - `unary(transpose(x))` becomes `transpose(unary(x))`, and
      `binary(transpose(x, p), transpose(y, p))` becomes
      `transpose(binary(x, y), p)` (likewise for reshapes to one shape):
      the elementwise kernel reads and writes contiguous rows, and the view
      moves to the consumer, where kernelization folds it into strided
      access for free;
    - an operand of a binary op that is a reshape only prepending unit
      dimensions (`[D] -> [1, 1, D]`) is replaced by its input: numpy
      broadcasting already means that (broadcast elimination).

    Dead values and common subexpressions are left to `canonicalize` and
    `cse`, which `prism-optimize` runs around this pass.
  }];
}

def RecognizeAttention : Pass<"prism-recognize-attention", "mlir::func::FuncOp"> {
  let summary = "Turn softmax(Q K^T * scale + mask) V into prism.attention";
  let description = [{
    Finds attention as frameworks export it, unfused, and replaces it with
    one `prism.attention` (one flash-attention kernel; the scores never
    reach memory):

    ```
    s = matmul(q, k, transpose_rhs)        (or matmul(q, transpose(k)))
    s = mul(s, c) | div(s, c)              (optional; c a splat constant)
    s = add(s, mask)                       (optional)
    p = softmax(s, axis = -1, scale)       (optional casts around it)
    o = matmul(p, v)
    ```

    Rank-4 `[B, H, S, D]` operands (K and V may have one head: multi-query)
    and the rank-5 grouped-query form `[B, Hkv, G, S, D]` against
    `[B, Hkv, 1, S, D]` (what broadcasting K/V over the group gives),
    which becomes reshapes around a grouped-query attention. A constant
    mask that is exactly causal (0 on and below the bottom-right aligned
    diagonal, -inf above), optionally with a sliding window, becomes the
    `causal` / `window` attributes. Every intermediate must have no other
    use; a general mask with a softmax scale other than 1 is left alone
    (the softmax would scale the mask too).
  }];
}

def FuseGatedMatmuls : Pass<"prism-fuse-gated-matmuls", "mlir::func::FuncOp"> {
  let summary = "SwiGLU: gate and up projections sharing one read of the input";
  let description = [{
    `swiglu(matmul(x, wg), matmul(x, wu))` (or `mul(silu(gate), up)`), the
    two matmuls having the same input, transposes and types and no other
    uses, becomes one `prism.fusion gated_matmul`: one kernel whose K loop
    reads each block of x once for both products and whose epilogue
    computes silu(gate) * up. Elementwise ops that follow (a cast) join the
    epilogue.
  }];
}

def FuseRopeProjections : Pass<"prism-fuse-rope-projections", "mlir::func::FuncOp"> {
  let summary = "Rotary embedding in the epilogue of the q/k projection";
  let description = [{
    `rope(reshape(matmul(x, w)))` where the matmul's `[B, S, H * D]` result
    is only reshaped to `[B, S, H, D]` and that only rotated (neox style,
    bshd layout, computed angles) becomes one `prism.fusion matmul_rope`:
    each program computes a block of rotated pairs (columns `p` and
    `p + D/2` of a head, two accumulators over the one weight) and stores
    them rotated, so the projection's output is written once, already
    rotated. Where the layout does not allow it (interleaved pairs, bhsd,
    cos/sin tables, a reshape that is not a head split, other uses of the
    product) the ops are left alone.
  }];
}

def FuseMatmulEpilogues : Pass<"prism-fuse-matmul-epilogues", "mlir::func::FuncOp"> {
  let summary = "Matmul followed by elementwise ops becomes one kernel";
  let description = [{
    A matmul (f32 accumulator) whose result is used only by an elementwise
    op of the same shape (bias add, activation, residual add, cast,
    scaling by a constant), and so on down the chain, becomes one
    `prism.fusion matmul`: the epilogue runs on the accumulator tile before
    the single store. Not fused: a value with another use (it must reach
    memory anyway), an op that broadcasts the chain to a larger shape, an
    operand read through a transpose that moves the innermost dimension
    (the epilogue would read it uncoalesced).
  }];
}

def FuseNorms : Pass<"prism-fuse-norms", "mlir::func::FuncOp"> {
  let summary = "Residual add (elementwise prologue) + rms_norm / layer_norm "
                "becomes one kernel";
  let description = [{
    `rms_norm(add(x, r))` (and `layer_norm`) becomes one `prism.fusion norm`
    that writes the normalized value and, when the sum has other uses (the
    residual stream), the sum too: one kernel instead of two, and the sum
    is not read back. The prologue may be any chain of elementwise ops of
    the normalized shape whose intermediates have no other use.
  }];
}

def FuseElementwise : Pass<"prism-fuse-elementwise", "mlir::func::FuncOp"> {
  let summary = "Chains of elementwise ops become one kernel";
  let description = [{
    An elementwise op whose operand is produced by another elementwise op
    of the same shape used only there joins it in one
    `prism.fusion elementwise` (one kernel, intermediates in registers).
    A producer of a smaller shape that the consumer broadcasts is not
    fused (it would be recomputed for every broadcast copy).
  }];
}

def PrintKernelCost : Pass<"prism-print-kernel-cost", "mlir::ModuleOp"> {
  let summary = "Print each function's kernels and global-memory bytes now";
  let description = [{
    Kernelizes a copy of the module (the IR is not changed) and prints, per
    function of prism ops, the kernels it would launch and the bytes they
    move through global memory (each launch reading its buffers once and
    writing its outputs once, every dynamic dimension = `dynamic-size`).
    Placed between passes it shows what each one does:

    ```
    prism-opt block.mlir --pass-pipeline='builtin.module(
        prism-print-kernel-cost{label=before},
        func.func(prism-fuse-gated-matmuls),
        prism-print-kernel-cost{label=gated})'
    ```
  }];
  let options = [
    Option<"dynamicSize", "dynamic-size", "int64_t", "1024",
           "The size every dynamic dimension takes in the byte counts">,
    Option<"label", "label", "std::string", "\"\"",
           "A name for this point of the pipeline, printed with the numbers">,
  ];
}

def Optimize : Pass<"prism-optimize", "mlir::ModuleOp"> {
  let summary = "The Prism optimization pipeline: cleanups, attention "
                "recognition and fusion";
  let description = [{
    Runs, on every function of prism ops: canonicalize, cse,
    prism-sink-views, prism-recognize-attention, canonicalize,
    prism-fuse-gated-matmuls, prism-fuse-rope-projections,
    prism-fuse-matmul-epilogues, prism-fuse-norms, prism-fuse-elementwise. The order matters: attention first (its softmax and
    matmuls must not be fused elsewhere), gated matmuls before epilogues
    (the gate must not take the up projection as an epilogue operand),
    epilogues before norms (a residual add in the output projection's
    epilogue moves fewer bytes than in the norm's prologue).

    `prism-opt --prism-fusion-report` prints, per function, the kernels
    and the estimated global-memory bytes before and after this pass.
  }];
}

#endif // PRISM_PASSES_TD
