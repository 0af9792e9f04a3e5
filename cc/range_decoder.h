// Range decoder for strings written by RangeEncoder / TableEncoder (and by
// TensorFlow Compression's range coder, which writes the same bytes).
//
// This library has no encoder dependency, so a decoder-only build stays
// small. Decoding never reads outside the given bytes or tables: bytes past
// the end of the string read as zero (the encoder omits trailing zeros), and
// every state a corrupted string can produce either decodes to some symbol of
// the row or is reported as DATA_LOSS. Finish() then checks that the string
// has exactly the length the encoder writes for the decoded symbols and ends
// with the bytes the encoder's termination writes; it never rejects a valid
// string, and a string with bytes appended or removed never decodes to the
// original values. Range-coded strings carry no redundancy, though: a string
// cut short is usually a valid encoding of *other* values and is accepted,
// so containers that need integrity store lengths or checksums (TensorFlow
// Compression checks only the final value and also accepts extra bytes).
//
// Symbol search costs O(1) on average: for t = floor(((value - base + 1) *
// 2^precision - 1) / size), the decoded symbol is the last s with c_s <= t; a
// per-row bucket index over the top bits of t gives the first candidate.
#ifndef TENSORCODER_CC_RANGE_DECODER_H_
#define TENSORCODER_CC_RANGE_DECODER_H_

#include <cstddef>
#include <cstdint>
#include <vector>

#include "cc/cdf_table.h"
#include "cc/status.h"

namespace tensorcoder {

class RangeDecoder {
 public:
  // Does not copy `data`, which must outlive the decoder. Copies snapshot
  // the state: hot loops work on a local copy kept in registers.
  RangeDecoder(const char* data, size_t size);

  // Decodes a symbol whose CDF row is cdf[0..num_symbols] (c_0 = 0,
  // c_n = 2^precision, strictly increasing), starting the search at the
  // bucket `buckets[t >> bucket_shift]` (see DecodeTable::Row). Returns -1 if
  // the string is corrupt.
  __attribute__((always_inline)) inline int32_t Decode(
      const uint32_t* cdf, int precision, const uint64_t* buckets,
      int bucket_shift);

  // As Decode() for an unindexed CDF (binary search); `cdf` must pass
  // ValidateCdf(). Returns -1 if the string is corrupt.
  int32_t DecodeWithSearch(const int32_t* cdf, size_t size, int precision);

  // Decodes one bit of probability 1/2. Returns -1 if the string is corrupt.
  inline int32_t DecodeBit();

  // OK if all bytes were consumed and the final state is one the encoder
  // terminates in; DATA_LOSS naming the problem otherwise.
  Status Finish() const;

 private:
  inline void Narrow(uint64_t size, uint32_t lower, uint32_t upper,
                     int precision);
  inline void Read16();

  uint32_t base_ = 0;
  uint32_t size_minus1_ = 0xFFFFFFFFu;
  uint32_t value_ = 0;
  const unsigned char* next_;
  const unsigned char* end_;
  size_t size_;
  // Bytes requested so far, including those past the end: 4 + 2 * renorms.
  uint64_t requested_ = 0;
  // Mirror of the encoder's carry-pending state: the bytes it had written
  // when it last delayed a 16-bit value, and that value plus one.
  uint64_t pending_start_ = 0;
  uint32_t delayed_ = 0;
};

// A CdfTable plus the per-row bucket indexes the decoder searches with.
// Built once per table; decoding threads may share it.
class DecodeTable {
 public:
  // Bucket k of a row covers the slots [k << bucket_shift, (k + 1) <<
  // bucket_shift) and holds the symbol s owning its first slot together with
  // c_s and c_{s+1} (bits 0-15, 16-32 and 33-49), so that most searches end
  // with no access to the CDF itself.
  struct Row {
    const uint32_t* cdf;
    const uint64_t* buckets;
    uint32_t num_symbols;
    int precision;
    int bucket_shift;
    bool overflow;
  };

  explicit DecodeTable(CdfTable table);
  DecodeTable(const DecodeTable&) = delete;
  DecodeTable& operator=(const DecodeTable&) = delete;

  size_t num_rows() const { return rows_.size(); }
  const Row* rows() const { return rows_.data(); }
  const CdfTable& cdf_table() const { return table_; }

