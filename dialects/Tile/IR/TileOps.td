//===- TileOps.td - Operations of the tile dialect ---------*- tablegen -*-===//

#ifndef PRISM_TILE_OPS_TD
#define PRISM_TILE_OPS_TD

include "dialects/Tile/IR/TileDialect.td"
include "mlir/IR/EnumAttr.td"
include "mlir/IR/OpBase.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

def Tile_Axis : I32EnumAttr<"Axis", "grid axis", [
    I32EnumAttrCase<"X", 0, "x">,
    I32EnumAttrCase<"Y", 1, "y">,
    I32EnumAttrCase<"Z", 2, "z">]> {
  let cppNamespace = "::prism::tile";
}

def Tile_CombineKind : I32EnumAttr<"CombineKind", "reduction combiner", [
    I32EnumAttrCase<"Sum", 0, "sum">,
    I32EnumAttrCase<"Max", 1, "max">,
    I32EnumAttrCase<"Min", 2, "min">]> {
  let cppNamespace = "::prism::tile";
}

def Tile_Tile : StaticShapeTensorOf<[AnyType]>;
def Tile_IndexTile : StaticShapeTensorOf<[Index]>;
def Tile_MaskTile : StaticShapeTensorOf<[I1]>;
def Tile_FloatTile : StaticShapeTensorOf<[F32, F16, BF16]>;
def Tile_DotOperandTile : StaticShapeTensorOf<[F32, F16, BF16, I8, F8E4M3FN]>;

class Tile_Op<string mnemonic, list<Trait> traits = []>
    : Op<Tile_Dialect, mnemonic, traits>;

//===----------------------------------------------------------------------===//
// Where am I
//===----------------------------------------------------------------------===//

class Tile_GridOp<string mnemonic, string what> : Tile_Op<mnemonic, [Pure]> {
  let summary = what # " along a grid axis";
  let description = [{
    Returns }] # what # [{ along `axis` (x, y or z) of the launch grid. Only
    valid inside a `tile.kernel` function.

    ```mlir
    %pid = tile.}] # mnemonic # [{ x
    ```
  }];
  let arguments = (ins Tile_Axis:$axis);
  let results = (outs Index:$result);
  let assemblyFormat = "$axis attr-dict";
  let hasVerifier = 1;
}

def Tile_ProgramIdOp : Tile_GridOp<"program_id", "the index of this program instance">;
def Tile_NumProgramsOp : Tile_GridOp<"num_programs", "the number of program instances">;

//===----------------------------------------------------------------------===//
// Building tiles
//===----------------------------------------------------------------------===//

def Tile_IotaOp : Tile_Op<"iota", [Pure]> {
  let summary = "the tile [0, 1, ..., N-1]";
  let description = [{
    A 1-D tile of `index` or integer values `0, 1, ..., N-1`. Offsets of a
    block are `iota + splat(start)`.

    ```mlir
    %cols = tile.iota : tensor<64xindex>
    ```
  }];
  let results = (outs StaticShapeTensorOf<[Index, I32, I64]>:$result);
  let assemblyFormat = "attr-dict `:` type($result)";
  let hasVerifier = 1;
}

def Tile_SplatOp : Tile_Op<"splat", [Pure,
    TypesMatchWith<"the scalar is the element type of the result",
                   "result", "value",
                   "::llvm::cast<::mlir::ShapedType>($_self).getElementType()">]> {
  let summary = "a tile filled with one scalar";
  let description = [{
    ```mlir
    %zero = tile.splat %c0 : tensor<16x64xf32>
    ```
  }];
  let arguments = (ins AnyType:$value);
  let results = (outs Tile_Tile:$result);
  let assemblyFormat = "$value attr-dict `:` type($result)";
}

