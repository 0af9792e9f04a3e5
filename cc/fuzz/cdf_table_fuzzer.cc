// Fuzzes lookup parsing (cc/cdf_table.h) and the decoder's tables built on
// it (DecodeTable in cc/range_decoder.h).
//
// Input: a layout byte (bit 0: matrix, else flat), a width byte (matrix
// width 3 + byte; also the precision ValidateCdf gets, byte mod 18),
// then int32 values until the input ends, each read from a token byte:
// 0x00-0x7F the byte itself, 0x80-0xBF 14 bits (with the next byte),
// 0xC0-0xD0 2^(byte - 0xC0), 0xD1-0xEF -(byte - 0xD0), 0xF0-0xFF a raw int32
// from 4 more bytes. So valid rows (±precision, 0, ..., 2^precision) are
// a few bytes long and arbitrary values stay reachable.
//
// Properties:
//  * parsing gives OK or INVALID_ARGUMENT with a message, never a crash;
//  * an accepted table has at least one row, and every row has a precision
//    in 1..16, at least one symbol, and a CDF from 0 strictly increasing to
//    2^precision (ValidateCdf accepts it);
//  * written back in the matrix layout, and in the flat layout unless the
//    documented ambiguity applies (a row whose precision equals the
//    previous row's 2^precision), the table parses to the same rows;
//  * the table codes: every symbol of every row (and, for rows with
//    overflow, values outside the row) encodes and decodes back;
//  * ValidateCdf(values, precision) agrees with a direct check.
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "cc/cdf_table.h"
#include "cc/fuzz/fuzz_util.h"
#include "cc/range_decoder.h"
#include "cc/range_encoder.h"
#include "cc/status.h"

