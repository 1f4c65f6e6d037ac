//===- ReferenceOpsTest.cpp - The float64 reference against hand values ---===//
//
// The reference is what every target is checked against, so it is itself
// checked against values worked out by hand and against identities of the
// math (softmax rows sum to 1, rotations keep norms, position 0 is the
// identity, ...).
//
//===----------------------------------------------------------------------===//

#include "prism/Reference/ReferenceOps.h"
#include "prism/Reference/Tolerance.h"

#include <gtest/gtest.h>

#include "llvm/ADT/APFloat.h"

#include <cmath>
#include <random>

using namespace prism::reference;

namespace {

Tensor unwrap(llvm::Expected<Tensor> value) {
  if (!value) {
    ADD_FAILURE() << llvm::toString(value.takeError());
    return Tensor();
  }
  return std::move(*value);
}

std::string errorOf(llvm::Expected<Tensor> value) {
  if (value)
    return "";
  return llvm::toString(value.takeError());
}

/// Deterministic, non-trivial values (never all zeros or ones).
Tensor ramp(std::vector<int64_t> shape, double scale = 0.37, double shift = -1.1) {
  Tensor t(std::move(shape));
  for (int64_t i = 0; i < t.numElements(); ++i)
    t.data[i] = std::sin(scale * i + shift) * 1.5 + 0.1 * (i % 7);
  return t;
}

void expectNear(const Tensor &actual, const std::vector<double> &expected,
                double tolerance = 1e-12) {
  ASSERT_EQ(actual.data.size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i)
    EXPECT_NEAR(actual.data[i], expected[i], tolerance) << "element " << i;
}

TEST(ReferenceOps, BinaryBroadcasts) {
  Tensor a({2, 1}, {1.0, 2.0});
  Tensor b({3}, {10.0, 20.0, 30.0});
  Tensor sum = unwrap(binary(BinaryKind::Add, a, b));
  EXPECT_EQ(sum.shape, (std::vector<int64_t>{2, 3}));
  expectNear(sum, {11, 21, 31, 12, 22, 32});
  Tensor maximum = unwrap(binary(BinaryKind::Max, a, Tensor({1}, {std::nan("")})));
  EXPECT_TRUE(std::isnan(maximum.data[0]));
  EXPECT_NE(errorOf(binary(BinaryKind::Mul, Tensor({4}), Tensor({3}))), "");
}

TEST(ReferenceOps, Activations) {
  Tensor x({3}, {-1.0, 0.5, 2.0});
  expectNear(unary(UnaryKind::Relu, x), {0.0, 0.5, 2.0});
  expectNear(unary(UnaryKind::Silu, x),
             {-1.0 / (1 + std::exp(1.0)), 0.5 / (1 + std::exp(-0.5)),
              2.0 / (1 + std::exp(-2.0))});
  // gelu(x) = x * Phi(x); Phi(2) = 0.977249868051821.
  EXPECT_NEAR(unary(UnaryKind::GeluErf, x).data[2], 2.0 * 0.977249868051821, 1e-12);
  // The tanh form is an approximation of the erf form to ~1e-3.
  Tensor wide = ramp({64}, 0.11, -3.0);
  Tensor exact = unary(UnaryKind::GeluErf, wide);
  Tensor approx = unary(UnaryKind::GeluTanh, wide);
  EXPECT_LT(relativeL2Error(approx, exact), 1e-3);
  EXPECT_GT(relativeL2Error(approx, exact), 0.0);
  Tensor gate({2}, {1.0, -2.0}), up({2}, {3.0, 0.25});
  expectNear(swiglu(gate, up), {3.0 / (1 + std::exp(-1.0)),
                                0.25 * -2.0 / (1 + std::exp(2.0))});
}

TEST(ReferenceOps, SoftmaxIsSafeAndNormalized) {
  Tensor x({1, 2}, {0.0, std::log(2.0)});
  expectNear(softmax(x, -1, 1.0), {1.0 / 3, 2.0 / 3});
  // Max-subtracted: huge logits do not overflow.
  expectNear(softmax(Tensor({2}, {1000.0, 1000.0 + std::log(3.0)}), 0, 1.0),
             {0.25, 0.75});
  Tensor y = softmax(ramp({3, 5, 4}), 1, 0.5);
  for (int64_t i = 0; i < 3; ++i)
    for (int64_t k = 0; k < 4; ++k) {
      double sum = 0;
      for (int64_t j = 0; j < 5; ++j)
        sum += y.at({i, j, k});
      EXPECT_NEAR(sum, 1.0, 1e-12);
    }
}

TEST(ReferenceOps, Reduce) {
  Tensor x({2, 3}, {1, 2, 3, 4, 5, 6});
  Tensor sum = reduce(ReduceKind::Sum, x, {1}, false);
  EXPECT_EQ(sum.shape, (std::vector<int64_t>{2}));
  expectNear(sum, {6, 15});
  Tensor mean = reduce(ReduceKind::Mean, x, {0, -1}, true);
  EXPECT_EQ(mean.shape, (std::vector<int64_t>{1, 1}));
  expectNear(mean, {3.5});
  expectNear(reduce(ReduceKind::Max, x, {0}, false), {4, 5, 6});
  expectNear(reduce(ReduceKind::Min, x, {1}, true), {1, 4});
}

TEST(ReferenceOps, Norms) {
  Tensor x({1, 2}, {3.0, 4.0});
  double rms = std::sqrt(12.5 + 1e-6);
  expectNear(rmsNorm(x, Tensor({2}, {1.0, 2.0}), 1e-6), {3.0 / rms, 8.0 / rms});
  Tensor row({3}, {1.0, 2.0, 3.0});
  double inv = 1.0 / std::sqrt(2.0 / 3.0 + 1e-5);
  expectNear(layerNorm(row, nullptr, nullptr, 1e-5), {-inv, 0.0, inv});
  Tensor w({3}, {2.0, 3.0, 4.0}), b({3}, {0.5, -0.5, 1.0});
  expectNear(layerNorm(row, &w, &b, 1e-5), {-2 * inv + 0.5, -0.5, 4 * inv + 1.0});
}

TEST(ReferenceOps, Matmul) {
  Tensor a({2, 3}, {1, 2, 3, 4, 5, 6});
  Tensor b({3, 2}, {7, 8, 9, 10, 11, 12});
  expectNear(unwrap(matmul(a, b, nullptr, {})), {58, 64, 139, 154});
  Tensor bias({2}, {0.5, -1.0});
  expectNear(unwrap(matmul(a, b, &bias, {})), {58.5, 63, 139.5, 153});
  // transpose_rhs reads [N, K].
  Tensor bt = transpose(b, {1, 0});
  expectNear(unwrap(matmul(a, bt, nullptr, {false, true})), {58, 64, 139, 154});
  Tensor at = transpose(a, {1, 0});
  expectNear(unwrap(matmul(at, b, nullptr, {true, false})), {58, 64, 139, 154});
  // Batch dimensions broadcast: [2,1,2,3] x [3,3,2] -> [2,3,2,2].
  Tensor lhs = ramp({2, 1, 2, 3});
  Tensor rhs = ramp({3, 3, 2}, 0.21, 0.4);
  Tensor out = unwrap(matmul(lhs, rhs, nullptr, {}));
  EXPECT_EQ(out.shape, (std::vector<int64_t>{2, 3, 2, 2}));
  double expected = 0;
  for (int64_t p = 0; p < 3; ++p)
    expected += lhs.at({1, 0, 1, p}) * rhs.at({2, p, 0});
  EXPECT_NEAR(out.at({1, 2, 1, 0}), expected, 1e-12);
  EXPECT_NE(errorOf(matmul(a, a, nullptr, {})), "");
}

TEST(ReferenceOps, AttentionSingleKeyReturnsValue) {
  Tensor q = ramp({1, 2, 3, 4}), k = ramp({1, 1, 1, 4}, 0.5), v = ramp({1, 1, 1, 5}, 0.3);
  Tensor out = unwrap(attention(q, k, v, nullptr, {false, 0.5, std::nullopt}));
  EXPECT_EQ(out.shape, (std::vector<int64_t>{1, 2, 3, 5}));
  for (int64_t h = 0; h < 2; ++h)
    for (int64_t i = 0; i < 3; ++i)
      for (int64_t d = 0; d < 5; ++d)
        EXPECT_NEAR(out.at({0, h, i, d}), v.at({0, 0, 0, d}), 1e-12);
}

TEST(ReferenceOps, AttentionCausalGroupedWindowed) {
  Tensor q = ramp({1, 4, 3, 8}), k = ramp({1, 2, 5, 8}, 0.23), v = ramp({1, 2, 5, 6}, 0.41);
  double scale = 1.0 / std::sqrt(8.0);
  Tensor out = unwrap(attention(q, k, v, nullptr, {true, scale, std::nullopt}));
  // Bottom-right alignment: query 0 sits at position 2 and sees keys 0..2.
  // Query head 3 reads key/value head 1 (4 query heads over 2 kv heads).
  auto manual = [&](int64_t h, int64_t i, int64_t lo, int64_t hi) {
    std::vector<double> weights;
    double maximum = -INFINITY;
    for (int64_t j = lo; j <= hi; ++j) {
      double s = 0;
      for (int64_t d = 0; d < 8; ++d)
        s += q.at({0, h, i, d}) * k.at({0, h / 2, j, d});
      weights.push_back(s * scale);
      maximum = std::max(maximum, s * scale);
    }
    double sum = 0;
    for (double &w : weights)
      sum += (w = std::exp(w - maximum));
    std::vector<double> o(6, 0.0);
    for (int64_t j = lo; j <= hi; ++j)
      for (int64_t d = 0; d < 6; ++d)
        o[d] += weights[j - lo] / sum * v.at({0, h / 2, j, d});
    return o;
  };
  std::vector<double> expected = manual(3, 0, 0, 2);
  for (int64_t d = 0; d < 6; ++d)
    EXPECT_NEAR(out.at({0, 3, 0, d}), expected[d], 1e-12);
  // A window of 2 keeps keys i+2-1 .. i+2.
  Tensor windowed = unwrap(attention(q, k, v, nullptr, {true, scale, 2}));
  expected = manual(1, 2, 3, 4);
  for (int64_t d = 0; d < 6; ++d)
    EXPECT_NEAR(windowed.at({0, 1, 2, d}), expected[d], 1e-12);
}

TEST(ReferenceOps, AttentionMaskAndEmptyRows) {
  Tensor q = ramp({1, 1, 2, 4}), k = ramp({1, 1, 2, 4}, 0.7), v = ramp({1, 1, 2, 3}, 0.2);
  // Mask out key 1 for every query: attention returns value row 0.
  Tensor mask({2}, {0.0, -INFINITY});
  Tensor out = unwrap(attention(q, k, v, &mask, {false, 1.0, std::nullopt}));
  for (int64_t i = 0; i < 2; ++i)
    for (int64_t d = 0; d < 3; ++d)
      EXPECT_NEAR(out.at({0, 0, i, d}), v.at({0, 0, 0, d}), 1e-12);
  // Causal with more queries than keys: the first query sees no key.
  Tensor q3 = ramp({1, 1, 3, 4});
  Tensor causal = unwrap(attention(q3, k, v, nullptr, {true, 1.0, std::nullopt}));
  for (int64_t d = 0; d < 3; ++d)
    EXPECT_EQ(causal.at({0, 0, 0, d}), 0.0);
}

TEST(ReferenceOps, Rope) {
  Tensor x = ramp({2, 3, 2, 8});
  Tensor zeros({3}, {0.0, 0.0, 0.0});
  // Position 0 is the identity, for both styles.
  expectNear(unwrap(rope(x, zeros, {})), x.data);
  expectNear(unwrap(rope(x, zeros, {true})), x.data);
  // Rotations keep the norm of every rotated pair (neox pairs (i, i + 4)).
  Tensor positions({2, 3}, {0, 5, 17, 3, 1000, 2});
  Tensor y = unwrap(rope(x, positions, {false, false, 500000.0}));
  for (int64_t s = 0; s < 3; ++s)
    for (int64_t i = 0; i < 4; ++i) {
      double a = x.at({1, s, 1, i}), b = x.at({1, s, 1, i + 4});
      double c = y.at({1, s, 1, i}), d = y.at({1, s, 1, i + 4});
      EXPECT_NEAR(a * a + b * b, c * c + d * d, 1e-12);
    }
  // Pair 0 rotates by exactly the position (inv_freq[0] = 1).
  EXPECT_NEAR(y.at({0, 1, 0, 0}),
              x.at({0, 1, 0, 0}) * std::cos(5.0) - x.at({0, 1, 0, 4}) * std::sin(5.0), 1e-12);
  // cos/sin tables equal to the theta formula give the same result; rows
  // past the table clamp to the last row.
  Tensor cosTable({20, 4}), sinTable({20, 4});
  for (int64_t p = 0; p < 20; ++p)
    for (int64_t i = 0; i < 4; ++i) {
      double angle = p * std::pow(10000.0, -2.0 * i / 8);
      cosTable.at({p, i}) = std::cos(angle);
      sinTable.at({p, i}) = std::sin(angle);
    }
  Tensor small({3}, {1, 7, 19});
  RopeOptions tables;
  tables.interleaved = true;
  tables.cosTable = &cosTable;
  tables.sinTable = &sinTable;
  expectNear(unwrap(rope(x, small, tables)), unwrap(rope(x, small, {true})).data);
  Tensor beyond({3}, {1, 7, 25});
  Tensor clamped = unwrap(rope(x, beyond, tables));
  expectNear(clamped, unwrap(rope(x, small, tables)).data);
  // bhsd reads the sequence from dim 2.
  Tensor xh = transpose(x, {0, 2, 1, 3});
  RopeOptions bhsd;
  bhsd.bhsd = true;
  expectNear(transpose(unwrap(rope(xh, positions, bhsd)), {0, 2, 1, 3}),
             unwrap(rope(x, positions, {})).data);
}

TEST(ReferenceOps, EmbeddingTransposeReshape) {
  Tensor table({3, 2}, {1, 2, 3, 4, 5, 6});
  Tensor ids({2, 2}, {2, 0, -1, 3});
  Tensor rows = embedding(table, ids);
  EXPECT_EQ(rows.shape, (std::vector<int64_t>{2, 2, 2}));
  expectNear(rows, {5, 6, 1, 2, 0, 0, 0, 0});
  Tensor t = transpose(Tensor({2, 3}, {1, 2, 3, 4, 5, 6}), {1, 0});
  expectNear(t, {1, 4, 2, 5, 3, 6});
  Tensor r = unwrap(reshape(t, {-1, 2}));
  EXPECT_EQ(r.shape, (std::vector<int64_t>{3, 2}));
  EXPECT_NE(errorOf(reshape(t, {4, -1})), "");
}

TEST(ReferenceOps, CastRounding) {
  // bf16 has 8 significand bits: 1 + 2^-8 is a tie between 1 and 1 + 2^-7.
  EXPECT_EQ(roundTo(1.0 + std::ldexp(1.0, -8), ElementKind::BF16), 1.0);
  EXPECT_EQ(roundTo(1.0 + 3 * std::ldexp(1.0, -8), ElementKind::BF16),
            1.0 + std::ldexp(1.0, -6));
  EXPECT_TRUE(std::isinf(roundTo(70000.0, ElementKind::F16)));
  EXPECT_EQ(roundTo(1000.0, ElementKind::F8E4M3FN), 448.0);
  EXPECT_EQ(roundTo(-INFINITY, ElementKind::F8E4M3FN), -448.0);
  EXPECT_TRUE(std::isnan(roundTo(NAN, ElementKind::F8E4M3FN)));
  EXPECT_EQ(roundTo(2.5, ElementKind::I8), 2.0);
  EXPECT_EQ(roundTo(-3.5, ElementKind::I8), -4.0);
  EXPECT_EQ(roundTo(300.0, ElementKind::I8), 127.0);
  EXPECT_EQ(roundTo(NAN, ElementKind::I8), 0.0);
  EXPECT_EQ(roundTo(0.1, ElementKind::F32), static_cast<double>(0.1f));
}

TEST(ReferenceOps, ErrorMetricAndTolerances) {
  Tensor e({2}, {3.0, 4.0}), a({2}, {3.0, 4.05});
  EXPECT_NEAR(relativeL2Error(a, e), 0.01, 1e-12);
  EXPECT_TRUE(std::isinf(relativeL2Error(Tensor({2}, {NAN, 4.0}), e)));
  EXPECT_TRUE(std::isinf(relativeL2Error(Tensor({1}, {3.0}), e)));
  EXPECT_EQ(relativeL2Tolerance("f32"), 1e-5);
  EXPECT_EQ(relativeL2Tolerance("bf16"), 1e-2);
  EXPECT_FALSE(relativeL2Tolerance("f64").has_value());
}

} // namespace