def Tile_BroadcastOp : Tile_Op<"broadcast", [Pure]> {
  let summary = "numpy-style broadcast of a tile to a larger shape";
  let description = [{
    Aligns the input's shape with the result's from the right; every input
    dimension must equal the result's or be 1 (stretched). Leading result
    dimensions the input lacks are added. Element type unchanged.

    ```mlir
    %rows = tile.broadcast %bias : tensor<64xf32> -> tensor<16x64xf32>
    %cols = tile.broadcast %inv : tensor<16x1xf32> -> tensor<16x64xf32>
    ```
  }];
  let arguments = (ins Tile_Tile:$input);
  let results = (outs Tile_Tile:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

def Tile_ExpandDimsOp : Tile_Op<"expand_dims", [Pure]> {
  let summary = "insert a size-1 dimension";
  let description = [{
    Inserts a dimension of size 1 at `axis` (in `[0, rank]`): a `[16]` row
    statistic becomes a `[16, 1]` column to broadcast against a `[16, 64]`
    tile.

    ```mlir
    %col = tile.expand_dims %max axis = 1 : tensor<16xf32> -> tensor<16x1xf32>
    ```
  }];
  let arguments = (ins Tile_Tile:$input, I64Attr:$axis);
  let results = (outs Tile_Tile:$result);
  let assemblyFormat = [{
    $input `axis` `=` $axis attr-dict `:` type($input) `->` type($result)
  }];
  let hasVerifier = 1;
}

def Tile_ReshapeOp : Tile_Op<"reshape", [Pure]> {
  let summary = "reinterpret a tile with another shape of equal size";
  let description = [{
    Row-major reinterpretation; typically adds or drops size-1 dimensions
    (a `[1, 1, 64, 32]` block of a batched operand becomes `[64, 32]`).

    ```mlir
    %a2 = tile.reshape %a : tensor<1x64x32xbf16> -> tensor<64x32xbf16>
    ```
  }];
  let arguments = (ins Tile_Tile:$input);
  let results = (outs Tile_Tile:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

def Tile_TransposeOp : Tile_Op<"transpose", [Pure]> {
  let summary = "permute the dimensions of a tile";
  let description = [{
    `result.shape[i] = input.shape[permutation[i]]`. A matmul whose
    right-hand side is stored `[N, K]` (a PyTorch Linear weight) loads `[N, K]`
    blocks with unit stride and transposes them in registers.

    ```mlir
    %bt = tile.transpose %b perm = [1, 0] : tensor<64x32xbf16> -> tensor<32x64xbf16>
    ```
  }];
  let arguments = (ins Tile_Tile:$input, DenseI64ArrayAttr:$permutation);
  let results = (outs Tile_Tile:$result);
  let assemblyFormat = [{
    $input `perm` `=` $permutation attr-dict `:` type($input) `->` type($result)
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Memory
//===----------------------------------------------------------------------===//

def Tile_LoadOp : Tile_Op<"load", [MemoryEffects<[MemRead]>,
    AttrSizedOperandSegments]> {
  let summary = "bounds-checked load of a block";
  let description = [{
    Reads the block of `base` whose first element is at `indices` and whose
    shape is the result's (same rank as `base`):
    `result[i...] = base[indices + i...]` where that index is inside `base`,
    and `padding` (default zero) elsewhere. Strides come from `base`'s
    layout, so a transposed or sliced view is read in place.

    ```mlir
    %a = tile.load %lhs[%m0, %k0] : memref<?x?xbf16, strided<[?, 1], offset: ?>> -> tensor<64x32xbf16>
    ```
  }];
  let arguments = (ins AnyStridedMemRef:$base, Variadic<Index>:$indices,
                       Optional<AnyType>:$padding);
  let results = (outs Tile_Tile:$result);
  let assemblyFormat = [{
    $base `[` $indices `]` (`padding` `(` $padding^ `:` type($padding) `)`)? attr-dict
    `:` type($base) `->` type($result)
  }];
  let hasVerifier = 1;
}

def Tile_StoreOp : Tile_Op<"store", [MemoryEffects<[MemWrite]>,
    AttrSizedOperandSegments]> {
  let summary = "bounds-checked, optionally masked store of a block";
  let description = [{
    Writes `value` to the block of `base` whose first element is at
    `indices`: element `i...` goes to `base[indices + i...]` when that index
    is inside `base` and `mask[i...]` (if given) is true; other elements are
    not written.

    ```mlir
    tile.store %c, %out[%m0, %n0] : tensor<64x64xf32>, memref<?x?xf32, strided<[?, 1], offset: ?>>
    ```
  }];
  let arguments = (ins Tile_Tile:$value, AnyStridedMemRef:$base,
                       Variadic<Index>:$indices, Optional<Tile_MaskTile>:$mask);
  let assemblyFormat = [{
    $value `,` $base `[` $indices `]` (`mask` `(` $mask^ `:` type($mask) `)`)?
    attr-dict `:` type($value) `,` type($base)
  }];
  let hasVerifier = 1;
}

def Tile_GatherOp : Tile_Op<"gather", [MemoryEffects<[MemRead]>,
    AttrSizedOperandSegments]> {
  let summary = "bounds-checked load of arbitrary elements";
  let description = [{
    `result[i...] = base[indices_0[i...], ..., indices_{r-1}[i...]]` where
    that index is inside `base` (and `mask[i...]`, if given, is true), zero
    elsewhere. One index tile per dimension of `base`, each of the result's
    shape. Used for row gathers (embedding) and table lookups.

    ```mlir
    %rows = tile.gather %table[%ids, %cols] : memref<?x?xf32, strided<[?, 1], offset: ?>>,
              tensor<16x64xindex> -> tensor<16x64xf32>
    ```
  }];
  let arguments = (ins AnyStridedMemRef:$base, Variadic<Tile_IndexTile>:$indices,
                       Optional<Tile_MaskTile>:$mask);
  let results = (outs Tile_Tile:$result);
  let assemblyFormat = [{
    $base `[` $indices `]` (`mask` `(` $mask^ `:` type($mask) `)`)? attr-dict
    `:` type($base) `,` type($indices) `->` type($result)
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Compute
//===----------------------------------------------------------------------===//

def Tile_DotOp : Tile_Op<"dot", [Pure,
    AllTypesMatch<["acc", "result"]>]> {
  let summary = "matrix product of two tiles, accumulated";
  let description = [{
    `result = acc + lhs x rhs` with `lhs` `[M, K]`, `rhs` `[K, N]` and `acc`
    `[M, N]`. Inputs of f16, bf16, i8 or f8E4M3FN are converted exactly to
    the accumulator type (f32; or f16 when both inputs are f16), and the
    products are summed in it; the order of the sum over K is the backend's
    (tensor cores sum in blocks).

    ```mlir
    %c1 = tile.dot %a, %b, %c0 : tensor<64x32xbf16>, tensor<32x64xbf16> -> tensor<64x64xf32>
    ```
  }];
  let arguments = (ins Tile_DotOperandTile:$lhs, Tile_DotOperandTile:$rhs,
                       Tile_FloatTile:$acc);
  let results = (outs Tile_FloatTile:$result);
  let assemblyFormat = [{
    $lhs `,` $rhs `,` $acc attr-dict `:` type($lhs) `,` type($rhs) `->`
    type($result)
  }];
  let hasVerifier = 1;
}

def Tile_ReduceOp : Tile_Op<"reduce", [Pure]> {
  let summary = "reduce a tile along one axis";
  let description = [{
    Combines the elements along `axis` with `kind` (sum, max, min); the axis
    is removed from the shape. The order in which a sum combines elements is
    the backend's (sequential, or a tree across lanes): float sums may differ
    between targets by rounding. `max` and `min` propagate NaN.

    ```mlir
    %rowmax = tile.reduce max %s axis = 1 : tensor<16x64xf32> -> tensor<16xf32>
    ```
  }];
  let arguments = (ins Tile_CombineKind:$kind, Tile_Tile:$input, I64Attr:$axis);
  let results = (outs Tile_Tile:$result);
  let assemblyFormat = [{
    $kind $input `axis` `=` $axis attr-dict `:` type($input) `->` type($result)
  }];
  let hasVerifier = 1;
}

#endif // PRISM_TILE_OPS_TD
