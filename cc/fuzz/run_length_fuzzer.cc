// Fuzzes the run-length codes (cc/run_length_coder.h): decoders on any
// bytes, and the encoders on any values.
//
// Input: a mode byte (bit 0: the general code, else run-length gamma; bit
// 1: encode values, else decode a string; bit 2:
// use_run_length_for_non_zeros), the run-length and magnitude code
// parameters (a byte each, mod 40, minus 1: -1 is gamma, 0..31 Rice, 32..38
// invalid), then for decoding the value count (u16 mod 4097) and the string
// (the remaining bytes), for encoding the values until the input ends (a
// byte each: < 160 zero, < 250 the byte minus 205, else a raw int32 from 4
// more bytes).
//
// Encoding inputs whose Rice magnitude codes would total more than 2^20
// unary bits are skipped (see below).
//
// Properties:
//  * decoding gives OK, DATA_LOSS, or (invalid parameters) INVALID_ARGUMENT;
//    no crash, no undefined behaviour, no read past the string;
//  * canonical codes: a string the decoder accepts is exactly what the
//    encoder writes for the decoded values (unless the encoder refuses a
//    Rice code longer than kMaxRiceUnaryBits, which needs over 2 MiB);
//  * encoding succeeds for valid parameters (or refuses such an over-long
//    Rice code) and decodes back to the values.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "cc/fuzz/fuzz_util.h"
#include "cc/run_length_coder.h"
#include "cc/status.h"
#include "cc/test_util.h"

namespace tensorcoder {
namespace fuzz {
namespace {

bool ValidOptions(const RunLengthOptions& options) {
  return options.run_length_code <= 31 && options.magnitude_code <= 31;
}

StatusOr<std::string> Encode(bool general, const std::vector<int32_t>& values,
                             const RunLengthOptions& options) {
  return general ? RunLengthEncode(values.data(), values.size(), options)
                 : RunLengthGammaEncode(values.data(), values.size());
}

Status Decode(bool general, const std::vector<char>& code,
              std::vector<int32_t>* values, const RunLengthOptions& options) {
  return general ? RunLengthDecode(code.data(), code.size(), values->data(),
                                   values->size(), options)
                 : RunLengthGammaDecode(code.data(), code.size(),
                                        values->data(), values->size());
}

bool RefusedLongRice(const Status& status) {
  return status.code() == StatusCode::kInvalidArgument &&
         status.message().find("needs a Rice(") != std::string::npos;
}

void Fuzz(FuzzInput* in) {
  const uint8_t mode = in->Byte();
  const bool general = mode & 1;
  const bool encode = mode & 2;
  RunLengthOptions options;
  options.use_run_length_for_non_zeros = mode & 4;
  options.run_length_code = in->Byte() % 40 - 1;
  options.magnitude_code = in->Byte() % 40 - 1;
  const bool valid = !general || ValidOptions(options);

  if (encode) {
    std::vector<int32_t> values;
    while (in->rest_size() > 0 && values.size() < 4096) {
      const uint8_t b = in->Byte();
      values.push_back(b < 160 ? 0
                       : b < 250 ? static_cast<int32_t>(b) - 205
                                 : static_cast<int32_t>(in->U32()));
    }
    // A Rice magnitude code may legitimately be up to kMaxRiceUnaryBits
    // (2 MiB) long per value; inputs whose code would exceed 2^20 unary
    // bits in all are skipped, so that runs stay fast and small.
    if (general && valid && options.magnitude_code >= 0) {
      uint64_t unary_bits = 0;
      for (int32_t v : values) {
        if (v == 0) continue;
        const uint32_t magnitude = v < 0 ? 0u - static_cast<uint32_t>(v)
                                         : static_cast<uint32_t>(v);
        unary_bits += (magnitude - 1) >> options.magnitude_code;
      }
      if (unary_bits > (uint64_t{1} << 20)) return;
    }
    const StatusOr<std::string> code = Encode(general, values, options);
    if (!valid) {
      FUZZ_CHECK(code.status().code() == StatusCode::kInvalidArgument,
                 "invalid options accepted");
      return;
    }
    if (!code.ok() && RefusedLongRice(code.status())) return;
    FUZZ_CHECK(code.ok(), "values refused: ", code.status().ToString());
    const std::vector<char> bytes(code->begin(), code->end());
    std::vector<int32_t> decoded(values.size(), 12345);
    const Status status = Decode(general, bytes, &decoded, options);
    FUZZ_CHECK(status.ok(), "encoded string does not decode: ",
               status.ToString());
    FUZZ_CHECK(decoded == values, "round trip differs\n  values:  ",
               Printable(values), "\n  decoded: ", Printable(decoded));
    return;
  }

  std::vector<int32_t> values(in->U16() % 4097, 12345);
  // The string ends where the input ends: reads past it are caught.
  const std::vector<char> bytes(in->rest(), in->rest() + in->rest_size());
  const Status status = Decode(general, bytes, &values, options);
  if (!valid) {
    FUZZ_CHECK(status.code() == StatusCode::kInvalidArgument,
               "invalid options accepted: ", status.ToString());
    return;
  }
  if (!status.ok()) {
    FUZZ_CHECK(status.code() == StatusCode::kDataLoss, status.ToString());
    return;
  }
  const StatusOr<std::string> code = Encode(general, values, options);
  if (!code.ok() && RefusedLongRice(code.status())) return;
  FUZZ_CHECK(code.ok(), "decoded values do not encode: ",
             code.status().ToString());
  FUZZ_CHECK(*code == std::string(bytes.begin(), bytes.end()),
             "accepted string is not canonical\n  input:      ",
             testing::Hex(std::string(bytes.begin(), bytes.end())),
             "\n  re-encoded: ", testing::Hex(*code),
             "\n  values: ", Printable(values));
}

}  // namespace
}  // namespace fuzz
}  // namespace tensorcoder

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  tensorcoder::fuzz::FuzzInput in(data, size);
  tensorcoder::fuzz::Fuzz(&in);
  return 0;
}
