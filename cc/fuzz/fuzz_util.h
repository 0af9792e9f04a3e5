// Helpers shared by the fuzz harnesses in cc/fuzz/ (built by tools/fuzz.sh,
// not by Bazel): a reader that turns fuzzer bytes into parameters, a valid
// CDF table built from bytes, and FUZZ_CHECK, which aborts (a finding) when
// a property fails.
//
// Harnesses define LLVMFuzzerTestOneInput(). Each must be deterministic,
// must accept any bytes, and must check a property stronger than "does not
// crash" wherever the library documents one. FUZZING.md lists them.
#ifndef TENSORCODER_CC_FUZZ_FUZZ_UTIL_H_
#define TENSORCODER_CC_FUZZ_FUZZ_UTIL_H_

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "cc/cdf_table.h"
#include "cc/status.h"

// Reports a failed property and aborts, which libFuzzer records as a crash.
#define FUZZ_CHECK(condition, ...)                                        \
  do {                                                                    \
    if (!(condition)) {                                                   \
      std::fprintf(stderr, "%s:%d: property failed: %s\n  %s\n", __FILE__, \
                   __LINE__, #condition,                                  \
                   ::tensorcoder::StrCat(__VA_ARGS__).c_str());           \
      std::abort();                                                       \
    }                                                                     \
  } while (0)

namespace tensorcoder {
namespace fuzz {

// Consumes fuzzer bytes front to back; past the end every read gives zero,
// so any input is a valid parameter list.
class FuzzInput {
 public:
  FuzzInput(const uint8_t* data, size_t size) : data_(data), size_(size) {}

  uint8_t Byte() { return position_ < size_ ? data_[position_++] : 0; }
  uint16_t U16() {
    const uint16_t low = Byte();
    return static_cast<uint16_t>(low | (Byte() << 8));
  }
  uint32_t U32() {
    const uint32_t low = U16();
    return low | (uint32_t{U16()} << 16);
  }
  uint64_t U64() {
    const uint64_t low = U32();
    return low | (uint64_t{U32()} << 32);
  }
  // The bytes not consumed yet, which the caller takes as a whole.
  const uint8_t* rest() const { return data_ + position_; }
  size_t rest_size() const { return size_ - position_; }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t position_ = 0;
};

// A lookup in the matrix layout, valid by construction, read from bytes:
//   rows - 1 (1 byte, taken modulo max_rows), then per row: a byte with the
//   precision - 1 in bits 0-3, overflow in bit 7 and "wide" in bit 6, the
//   number of symbols minus one (a byte, or a u16 if wide, taken modulo
//   min(2^precision, max_symbols)), and
//   one u16 per CDF step: c_i = c_{i-1} + 1 + u16 % (room left for the
//   remaining symbols).
// tools/fuzz.sh's corpus generator (make_corpus.cc) writes this layout.
struct FuzzTable {
  std::vector<int32_t> lookup;  // rows x width, padded with 2^precision.
  size_t rows = 0;
  size_t width = 0;
  CdfTable table;
};

inline FuzzTable ReadTable(FuzzInput* in, size_t max_rows,
                           uint32_t max_symbols) {
  const size_t rows = 1 + in->Byte() % max_rows;
  std::vector<std::vector<int32_t>> cdfs(rows);
  std::vector<int> precisions(rows);
  size_t width = 3;
  for (size_t r = 0; r < rows; ++r) {
    const uint8_t flags = in->Byte();
    const int precision = 1 + (flags & 15);
    const int32_t total = int32_t{1} << precision;
    const uint32_t limit =
        std::min<uint32_t>(static_cast<uint32_t>(total), max_symbols);
    const uint32_t symbols =
        1 + ((flags & 0x40) ? in->U16() : in->Byte()) % limit;
    std::vector<int32_t>& row = cdfs[r];
    row.push_back((flags & 0x80) ? -precision : precision);
    row.push_back(0);
    for (uint32_t i = 1; i < symbols; ++i) {
      // Leave one count for each of the symbols after this one.
      const int32_t previous = row.back();
      const int32_t room =
          total - static_cast<int32_t>(symbols - i) - previous;
      row.push_back(previous + 1 + in->U16() % room);
    }
    row.push_back(total);
    precisions[r] = precision;
    width = std::max(width, row.size());
  }
  FuzzTable result;
  result.rows = rows;
  result.width = width;
  for (size_t r = 0; r < rows; ++r) {
    std::vector<int32_t> row = cdfs[r];
    row.resize(width, int32_t{1} << precisions[r]);
    result.lookup.insert(result.lookup.end(), row.begin(), row.end());
  }
  StatusOr<CdfTable> table =
      CdfTable::FromMatrix(result.lookup.data(), rows, width);
  FUZZ_CHECK(table.ok(), "a table built to be valid was refused: ",
             table.status().ToString());
  result.table = std::move(table).value();
  return result;
}

inline std::string Printable(const std::vector<int32_t>& values) {
  std::string out;
  for (size_t i = 0; i < values.size() && i < 64; ++i) {
    out += StrCat(i ? " " : "", values[i]);
  }
  if (values.size() > 64) out += " ...";
  return out;
}

}  // namespace fuzz
}  // namespace tensorcoder

#endif  // TENSORCODER_CC_FUZZ_FUZZ_UTIL_H_
