// Fuzzes the bit reader's gamma and Rice codes (cc/bit_coder.h).
//
// Input: the number of codes to read minus one (a byte, mod 64), one byte
// per code (bits 6-7: 0 gamma, 1 Rice with parameter bits 0-4, 2 a field of
// (byte mod 33) bits, 3 one bit), then the bit string: the remaining bytes.
//
// Properties:
//  * reading gives OK or DATA_LOSS, never a crash or undefined behaviour;
//  * canonical codes: when every code reads and Finish() accepts the end
//    (no whole byte left, zero padding), writing the decoded values with
//    BitWriter gives back exactly the input bytes.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "cc/bit_coder.h"
#include "cc/fuzz/fuzz_util.h"
#include "cc/status.h"
#include "cc/test_util.h"

namespace tensorcoder {
namespace fuzz {
namespace {

enum class Kind { kGamma, kRice, kBits, kBit };

struct Code {
  Kind kind;
  int parameter;  // Rice parameter or field width.
  uint32_t value = 0;
};

void Fuzz(FuzzInput* in) {
  std::vector<Code> codes(1 + in->Byte() % 64);
  for (Code& code : codes) {
    const uint8_t b = in->Byte();
    code.kind = static_cast<Kind>(b >> 6);
    code.parameter = code.kind == Kind::kRice ? (b & 31) : b % 33;
  }
  const std::string input(reinterpret_cast<const char*>(in->rest()),
                          in->rest_size());
  // An exact-size heap copy: reads past the end are caught.
  const std::vector<char> bytes(input.begin(), input.end());
  BitReader reader(bytes.data(), bytes.size());
  for (Code& code : codes) {
    Status status;
    switch (code.kind) {
      case Kind::kGamma:
        status = reader.ReadGamma(&code.value);
        if (status.ok()) FUZZ_CHECK(code.value >= 1, "gamma value 0");
        break;
      case Kind::kRice:
        status = reader.ReadRice(code.parameter, &code.value);
        break;
      case Kind::kBits:
        status = reader.ReadBits(code.parameter, &code.value);
        if (status.ok() && code.parameter < 32) {
          FUZZ_CHECK(code.value >> code.parameter == 0, "field too wide");
        }
        break;
      case Kind::kBit:
        status = reader.ReadOneBit(&code.value);
        if (status.ok()) FUZZ_CHECK(code.value <= 1, "bit ", code.value);
        break;
    }
    if (!status.ok()) {
      FUZZ_CHECK(status.code() == StatusCode::kDataLoss, status.ToString());
      return;
    }
  }
  const Status status = reader.Finish();
  if (!status.ok()) {
    FUZZ_CHECK(status.code() == StatusCode::kDataLoss, status.ToString());
    return;
  }
  BitWriter writer;
  for (const Code& code : codes) {
    switch (code.kind) {
      case Kind::kGamma:
        writer.WriteGamma(code.value);
        break;
      case Kind::kRice:
        // The writer refuses unary parts over kMaxRiceUnaryBits (2 MiB of
        // zeros), which the reader accepts up to 32-bit values; no input
        // under 2 MiB reaches that.
        if (!BitWriter::RiceFits(code.value, code.parameter)) return;
        writer.WriteRice(code.value, code.parameter);
        break;
      case Kind::kBits:
        writer.WriteBits(code.parameter, code.value);
        break;
      case Kind::kBit:
        writer.WriteOneBit(code.value);
        break;
    }
  }
  const std::string written = writer.Finish();
  FUZZ_CHECK(written == input, "accepted bits are not canonical\n  input:   ",
             testing::Hex(input), "\n  written: ", testing::Hex(written));
}

}  // namespace
}  // namespace fuzz
}  // namespace tensorcoder

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  tensorcoder::fuzz::FuzzInput in(data, size);
  tensorcoder::fuzz::Fuzz(&in);
  return 0;
}
