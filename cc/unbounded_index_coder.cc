#include "cc/unbounded_index_coder.h"

#include <numeric>
#include <utility>
#include <vector>

#include "cc/range_decoder.h"
#include "cc/range_encoder.h"

namespace tensorcoder {
namespace {

// TFC's encoder writes at most 31 digits (see UnboundedOverflowDigits).
constexpr int kMaxDigits = 31;
// Encode() calls one value takes at most: its symbol, the digit count
// (up to 31 / 1 continuation symbols and the last one) and 31 digits.
constexpr size_t kMaxSymbolsPerValue = 1 + (kMaxDigits + 1) + kMaxDigits;

// The shift of digit j, as TFC's x86 code computes it (modulo 32).
inline int DigitShift(int j, int overflow_width) {
  return (j * overflow_width) & 31;
}

// Wrapping 32-bit arithmetic (TFC's int32 arithmetic as compiled).
inline int32_t WrapToInt32(uint32_t value) {
  return static_cast<int32_t>(value);
}

Status IndexError(int32_t row, size_t position, size_t num_rows) {
  return InvalidArgumentError("`index` value ", row, " at position ",
                              position, " is not in [0, ", num_rows,
                              ") (the number of rows of `cdf`)");
}

int Gcd32(int width) { return std::gcd(width, 32); }

}  // namespace

Status ValidateUnboundedIndexAttrs(int precision, int overflow_width) {
  if (precision < 1 || precision > 16) {
    return InvalidArgumentError("`precision` must be in [1, 16]: ",
                                precision);
  }
  if (overflow_width < 1 || overflow_width > 16) {
    return InvalidArgumentError("`overflow_width` must be in [1, 16]: ",
                                overflow_width);
  }
  return OkStatus();
}

StatusOr<UnboundedIndexTable> UnboundedIndexTable::Make(
    const int32_t* cdf, size_t num_rows, size_t width,
    const int32_t* cdf_size, const int32_t* offset, int precision,
    int overflow_width) {
  TC_RETURN_IF_ERROR(ValidateUnboundedIndexAttrs(precision, overflow_width));
  if (width < 3) {
    return InvalidArgumentError("`cdf` must have at least 3 columns, got ",
                                width);
  }
  const int32_t last = int32_t{1} << precision;
  for (size_t r = 0; r < num_rows; ++r) {
    const int32_t size = cdf_size[r];
    if (size < 3 || static_cast<size_t>(size) > width) {
      return InvalidArgumentError("`cdf_size` has a value not in [3, ", width,
                                  "] (the number of columns of `cdf`): "
                                  "cdf_size[", r, "]=", size);
    }
    const int32_t* row = cdf + r * width;
    if (row[0] != 0 || row[size - 1] != last) {
      return InvalidArgumentError(
          "each cdf should start from 0 and end at 2^precision = ", last,
          ": row ", r, " has cdf[0]=", row[0], ", cdf[cdf_size - 1]=",
          row[size - 1]);
    }
    for (int32_t j = 1; j < size; ++j) {
      if (row[j] <= row[j - 1]) {
        return InvalidArgumentError(
            "CDF is not monotonic: row ", r, " has ", row[j - 1], " then ",
            row[j], " at column ", j,
            " (every value needs a nonzero probability)");
      }
    }
  }
  UnboundedIndexTable table;
  table.cdf_ = cdf;
  table.cdf_size_ = cdf_size;
  table.offset_ = offset;
  table.num_rows_ = num_rows;
  table.width_ = width;
  table.precision_ = precision;
  table.overflow_width_ = overflow_width;
  return table;
}

int UnboundedOverflowDigits(uint32_t code, int overflow_width) {
  // TFC: while (code >> (w * width) != 0) ++w; with x86's shift modulo 32.
  // The shifts k * width mod 32 of k = 0..31 cover every multiple of
  // gcd(width, 32) below 32, so if none of them ends the loop, none does.
  for (int k = 0; k <= kMaxDigits; ++k) {
    if ((code >> DigitShift(k, overflow_width)) == 0) return k;
  }
  return -1;
}

StatusOr<std::string> UnboundedIndexEncode(const UnboundedIndexTable& table,
                                           const int32_t* index,
                                           const int32_t* data, size_t count) {
  const int precision = table.precision();
  const int width = table.overflow_width();
  const uint32_t max_digit = (uint32_t{1} << width) - 1;
  std::string output;
  RangeEncoder encoder(&output);
  for (size_t i = 0; i < count; ++i) {
    const int32_t row = index[i];
    if (row < 0 || static_cast<size_t>(row) >= table.num_rows()) {
      return IndexError(row, i, table.num_rows());
    }
    const int32_t* cdf = table.cdf(row);
    const int32_t max_value = table.cdf_size(row) - 2;
    const int32_t value = WrapToInt32(static_cast<uint32_t>(data[i]) -
                                      static_cast<uint32_t>(table.offset(row)));
    encoder.Reserve(kMaxSymbolsPerValue);
    if (value >= 0 && value < max_value) {
      encoder.Encode(static_cast<uint32_t>(cdf[value]),
                     static_cast<uint32_t>(cdf[value + 1]), precision);
      continue;
    }
    // Exact in 64 bits; both codes fit in 32 bits.
    const uint32_t code =
        value < 0
            ? static_cast<uint32_t>(-2 * static_cast<int64_t>(value) - 1)
            : static_cast<uint32_t>(
                  2 * (static_cast<int64_t>(value) - max_value));
    const int digits = UnboundedOverflowDigits(code, width);
    if (digits < 0) {
      const int bits = 32 - __builtin_clz(code);
      return InvalidArgumentError(
          "`data` value ", data[i], " at position ", i, " (row ", row,
          ", offset ", table.offset(row), ") has the overflow code ", code,
          " of ", bits, " bits; with overflow_width ", width,
          " TensorFlow Compression's encoder never terminates for codes of "
          "more than ", 32 - Gcd32(width), " bits, so it has no encoding "
          "(odd overflow widths handle 31 bits, i.e. values within about "
          "+-2^30 of the offset)");
    }
    encoder.Encode(static_cast<uint32_t>(cdf[max_value]),
                   static_cast<uint32_t>(cdf[max_value + 1]), precision);
    uint32_t remaining = static_cast<uint32_t>(digits);
    while (remaining >= max_digit) {
      encoder.Encode(max_digit, max_digit + 1, width);
      remaining -= max_digit;
    }
    encoder.Encode(remaining, remaining + 1, width);
    for (int j = 0; j < digits; ++j) {
      const uint32_t digit = (code >> DigitShift(j, width)) & max_digit;
      encoder.Encode(digit, digit + 1, width);
    }
  }
  encoder.Finalize();
  return output;
}

Status UnboundedIndexDecode(const UnboundedIndexTable& table,
                            const char* encoded, size_t size,
                            const int32_t* index, int32_t* decoded,
                            size_t count) {
  const int precision = table.precision();
  const int width = table.overflow_width();
  const int32_t max_digit = (int32_t{1} << width) - 1;
  // The uniform CDF 0, 1, ..., 2^width of the digits, built on first use.
  std::vector<int32_t> uniform;
  RangeDecoder decoder(encoded, size);
  auto corrupt = [](size_t position, const char* what) {
    return DataLossError("unbounded index range decoder: ", what,
                         " at position ", position,
                         ": the string is corrupted, or was encoded with "
                         "other tables, precision or overflow_width");
  };
  for (size_t i = 0; i < count; ++i) {
    const int32_t row = index[i];
    if (row < 0 || static_cast<size_t>(row) >= table.num_rows()) {
      return IndexError(row, i, table.num_rows());
    }
    const int32_t max_value = table.cdf_size(row) - 2;
    int32_t value = decoder.DecodeWithSearch(
        table.cdf(row), static_cast<size_t>(max_value) + 2, precision);
    if (value < 0) return corrupt(i, "impossible coder state");
    if (value == max_value) {
      if (uniform.empty()) {
        uniform.resize(static_cast<size_t>(max_digit) + 2);
        std::iota(uniform.begin(), uniform.end(), 0);
      }
      int digits = 0;
      int32_t digit;
      do {
        digit = decoder.DecodeWithSearch(uniform.data(), uniform.size(),
                                         width);
        if (digit < 0) return corrupt(i, "impossible coder state");
        digits += digit;
        if (digits > kMaxDigits) {
          return corrupt(i, "overflow code of more than 31 digits");
        }
      } while (digit == max_digit);
      uint32_t code = 0;
      for (int j = 0; j < digits; ++j) {
        digit = decoder.DecodeWithSearch(uniform.data(), uniform.size(),
                                         width);
        if (digit < 0) return corrupt(i, "impossible coder state");
        code |= static_cast<uint32_t>(digit) << DigitShift(j, width);
      }
      const uint32_t half = code >> 1;
      value = (code & 1) != 0
                  ? WrapToInt32(~half)  // -half - 1
                  : WrapToInt32(half + static_cast<uint32_t>(max_value));
    }
    decoded[i] = WrapToInt32(static_cast<uint32_t>(value) +
                             static_cast<uint32_t>(table.offset(row)));
  }
  return decoder.Finish();
}

}  // namespace tensorcoder
