// Throughput of the noise and likelihood kernels: CUDA (when a device is
// visible) and the CPU reference on one thread, float32, 2^24 elements.
//   bazel run -c opt //bench:noise_gpu_bench
#include <cuda_runtime.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <vector>

#include "cc/quantization_noise.h"
#include "cc/quantization_noise_gpu.h"

namespace {

constexpr size_t kN = size_t{1} << 24;

template <typename F>
double MedianMs(F f, bool gpu) {
  f();
  if (gpu) cudaDeviceSynchronize();
  std::vector<double> ms;
  for (int i = 0; i < 5; ++i) {
    const auto start = std::chrono::steady_clock::now();
    f();
    if (gpu) cudaDeviceSynchronize();
    ms.push_back(std::chrono::duration<double, std::milli>(
                     std::chrono::steady_clock::now() - start)
                     .count());
  }
  std::sort(ms.begin(), ms.end());
  return ms[2];
}

}  // namespace

int main() {
  using namespace tensorcoder;
  std::vector<float> y(kN), loc(kN, 0.1f), scale(kN), out(kN), up(kN, 1.0f),
      g1(kN), g2(kN), g3(kN);
  for (size_t i = 0; i < kN; ++i) {
    y[i] = static_cast<float>(static_cast<int>(i % 61) - 30);
    scale[i] = 0.11f + static_cast<float>(i % 97) * 0.3f;
  }
  std::printf("| kernel | device | Melem/s |\n|---|---|---|\n");
  const size_t cpu_n = kN / 16;
  auto row = [](const char* name, const char* device, size_t n, double ms) {
    std::printf("| %s | %s | %.0f |\n", name, device, n / ms / 1e3);
  };
  row("uniform noise", "CPU, 1 thread", cpu_n, MedianMs([&] {
        UniformNoise<float>(1, 2, 0, out.data(), cpu_n);
      }, false));
  row("noisy normal log-likelihood", "CPU, 1 thread", cpu_n, MedianMs([&] {
        (void)NoisyNormalLogLikelihood(y.data(), loc.data(), scale.data(),
                                       out.data(), cpu_n);
      }, false));
  row("noisy normal gradient", "CPU, 1 thread", cpu_n, MedianMs([&] {
        (void)NoisyNormalLogLikelihoodGrad(y.data(), loc.data(), scale.data(),
                                           up.data(), g1.data(), g2.data(),
                                           g3.data(), cpu_n);
      }, false));
  int devices = 0;
  if (cudaGetDeviceCount(&devices) != cudaSuccess || devices == 0) {
    std::printf("(no CUDA device visible: GPU rows skipped)\n");
    return 0;
  }
  cudaDeviceProp prop;
  cudaGetDeviceProperties(&prop, 0);
  float *dy, *dl, *ds, *du, *o1, *o2, *o3;
  for (float** p : {&dy, &dl, &ds, &du, &o1, &o2, &o3}) {
    cudaMalloc(p, sizeof(float) * kN);
  }
  cudaMemcpy(dy, y.data(), sizeof(float) * kN, cudaMemcpyHostToDevice);
  cudaMemcpy(dl, loc.data(), sizeof(float) * kN, cudaMemcpyHostToDevice);
  cudaMemcpy(ds, scale.data(), sizeof(float) * kN, cudaMemcpyHostToDevice);
  cudaMemcpy(du, up.data(), sizeof(float) * kN, cudaMemcpyHostToDevice);
  row("uniform noise", prop.name, kN, MedianMs([&] {
        (void)UniformNoiseGpu<float>(1, 2, nullptr, o1, kN, nullptr);
      }, true));
  row("noisy normal log-likelihood", prop.name, kN, MedianMs([&] {
        (void)NoisyNormalLogLikelihoodGpu<float>(dy, dl, ds, o1, kN, nullptr);
      }, true));
  row("noisy normal gradient", prop.name, kN, MedianMs([&] {
        (void)NoisyNormalLogLikelihoodGradGpu<float>(dy, dl, ds, du, o1, o2, o3,
                                                     kN, nullptr);
      }, true));
  return 0;
}
