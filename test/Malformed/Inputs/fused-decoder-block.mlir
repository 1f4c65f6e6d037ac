// The Llama-3-8B block after prism-optimize (fusions of every kind but
// elementwise and norm), the valid input the mutation test breaks.
module {
  func.func @decoder_block(%arg0: tensor<1x?x4096xbf16>, %arg1: tensor<1x?xi32>, %arg2: tensor<4096xbf16>, %arg3: tensor<4096x4096xbf16>, %arg4: tensor<1024x4096xbf16>, %arg5: tensor<1024x4096xbf16>, %arg6: tensor<4096x4096xbf16>, %arg7: tensor<4096xbf16>, %arg8: tensor<14336x4096xbf16>, %arg9: tensor<14336x4096xbf16>, %arg10: tensor<4096x14336xbf16>) -> tensor<1x?x4096xbf16> {
    %0 = prism.rms_norm %arg0, %arg2 eps = 1.000000e-05 : tensor<1x?x4096xbf16>, tensor<4096xbf16>
    %1 = prism.matmul %0, %arg5 transpose_rhs : tensor<1x?x4096xbf16>, tensor<1024x4096xbf16>
    %2 = prism.reshape %1 : tensor<1x?x1024xbf16> to tensor<1x?x8x128xbf16>
    %3 = prism.fusion matmul_rope -> (tensor<1x?x32x128xbf16>) {
      %15 = prism.matmul %0, %arg3 transpose_rhs : tensor<1x?x4096xbf16>, tensor<4096x4096xbf16>
      %16 = prism.reshape %15 : tensor<1x?x4096xbf16> to tensor<1x?x32x128xbf16>
      %17 = prism.rope neox bshd %16, %arg1 theta = 5.000000e+05 : tensor<1x?x32x128xbf16>, tensor<1x?xi32>
      prism.yield %17 : tensor<1x?x32x128xbf16>
    }
    %4 = prism.fusion matmul_rope -> (tensor<1x?x8x128xbf16>) {
      %15 = prism.matmul %0, %arg4 transpose_rhs : tensor<1x?x4096xbf16>, tensor<1024x4096xbf16>
      %16 = prism.reshape %15 : tensor<1x?x1024xbf16> to tensor<1x?x8x128xbf16>
      %17 = prism.rope neox bshd %16, %arg1 theta = 5.000000e+05 : tensor<1x?x8x128xbf16>, tensor<1x?xi32>
      prism.yield %17 : tensor<1x?x8x128xbf16>
    }
    %5 = prism.transpose %3 perm = [0, 2, 1, 3] : tensor<1x?x32x128xbf16>
    %6 = prism.transpose %4 perm = [0, 2, 1, 3] : tensor<1x?x8x128xbf16>
    %7 = prism.transpose %2 perm = [0, 2, 1, 3] : tensor<1x?x8x128xbf16>
    %8 = prism.attention %5, %6, %7 causal : tensor<1x32x?x128xbf16>, tensor<1x8x?x128xbf16>, tensor<1x8x?x128xbf16>
    %9 = prism.transpose %8 perm = [0, 2, 1, 3] : tensor<1x32x?x128xbf16>
    %10 = prism.reshape %9 : tensor<1x?x32x128xbf16> to tensor<1x?x4096xbf16>
    %11 = prism.fusion matmul -> (tensor<1x?x4096xbf16>) {
      %15 = prism.matmul %10, %arg6 transpose_rhs : tensor<1x?x4096xbf16>, tensor<4096x4096xbf16>
      %16 = prism.add %arg0, %15 : tensor<1x?x4096xbf16>, tensor<1x?x4096xbf16>
      prism.yield %16 : tensor<1x?x4096xbf16>
    }
    %12 = prism.rms_norm %11, %arg7 eps = 1.000000e-05 : tensor<1x?x4096xbf16>, tensor<4096xbf16>
    %13 = prism.fusion gated_matmul -> (tensor<1x?x14336xbf16>) {
      %15 = prism.matmul %12, %arg8 transpose_rhs : tensor<1x?x4096xbf16>, tensor<14336x4096xbf16>
      %16 = prism.matmul %12, %arg9 transpose_rhs : tensor<1x?x4096xbf16>, tensor<14336x4096xbf16>
      %17 = prism.swiglu %15, %16 : tensor<1x?x14336xbf16>
      prism.yield %17 : tensor<1x?x14336xbf16>
    }
    %14 = prism.fusion matmul -> (tensor<1x?x4096xbf16>) {
      %15 = prism.matmul %13, %arg10 transpose_rhs : tensor<1x?x14336xbf16>, tensor<4096x14336xbf16>
      %16 = prism.add %11, %15 : tensor<1x?x4096xbf16>, tensor<1x?x4096xbf16>
      prism.yield %16 : tensor<1x?x4096xbf16>
    }
    return %14 : tensor<1x?x4096xbf16>
  }
}

