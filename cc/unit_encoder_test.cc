#include "cc/unit_encoder.h"

#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "cc/range_encoder.h"
#include "cc/test_util.h"
#include "cc/unit_decoder.h"
#include "gtest/gtest.h"

namespace tensorcoder {
namespace {

CdfTable TwoRows() {
  const std::vector<int32_t> lookup = {-8, 0, 100, 200, 250, 256,  //
                                       -5, 0, 1,   31,  32,  32};
  StatusOr<CdfTable> table = CdfTable::FromMatrix(lookup.data(), 2, 6);
  EXPECT_TRUE(table.ok());
  return *std::move(table);
}

std::vector<std::string_view> Views(const std::vector<std::string>& strings) {
  return std::vector<std::string_view>(strings.begin(), strings.end());
}

TEST(UnitEncoderTest, SmallUnitsAreTfcsPlainStrings) {
  const CdfTable table = TwoRows();
  const std::vector<int32_t> values = {0, 1, 2, -1, 3, 4, 100, -7};
  const std::vector<int32_t> indexes(values.size(), 0);
  std::vector<std::string> strings;
  TC_ASSERT_OK(EncodeUnits(table, nullptr, values.data(), 1, indexes.data(),
                           values.size(), SerialRunner(), &strings));
  ASSERT_EQ(strings.size(), 1u);
  EXPECT_EQ(testing::Hex(strings[0]), "4d 35 8e 8e 49 7d e4 cf");  // TFC's.
  // The same with float values 0.4 below, and offsets that shift them.
  std::vector<double> shifted(values.size());
  for (size_t i = 0; i < values.size(); ++i) shifted[i] = values[i] + 5 - 0.4;
  const std::vector<int32_t> offsets = {5, 5};
  TC_ASSERT_OK(EncodeUnits(table, offsets.data(), shifted.data(), 1,
                           indexes.data(), values.size(), SerialRunner(),
                           &strings));
  EXPECT_EQ(testing::Hex(strings[0]), "4d 35 8e 8e 49 7d e4 cf");
}

TEST(UnitEncoderTest, RoundingIsToNearestWithTiesToEven) {
  const CdfTable table = TwoRows();
  const std::vector<float> values = {0.5f, 1.5f, 2.5f, -0.5f, -1.5f, 2.49f};
  const std::vector<int32_t> expected = {0, 2, 2, 0, -2, 2};
  const std::vector<int32_t> indexes(values.size(), 0);
  std::vector<std::string> strings;
  TC_ASSERT_OK(EncodeUnits(table, nullptr, values.data(), 1, indexes.data(),
                           values.size(), SerialRunner(), &strings));
  std::vector<int32_t> decoded(values.size());
  const std::vector<std::string_view> views = Views(strings);
  TC_ASSERT_OK(DecodeUnits(DecodeTable(table), nullptr, views.data(), 1,
                           indexes.data(), values.size(), true,
                           SerialRunner(), decoded.data()));
  EXPECT_EQ(decoded, expected);
}

// Round trips in both modes for sizes around the chunking threshold, with
// offsets, several units, every value type and any runner; the strings do
// not depend on the runner, and one-chunk units are plain range-coded
// strings.
TEST(UnitEncoderTest, RoundTripsInBothModesWithAnyRunner) {
  const CdfTable table = TwoRows();
  const DecodeTable decode_table(table);
  const std::vector<int32_t> offsets = {-3, 1000};
  std::mt19937 rng(7);
  for (size_t count : {size_t{0}, size_t{5}, 2 * kChunkValues - 1,
                       2 * kChunkValues + 3, 5 * kChunkValues + 17}) {
    const size_t num_units = count > kChunkValues ? 2 : 3;
    const size_t total = num_units * count;
    std::vector<int32_t> indexes(total), values(total);
    for (size_t i = 0; i < total; ++i) {
      indexes[i] = static_cast<int32_t>(rng() % 2);
      // Symbols -3..5: escapes too.
      values[i] = static_cast<int32_t>(rng() % 9) - 3 + offsets[indexes[i]];
    }
    for (const bool indexed : {true, false}) {
      const int32_t* rows = indexed ? indexes.data() : nullptr;
      std::vector<int32_t> expected = values;
      if (!indexed) {
        for (size_t i = 0; i < total; ++i) {
          const int32_t row = static_cast<int32_t>((i % (count ? count : 1)) % 2);
          expected[i] = values[i] - offsets[indexes[i]] + offsets[row];
        }
      }
      std::vector<std::string> first;
      for (const Runner& runner : {SerialRunner(), ThreadRunner(3)}) {
        std::vector<std::string> strings;
        TC_ASSERT_OK(EncodeUnits(table, offsets.data(), expected.data(),
                                 num_units, rows, count, runner, &strings));
        ASSERT_EQ(strings.size(), num_units);
        if (first.empty()) first = strings;
        EXPECT_EQ(strings, first);
        const std::vector<std::string_view> views = Views(strings);
        std::vector<int32_t> decoded(total, 99);
        TC_ASSERT_OK(DecodeUnits(decode_table, offsets.data(), views.data(),
                                 num_units, rows, count, true, runner,
                                 decoded.data()));
        EXPECT_EQ(decoded, expected);
        std::vector<double> as_double(total);
        TC_ASSERT_OK(DecodeUnits(decode_table, offsets.data(), views.data(),
                                 num_units, rows, count, true, runner,
                                 as_double.data()));
        for (size_t i = 0; i < total; ++i) {
          ASSERT_EQ(as_double[i], expected[i]);
        }
        // Float values that round to the integers give the same strings.
        std::vector<float> as_float(total);
        for (size_t i = 0; i < total; ++i) {
          as_float[i] = static_cast<float>(expected[i]) + 0.25f;
        }
        std::vector<std::string> from_float;
        TC_ASSERT_OK(EncodeUnits(table, offsets.data(), as_float.data(),
                                 num_units, rows, count, runner, &from_float));
        EXPECT_EQ(from_float, strings);
      }
      if (UnitLayout(count, indexed, 2).num_chunks == 1 && count > 0) {
        // One chunk: the plain range-coded string of the symbols.
        std::vector<int32_t> symbols(count), unit_rows(count);
        for (size_t i = 0; i < count; ++i) {
          unit_rows[i] = indexed ? indexes[i] : static_cast<int32_t>(i % 2);
          symbols[i] = expected[i] - offsets[unit_rows[i]];
        }
        StatusOr<std::string> plain =
            EncodeIndexed(table, unit_rows.data(), symbols.data(), count);
        ASSERT_TRUE(plain.ok());
        EXPECT_EQ(first[0], *plain);
      }
    }
  }
}

TEST(UnitEncoderTest, ChunkedStringsHaveTheDocumentedLayout) {
  const CdfTable table = TwoRows();
  const size_t count = 3 * kChunkValues;
  std::vector<int32_t> values(count, 1);
  std::vector<std::string> strings;
  TC_ASSERT_OK(EncodeUnits(table, nullptr, values.data(), 1, nullptr, count,
                           ThreadRunner(2), &strings));
  const ChunkLayout layout = UnitLayout(count, false, 2);
  ASSERT_EQ(layout.num_chunks, 3u);
  // Chunk k is the plain string of its values; sizes lead, little-endian.
  std::vector<std::string> chunks;
  for (size_t k = 0; k < layout.num_chunks; ++k) {
    const std::vector<int32_t> part(layout.chunk_size, 1);
    StatusOr<std::string> plain =
        EncodeChannel(table, part.data(), part.size());
    ASSERT_TRUE(plain.ok());
    chunks.push_back(*plain);
  }
  std::string expected;
  for (size_t k = 0; k + 1 < chunks.size(); ++k) {
    const uint32_t size = static_cast<uint32_t>(chunks[k].size());
    for (int b = 0; b < 4; ++b) expected += static_cast<char>(size >> (8 * b));
  }
  for (const std::string& chunk : chunks) expected += chunk;
  EXPECT_EQ(strings[0], expected);
  EXPECT_EQ(JoinChunks(chunks), expected);
}

TEST(UnitEncoderTest, RefusesBadValuesNamingTheirPosition) {
  const CdfTable table = TwoRows();
  std::vector<std::string> strings;
  const std::vector<double> values = {0.0, std::nan(""), 1.0, 2.0};
  TC_EXPECT_ERROR(EncodeUnits(table, nullptr, values.data(), 2, nullptr, 2,
                              SerialRunner(), &strings),
                  kInvalidArgument,
                  "at position 1 (string 0) is not finite");
  const std::vector<double> big = {0.0, 0.0, 1073741824.0, 0.0};
  TC_EXPECT_ERROR(EncodeUnits(table, nullptr, big.data(), 2, nullptr, 2,
                              SerialRunner(), &strings),
                  kInvalidArgument, "(string 1)");
  // round(v) - offset outside int32 (issue D8).
  const std::vector<int32_t> offsets = {std::numeric_limits<int32_t>::min(),
                                        0};
  const std::vector<double> edge = {1073741823.0, 0.0};
  TC_EXPECT_ERROR(EncodeUnits(table, offsets.data(), edge.data(), 1, nullptr,
                              2, SerialRunner(), &strings),
                  kInvalidArgument, "outside the int32 range");
  const std::vector<int32_t> low = {std::numeric_limits<int32_t>::max(), 0};
  const std::vector<int32_t> one = {-2, 0};
  TC_EXPECT_ERROR(EncodeUnits(table, low.data(), one.data(), 1, nullptr, 2,
                              SerialRunner(), &strings),
                  kInvalidArgument, "outside the int32 range");
  // A row outside the table, in a later chunk of a chunked unit.
  const size_t count = 3 * kChunkValues;
  std::vector<int32_t> rows(count, 0), ones(count, 1);
  rows[2 * kChunkValues + 5] = 7;
  TC_EXPECT_ERROR(EncodeUnits(table, nullptr, ones.data(), 1, rows.data(),
                              count, ThreadRunner(2), &strings),
                  kInvalidArgument, "index 7 at position");
}

}  // namespace
}  // namespace tensorcoder
