//===- kernel_operator.h - A CPU model of the Ascend C subset Prism emits -===//
//
// Written for Prism from the public description of the Ascend C kernel API
// (not from Huawei's headers): the classes and functions below have the
// names and argument orders of the real API, so the kernels Prism emits
// compile unchanged against CANN's kernel_operator.h or against this file.
// It models what the checks need, not the hardware's timing:
//
//  - one AI core per emulated block (GetBlockIdx / GetBlockNum);
//  - a unified buffer (UB) arena of the chip's size per core: TPipe's
//    InitBuffer fails when the queues and buffers (times their depth) do
//    not fit, and every buffer starts 32-byte aligned;
//  - queues that check AllocTensor / EnQue / DeQue / FreeTensor order and
//    depth;
//  - data movement with the API's rules: DataCopy moves whole 32-byte
//    blocks, DataCopyPad moves any byte count and pads the UB side to 32
//    bytes; UB addresses must be 32-byte aligned;
//  - vector instructions with their dtype rules (no arithmetic on bf16:
//    it only converts through Cast); reads of UB never written (and pad
//    bytes not asked for) see NaN, so a kernel relying on them fails the
//    reference check instead of passing by luck.
//
// Violations throw prism_ascend::EmulationError; the launch entry Prism
// generates turns it into an error message for the runtime.
//
//===----------------------------------------------------------------------===//

#ifndef PRISM_ASCEND_EMULATION_KERNEL_OPERATOR_H
#define PRISM_ASCEND_EMULATION_KERNEL_OPERATOR_H

#include <cmath>
#include <cstdint>
#include <cstring>
#include <deque>
#include <limits>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#define __global__
#define __aicore__
#define __cube__
#define __gm__
#define GM_ADDR uint8_t *

namespace prism_ascend {

struct EmulationError : std::runtime_error {
  using std::runtime_error::runtime_error;
};
[[noreturn]] inline void fail(const std::string &message) {
  throw EmulationError(message);
}

/// The modelled chip (set by the launch entry from the bundle's model).
struct Chip {
  int64_t ubBytes = 192 * 1024;
  int64_t ubAlignment = 32;
  int64_t l1Bytes = 512 * 1024;
  int64_t l0aBytes = 64 * 1024;
  int64_t l0bBytes = 64 * 1024;
  int64_t l0cBytes = 128 * 1024;
};
inline Chip &chip() {
  static thread_local Chip c;
  return c;
}

/// The emulated core's block index and count.
inline int64_t &blockIdx() {
  static thread_local int64_t i = 0;
  return i;
}
inline int64_t &blockNum() {
  static thread_local int64_t n = 1;
  return n;
}

/// One on-chip memory of a core (UB, L1, L0A, L0B, L0C): bytes handed out
/// by TPipe::InitBuffer, aligned as the API requires.
struct Memory {
  const char *name = "UB";
  int64_t alignment = 32;
  std::vector<uint8_t> bytes;
  int64_t used = 0;
  void reset(const char *memoryName, int64_t size, int64_t align) {
    name = memoryName;
    alignment = align;
    bytes.assign(size, 0xFF); // NaN for f32/f16/bf16
    used = 0;
  }
  bool contains(const void *p) const {
    auto offset = static_cast<const uint8_t *>(p) - bytes.data();
    return offset >= 0 && offset < static_cast<int64_t>(bytes.size());
  }
  uint8_t *allocate(int64_t size, const char *what) {
    int64_t start = (used + alignment - 1) / alignment * alignment;
    if (start + size > static_cast<int64_t>(bytes.size()))
      fail(std::string(name) + " overflow: " + what + " needs " + std::to_string(size) +
           " bytes at offset " + std::to_string(start) + " of " +
           std::to_string(bytes.size()));
    used = start + size;
    return bytes.data() + start;
  }
};
inline Memory &ub() {
  static thread_local Memory m;
  return m;
}
inline Memory &l1() {
  static thread_local Memory m;
  return m;
}
inline Memory &l0a() {
  static thread_local Memory m;
  return m;
}
inline Memory &l0b() {
  static thread_local Memory m;
  return m;
}
inline Memory &l0c() {
  static thread_local Memory m;
  return m;
}
inline void resetMemories() {
  ub().reset("UB", chip().ubBytes, chip().ubAlignment);
  l1().reset("L1", chip().l1Bytes, 32);
  l0a().reset("L0A", chip().l0aBytes, 512);
  l0b().reset("L0B", chip().l0bBytes, 512);
  l0c().reset("L0C", chip().l0cBytes, 64);
}
/// `p` is in `memory`, or an error naming the call.
inline void checkIn(const Memory &memory, const void *p, const char *what) {
  if (!memory.contains(p))
    fail(std::string(what) + ": operand is not in " + memory.name);
}

inline void checkAligned(const void *p, const char *what) {
  auto offset = static_cast<const uint8_t *>(p) - ub().bytes.data();
  if (offset < 0 || offset >= static_cast<int64_t>(ub().bytes.size()))
    fail(std::string(what) + ": not a UB address");
  if (offset % chip().ubAlignment)
    fail(std::string(what) + ": UB address " + std::to_string(offset) +
         " is not 32-byte aligned");
}

} // namespace prism_ascend

// -- Scalar types ------------------------------------------------------------

using half = _Float16;

/// bfloat16: storage and conversions only (as on the vector unit).
struct bfloat16_t {
  uint16_t bits = 0;
  bfloat16_t() = default;
  explicit bfloat16_t(float f) {
    uint32_t u;
    std::memcpy(&u, &f, 4);
    if (std::isnan(f))
      bits = 0x7FC0;
    else
      bits = static_cast<uint16_t>((u + 0x7FFF + ((u >> 16) & 1)) >> 16);
  }
  explicit operator float() const {
    uint32_t u = static_cast<uint32_t>(bits) << 16;
    float f;
    std::memcpy(&f, &u, 4);
    return f;
  }
};

