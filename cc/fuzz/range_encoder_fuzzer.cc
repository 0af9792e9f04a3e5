// Fuzzes the range encoder (cc/range_encoder.h) with arbitrary values and
// indexes against arbitrary valid tables.
//
// Input: a mode byte (bit 0: indexed, else channel; bit 1: encode in two
// calls split at a u16 position, indexed mode only), a table (fuzz_util.h
// ReadTable: up to 8 rows, with or without overflow), an index pattern as in
// range_decoder_fuzzer.cc (indexed mode), then values until the input ends,
// each chosen by a byte: 0-199 a symbol of its row (byte mod symbols),
// 200-239 a raw int32 (4 more bytes), 240-255 one of INT32_MIN, INT32_MAX,
// -1, n - 1, n, n + 1 (n = the row's symbol count).
//
// Properties:
//  * INVALID_ARGUMENT exactly when the first uncodable value (an index
//    outside the table, or a value outside [0, n) of a row without
//    overflow) exists, naming its position; OK otherwise (every int32 is
//    codable with overflow);
//  * on success the string decodes (same table and mode) to the values and
//    Finish() accepts it; it has at most 2 bytes per coded symbol plus 2;
//  * encoding in two calls gives the same bytes as one (indexed mode).
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

// Symbols TableEncoder codes for one value (see range_encoder.h).
size_t SymbolsFor(const CdfTable::Row& row, int32_t value) {
  if (static_cast<uint32_t>(value) < row.num_symbols - row.overflow) return 1;
  const uint32_t escape = row.num_symbols - 1;
  const uint32_t gamma = value < 0 ? 0u - static_cast<uint32_t>(value)
                                   : static_cast<uint32_t>(value) - escape + 1;
  const size_t bits = 32 - static_cast<size_t>(__builtin_clz(gamma));
  return 1 + (bits - 1) + bits + 1;
}

void Fuzz(FuzzInput* in) {
  const uint8_t mode = in->Byte();
  const bool indexed = mode & 1;
  const bool split = indexed && (mode & 2);
  const FuzzTable table = ReadTable(in, 8, 2048);
  std::vector<int32_t> pattern;
  if (indexed) {
    pattern.resize(1 + in->Byte() % 16);
    for (int32_t& index : pattern) {
      const uint8_t b = in->Byte();
      index = b < 250   ? static_cast<int32_t>(b % table.rows)
              : b < 255 ? static_cast<int32_t>(table.rows + (b - 250))
                        : -1;
    }
  }
  const size_t split_at = split ? in->U16() : 0;
  std::vector<int32_t> indexes, values;
  // The first uncodable position (or SIZE_MAX) and the symbols to code.
  size_t first_bad = std::numeric_limits<size_t>::max();
  size_t symbols = 0;
  while (in->rest_size() > 0 && values.size() < 4096) {
    const size_t i = values.size();
    const int32_t index = indexed ? pattern[i % pattern.size()]
                                  : static_cast<int32_t>(i % table.rows);
    const bool valid_index =
        index >= 0 && static_cast<size_t>(index) < table.rows;
    // An invalid index still gets a value; its row is then row 0's.
    const CdfTable::Row& row = table.table.row(valid_index ? index : 0);
    const int32_t n = static_cast<int32_t>(row.num_symbols);
    const uint8_t choice = in->Byte();
    int32_t value;
    if (choice < 200) {
      value = choice % n;
    } else if (choice < 240) {
      value = static_cast<int32_t>(in->U32());
    } else {
      const int32_t special[] = {std::numeric_limits<int32_t>::min(),
                                 std::numeric_limits<int32_t>::max(),
                                 -1, n - 1, n, n + 1};
      value = special[(choice - 240) % 6];
    }
    indexes.push_back(index);
    values.push_back(value);
    const bool codable =
        valid_index &&
        (row.overflow || (value >= 0 && value < n));
    if (!codable && first_bad == std::numeric_limits<size_t>::max()) {
      first_bad = i;
    }
    if (codable) symbols += SymbolsFor(row, value);
  }
  const size_t count = values.size();

  TableEncoder encoder(table.table);
  Status status;
  if (indexed) {
    const size_t first = split ? std::min<size_t>(split_at, count) : count;
    status = encoder.EncodeIndexed(indexes.data(), values.data(), first);
    if (status.ok() && first < count) {
      status = encoder.EncodeIndexed(indexes.data() + first,
                                     values.data() + first, count - first);
      if (!status.ok()) {
        // Positions in the second call count from its start.
        FUZZ_CHECK(first_bad >= first, "second call failed first");
        first_bad -= first;
      }
    }
  } else {
    status = encoder.EncodeChannel(values.data(), count);
  }
  if (first_bad != std::numeric_limits<size_t>::max()) {
    FUZZ_CHECK(status.code() == StatusCode::kInvalidArgument,
               "uncodable value at ", first_bad, " but got ",
               status.ToString());
    FUZZ_CHECK(status.message().find(StrCat(" at position ", first_bad, " ")) !=
                   std::string::npos,
               "error names the wrong position (expected ", first_bad,
               "): ", status.message());
    return;
  }
  FUZZ_CHECK(status.ok(), "codable values refused: ", status.ToString());
  const std::string encoded = encoder.Finish();
  FUZZ_CHECK(encoded.size() <= 2 * symbols + 2, encoded.size(),
             " bytes for ", symbols, " symbols");

  if (split) {
    const StatusOr<std::string> whole =
        EncodeIndexed(table.table, indexes.data(), values.data(), count);
    FUZZ_CHECK(whole.ok() && *whole == encoded,
               "two calls and one call give different strings");
  }

  // Decode from an exact-size copy: reads past the end are caught.
  const std::vector<char> copy(encoded.begin(), encoded.end());
  const DecodeTable decode_table(table.table);
  std::vector<int32_t> decoded(count, 0);
  const Status decode_status =
      indexed ? DecodeIndexed(decode_table, copy.data(), copy.size(),
                              indexes.data(), decoded.data(), count)
              : DecodeChannel(decode_table, copy.data(), copy.size(),
                              decoded.data(), count);
  FUZZ_CHECK(decode_status.ok(), "encoded string does not decode: ",
             decode_status.ToString());
  FUZZ_CHECK(decoded == values, "round trip differs\n  values:  ",
             Printable(values), "\n  decoded: ", Printable(decoded));
}

}  // namespace
}  // namespace fuzz
}  // namespace tensorcoder

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  tensorcoder::fuzz::FuzzInput in(data, size);
  tensorcoder::fuzz::Fuzz(&in);
  return 0;
}
