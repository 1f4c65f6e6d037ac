// A gated MLP whose two 128x512 f16 accumulators (256 f32 registers per
// thread in 256 threads) do not fit the register file: ptxas serializes
// its wgmma (note C7512), which prism-translate --report shows.
func.func @wide_gated(%x: tensor<?x520xf16>, %wg: tensor<512x520xf16>, %wu: tensor<512x520xf16>) -> tensor<?x512xf16> {
  %g = prism.matmul %x, %wg transpose_rhs : tensor<?x520xf16>, tensor<512x520xf16>
  %u = prism.matmul %x, %wu transpose_rhs : tensor<?x520xf16>, tensor<512x520xf16>
  %a = prism.swiglu %g, %u : tensor<?x512xf16>
  return %a : tensor<?x512xf16>
}
