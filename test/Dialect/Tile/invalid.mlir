// RUN: prism-opt %s -split-input-file -verify-diagnostics

func.func @program_id_outside_kernel() {
  // expected-error @+1 {{'tile.program_id' op must be inside a function marked 'tile.kernel'}}
  %0 = tile.program_id x
  return
}

// -----

func.func @num_programs_outside_kernel() {
  // expected-error @+1 {{'tile.num_programs' op must be inside a function marked 'tile.kernel'}}
  %0 = tile.num_programs z
  return
}

// -----

// expected-error @+1 {{tile kernel must not return values (results are stored to memref arguments)}}
func.func @kernel_returns(%a: index) -> index attributes {tile.kernel} {
  return %a : index
}

// -----

// expected-error @+1 {{tile kernel argument #1 must be a strided memref or a scalar, but got 'tensor<4xf32>'}}
func.func @kernel_tensor_argument(%a: index, %t: tensor<4xf32>) attributes {tile.kernel} {
  return
}

// -----

// expected-error @+1 {{'tile.kernel' must be a unit attribute}}
func.func @kernel_attr_value() attributes {tile.kernel = 1 : i32} {
  return
}

// -----

// expected-error @+1 {{unknown tile dialect attribute 'tile.kernal'}}
func.func @kernel_attr_typo() attributes {tile.kernal} {
  return
}

// -----

// expected-error @+1 {{'tile.pipeline_stages' must be an integer of at least 2}}
func.func @one_stage() attributes {tile.kernel, tile.pipeline_stages = 1 : i64} {
  return
}

// -----

// expected-error @+1 {{'tile.dots_in_flight' must be an integer 0 or 1}}
func.func @two_in_flight() attributes {tile.kernel, tile.dots_in_flight = 2 : i64} {
  return
}

// -----

func.func @iota_rank() {
  // expected-error @+1 {{'tile.iota' op result must be a 1-D tile, but got 'tensor<4x4xindex>'}}
  %0 = tile.iota : tensor<4x4xindex>
  return
}

// -----

func.func @iota_dynamic() {
  // expected-error @+1 {{'tile.iota' op result #0 must be statically shaped tensor}}
  %0 = tile.iota : tensor<?xindex>
  return
}

// -----

// expected-note @+1 {{prior use here}}
func.func @splat_type(%s: f16) {
  // expected-error @+1 {{use of value '%s' expects different type than prior uses: 'f32' vs 'f16'}}
  %0 = tile.splat %s : tensor<4xf32>
  return
}

// -----

func.func @broadcast_element(%t: tensor<4xf32>) {
  // expected-error @+1 {{'tile.broadcast' op result must have the element type of the input ('f32'), but got 'f16'}}
  %0 = tile.broadcast %t : tensor<4xf32> -> tensor<2x4xf16>
  return
}

// -----

func.func @broadcast_rank(%t: tensor<2x4xf32>) {
  // expected-error @+1 {{'tile.broadcast' op result rank (1) must be at least the input rank (2)}}
  %0 = tile.broadcast %t : tensor<2x4xf32> -> tensor<8xf32>
  return
}

// -----

func.func @broadcast_dim(%t: tensor<3xf32>) {
  // expected-error @+1 {{'tile.broadcast' op input dimension 0 (3) must be 1 or equal result dimension 1 (4)}}
  %0 = tile.broadcast %t : tensor<3xf32> -> tensor<2x4xf32>
  return
}

// -----

func.func @expand_dims_axis(%t: tensor<4xf32>) {
  // expected-error @+1 {{'tile.expand_dims' op axis 2 must be in [0, 1]}}
  %0 = tile.expand_dims %t axis = 2 : tensor<4xf32> -> tensor<4x1xf32>
  return
}

// -----

func.func @expand_dims_result(%t: tensor<4xf32>) {
  // expected-error @+1 {{'tile.expand_dims' op result must be 'tensor<1x4xf32>', but got 'tensor<4x1xf32>'}}
  %0 = tile.expand_dims %t axis = 0 : tensor<4xf32> -> tensor<4x1xf32>
  return
}

