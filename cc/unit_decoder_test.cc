#include "cc/unit_decoder.h"

#include <string>
#include <string_view>
#include <vector>

#include "cc/range_encoder.h"
#include "cc/test_util.h"
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

std::string Le32(uint32_t v) {
  std::string s;
  for (int b = 0; b < 4; ++b) s += static_cast<char>(v >> (8 * b));
  return s;
}

TEST(ChunkLayoutTest, SmallUnitsAreOneChunkAndLargeOnesAreAligned) {
  EXPECT_EQ(ChunkLayoutFor(0, 1).num_chunks, 1u);
  EXPECT_EQ(ChunkLayoutFor(2 * kChunkValues - 1, 1).num_chunks, 1u);
  const ChunkLayout two = ChunkLayoutFor(2 * kChunkValues, 1);
  EXPECT_EQ(two.num_chunks, 2u);
  EXPECT_EQ(two.chunk_size, kChunkValues);
  // FORMAT.md's example: a 1x64x64x192 latent in channel mode.
  const ChunkLayout aligned = UnitLayout(786432, false, 192);
  EXPECT_EQ(aligned.num_chunks, 12u);
  EXPECT_EQ(aligned.chunk_size, 65664u);  // 342 * 192: 2^16 rounded up.
  const ChunkLayout odd = ChunkLayoutFor(786432 + 1, 192);
  EXPECT_EQ(odd.chunk_size % 192, 0u);
  EXPECT_GE(odd.num_chunks * odd.chunk_size, 786433u);
  EXPECT_LT((odd.num_chunks - 1) * odd.chunk_size, 786433u);
  EXPECT_EQ(ChunkLayoutFor(size_t{1} << 30, 1).num_chunks, kMaxChunks);
}

// A hand-assembled two-chunk string (sizes, then the plain strings of the
// chunks) decodes, with offsets added per row.
TEST(UnitDecoderTest, DecodesHandAssembledChunkedStrings) {
  const CdfTable table = TwoRows();
  const DecodeTable decode_table(table);
  const size_t count = 2 * kChunkValues;
  std::vector<int32_t> symbols(count);
  for (size_t i = 0; i < count; ++i) symbols[i] = static_cast<int32_t>(i % 4);
  const ChunkLayout layout = UnitLayout(count, false, 2);
  ASSERT_EQ(layout.num_chunks, 2u);
  StatusOr<std::string> a =
      EncodeChannel(table, symbols.data(), layout.chunk_size);
  StatusOr<std::string> b = EncodeChannel(
      table, symbols.data() + layout.chunk_size, count - layout.chunk_size);
  ASSERT_TRUE(a.ok() && b.ok());
  const std::string joined = Le32(static_cast<uint32_t>(a->size())) + *a + *b;
  const std::string_view view = joined;
  const std::vector<int32_t> offsets = {10, -20};
  std::vector<int32_t> values(count);
  TC_ASSERT_OK(DecodeUnits(decode_table, offsets.data(), &view, 1, nullptr,
                           count, true, ThreadRunner(2), values.data()));
  for (size_t i = 0; i < count; ++i) {
    ASSERT_EQ(values[i], symbols[i] + offsets[i % 2]) << i;
  }
}

TEST(UnitDecoderTest, RefusesCorruptStringsUnlessUnchecked) {
  const CdfTable table = TwoRows();
  const DecodeTable decode_table(table);
  const size_t count = 3 * kChunkValues;
  std::vector<int32_t> decoded(count);
  // Truncated below the header, or a size past the end.
  for (const std::string& bad :
       {std::string("\x01\x00\x00", 3), Le32(0x7fffffff) + Le32(0) + "xyz"}) {
    const std::string_view view = bad;
    TC_EXPECT_ERROR(DecodeUnits(decode_table, nullptr, &view, 1, nullptr,
                                count, true, SerialRunner(), decoded.data()),
                    kDataLoss, "string 0");
    // Unchecked: whatever decodes, no error and no out-of-bounds access.
    TC_ASSERT_OK(DecodeUnits(decode_table, nullptr, &view, 1, nullptr, count,
                             false, SerialRunner(), decoded.data()));
  }
  // A chunk that does not end where it should names its unit and chunk.
  const std::string garbage = Le32(3) + Le32(3) + "abcdefghi";
  const std::string_view views[2] = {garbage, garbage};
  std::vector<int32_t> two(2 * count);
  TC_EXPECT_ERROR(DecodeUnits(decode_table, nullptr, views, 2, nullptr, count,
                              true, ThreadRunner(2), two.data()),
                  kDataLoss, "string 0, chunk ");
}

TEST(UnitDecoderTest, ChecksIndexesAndInt32Results) {
  const CdfTable table = TwoRows();
  const DecodeTable decode_table(table);
  const std::vector<int32_t> symbols = {3, 1};
  StatusOr<std::string> plain =
      EncodeChannel(table, symbols.data(), symbols.size());
  ASSERT_TRUE(plain.ok());
  const std::string_view view = *plain;
  std::vector<int32_t> values(2);
  const std::vector<int32_t> bad_rows = {0, 2};
  TC_EXPECT_ERROR(DecodeUnits(decode_table, nullptr, &view, 1,
                              bad_rows.data(), 2, true, SerialRunner(),
                              values.data()),
                  kInvalidArgument,
                  "index 2 at position 1 is outside [0, 2)");
  // 3 + (2^31 - 2) does not fit int32 but fits a double.
  const std::vector<int32_t> offsets = {2147483646, 0};
  TC_EXPECT_ERROR(DecodeUnits(decode_table, offsets.data(), &view, 1, nullptr,
                              2, true, SerialRunner(), values.data()),
                  kDataLoss, "outside the int32 range");
  std::vector<double> wide(2);
  TC_ASSERT_OK(DecodeUnits(decode_table, offsets.data(), &view, 1, nullptr, 2,
                           true, SerialRunner(), wide.data()));
  EXPECT_EQ(wide[0], 2147483649.0);
  EXPECT_EQ(wide[1], 1.0);
}

TEST(CheckOffsetsTest, NeedsOneOffsetPerRow) {
  const CdfTable table = TwoRows();
  TC_ASSERT_OK(CheckOffsets(table, 2, "cdf_offset"));
  TC_EXPECT_ERROR(CheckOffsets(table, 3, "cdf_offset"),
                  kInvalidArgument,
                  "`cdf_offset` must have one entry per table row (2), got 3");
}

}  // namespace
}  // namespace tensorcoder
