// Fuzzes the range decoder (cc/range_decoder.h) in all its modes.
//
// Input: a mode byte (0 indexed, 1 channel, 2 decode-with-search; others
// wrap), a table (fuzz_util.h ReadTable: up to 8 rows, with or without
// overflow), the number of values (u16 mod 2049), for indexed mode an index
// pattern (length-1 byte mod 16, then one byte per entry: < 250 a valid row,
// 250..254 rows + 0..4, 255 = -1, both invalid), and then the string: every
// remaining byte, which ends where the input ends (so a read past the string
// is a read past libFuzzer's buffer, which AddressSanitizer reports).
//
// Properties:
//  * any bytes decode to OK, DATA_LOSS, or (indexed mode, an invalid index
//    among the pattern) INVALID_ARGUMENT; no crash, no undefined behaviour;
//  * canonical strings: a string the decoder accepts is exactly the string
//    the encoder writes for the decoded values with the same table and
//    mode, byte for byte (RangeDecoder::Finish's contract, which includes
//    the delayed-carry bytes of section 2 of docs/FORMAT.md).
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "cc/cdf_table.h"
#include "cc/fuzz/fuzz_util.h"
#include "cc/range_decoder.h"
#include "cc/range_encoder.h"
#include "cc/status.h"
#include "cc/test_util.h"

namespace tensorcoder {
namespace fuzz {
namespace {

std::string Hex(const char* data, size_t size) {
  return testing::Hex(std::string(data, size));
}

void CheckCanonical(const char* string, size_t size,
                    const std::string& reencoded,
                    const std::vector<int32_t>& values) {
  FUZZ_CHECK(reencoded == std::string(string, size),
             "the decoder accepted a string that is not the encoder's\n"
             "  accepted:   ", Hex(string, size), "\n  re-encoded: ",
             testing::Hex(reencoded), "\n  values: ", Printable(values));
}

void FuzzTableModes(FuzzInput* in, bool indexed) {
  const FuzzTable table = ReadTable(in, 8, 2048);
  const size_t count = in->U16() % 2049;
  std::vector<int32_t> indexes;
  bool valid_indexes = true;
  if (indexed) {
    std::vector<int32_t> pattern(1 + in->Byte() % 16);
    for (int32_t& index : pattern) {
      const uint8_t b = in->Byte();
      index = b < 250   ? static_cast<int32_t>(b % table.rows)
              : b < 255 ? static_cast<int32_t>(table.rows + (b - 250))
                        : -1;
    }
    indexes.resize(count);
    for (size_t i = 0; i < count; ++i) {
      indexes[i] = pattern[i % pattern.size()];
      valid_indexes = valid_indexes && indexes[i] >= 0 &&
                      static_cast<size_t>(indexes[i]) < table.rows;
    }
  }
  const char* string = reinterpret_cast<const char*>(in->rest());
  const size_t size = in->rest_size();

  const DecodeTable decode_table(table.table);
  std::vector<int32_t> values(count, -1);
  const Status status =
      indexed ? DecodeIndexed(decode_table, string, size, indexes.data(),
                              values.data(), count)
              : DecodeChannel(decode_table, string, size, values.data(),
                              count);
  if (!status.ok()) {
    FUZZ_CHECK(status.code() == StatusCode::kDataLoss ||
                   (status.code() == StatusCode::kInvalidArgument &&
                    !valid_indexes),
               "unexpected error: ", status.ToString());
    return;
  }
  FUZZ_CHECK(valid_indexes, "decoded with an invalid index");
  const StatusOr<std::string> reencoded =
      indexed ? EncodeIndexed(table.table, indexes.data(), values.data(),
                              count)
              : EncodeChannel(table.table, values.data(), count);
  FUZZ_CHECK(reencoded.ok(), "decoded values do not encode: ",
             reencoded.status().ToString());
  CheckCanonical(string, size, *reencoded, values);
}

void FuzzSearch(FuzzInput* in) {
  // Plain CDFs (no precision prefix, no overflow), row i mod rows.
  const FuzzTable table = ReadTable(in, 8, 2048);
  const size_t count = in->U16() % 2049;
  const char* string = reinterpret_cast<const char*>(in->rest());
  const size_t size = in->rest_size();
  std::vector<std::vector<int32_t>> cdfs(table.rows);
  std::vector<int> precisions(table.rows);
  for (size_t r = 0; r < table.rows; ++r) {
    const CdfTable::Row& row = table.table.row(r);
    const uint32_t* cdf = table.table.cdf(row);
    cdfs[r].assign(cdf, cdf + row.num_symbols + 1);
    precisions[r] = row.precision;
    FUZZ_CHECK(ValidateCdf(cdfs[r].data(), cdfs[r].size(), row.precision).ok(),
               "a row of a valid table fails ValidateCdf");
  }
  RangeDecoder decoder(string, size);
  std::vector<int32_t> symbols;
  for (size_t i = 0; i < count; ++i) {
    const std::vector<int32_t>& cdf = cdfs[i % table.rows];
    const int32_t s =
        decoder.DecodeWithSearch(cdf.data(), cdf.size(), precisions[i % table.rows]);
    if (s < 0) return;  // Corrupt.
    FUZZ_CHECK(static_cast<size_t>(s) + 1 < cdf.size(), "symbol ", s,
               " out of range");
    symbols.push_back(s);
  }
  const Status status = decoder.Finish();
  if (!status.ok()) {
    FUZZ_CHECK(status.code() == StatusCode::kDataLoss, status.ToString());
    return;
  }
  std::string reencoded;
  RangeEncoder encoder(&reencoded);
  encoder.Reserve(count);
  for (size_t i = 0; i < count; ++i) {
    const std::vector<int32_t>& cdf = cdfs[i % table.rows];
    encoder.Encode(static_cast<uint32_t>(cdf[symbols[i]]),
                   static_cast<uint32_t>(cdf[symbols[i] + 1]),
                   precisions[i % table.rows]);
  }
  encoder.Finalize();
  CheckCanonical(string, size, reencoded, symbols);
}

}  // namespace
}  // namespace fuzz
}  // namespace tensorcoder

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  tensorcoder::fuzz::FuzzInput in(data, size);
  switch (in.Byte() % 3) {
    case 0:
      tensorcoder::fuzz::FuzzTableModes(&in, /*indexed=*/true);
      break;
    case 1:
      tensorcoder::fuzz::FuzzTableModes(&in, /*indexed=*/false);
      break;
    default:
      tensorcoder::fuzz::FuzzSearch(&in);
      break;
  }
  return 0;
}
