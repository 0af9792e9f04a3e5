// Fuzzes the tensor-file reader and its C ABI (cc/tensor_file.h).
//
// Input: a flags byte, then the file. Flags bit 0 set: the file is given
// without its checksum and the harness appends the right one, so that
// mutations reach the parser instead of stopping at the CRC check; clear:
// the bytes are decoded as they are. Bits 1-7 choose the size of the C ABI's
// error buffer (0..127 bytes).
//
// Properties:
//  * any bytes give OK, INVALID_ARGUMENT or DATA_LOSS, with a message; no
//    crash, no undefined behaviour, no read outside the input;
//  * on success the shape has rank <= 32 and product(shape) values;
//  * the C ABI returns the same code, values and shape, a NUL-terminated
//    message that is a prefix of the C++ one (truncated to its buffer), and
//    a pointer tc_free releases (LeakSanitizer checks it).
//
// Files declaring 2^18 .. 2^28 values are skipped (parsed no further than
// their shape): the reader must then allocate 4 bytes per value and decode
// them all, which is documented (a single-symbol row codes any number of
// values in zero bytes) and would only slow the fuzzer down; tensor_file_test
// covers them. Larger declared shapes are still fuzzed: they must be refused.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "cc/crc32.h"
#include "cc/fuzz/fuzz_util.h"
#include "cc/status.h"
#include "cc/tensor_file.h"

namespace tensorcoder {
namespace fuzz {
namespace {

constexpr uint64_t kSkipAbove = uint64_t{1} << 18;
constexpr uint64_t kMaxValues = uint64_t{1} << 28;

// True if the header declares a tensor of kSkipAbove..kMaxValues values.
bool TooSlowToFuzz(const std::string& file) {
  const size_t kShapeOffset = 12;  // magic, version, mode, rank.
  if (file.size() < kShapeOffset) return false;
  const size_t rank = static_cast<unsigned char>(file[11]);
  if (rank > 32) return false;  // Refused at once.
  uint64_t product = 1;
  for (size_t d = 0; d < rank; ++d) {
    const size_t at = kShapeOffset + 8 * d;
    if (at + 8 > file.size()) return false;
    uint64_t dim = 0;
    for (size_t i = 0; i < 8; ++i) {
      dim |= uint64_t{static_cast<unsigned char>(file[at + i])} << (8 * i);
    }
    if (dim > kMaxValues) return false;  // Refused at once.
    product = dim == 0 ? 0 : (product > kMaxValues / dim ? kMaxValues + 1
                                                          : product * dim);
  }
  return product > kSkipAbove && product <= kMaxValues;
}

void Fuzz(const uint8_t* data, size_t size) {
  if (size == 0) return;
  const uint8_t flags = data[0];
  std::string file(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (flags & 1) {
    const uint32_t crc = Crc32(file.data(), file.size());
    for (int i = 0; i < 4; ++i) file.push_back(static_cast<char>(crc >> (8 * i)));
  }
  if (TooSlowToFuzz(file)) return;
  // An exact-size heap copy: reads past the end are caught.
  const std::vector<char> bytes(file.begin(), file.end());
  const char* input = bytes.empty() ? nullptr : bytes.data();

  DecodedTensor tensor;
  const Status status = DecodeTensorFile(input, bytes.size(), &tensor);
  if (status.ok()) {
    FUZZ_CHECK(tensor.shape.size() <= 32, "rank ", tensor.shape.size());
    uint64_t product = 1;
    for (int64_t d : tensor.shape) {
      FUZZ_CHECK(d >= 0, "negative dimension ", d);
      product *= static_cast<uint64_t>(d);
    }
    FUZZ_CHECK(product == tensor.values.size(), "shape holds ", product,
               " values but ", tensor.values.size(), " were decoded");
  } else {
    FUZZ_CHECK(status.code() == StatusCode::kInvalidArgument ||
                   status.code() == StatusCode::kDataLoss,
               "unexpected code: ", status.ToString());
    FUZZ_CHECK(!status.message().empty(), "error without a message");
    FUZZ_CHECK(tensor.values.empty() && tensor.shape.empty(),
               "a failed decode left output behind");
  }

  const size_t error_size = flags >> 1;
  std::vector<char> error(error_size + 1, 'x');  // error[error_size]: guard.
  int32_t* values = nullptr;
  size_t num_values = 0;
  int64_t shape[32];
  int rank = -1;
  const int code =
      tc_decode_tensor_file(input, bytes.size(), &values, &num_values, shape,
                            &rank, error_size ? error.data() : nullptr,
                            error_size);
  FUZZ_CHECK(code == static_cast<int>(status.code()), "C ABI code ", code,
             " but C++ ", status.ToString());
  FUZZ_CHECK(error[error_size] == 'x', "error buffer overrun");
  if (error_size > 0) {
    const size_t length = strnlen(error.data(), error_size);
    FUZZ_CHECK(length < error_size, "message not NUL-terminated");
    FUZZ_CHECK(status.message().compare(0, length, error.data(), length) == 0,
               "C message differs: ", std::string(error.data(), length));
    FUZZ_CHECK(status.ok() || length == std::min(error_size - 1,
                                                 status.message().size()),
               "C message truncated wrongly");
  }
  if (code == 0) {
    FUZZ_CHECK(values != nullptr, "no values pointer on success");
    FUZZ_CHECK(num_values == tensor.values.size() &&
                   (num_values == 0 ||
                    std::memcmp(values, tensor.values.data(),
                                num_values * sizeof(int32_t)) == 0),
               "C ABI values differ");
    FUZZ_CHECK(rank == static_cast<int>(tensor.shape.size()), "C ABI rank");
    for (int d = 0; d < rank; ++d) {
      FUZZ_CHECK(shape[d] == tensor.shape[d], "C ABI shape");
    }
    tc_free(values);
  }
}

}  // namespace
}  // namespace fuzz
}  // namespace tensorcoder

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  tensorcoder::fuzz::Fuzz(data, size);
  return 0;
}
