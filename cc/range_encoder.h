// Range encoder, bitstream-compatible with TensorFlow Compression's.
//
// The coder state is a 32-bit `base` and a size in [2^16, 2^32] (stored as
// size - 1). Encoding the interval [lower, upper) / 2^precision narrows it to
//   base + floor(size * lower / 2^precision) ..
//   base + floor(size * upper / 2^precision) - 1
// with truncating 64-bit multiplies. When the size drops to 2^16 or below,
// the top 16 bits of base are emitted as two big-endian bytes and the state is
// shifted left by 16. If those bits are not settled yet (the interval
// straddles a multiple of 2^32 after the shift), they wait in a delay
// register, with a count of pending zero byte-pairs, until a later carry (or
// its absence) decides them. Finalize() writes 0 to 2 bytes naming a number
// inside the final interval and never writes trailing zero bytes: the
// decoder reads bytes past the end as zero. docs/FORMAT.md has the details.
#ifndef TENSORCODER_CC_RANGE_ENCODER_H_
#define TENSORCODER_CC_RANGE_ENCODER_H_

#include <cassert>
#include <cstddef>
#include <cstdint>
#include <string>

#include "cc/cdf_table.h"
#include "cc/status.h"

namespace tensorcoder {

class RangeEncoder {
 public:
  // Appends the encoded bytes to `*sink`, which must outlive the encoder and
  // must not be modified by others until Finalize() returns.
  explicit RangeEncoder(std::string* sink);
  // Copies snapshot the state: hot loops work on a local copy, which the
  // compiler can keep in registers (the output bytes may alias any field).
  RangeEncoder(const RangeEncoder&) = default;
  RangeEncoder& operator=(const RangeEncoder&) = default;

  // Makes room, from the current position, for the next `num_symbols`
  // Encode() calls and the Finalize() after them. Each call replaces the
  // guarantee of the previous one (it is not cumulative): every Encode()
  // must be among the `num_symbols` of the latest Reserve(). The bound is
  // exact, not estimated: an Encode() writes or delays at most 2 bytes and
  // Finalize() at most 2, and bytes already delayed are counted.
  void Reserve(size_t num_symbols);

  // Encodes [lower, upper) / 2^precision.
  // REQUIRES: 0 <= lower < upper <= 2^precision, 1 <= precision <= 16.
  __attribute__((always_inline)) inline void Encode(uint32_t lower,
                                                    uint32_t upper,
                                                    int precision);

  // Encodes one bit with probability 1/2 (precision 1).
  void EncodeBit(uint32_t bit) { Encode(bit, bit + 1, 1); }

  // Writes the last 0..2 bytes and trims `*sink` to the encoded length. The
  // encoder must not be used afterwards.
  void Finalize();

 private:
  void Put16(uint32_t value) {
    data_[pos_] = static_cast<char>(value >> 8);
    data_[pos_ + 1] = static_cast<char>(value);
    pos_ += 2;
  }
  // Writes the delayed 16 bits and the pending bytes at data[pos]; returns
  // the new position. Out of line and free of `this`, so that the state of a
  // local encoder can stay in registers.
  static size_t FlushDelay(char* data, size_t pos, uint64_t delay,
                           bool carry);

  std::string* sink_;
  char* data_;
  size_t pos_;
  uint32_t base_ = 0;
  uint32_t size_minus1_ = 0xFFFFFFFFu;
  // 0 in state 0. In state 1: bits 0..15 hold the delayed top 16 bits plus
  // one (the value if a carry arrives), bits 16.. count pending zero pairs.
  uint64_t delay_ = 0;
};

// Encodes values against the rows of a CdfTable, with the overflow escape.
//
// For a row with overflow enabled and n symbols, a value v in [0, n-1) is
// coded as symbol v. Any other int32 codes the escape symbol n-1 followed by
// precision-1 binary symbols: with g = -v for negative v (sign 1) or
// g = v - (n-1) + 1 (sign 0), and g having k bits, k-1 zeros, then the k bits
// of g most significant first, then the sign. Every int32 is codable.
class TableEncoder {
 public:
  // `table` must outlive the encoder.
  explicit TableEncoder(const CdfTable& table);
  TableEncoder(const TableEncoder&) = delete;
  TableEncoder& operator=(const TableEncoder&) = delete;

