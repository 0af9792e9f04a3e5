#include "cc/range_encoder.h"

#include <algorithm>
#include <cstring>

namespace tensorcoder {

RangeEncoder::RangeEncoder(std::string* sink)
    : sink_(sink), data_(&(*sink)[0]), pos_(sink->size()) {}

void RangeEncoder::Reserve(size_t num_symbols) {
  // Each Encode() renormalizes at most once, emitting or delaying 2 bytes;
  // delayed bytes are written when the delay is flushed.
  const size_t pending = delay_ == 0 ? 0 : 2 + (delay_ >> 16);
  const size_t needed = pos_ + pending + 2 * num_symbols + 2;
  if (needed > sink_->size()) {
    sink_->resize(std::max(needed, sink_->size() * 2));
    data_ = &(*sink_)[0];
  }
}

size_t RangeEncoder::FlushDelay(char* data, size_t pos, uint64_t delay,
                               bool carry) {
  // The delayed top 16 bits are (delay - 1) unless a carry arrived; the
  // pending bytes are then 0x00 after a carry, 0xFF otherwise.
  const size_t count = delay >> 16;
  if (!carry) --delay;
  data[pos] = static_cast<char>(delay >> 8);
  data[pos + 1] = static_cast<char>(delay);
  std::memset(data + pos + 2, carry ? 0x00 : 0xFF, count);
  return pos + 2 + count;
}

void RangeEncoder::Finalize() {
  // Pick a number inside [base, base + size) whose trailing bytes are zero,
  // so that only its leading 0..2 bytes need writing.
  Reserve(0);
  if (delay_ != 0) {
    // State 1: the interval contains 2^32, i.e. the delayed value with a
    // carry and all pending bytes zero.
    data_[pos_++] = static_cast<char>(delay_ >> 8);
    if ((delay_ & 0xFF) != 0) data_[pos_++] = static_cast<char>(delay_);
  } else if (base_ != 0) {
    const uint32_t upper = base_ + size_minus1_;
    const uint32_t mid24 = ((base_ - 1) >> 24) + 1;
    if (mid24 <= (upper >> 24)) {
      data_[pos_++] = static_cast<char>(mid24);
    } else {
      const uint32_t mid16 = ((base_ - 1) >> 16) + 1;
      data_[pos_++] = static_cast<char>(mid16 >> 8);
      if ((mid16 & 0xFF) != 0) data_[pos_++] = static_cast<char>(mid16);
    }
  }
  sink_->resize(pos_);
}

TableEncoder::TableEncoder(const CdfTable& table)
    : table_(table), encoder_(&output_) {}

namespace {

Status ValueError(int32_t value, size_t position, const CdfTable::Row& row) {
  return InvalidArgumentError(
      "value ", value, " at position ", position, " is outside [0, ",
      row.num_symbols, ") of its CDF row, which has overflow disabled");
}

Status IndexError(int32_t index, size_t position, size_t num_rows) {
  return InvalidArgumentError("index ", index, " at position ", position,
                              " is outside [0, ", num_rows,
                              ") (the number of CDF rows)");
}

}  // namespace

void TableEncoder::EncodeEscape(const CdfTable::Row& row, int32_t value) {
  const uint32_t escape = row.num_symbols - 1;
  const uint32_t* cdf = table_.cdf(row);
  encoder_.Encode(cdf[escape], cdf[escape + 1], row.precision);
  const uint32_t sign = value < 0;
  // Magnitude in 1..2^31, computed without signed overflow.
  const uint32_t gamma =
      sign ? 0u - static_cast<uint32_t>(value)
           : static_cast<uint32_t>(value) - escape + 1;
  int bits = 32 - __builtin_clz(gamma);
  for (int i = 1; i < bits; ++i) encoder_.EncodeBit(0);
  while (--bits >= 0) encoder_.EncodeBit((gamma >> bits) & 1);
  encoder_.EncodeBit(sign);
}

template <bool kIndexed>
Status TableEncoder::EncodeLoop(const int32_t* indexes, const int32_t* values,
                                size_t count) {
  encoder_.Reserve(count);
  RangeEncoder encoder = encoder_;  // Kept in registers, see RangeEncoder.
  const size_t num_rows = table_.num_rows();
  const CdfTable::Row* rows = table_.rows().data();
  const uint32_t* cdf_data = table_.cdf(rows[0]) - rows[0].offset;
  size_t r = 0;
  for (size_t i = 0; i < count; ++i) {
    if (kIndexed) {
      r = static_cast<uint32_t>(indexes[i]);
      if (r >= num_rows) {
        encoder_ = encoder;
        return IndexError(indexes[i], i, num_rows);
      }
    }
    const CdfTable::Row& row = rows[r];
    const int32_t value = values[i];
    // Values coded directly: [0, n) without overflow, [0, n - 1) with it.
    if (static_cast<uint32_t>(value) < row.num_symbols - row.overflow) {
      const uint32_t* cdf = cdf_data + row.offset;
      encoder.Encode(cdf[value], cdf[value + 1], row.precision);
    } else {
      encoder_ = encoder;
      if (!row.overflow) return ValueError(value, i, row);
      // The escape's symbols and then the count - i - 1 values after it:
      // the Reserve(count) above only covered one symbol per value.
      encoder_.Reserve(kMaxEscapeSymbols + (count - i - 1));
      EncodeEscape(row, value);
      encoder = encoder_;
    }
    if (!kIndexed && ++r == num_rows) r = 0;
  }
  encoder_ = encoder;
  return OkStatus();
}

Status TableEncoder::EncodeIndexed(const int32_t* indexes,
                                   const int32_t* values, size_t count) {
  return EncodeLoop<true>(indexes, values, count);
}

Status TableEncoder::EncodeChannel(const int32_t* values, size_t count) {
  return EncodeLoop<false>(nullptr, values, count);
}

std::string TableEncoder::Finish() {
  encoder_.Finalize();
  return std::move(output_);
}

StatusOr<std::string> EncodeIndexed(const CdfTable& table,
                                    const int32_t* indexes,
                                    const int32_t* values, size_t count) {
  TableEncoder encoder(table);
  TC_RETURN_IF_ERROR(encoder.EncodeIndexed(indexes, values, count));
  return encoder.Finish();
}

StatusOr<std::string> EncodeChannel(const CdfTable& table,
                                    const int32_t* values, size_t count) {
  TableEncoder encoder(table);
  TC_RETURN_IF_ERROR(encoder.EncodeChannel(values, count));
  return encoder.Finish();
}

}  // namespace tensorcoder
