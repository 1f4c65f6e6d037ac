//===- CpuBackendTest.cpp - Tile kernels compiled and run on the CPU ------===//
//
// Hand-written tile kernels go through the CPU backend's whole path: the
// lowering pipeline, LLVM codegen to an object, ld.lld to a shared library,
// the runtime's dlopen and grid launch. Results are checked against the
// float64 reference on random inputs with tails in every tiled dimension.
//
//===----------------------------------------------------------------------===//

#include "prism/InitAll.h"
#include "prism/Reference/ReferenceOps.h"
#include "prism/Reference/Tolerance.h"
#include "prism/Target/TargetBackend.h"
#include "targets/cpu/CpuSerializer.h"
#include "targets/cpu/runtime/CpuKernelLibrary.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <gtest/gtest.h>

#include <random>

using namespace mlir;

namespace {

constexpr const char *kSoftmaxKernel = R"mlir(
func.func @softmax_rows(%x: memref<?x?xf32, strided<[?, 1], offset: ?>>,
                        %y: memref<?x?xf32, strided<[?, 1], offset: ?>>)
    attributes {tile.kernel} {
  %pid = tile.program_id x
  %c4 = arith.constant 4 : index
  %c0 = arith.constant 0 : index
  %row0 = arith.muli %pid, %c4 : index
  %ninf = arith.constant 0xFF800000 : f32
  %s = tile.load %x[%row0, %c0] padding(%ninf : f32) : memref<?x?xf32, strided<[?, 1], offset: ?>> -> tensor<4x128xf32>
  %m = tile.reduce max %s axis = 1 : tensor<4x128xf32> -> tensor<4xf32>
  %mc = tile.expand_dims %m axis = 1 : tensor<4xf32> -> tensor<4x1xf32>
  %mb = tile.broadcast %mc : tensor<4x1xf32> -> tensor<4x128xf32>
  %d = arith.subf %s, %mb : tensor<4x128xf32>
  %e = math.exp %d : tensor<4x128xf32>
  %sum = tile.reduce sum %e axis = 1 : tensor<4x128xf32> -> tensor<4xf32>
  %sc = tile.expand_dims %sum axis = 1 : tensor<4xf32> -> tensor<4x1xf32>
  %sb = tile.broadcast %sc : tensor<4x1xf32> -> tensor<4x128xf32>
  %p = arith.divf %e, %sb : tensor<4x128xf32>
  tile.store %p, %y[%row0, %c0] : tensor<4x128xf32>, memref<?x?xf32, strided<[?, 1], offset: ?>>
  return
}

// C[M, N] = A[M, K] x B[N, K]^T: B is read as [N, K] blocks (unit stride) and
// the dot takes its transpose, as the kernel library's matmul with
// transpose_rhs does.
func.func @matmul_nt(%a: memref<?x?xf32, strided<[?, 1], offset: ?>>,
                     %b: memref<?x?xf32, strided<[?, 1], offset: ?>>,
                     %c: memref<?x?xf32, strided<[?, 1], offset: ?>>, %k: index)
    attributes {tile.kernel} {
  %c0 = arith.constant 0 : index
  %c8 = arith.constant 8 : index
  %c16 = arith.constant 16 : index
  %pm = tile.program_id x
  %pn = tile.program_id y
  %m0 = arith.muli %pm, %c8 : index
  %n0 = arith.muli %pn, %c16 : index
  %zero = arith.constant 0.0 : f32
  %init = tile.splat %zero : tensor<8x16xf32>
  %acc = scf.for %k0 = %c0 to %k step %c8 iter_args(%acc0 = %init) -> tensor<8x16xf32> {
    %ta = tile.load %a[%m0, %k0] : memref<?x?xf32, strided<[?, 1], offset: ?>> -> tensor<8x8xf32>
    %tb = tile.load %b[%n0, %k0] : memref<?x?xf32, strided<[?, 1], offset: ?>> -> tensor<16x8xf32>
    %tbt = tile.transpose %tb perm = [1, 0] : tensor<16x8xf32> -> tensor<8x16xf32>
    %next = tile.dot %ta, %tbt, %acc0 : tensor<8x8xf32>, tensor<8x16xf32> -> tensor<8x16xf32>
    scf.yield %next : tensor<8x16xf32>
  }
  tile.store %acc, %c[%m0, %n0] : tensor<8x16xf32>, memref<?x?xf32, strided<[?, 1], offset: ?>>
  return
}
)mlir";