namespace tensorcoder {
namespace fuzz {
namespace {

int32_t Token(FuzzInput* in) {
  const uint8_t t = in->Byte();
  if (t < 0x80) return t;
  if (t < 0xC0) return ((t & 0x3F) << 8) | in->Byte();
  if (t <= 0xD0) return int32_t{1} << (t - 0xC0);
  if (t < 0xF0) return -(t - 0xD0);
  return static_cast<int32_t>(in->U32());
}

bool ReferenceValidCdf(const std::vector<int32_t>& cdf, int precision) {
  if (precision < 1 || precision > 16 || cdf.size() < 2 || cdf[0] != 0) {
    return false;
  }
  for (size_t i = 1; i < cdf.size(); ++i) {
    if (cdf[i] <= cdf[i - 1]) return false;
  }
  return cdf.back() == (int32_t{1} << precision);
}

std::vector<int32_t> RowValues(const CdfTable& table, size_t r) {
  const CdfTable::Row& row = table.row(r);
  const uint32_t* cdf = table.cdf(row);
  std::vector<int32_t> values = {row.overflow ? -row.precision
                                              : row.precision};
  values.insert(values.end(), cdf, cdf + row.num_symbols + 1);
  return values;
}

void CheckSameRows(const CdfTable& a, const CdfTable& b, const char* layout) {
  FUZZ_CHECK(a.num_rows() == b.num_rows(), layout, ": ", a.num_rows(),
             " rows became ", b.num_rows());
  for (size_t r = 0; r < a.num_rows(); ++r) {
    FUZZ_CHECK(RowValues(a, r) == RowValues(b, r), layout, ": row ", r,
               " differs: ", Printable(RowValues(a, r)), " vs ",
               Printable(RowValues(b, r)));
  }
}

void CheckTable(const CdfTable& table) {
  FUZZ_CHECK(table.num_rows() >= 1, "accepted table without rows");
  size_t width = 0;
  for (size_t r = 0; r < table.num_rows(); ++r) {
    const CdfTable::Row& row = table.row(r);
    FUZZ_CHECK(row.precision >= 1 && row.precision <= 16, "row ", r,
               " precision ", row.precision);
    FUZZ_CHECK(row.num_symbols >= 1, "row ", r, " has no symbols");
    const std::vector<int32_t> values = RowValues(table, r);
    const std::vector<int32_t> cdf(values.begin() + 1, values.end());
    FUZZ_CHECK(ReferenceValidCdf(cdf, row.precision), "row ", r,
               " is not a valid CDF: ", Printable(cdf));
    FUZZ_CHECK(ValidateCdf(cdf.data(), cdf.size(), row.precision).ok(),
               "ValidateCdf refuses row ", r);
    width = std::max(width, values.size());
  }

  // Matrix layout, padded with 2^precision.
  std::vector<int32_t> matrix;
  for (size_t r = 0; r < table.num_rows(); ++r) {
    std::vector<int32_t> values = RowValues(table, r);
    values.resize(width, int32_t{1} << table.row(r).precision);
    matrix.insert(matrix.end(), values.begin(), values.end());
  }
  const StatusOr<CdfTable> from_matrix =
      CdfTable::FromMatrix(matrix.data(), table.num_rows(), width);
  FUZZ_CHECK(from_matrix.ok(), "matrix layout refused: ",
             from_matrix.status().ToString());
  CheckSameRows(table, *from_matrix, "matrix");

  // Flat layout, unless a row's precision reads as the previous padding.
  std::vector<int32_t> flat;
  bool ambiguous = false;
  for (size_t r = 0; r < table.num_rows(); ++r) {
    const std::vector<int32_t> values = RowValues(table, r);
    if (r > 0 && values[0] == (int32_t{1} << table.row(r - 1).precision)) {
      ambiguous = true;
    }
    flat.insert(flat.end(), values.begin(), values.end());
  }
  if (!ambiguous) {
    const StatusOr<CdfTable> from_flat =
        CdfTable::FromFlat(flat.data(), flat.size());
    FUZZ_CHECK(from_flat.ok(), "flat layout refused: ",
               from_flat.status().ToString());
    CheckSameRows(table, *from_flat, "flat");
  }

  // Every symbol of every row, and escapes where overflow is on.
  std::vector<int32_t> indexes, values;
  for (size_t r = 0; r < table.num_rows(); ++r) {
    const CdfTable::Row& row = table.row(r);
    for (uint32_t s = 0; s < row.num_symbols; ++s) {
      indexes.push_back(static_cast<int32_t>(r));
      values.push_back(static_cast<int32_t>(s));
    }
    if (row.overflow) {
      for (int32_t v : {-1, static_cast<int32_t>(row.num_symbols),
                        std::numeric_limits<int32_t>::min(),
                        std::numeric_limits<int32_t>::max()}) {
        indexes.push_back(static_cast<int32_t>(r));
        values.push_back(v);
      }
    }
  }
  const StatusOr<std::string> encoded =
      EncodeIndexed(table, indexes.data(), values.data(), values.size());
  FUZZ_CHECK(encoded.ok(), "symbols do not encode: ",
             encoded.status().ToString());
  const DecodeTable decode_table(table);
  std::vector<int32_t> decoded(values.size());
  const Status status =
      DecodeIndexed(decode_table, encoded->data(), encoded->size(),
                    indexes.data(), decoded.data(), decoded.size());
  FUZZ_CHECK(status.ok(), "symbols do not decode: ", status.ToString());
  FUZZ_CHECK(decoded == values, "round trip differs");
}

void Fuzz(FuzzInput* in) {
  const bool matrix = in->Byte() & 1;
  const uint8_t width_byte = in->Byte();
  std::vector<int32_t> values;
  while (in->rest_size() > 0) values.push_back(Token(in));

  const int precision = width_byte % 18;
  FUZZ_CHECK(ValidateCdf(values.data(), values.size(), precision).ok() ==
                 ReferenceValidCdf(values, precision),
             "ValidateCdf disagrees on ", Printable(values), " precision ",
             precision);

  const size_t width = 3 + size_t{width_byte};
  const StatusOr<CdfTable> table =
      matrix ? CdfTable::FromMatrix(values.data(), values.size() / width, width)
             : CdfTable::FromFlat(values.data(), values.size());
  if (!table.ok()) {
    FUZZ_CHECK(table.status().code() == StatusCode::kInvalidArgument &&
                   !table.status().message().empty(),
               table.status().ToString());
    return;
  }
  CheckTable(*table);
}

}  // namespace
}  // namespace fuzz
}  // namespace tensorcoder

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  tensorcoder::fuzz::FuzzInput in(data, size);
  tensorcoder::fuzz::Fuzz(&in);
  return 0;
}
