#include "cc/batch_coder.h"

#include <atomic>
#include <random>
#include <string_view>
#include <vector>

#include "cc/range_encoder.h"
#include "cc/test_util.h"
#include "gtest/gtest.h"

namespace tensorcoder {
namespace {

TEST(ParallelForTest, CoversEveryIndexOnce) {
  for (int threads : {0, 1, 2, 7}) {
    for (size_t n : {0, 1, 5, 100}) {
      std::vector<std::atomic<int>> hits(n);
      ParallelFor(n, threads, [&](size_t begin, size_t end) {
        for (size_t i = begin; i < end; ++i) ++hits[i];
      });
      for (auto& h : hits) EXPECT_EQ(h.load(), 1);
    }
  }
}

TEST(BatchCoderTest, MatchesSingleStringCodingInBothModes) {
  const std::vector<int32_t> lookup = {-8, 0, 100, 200, 250, 256,  //
                                       5,  0, 1,   31,  32,  32};
  StatusOr<CdfTable> table = CdfTable::FromMatrix(lookup.data(), 2, 6);
  ASSERT_TRUE(table.ok()) << table.status().ToString();
  const DecodeTable decode_table(*table);
  std::mt19937 rng(31);
  const size_t num_strings = 37, per_string = 101;
  std::vector<int32_t> indexes(num_strings * per_string),
      values(indexes.size());
  for (size_t i = 0; i < values.size(); ++i) {
    indexes[i] = rng() % 2;
    values[i] = indexes[i] == 0 ? static_cast<int32_t>(rng() % 9) - 3
                                : static_cast<int32_t>(rng() % 3);
  }
  for (int threads : {1, 3}) {
    std::vector<std::string> strings;
    TC_ASSERT_OK(EncodeBatch(*table, indexes.data(), values.data(), num_strings,
                             per_string, threads, &strings));
    ASSERT_EQ(strings.size(), num_strings);
    for (size_t k = 0; k < num_strings; ++k) {
      StatusOr<std::string> single =
          EncodeIndexed(*table, indexes.data() + k * per_string,
                        values.data() + k * per_string, per_string);
      ASSERT_TRUE(single.ok());
      EXPECT_EQ(strings[k], *single);
    }
    std::vector<std::string_view> views(strings.begin(), strings.end());
    std::vector<int32_t> decoded(values.size());
    TC_ASSERT_OK(DecodeBatch(decode_table, views.data(), num_strings,
                             indexes.data(), per_string, threads,
                             decoded.data()));
    EXPECT_EQ(decoded, values);
  }
  // Channel mode: value j of each string uses row j mod 2.
  for (size_t i = 0; i < values.size(); ++i) {
    values[i] = (i % per_string) % 2 == 0 ? static_cast<int32_t>(rng() % 9) - 3
                                          : static_cast<int32_t>(rng() % 3);
  }
  std::vector<std::string> strings;
  TC_ASSERT_OK(EncodeBatch(*table, nullptr, values.data(), num_strings,
                           per_string, 2, &strings));
  std::vector<std::string_view> views(strings.begin(), strings.end());
  std::vector<int32_t> decoded(values.size());
  TC_ASSERT_OK(DecodeBatch(decode_table, views.data(), num_strings, nullptr,
                           per_string, 2, decoded.data()));
  EXPECT_EQ(decoded, values);
}

TEST(BatchCoderTest, ReportsTheFirstFailingString) {
  const std::vector<int32_t> lookup = {2, 0, 1, 3, 4};
  StatusOr<CdfTable> table = CdfTable::FromFlat(lookup.data(), lookup.size());
  ASSERT_TRUE(table.ok());
  std::vector<int32_t> values = {0, 1, 2, 7, 0, 9};  // strings of 2 values
  std::vector<std::string> strings;
  TC_EXPECT_ERROR(EncodeBatch(*table, nullptr, values.data(), 3, 2, 2,
                              &strings),
                  kInvalidArgument, "string 1: value 7 at position 1");
  values = {0, 1, 2, 0, 0, 2};
  TC_ASSERT_OK(EncodeBatch(*table, nullptr, values.data(), 3, 2, 2, &strings));
  strings[2] += "junk";
  std::vector<std::string_view> views(strings.begin(), strings.end());
  const DecodeTable decode_table(*table);
  std::vector<int32_t> decoded(6);
  TC_EXPECT_ERROR(DecodeBatch(decode_table, views.data(), 3, nullptr, 2, 2,
                              decoded.data()),
                  kDataLoss, "string 2: ");
}

}  // namespace
}  // namespace tensorcoder
