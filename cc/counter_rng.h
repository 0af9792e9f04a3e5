// Counter-based random numbers (Philox4x32-10, Salmon, Moraes, Dror and Shaw,
// "Parallel random numbers: as easy as 1, 2, 3", SC 2011), usable from host
// and CUDA device code. Element i of a tensor takes its bits from counter
// (i mod 2^32, i / 2^32, 0, 0) under a 64-bit key, so the values depend only
// on the key and the position: identical on CPU and GPU, with any threading.
#ifndef TENSORCODER_CC_COUNTER_RNG_H_
#define TENSORCODER_CC_COUNTER_RNG_H_

#include <stdint.h>

#ifdef __CUDACC__
#define TC_HOST_DEVICE __host__ __device__ __forceinline__
#else
#define TC_HOST_DEVICE inline
#endif

namespace tensorcoder {

struct Philox4x32 {
  uint32_t v[4];
};

// Philox4x32-10 of a 128-bit counter under a 64-bit key.
TC_HOST_DEVICE Philox4x32 Philox4x32_10(uint32_t c0, uint32_t c1, uint32_t c2,
                                        uint32_t c3, uint32_t k0,
                                        uint32_t k1) {
  for (int round = 0; round < 10; ++round) {
    const uint64_t p0 = static_cast<uint64_t>(0xD2511F53u) * c0;
    const uint64_t p1 = static_cast<uint64_t>(0xCD9E8D57u) * c2;
    const uint32_t hi0 = static_cast<uint32_t>(p0 >> 32);
    const uint32_t lo0 = static_cast<uint32_t>(p0);
    const uint32_t hi1 = static_cast<uint32_t>(p1 >> 32);
    const uint32_t lo1 = static_cast<uint32_t>(p1);
    c0 = hi1 ^ c1 ^ k0;
    c1 = lo1;
    c2 = hi0 ^ c3 ^ k1;
    c3 = lo0;
    k0 += 0x9E3779B9u;
    k1 += 0xBB67AE85u;
  }
  return Philox4x32{{c0, c1, c2, c3}};
}

// Uniform noise in [-1/2, 1/2) for element `index`: 24 random bits for
// float, 53 for double.
TC_HOST_DEVICE float UniformNoiseFloat(uint64_t index, uint32_t k0,
                                       uint32_t k1) {
  const Philox4x32 r = Philox4x32_10(static_cast<uint32_t>(index),
                                     static_cast<uint32_t>(index >> 32), 0, 0,
                                     k0, k1);
  return static_cast<float>(r.v[0] >> 8) * (1.0f / 16777216.0f) - 0.5f;
}

TC_HOST_DEVICE double UniformNoiseDouble(uint64_t index, uint32_t k0,
                                         uint32_t k1) {
  const Philox4x32 r = Philox4x32_10(static_cast<uint32_t>(index),
                                     static_cast<uint32_t>(index >> 32), 0, 0,
                                     k0, k1);
  const uint64_t bits =
      (static_cast<uint64_t>(r.v[0]) << 21) ^ (r.v[1] >> 11);  // 53 bits
  return static_cast<double>(bits & ((uint64_t{1} << 53) - 1)) *
             (1.0 / 9007199254740992.0) -
         0.5;
}

template <typename T>
TC_HOST_DEVICE T UniformNoiseValue(uint64_t index, uint32_t k0, uint32_t k1);
template <>
TC_HOST_DEVICE float UniformNoiseValue<float>(uint64_t index, uint32_t k0,
                                              uint32_t k1) {
  return UniformNoiseFloat(index, k0, k1);
}
template <>
TC_HOST_DEVICE double UniformNoiseValue<double>(uint64_t index, uint32_t k0,
                                                uint32_t k1) {
  return UniformNoiseDouble(index, k0, k1);
}

}  // namespace tensorcoder

#endif  // TENSORCODER_CC_COUNTER_RNG_H_
