#include "cc/quantization_noise.h"

#include <cmath>
#include <limits>
#include <vector>

#include "cc/counter_rng.h"
#include "cc/noisy_normal.h"
#include "cc/test_util.h"
#include "gtest/gtest.h"

namespace tensorcoder {
namespace {

TEST(CounterRngTest, PhiloxKnownAnswers) {
  // Known-answer vectors of Random123's philox4x32-10.
  Philox4x32 r = Philox4x32_10(0, 0, 0, 0, 0, 0);
  EXPECT_EQ(r.v[0], 0x6627e8d5u);
  EXPECT_EQ(r.v[1], 0xe169c58du);
  EXPECT_EQ(r.v[2], 0xbc57ac4cu);
  EXPECT_EQ(r.v[3], 0x9b00dbd8u);
  r = Philox4x32_10(~0u, ~0u, ~0u, ~0u, ~0u, ~0u);
  EXPECT_EQ(r.v[0], 0x408f276du);
  EXPECT_EQ(r.v[1], 0x41c83b0eu);
  EXPECT_EQ(r.v[2], 0xa20bc7c6u);
  EXPECT_EQ(r.v[3], 0x6d5451fdu);
  r = Philox4x32_10(0x243f6a88u, 0x85a308d3u, 0x13198a2eu, 0x03707344u,
                    0xa4093822u, 0x299f31d0u);
  EXPECT_EQ(r.v[0], 0xd16cfe09u);
  EXPECT_EQ(r.v[1], 0x94fdccebu);
  EXPECT_EQ(r.v[2], 0x5001e420u);
  EXPECT_EQ(r.v[3], 0x24126ea1u);
}

TEST(UniformNoiseTest, Statistics) {
  const size_t n = 1 << 20;
  for (bool use_double : {false, true}) {
    std::vector<double> u(n);
    if (use_double) {
      UniformNoise<double>(7, 11, 0, u.data(), n);
    } else {
      std::vector<float> f(n);
      UniformNoise<float>(7, 11, 0, f.data(), n);
      for (size_t i = 0; i < n; ++i) u[i] = f[i];
    }
    double sum = 0, sum2 = 0, lag = 0;
    for (size_t i = 0; i < n; ++i) {
      ASSERT_GE(u[i], -0.5);
      ASSERT_LT(u[i], 0.5);
      sum += u[i];
      sum2 += u[i] * u[i];
      if (i) lag += u[i] * u[i - 1];
    }
    // Standard errors: mean 1/sqrt(12 n) ~ 2.8e-4, variance ~ 8e-5.
    EXPECT_NEAR(sum / n, 0.0, 1.5e-3);
    EXPECT_NEAR(sum2 / n, 1.0 / 12, 5e-4);
    EXPECT_NEAR(lag / n * 12, 0.0, 1e-2);  // Lag-1 correlation.
  }
}

TEST(UniformNoiseTest, SeedsAndShards) {
  const size_t n = 10000;
  std::vector<float> a(n), b(n), c(n), shards(n);
  UniformNoise<float>(1, 2, 0, a.data(), n);
  UniformNoise<float>(1, 2, 0, b.data(), n);
  UniformNoise<float>(1, 3, 0, c.data(), n);
  EXPECT_EQ(a, b);
  double corr = 0;
  for (size_t i = 0; i < n; ++i) corr += a[i] * c[i];
  EXPECT_NEAR(corr / n * 12, 0.0, 0.05);  // Independent across seeds.
  // Any split into shards gives the same noise.
  UniformNoise<float>(1, 2, 0, shards.data(), 1234);
  UniformNoise<float>(1, 2, 1234, shards.data() + 1234, n - 1234);
  EXPECT_EQ(shards, a);
  std::vector<float> x(n, 3.0f), y(n);
  AddUniformNoise<float>(1, 2, 0, x.data(), y.data(), n);
  for (size_t i = 0; i < n; ++i) ASSERT_EQ(y[i], 3.0f + a[i]);
}

TEST(StochasticRoundTest, UnbiasedAndChecked) {
  const size_t n = 200000;
  std::vector<float> x(n, 0.3f);
  std::vector<int32_t> out(n);
  TC_ASSERT_OK(StochasticRound(5, 6, 0, x.data(), 0.5f, out.data(), n));
  double mean = 0;
  for (int32_t v : out) {
    ASSERT_TRUE(v == 0 || v == 1);
    mean += v * 0.5;
  }
  EXPECT_NEAR(mean / n, 0.3, 0.003);
  std::vector<float> bad = {1.0f, std::numeric_limits<float>::infinity()};
  TC_EXPECT_ERROR(StochasticRound(5, 6, 10, bad.data(), 1.0f, out.data(), 2),
                  kInvalidArgument, "at element 11");
  bad = {3e9f};
  TC_EXPECT_ERROR(StochasticRound(5, 6, 0, bad.data(), 1.0f, out.data(), 1),
                  kInvalidArgument, "int32");
  TC_EXPECT_ERROR(StochasticRound(5, 6, 0, x.data(), 0.0f, out.data(), 1),
                  kInvalidArgument, "step_size");
}

double DirectLogMass(double y, double loc, double scale) {
  const double s = std::sqrt(0.5);
  return std::log(0.5 * (std::erf((y - loc + 0.5) / scale * s) -
                         std::erf((y - loc - 0.5) / scale * s)));
}

TEST(NoisyNormalTest, MatchesDirectFormulaWhereItIsAccurate) {
  for (double scale : {0.11, 0.5, 1.0, 3.0, 100.0}) {
    for (double y = -4; y <= 4; y += 0.25) {
      const double direct = DirectLogMass(y * scale, 0.3, scale);
      if (direct < -20) continue;  // The direct form loses digits there.
      EXPECT_NEAR(NoisyNormalLogMass(y * scale, 0.3, scale), direct,
                  1e-9 * std::max(1.0, std::fabs(direct)))
          << y << " " << scale;
    }
  }
}

TEST(NoisyNormalTest, FiniteAndAsymptoticInTheTails) {
  double previous = 0;
  for (double z = 0; z <= 60; z += 0.5) {
    const double scale = 1.0;
    const double l = NoisyNormalLogMass(z, 0.0, scale);
    ASSERT_TRUE(std::isfinite(l)) << z;
    EXPECT_EQ(l, NoisyNormalLogMass(-z, 0.0, scale));  // Symmetric.
    if (z > 0) {
      EXPECT_LT(l, previous);
    }
    previous = l;
    if (z >= 10) {
      // log(Q(z - 1/2) - Q(z + 1/2)) ~ log Q(z - 1/2) for large z, and
      // log Q(a) ~ -a^2/2 - log(a sqrt(2 pi)) - 1/a^2.
      const double a = z - 0.5;
      const double asymptote = -0.5 * a * a - std::log(a) -
                               0.5 * std::log(2 * M_PI) - 1 / (a * a);
      EXPECT_NEAR(l, asymptote, 5e-3 * std::fabs(asymptote)) << z;
    }
  }
  // |y - loc| / scale = 40 in float gives a finite result.
  const float y = 40.0f, loc = 0.0f, scale = 1.0f;
  float out;
  TC_ASSERT_OK(NoisyNormalLogLikelihood(&y, &loc, &scale, &out, 1));
  EXPECT_TRUE(std::isfinite(out));
  EXPECT_LT(out, -700.0f);
}

TEST(NoisyNormalTest, GradientsMatchFiniteDifferences) {
  for (double scale : {0.2, 1.0, 5.0}) {
    for (double y : {-30.0, -3.0, -0.7, 0.0, 0.2, 1.3, 8.0, 35.0}) {
      const double loc = 0.4;
      const double l = NoisyNormalLogMass(y, loc, scale);
      double gy, gs;
      NoisyNormalLogMassGrad(y, loc, scale, l, &gy, &gs);
      const double h = 1e-5 * std::max(1.0, std::fabs(y));
      const double fy = (NoisyNormalLogMass(y + h, loc, scale) -
                         NoisyNormalLogMass(y - h, loc, scale)) / (2 * h);
      const double hs = 1e-6 * scale;
      const double fs = (NoisyNormalLogMass(y, loc, scale + hs) -
                         NoisyNormalLogMass(y, loc, scale - hs)) / (2 * hs);
      ASSERT_TRUE(std::isfinite(gy) && std::isfinite(gs));
      EXPECT_NEAR(gy, fy, 1e-4 * std::max(1.0, std::fabs(fy)))
          << y << " " << scale;
      EXPECT_NEAR(gs, fs, 1e-4 * std::max(1.0, std::fabs(fs)))
          << y << " " << scale;
    }
  }
}

TEST(NoisyNormalTest, RejectsBadScales) {
  const std::vector<double> y = {0, 0}, loc = {0, 0}, scale = {1, -1};
  std::vector<double> out(2), g1(2), g2(2), g3(2);
  TC_EXPECT_ERROR(NoisyNormalLogLikelihood(y.data(), loc.data(), scale.data(),
                                           out.data(), 2, 100),
                  kInvalidArgument, "at element 101");
  TC_EXPECT_ERROR(
      NoisyNormalLogLikelihoodGrad(y.data(), loc.data(), scale.data(),
                                   y.data(), g1.data(), g2.data(), g3.data(),
                                   2),
      kInvalidArgument, "scale must be finite and positive");
}

}  // namespace
}  // namespace tensorcoder