 private:
  CdfTable table_;
  std::vector<uint64_t> buckets_;
  std::vector<Row> rows_;
};

// Decodes values coded by TableEncoder (see range_encoder.h for the escape).
class TableDecoder {
 public:
  // `table` and `data` must outlive the decoder.
  TableDecoder(const DecodeTable& table, const char* data, size_t size);

  // Decodes count values, value i with row indexes[i].
  Status DecodeIndexed(const int32_t* indexes, int32_t* values, size_t count);
  // Decodes count values, value i with row (i mod num_rows).
  Status DecodeChannel(int32_t* values, size_t count);
  // See RangeDecoder::Finish().
  Status Finish() const { return decoder_.Finish(); }

 private:
  // Decodes into values[i] with row indexes[i], or row i mod num_rows.
  template <bool kIndexed>
  Status DecodeLoop(const int32_t* indexes, int32_t* values, size_t count);
  // Decodes the code after an escape; false if the string is corrupt (the
  // reason is then in error_).
  bool DecodeEscape(const DecodeTable::Row& row, int32_t* value,
                    size_t position);

  const DecodeTable& table_;
  RangeDecoder decoder_;
  Status error_;
};

// One-shot helpers: decode `count` values and check the string ends there.
Status DecodeIndexed(const DecodeTable& table, const char* data, size_t size,
                     const int32_t* indexes, int32_t* values, size_t count);
Status DecodeChannel(const DecodeTable& table, const char* data, size_t size,
                     int32_t* values, size_t count);

// ---------------------------------------------------------------------------
// Implementation of the hot path.

inline void RangeDecoder::Read16() {
  uint32_t hi = 0, lo = 0;
  if (next_ < end_) hi = *next_++;
  if (next_ < end_) lo = *next_++;
  value_ = (value_ << 16) | (hi << 8) | lo;
  requested_ += 2;
}

inline void RangeDecoder::Narrow(uint64_t size, uint32_t lower, uint32_t upper,
                                 int precision) {
  const uint32_t a = static_cast<uint32_t>((size * lower) >> precision);
  const uint32_t b = static_cast<uint32_t>(((size * upper) >> precision) - 1);
  base_ += a;
  size_minus1_ = b - a;
  if ((size_minus1_ >> 16) == 0) {
    if (base_ + size_minus1_ >= base_) {
      // The encoder has flushed everything; if the shift below makes the
      // interval straddle 2^32, it delays these 16 bits from here on.
      pending_start_ = requested_ - 4;
      delayed_ = (base_ >> 16) + 1;
    }
    base_ <<= 16;
    size_minus1_ = (size_minus1_ << 16) | 0xFFFF;
    Read16();
  }
}

inline int32_t RangeDecoder::Decode(const uint32_t* cdf, int precision,
                                    const uint64_t* buckets,
                                    int bucket_shift) {
  const uint32_t offset = value_ - base_;
  if (offset > size_minus1_) return -1;  // No encoder produces this state.
  const uint64_t size = static_cast<uint64_t>(size_minus1_) + 1;
  const uint32_t t = static_cast<uint32_t>(
      (((static_cast<uint64_t>(offset) + 1) << precision) - 1) / size);
  const uint64_t bucket = buckets[t >> bucket_shift];
  uint32_t s = static_cast<uint32_t>(bucket & 0xFFFF);
  uint32_t lower = static_cast<uint32_t>(bucket >> 16) & 0x1FFFF;
  uint32_t upper = static_cast<uint32_t>(bucket >> 33);
  if (upper <= t) {
    ++s;
    while (cdf[s + 1] <= t) ++s;
    lower = cdf[s];
    upper = cdf[s + 1];
  }
  Narrow(size, lower, upper, precision);
  return static_cast<int32_t>(s);
}

inline int32_t RangeDecoder::DecodeBit() {
  const uint32_t offset = value_ - base_;
  if (offset > size_minus1_) return -1;
  const uint64_t size = static_cast<uint64_t>(size_minus1_) + 1;
  const uint32_t bit = (2 * static_cast<uint64_t>(offset) + 1) >= size;
  Narrow(size, bit, bit + 1, 1);
  return static_cast<int32_t>(bit);
}

}  // namespace tensorcoder

#endif  // TENSORCODER_CC_RANGE_DECODER_H_
