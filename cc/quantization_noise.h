// CPU kernels for training with quantization noise: uniform noise and
// stochastic rounding from the counter-based generator of counter_rng.h, and
// the noisy-normal log-likelihood of noisy_normal.h with its gradient.
// quantization_noise_gpu.h has the same kernels for CUDA devices; for the
// same key and offsets both produce identical noise.
//
// `offset` is the global index of element 0 of the arrays passed, so a
// tensor can be processed in shards with the same result.
#ifndef TENSORCODER_CC_QUANTIZATION_NOISE_H_
#define TENSORCODER_CC_QUANTIZATION_NOISE_H_

#include <cstddef>
#include <cstdint>

#include "cc/status.h"

namespace tensorcoder {

// out[j] = u(offset + j), u ~ U(-1/2, 1/2). T is float or double.
template <typename T>
void UniformNoise(uint32_t key0, uint32_t key1, uint64_t offset, T* out,
                  size_t n);

// out[j] = x[j] + u(offset + j). `out` may equal `x`.
template <typename T>
void AddUniformNoise(uint32_t key0, uint32_t key1, uint64_t offset,
                     const T* x, T* out, size_t n);

// out[j] = floor(x[j] / step) + 1 if v(offset + j) < frac(x[j] / step), else
// floor(x[j] / step), where v = u + 1/2 in [0, 1). INVALID_ARGUMENT if step
// is not finite and positive, or a quotient is not finite or outside the
// int32 range (naming the element).
Status StochasticRound(uint32_t key0, uint32_t key1, uint64_t offset,
                       const float* x, float step, int32_t* out, size_t n);

// out[j] = L(y[j]; loc[j], scale[j]) (noisy_normal.h). INVALID_ARGUMENT if a
// scale is not finite and positive. NaN in y or loc gives NaN.
template <typename T>
Status NoisyNormalLogLikelihood(const T* y, const T* loc, const T* scale,
                                T* out, size_t n, uint64_t offset = 0);

// Gradients of L times `upstream`.
template <typename T>
Status NoisyNormalLogLikelihoodGrad(const T* y, const T* loc, const T* scale,
                                    const T* upstream, T* grad_y, T* grad_loc,
                                    T* grad_scale, size_t n,
                                    uint64_t offset = 0);

}  // namespace tensorcoder

#endif  // TENSORCODER_CC_QUANTIZATION_NOISE_H_