namespace {

double roundWithAPFloat(double value, const llvm::fltSemantics &semantics) {
  llvm::APFloat f(value);
  bool lost;
  f.convert(semantics, llvm::APFloat::rmNearestTiesToEven, &lost);
  f.convert(llvm::APFloat::IEEEdouble(), llvm::APFloat::rmNearestTiesToEven,
            &lost);
  return f.convertToDouble();
}

void expectSameRounding(double value) {
  EXPECT_EQ(roundTo(value, ElementKind::BF16),
            roundWithAPFloat(value, llvm::APFloat::BFloat()))
      << "bf16 of " << value;
  EXPECT_EQ(roundTo(value, ElementKind::F16),
            roundWithAPFloat(value, llvm::APFloat::IEEEhalf()))
      << "f16 of " << value;
  EXPECT_EQ(roundTo(value, ElementKind::F32),
            roundWithAPFloat(value, llvm::APFloat::IEEEsingle()))
      << "f32 of " << value;
}

} // namespace

// The fast rounding of the reference (scaled nearbyint) against LLVM's
// APFloat: random doubles over every exponent range that matters (subnormals
// of each format, overflow), and exact ties, which must go to even.
TEST(ReferenceOps, RoundingMatchesAPFloat) {
  std::mt19937_64 generator(42);
  std::uniform_real_distribution<double> mantissa(1.0, 2.0);
  std::uniform_int_distribution<int> exponent(-160, 135);
  for (int i = 0; i < 200000; ++i) {
    double v = std::ldexp(mantissa(generator), exponent(generator));
    expectSameRounding(i % 2 ? v : -v);
  }
  // Ties: halfway between two bf16 / f16 neighbours, both parities.
  for (double base : {1.0, 1.0078125, 3.0, 65504.0, 6.103515625e-05}) {
    expectSameRounding(base + std::ldexp(1.0, std::ilogb(base) - 8));
    expectSameRounding(base + std::ldexp(1.0, std::ilogb(base) - 11));
  }
  for (double special : {0.0, -0.0, 65520.0, 65519.99, 3.4e38, 3.39e38, 1e-45,
                         std::ldexp(1.0, -149), std::ldexp(1.0, -150),
                         std::ldexp(1.0, -25), std::ldexp(1.0, -24),
                         std::ldexp(3.0, -26)})
    expectSameRounding(special);
  EXPECT_TRUE(std::isinf(roundTo(1e300, ElementKind::BF16)));
  EXPECT_TRUE(std::isnan(roundTo(std::nan(""), ElementKind::F16)));
}