// -----

func.func @load_indices(%m: memref<?x?xf32>, %i: index) {
  // expected-error @+1 {{'tile.load' op expects one index per dimension of the memref (2), but got 1}}
  %0 = tile.load %m[%i] : memref<?x?xf32> -> tensor<4x4xf32>
  return
}

// -----

func.func @load_rank(%m: memref<?x?xf32>, %i: index) {
  // expected-error @+1 {{'tile.load' op result must have the rank of the memref (2), but got 'tensor<16xf32>'}}
  %0 = tile.load %m[%i, %i] : memref<?x?xf32> -> tensor<16xf32>
  return
}

// -----

func.func @load_element(%m: memref<?x?xf32>, %i: index) {
  // expected-error @+1 {{'tile.load' op result must have the element type of the memref ('f32'), but got 'bf16'}}
  %0 = tile.load %m[%i, %i] : memref<?x?xf32> -> tensor<4x4xbf16>
  return
}

// -----

func.func @load_padding(%m: memref<?x?xf32>, %i: index, %p: f16) {
  // expected-error @+1 {{'tile.load' op padding must have the element type of the result ('f32'), but got 'f16'}}
  %0 = tile.load %m[%i, %i] padding(%p : f16) : memref<?x?xf32> -> tensor<4x4xf32>
  return
}

// -----

func.func @load_dynamic_tile(%m: memref<?x?xf32>, %i: index) {
  // expected-error @+1 {{'tile.load' op result #0 must be statically shaped tensor}}
  %0 = tile.load %m[%i, %i] : memref<?x?xf32> -> tensor<4x?xf32>
  return
}

// -----

func.func @store_element(%t: tensor<4x4xf16>, %m: memref<?x?xf32>, %i: index) {
  // expected-error @+1 {{'tile.store' op stored value must have the element type of the memref ('f32'), but got 'f16'}}
  tile.store %t, %m[%i, %i] : tensor<4x4xf16>, memref<?x?xf32>
  return
}

// -----

func.func @store_mask(%t: tensor<4x4xf32>, %m: memref<?x?xf32>, %i: index, %k: tensor<4x2xi1>) {
  // expected-error @+1 {{'tile.store' op mask must have the shape of the stored value ('tensor<4x4xf32>'), but got 'tensor<4x2xi1>'}}
  tile.store %t, %m[%i, %i] mask(%k : tensor<4x2xi1>) : tensor<4x4xf32>, memref<?x?xf32>
  return
}

// -----

func.func @gather_count(%m: memref<?x?xf32>, %i: tensor<4xindex>) {
  // expected-error @+1 {{'tile.gather' op expects one index tile per dimension of the memref (2), but got 1}}
  %0 = tile.gather %m[%i] : memref<?x?xf32>, tensor<4xindex> -> tensor<4xf32>
  return
}

// -----

func.func @gather_shape(%m: memref<?x?xf32>, %i: tensor<4x4xindex>, %j: tensor<4x2xindex>) {
  // expected-error @+1 {{'tile.gather' op index tile #1 must have the shape of the result ('tensor<4x4xf32>'), but got 'tensor<4x2xindex>'}}
  %0 = tile.gather %m[%i, %j] : memref<?x?xf32>, tensor<4x4xindex>, tensor<4x2xindex> -> tensor<4x4xf32>
  return
}

// -----

func.func @gather_element(%m: memref<?xf32>, %i: tensor<4xindex>) {
  // expected-error @+1 {{'tile.gather' op result must have the element type of the memref ('f32'), but got 'f16'}}
  %0 = tile.gather %m[%i] : memref<?xf32>, tensor<4xindex> -> tensor<4xf16>
  return
}

// -----

