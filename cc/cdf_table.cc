#include "cc/cdf_table.h"

#include <cstdlib>
#include <limits>
#include <string>

namespace tensorcoder {

Status CdfTable::ParseRow(const int32_t* data, size_t* pos, size_t end) {
  const size_t row_index = rows_.size();
  const size_t start = *pos;
  const int32_t signed_precision = data[start];
  if (signed_precision == 0 || signed_precision < -kMaxPrecision ||
      signed_precision > kMaxPrecision) {
    return InvalidArgumentError("lookup row ", row_index, " (at offset ",
                                start, "): precision ", signed_precision,
                                " not in 1..16 (negative enables overflow)");
  }
  const int precision = std::abs(signed_precision);
  const int64_t last = int64_t{1} << precision;
  if (start + 1 >= end) {
    return InvalidArgumentError("lookup row ", row_index,
                                ": empty CDF after precision ",
                                signed_precision);
  }
  if (data[start + 1] != 0) {
    return InvalidArgumentError("lookup row ", row_index,
                                ": CDF must start with 0, got ",
                                data[start + 1]);
  }
  Row row;
  row.offset = static_cast<uint32_t>(cdf_.size());
  row.precision = precision;
  row.overflow = signed_precision < 0;
  cdf_.push_back(0);
  size_t p = start + 1;
  while (true) {
    ++p;
    if (p >= end) {
      return InvalidArgumentError("lookup row ", row_index,
                                  ": CDF must end with 2^precision = ", last,
                                  " but the row ended at ", data[p - 1]);
    }
    const int64_t value = data[p];
    if (value <= data[p - 1]) {
      return InvalidArgumentError(
          "lookup row ", row_index, ": CDF must be strictly increasing, got ",
          data[p - 1], " then ", value, " at position ", p - start);
    }
    if (value > last) {
      return InvalidArgumentError("lookup row ", row_index, ": CDF value ",
                                  value, " exceeds 2^precision = ", last);
    }
    cdf_.push_back(static_cast<uint32_t>(value));
    if (value == last) break;
  }
  row.num_symbols = static_cast<uint32_t>(p - start - 1);
  rows_.push_back(row);
  *pos = p + 1;
  return OkStatus();
}

StatusOr<CdfTable> CdfTable::FromFlat(const int32_t* data, size_t size) {
  CdfTable table;
  if (size == 0) return InvalidArgumentError("lookup is empty (no CDF rows)");
  size_t pos = 0;
  while (pos < size) {
    TC_RETURN_IF_ERROR(table.ParseRow(data, &pos, size));
    const int32_t last = int32_t{1} << table.rows_.back().precision;
    while (pos < size && data[pos] == last) ++pos;  // Padding.
  }
  return table;
}

StatusOr<CdfTable> CdfTable::FromMatrix(const int32_t* data, size_t num_rows,
                                        size_t width) {
  CdfTable table;
  if (num_rows == 0) return InvalidArgumentError("lookup has no rows");
  if (width < 3) {
    return InvalidArgumentError("lookup rows must have at least 3 values "
                                "(precision, 0, 2^precision), got width ",
                                width);
  }
  if (num_rows > std::numeric_limits<int32_t>::max()) {
    return InvalidArgumentError("lookup has too many rows: ", num_rows);
  }
  table.rows_.reserve(num_rows);
  for (size_t r = 0; r < num_rows; ++r) {
    const int32_t* row_data = data + r * width;
    size_t pos = 0;
    TC_RETURN_IF_ERROR(table.ParseRow(row_data, &pos, width));
    const int32_t last = int32_t{1} << table.rows_.back().precision;
    for (; pos < width; ++pos) {
      if (row_data[pos] != last) {
        return InvalidArgumentError(
            "lookup row ", r, ": after the CDF ends, padding must repeat "
            "2^precision = ", last, ", got ", row_data[pos], " at position ",
            pos);
      }
    }
  }
  return table;
}

StatusOr<CdfTable> CdfTable::FromArray(const int32_t* data, size_t rank,
                                       const int64_t* dims, const char* name) {
  if (rank == 1 && dims[0] >= 0) {
    return FromFlat(data, static_cast<size_t>(dims[0]));
  }
  if (rank == 2 && dims[0] >= 0 && dims[1] >= 0) {
    return FromMatrix(data, static_cast<size_t>(dims[0]),
                      static_cast<size_t>(dims[1]));
  }
  std::string shape = "[";
  for (size_t i = 0; i < rank; ++i) {
    shape += StrCat(i ? "," : "", dims[i]);
  }
  return InvalidArgumentError("`", name, "` must be rank 1 or 2, got shape ",
                              shape, "]");
}

Status CheckPrecision(int precision) {
  if (precision < 1 || precision > kMaxPrecision) {
    return InvalidArgumentError("`precision` must be in [1, ", kMaxPrecision,
                                "], got ", precision);
  }
  return OkStatus();
}

Status ValidateCdf(const int32_t* cdf, size_t size, int precision) {
  if (precision < 1 || precision > kMaxPrecision) {
    return InvalidArgumentError("precision ", precision, " not in 1..16");
  }
  if (size < 2) {
    return InvalidArgumentError("CDF needs at least 2 values, got ", size);
  }
  if (cdf[0] != 0) {
    return InvalidArgumentError("CDF must start with 0, got ", cdf[0]);
  }
  for (size_t i = 1; i < size; ++i) {
    if (cdf[i] <= cdf[i - 1]) {
      return InvalidArgumentError("CDF must be strictly increasing, got ",
                                  cdf[i - 1], " then ", cdf[i],
                                  " at position ", i);
    }
  }
  const int32_t last = int32_t{1} << precision;
  if (cdf[size - 1] != last) {
    return InvalidArgumentError("CDF must end with 2^precision = ", last,
                                ", got ", cdf[size - 1]);
  }
  return OkStatus();
}

}  // namespace tensorcoder
