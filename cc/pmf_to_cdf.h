// Quantization of probability mass functions into integer CDFs.
#ifndef TENSORCODER_CC_PMF_TO_CDF_H_
#define TENSORCODER_CC_PMF_TO_CDF_H_

#include <cstddef>
#include <cstdint>
#include <vector>

#include "cc/parallel.h"
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

// The width of the lookup rows PmfsToLookup writes for pmfs of up to
// `max_length` masses: the precision, n + 1 CDF values, and one more CDF
// value for the escape with `overflow`.
inline size_t LookupWidth(size_t max_length, bool overflow) {
  return max_length + (overflow ? 3 : 2);
}

// Builds the lookup matrix (cdf_table.h, matrix layout) of the entropy
// models from num_rows pmfs: row r holds the lengths[r] masses
// pmfs[r * max_length + (0 .. lengths[r] - 1)] (1 <= lengths[r] <=
// max_length; the rest of the row is ignored). With `overflow`, an escape
// symbol of mass max(0, 1 - sum of the row) is appended and the row starts
// with -precision, otherwise with +precision. Each row is quantized by
// PmfToQuantizedCdf and padded with 2^precision to
// LookupWidth(max_length, overflow) entries, written to
// lookup[r * width ...]. Rows are built through `runner`. T is float or
// double. INVALID_ARGUMENT naming the row for a bad length or pmf.
template <typename T>
Status PmfsToLookup(const T* pmfs, const int32_t* lengths, size_t num_rows,
                    size_t max_length, int precision, bool overflow,
                    const Runner& runner, int32_t* lookup);

extern template Status PmfsToLookup<float>(const float*, const int32_t*,
                                           size_t, size_t, int, bool,
                                           const Runner&, int32_t*);
extern template Status PmfsToLookup<double>(const double*, const int32_t*,
                                            size_t, size_t, int, bool,
                                            const Runner&, int32_t*);

}  // namespace tensorcoder

#endif  // TENSORCODER_CC_PMF_TO_CDF_H_
