// Run-length codes for sparse integer tensors (PowerLawEntropyModel and
// TensorFlow Compression's run_length_* ops), built on bit_coder.h.
//
// Run-length gamma code: for each non-zero value, gamma(number of zeros
// before it + 1), a sign bit (1 = positive), gamma(|value|); then, if the
// data ends with zeros, gamma(number of trailing zeros + 1).
//
// General run-length code: alternates a run length of zeros with either one
// non-zero value or (use_run_length_for_non_zeros) a run length of non-zeros
// followed by those values. Run lengths use code `run_length_code` and
// magnitudes `magnitude_code`: a parameter m >= 0 selects Rice(m), a
// negative one the gamma code. With gamma, a run length r is coded as
// gamma(r + 1); a non-zero v as a sign bit (1 = positive) and gamma(|v|).
// With Rice, magnitudes are coded as |v| - 1. When non-zero runs are coded,
// every zero run after the first is at least 1 long and is coded minus one;
// a non-zero run of length r is coded as r - 1.
//
// All int32 values are codable, INT32_MIN included.
#ifndef TENSORCODER_CC_RUN_LENGTH_CODER_H_
#define TENSORCODER_CC_RUN_LENGTH_CODER_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "cc/status.h"

namespace tensorcoder {

// INVALID_ARGUMENT for more than 2^32 - 2 values (run lengths are 32-bit).
StatusOr<std::string> RunLengthGammaEncode(const int32_t* data, size_t count);

// Decodes exactly `count` values into `data`; DATA_LOSS if the string is
// corrupted, truncated or longer than needed.
Status RunLengthGammaDecode(const char* code, size_t size, int32_t* data,
                            size_t count);

struct RunLengthOptions {
  int run_length_code = -1;  // < 0: gamma; 0..31: Rice parameter.
  int magnitude_code = -1;   // < 0: gamma; 0..31: Rice parameter.
  bool use_run_length_for_non_zeros = false;
};

// INVALID_ARGUMENT for a Rice parameter over 31, or a value whose Rice code
// would exceed kMaxRiceUnaryBits.
StatusOr<std::string> RunLengthEncode(const int32_t* data, size_t count,
                                      const RunLengthOptions& options);

Status RunLengthDecode(const char* code, size_t size, int32_t* data,
                       size_t count, const RunLengthOptions& options);

}  // namespace tensorcoder

#endif  // TENSORCODER_CC_RUN_LENGTH_CODER_H_