func.func @gather_mask(%m: memref<?xf32>, %i: tensor<4xindex>, %k: tensor<8xi1>) {
  // expected-error @+1 {{'tile.gather' op mask must have the shape of the result ('tensor<4xf32>'), but got 'tensor<8xi1>'}}
  %0 = tile.gather %m[%i] mask(%k : tensor<8xi1>) : memref<?xf32>, tensor<4xindex> -> tensor<4xf32>
  return
}

// -----

func.func @dot_rank(%a: tensor<4xf32>, %b: tensor<4x4xf32>, %c: tensor<4x4xf32>) {
  // expected-error @+1 {{'tile.dot' op operands must be 2-D tiles}}
  %0 = tile.dot %a, %b, %c : tensor<4xf32>, tensor<4x4xf32> -> tensor<4x4xf32>
  return
}

// -----

func.func @dot_k(%a: tensor<4x8xf32>, %b: tensor<4x4xf32>, %c: tensor<4x4xf32>) {
  // expected-error @+1 {{'tile.dot' op K of 'lhs' (8) must equal K of 'rhs' (4)}}
  %0 = tile.dot %a, %b, %c : tensor<4x8xf32>, tensor<4x4xf32> -> tensor<4x4xf32>
  return
}

// -----

func.func @dot_acc_shape(%a: tensor<4x8xf32>, %b: tensor<8x2xf32>, %c: tensor<4x4xf32>) {
  // expected-error @+1 {{'tile.dot' op accumulator must be [4, 2], but got 'tensor<4x4xf32>'}}
  %0 = tile.dot %a, %b, %c : tensor<4x8xf32>, tensor<8x2xf32> -> tensor<4x4xf32>
  return
}

// -----

func.func @dot_acc_type(%a: tensor<4x8xbf16>, %b: tensor<8x4xbf16>, %c: tensor<4x4xbf16>) {
  // expected-error @+1 {{'tile.dot' op accumulator must be f32 (or f16 for f16 inputs), but got 'bf16'}}
  %0 = tile.dot %a, %b, %c : tensor<4x8xbf16>, tensor<8x4xbf16> -> tensor<4x4xbf16>
  return
}

// -----

func.func @reduce_axis(%t: tensor<4x8xf32>) {
  // expected-error @+1 {{'tile.reduce' op axis 2 must be in [0, 2)}}
  %0 = tile.reduce sum %t axis = 2 : tensor<4x8xf32> -> tensor<4xf32>
  return
}

// -----

func.func @reduce_result(%t: tensor<4x8xf32>) {
  // expected-error @+1 {{'tile.reduce' op result must be 'tensor<8xf32>', but got 'tensor<4xf32>'}}
  %0 = tile.reduce max %t axis = 0 : tensor<4x8xf32> -> tensor<4xf32>
  return
}

// -----

func.func @transpose_permutation(%t: tensor<4x8xf32>) {
  // expected-error @+1 {{'tile.transpose' op permutation must be a permutation of [0, 2)}}
  %0 = tile.transpose %t perm = [0, 0] : tensor<4x8xf32> -> tensor<4x8xf32>
  return
}

// -----

func.func @transpose_length(%t: tensor<4x8xf32>) {
  // expected-error @+1 {{'tile.transpose' op permutation must have one entry per dimension (2), but has 1}}
  %0 = tile.transpose %t perm = [0] : tensor<4x8xf32> -> tensor<4x8xf32>
  return
}

// -----

func.func @transpose_result(%t: tensor<4x8xf32>) {
  // expected-error @+1 {{'tile.transpose' op result must be 'tensor<8x4xf32>', but got 'tensor<4x8xf32>'}}
  %0 = tile.transpose %t perm = [1, 0] : tensor<4x8xf32> -> tensor<4x8xf32>
  return
}

// -----

func.func @reshape_count(%t: tensor<4x8xf32>) {
  // expected-error @+1 {{'tile.reshape' op result must have the element type and element count of the input ('tensor<4x8xf32>'), but got 'tensor<4x4xf32>'}}
  %0 = tile.reshape %t : tensor<4x8xf32> -> tensor<4x4xf32>
  return
}
