// The "lookup" table format shared by every layer of tensorcoder.
//
// A lookup holds one or more CDF rows. Each row is
//
//     [±precision, 0, c_1, c_2, ..., c_n = 2^precision]
//
// describing n symbols, symbol s having probability (c_{s+1} - c_s) /
// 2^precision. `precision` is in 1..16; a negative precision enables the
// overflow (escape) mechanism: the last symbol n-1 is then the escape, and
// values outside [0, n-1) are coded after it with an Elias-gamma-like code
// (see range_encoder.h). CDF values must be strictly increasing, so every
// symbol is codable.
//
// Two layouts are accepted, as in TensorFlow Compression:
//  * flat (rank 1): rows concatenated; after a row's final 2^precision any
//    number of repeated 2^precision values may follow as padding (so a row
//    whose precision equals the previous row's 2^precision, e.g. 2 after 1,
//    is read as padding, exactly as TFC does: use the matrix layout then);
//  * matrix (rank 2): every row occupies exactly `width` entries, shorter rows
//    padded to the width by repeating 2^precision.
#ifndef TENSORCODER_CC_CDF_TABLE_H_
#define TENSORCODER_CC_CDF_TABLE_H_

#include <cstddef>
#include <cstdint>
#include <vector>

#include "cc/status.h"

namespace tensorcoder {

inline constexpr int kMaxPrecision = 16;

class CdfTable {
 public:
  struct Row {
    uint32_t offset;       // Index of c_0 in cdf().
    uint32_t num_symbols;  // n: the row has n + 1 CDF values.
    int precision;         // 1..16.
    bool overflow;         // True if the last symbol is the escape.
  };

  CdfTable() = default;

  // Parses a rank-1 lookup of `size` values. Errors name the row and the
  // offending value.
  static StatusOr<CdfTable> FromFlat(const int32_t* data, size_t size);

  // Parses a rank-2 lookup of `num_rows` rows of `width` values each.
  // The lookup of an array of `rank` dimensions `dims`: rank 1 is the flat
  // layout, rank 2 the matrix layout, any other rank INVALID_ARGUMENT.
  // `name` names the argument in messages. Every binding parses lookups
  // through this.
  static StatusOr<CdfTable> FromArray(const int32_t* data, size_t rank,
                                      const int64_t* dims, const char* name);
  static StatusOr<CdfTable> FromMatrix(const int32_t* data, size_t num_rows,
                                       size_t width);

  size_t num_rows() const { return rows_.size(); }
  const Row& row(size_t i) const { return rows_[i]; }
  const std::vector<Row>& rows() const { return rows_; }
  // All rows' CDF values, c_0..c_n of each row back to back.
  const uint32_t* cdf(const Row& row) const { return cdf_.data() + row.offset; }

 private:
  // Parses one row starting at data[*pos] (the precision) and ending before
  // `end`; advances *pos past the row's final 2^precision.
  Status ParseRow(const int32_t* data, size_t* pos, size_t end);

  std::vector<Row> rows_;
  std::vector<uint32_t> cdf_;
};

// INVALID_ARGUMENT unless precision is in 1..16 ("`precision` must be in
// [1, 16], got p").
Status CheckPrecision(int precision);

// Checks a plain CDF (no precision prefix): cdf[0] == 0, strictly increasing,
// cdf[size - 1] == 2^precision, size >= 2, precision in 1..16.
Status ValidateCdf(const int32_t* cdf, size_t size, int precision);

}  // namespace tensorcoder

#endif  // TENSORCODER_CC_CDF_TABLE_H_
