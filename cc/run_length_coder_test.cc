#include "cc/run_length_coder.h"

#include <limits>
#include <random>
#include <vector>

#include "cc/test_util.h"
#include "gtest/gtest.h"

namespace tensorcoder {
namespace {

using testing::Hex;

constexpr int32_t kMin = std::numeric_limits<int32_t>::min();
constexpr int32_t kMax = std::numeric_limits<int32_t>::max();

TEST(RunLengthGammaTest, GoldenBytes) {
  const std::vector<int32_t> data = {-6, 3, 0, 0};
  const std::string code = RunLengthGammaEncode(data.data(), data.size()).value();
  EXPECT_EQ(Hex(code), "d1 6d");
  std::vector<int32_t> decoded(4, 99);
  TC_ASSERT_OK(
      RunLengthGammaDecode(code.data(), code.size(), decoded.data(), 4));
  EXPECT_EQ(decoded, data);
}

TEST(RunLengthTest, GoldenBytes) {
  const std::vector<int32_t> data = {0, 0, 5, -2, 0, 1};
  RunLengthOptions options;
  options.run_length_code = 1;
  options.magnitude_code = 0;
  options.use_run_length_for_non_zeros = true;
  StatusOr<std::string> code = RunLengthEncode(data.data(), 6, options);
  ASSERT_TRUE(code.ok()) << code.status().ToString();
  EXPECT_EQ(Hex(*code), "3a 64 0d");
  std::vector<int32_t> decoded(6);
  TC_ASSERT_OK(
      RunLengthDecode(code->data(), code->size(), decoded.data(), 6, options));
  EXPECT_EQ(decoded, data);
}

std::vector<int32_t> RandomSparse(std::mt19937& rng, size_t n) {
  std::vector<int32_t> data(n);
  const int density = 1 + rng() % 10;
  for (int32_t& v : data) {
    if (static_cast<int>(rng() % 10) >= density) continue;
    switch (rng() % 6) {
      case 0:
        v = rng() % 2 ? kMin : kMax;
        break;
      case 1:
        v = static_cast<int32_t>(rng());
        break;
      default:
        v = static_cast<int32_t>(rng() % 21) - 10;
    }
  }
  return data;
}

TEST(RunLengthGammaTest, RandomRoundTrips) {
  std::mt19937 rng(17);
  for (int trial = 0; trial < 500; ++trial) {
    const std::vector<int32_t> data = RandomSparse(rng, rng() % 300);
    const std::string code = RunLengthGammaEncode(data.data(), data.size()).value();
    std::vector<int32_t> decoded(data.size());
    TC_ASSERT_OK(RunLengthGammaDecode(code.data(), code.size(), decoded.data(),
                                      decoded.size()));
    ASSERT_EQ(decoded, data);
  }
}

TEST(RunLengthTest, RandomRoundTripsAllCodes) {
  std::mt19937 rng(19);
  for (int trial = 0; trial < 1000; ++trial) {
    RunLengthOptions options;
    options.run_length_code = static_cast<int>(rng() % 6) - 1;
    options.magnitude_code = static_cast<int>(rng() % 6) - 1;
    options.use_run_length_for_non_zeros = rng() % 2;
    std::vector<int32_t> data = RandomSparse(rng, rng() % 300);
    if (options.magnitude_code >= 0) {
      // Keep Rice codewords short for small parameters.
      for (int32_t& v : data) v %= 1000;
    }
    StatusOr<std::string> code =
        RunLengthEncode(data.data(), data.size(), options);
    ASSERT_TRUE(code.ok()) << code.status().ToString();
    std::vector<int32_t> decoded(data.size());
    TC_ASSERT_OK(RunLengthDecode(code->data(), code->size(), decoded.data(),
                                 decoded.size(), options));
    ASSERT_EQ(decoded, data);
  }
}

TEST(RunLengthTest, ExtremesWithGammaAndLargeRice) {
  const std::vector<int32_t> data = {kMin, 0, kMax, kMin + 1, 0, 0};
  for (int magnitude_code : {-1, 31, 20}) {
    RunLengthOptions options;
    options.magnitude_code = magnitude_code;
    StatusOr<std::string> code = RunLengthEncode(data.data(), 6, options);
    ASSERT_TRUE(code.ok()) << code.status().ToString();
    std::vector<int32_t> decoded(6);
    TC_ASSERT_OK(RunLengthDecode(code->data(), code->size(), decoded.data(),
                                 6, options));
    EXPECT_EQ(decoded, data);
  }
}

TEST(RunLengthTest, Errors) {
  const std::vector<int32_t> data = {1, 0, 2};
  RunLengthOptions options;
  options.run_length_code = 32;
  TC_EXPECT_ERROR(RunLengthEncode(data.data(), 3, options).status(),
                  kInvalidArgument, "at most 31");
  options.run_length_code = -1;
  options.magnitude_code = 0;
  const std::vector<int32_t> huge = {kMax};
  TC_EXPECT_ERROR(RunLengthEncode(huge.data(), 1, options).status(),
                  kInvalidArgument, "longer than");

  // Shape mismatches and corruption on decode.
  const std::string code = RunLengthGammaEncode(data.data(), 3).value();
  std::vector<int32_t> out(10);
  EXPECT_FALSE(RunLengthGammaDecode(code.data(), code.size(), out.data(), 2)
                   .ok());
  EXPECT_FALSE(RunLengthGammaDecode(code.data(), code.size(), out.data(), 10)
                   .ok());
  TC_EXPECT_ERROR(RunLengthGammaDecode(code.data(), code.size() - 1,
                                       out.data(), 3),
                  kDataLoss, "");
  const std::string longer = code + std::string(1, '\0');
  TC_EXPECT_ERROR(
      RunLengthGammaDecode(longer.data(), longer.size(), out.data(), 3),
      kDataLoss, "left over");
  const std::string zeros(16, '\0');
  TC_EXPECT_ERROR(
      RunLengthGammaDecode(zeros.data(), zeros.size(), out.data(), 3),
      kDataLoss, "more than 31 leading zeros");
  // A run of zeros past the end of the tensor: gamma(5) = 00101 then...
  const std::string past = "\x14";  // bits 0,0,1,0,1: 4 zeros for size 3
  TC_EXPECT_ERROR(RunLengthGammaDecode(past.data(), past.size(), out.data(), 3),
                  kDataLoss, "past the end");
}

TEST(RunLengthTest, GarbageNeverCrashes) {
  std::mt19937 rng(23);
  for (int trial = 0; trial < 2000; ++trial) {
    std::string garbage(rng() % 40, '\0');
    for (char& c : garbage) c = static_cast<char>(rng());
    RunLengthOptions options;
    options.run_length_code = static_cast<int>(rng() % 6) - 1;
    options.magnitude_code = static_cast<int>(rng() % 33) - 1;
    options.use_run_length_for_non_zeros = rng() % 2;
    std::vector<int32_t> out(rng() % 100);
    (void)RunLengthDecode(garbage.data(), garbage.size(), out.data(),
                          out.size(), options);
    (void)RunLengthGammaDecode(garbage.data(), garbage.size(), out.data(),
                               out.size());
  }
}

}  // namespace
}  // namespace tensorcoder
