// quantization_noise_gpu.h in builds without CUDA: every kernel reports that
// this build has none.
#include "cc/quantization_noise_gpu.h"

namespace tensorcoder {
namespace {

Status NoCuda() {
  return Status(StatusCode::kInternal,
                "tensorcoder was built without CUDA (no nvcc found)");
}

}  // namespace

bool HasGpuKernels() { return false; }

template <typename T>
Status UniformNoiseGpu(uint32_t, uint32_t, const T*, T*, size_t, void*) {
  return NoCuda();
}

Status StochasticRoundGpu(uint32_t, uint32_t, const float*, float, int32_t*,
                          size_t, void*) {
  return NoCuda();
}

template <typename T>
Status NoisyNormalLogLikelihoodGpu(const T*, const T*, const T*, T*, size_t,
                                   void*) {
  return NoCuda();
}

template <typename T>
Status NoisyNormalLogLikelihoodGradGpu(const T*, const T*, const T*,
                                       const T*, T*, T*, T*, size_t, void*) {
  return NoCuda();
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
