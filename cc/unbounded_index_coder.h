// The "unbounded index" range coder of TensorFlow Compression 1.x: the wire
// format of the ops UnboundedIndexRangeEncode / UnboundedIndexRangeDecode,
// which TFC 2.x still registers (deprecated) so that models exported by
// TFC 1.x's entropy models keep loading. The bytes equal TFC's.
//
// Tables. `cdf` is a matrix of num_rows rows of `width` int32 values; row r
// holds a CDF c_0 = 0 < c_1 < ... < c_{k-1} = 2^precision in its first
// k = cdf_size[r] entries (3 <= k <= width; the rest, typically zero
// padding, is ignored). With m = k - 2, the row codes the m "regular" values
// offset[r] .. offset[r] + m - 1 and symbol m is the escape.
//
// Values. Each value x is coded with row r = index[i] as follows (all
// arithmetic on 32 bits, wrapping like TFC's):
//  * v = x - offset[r]. If 0 <= v < m, symbol v is coded: the interval
//    [c_v, c_{v+1}) / 2^precision of the range coder (range_encoder.h; TFC's
//    lib/range_coder is the same coder).
//  * Otherwise the escape symbol m is coded, then the overflow code
//    u = 2 (v - m) for v >= m, u = -2 v - 1 for v < 0 (an unsigned 32-bit
//    number), as w digits of W = overflow_width bits, each a uniform symbol
//    [d, d + 1) / 2^W: first the digit count w as floor(w / M) symbols
//    M = 2^W - 1 and one symbol w mod M, then digit j = 0 .. w-1 as
//    (u >> ((j W) mod 32)) & M.
//  * w is the smallest k >= 0 with (u >> ((k W) mod 32)) == 0. The "mod 32"
//    is what TFC's compiled code does on x86: its C++ shifts by k W >= 32
//    (undefined behaviour) are taken modulo 32 by the CPU. So when
//    ceil(bits(u) / W) W >= 32, TFC writes digits past bit 31 again from the
//    low bits on; they are part of its format and reproduced here. When no
//    such k exists TFC never returns; that happens exactly when u has more
//    than 32 - gcd(W, 32) bits (16 bits for W = 16, 24 for 8, 28 for 4, 30
//    for 2, 31 for odd W), and the encoder here reports INVALID_ARGUMENT
//    instead. Such codes need |x - offset[r]| >= 2^15 at the least, far
//    beyond the quantized latents of trained models.
// The decoder inverts this: u is the OR of the 32-bit (d_j << ((j W) mod
// 32)), v = m + (u >> 1) for even u and v = -(u >> 1) - 1 for odd u, and
// x = v + offset[r]. The string carries no shape or length: the decoder is
// given the same index, cdf, cdf_size, offset, precision and overflow width.
//
// Unlike TFC, which checks its arguments only at debug_level 1 and then
// reads out of bounds or aborts, both functions always validate everything
// (as TFC's debug checks do) and never read outside the given arrays; a
// corrupt string gives DATA_LOSS, never a crash or hang.
#ifndef TENSORCODER_CC_UNBOUNDED_INDEX_CODER_H_
#define TENSORCODER_CC_UNBOUNDED_INDEX_CODER_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "cc/status.h"

namespace tensorcoder {

// A validated view of the tables; the arrays must outlive it.
class UnboundedIndexTable {
 public:
  UnboundedIndexTable() = default;

  // Checks precision and overflow_width (1..16), width >= 3, every
  // cdf_size[r] in [3, width], and every row's CDF (starts with 0, strictly
  // increasing, ends with 2^precision). `cdf` holds num_rows * width values,
  // `cdf_size` and `offset` num_rows values each.
  static StatusOr<UnboundedIndexTable> Make(const int32_t* cdf,
                                            size_t num_rows, size_t width,
                                            const int32_t* cdf_size,
                                            const int32_t* offset,
                                            int precision, int overflow_width);

  size_t num_rows() const { return num_rows_; }
  int precision() const { return precision_; }
  int overflow_width() const { return overflow_width_; }
  // Row r: c_0 .. c_{cdf_size(r) - 1}. REQUIRES: r < num_rows().
  const int32_t* cdf(size_t r) const { return cdf_ + r * width_; }
  int32_t cdf_size(size_t r) const { return cdf_size_[r]; }
  int32_t offset(size_t r) const { return offset_[r]; }

 private:
  const int32_t* cdf_ = nullptr;
  const int32_t* cdf_size_ = nullptr;
  const int32_t* offset_ = nullptr;
  size_t num_rows_ = 0;
  size_t width_ = 0;
  int precision_ = 1;
  int overflow_width_ = 1;
};

// Checks the ops' attributes: both in 1..16 (TFC's messages).
Status ValidateUnboundedIndexAttrs(int precision, int overflow_width);

// The digit count w TFC writes for overflow code `code` (see above), or -1
// if TFC's encoder never terminates for it. REQUIRES: 1 <= width <= 16.
int UnboundedOverflowDigits(uint32_t code, int overflow_width);

// Encodes data[i] with row index[i], i = 0 .. count-1. INVALID_ARGUMENT
// names the position of an index outside [0, num_rows) or of a value TFC
// cannot code.
StatusOr<std::string> UnboundedIndexEncode(const UnboundedIndexTable& table,
                                           const int32_t* index,
                                           const int32_t* data, size_t count);

// Decodes `count` values of `encoded[0..size)` into decoded[i] with row
// index[i]. INVALID_ARGUMENT for a bad index; DATA_LOSS if the string is
// corrupt: an impossible coder state, an overflow digit count above 31
// (TFC's encoder never writes more), or a string that does not end where
// the decoded values do (range_decoder.h, RangeDecoder::Finish). `decoded`
// is then partly written and must be discarded.
Status UnboundedIndexDecode(const UnboundedIndexTable& table,
                            const char* encoded, size_t size,
                            const int32_t* index, int32_t* decoded,
                            size_t count);

}  // namespace tensorcoder

#endif  // TENSORCODER_CC_UNBOUNDED_INDEX_CODER_H_
