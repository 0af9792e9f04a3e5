// Fuzzes the decoder of coding units, the entropy models' strings
// (cc/unit_decoder.h, docs/FORMAT.md section 7), which the EntropyModelDecode
// op, tensorcoder.coder.decode_units and version-2 tensor files run on
// untrusted strings.
//
// Input: a flags byte (bit 0 indexed, bit 1 unchecked, bit 2 two units
// instead of one, bits 3-7 the count class), a table (fuzz_util.h
// ReadTable: up to 8 rows), one offset per row (u32 each, as int32), the
// count of values per unit (class 0-30: u16 mod 2049; class 31: 2^17 +
// u16, which makes the unit chunked; 2^17 values decode in about 10 ms
// under the sanitizers, so only one class in 32), for indexed mode an index
// pattern (length-1 byte mod 16, then one byte per entry: < 250 a valid
// row, 250..254 rows + 0..4, 255 = -1), then the strings: with two units a
// u16 splits the rest into the first string's length and the second
// string; every string ends where the input does or where the next begins.
//
// Properties:
//  * any bytes give OK, DATA_LOSS, or INVALID_ARGUMENT exactly when an
//    index is invalid; no crash, no undefined behaviour, no read outside
//    the strings;
//  * unchecked decoding of the same strings never fails for any other
//    reason (invalid indexes aside), and agrees with checked decoding when
//    that succeeds;
//  * canonical strings: accepted (checked) strings are exactly what
//    EncodeUnits writes for the decoded values, with the same table,
//    offsets and mode, chunk sizes included.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "cc/fuzz/fuzz_util.h"
#include "cc/parallel.h"
#include "cc/range_decoder.h"
#include "cc/status.h"
#include "cc/test_util.h"
#include "cc/unit_decoder.h"
#include "cc/unit_encoder.h"

namespace tensorcoder {
namespace fuzz {
namespace {

void FuzzUnits(FuzzInput* in) {
  const uint8_t flags = in->Byte();
  const bool indexed = flags & 1, check = !(flags & 2);
  const size_t num_units = (flags & 4) ? 2 : 1;
  const FuzzTable table = ReadTable(in, 8, 2048);
  std::vector<int32_t> offsets(table.rows);
  for (int32_t& offset : offsets) offset = static_cast<int32_t>(in->U32());
  const size_t count = (flags >> 3) == 31
                           ? (size_t{1} << 17) + in->U16()
                           : in->U16() % 2049;
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
    indexes.resize(num_units * count);
    for (size_t i = 0; i < indexes.size(); ++i) {
      indexes[i] = pattern[i % pattern.size()];
      valid_indexes = valid_indexes && indexes[i] >= 0 &&
                      static_cast<size_t>(indexes[i]) < table.rows;
    }
  }
  std::vector<std::string_view> strings;
  if (num_units == 2) {
    const size_t first = in->U16();
    const char* rest = reinterpret_cast<const char*>(in->rest());
    const size_t size = in->rest_size();
    const size_t split = first < size ? first : size;
    strings = {std::string_view(rest, split),
               std::string_view(rest + split, size - split)};
  } else {
    strings = {std::string_view(reinterpret_cast<const char*>(in->rest()),
                                in->rest_size())};
  }
  // Copies, so that a read past a string is a read past its allocation.
  std::vector<std::string> owned(strings.begin(), strings.end());
  std::vector<std::string_view> views(owned.begin(), owned.end());

  const DecodeTable decode_table(table.table);
  const int32_t* rows = indexed ? indexes.data() : nullptr;
  std::vector<int32_t> values(num_units * count, -1);
  const Status status =
      DecodeUnits(decode_table, offsets.data(), views.data(), num_units, rows,
                  count, check, SerialRunner(), values.data());
  std::vector<double> unchecked(num_units * count);
  const Status loose =
      DecodeUnits(decode_table, offsets.data(), views.data(), num_units, rows,
                  count, /*check=*/false, SerialRunner(), unchecked.data());
  if (!valid_indexes) {
    FUZZ_CHECK(status.code() == StatusCode::kInvalidArgument &&
                   loose.code() == StatusCode::kInvalidArgument,
               "invalid indexes not refused: ", status.ToString());
    return;
  }
  // Unchecked decoding into doubles cannot overflow and checks nothing.
  FUZZ_CHECK(loose.ok(), "unchecked decoding failed: ", loose.ToString());
  if (!status.ok()) {
    FUZZ_CHECK(status.code() == StatusCode::kDataLoss,
               "unexpected error: ", status.ToString());
    return;
  }
  for (size_t i = 0; i < values.size(); ++i) {
    FUZZ_CHECK(static_cast<double>(values[i]) == unchecked[i],
               "checked and unchecked decoding differ at ", i);
  }
  if (!check) return;
  std::vector<std::string> reencoded;
  const Status encoded =
      EncodeUnits(table.table, offsets.data(), values.data(), num_units, rows,
                  count, SerialRunner(), &reencoded);
  FUZZ_CHECK(encoded.ok(), "decoded values do not encode: ",
             encoded.ToString());
  for (size_t u = 0; u < num_units; ++u) {
    FUZZ_CHECK(reencoded[u] == owned[u],
               "the decoder accepted a unit string that is not the "
               "encoder's\n  accepted:   ", testing::Hex(owned[u]),
               "\n  re-encoded: ", testing::Hex(reencoded[u]));
  }
}

}  // namespace
}  // namespace fuzz
}  // namespace tensorcoder

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  tensorcoder::fuzz::FuzzInput in(data, size);
  tensorcoder::fuzz::FuzzUnits(&in);
  return 0;
}
