// CUDA versions of the kernels of quantization_noise.h, with the same
// results: bit-identical noise and stochastic rounding for the same key and
// offsets, and the same double-precision likelihood math (noisy_normal.h).
//
// Pointers are device pointers; `stream` is a cudaStream_t (nullptr: the
// default stream). Kernels are queued asynchronously except where inputs are
// validated (StochasticRoundGpu, the likelihood functions), which wait for
// the stream to report the first invalid element. This header needs no CUDA
// headers, so it can be included by code compiled without nvcc. In builds
// without CUDA every function returns an error saying so.
#ifndef TENSORCODER_CC_QUANTIZATION_NOISE_GPU_H_
#define TENSORCODER_CC_QUANTIZATION_NOISE_GPU_H_

#include <cstddef>
#include <cstdint>

#include "cc/status.h"

namespace tensorcoder {

// True if this build has the CUDA kernels.
bool HasGpuKernels();

// x may be nullptr for plain noise; otherwise out = x + noise.
template <typename T>
Status UniformNoiseGpu(uint32_t key0, uint32_t key1, const T* x, T* out,
                       size_t n, void* stream);

Status StochasticRoundGpu(uint32_t key0, uint32_t key1, const float* x,
                          float step, int32_t* out, size_t n, void* stream);

template <typename T>
Status NoisyNormalLogLikelihoodGpu(const T* y, const T* loc, const T* scale,
                                   T* out, size_t n, void* stream);

template <typename T>
Status NoisyNormalLogLikelihoodGradGpu(const T* y, const T* loc,
                                       const T* scale, const T* upstream,
                                       T* grad_y, T* grad_loc, T* grad_scale,
                                       size_t n, void* stream);

}  // namespace tensorcoder

#endif  // TENSORCODER_CC_QUANTIZATION_NOISE_GPU_H_
