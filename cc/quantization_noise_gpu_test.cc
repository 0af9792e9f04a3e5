// The CUDA kernels against the CPU ones: identical noise and rounding,
// likelihood and gradients to double rounding, the same input checks.
// Skips when no CUDA device is visible.
#include <cuda_runtime.h>

#include <cmath>
#include <vector>

#include "cc/quantization_noise.h"
#include "cc/quantization_noise_gpu.h"
#include "cc/test_util.h"
#include "gtest/gtest.h"

namespace tensorcoder {
namespace {

bool HaveDevice() {
  int count = 0;
  return cudaGetDeviceCount(&count) == cudaSuccess && count > 0;
}

template <typename T>
T* ToDevice(const std::vector<T>& host) {
  T* device = nullptr;
  EXPECT_EQ(cudaMalloc(&device, sizeof(T) * (host.size() + 1)), cudaSuccess);
  cudaMemcpy(device, host.data(), sizeof(T) * host.size(),
             cudaMemcpyHostToDevice);
  return device;
}

template <typename T>
std::vector<T> ToHost(const T* device, size_t n) {
  std::vector<T> host(n);
  EXPECT_EQ(cudaMemcpy(host.data(), device, sizeof(T) * n,
                       cudaMemcpyDeviceToHost),
            cudaSuccess);
  return host;
}

class GpuTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(HasGpuKernels());
    if (!HaveDevice()) GTEST_SKIP() << "no CUDA device visible";
  }
};

TEST_F(GpuTest, NoiseIsIdenticalToCpu) {
  const size_t n = 3 * 1000 * 1000 + 17;
  std::vector<float> x(n);
  for (size_t i = 0; i < n; ++i) x[i] = static_cast<float>(i % 1000) * 0.01f;
  float* dx = ToDevice(x);
  float* dout = ToDevice(std::vector<float>(n));
  TC_ASSERT_OK(UniformNoiseGpu<float>(3, 4, nullptr, dout, n, nullptr));
  std::vector<float> cpu(n);
  UniformNoise<float>(3, 4, 0, cpu.data(), n);
  EXPECT_EQ(ToHost(dout, n), cpu);
  TC_ASSERT_OK(UniformNoiseGpu<float>(3, 4, dx, dout, n, nullptr));
  AddUniformNoise<float>(3, 4, 0, x.data(), cpu.data(), n);
  EXPECT_EQ(ToHost(dout, n), cpu);
  cudaFree(dx);
  cudaFree(dout);

  std::vector<double> dcpu(1000);
  double* dd = ToDevice(std::vector<double>(1000));
  TC_ASSERT_OK(UniformNoiseGpu<double>(9, 9, nullptr, dd, 1000, nullptr));
  UniformNoise<double>(9, 9, 0, dcpu.data(), 1000);
  EXPECT_EQ(ToHost(dd, 1000), dcpu);
  cudaFree(dd);
}

TEST_F(GpuTest, StochasticRoundIsIdenticalToCpu) {
  const size_t n = 100000;
  std::vector<float> x(n);
  for (size_t i = 0; i < n; ++i) x[i] = std::sin(0.001f * i) * 50.0f;
  float* dx = ToDevice(x);
  int32_t* dout = ToDevice(std::vector<int32_t>(n));
  TC_ASSERT_OK(StochasticRoundGpu(1, 2, dx, 0.7f, dout, n, nullptr));
  std::vector<int32_t> cpu(n);
  TC_ASSERT_OK(StochasticRound(1, 2, 0, x.data(), 0.7f, cpu.data(), n));
  EXPECT_EQ(ToHost(dout, n), cpu);
  x[777] = NAN;
  cudaMemcpy(dx, x.data(), sizeof(float) * n, cudaMemcpyHostToDevice);
  TC_EXPECT_ERROR(StochasticRoundGpu(1, 2, dx, 0.7f, dout, n, nullptr),
                  kInvalidArgument, "element 777");
  cudaFree(dx);
  cudaFree(dout);
}

TEST_F(GpuTest, LikelihoodAndGradientsMatchCpu) {
  std::vector<double> y, loc, scale, up;
  for (double s : {0.05, 0.3, 1.0, 7.0, 300.0}) {
    for (double z = -45; z <= 45; z += 0.37) {
      y.push_back(z * s + 0.2);
      loc.push_back(0.2 - 0.1 * s);
      scale.push_back(s);
      up.push_back(1.0 + 0.01 * z);
    }
  }
  const size_t n = y.size();
  double *dy = ToDevice(y), *dl = ToDevice(loc), *ds = ToDevice(scale),
         *du = ToDevice(up), *o1 = ToDevice(std::vector<double>(n)),
         *o2 = ToDevice(std::vector<double>(n)),
         *o3 = ToDevice(std::vector<double>(n));
  TC_ASSERT_OK(NoisyNormalLogLikelihoodGpu<double>(dy, dl, ds, o1, n, nullptr));
  std::vector<double> cpu(n), g1(n), g2(n), g3(n);
  TC_ASSERT_OK(NoisyNormalLogLikelihood(y.data(), loc.data(), scale.data(),
                                        cpu.data(), n));
  std::vector<double> gpu = ToHost(o1, n);
  for (size_t i = 0; i < n; ++i) {
    ASSERT_TRUE(std::isfinite(gpu[i])) << i;
    ASSERT_NEAR(gpu[i], cpu[i], 1e-12 * std::max(1.0, std::fabs(cpu[i]))) << i;
  }
  TC_ASSERT_OK(NoisyNormalLogLikelihoodGradGpu<double>(dy, dl, ds, du, o1, o2,
                                                       o3, n, nullptr));
  TC_ASSERT_OK(NoisyNormalLogLikelihoodGrad(y.data(), loc.data(),
                                            scale.data(), up.data(), g1.data(),
                                            g2.data(), g3.data(), n));
  const std::vector<double> h1 = ToHost(o1, n), h2 = ToHost(o2, n),
                            h3 = ToHost(o3, n);
  for (size_t i = 0; i < n; ++i) {
    ASSERT_NEAR(h1[i], g1[i], 1e-9 * std::max(1.0, std::fabs(g1[i]))) << i;
    ASSERT_NEAR(h2[i], g2[i], 1e-9 * std::max(1.0, std::fabs(g2[i]))) << i;
    ASSERT_NEAR(h3[i], g3[i], 1e-9 * std::max(1.0, std::fabs(g3[i]))) << i;
  }
  scale[5] = -1;
  cudaMemcpy(ds, scale.data(), sizeof(double) * n, cudaMemcpyHostToDevice);
  TC_EXPECT_ERROR(
      NoisyNormalLogLikelihoodGpu<double>(dy, dl, ds, o1, n, nullptr),
      kInvalidArgument, "element 5");
  for (double* p : {dy, dl, ds, du, o1, o2, o3}) cudaFree(p);
}

}  // namespace
}  // namespace tensorcoder