namespace AscendC {

enum class TPosition { GM, VECIN, VECOUT, VECCALC, A1, A2, B1, B2, CO1, CO2 };
using QuePosition = TPosition;
enum class RoundMode { CAST_NONE, CAST_RINT, CAST_FLOOR, CAST_CEIL, CAST_ROUND, CAST_TRUNC };
enum pipe_t { PIPE_S, PIPE_V, PIPE_M, PIPE_MTE1, PIPE_MTE2, PIPE_MTE3, PIPE_ALL };
enum class HardEvent { MTE2_V, V_MTE2, V_MTE3, MTE3_V, V_S, S_V, MTE2_S, S_MTE3, MTE3_MTE2 };
using event_t = int32_t;

inline int64_t GetBlockIdx() { return prism_ascend::blockIdx(); }
inline int64_t GetBlockNum() { return prism_ascend::blockNum(); }

template <pipe_t pipe> inline void PipeBarrier() {}
enum class CacheLine { SINGLE_CACHE_LINE, ENTIRE_DATA_CACHE };
enum class DcciDst { CACHELINE_ALL, CACHELINE_UB, CACHELINE_OUT, CACHELINE_ATOMIC };
template <typename T> class GlobalTensor;
/// Writes scalar-unit stores back to GM (the emulation has no data cache).
template <typename T, CacheLine line, DcciDst destination>
inline void DataCacheCleanAndInvalid(const GlobalTensor<T> &) {}
template <HardEvent event> inline void SetFlag(event_t) {}
template <HardEvent event> inline void WaitFlag(event_t) {}

template <typename T> class GlobalTensor {
public:
  __aicore__ inline void SetGlobalBuffer(__gm__ T *buffer, uint64_t size = 0) {
    data = buffer;
    (void)size;
  }
  __aicore__ inline GlobalTensor operator[](uint64_t offset) const {
    GlobalTensor t;
    t.data = data + offset;
    return t;
  }
  __aicore__ inline T GetValue(uint64_t i) const { return data[i]; }
  __aicore__ inline void SetValue(uint64_t i, T v) { data[i] = v; }
  __gm__ T *GetPhyAddr() const { return data; }

private:
  __gm__ T *data = nullptr;
};

template <typename T> class LocalTensor {
public:
  LocalTensor() = default;
  LocalTensor(T *base, int64_t length) : base(base), length(length) {}
  __aicore__ inline LocalTensor operator[](uint64_t offset) const {
    if (static_cast<int64_t>(offset) > length)
      prism_ascend::fail("LocalTensor offset " + std::to_string(offset) +
                         " past its " + std::to_string(length) + " elements");
    return LocalTensor(base + offset, length - offset);
  }
  __aicore__ inline T GetValue(uint64_t i) const {
    check(i, 1, "GetValue");
    return base[i];
  }
  __aicore__ inline void SetValue(uint64_t i, T v) const {
    check(i, 1, "SetValue");
    base[i] = v;
  }
  __aicore__ inline uint32_t GetSize() const { return static_cast<uint32_t>(length); }
  /// The same UB bytes as elements of another type.
  template <typename U> __aicore__ inline LocalTensor<U> ReinterpretCast() const {
    return LocalTensor<U>(reinterpret_cast<U *>(base), length * sizeof(T) / sizeof(U));
  }
  T *GetPhyAddr() const { return base; }
  /// Elements [i, i + n) exist in this tensor's buffer.
  void check(uint64_t i, uint64_t n, const char *what) const {
    if (!base)
      prism_ascend::fail(std::string(what) + ": tensor has no buffer");
    if (static_cast<int64_t>(i + n) > length)
      prism_ascend::fail(std::string(what) + ": " + std::to_string(i + n) +
                         " elements of a " + std::to_string(length) +
                         "-element buffer");
  }

private:
  T *base = nullptr;
  int64_t length = 0;
};

/// Queue between pipeline stages: depth buffers of `bytes` each.
template <TPosition position, int32_t depth> class TQue {
public:
  struct Slot {
    uint8_t *data;
    enum { Free, Allocated, Queued } state;
  };
  void init(int32_t num, int64_t bytes) {
    prism_ascend::Memory &memory =
        position == TPosition::A1 || position == TPosition::B1 ? prism_ascend::l1()
        : position == TPosition::A2                             ? prism_ascend::l0a()
        : position == TPosition::B2                             ? prism_ascend::l0b()
        : position == TPosition::CO1                            ? prism_ascend::l0c()
                                                                : prism_ascend::ub();
    for (int32_t i = 0; i < num; ++i)
      slots.push_back({memory.allocate(bytes, "TQue buffer"), Slot::Free});
    slotBytes = bytes;
  }
  template <typename T> __aicore__ inline LocalTensor<T> AllocTensor() {
    for (Slot &s : slots)
      if (s.state == Slot::Free) {
        s.state = Slot::Allocated;
        return LocalTensor<T>(reinterpret_cast<T *>(s.data), slotBytes / sizeof(T));
      }
    prism_ascend::fail("TQue: AllocTensor with every buffer of the queue in use");
  }
  template <typename T> __aicore__ inline void EnQue(const LocalTensor<T> &t) {
    Slot &s = slotOf(t.GetPhyAddr(), "EnQue");
    if (s.state != Slot::Allocated)
      prism_ascend::fail("TQue: EnQue of a tensor that is not allocated");
    if (static_cast<int32_t>(fifo.size()) >= depth)
      prism_ascend::fail("TQue: EnQue beyond the queue's depth " + std::to_string(depth));
    s.state = Slot::Queued;
    fifo.push_back(&s);
  }
  template <typename T> __aicore__ inline LocalTensor<T> DeQue() {
    if (fifo.empty())
      prism_ascend::fail("TQue: DeQue from an empty queue");
    Slot *s = fifo.front();
    fifo.pop_front();
    s->state = Slot::Allocated;
    return LocalTensor<T>(reinterpret_cast<T *>(s->data), slotBytes / sizeof(T));
  }
  template <typename T> __aicore__ inline void FreeTensor(const LocalTensor<T> &t) {
    Slot &s = slotOf(t.GetPhyAddr(), "FreeTensor");
    if (s.state != Slot::Allocated)
      prism_ascend::fail("TQue: FreeTensor of a tensor that is queued or free");
    s.state = Slot::Free;
  }

private:
  Slot &slotOf(const void *p, const char *what) {
    for (Slot &s : slots)
      if (s.data == p)
        return s;
    prism_ascend::fail(std::string("TQue: ") + what + " of a tensor from another queue");
  }
  std::vector<Slot> slots;
  std::deque<Slot *> fifo;
  int64_t slotBytes = 0;
};

template <TPosition position> class TBuf {
public:
  void init(int64_t bytes) {
    data = prism_ascend::ub().allocate(bytes, "TBuf");
    size = bytes;
  }
  template <typename T> __aicore__ inline LocalTensor<T> Get() {
    return LocalTensor<T>(reinterpret_cast<T *>(data), size / sizeof(T));
  }

private:
  uint8_t *data = nullptr;
  int64_t size = 0;
};

class TPipe {
public:
  TPipe() { prism_ascend::resetMemories(); }
  template <TPosition p, int32_t d>
  __aicore__ inline void InitBuffer(TQue<p, d> &que, int32_t num, uint32_t len) {
    que.init(num, len);
  }
  template <TPosition p> __aicore__ inline void InitBuffer(TBuf<p> &buf, uint32_t len) {
    buf.init(len);
  }
  template <HardEvent event> event_t FetchEventID() { return 0; }
};

struct DataCopyExtParams {
  uint16_t blockCount = 1;
  uint32_t blockLen = 0; // bytes
  uint32_t srcStride = 0;
  uint32_t dstStride = 0;
  uint32_t rsv = 0;
};
template <typename T> struct DataCopyPadExtParams {
  bool isPad = false;
  uint8_t leftPadding = 0;
  uint8_t rightPadding = 0;
  T paddingValue{};
};

namespace detail {
template <typename T> constexpr bool isVectorArithmetic() {
  return std::is_same_v<T, float> || std::is_same_v<T, half> ||
         std::is_same_v<T, int32_t> || std::is_same_v<T, int16_t>;
}
template <typename T> constexpr bool isVectorFloat() {
  return std::is_same_v<T, float> || std::is_same_v<T, half>;
}
template <typename T> void vectorOperand(const LocalTensor<T> &t, int32_t count,
                                         const char *what) {
  if (count < 0)
    prism_ascend::fail(std::string(what) + ": negative count");
  prism_ascend::checkAligned(t.GetPhyAddr(), what);
  t.check(0, count, what);
}
} // namespace detail

// GM <-> UB in whole 32-byte blocks.
template <typename T>
__aicore__ inline void DataCopy(const LocalTensor<T> &dst, const GlobalTensor<T> &src,
                                uint32_t count) {
  if ((count * sizeof(T)) % 32)
    prism_ascend::fail("DataCopy GM->UB of " + std::to_string(count * sizeof(T)) +
                       " bytes: not whole 32-byte blocks (use DataCopyPad)");
  detail::vectorOperand(dst, count, "DataCopy GM->UB");
  std::memcpy(dst.GetPhyAddr(), src.GetPhyAddr(), count * sizeof(T));
}
template <typename T>
__aicore__ inline void DataCopy(const GlobalTensor<T> &dst, const LocalTensor<T> &src,
                                uint32_t count) {
  if ((count * sizeof(T)) % 32)
    prism_ascend::fail("DataCopy UB->GM of " + std::to_string(count * sizeof(T)) +
                       " bytes: not whole 32-byte blocks (use DataCopyPad)");
  detail::vectorOperand(src, count, "DataCopy UB->GM");
  std::memcpy(dst.GetPhyAddr(), src.GetPhyAddr(), count * sizeof(T));
}
template <typename T>
__aicore__ inline void DataCopy(const LocalTensor<T> &dst, const LocalTensor<T> &src,
                                uint32_t count) {
  detail::vectorOperand(dst, count, "DataCopy UB->UB");
  detail::vectorOperand(src, count, "DataCopy UB->UB");
  std::memmove(dst.GetPhyAddr(), src.GetPhyAddr(), count * sizeof(T));
}

// GM <-> UB of any byte count (blockCount rows of blockLen bytes).
template <typename T>
__aicore__ inline void DataCopyPad(const LocalTensor<T> &dst, const GlobalTensor<T> &src,
                                   const DataCopyExtParams &p,
                                   const DataCopyPadExtParams<T> &pad) {
  if (p.blockLen % sizeof(T))
    prism_ascend::fail("DataCopyPad: blockLen is not a whole number of elements");
  int64_t rowElements = p.blockLen / sizeof(T);
  int64_t rowBlock = (p.blockLen + 31) / 32 * 32 / sizeof(T) + p.dstStride * 32 / sizeof(T);
  prism_ascend::checkAligned(dst.GetPhyAddr(), "DataCopyPad GM->UB");
  const uint8_t *in = reinterpret_cast<const uint8_t *>(src.GetPhyAddr());
  for (int64_t r = 0; r < p.blockCount; ++r) {
    LocalTensor<T> row = dst[r * rowBlock];
    int64_t padded = (p.blockLen + 31) / 32 * 32 / sizeof(T);
    row.check(0, padded, "DataCopyPad GM->UB");
    std::memcpy(row.GetPhyAddr(), in + r * (p.blockLen + p.srcStride), p.blockLen);
    // The rest of the row's last 32-byte block: rightPadding elements of
    // paddingValue when asked for, undefined (NaN here) beyond.
    for (int64_t i = rowElements; i < padded; ++i) {
      if (pad.isPad && i - rowElements < pad.rightPadding)
        row.SetValue(i, pad.paddingValue);
      else
        std::memset(row.GetPhyAddr() + i, 0xFF, sizeof(T));
    }
  }
}
template <typename T>
__aicore__ inline void DataCopyPad(const GlobalTensor<T> &dst, const LocalTensor<T> &src,
                                   const DataCopyExtParams &p) {
  if (p.blockLen % sizeof(T))
    prism_ascend::fail("DataCopyPad: blockLen is not a whole number of elements");
  int64_t rowBlock = (p.blockLen + 31) / 32 * 32 / sizeof(T) + p.srcStride * 32 / sizeof(T);
  prism_ascend::checkAligned(src.GetPhyAddr(), "DataCopyPad UB->GM");
  uint8_t *out = reinterpret_cast<uint8_t *>(dst.GetPhyAddr());
  for (int64_t r = 0; r < p.blockCount; ++r) {
    LocalTensor<T> row = src[r * rowBlock];
    row.check(0, p.blockLen / sizeof(T), "DataCopyPad UB->GM");
    std::memcpy(out + r * (p.blockLen + p.dstStride), row.GetPhyAddr(), p.blockLen);
  }
}

namespace detail {
/// Elements of the work buffer ReduceSum / ReduceMax need (the API's
/// formula for the larger, ReduceMax without index).
template <typename T> int64_t reduceWork(int64_t count) {
  int64_t perBlock = 32 / sizeof(T), perRepeat = 256 / sizeof(T);
  int64_t firstRepeats = std::max<int64_t>(1, (count + perRepeat - 1) / perRepeat);
  return (2 * firstRepeats + perBlock - 1) / perBlock * perBlock * perBlock;
}
} // namespace detail

// Vector instructions: elementwise over `count` elements.
#define PRISM_ASCEND_BINARY(Name, expr)                                              \
  template <typename T>                                                              \
  __aicore__ inline void Name(const LocalTensor<T> &dst, const LocalTensor<T> &a,    \
                              const LocalTensor<T> &b, int32_t count) {              \
    static_assert(detail::isVectorArithmetic<T>(), #Name ": no such dtype on the vector unit"); \
    detail::vectorOperand(dst, count, #Name);                                        \
    detail::vectorOperand(a, count, #Name);                                          \
    detail::vectorOperand(b, count, #Name);                                          \
    for (int32_t i = 0; i < count; ++i) {                                            \
      T x = a.GetPhyAddr()[i], y = b.GetPhyAddr()[i];                                \
      dst.GetPhyAddr()[i] = (expr);                                                  \
    }                                                                                \
  }
PRISM_ASCEND_BINARY(Add, x + y)
PRISM_ASCEND_BINARY(Sub, x - y)
PRISM_ASCEND_BINARY(Mul, x * y)
PRISM_ASCEND_BINARY(Div, x / y)
PRISM_ASCEND_BINARY(Max, (std::isnan(float(x)) || std::isnan(float(y))) ? T(NAN) : (x > y ? x : y))
PRISM_ASCEND_BINARY(Min, (std::isnan(float(x)) || std::isnan(float(y))) ? T(NAN) : (x < y ? x : y))
#undef PRISM_ASCEND_BINARY

#define PRISM_ASCEND_UNARY(Name, expr)                                               \
  template <typename T>                                                              \
  __aicore__ inline void Name(const LocalTensor<T> &dst, const LocalTensor<T> &src,  \
                              int32_t count) {                                       \
    static_assert(detail::isVectorFloat<T>(), #Name ": half or float only");         \
    detail::vectorOperand(dst, count, #Name);                                        \
    detail::vectorOperand(src, count, #Name);                                        \
    for (int32_t i = 0; i < count; ++i) {                                            \
      float x = float(src.GetPhyAddr()[i]);                                          \
      dst.GetPhyAddr()[i] = T(expr);                                                 \
    }                                                                                \
  }
PRISM_ASCEND_UNARY(Exp, std::exp(x))
PRISM_ASCEND_UNARY(Ln, std::log(x))
PRISM_ASCEND_UNARY(Abs, std::fabs(x))
PRISM_ASCEND_UNARY(Sqrt, std::sqrt(x))
PRISM_ASCEND_UNARY(Rsqrt, 1.0f / std::sqrt(x))
PRISM_ASCEND_UNARY(Reciprocal, 1.0f / x)
PRISM_ASCEND_UNARY(Relu, x > 0 ? x : 0.0f)
#undef PRISM_ASCEND_UNARY

// The math library's functions (computed here in float); the destination
// must not be the source.
#define PRISM_ASCEND_MATH(Name, expr)                                                \
  template <typename T>                                                              \
  __aicore__ inline void Name(const LocalTensor<T> &dst, const LocalTensor<T> &src,  \
                              uint32_t count) {                                      \
    static_assert(detail::isVectorFloat<T>(), #Name ": half or float only");         \
    if (dst.GetPhyAddr() == src.GetPhyAddr())                                        \
      prism_ascend::fail(#Name ": the destination must not be the source");          \
    detail::vectorOperand(dst, count, #Name);                                        \
    detail::vectorOperand(src, count, #Name);                                        \
    for (uint32_t i = 0; i < count; ++i) {                                           \
      float x = float(src.GetPhyAddr()[i]);                                          \
      dst.GetPhyAddr()[i] = T(expr);                                                 \
    }                                                                                \
  }
PRISM_ASCEND_MATH(Tanh, std::tanh(x))
PRISM_ASCEND_MATH(Erf, std::erf(x))
PRISM_ASCEND_MATH(Sin, std::sin(x))
PRISM_ASCEND_MATH(Cos, std::cos(x))
#undef PRISM_ASCEND_MATH

#define PRISM_ASCEND_SCALAR(Name, expr)                                              \
  template <typename T>                                                              \
  __aicore__ inline void Name(const LocalTensor<T> &dst, const LocalTensor<T> &src,  \
                              const T &scalar, int32_t count) {                      \
    static_assert(detail::isVectorArithmetic<T>(), #Name ": no such dtype on the vector unit"); \
    detail::vectorOperand(dst, count, #Name);                                        \
    detail::vectorOperand(src, count, #Name);                                        \
    for (int32_t i = 0; i < count; ++i) {                                            \
      T x = src.GetPhyAddr()[i], y = scalar;                                         \
      dst.GetPhyAddr()[i] = (expr);                                                  \
    }                                                                                \
  }
PRISM_ASCEND_SCALAR(Adds, x + y)
PRISM_ASCEND_SCALAR(Muls, x * y)
PRISM_ASCEND_SCALAR(Maxs, x > y ? x : y)
PRISM_ASCEND_SCALAR(Mins, x < y ? x : y)
#undef PRISM_ASCEND_SCALAR

/// dst[i] = first + i.
template <typename T>
__aicore__ inline void CreateVecIndex(const LocalTensor<T> &dst, const T &first,
                                      uint32_t count) {
  detail::vectorOperand(dst, count, "CreateVecIndex");
  for (uint32_t i = 0; i < count; ++i)
    dst.GetPhyAddr()[i] = static_cast<T>(float(first) + float(i));
}

enum class CMPMODE { LT, GT, EQ, LE, GE, NE };
enum class SELMODE { VSEL_CMPMASK_SPR, VSEL_TENSOR_SCALAR_MODE, VSEL_TENSOR_TENSOR_MODE };

namespace detail {
/// Compare and Select process whole 256-byte repeats.
template <typename T> void wholeRepeats(uint32_t count, const char *what) {
  if ((count * sizeof(T)) % 256)
    prism_ascend::fail(std::string(what) + ": " + std::to_string(count) +
                       " elements are not whole 256-byte repeats");
}
} // namespace detail

/// Bit i of dst (uint8 bytes, little-endian bits) = src0[i] <mode> src1[i].
template <typename T, typename U>
__aicore__ inline void Compare(const LocalTensor<U> &dst, const LocalTensor<T> &a,
                               const LocalTensor<T> &b, CMPMODE mode, uint32_t count) {
  static_assert(std::is_same_v<U, uint8_t>, "Compare writes a uint8_t bit mask");
  static_assert(detail::isVectorFloat<T>(), "Compare: half or float only");
  detail::wholeRepeats<T>(count, "Compare");
  detail::vectorOperand(a, count, "Compare");
  detail::vectorOperand(b, count, "Compare");
  detail::vectorOperand(dst, (count + 7) / 8, "Compare mask");
  for (uint32_t i = 0; i < count; ++i) {
    float x = float(a.GetPhyAddr()[i]), y = float(b.GetPhyAddr()[i]);
    bool r = mode == CMPMODE::LT ? x < y : mode == CMPMODE::GT ? x > y
           : mode == CMPMODE::EQ ? x == y : mode == CMPMODE::LE ? x <= y
           : mode == CMPMODE::GE ? x >= y : x != y;
    uint8_t &byte = dst.GetPhyAddr()[i / 8];
    byte = static_cast<uint8_t>(r ? (byte | (1u << (i % 8))) : (byte & ~(1u << (i % 8))));
  }
}

/// dst[i] = bit i of mask ? src0[i] : src1[i].
template <typename T, typename U>
__aicore__ inline void Select(const LocalTensor<T> &dst, const LocalTensor<U> &mask,
                              const LocalTensor<T> &a, const LocalTensor<T> &b,
                              SELMODE mode, uint32_t count) {
  static_assert(std::is_same_v<U, uint8_t>, "Select reads a uint8_t bit mask");
  if (mode != SELMODE::VSEL_TENSOR_TENSOR_MODE)
    prism_ascend::fail("Select: only VSEL_TENSOR_TENSOR_MODE is modelled");
  detail::wholeRepeats<T>(count, "Select");
  detail::vectorOperand(dst, count, "Select");
  detail::vectorOperand(a, count, "Select");
  detail::vectorOperand(b, count, "Select");
  detail::vectorOperand(mask, (count + 7) / 8, "Select mask");
  for (uint32_t i = 0; i < count; ++i)
    dst.GetPhyAddr()[i] =
        (mask.GetPhyAddr()[i / 8] >> (i % 8)) & 1 ? a.GetPhyAddr()[i] : b.GetPhyAddr()[i];
}

/// Bitwise and / or of 16-bit lanes (masks are combined this way).
#define PRISM_ASCEND_BITWISE(Name, op)                                               \
  template <typename T>                                                              \
  __aicore__ inline void Name(const LocalTensor<T> &dst, const LocalTensor<T> &a,    \
                              const LocalTensor<T> &b, int32_t count) {              \
    static_assert(std::is_same_v<T, uint16_t> || std::is_same_v<T, int16_t>,        \
                  #Name ": int16 or uint16 only");                                   \
    detail::vectorOperand(dst, count, #Name);                                        \
    detail::vectorOperand(a, count, #Name);                                          \
    detail::vectorOperand(b, count, #Name);                                          \
    for (int32_t i = 0; i < count; ++i)                                              \
      dst.GetPhyAddr()[i] = static_cast<T>(a.GetPhyAddr()[i] op b.GetPhyAddr()[i]);  \
  }
PRISM_ASCEND_BITWISE(And, &)
PRISM_ASCEND_BITWISE(Or, |)
#undef PRISM_ASCEND_BITWISE

template <typename T>
__aicore__ inline void Duplicate(const LocalTensor<T> &dst, const T &scalar, int32_t count) {
  detail::vectorOperand(dst, count, "Duplicate");
  for (int32_t i = 0; i < count; ++i)
    dst.GetPhyAddr()[i] = scalar;
}

/// Conversions; bf16 and half go through float.
template <typename D, typename S>
__aicore__ inline void Cast(const LocalTensor<D> &dst, const LocalTensor<S> &src,
                            RoundMode mode, int32_t count) {
  detail::vectorOperand(dst, count, "Cast");
  detail::vectorOperand(src, count, "Cast");
  constexpr bool toInteger = std::is_integral_v<D>;
  bool narrowing = sizeof(D) < sizeof(S) || (toInteger && !std::is_integral_v<S>);
  if (narrowing && mode == RoundMode::CAST_NONE)
    prism_ascend::fail("Cast: a narrowing conversion needs a rounding mode");
  for (int32_t i = 0; i < count; ++i) {
    float x = float(src.GetPhyAddr()[i]);
    if constexpr (toInteger) {
      float r = mode == RoundMode::CAST_RINT    ? std::nearbyint(x)
                : mode == RoundMode::CAST_FLOOR ? std::floor(x)
                : mode == RoundMode::CAST_CEIL  ? std::ceil(x)
                : mode == RoundMode::CAST_ROUND ? std::round(x)
                                                : std::trunc(x);
      // Saturating, NaN to zero.
      constexpr float lo = float(std::numeric_limits<D>::min());
      constexpr float hi = float(std::numeric_limits<D>::max());
      dst.GetPhyAddr()[i] = std::isnan(r) ? D(0) : r <= lo ? std::numeric_limits<D>::min()
                            : r >= hi ? std::numeric_limits<D>::max() : static_cast<D>(r);
    } else {
      dst.GetPhyAddr()[i] = D(x); // floats round to nearest even
    }
  }
}

/// Reductions into dst[0]; `work` is scratch of at least `count` elements.
#define PRISM_ASCEND_REDUCE(Name, init, step)                                        \
  template <typename T>                                                              \
  __aicore__ inline void Name(const LocalTensor<T> &dst, const LocalTensor<T> &src,  \
                              const LocalTensor<T> &work, int32_t count,             \
                              bool calIndex = false) {                               \
    static_assert(detail::isVectorFloat<T>(), #Name ": half or float only");         \
    detail::vectorOperand(dst, 1, #Name);                                            \
    detail::vectorOperand(src, count, #Name);                                        \
    detail::vectorOperand(work, detail::reduceWork<T>(count), #Name " work");        \
    float acc = (init);                                                              \
    for (int32_t i = 0; i < count; ++i) {                                            \
      float x = float(src.GetPhyAddr()[i]);                                          \
      acc = (step);                                                                  \
    }                                                                                \
    dst.GetPhyAddr()[0] = T(acc);                                                    \
  }
PRISM_ASCEND_REDUCE(ReduceSum, 0.0f, acc + x)
PRISM_ASCEND_REDUCE(ReduceMax, -INFINITY, (std::isnan(x) || x > acc) ? x : acc)
PRISM_ASCEND_REDUCE(ReduceMin, INFINITY, (std::isnan(x) || x < acc) ? x : acc)
#undef PRISM_ASCEND_REDUCE


// -- The cube unit -----------------------------------------------------------
//
// Layouts, for 16-bit elements (C0 = 16, fractals of 16 x 16 = 512 bytes),
// with Ma = M rounded up to 16 and Kb, Nb = K, N in fractals:
//   L1 (NZ, from Nd2NzParams):  (r, c) -> (c / 16) * dstNzC0Stride * 16
//                                         + r * dstNzNStride * 16 + c % 16
//   L0A (Zz):  (m, k) -> (m / 16) * Kb * 256 + (k / 16) * 256 + (m % 16) * 16 + k % 16
//   L0B (Zn):  (k, n) -> (k / 16) * Nb * 256 + (n / 16) * 256 + (n % 16) * 16 + k % 16
//   L0C (Nz):  (m, n) -> (n / 16) * Ma * 16 + m * 16 + n % 16

struct Nd2NzParams {
  uint16_t ndNum = 1;
  uint16_t nValue = 0;
  uint16_t dValue = 0;
  uint16_t srcNdMatrixStride = 0;
  uint16_t srcDValue = 0;
  uint16_t dstNzC0Stride = 0;
  uint16_t dstNzNStride = 0;
  uint16_t dstNzMatrixStride = 0;
};

/// GM (ND, rows of srcDValue elements) -> L1 (NZ); the columns of a row's
/// last C0 block past dValue are zero.
template <typename T>
__aicore__ inline void DataCopy(const LocalTensor<T> &dst, const GlobalTensor<T> &src,
                                const Nd2NzParams &p) {
  static_assert(sizeof(T) == 2, "Prism models ND2NZ for 16-bit elements");
  prism_ascend::checkIn(prism_ascend::l1(), dst.GetPhyAddr(), "DataCopy ND2NZ");
  if (p.ndNum != 1)
    prism_ascend::fail("DataCopy ND2NZ: only ndNum = 1 is modelled");
  const int64_t c0 = 32 / sizeof(T);
  int64_t padded = (p.dValue + c0 - 1) / c0 * c0;
  for (int64_t r = 0; r < p.nValue; ++r)
    for (int64_t c = 0; c < padded; ++c) {
      int64_t at = (c / c0) * p.dstNzC0Stride * c0 + r * p.dstNzNStride * c0 + c % c0;
      T zero;
      std::memset(&zero, 0, sizeof(T));
      dst.SetValue(at, c < p.dValue ? src.GetValue(r * p.srcDValue + c) : zero);
    }
}

namespace detail {
/// `repeats` 16 x 16 fractals (512 bytes of 16-bit elements) from fractal
/// start + r * srcStride of `src` to fractal r * (1 + dstGap) of `dst`,
/// transposed within each fractal when asked.
template <typename T>
void copyFractals(const LocalTensor<T> &dst, const LocalTensor<T> &src, int64_t start,
                  int64_t repeats, int64_t srcStride, int64_t dstGap, bool transpose) {
  for (int64_t r = 0; r < repeats; ++r) {
    int64_t from = (start + r * srcStride) * 256, to = r * (1 + dstGap) * 256;
    for (int64_t i = 0; i < 16; ++i)
      for (int64_t j = 0; j < 16; ++j)
        dst.SetValue(to + i * 16 + j, src.GetValue(from + (transpose ? j * 16 + i : i * 16 + j)));
  }
}
} // namespace detail

struct LoadData2DParams {
  uint16_t startIndex = 0;
  uint8_t repeatTimes = 0;
  uint16_t srcStride = 0;
  uint8_t sid = 0;
  uint16_t dstGap = 0;
  bool ifTranspose = false;
  uint8_t addrMode = 0;
};

/// L1 -> L0A / L0B, one 512-byte fractal per repeat (transposed within
/// the fractal when asked).
template <typename T>
__aicore__ inline void LoadData(const LocalTensor<T> &dst, const LocalTensor<T> &src,
                                const LoadData2DParams &p) {
  static_assert(sizeof(T) == 2, "Prism models LoadData for 16-bit elements");
  prism_ascend::checkIn(prism_ascend::l1(), src.GetPhyAddr(), "LoadData source");
  if (!prism_ascend::l0a().contains(dst.GetPhyAddr()) &&
      !prism_ascend::l0b().contains(dst.GetPhyAddr()))
    prism_ascend::fail("LoadData: the destination is not in L0A or L0B");
  if (p.ifTranspose && std::is_same_v<T, bfloat16_t>)
    prism_ascend::fail("LoadData: ifTranspose is not documented for bfloat16_t");
  if (p.repeatTimes == 0)
    prism_ascend::fail("LoadData: repeatTimes must be 1..255");
  detail::copyFractals(dst, src, p.startIndex, p.repeatTimes, p.srcStride, p.dstGap,
                       p.ifTranspose);
}

struct LoadData2dTransposeParams {
  uint16_t startIndex = 0;
  uint8_t repeatTimes = 0;
  uint16_t srcStride = 0;
  uint16_t dstGap = 0;
  uint16_t dstFracGap = 0;
};

/// L1 -> L0B, each 16 x 16 fractal transposed (the form documented for
/// bfloat16_t); modelled as LoadData with ifTranspose (dstFracGap = 0).
template <typename T>
__aicore__ inline void LoadDataWithTranspose(const LocalTensor<T> &dst,
                                             const LocalTensor<T> &src,
                                             const LoadData2dTransposeParams &p) {
  static_assert(sizeof(T) == 2, "Prism models LoadDataWithTranspose for 16-bit elements");
  prism_ascend::checkIn(prism_ascend::l1(), src.GetPhyAddr(), "LoadDataWithTranspose source");
  prism_ascend::checkIn(prism_ascend::l0b(), dst.GetPhyAddr(), "LoadDataWithTranspose");
  if (p.dstFracGap != 0 || p.repeatTimes == 0)
    prism_ascend::fail("LoadDataWithTranspose: only dstFracGap = 0 and 1..255 repeats are modelled");
  detail::copyFractals(dst, src, p.startIndex, p.repeatTimes, p.srcStride, p.dstGap,
                       /*transpose=*/true);
}

template <typename T> struct InitConstValueParams {
  uint16_t repeatTimes = 0;
  uint16_t blockNum = 0;
  uint16_t dstGap = 0;
  T initValue = T();
};

/// L1 (A1/B1: blocks of 32 bytes) or L0A/L0B (A2/B2: blocks of 512 bytes)
/// set to one value: repeatTimes iterations of blockNum blocks, dstGap
/// blocks between iterations (Atlas A2's form of the call).
template <typename T>
__aicore__ inline void InitConstValue(const LocalTensor<T> &dst,
                                      const InitConstValueParams<T> &p) {
  static_assert(std::is_same_v<T, half> || std::is_same_v<T, bfloat16_t> ||
                    std::is_same_v<T, float> || std::is_same_v<T, int16_t> ||
                    std::is_same_v<T, uint16_t> || std::is_same_v<T, int32_t> ||
                    std::is_same_v<T, uint32_t>,
                "InitConstValue: half, bfloat16_t, float or 16/32-bit integers");
  prism_ascend::Memory *memory = nullptr;
  for (prism_ascend::Memory *m : {&prism_ascend::l0a(), &prism_ascend::l0b(), &prism_ascend::l1()})
    if (m->contains(dst.GetPhyAddr()))
      memory = m;
  if (!memory)
    prism_ascend::fail("InitConstValue: the destination is not in L1, L0A or L0B");
  int64_t block = memory == &prism_ascend::l1() ? 32 : 512;
  auto offset = reinterpret_cast<const uint8_t *>(dst.GetPhyAddr()) - memory->bytes.data();
  if (offset % block != 0)
    prism_ascend::fail("InitConstValue: the destination is not " + std::to_string(block) +
                       "-byte aligned");
  if (p.repeatTimes > 32767 || p.blockNum > 32767 || p.dstGap > 32767)
    prism_ascend::fail("InitConstValue: repeatTimes, blockNum and dstGap are 0..32767");
  int64_t perBlock = block / static_cast<int64_t>(sizeof(T));
  for (int64_t r = 0; r < p.repeatTimes; ++r) {
    int64_t start = r * (p.blockNum + p.dstGap) * perBlock;
    dst.check(start, p.blockNum * perBlock, "InitConstValue");
    for (int64_t i = 0; i < p.blockNum * perBlock; ++i)
      dst.SetValue(start + i, p.initValue);
  }
}

struct MmadParams {
  uint16_t m = 0;
  uint16_t n = 0;
  uint16_t k = 0;
  bool isBias = false;
  int32_t fmOffset = 0;
  bool enSsparse = false;
  bool enWinogradA = false;
  bool enWinogradB = false;
  uint8_t unitFlag = 0;
  bool kDirectionAlign = false;
  bool cmatrixSource = false;
  bool cmatrixInitVal = true;
};

/// L0C (float) = [L0C +] L0A x L0B over m x n x k (padding ignored).
template <typename T, typename U, typename S>
__aicore__ inline void Mmad(const LocalTensor<T> &c, const LocalTensor<U> &a,
                            const LocalTensor<S> &b, const MmadParams &p) {
  static_assert(std::is_same_v<T, float> && std::is_same_v<U, S> &&
                    (std::is_same_v<U, half> || std::is_same_v<U, bfloat16_t>),
                "Mmad: half x half or bfloat16_t x bfloat16_t into float");
  prism_ascend::checkIn(prism_ascend::l0c(), c.GetPhyAddr(), "Mmad C");
  prism_ascend::checkIn(prism_ascend::l0a(), a.GetPhyAddr(), "Mmad A");
  prism_ascend::checkIn(prism_ascend::l0b(), b.GetPhyAddr(), "Mmad B");
  if (p.m == 1)
    prism_ascend::fail("Mmad: m = 1 is GEMV mode (ND L0A), not modelled");
  if (p.cmatrixSource)
    prism_ascend::fail("Mmad: cmatrixSource (C from the bias table) is not modelled");
  int64_t ma = (p.m + 15) / 16 * 16, kb = (p.k + 15) / 16, nb = (p.n + 15) / 16;
  for (int64_t m = 0; m < p.m; ++m)
    for (int64_t n = 0; n < p.n; ++n) {
      float sum = 0.0f;
      for (int64_t k = 0; k < p.k; ++k)
        sum += float(a.GetValue((m / 16) * kb * 256 + (k / 16) * 256 + (m % 16) * 16 + k % 16)) *
               float(b.GetValue((k / 16) * nb * 256 + (n / 16) * 256 + (n % 16) * 16 + k % 16));
      int64_t at = (n / 16) * ma * 16 + m * 16 + n % 16;
      c.SetValue(at, p.cmatrixInitVal ? sum : c.GetValue(at) + sum);
    }
}

struct FixpipeConfig {
  bool rowMajor;
};
inline constexpr FixpipeConfig CFG_ROW_MAJOR = {true};
struct FixpipeParamsV220 {
  uint16_t nSize = 0;
  uint16_t mSize = 0;
  uint16_t srcStride = 0; // L0C: Ma (NZ blocks of 16 columns)
  uint32_t dstStride = 0; // GM: row pitch in elements
  uint8_t quantPre = 0;
  uint64_t deqScalar = 0;
  uint16_t ndNum = 1;
  uint16_t srcNdStride = 0;
  uint16_t dstNdStride = 0;
  bool reluEn = false;
  uint8_t unitFlag = 0;
  bool isChannelSplit = false;
};

/// L0C (NZ) -> GM (ND rows of dstStride elements), mSize x nSize.
template <typename T, typename U, const FixpipeConfig &config = CFG_ROW_MAJOR>
__aicore__ inline void Fixpipe(const GlobalTensor<T> &dst, const LocalTensor<U> &src,
                               const FixpipeParamsV220 &p) {
  static_assert(std::is_same_v<T, float> && std::is_same_v<U, float>,
                "Prism models the fixpipe for float results (no quantization)");
  static_assert(config.rowMajor, "Prism models NZ -> ND");
  prism_ascend::checkIn(prism_ascend::l0c(), src.GetPhyAddr(), "Fixpipe");
  if (p.quantPre != 0 || p.reluEn || p.ndNum != 1)
    prism_ascend::fail("Fixpipe: only plain NZ -> ND copies are modelled");
  GlobalTensor<T> out = dst;
  for (int64_t m = 0; m < p.mSize; ++m)
    for (int64_t n = 0; n < p.nSize; ++n)
      out.SetValue(m * p.dstStride + n,
                   src.GetValue((n / 16) * p.srcStride * 16 + m * 16 + n % 16));
}

} // namespace AscendC

#endif // PRISM_ASCEND_EMULATION_KERNEL_OPERATOR_H
