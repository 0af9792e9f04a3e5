// Quantization of probability mass functions into integer CDFs.
#ifndef TENSORCODER_CC_PMF_TO_CDF_H_
#define TENSORCODER_CC_PMF_TO_CDF_H_

#include <cstddef>
#include <cstdint>
#include <vector>

#include "cc/status.h"

namespace tensorcoder {

// Returns the CDF [0, c_1, ..., c_n = 2^precision] of a quantized version of
// the n masses in `pmf`: each symbol gets at least one count, the counts sum
// to exactly 2^precision, and the result is deterministic.
//
// Counts start at max(1, rint(pmf[i] * 2^precision)). While their sum is too
// large, the count whose decrement costs the least cross-entropy,
// pmf[i] * (log2(c) - log2(c - 1)), is decremented (never below 1); while it
// is too small, the count whose increment gains the most,
// pmf[i] * (log2(c + 1) - log2(c)), is incremented. Ties go to the lower
// index. This reproduces TensorFlow Compression's pmf_to_quantized_cdf for
// float32 inputs without ties.
//
// A pmf summing to more than 1 + 2^-10 (histogram counts, say) is first
// divided by its sum; a pmf summing to less than 1 keeps its masses, the
// remaining counts going where they gain the most.
//
// INVALID_ARGUMENT if n == 0, n > 2^precision, precision is outside 1..16,
// or any mass is negative, NaN or infinite (the error names its index).
StatusOr<std::vector<int32_t>> PmfToQuantizedCdf(const double* pmf, size_t n,
                                                 int precision);

}  // namespace tensorcoder

#endif  // TENSORCODER_CC_PMF_TO_CDF_H_
