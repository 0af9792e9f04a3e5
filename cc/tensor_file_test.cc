#include "cc/tensor_file.h"

#include <random>
#include <string>
#include <vector>

#include "cc/crc32.h"
#include "cc/range_encoder.h"
#include "cc/test_util.h"
#include "gtest/gtest.h"

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
                      uint16_t version = kTensorFileVersion) {
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
  const std::string v2 = WriteFile({3, 2}, 2, 6, kLookup, {}, values, 2);
  TC_EXPECT_ERROR(DecodeTensorFile(v2.data(), v2.size(), &tensor),
                  kInvalidArgument, "version 2 is not supported");
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
}

}  // namespace
}  // namespace tensorcoder
