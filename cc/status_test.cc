#include "cc/status.h"

#include <string>

#include "gtest/gtest.h"

namespace tensorcoder {
namespace {

TEST(StatusTest, OkAndErrors) {
  EXPECT_TRUE(OkStatus().ok());
  EXPECT_EQ(OkStatus().ToString(), "OK");
  const Status error = InvalidArgumentError("value ", 3, " too big");
  EXPECT_FALSE(error.ok());
  EXPECT_EQ(error.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(error.message(), "value 3 too big");
  EXPECT_EQ(error.ToString(), "INVALID_ARGUMENT: value 3 too big");
  EXPECT_EQ(DataLossError("x").ToString(), "DATA_LOSS: x");
  EXPECT_EQ(static_cast<int>(StatusCode::kDataLoss), 15);
}

StatusOr<int> Half(int x) {
  if (x % 2) return InvalidArgumentError(x, " is odd");
  return x / 2;
}

Status UseHalf(int x, int* out) {
  StatusOr<int> half = Half(x);
  if (!half.ok()) return half.status();
  *out = *half;
  TC_RETURN_IF_ERROR(OkStatus());
  return OkStatus();
}

TEST(StatusTest, StatusOrCarriesValueOrError) {
  int out = 0;
  EXPECT_TRUE(UseHalf(8, &out).ok());
  EXPECT_EQ(out, 4);
  const Status odd = UseHalf(7, &out);
  EXPECT_EQ(odd.message(), "7 is odd");
  EXPECT_EQ(out, 4);
}

}  // namespace
}  // namespace tensorcoder
