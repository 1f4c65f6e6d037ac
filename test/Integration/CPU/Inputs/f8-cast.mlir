// f8E4M3FN is a storage type; no kernel converts to it yet.
func.func @c(%x: tensor<?x64xf32>) -> tensor<?x64xf8E4M3FN> {
  %0 = prism.cast %x : tensor<?x64xf32> to tensor<?x64xf8E4M3FN>
  return %0 : tensor<?x64xf8E4M3FN> }
