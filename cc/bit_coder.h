// LSB-first bit writer and reader with Elias-gamma and Rice codes.
//
// Bits fill each byte from its least significant bit up; a multi-bit field
// is written least significant bit first. The last byte is padded with zero
// bits. This is the bit order of TensorFlow Compression's bit coder, so the
// run-length codes built on it (run_length_coder.h) produce the same bytes.
//
//   gamma(v), v in 1..2^32-1, k = bit width of v:
//       k-1 zero bits, a one bit, then the k-1 low bits of v.
//   rice_m(v), v in 0..2^32-1:
//       (v >> m) zero bits, a one bit, then the m low bits of v.
#ifndef TENSORCODER_CC_BIT_CODER_H_
#define TENSORCODER_CC_BIT_CODER_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "cc/status.h"

namespace tensorcoder {

inline constexpr int kMaxRiceParameter = 31;
// Longest unary part a Rice code may have, in bits (2 MiB of zeros).
inline constexpr uint64_t kMaxRiceUnaryBits = uint64_t{1} << 24;

class BitWriter {
 public:
  // Writes the `count` low bits of `bits`. REQUIRES: count <= 32.
  void WriteBits(int count, uint64_t bits);
  void WriteOneBit(uint32_t bit) { WriteBits(1, bit); }
  // REQUIRES: value >= 1.
  void WriteGamma(uint32_t value);
  // REQUIRES: 0 <= parameter <= 31 and (value >> parameter) <=
  // kMaxRiceUnaryBits (check with RiceFits()).
  void WriteRice(uint32_t value, int parameter);
  static bool RiceFits(uint32_t value, int parameter) {
    return (value >> parameter) <= kMaxRiceUnaryBits;
  }
  // Pads the last byte with zeros and returns the bytes written.
  std::string Finish();

 private:
  std::string bytes_;
  uint64_t buffer_ = 0;  // Pending bits, least significant first.
  int bits_in_buffer_ = 0;
};

class BitReader {
 public:
  // Does not copy `data`, which must outlive the reader.
  BitReader(const char* data, size_t size);

  // DATA_LOSS if fewer than `count` bits remain. REQUIRES: count <= 32.
  Status ReadBits(int count, uint32_t* bits);
  Status ReadOneBit(uint32_t* bit) { return ReadBits(1, bit); }
  // DATA_LOSS on a prefix of more than 31 zeros or missing bits.
  Status ReadGamma(uint32_t* value);
  // DATA_LOSS if the value exceeds 32 bits or bits are missing.
  // REQUIRES: 0 <= parameter <= 31.
  Status ReadRice(int parameter, uint32_t* value);
  // OK if no whole byte is left unread and the padding bits are zero.
  Status Finish() const;

 private:
  void Refill();
  // Reads zero bits up to and including the next one bit; DATA_LOSS after
  // more than `limit` zeros.
  Status ReadUnary(uint64_t limit, uint64_t* zeros);

  const unsigned char* next_;
  const unsigned char* end_;
  uint64_t buffer_ = 0;
  int bits_in_buffer_ = 0;
};

}  // namespace tensorcoder

#endif  // TENSORCODER_CC_BIT_CODER_H_
