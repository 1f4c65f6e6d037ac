//===- PrismTypeInferenceTest.cpp - Inference as builders reach it --------===//
//
// The text parser only hands ranked tensors to the prism ops, so some checks
// of their result-type inference are reachable only from C++ and Python
// builders. Builders must call inferReturnTypes before creating an op (the
// generated inferring builders assert on failure); these tests pin down what
// such a caller sees.
//
//===----------------------------------------------------------------------===//

#include "dialects/Prism/IR/PrismDialect.h"
#include "dialects/Prism/IR/PrismOps.h"

#include "mlir/IR/Block.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"

#include <gtest/gtest.h>

using namespace mlir;

namespace {

class PrismTypeInferenceTest : public ::testing::Test {
protected:
  PrismTypeInferenceTest() : builder(&context), loc(UnknownLoc::get(&context)) {
    context.loadDialect<prism::PrismDialect>();
  }

  /// A value of the given type (a block argument; no op needed).
  Value value(Type type) { return block.addArgument(type, loc); }

  RankedTensorType tensor(ArrayRef<int64_t> shape, Type element) {
    return RankedTensorType::get(shape, element);
  }

  /// Runs `infer` with a diagnostic handler; returns the diagnostics emitted.
  template <typename Fn> std::string diagnosticsOf(Fn &&infer) {
    std::string messages;
    ScopedDiagnosticHandler handler(&context, [&](Diagnostic &diag) {
      messages += diag.str() + "\n";
      return success();
    });
    EXPECT_TRUE(failed(infer()));
    return messages;
  }

  MLIRContext context;
  OpBuilder builder;
  Location loc;
  Block block;
};

TEST_F(PrismTypeInferenceTest, MatmulRejectsUnrankedRhs) {
  Value lhs = value(tensor({8, 64}, builder.getF32Type()));
  Value rhs = value(UnrankedTensorType::get(builder.getF32Type()));
  SmallVector<Type> results;
  prism::MatmulOp::Properties properties;
  std::string messages = diagnosticsOf([&] {
    return prism::MatmulOp::inferReturnTypes(
        &context, loc, ValueRange{lhs, rhs}, /*attributes=*/nullptr,
        OpaqueProperties(&properties), /*regions=*/{}, results);
  });
  EXPECT_EQ(messages, "'prism.matmul' op operand 'rhs' must be a ranked "
                      "tensor, but got 'tensor<*xf32>'\n");
}

TEST_F(PrismTypeInferenceTest, UnaryRejectsMemref) {
  Value input = value(MemRefType::get({4}, builder.getF32Type()));
  SmallVector<Type> results;
  std::string messages = diagnosticsOf([&] {
    return prism::ExpOp::inferReturnTypes(&context, loc, ValueRange{input},
                                          nullptr, OpaqueProperties(nullptr),
                                          {}, results);
  });
  EXPECT_EQ(messages, "'prism.exp' op operand 'input' must be a ranked "
                      "tensor, but got 'memref<4xf32>'\n");
}

TEST_F(PrismTypeInferenceTest, TransposeRejectsUnrankedInput) {
  Value input = value(UnrankedTensorType::get(builder.getF16Type()));
  SmallVector<Type> results;
  prism::TransposeOp::Properties properties;
  properties.permutation = builder.getDenseI64ArrayAttr({0});
  std::string messages = diagnosticsOf([&] {
    return prism::TransposeOp::inferReturnTypes(
        &context, loc, ValueRange{input}, nullptr,
        OpaqueProperties(&properties), {}, results);
  });
  EXPECT_EQ(messages, "'prism.transpose' op operand 'input' must be a ranked "
                      "tensor, but got 'tensor<*xf16>'\n");
}

TEST_F(PrismTypeInferenceTest, NoLocationMeansNoDiagnostic) {
  Value a = value(tensor({4}, builder.getF32Type()));
  Value b = value(tensor({3}, builder.getF32Type()));
  SmallVector<Type> results;
  std::string messages = diagnosticsOf([&] {
    return prism::AddOp::inferReturnTypes(&context, std::nullopt,
                                          ValueRange{a, b}, nullptr,
                                          OpaqueProperties(nullptr), {},
                                          results);
  });
  EXPECT_EQ(messages, "");
}

TEST_F(PrismTypeInferenceTest, MatmulInfersBroadcastBatchAndTranspose) {
  Value lhs = value(tensor({4, 1, ShapedType::kDynamic, 64}, builder.getBF16Type()));
  Value rhs = value(tensor({3, 128, 64}, builder.getBF16Type()));
  SmallVector<Type> results;
  prism::MatmulOp::Properties properties;
  properties.transpose_rhs = builder.getUnitAttr();
  ASSERT_TRUE(succeeded(prism::MatmulOp::inferReturnTypes(
      &context, loc, ValueRange{lhs, rhs}, nullptr,
      OpaqueProperties(&properties), {}, results)));
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0],
            tensor({4, 3, ShapedType::kDynamic, 128}, builder.getBF16Type()));
}

TEST_F(PrismTypeInferenceTest, InferringBuilderCreatesVerifiedOp) {
  OpBuilder::InsertionGuard guard(builder);
  Block &body = block;
  builder.setInsertionPointToEnd(&body);
  Value q = value(tensor({1, 8, 16, 64}, builder.getF16Type()));
  Value kv = value(tensor({1, 2, 32, 64}, builder.getF16Type()));
  auto op = prism::AttentionOp::create(builder, loc, q, kv, kv, /*mask=*/Value(),
                                       /*causal=*/true, /*scale=*/nullptr,
                                       /*window=*/nullptr);
  EXPECT_EQ(op.getType(), tensor({1, 8, 16, 64}, builder.getF16Type()));
  EXPECT_TRUE(succeeded(verify(op)));
  ASSERT_TRUE(op.getEffectiveScale().has_value());
  EXPECT_DOUBLE_EQ(*op.getEffectiveScale(), 0.125);
  op->erase();
}

} // namespace
