#include "cc/pmf_to_cdf.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "cc/cdf_table.h"
#include "cc/test_util.h"
#include "gtest/gtest.h"

namespace tensorcoder {
namespace {

std::vector<int32_t> Quantize(const std::vector<double>& pmf, int precision) {
  StatusOr<std::vector<int32_t>> cdf =
      PmfToQuantizedCdf(pmf.data(), pmf.size(), precision);
  EXPECT_TRUE(cdf.ok()) << cdf.status().ToString();
  return cdf.ok() ? *cdf : std::vector<int32_t>();
}

TEST(PmfToCdfTest, GoldenValues) {
  EXPECT_EQ(Quantize({0.7, 0.2, 0.1, 0}, 4),
            (std::vector<int32_t>{0, 10, 13, 15, 16}));
  // float32(1/3), as TensorFlow passes it.
  const double third = static_cast<float>(1.0 / 3);
  EXPECT_EQ(Quantize({third, third, third}, 2),
            (std::vector<int32_t>{0, 2, 3, 4}));
}

// Cross-entropy in bits of counts `cdf` under pmf.
double CrossEntropy(const std::vector<double>& pmf,
                    const std::vector<int32_t>& cdf, int precision) {
  double bits = 0;
  for (size_t i = 0; i < pmf.size(); ++i) {
    bits -= pmf[i] * std::log2((cdf[i + 1] - cdf[i]) / std::ldexp(1, precision));
  }
  return bits;
}

// Cross-entropy of a naive quantization: floor, at least 1, and the rest of
// the counts given to the most probable symbol.
double NaiveCrossEntropy(const std::vector<double>& pmf, int precision) {
  const int32_t total = 1 << precision;
  std::vector<int32_t> counts(pmf.size());
  int32_t sum = 0;
  size_t argmax = 0;
  for (size_t i = 0; i < pmf.size(); ++i) {
    counts[i] = std::max<int32_t>(1, static_cast<int32_t>(pmf[i] * total));
    sum += counts[i];
    if (pmf[i] > pmf[argmax]) argmax = i;
  }
  if (sum > total) return HUGE_VAL;
  counts[argmax] += total - sum;
  std::vector<int32_t> cdf = {0};
  for (int32_t c : counts) cdf.push_back(cdf.back() + c);
  return CrossEntropy(pmf, cdf, precision);
}

TEST(PmfToCdfTest, ValidAndNearOptimal) {
  std::mt19937 rng(29);
  std::exponential_distribution<double> exp(1.0);
  for (int trial = 0; trial < 500; ++trial) {
    const int precision = 1 + rng() % 16;
    const size_t n = 1 + rng() % std::min(1 << precision, 400);
    std::vector<double> pmf(n);
    double sum = 0;
    for (double& p : pmf) sum += (p = std::pow(exp(rng), 1 + rng() % 5));
    for (double& p : pmf) p /= sum;
    const std::vector<int32_t> cdf = Quantize(pmf, precision);
    ASSERT_EQ(cdf.size(), n + 1);
    TC_ASSERT_OK(ValidateCdf(cdf.data(), cdf.size(), precision));
    // Better than naive rounding, and no single move of one count between
    // two symbols gains more than a millibit.
    const double base = CrossEntropy(pmf, cdf, precision);
    ASSERT_LE(base, NaiveCrossEntropy(pmf, precision) + 1e-12);
    std::vector<int32_t> counts(n);
    for (size_t i = 0; i < n; ++i) counts[i] = cdf[i + 1] - cdf[i];
    for (int probe = 0; probe < 50; ++probe) {
      const size_t from = rng() % n, to = rng() % n;
      if (from == to || counts[from] <= 1) continue;
      std::vector<int32_t> moved = cdf;
      for (size_t i = from + 1; i <= n; ++i) --moved[i];
      for (size_t i = to + 1; i <= n; ++i) ++moved[i];
      ASSERT_GE(CrossEntropy(pmf, moved, precision), base - 1e-3);
    }
  }
}

TEST(PmfToCdfTest, CountsAreNormalizedAndDeterministic) {
  const std::vector<double> counts = {70, 20, 10, 0};
  EXPECT_EQ(Quantize(counts, 4), (std::vector<int32_t>{0, 10, 13, 15, 16}));
  const std::vector<double> zeros(5, 0.0);
  EXPECT_EQ(Quantize(zeros, 3), (std::vector<int32_t>{0, 4, 5, 6, 7, 8}));
  EXPECT_EQ(Quantize({1.0}, 16), (std::vector<int32_t>{0, 65536}));
}

TEST(PmfToCdfTest, Errors) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  const std::vector<double> ok = {0.5, 0.5};
  TC_EXPECT_ERROR(PmfToQuantizedCdf(ok.data(), 2, 0).status(),
                  kInvalidArgument, "precision 0");
  TC_EXPECT_ERROR(PmfToQuantizedCdf(ok.data(), 2, 17).status(),
                  kInvalidArgument, "precision 17");
  TC_EXPECT_ERROR(PmfToQuantizedCdf(ok.data(), 0, 8).status(),
                  kInvalidArgument, "empty");
  const std::vector<double> five(5, 0.2);
  TC_EXPECT_ERROR(PmfToQuantizedCdf(five.data(), 5, 2).status(),
                  kInvalidArgument, "5 entries, more than 2^2");
  for (double bad : {-0.1, nan, inf, -inf}) {
    const std::vector<double> pmf = {0.5, bad, 0.5};
    TC_EXPECT_ERROR(PmfToQuantizedCdf(pmf.data(), 3, 8).status(),
                    kInvalidArgument, "pmf[1] = ");
  }
}

TEST(PmfsToLookupTest, BuildsPaddedRowsWithPrecisionAndEscape) {
  // Two rows of lengths 3 and 1 in a 2 x 3 matrix; the unused mass of row 1
  // is ignored.
  const std::vector<double> pmfs = {0.5, 0.25, 0.125, 0.9, 123.0, 123.0};
  const std::vector<float> pmfs_f(pmfs.begin(), pmfs.end());
  const std::vector<int32_t> lengths = {3, 1};
  for (const bool overflow : {false, true}) {
    const size_t width = LookupWidth(3, overflow);
    EXPECT_EQ(width, overflow ? 6u : 5u);
    std::vector<int32_t> lookup(2 * width, -1), from_float(2 * width, -1);
    TC_ASSERT_OK(PmfsToLookup(pmfs.data(), lengths.data(), 2, 3, 8, overflow,
                              ThreadRunner(2), lookup.data()));
    TC_ASSERT_OK(PmfsToLookup(pmfs_f.data(), lengths.data(), 2, 3, 8,
                              overflow, SerialRunner(), from_float.data()));
    EXPECT_EQ(lookup, from_float);  // These masses are exact in float.
    for (size_t r = 0; r < 2; ++r) {
      std::vector<double> masses(pmfs.begin() + 3 * r,
                                 pmfs.begin() + 3 * r + lengths[r]);
      double sum = 0;
      for (double m : masses) sum += m;
      if (overflow) masses.push_back(std::max(0.0, 1.0 - sum));
      StatusOr<std::vector<int32_t>> cdf =
          PmfToQuantizedCdf(masses.data(), masses.size(), 8);
      ASSERT_TRUE(cdf.ok());
      std::vector<int32_t> expected = {overflow ? -8 : 8};
      expected.insert(expected.end(), cdf->begin(), cdf->end());
      expected.resize(width, 256);
      EXPECT_EQ(std::vector<int32_t>(lookup.begin() + r * width,
                                     lookup.begin() + (r + 1) * width),
                expected)
          << "row " << r << " overflow " << overflow;
    }
    // The result is a valid lookup.
    EXPECT_TRUE(CdfTable::FromMatrix(lookup.data(), 2, width).ok());
  }
  std::vector<int32_t> lookup(2 * 5);
  const std::vector<int32_t> bad = {3, 4};
  TC_EXPECT_ERROR(PmfsToLookup(pmfs.data(), bad.data(), 2, 3, 8, false,
                               SerialRunner(), lookup.data()),
                  kInvalidArgument,
                  "pmf row 1: length 4 is outside [1, 3]");
  TC_EXPECT_ERROR(PmfsToLookup(pmfs.data(), lengths.data(), 2, 3, 17, false,
                               SerialRunner(), lookup.data()),
                  kInvalidArgument,
                  "`precision` must be in [1, 16], got 17");
}

}  // namespace
}  // namespace tensorcoder