class CpuBackendTest : public ::testing::Test {
protected:
  static void SetUpTestSuite() {
    prism::registerAllPasses();
    DialectRegistry registry;
    prism::registerAllDialects(registry);
    context = new MLIRContext(registry);
    context->loadAllAvailableDialects();

    OwningOpRef<ModuleOp> module =
        parseSourceString<ModuleOp>(kSoftmaxKernel, context);
    ASSERT_TRUE(module);
    const prism::TargetBackend *cpu =
        prism::lookupTargetBackend(prism::TargetSpec{"cpu", ""});
    ASSERT_NE(cpu, nullptr);
    PassManager pm(context);
    cpu->buildTileLoweringPipeline(pm, prism::TargetSpec{"cpu", ""});
    ASSERT_TRUE(succeeded(pm.run(*module)));

    llvm::Expected<std::string> object =
        prism::cpu::compileToObject(*module, "");
    ASSERT_TRUE(static_cast<bool>(object)) << llvm::toString(object.takeError());
    llvm::SmallString<128> directory;
    ASSERT_FALSE(llvm::sys::fs::createUniqueDirectory("prism-cpu-test", directory));
    std::string objectPath = (directory + "/kernels.o").str();
    std::string libraryPath = (directory + "/kernels.so").str();
    {
      std::error_code ec;
      llvm::raw_fd_ostream out(objectPath, ec);
      ASSERT_FALSE(ec);
      out << *object;
    }
    llvm::Error linked = prism::cpu::linkSharedLibrary(objectPath, libraryPath);
    ASSERT_FALSE(static_cast<bool>(linked)) << llvm::toString(std::move(linked));
    std::string error;
    library = prism::runtime::CpuKernelLibrary::load(libraryPath, error).release();
    ASSERT_NE(library, nullptr) << error;
  }

  static void TearDownTestSuite() {
    delete library;
    delete context;
  }

  static std::vector<float> randomValues(size_t count, unsigned seed) {
    std::mt19937 generator(seed);
    std::normal_distribution<float> normal(0.0f, 2.0f);
    std::vector<float> values(count);
    for (float &v : values)
      v = normal(generator);
    return values;
  }

  static prism::reference::Tensor toReference(const std::vector<float> &values,
                                              std::vector<int64_t> shape) {
    return prism::reference::Tensor(
        std::move(shape), std::vector<double>(values.begin(), values.end()));
  }

  static MLIRContext *context;
  static prism::runtime::CpuKernelLibrary *library;
};

MLIRContext *CpuBackendTest::context = nullptr;
prism::runtime::CpuKernelLibrary *CpuBackendTest::library = nullptr;

TEST_F(CpuBackendTest, SoftmaxRowsWithTails) {
  // 37 rows (not a multiple of the 4-row tile), 100 columns (fewer than the
  // 128-wide tile): both tails are masked.
  const int64_t rows = 37, cols = 100;
  std::vector<float> x = randomValues(rows * cols, 7);
  std::vector<float> y(rows * cols, -12345.0f);
  std::string error;
  auto entry = library->lookup("softmax_rows", error);
  ASSERT_NE(entry, nullptr) << error;
  prism::runtime::KernelArguments args;
  args.addBuffer(prism::runtime::StridedBuffer::contiguous(x.data(), {rows, cols}));
  args.addBuffer(prism::runtime::StridedBuffer::contiguous(y.data(), {rows, cols}));
  prism::runtime::launchGrid(entry, args, {(rows + 3) / 4, 1, 1});

  prism::reference::Tensor expected =
      prism::reference::softmax(toReference(x, {rows, cols}), -1, 1.0);
  double error2 = prism::reference::relativeL2Error(toReference(y, {rows, cols}),
                                                    expected);
  EXPECT_LT(error2, *prism::reference::relativeL2Tolerance("f32"));
}

TEST_F(CpuBackendTest, MatmulTransposedRhsWithTails) {
  const int64_t m = 29, n = 45, k = 67;
  std::vector<float> a = randomValues(m * k, 1), b = randomValues(n * k, 2);
  std::vector<float> c(m * n, -1.0f);
  std::string error;
  auto entry = library->lookup("matmul_nt", error);
  ASSERT_NE(entry, nullptr) << error;
  prism::runtime::KernelArguments args;
  args.addBuffer(prism::runtime::StridedBuffer::contiguous(a.data(), {m, k}));
  args.addBuffer(prism::runtime::StridedBuffer::contiguous(b.data(), {n, k}));
  args.addBuffer(prism::runtime::StridedBuffer::contiguous(c.data(), {m, n}));
  args.addIndex(k);
  prism::runtime::launchGrid(entry, args, {(m + 7) / 8, (n + 15) / 16, 1});

  llvm::Expected<prism::reference::Tensor> expected = prism::reference::matmul(
      toReference(a, {m, k}), toReference(b, {n, k}), nullptr, {false, true});
  ASSERT_TRUE(static_cast<bool>(expected));
  double error2 =
      prism::reference::relativeL2Error(toReference(c, {m, n}), *expected);
  EXPECT_LT(error2, *prism::reference::relativeL2Tolerance("f32"));
}

} // namespace
