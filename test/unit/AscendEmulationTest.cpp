//===- AscendEmulationTest.cpp - The CPU model of the Ascend C API ---------===//
//
// The emulation must reject what the hardware rejects (or silently gets
// wrong): UB overflow, misaligned or partial-block copies, queue misuse,
// partial repeats for Compare; and compute what the API documents.
//
//===----------------------------------------------------------------------===//

#include "kernel_operator.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

using namespace AscendC;
using prism_ascend::EmulationError;

namespace {

TEST(AscendEmulation, UnifiedBufferOverflowIsAnError) {
  TPipe pipe;
  TQue<QuePosition::VECIN, 2> q;
  TBuf<TPosition::VECCALC> b;
  pipe.InitBuffer(q, 2, 64 * 1024); // 128 KB
  EXPECT_THROW(pipe.InitBuffer(b, 65 * 1024), EmulationError);
}

TEST(AscendEmulation, QueuesCheckTheirOrderAndDepth) {
  TPipe pipe;
  TQue<QuePosition::VECIN, 2> q;
  pipe.InitBuffer(q, 2, 256);
  EXPECT_THROW(q.DeQue<float>(), EmulationError); // nothing queued
  LocalTensor<float> a = q.AllocTensor<float>();
  LocalTensor<float> b = q.AllocTensor<float>();
  EXPECT_THROW(q.AllocTensor<float>(), EmulationError); // depth 2
  q.EnQue(a);
  EXPECT_THROW(q.EnQue(a), EmulationError); // already queued
  LocalTensor<float> c = q.DeQue<float>();
  EXPECT_EQ(c.GetPhyAddr(), a.GetPhyAddr()); // FIFO
  q.FreeTensor(c);
  EXPECT_THROW(q.FreeTensor(c), EmulationError); // twice
  q.FreeTensor(b);
}

TEST(AscendEmulation, DataCopyMovesWhole32ByteBlocks) {
  TPipe pipe;
  TBuf<TPosition::VECCALC> buf;
  pipe.InitBuffer(buf, 256);
  LocalTensor<float> t = buf.Get<float>();
  std::vector<float> gm(64, 1.5f);
  GlobalTensor<float> g;
  g.SetGlobalBuffer(gm.data());
  EXPECT_THROW(DataCopy(t, g, 7), EmulationError);    // 28 bytes
  EXPECT_THROW(DataCopy(t[1], g, 8), EmulationError); // misaligned UB
  EXPECT_THROW(DataCopy(t, g, 128), EmulationError);  // past the buffer
  DataCopy(t, g, 8);
  EXPECT_EQ(t.GetValue(7), 1.5f);
}

TEST(AscendEmulation, DataCopyPadPadsOnlyWhatItIsAskedTo) {
  TPipe pipe;
  TBuf<TPosition::VECCALC> buf;
  pipe.InitBuffer(buf, 64);
  LocalTensor<float> t = buf.Get<float>();
  std::vector<float> gm = {1, 2, 3, 4, 5};
  GlobalTensor<float> g;
  g.SetGlobalBuffer(gm.data());
  // 5 floats: the 32-byte block has 3 more; ask for 2 of them as -7.
  DataCopyPad(t, g, DataCopyExtParams{1, 20, 0, 0, 0},
              DataCopyPadExtParams<float>{true, 0, 2, -7.0f});
  EXPECT_EQ(t.GetValue(4), 5.0f);
  EXPECT_EQ(t.GetValue(5), -7.0f);
  EXPECT_EQ(t.GetValue(6), -7.0f);
  EXPECT_TRUE(std::isnan(t.GetValue(7))); // undefined: NaN here
  std::vector<float> back(8, 0.0f);
  GlobalTensor<float> out;
  out.SetGlobalBuffer(back.data());
  DataCopyPad(out, t, DataCopyExtParams{1, 12, 0, 0, 0});
  EXPECT_EQ(back[2], 3.0f);
  EXPECT_EQ(back[3], 0.0f); // only 12 bytes written
}

TEST(AscendEmulation, CompareAndSelectWorkInWhole256ByteRepeats) {
  TPipe pipe;
  TBuf<TPosition::VECCALC> a, b, m, d;
  for (auto *buf : {&a, &b, &d})
    pipe.InitBuffer(*buf, 256);
  pipe.InitBuffer(m, 32);
  LocalTensor<float> x = a.Get<float>(), y = b.Get<float>(), z = d.Get<float>();
  LocalTensor<uint8_t> mask = m.Get<uint8_t>();
  CreateVecIndex(x, 0.0f, 64);
  Duplicate(y, 10.0f, 64);
  EXPECT_THROW(Compare(mask, x, y, CMPMODE::LT, 10), EmulationError);
  Compare(mask, x, y, CMPMODE::LT, 64);
  Duplicate(z, -1.0f, 64);
  Select(z, mask, x, z, SELMODE::VSEL_TENSOR_TENSOR_MODE, 64);
  EXPECT_EQ(z.GetValue(9), 9.0f);
  EXPECT_EQ(z.GetValue(10), -1.0f);
}

TEST(AscendEmulation, VectorOperandsMustBeAlignedAndInside) {
  TPipe pipe;
  TBuf<TPosition::VECCALC> a;
  pipe.InitBuffer(a, 64);
  LocalTensor<float> x = a.Get<float>();
  Duplicate(x, 2.0f, 16);
  EXPECT_THROW(Add(x, x, x, 17), EmulationError);     // past the buffer
  EXPECT_THROW(Add(x[3], x, x, 8), EmulationError);   // misaligned
  Exp(x, x, 16);
  EXPECT_FLOAT_EQ(x.GetValue(15), std::exp(2.0f));
}

TEST(AscendEmulation, CastsRoundAsAsked) {
  TPipe pipe;
  TBuf<TPosition::VECCALC> a, b;
  pipe.InitBuffer(a, 32);
  pipe.InitBuffer(b, 32);
  LocalTensor<float> x = a.Get<float>();
  LocalTensor<int32_t> i = b.Get<int32_t>();
  Duplicate(x, 2.5f, 8);
  EXPECT_THROW(Cast(i, x, RoundMode::CAST_NONE, 8), EmulationError);
  Cast(i, x, RoundMode::CAST_RINT, 8);
  EXPECT_EQ(i.GetValue(0), 2); // to nearest even
  Cast(i, x, RoundMode::CAST_TRUNC, 8);
  EXPECT_EQ(i.GetValue(0), 2);
  Cast(i, x, RoundMode::CAST_CEIL, 8);
  EXPECT_EQ(i.GetValue(0), 3);
}

} // namespace
