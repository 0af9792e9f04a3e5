// CUDA kernels of quantization_noise_gpu.h. Compiled by nvcc through the
// genrule in cc/BUILD.
#include <cuda_runtime.h>

#include "cc/counter_rng.h"
#include "cc/noisy_normal.h"
#include "cc/quantization_noise_gpu.h"

namespace tensorcoder {
namespace {

constexpr int kThreads = 256;

int Blocks(size_t n) {
  const size_t blocks = (n + kThreads - 1) / kThreads;
  return static_cast<int>(blocks < 65535 * 16 ? blocks : 65535 * 16);
}

Status CudaStatus(cudaError_t error, const char* what) {
  if (error == cudaSuccess) return OkStatus();
  return Status(StatusCode::kInternal,
                StrCat(what, ": ", cudaGetErrorString(error)));
}

template <typename T>
__global__ void UniformNoiseKernel(uint32_t k0, uint32_t k1, const T* x,
                                   T* out, size_t n) {
  for (size_t i = blockIdx.x * static_cast<size_t>(blockDim.x) + threadIdx.x;
       i < n; i += static_cast<size_t>(gridDim.x) * blockDim.x) {
    const T u = UniformNoiseValue<T>(i, k0, k1);
    out[i] = x == nullptr ? u : x[i] + u;
  }
}

__global__ void StochasticRoundKernel(uint32_t k0, uint32_t k1,
                                      const float* x, float step,
                                      int32_t* out, size_t n,
                                      unsigned long long* first_bad) {
  for (size_t i = blockIdx.x * static_cast<size_t>(blockDim.x) + threadIdx.x;
       i < n; i += static_cast<size_t>(gridDim.x) * blockDim.x) {
    const float v = x[i] / step;
    const float f = floorf(v);
    if (!isfinite(v) || f < -2147483648.0f || f >= 2147483647.0f) {
      atomicMin(first_bad, static_cast<unsigned long long>(i));
      continue;
    }
    const float random = UniformNoiseFloat(i, k0, k1) + 0.5f;
    out[i] = static_cast<int32_t>(f) + (random < v - f ? 1 : 0);
  }
}

template <typename T>
__global__ void NoisyNormalKernel(const T* y, const T* loc, const T* scale,
                                  const T* upstream, T* out, T* grad_loc,
                                  T* grad_scale, size_t n,
                                  unsigned long long* first_bad) {
  for (size_t i = blockIdx.x * static_cast<size_t>(blockDim.x) + threadIdx.x;
       i < n; i += static_cast<size_t>(gridDim.x) * blockDim.x) {
    const double s = scale[i];
    if (!(s > 0) || !isfinite(s)) {
      atomicMin(first_bad, static_cast<unsigned long long>(i));
      continue;
    }
    const double log_mass = NoisyNormalLogMass(y[i], loc[i], s);
    if (upstream == nullptr) {
      out[i] = static_cast<T>(log_mass);
      continue;
    }
    double gy, gs;
    NoisyNormalLogMassGrad(y[i], loc[i], s, log_mass, &gy, &gs);
    out[i] = static_cast<T>(upstream[i] * gy);
    grad_loc[i] = static_cast<T>(-upstream[i] * gy);
    grad_scale[i] = static_cast<T>(upstream[i] * gs);
  }
}

// Runs `launch(flag)` with a device flag initialised to "no bad element",
// waits, and returns the index of the first bad element (or ~0).
template <typename Launch>
Status WithBadElementFlag(cudaStream_t stream, Launch launch,
                          unsigned long long* first_bad) {
  unsigned long long* flag = nullptr;
  *first_bad = ~0ull;
  TC_RETURN_IF_ERROR(CudaStatus(cudaMalloc(&flag, sizeof(*flag)), "cudaMalloc"));
  // The steps after the allocation, each only if the one before succeeded;
  // the flag is freed whatever they return. (No reassignment of a Status:
  // nvcc warns that the Status& operator= returns is discarded, Status being
  // [[nodiscard]].)
  auto steps = [&]() -> Status {
    TC_RETURN_IF_ERROR(CudaStatus(
        cudaMemcpyAsync(flag, first_bad, sizeof(*flag),
                        cudaMemcpyHostToDevice, stream),
        "cudaMemcpyAsync"));
    launch(flag);
    TC_RETURN_IF_ERROR(CudaStatus(cudaGetLastError(), "kernel launch"));
    TC_RETURN_IF_ERROR(CudaStatus(
        cudaMemcpyAsync(first_bad, flag, sizeof(*flag),
                        cudaMemcpyDeviceToHost, stream),
        "cudaMemcpyAsync"));
    return CudaStatus(cudaStreamSynchronize(stream), "cudaStreamSynchronize");
  };
  const Status status = steps();
  cudaFree(flag);
  return status;
}

}  // namespace

bool HasGpuKernels() { return true; }

template <typename T>
Status UniformNoiseGpu(uint32_t key0, uint32_t key1, const T* x, T* out,
                       size_t n, void* stream) {
  if (n == 0) return OkStatus();
  UniformNoiseKernel<T><<<Blocks(n), kThreads, 0,
                          static_cast<cudaStream_t>(stream)>>>(key0, key1, x,
                                                              out, n);
  return CudaStatus(cudaGetLastError(), "uniform noise kernel launch");
}

Status StochasticRoundGpu(uint32_t key0, uint32_t key1, const float* x,
                          float step, int32_t* out, size_t n, void* stream) {
  if (!(step > 0) || !isfinite(step)) {
    return InvalidArgumentError("step_size must be finite and positive, got ",
                                step);
  }
  if (n == 0) return OkStatus();
  const cudaStream_t s = static_cast<cudaStream_t>(stream);
  unsigned long long first_bad;
  TC_RETURN_IF_ERROR(WithBadElementFlag(
      s,
      [&](unsigned long long* flag) {
        StochasticRoundKernel<<<Blocks(n), kThreads, 0, s>>>(
            key0, key1, x, step, out, n, flag);
      },
      &first_bad));
  if (first_bad != ~0ull) {
    return InvalidArgumentError("inputs / step_size at element ", first_bad,
                                " is not finite or cannot be rounded to an "
                                "int32");
  }
  return OkStatus();
}

template <typename T>
Status NoisyNormalLogLikelihoodGpu(const T* y, const T* loc, const T* scale,
                                   T* out, size_t n, void* stream) {
  if (n == 0) return OkStatus();
  const cudaStream_t s = static_cast<cudaStream_t>(stream);
  unsigned long long first_bad;
  TC_RETURN_IF_ERROR(WithBadElementFlag(
      s,
      [&](unsigned long long* flag) {
        NoisyNormalKernel<T><<<Blocks(n), kThreads, 0, s>>>(
            y, loc, scale, nullptr, out, nullptr, nullptr, n, flag);
      },
      &first_bad));
  if (first_bad != ~0ull) {
    return InvalidArgumentError("scale must be finite and positive; element ",
                                first_bad, " is not");
  }
  return OkStatus();
}

template <typename T>
Status NoisyNormalLogLikelihoodGradGpu(const T* y, const T* loc,
                                       const T* scale, const T* upstream,
                                       T* grad_y, T* grad_loc, T* grad_scale,
                                       size_t n, void* stream) {
  if (n == 0) return OkStatus();
  const cudaStream_t s = static_cast<cudaStream_t>(stream);
  unsigned long long first_bad;
  TC_RETURN_IF_ERROR(WithBadElementFlag(
      s,
      [&](unsigned long long* flag) {
        NoisyNormalKernel<T><<<Blocks(n), kThreads, 0, s>>>(
            y, loc, scale, upstream, grad_y, grad_loc, grad_scale, n, flag);
      },
      &first_bad));
  if (first_bad != ~0ull) {
    return InvalidArgumentError("scale must be finite and positive; element ",
                                first_bad, " is not");
  }
  return OkStatus();
}

#define INSTANTIATE(T)                                                     \
  template Status UniformNoiseGpu<T>(uint32_t, uint32_t, const T*, T*,     \
                                     size_t, void*);                       \
  template Status NoisyNormalLogLikelihoodGpu<T>(const T*, const T*,       \
                                                 const T*, T*, size_t,     \
                                                 void*);                   \
  template Status NoisyNormalLogLikelihoodGradGpu<T>(                      \
      const T*, const T*, const T*, const T*, T*, T*, T*, size_t, void*);
INSTANTIATE(float)
INSTANTIATE(double)
#undef INSTANTIATE

}  // namespace tensorcoder
