#include "cc/cdf_table.h"

#include <vector>

#include "cc/test_util.h"
#include "gtest/gtest.h"

namespace tensorcoder {
namespace {

Status ParseFlat(const std::vector<int32_t>& v) {
  return CdfTable::FromFlat(v.data(), v.size()).status();
}

TEST(CdfTableTest, ParsesFlatRowsWithPadding) {
  const std::vector<int32_t> lookup = {2,  0, 1, 3, 4, 4, 4,   // padded
                                       -8, 0, 100, 256,        // overflow
                                       16, 0, 65536};
  StatusOr<CdfTable> table = CdfTable::FromFlat(lookup.data(), lookup.size());
  ASSERT_TRUE(table.ok()) << table.status().ToString();
  ASSERT_EQ(table->num_rows(), 3u);
  EXPECT_EQ(table->row(0).num_symbols, 3u);
  EXPECT_EQ(table->row(0).precision, 2);
  EXPECT_FALSE(table->row(0).overflow);
  EXPECT_EQ(table->row(1).num_symbols, 2u);
  EXPECT_EQ(table->row(1).precision, 8);
  EXPECT_TRUE(table->row(1).overflow);
  EXPECT_EQ(table->row(2).num_symbols, 1u);
  const uint32_t* cdf = table->cdf(table->row(1));
  EXPECT_EQ(cdf[0], 0u);
  EXPECT_EQ(cdf[1], 100u);
  EXPECT_EQ(cdf[2], 256u);
}

TEST(CdfTableTest, ParsesMatrixRows) {
  const std::vector<int32_t> lookup = {2, 0, 1, 3, 4,  //
                                       -1, 0, 2, 2, 2};
  StatusOr<CdfTable> table = CdfTable::FromMatrix(lookup.data(), 2, 5);
  ASSERT_TRUE(table.ok()) << table.status().ToString();
  EXPECT_EQ(table->row(1).num_symbols, 1u);
  EXPECT_TRUE(table->row(1).overflow);
}

TEST(CdfTableTest, RejectsInvalidRows) {
  TC_EXPECT_ERROR(ParseFlat({}), kInvalidArgument, "empty");
  TC_EXPECT_ERROR(ParseFlat({0, 0, 1}), kInvalidArgument, "precision 0");
  TC_EXPECT_ERROR(ParseFlat({17, 0, 131072}), kInvalidArgument,
                  "precision 17 not in 1..16");
  TC_EXPECT_ERROR(ParseFlat({-17, 0, 1}), kInvalidArgument, "precision -17");
  TC_EXPECT_ERROR(ParseFlat({INT32_MIN, 0, 1}), kInvalidArgument,
                  "not in 1..16");
  TC_EXPECT_ERROR(ParseFlat({2}), kInvalidArgument, "empty CDF");
  TC_EXPECT_ERROR(ParseFlat({2, 1, 4}), kInvalidArgument,
                  "must start with 0, got 1");
  TC_EXPECT_ERROR(ParseFlat({2, 0, 3, 3, 4}), kInvalidArgument,
                  "strictly increasing, got 3 then 3");
  TC_EXPECT_ERROR(ParseFlat({2, 0, 3, 1, 4}), kInvalidArgument,
                  "strictly increasing");
  TC_EXPECT_ERROR(ParseFlat({2, 0, 5}), kInvalidArgument,
                  "exceeds 2^precision = 4");
  TC_EXPECT_ERROR(ParseFlat({2, 0, 1, 3}), kInvalidArgument,
                  "must end with 2^precision = 4");
  TC_EXPECT_ERROR(ParseFlat({2, 0, 1, 4, 3, 1, 8}), kInvalidArgument,
                  "row 1: CDF must start with 0");
  const std::vector<int32_t> bad_padding = {2, 0, 4, 3};
  TC_EXPECT_ERROR(CdfTable::FromMatrix(bad_padding.data(), 1, 4).status(),
                  kInvalidArgument, "padding must repeat");
  TC_EXPECT_ERROR(CdfTable::FromMatrix(bad_padding.data(), 0, 4).status(),
                  kInvalidArgument, "no rows");
  TC_EXPECT_ERROR(CdfTable::FromMatrix(bad_padding.data(), 2, 2).status(),
                  kInvalidArgument, "at least 3 values");
  // A row cut short by the matrix width.
  const std::vector<int32_t> short_row = {3, 0, 2, 5};
  TC_EXPECT_ERROR(CdfTable::FromMatrix(short_row.data(), 1, 4).status(),
                  kInvalidArgument, "must end with 2^precision = 8");
}

TEST(CdfTableTest, ValidateCdf) {
  const std::vector<int32_t> good = {0, 1, 3, 4};
  TC_ASSERT_OK(ValidateCdf(good.data(), good.size(), 2));
  TC_EXPECT_ERROR(ValidateCdf(good.data(), good.size(), 3), kInvalidArgument,
                  "end with 2^precision = 8");
  TC_EXPECT_ERROR(ValidateCdf(good.data(), 1, 2), kInvalidArgument,
                  "at least 2");
  TC_EXPECT_ERROR(ValidateCdf(good.data(), good.size(), 0), kInvalidArgument,
                  "precision 0");
  const std::vector<int32_t> flat = {0, 2, 2, 4};
  TC_EXPECT_ERROR(ValidateCdf(flat.data(), flat.size(), 2), kInvalidArgument,
                  "strictly increasing");
}

}  // namespace
}  // namespace tensorcoder
