#include "cc/chunked_coder.h"

#include <random>
#include <string>
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

TEST(ChunkLayoutTest, SmallUnitsAreOneChunkAndLargeOnesAreAligned) {
  EXPECT_EQ(ChunkLayoutFor(0, 1).num_chunks, 1u);
  EXPECT_EQ(ChunkLayoutFor(2 * kChunkValues - 1, 1).num_chunks, 1u);
  const ChunkLayout two = ChunkLayoutFor(2 * kChunkValues, 1);
  EXPECT_EQ(two.num_chunks, 2u);
  EXPECT_EQ(two.chunk_size, kChunkValues);
  const ChunkLayout aligned = ChunkLayoutFor(786432, 192);
  EXPECT_EQ(aligned.chunk_size % 192, 0u);
  EXPECT_GE(aligned.num_chunks * aligned.chunk_size, 786432u);
  EXPECT_LT((aligned.num_chunks - 1) * aligned.chunk_size, 786432u);
  EXPECT_EQ(ChunkLayoutFor(size_t{1} << 30, 1).num_chunks, kMaxChunks);
}

TEST(ChunkedCoderTest, OneChunkIsThePlainString) {
  const CdfTable table = TwoRows();
  std::vector<int32_t> values = {0, 1, 2, -1, 3, 4, 100, -7};
  std::vector<int32_t> indexes(values.size(), 0);
  StatusOr<std::string> chunked =
      EncodeChunked(table, indexes.data(), values.data(), values.size(), 2);
  ASSERT_TRUE(chunked.ok());
  EXPECT_EQ(testing::Hex(*chunked), "4d 35 8e 8e 49 7d e4 cf");  // TFC's bytes.
}

TEST(ChunkedCoderTest, RoundTripsInBothModesForAnyThreadCount) {
  const CdfTable table = TwoRows();
  const DecodeTable decode_table(table);
  std::mt19937 rng(7);
  for (size_t count : {size_t{0}, size_t{5}, 2 * kChunkValues + 3,
                       5 * kChunkValues + 17}) {
    std::vector<int32_t> indexes(count), values(count);
    for (size_t i = 0; i < count; ++i) {
      indexes[i] = rng() % 2;
      values[i] = static_cast<int32_t>(rng() % 9) - 3;  // Escapes too.
    }
    const std::vector<const int32_t*> modes = {indexes.data(), nullptr};
    for (const int32_t* rows : modes) {
      std::vector<int32_t> expected_rows(count);
      for (size_t i = 0; i < count; ++i) {
        expected_rows[i] = rows ? rows[i] : static_cast<int32_t>(i % 2);
      }
      std::string first;
      for (int threads : {1, 3}) {
        StatusOr<std::string> data =
            EncodeChunked(table, rows, values.data(), count, threads);
        ASSERT_TRUE(data.ok()) << data.status().ToString();
        if (threads == 1) first = *data;
        EXPECT_EQ(*data, first);  // Independent of the thread count.
        std::vector<int32_t> decoded(count, 99);
        TC_ASSERT_OK(DecodeChunked(decode_table, data->data(), data->size(),
                                   rows, decoded.data(), count, threads));
        EXPECT_EQ(decoded, values);
      }
      // The same values coded as one plain string, with the same rows,
      // decode the same: chunking changes only the container.
      StatusOr<std::string> plain = EncodeIndexed(
          table, expected_rows.data(), values.data(), count);
      ASSERT_TRUE(plain.ok());
      if (ChunkLayoutFor(count, rows ? 1 : 2).num_chunks == 1) {
        EXPECT_EQ(first, *plain);
      }
    }
  }
}

TEST(ChunkedCoderTest, RejectsCorruptHeadersAndChunks) {
  const CdfTable table = TwoRows();
  const DecodeTable decode_table(table);
  const size_t count = 3 * kChunkValues;
  std::vector<int32_t> values(count, 1);
  StatusOr<std::string> data =
      EncodeChunked(table, nullptr, values.data(), count, 2);
  ASSERT_TRUE(data.ok());
  std::vector<int32_t> decoded(count);
  // Truncated below the header, or a size past the end: DATA_LOSS.
  for (std::string bad : {data->substr(0, 3), std::string("\xff\xff\xff\x7f") +
                              data->substr(4)}) {
    const Status status = DecodeChunked(decode_table, bad.data(), bad.size(),
                                        nullptr, decoded.data(), count, 2);
    EXPECT_EQ(status.code(), StatusCode::kDataLoss) << status.ToString();
  }
  // A byte missing from the last chunk: rejected, or (range codes carry no
  // redundancy) other values, never the original ones.
  const std::string cut = data->substr(0, data->size() - 1);
  const Status status = DecodeChunked(decode_table, cut.data(), cut.size(),
                                      nullptr, decoded.data(), count, 2);
  EXPECT_TRUE(!status.ok() || decoded != values);
  // An invalid value names its chunk.
  std::vector<int32_t> rows(count, 0);
  rows[2 * kChunkValues + 5] = 7;
  StatusOr<std::string> bad_rows =
      EncodeChunked(table, rows.data(), values.data(), count, 2);
  EXPECT_EQ(bad_rows.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad_rows.status().message().find("chunk 2"), std::string::npos)
      << bad_rows.status().ToString();
}

}  // namespace
}  // namespace tensorcoder
