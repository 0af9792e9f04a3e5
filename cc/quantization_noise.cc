#include "cc/quantization_noise.h"

#include <cmath>

#include "cc/counter_rng.h"
#include "cc/noisy_normal.h"

namespace tensorcoder {
namespace {

template <typename T>
Status CheckScale(const T* scale, size_t n, uint64_t offset) {
  for (size_t j = 0; j < n; ++j) {
    if (!(scale[j] > 0) || !std::isfinite(static_cast<double>(scale[j]))) {
      return InvalidArgumentError("scale must be finite and positive, got ",
                                  static_cast<double>(scale[j]),
                                  " at element ", offset + j);
    }
  }
  return OkStatus();
}

}  // namespace

template <typename T>
void UniformNoise(uint32_t key0, uint32_t key1, uint64_t offset, T* out,
                  size_t n) {
  for (size_t j = 0; j < n; ++j) {
    out[j] = UniformNoiseValue<T>(offset + j, key0, key1);
  }
}

template <typename T>
void AddUniformNoise(uint32_t key0, uint32_t key1, uint64_t offset,
                     const T* x, T* out, size_t n) {
  for (size_t j = 0; j < n; ++j) {
    out[j] = x[j] + UniformNoiseValue<T>(offset + j, key0, key1);
  }
}

Status StochasticRound(uint32_t key0, uint32_t key1, uint64_t offset,
                       const float* x, float step, int32_t* out, size_t n) {
  if (!(step > 0) || !std::isfinite(step)) {
    return InvalidArgumentError("step_size must be finite and positive, got ",
                                step);
  }
  for (size_t j = 0; j < n; ++j) {
    const float v = x[j] / step;
    const float floor = std::floor(v);
    if (!std::isfinite(v) || floor < -2147483648.0f ||
        floor >= 2147483647.0f) {
      return InvalidArgumentError("inputs / step_size = ", v, " at element ",
                                  offset + j,
                                  " cannot be rounded to an int32");
    }
    const float random = UniformNoiseFloat(offset + j, key0, key1) + 0.5f;
    out[j] = static_cast<int32_t>(floor) + (random < v - floor ? 1 : 0);
  }
  return OkStatus();
}

template <typename T>
Status NoisyNormalLogLikelihood(const T* y, const T* loc, const T* scale,
                                T* out, size_t n, uint64_t offset) {
  TC_RETURN_IF_ERROR(CheckScale(scale, n, offset));
  for (size_t j = 0; j < n; ++j) {
    out[j] = static_cast<T>(NoisyNormalLogMass(y[j], loc[j], scale[j]));
  }
  return OkStatus();
}

template <typename T>
Status NoisyNormalLogLikelihoodGrad(const T* y, const T* loc, const T* scale,
                                    const T* upstream, T* grad_y, T* grad_loc,
                                    T* grad_scale, size_t n, uint64_t offset) {
  TC_RETURN_IF_ERROR(CheckScale(scale, n, offset));
  for (size_t j = 0; j < n; ++j) {
    const double log_mass = NoisyNormalLogMass(y[j], loc[j], scale[j]);
    double gy, gs;
    NoisyNormalLogMassGrad(y[j], loc[j], scale[j], log_mass, &gy, &gs);
    grad_y[j] = static_cast<T>(upstream[j] * gy);
    grad_loc[j] = static_cast<T>(-upstream[j] * gy);
    grad_scale[j] = static_cast<T>(upstream[j] * gs);
  }
  return OkStatus();
}

#define INSTANTIATE(T)                                                       \
  template void UniformNoise<T>(uint32_t, uint32_t, uint64_t, T*, size_t);   \
  template void AddUniformNoise<T>(uint32_t, uint32_t, uint64_t, const T*,   \
                                   T*, size_t);                              \
  template Status NoisyNormalLogLikelihood<T>(const T*, const T*, const T*,  \
                                              T*, size_t, uint64_t);         \
  template Status NoisyNormalLogLikelihoodGrad<T>(                           \
      const T*, const T*, const T*, const T*, T*, T*, T*, size_t, uint64_t);
INSTANTIATE(float)
INSTANTIATE(double)
#undef INSTANTIATE

}  // namespace tensorcoder
