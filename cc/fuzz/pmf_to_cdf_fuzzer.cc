// Fuzzes pmf quantization (cc/pmf_to_cdf.h).
//
// Input: a precision byte (bits 0-6 mod 18: 0 and 17 are invalid; bit 7:
// divide the masses by their sum first, if it is finite and positive, as
// most callers' pmfs sum to about 1), then masses until
// the input ends, each from a token byte: 0x00-0xEF a 16-bit fraction (with
// the next byte) of 1, 0xF0-0xF7 one of 0, -0, NaN, +inf, -inf, the
// smallest subnormal, DBL_MAX, -1e-300, 0xF8-0xFF a raw double (8 bytes).
//
// Properties:
//  * INVALID_ARGUMENT exactly when the precision is outside 1..16, there are
//    no masses or more than 2^precision, or a mass is negative, NaN or
//    infinite; no crash or undefined behaviour for any double;
//  * otherwise the result is a CDF of n + 1 values that ValidateCdf accepts
//    (0, strictly increasing, ending at 2^precision: every symbol has a
//    count).
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <vector>

#include "cc/cdf_table.h"
#include "cc/fuzz/fuzz_util.h"
#include "cc/pmf_to_cdf.h"
#include "cc/status.h"

namespace tensorcoder {
namespace fuzz {
namespace {

double Mass(FuzzInput* in) {
  const uint8_t t = in->Byte();
  if (t < 0xF0) return static_cast<double>((t << 8) | in->Byte()) / 61440.0;
  if (t >= 0xF8) {
    const uint64_t bits = in->U64();
    double value;
    std::memcpy(&value, &bits, sizeof(value));
    return value;
  }
  const double special[] = {0.0,
                            -0.0,
                            std::numeric_limits<double>::quiet_NaN(),
                            std::numeric_limits<double>::infinity(),
                            -std::numeric_limits<double>::infinity(),
                            std::numeric_limits<double>::denorm_min(),
                            std::numeric_limits<double>::max(),
                            -1e-300};
  return special[t - 0xF0];
}

void Fuzz(FuzzInput* in) {
  const uint8_t precision_byte = in->Byte();
  const int precision = (precision_byte & 0x7F) % 18;
  std::vector<double> pmf;
  while (in->rest_size() > 0) pmf.push_back(Mass(in));
  if (precision_byte & 0x80) {
    double sum = 0;
    for (double p : pmf) sum += p;
    if (std::isfinite(sum) && sum > 0) {
      for (double& p : pmf) p /= sum;
    }
  }

  bool valid = precision >= 1 && precision <= 16 && !pmf.empty() &&
               pmf.size() <= (size_t{1} << precision);
  for (double p : pmf) valid = valid && std::isfinite(p) && p >= 0;

  const StatusOr<std::vector<int32_t>> cdf =
      PmfToQuantizedCdf(pmf.data(), pmf.size(), precision);
  if (!valid) {
    FUZZ_CHECK(cdf.status().code() == StatusCode::kInvalidArgument &&
                   !cdf.status().message().empty(),
               "invalid pmf accepted (precision ", precision, ", ",
               pmf.size(), " masses)");
    return;
  }
  FUZZ_CHECK(cdf.ok(), "valid pmf refused: ", cdf.status().ToString());
  FUZZ_CHECK(cdf->size() == pmf.size() + 1, cdf->size(), " CDF values for ",
             pmf.size(), " masses");
  const Status status = ValidateCdf(cdf->data(), cdf->size(), precision);
  FUZZ_CHECK(status.ok(), "not a valid CDF: ", status.ToString(), ": ",
             Printable(*cdf));
}

}  // namespace
}  // namespace fuzz
}  // namespace tensorcoder

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  tensorcoder::fuzz::FuzzInput in(data, size);
  tensorcoder::fuzz::Fuzz(&in);
  return 0;
}