  // Codes values[i] with row indexes[i], for i in 0..count-1.
  Status EncodeIndexed(const int32_t* indexes, const int32_t* values,
                       size_t count);
  // Codes values[i] with row (i mod num_rows).
  Status EncodeChannel(const int32_t* values, size_t count);

  // Finalizes and returns the encoded string. After an error from an Encode
  // call the content is unspecified and must be discarded.
  std::string Finish();

 private:
  // Encode() calls an escape of one value takes at most: the escape symbol,
  // up to 31 zeros, up to 32 magnitude bits and the sign.
  static constexpr size_t kMaxEscapeSymbols = 1 + 31 + 32 + 1;

  // Codes values[i] with row indexes[i], or row i mod num_rows.
  template <bool kIndexed>
  Status EncodeLoop(const int32_t* indexes, const int32_t* values,
                    size_t count);
  // REQUIRES: room reserved for kMaxEscapeSymbols more Encode() calls.
  void EncodeEscape(const CdfTable::Row& row, int32_t value);

  const CdfTable& table_;
  std::string output_;
  RangeEncoder encoder_;
};

// One-shot helpers.
StatusOr<std::string> EncodeIndexed(const CdfTable& table,
                                    const int32_t* indexes,
                                    const int32_t* values, size_t count);
StatusOr<std::string> EncodeChannel(const CdfTable& table,
                                    const int32_t* values, size_t count);

// ---------------------------------------------------------------------------
// Implementation of the hot path.

inline void RangeEncoder::Encode(uint32_t lower, uint32_t upper,
                                 int precision) {
  const uint64_t size = static_cast<uint64_t>(size_minus1_) + 1;
  const uint32_t a = static_cast<uint32_t>((size * lower) >> precision);
  const uint32_t b = static_cast<uint32_t>(((size * upper) >> precision) - 1);
  base_ += a;  // May wrap around 2^32: that is the carry.
  size_minus1_ = b - a;
  const bool carry = base_ < a;

  if (base_ + size_minus1_ < base_) {
    // The interval still straddles 2^32 (state 1), so the previous state was
    // state 1 as well. Shifting keeps it straddling; the emitted 16 bits
    // would be zero (or 0xFFFF before a carry) so only their count is kept.
    if ((size_minus1_ >> 16) == 0) {
      base_ <<= 16;
      size_minus1_ = (size_minus1_ << 16) | 0xFFFF;
      delay_ += 0x20000;
    }
    return;
  }
  if (delay_ != 0) {
    // Debug builds check the reservation contract (tests run them).
    assert(pos_ + 2 + (delay_ >> 16) + 2 <= sink_->size());
    pos_ = FlushDelay(data_, pos_, delay_, carry);
    delay_ = 0;
  }
  // Renormalization is taken for about a third of the symbols, at random,
  // so it is done without a branch: shift by 0 or 16 bits and always store
  // the top 16 bits at pos_ (room is reserved), advancing only if shifted.
  const uint32_t renorm = (size_minus1_ >> 16) == 0;
  const int shift = static_cast<int>(renorm << 4);
  const uint32_t top = base_ >> 16;
  base_ <<= shift;
  size_minus1_ = (size_minus1_ << shift) | (0xFFFFu & (0u - renorm));
  if (__builtin_expect(renorm & (base_ + size_minus1_ < base_), 0)) {
    delay_ = top + 1;  // Enter state 1: these bits are not settled yet.
    return;
  }
  assert(pos_ + 2 <= sink_->size());
  data_[pos_] = static_cast<char>(top >> 8);
  data_[pos_ + 1] = static_cast<char>(top);
  pos_ += 2 * renorm;
}

}  // namespace tensorcoder

#endif  // TENSORCODER_CC_RANGE_ENCODER_H_
