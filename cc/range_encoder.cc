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

void RangeEncoder::FlushDelay(bool carry) {
  // The delayed top 16 bits are (delay - 1) unless a carry arrived; the
  // pending pairs are then 0x00 after a carry, 0xFF otherwise.
  const size_t count = delay_ >> 16;
  if (!carry) --delay_;
  Put16(static_cast<uint32_t>(delay_));
  std::memset(data_ + pos_, carry ? 0x00 : 0xFF, count);
  pos_ += count;
  delay_ = 0;
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

inline Status TableEncoder::EncodeOne(const CdfTable::Row& row, int32_t value,
                                      size_t position) {
  const uint32_t* cdf = table_.cdf(row);
  if (!row.overflow) {
    if (static_cast<uint32_t>(value) >= row.num_symbols) {
      return InvalidArgumentError(
          "value ", value, " at position ", position, " is outside [0, ",
          row.num_symbols, ") of its CDF row, which has overflow disabled");
    }
    encoder_.Encode(cdf[value], cdf[value + 1], row.precision);
    return OkStatus();
  }
  const uint32_t escape = row.num_symbols - 1;
  if (value >= 0 && static_cast<uint32_t>(value) < escape) {
    encoder_.Encode(cdf[value], cdf[value + 1], row.precision);
  } else {
    EncodeEscape(row, value);
  }
  return OkStatus();
}

void TableEncoder::EncodeEscape(const CdfTable::Row& row, int32_t value) {
  const uint32_t escape = row.num_symbols - 1;
  const uint32_t* cdf = table_.cdf(row);
  // 1 escape + at most 31 zeros + 32 magnitude bits + 1 sign.
  encoder_.Reserve(65);
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

Status TableEncoder::EncodeIndexed(const int32_t* indexes,
                                   const int32_t* values, size_t count) {
  encoder_.Reserve(count);
  const size_t num_rows = table_.num_rows();
  const CdfTable::Row* rows = table_.rows().data();
  for (size_t i = 0; i < count; ++i) {
    const int32_t index = indexes[i];
    if (static_cast<uint32_t>(index) >= num_rows) {
      return InvalidArgumentError("index ", index, " at position ", i,
                                  " is outside [0, ", num_rows,
                                  ") (the number of CDF rows)");
    }
    TC_RETURN_IF_ERROR(EncodeOne(rows[index], values[i], i));
  }
  return OkStatus();
}

Status TableEncoder::EncodeChannel(const int32_t* values, size_t count) {
  encoder_.Reserve(count);
  const size_t num_rows = table_.num_rows();
  const CdfTable::Row* rows = table_.rows().data();
  size_t r = 0;
  for (size_t i = 0; i < count; ++i) {
    TC_RETURN_IF_ERROR(EncodeOne(rows[r], values[i], i));
    if (++r == num_rows) r = 0;
  }
  return OkStatus();
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
