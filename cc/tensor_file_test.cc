#include "cc/tensor_file.h"

#include <atomic>
#include <cstdlib>
#include <new>
#include <random>
#include <string>
#include <vector>

#include "cc/crc32.h"
#include "cc/range_encoder.h"
#include "cc/test_util.h"
#include "cc/unit_encoder.h"
#include "gtest/gtest.h"

// The largest single allocation made through operator new while
// g_track_allocations is set (this test's replacement of the global
// operator new; it forwards to malloc).
std::atomic<bool> g_track_allocations{false};
std::atomic<size_t> g_largest_allocation{0};

void* operator new(size_t size) {
  if (g_track_allocations.load(std::memory_order_relaxed)) {
    size_t largest = g_largest_allocation.load();
    while (size > largest &&
           !g_largest_allocation.compare_exchange_weak(largest, size)) {
    }
  }
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void* operator new[](size_t size) { return operator new(size); }
// GCC 12 at -O2 with -DNDEBUG (bazel -c opt) inlines these into callers of
// the operator new above and warns that free() gets a pointer from
// operator new, not seeing that it came from malloc.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }
void operator delete[](void* p, size_t) noexcept { std::free(p); }
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

namespace tensorcoder {
namespace {

template <typename T>
void Put(std::string* out, T value) {
  for (size_t i = 0; i < sizeof(T); ++i) {
    out->push_back(static_cast<char>(static_cast<uint64_t>(value) >> (8 * i)));
  }
}

// Writes a tensor file as tensorcoder.tensor_file does: one string per
// slice of the leading axis.
std::string WriteFile(const std::vector<int64_t>& shape, int rows, int width,
                      const std::vector<int32_t>& lookup,
                      const std::vector<int32_t>& indexes,
                      const std::vector<int32_t>& values,
                      uint16_t version = 1) {
  std::string out(kTensorFileMagic, sizeof(kTensorFileMagic));
  Put<uint16_t>(&out, version);
  Put<uint8_t>(&out, indexes.empty() ? 0 : 1);
  Put<uint8_t>(&out, static_cast<uint8_t>(shape.size()));
  for (int64_t d : shape) Put<uint64_t>(&out, d);
  Put<uint32_t>(&out, rows);
  Put<uint32_t>(&out, width);
  for (int32_t v : lookup) Put<int32_t>(&out, v);
  for (int32_t v : indexes) Put<int32_t>(&out, v);
  const uint64_t strings = shape.empty() ? 1 : shape[0];
  Put<uint64_t>(&out, strings);
  StatusOr<CdfTable> table = CdfTable::FromMatrix(lookup.data(), rows, width);
  EXPECT_TRUE(table.ok());
  const size_t per = strings ? values.size() / strings : 0;
  for (uint64_t k = 0; k < strings; ++k) {
    StatusOr<std::string> s =
        indexes.empty()
            ? EncodeChannel(*table, values.data() + k * per, per)
            : EncodeIndexed(*table, indexes.data() + k * per,
                            values.data() + k * per, per);
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    Put<uint64_t>(&out, s->size());
    out += *s;
  }
  Put<uint32_t>(&out, Crc32(out.data(), out.size()));
  return out;
}

// Writes a version-2 file: offsets after the lookup, strings that are
// coding units (cc/unit_encoder.h), as tensorcoder.tensor_file.pack_units.
std::string WriteUnitsFile(const std::vector<int64_t>& shape, int rows,
                           int width, const std::vector<int32_t>& lookup,
                           const std::vector<int32_t>& offsets,
                           const std::vector<int32_t>& indexes,
                           const std::vector<int32_t>& values) {
  std::string out(kTensorFileMagic, sizeof(kTensorFileMagic));
  Put<uint16_t>(&out, 2);
  Put<uint8_t>(&out, indexes.empty() ? 0 : 1);
  Put<uint8_t>(&out, static_cast<uint8_t>(shape.size()));
  for (int64_t d : shape) Put<uint64_t>(&out, d);
  Put<uint32_t>(&out, rows);
  Put<uint32_t>(&out, width);
  for (int32_t v : lookup) Put<int32_t>(&out, v);
  for (int32_t v : offsets) Put<int32_t>(&out, v);
  for (int32_t v : indexes) Put<int32_t>(&out, v);
  const uint64_t num_strings = shape.empty() ? 1 : shape[0];
  Put<uint64_t>(&out, num_strings);
  StatusOr<CdfTable> table = CdfTable::FromMatrix(lookup.data(), rows, width);
  EXPECT_TRUE(table.ok());
  std::vector<std::string> strings;
  const Status status = EncodeUnits(
      *table, offsets.data(), values.data(), num_strings,
      indexes.empty() ? nullptr : indexes.data(),
      num_strings ? values.size() / num_strings : 0, ThreadRunner(2),
      &strings);
  EXPECT_TRUE(status.ok()) << status.ToString();
  for (const std::string& string : strings) {
    Put<uint64_t>(&out, string.size());
    out += string;
  }
  Put<uint32_t>(&out, Crc32(out.data(), out.size()));
  return out;
}

const std::vector<int32_t> kLookup = {-8, 0, 100, 200, 250, 256,  //
                                      3,  0, 1,   8,   8,   8};

TEST(TensorFileTest, RoundTripsBothModes) {
  std::mt19937 rng(1);
  std::vector<int32_t> values(3 * 4 * 2), indexes(values.size());
  for (size_t i = 0; i < values.size(); ++i) {
    indexes[i] = static_cast<int32_t>(i % 2);
    values[i] = i % 2 ? static_cast<int32_t>(rng() % 2)
                      : static_cast<int32_t>(rng() % 2000) - 1000;
  }
  for (bool indexed : {false, true}) {
    const std::string file = WriteFile({3, 4, 2}, 2, 6, kLookup,
                                       indexed ? indexes : std::vector<int32_t>(),
                                       values);
    DecodedTensor tensor;
    TC_ASSERT_OK(DecodeTensorFile(file.data(), file.size(), &tensor));
    EXPECT_EQ(tensor.shape, (std::vector<int64_t>{3, 4, 2}));
    EXPECT_EQ(tensor.values, values);
  }
  // A scalar and an empty tensor.
  DecodedTensor tensor;
  std::string file = WriteFile({}, 2, 6, kLookup, {}, {-5});
  TC_ASSERT_OK(DecodeTensorFile(file.data(), file.size(), &tensor));
  EXPECT_EQ(tensor.values, std::vector<int32_t>{-5});
  file = WriteFile({0, 2}, 2, 6, kLookup, {}, {});
  TC_ASSERT_OK(DecodeTensorFile(file.data(), file.size(), &tensor));
  EXPECT_TRUE(tensor.values.empty());
}

// Version 2 holds chunked coding units with offsets: a 1x64x64x192 latent
// (one unit of 786,432 values, 12 chunks) in channel mode with 192 rows,
// and a smaller indexed tensor.
TEST(TensorFileTest, Version2DecodesChunkedUnitsWithOffsets) {
  const int rows = 192;
  std::vector<int32_t> lookup, offsets;
  for (int r = 0; r < rows; ++r) {
    lookup.insert(lookup.end(), {-8, 0, 100, 200, 250, 256});
    offsets.push_back(r - 96);
  }
  std::mt19937 rng(11);
  const size_t count = size_t{64} * 64 * rows;
  std::vector<int32_t> values(count);
  for (size_t i = 0; i < count; ++i) {
    values[i] = static_cast<int32_t>(rng() % 7) - 2 +
                offsets[i % rows];  // Escapes included.
  }
  const std::string file =
      WriteUnitsFile({1, 64, 64, rows}, rows, 6, lookup, offsets, {}, values);
  for (int threads : {1, 0}) {
    DecodedTensor tensor;
    TC_ASSERT_OK(DecodeTensorFile(file.data(), file.size(), &tensor, threads));
    EXPECT_EQ(tensor.shape, (std::vector<int64_t>{1, 64, 64, rows}));
    EXPECT_EQ(tensor.values, values);
  }
  // Indexed, three strings.
  const std::vector<int32_t> two_offsets = {5, -1000};
  std::vector<int32_t> indexes(3 * 10), small(indexes.size());
  for (size_t i = 0; i < indexes.size(); ++i) {
    indexes[i] = static_cast<int32_t>(i % 3 == 0);
    small[i] = static_cast<int32_t>(i % 4) + two_offsets[indexes[i]];
  }
  const std::vector<int32_t> two_rows = {-8, 0, 100, 200, 250, 256,  //
                                         -2, 0, 1,   3,   4,   4};
  const std::string indexed =
      WriteUnitsFile({3, 10}, 2, 6, two_rows, two_offsets, indexes, small);
  DecodedTensor tensor;
  TC_ASSERT_OK(DecodeTensorFile(indexed.data(), indexed.size(), &tensor));
  EXPECT_EQ(tensor.values, small);
  // A row index outside the table is refused before decoding.
  std::vector<int32_t> bad_indexes = indexes;
  bad_indexes[7] = 2;
  std::string bad = indexed;
  const size_t indexes_offset =
      8 + 2 + 1 + 1 + 2 * 8 + 4 + 4 + two_rows.size() * 4 + 2 * 4;
  bad[indexes_offset + 7 * 4] = 2;
  bad.resize(bad.size() - 4);
  Put<uint32_t>(&bad, Crc32(bad.data(), bad.size()));
  TC_EXPECT_ERROR(DecodeTensorFile(bad.data(), bad.size(), &tensor),
                  kInvalidArgument, "tensor file: index 2 at position 7");
}

TEST(TensorFileTest, RejectsBadFilesClearly) {
  const std::vector<int32_t> values = {1, 0, 2, 1, 7, 1};
  const std::string good = WriteFile({3, 2}, 2, 6, kLookup, {}, values);
  DecodedTensor tensor;
  TC_EXPECT_ERROR(DecodeTensorFile("hello", 5, &tensor), kInvalidArgument,
                  "not a tensorcoder tensor file");
  for (size_t cut : {size_t{1}, size_t{5}, good.size() / 2}) {
    TC_EXPECT_ERROR(DecodeTensorFile(good.data(), good.size() - cut, &tensor),
                    kDataLoss, "checksum");
  }
  std::string flipped = good;
  flipped[good.size() - 8] ^= 0x10;
  TC_EXPECT_ERROR(DecodeTensorFile(flipped.data(), flipped.size(), &tensor),
                  kDataLoss, "checksum");
  const std::string v3 = WriteFile({3, 2}, 2, 6, kLookup, {}, values, 3);
  TC_EXPECT_ERROR(DecodeTensorFile(v3.data(), v3.size(), &tensor),
                  kInvalidArgument, "version 3 is not supported");
  std::vector<int32_t> bad_lookup = kLookup;
  bad_lookup[3] = 99;
  std::string bad = good;
  // Patch the lookup value in place and fix the checksum: a well-formed
  // file with an invalid table.
  const size_t lookup_offset = 8 + 2 + 1 + 1 + 2 * 8 + 4 + 4;
  bad[lookup_offset + 3 * 4] = 99;
  bad[lookup_offset + 3 * 4 + 1] = 0;
  bad.resize(bad.size() - 4);
  Put<uint32_t>(&bad, Crc32(bad.data(), bad.size()));
  TC_EXPECT_ERROR(DecodeTensorFile(bad.data(), bad.size(), &tensor),
                  kInvalidArgument, "invalid lookup");
  EXPECT_TRUE(tensor.values.empty());
}

TEST(TensorFileTest, MutatedFilesNeverCrash) {
  std::mt19937 rng(2);
  std::vector<int32_t> values(64);
  for (size_t i = 0; i < values.size(); ++i) {
    values[i] = static_cast<int32_t>(rng() % (i % 2 ? 2 : 5));
  }
  const std::string good = WriteFile({8, 8}, 2, 6, kLookup, {}, values);
  for (int trial = 0; trial < 500; ++trial) {
    std::string file = good.substr(0, good.size() - 4);
    const int edits = 1 + rng() % 4;
    for (int e = 0; e < edits; ++e) {
      file[rng() % file.size()] = static_cast<char>(rng());
    }
    Put<uint32_t>(&file, Crc32(file.data(), file.size()));  // Valid checksum.
    DecodedTensor tensor;
    const Status status = DecodeTensorFile(file.data(), file.size(), &tensor);
    if (status.ok()) {
      EXPECT_EQ(tensor.values.size(), static_cast<size_t>(
                                          tensor.shape.empty()
                                              ? 1
                                              : tensor.shape[0] *
                                                    (tensor.shape.size() > 1
                                                         ? tensor.shape[1]
                                                         : 1)));
    }
  }
}

// A file header declaring `shape` (channel mode, kLookup), then `strings`
// and the raw bytes `rest` (string lengths and contents), then a valid
// checksum.
std::string CraftFile(const std::vector<uint64_t>& shape, uint64_t strings,
                      const std::string& rest,
                      const std::vector<int32_t>& lookup = kLookup,
                      uint32_t rows = 2, uint32_t width = 6) {
  std::string out(kTensorFileMagic, sizeof(kTensorFileMagic));
  Put<uint16_t>(&out, 1);
  Put<uint8_t>(&out, 0);
  Put<uint8_t>(&out, static_cast<uint8_t>(shape.size()));
  for (uint64_t d : shape) Put<uint64_t>(&out, d);
  Put<uint32_t>(&out, rows);
  Put<uint32_t>(&out, width);
  for (int32_t v : lookup) Put<int32_t>(&out, v);
  Put<uint64_t>(&out, strings);
  out += rest;
  Put<uint32_t>(&out, Crc32(out.data(), out.size()));
  return out;
}

std::string Length(uint64_t length) {
  std::string out;
  Put<uint64_t>(&out, length);
  return out;
}

// Decodes with allocation tracking; returns the largest allocation.
size_t LargestAllocation(const std::string& file, Status* status) {
  DecodedTensor tensor;
  g_largest_allocation = 0;
  g_track_allocations = true;
  *status = DecodeTensorFile(file.data(), file.size(), &tensor);
  g_track_allocations = false;
  return g_largest_allocation.load();
}

TEST(TensorFileTest, InconsistentHeadersAreRefusedBeforeAllocating) {
  // Tiny files declaring 2^28 values (1 GiB of int32) whose string table
  // does not fit the file: refused before the values are allocated and
  // before string 0 is decoded (this used to allocate and zero 1 GiB and
  // decode 2^27 values first).
  const std::vector<uint64_t> huge = {uint64_t{1} << 28};
  struct Case {
    std::string file;
    const char* message;
  };
  const std::vector<Case> cases = {
      // String 1's length is missing.
      {CraftFile(huge, 2, Length(8) + "01234567"),
       "truncated at string 1 of 2"},
      // String 1 declares more bytes than there are.
      {CraftFile(huge, 2, Length(0) + Length(1000) + "abc"),
       "string 1 of 2 declares 1000 bytes but only 3 are left"},
      // String 0 declares more bytes than there are.
      {CraftFile(huge, 1, Length(uint64_t{1} << 40)),
       "string 0 of 1 declares 1099511627776 bytes"},
      // Bytes after the last string.
      {CraftFile(huge, 1, Length(0) + "xyz"),
       "3 unexpected bytes before the checksum"},
      // 2^20 strings whose lengths alone would need 8 MiB.
      {CraftFile(huge, uint64_t{1} << 20, Length(0)),
       "1048576 strings need 1048576 8-byte lengths but only 8 bytes"},
  };
  for (const Case& c : cases) {
    EXPECT_LT(c.file.size(), 200u);
    Status status;
    const size_t largest = LargestAllocation(c.file, &status);
    TC_EXPECT_ERROR(status, kInvalidArgument, c.message);
    EXPECT_LT(largest, size_t{1} << 16) << c.message;
  }
  // More than 2^28 values is refused whatever follows.
  Status status;
  EXPECT_LT(LargestAllocation(CraftFile({1 << 14, 1 << 14, 2}, 1, Length(0)),
                              &status),
            size_t{1} << 16);
  TC_EXPECT_ERROR(status, kInvalidArgument, "shape too large");
}

TEST(TensorFileTest, TinyFilesMayHoldManyValues) {
  // A row with a single symbol codes any number of values in zero bytes:
  // a 60-byte file legitimately holds 2^20 zeros, so the reader must not
  // bound the values by the file size (only by the 2^28 cap).
  const std::string file =
      CraftFile({uint64_t{1} << 20}, 1, Length(0), {1, 0, 2}, 1, 3);
  EXPECT_EQ(file.size(), 60u);
  DecodedTensor tensor;
  TC_ASSERT_OK(DecodeTensorFile(file.data(), file.size(), &tensor));
  EXPECT_EQ(tensor.values, std::vector<int32_t>(size_t{1} << 20, 0));
}

TEST(TensorFileTest, EmptyTensorsWithEmptyStrings) {
  // tensorcoder.tensor_file writes one string per slice of the first axis
  // (one string for rank 1), so empty tensors can come with empty strings:
  // N = 0 is a multiple of any S (FORMAT.md section 6).
  for (const auto& [shape, strings] :
       std::vector<std::pair<std::vector<uint64_t>, uint64_t>>{
           {{0}, 0}, {{0}, 1}, {{3, 0}, 3}, {{0, 5}, 0}, {{2, 0, 4}, 2}}) {
    std::string rest;
    for (uint64_t k = 0; k < strings; ++k) rest += Length(0);
    const std::string file = CraftFile(shape, strings, rest);
    DecodedTensor tensor;
    TC_ASSERT_OK(DecodeTensorFile(file.data(), file.size(), &tensor));
    EXPECT_EQ(tensor.shape,
              std::vector<int64_t>(shape.begin(), shape.end()));
    EXPECT_TRUE(tensor.values.empty());
  }
  // Each string still has to be the (empty) coding of its zero values.
  const std::string file = CraftFile({3, 0}, 3, Length(0) + Length(1) + "x" +
                                                    Length(0));
  DecodedTensor tensor;
  TC_EXPECT_ERROR(DecodeTensorFile(file.data(), file.size(), &tensor),
                  kDataLoss, "string 1: ");
}

TEST(TensorFileTest, CInterface) {
  const std::vector<int32_t> values = {1, 0, 2, 1, 7, 1};
  const std::string good = WriteFile({3, 2}, 2, 6, kLookup, {}, values);
  int32_t* decoded = nullptr;
  size_t count = 0;
  int64_t shape[32];
  int rank = -1;
  char error[256];
  ASSERT_EQ(tc_decode_tensor_file(good.data(), good.size(), &decoded, &count,
                                  shape, &rank, error, sizeof(error)),
            0)
      << error;
  EXPECT_EQ(std::vector<int32_t>(decoded, decoded + count), values);
  EXPECT_EQ(rank, 2);
  EXPECT_EQ(shape[0], 3);
  tc_free(decoded);
  EXPECT_EQ(tc_decode_tensor_file("junk", 4, &decoded, &count, shape, &rank,
                                  error, sizeof(error)),
            3);
  EXPECT_NE(std::string(error).find("not a tensorcoder tensor file"),
            std::string::npos);
  // Missing output pointers are an error, not a crash.
  EXPECT_EQ(tc_decode_tensor_file(good.data(), good.size(), nullptr, &count,
                                  shape, &rank, error, sizeof(error)),
            3);
  EXPECT_NE(std::string(error).find("must not be NULL"), std::string::npos);
  EXPECT_EQ(tc_decode_tensor_file(nullptr, 10, &decoded, &count, shape, &rank,
                                  nullptr, 0),
            3);
}

TEST(TensorFileTest, CInterfaceEmptyTensor) {
  // An empty tensor has no values to copy: the C ABI must not pass a null
  // source to memcpy (UBSan's nonnull check, run under --config=asan).
  for (const std::vector<int64_t>& shape :
       {std::vector<int64_t>{0}, std::vector<int64_t>{0, 2},
        std::vector<int64_t>{3, 0}}) {
    const std::string file = WriteFile(shape, 2, 6, kLookup, {}, {});
    int32_t* decoded = nullptr;
    size_t count = 12345;
    int64_t dims[32];
    int rank = -1;
    char error[256] = "unset";
    ASSERT_EQ(tc_decode_tensor_file(file.data(), file.size(), &decoded, &count,
                                    dims, &rank, error, sizeof(error)),
              0)
        << error;
    EXPECT_NE(decoded, nullptr);  // Always a pointer to free.
    EXPECT_EQ(count, 0u);
    ASSERT_EQ(rank, static_cast<int>(shape.size()));
    for (size_t i = 0; i < shape.size(); ++i) EXPECT_EQ(dims[i], shape[i]);
    EXPECT_STREQ(error, "");
    tc_free(decoded);
  }
}

}  // namespace
}  // namespace tensorcoder
