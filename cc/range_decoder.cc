#include "cc/range_decoder.h"

#include <algorithm>
#include <limits>
#include <utility>

namespace tensorcoder {

RangeDecoder::RangeDecoder(const char* data, size_t size)
    : next_(reinterpret_cast<const unsigned char*>(data)),
      end_(reinterpret_cast<const unsigned char*>(data) + size),
      size_(size) {
  Read16();
  Read16();
}

int32_t RangeDecoder::DecodeWithSearch(const int32_t* cdf, size_t size,
                                       int precision) {
  const uint32_t offset = value_ - base_;
  if (offset > size_minus1_) return -1;
  const uint64_t range = static_cast<uint64_t>(size_minus1_) + 1;
  const int32_t t = static_cast<int32_t>(
      (((static_cast<uint64_t>(offset) + 1) << precision) - 1) / range);
  // Last s with cdf[s] <= t; cdf[0] = 0 <= t < 2^precision = cdf[size - 1].
  const int32_t* it = std::upper_bound(cdf + 1, cdf + size, t);
  const size_t s = static_cast<size_t>(it - cdf) - 1;
  Narrow(range, static_cast<uint32_t>(cdf[s]), static_cast<uint32_t>(cdf[s + 1]),
         precision);
  return static_cast<int32_t>(s);
}

Status RangeDecoder::Finish() const {
  // Recompute what RangeEncoder::Finalize() wrote for this final state: the
  // length of the whole string, and the value its last bytes give.
  const uint32_t upper = base_ + size_minus1_;
  const uint64_t written = requested_ - 4;  // Two bytes per renormalization.
  uint64_t expected_size;
  uint32_t expected_value = 0;
  if (upper < base_) {
    // Carry pending: the delayed 16 bits (minus a trailing zero byte), and
    // the pending zero bytes are omitted.
    expected_size = pending_start_ + ((delayed_ & 0xFF) != 0 ? 2 : 1);
  } else if (base_ == 0) {
    expected_size = written;
  } else {
    const bool byte24 = ((base_ - 1) >> 24) < (upper >> 24);
    const int shift = byte24 ? 24 : 16;
    const uint32_t mid = ((base_ - 1) >> shift) + 1;
    expected_value = mid << shift;
    expected_size = written + (byte24 || (mid & 0xFF) == 0 ? 1 : 2);
  }
  if (size_ != expected_size) {
    return DataLossError(
        "range decoder: the string has ", size_, " bytes but the decoded "
        "values account for ", expected_size, ": it is ",
        size_ < expected_size ? "truncated" : "too long",
        ", corrupted, or was encoded with other tables or another number of "
        "values");
  }
  if (value_ != expected_value) {
    return DataLossError("range decoder: the string does not end the way the "
                         "encoder ends it: it is corrupted, or was encoded "
                         "with other tables");
  }
  return OkStatus();
}

DecodeTable::DecodeTable(CdfTable table) : table_(std::move(table)) {
  // Bucket k covers slots [k << shift, (k + 1) << shift) and stores the
  // symbol holding slot k << shift. With about two buckets per symbol (at
  // most 1024), a search mostly ends on its first comparison.
  std::vector<std::pair<size_t, int>> layout;
  layout.reserve(table_.num_rows());
  size_t total = 0;
  for (const CdfTable::Row& row : table_.rows()) {
    int bits = 1;
    while (bits < 10 && (uint32_t{1} << bits) < 2 * row.num_symbols) ++bits;
    bits = std::min(bits, row.precision);
    layout.emplace_back(total, row.precision - bits);
    total += size_t{1} << bits;
  }
  buckets_.resize(total);
  rows_.reserve(table_.num_rows());
  for (size_t r = 0; r < table_.num_rows(); ++r) {
    const CdfTable::Row& row = table_.row(r);
    const uint32_t* cdf = table_.cdf(row);
    const int shift = layout[r].second;
    uint64_t* buckets = buckets_.data() + layout[r].first;
    const uint32_t count = uint32_t{1} << (row.precision - shift);
    uint32_t s = 0;
    for (uint32_t k = 0; k < count; ++k) {
      const uint32_t slot = k << shift;
      while (cdf[s + 1] <= slot) ++s;
      buckets[k] = uint64_t{s} | (uint64_t{cdf[s]} << 16) |
                   (uint64_t{cdf[s + 1]} << 33);
    }
    rows_.push_back(Row{cdf, buckets, row.num_symbols, row.precision, shift,
                        row.overflow});
  }
}

TableDecoder::TableDecoder(const DecodeTable& table, const char* data,
                           size_t size)
    : table_(table), decoder_(data, size) {}

namespace {

Status CorruptAt(size_t position) {
  return DataLossError("range decoder: impossible state at position ",
                       position, ": the string is corrupted");
}

}  // namespace

bool TableDecoder::DecodeEscape(const DecodeTable::Row& row, int32_t* value,
                                size_t position) {
  // Leading zeros give the bit count of the magnitude (at most 32 bits).
  int zeros = 0;
  int32_t bit;
  while ((bit = decoder_.DecodeBit()) == 0) {
    if (++zeros > 31) {
      error_ = DataLossError("escape code at position ", position,
                           " has more than 31 leading zeros: the string is "
                           "corrupted");
      return false;
    }
  }
  uint64_t magnitude = 1;
  for (int i = 0; i < zeros && bit >= 0; ++i) {
    bit = decoder_.DecodeBit();
    magnitude = (magnitude << 1) | static_cast<uint64_t>(bit & 1);
  }
  const int32_t sign = bit < 0 ? -1 : decoder_.DecodeBit();
  if (sign < 0) {
    error_ = CorruptAt(position);
    return false;
  }
  const int64_t decoded =
      sign ? -static_cast<int64_t>(magnitude)
           : static_cast<int64_t>(magnitude) + row.num_symbols - 2;
  if (decoded < std::numeric_limits<int32_t>::min() ||
      decoded > std::numeric_limits<int32_t>::max()) {
    error_ = DataLossError("escaped value ", decoded, " at position ",
                           position, " is outside the int32 range: the "
                           "string is corrupted");
    return false;
  }
  *value = static_cast<int32_t>(decoded);
  return true;
}

template <bool kIndexed>
Status TableDecoder::DecodeLoop(const int32_t* indexes, int32_t* values,
                                size_t count) {
  RangeDecoder decoder = decoder_;  // Kept in registers, see RangeDecoder.
  const size_t num_rows = table_.num_rows();
  const DecodeTable::Row* rows = table_.rows();
  size_t r = 0;
  for (size_t i = 0; i < count; ++i) {
    if (kIndexed) {
      r = static_cast<uint32_t>(indexes[i]);
      if (r >= num_rows) {
        return InvalidArgumentError("index ", indexes[i], " at position ", i,
                                    " is outside [0, ", num_rows,
                                    ") (the number of CDF rows)");
      }
    }
    const DecodeTable::Row& row = rows[r];
    const int32_t symbol =
        decoder.Decode(row.cdf, row.precision, row.buckets, row.bucket_shift);
    if (symbol < 0) return CorruptAt(i);
    if (row.overflow && static_cast<uint32_t>(symbol) + 1 == row.num_symbols) {
      decoder_ = decoder;
      if (!DecodeEscape(row, values + i, i)) return error_;
      decoder = decoder_;
    } else {
      values[i] = symbol;
    }
    if (!kIndexed && ++r == num_rows) r = 0;
  }
  decoder_ = decoder;
  return OkStatus();
}

Status TableDecoder::DecodeIndexed(const int32_t* indexes, int32_t* values,
                                   size_t count) {
  return DecodeLoop<true>(indexes, values, count);
}

Status TableDecoder::DecodeChannel(int32_t* values, size_t count) {
  return DecodeLoop<false>(nullptr, values, count);
}

Status DecodeIndexed(const DecodeTable& table, const char* data, size_t size,
                     const int32_t* indexes, int32_t* values, size_t count) {
  TableDecoder decoder(table, data, size);
  TC_RETURN_IF_ERROR(decoder.DecodeIndexed(indexes, values, count));
  return decoder.Finish();
}

Status DecodeChannel(const DecodeTable& table, const char* data, size_t size,
                     int32_t* values, size_t count) {
  TableDecoder decoder(table, data, size);
  TC_RETURN_IF_ERROR(decoder.DecodeChannel(values, count));
  return decoder.Finish();
}

}  // namespace tensorcoder
