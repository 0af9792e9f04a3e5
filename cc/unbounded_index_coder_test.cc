// Tests of the unbounded index coder: golden bytes written by TensorFlow
// Compression 2.14's UnboundedIndexRangeEncode (from
// tests/golden/unbounded/cases.json, see make_unbounded_golden.py), round
// trips, TFC's digit counts, argument checks and corrupt strings.
#include "cc/unbounded_index_coder.h"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <numeric>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "cc/test_util.h"
#include "gtest/gtest.h"

namespace tensorcoder {
namespace {

using testing::Hex;

constexpr int32_t kMin = std::numeric_limits<int32_t>::min();
constexpr int32_t kMax = std::numeric_limits<int32_t>::max();

std::string FromHex(const std::string& hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  }
  return out;
}

std::string NoSpaces(std::string hex) {
  std::string out;
  for (char c : hex) {
    if (c != ' ') out.push_back(c);
  }
  return out;
}

struct Case {
  int precision;
  int overflow_width;
  size_t width;
  std::vector<int32_t> cdf;  // Row-major, num_rows x width.
  std::vector<int32_t> cdf_size;
  std::vector<int32_t> offset;
  std::vector<int32_t> index;
  std::vector<int32_t> data;
  std::string hex;  // TFC's bytes.
};

UnboundedIndexTable MakeTable(const Case& c) {
  StatusOr<UnboundedIndexTable> table = UnboundedIndexTable::Make(
      c.cdf.data(), c.cdf_size.size(), c.width, c.cdf_size.data(),
      c.offset.data(), c.precision, c.overflow_width);
  EXPECT_TRUE(table.ok()) << table.status().ToString();
  return table.ok() ? *table : UnboundedIndexTable();
}

std::vector<Case> GoldenCases() {
  std::vector<Case> cases;
  // Rank-3 index over rows of cdf_size 4, 7, 3 padded with zeros
  // ("multi_row_rank3").
  const std::vector<int32_t> three_rows = {
      0, 1000, 60000, 65536, 0,     0,     0,      //
      0, 5,    10,    20,    65000, 65530, 65536,  //
      0, 32768, 65536, 0,    0,     0,     0};
  cases.push_back({16, 4, 7, three_rows, {4, 7, 3}, {-2, 0, 5},
                   {1, 2, 2, 2, 1, 0, 2, 2, 2, 1, 1, 1,
                    1, 2, 2, 1, 1, 2, 2, 2, 2, 1, 0, 1},
                   {-4, -3, -7, 2, 9, -7, -8, 1, 2, 8, 7, 5,
                    4, 4, 9, 0, -2, -3, 11, -3, 10, -3, 10, 10},
                   "fffa8d5ebaa507ffbf02869479b8c19bbd92a26dedf5af522c1c11c6f6"
                   "269b3c504e099c57f0397422de"});
  cases.push_back({16, 4, 7, three_rows, {4, 7, 3}, {-2, 0, 5}, {1}, {-77},
                   "fffaf960"});  // "scalar"
  // "random_p4_w3": precision 4, overflow width 3, three rows.
  cases.push_back(
      {4, 3, 14,
       {0, 2, 3, 4, 5, 6, 8, 9, 10, 11, 12, 13, 16, 0,  //
        0, 1, 2, 6, 7, 8, 9, 10, 11, 12, 16, 0, 0, 0,   //
        0, 1, 2, 3, 4, 5, 8, 9, 16, 0, 0, 0, 0, 0},
       {13, 11, 9},
       {-6, -9, -1},
       {0, 1, 0, 1, 2, 1, 2, 1, 0, 2, 2, 1, 1, 0, 0, 2, 1, 0, 2, 1, 0},
       {4, -1, -271, -8, 2, -6, -66, -1, 4, 3, 5, -7, -5, -6, -4, 1, -2, 468,
        1, -4, -200},
       "cbe8f0674866f2e3d9dc2856deb22061"});
  // "widest_w3": 31-bit codes, where TFC's shifts wrap modulo 32 and it
  // writes 21 digits of 3 bits.
  cases.push_back({8, 3, 3, {0, 100, 256}, {3}, {0}, {0, 0, 0, 0},
                   {-1073741824, 1073741824, 536870913, -536870913},
                   "ffbbbfffffe2bffffffffab55bfffdc59fffffff8c240000073dc00090"
                   "ca500b00008d340009"});
  // "widest_w16": 16-bit codes, the most TFC codes with overflow width 16.
  cases.push_back({8, 16, 3, {0, 100, 256}, {3}, {0}, {0, 0, 0, 0},
                   {-32768, 32768, 16385, -16385},
                   "640137ffa0f0be1f670296e416a12cf3a4"});
  // "int32_min_offset" / "int32_max_offset": data near the int32 limits.
  cases.push_back({12, 5, 4, {0, 1000, 3000, 4096}, {4}, {kMin + 7},
                   {0, 0, 0, 0, 0, 0},
                   {kMin, kMin + 6, kMin + 7, kMin + 9, kMin + 1000,
                    kMin + (1 << 29)},
                   "be8f50f22eb03614497dffeb"});
  cases.push_back({12, 5, 4, {0, 1000, 3000, 4096}, {4}, {kMax - 2},
                   {0, 0, 0, 0, 0},
                   {kMax, kMax - 1, kMax - 2, kMax - 99, 1 << 30},
                   "bc36bfbee02edffee75cfffc7a5ddfff6b"});
  // "sweep_w3": offset - 40 .. offset + 43 through a 3-value row.
  {
    Case sweep{8, 3, 6, {0, 10, 200, 250, 256, 0}, {5}, {3}, {}, {}, ""};
    for (int32_t v = -37; v <= 46; ++v) {
      sweep.index.push_back(0);
      sweep.data.push_back(v);
    }
    sweep.hex =
        "fcebbec66783a6ced6905a45c6ba0859b65121e3113dc87f57c37ec44c9115fc362e"
        "5c829933569c854cdefd7a9353c75421ff66d3c39ec08d0cb095a870998258876ea6"
        "f845158923bc3c3f98c217b8d00664de92b0e4513d0fc169533ed991e95a9be84e8e"
        "c0de47a3ae0ead76e178c2327f6fe8fa66920f06bf0546e4c22e72ff7e835b7ecc80"
        "e082d39f000165eb6d909b9b33ba";
    cases.push_back(sweep);
  }
  // Single escapes (written by TFC 2.14 as well).
  const std::vector<int32_t> half = {0, 128, 256};
  cases.push_back({8, 4, 3, half, {3}, {0}, {0}, {100}, "9360"});
  cases.push_back({8, 3, 3, half, {3}, {0}, {0}, {536870913},
                   "ffc00000000400000040"});
  cases.push_back({8, 8, 3, half, {3}, {0}, {0}, {-8388608}, "81ffffff80"});
  cases.push_back({8, 16, 3, half, {3}, {0}, {0}, {-32768}, "8000ffff80"});
  // Nothing to code: an empty string.
  cases.push_back({8, 4, 3, half, {3}, {0}, {}, {}, ""});
  return cases;
}

TEST(UnboundedIndexCoderTest, GoldenBytesOfTensorFlowCompression) {
  for (const Case& c : GoldenCases()) {
    SCOPED_TRACE(c.hex);
    const UnboundedIndexTable table = MakeTable(c);
    StatusOr<std::string> encoded = UnboundedIndexEncode(
        table, c.index.data(), c.data.data(), c.data.size());
    ASSERT_TRUE(encoded.ok()) << encoded.status().ToString();
    EXPECT_EQ(NoSpaces(Hex(*encoded)), c.hex);
    const std::string golden = FromHex(c.hex);
    std::vector<int32_t> decoded(c.data.size(), 12345);
    TC_ASSERT_OK(UnboundedIndexDecode(table, golden.data(), golden.size(),
                                      c.index.data(), decoded.data(),
                                      decoded.size()));
    EXPECT_EQ(decoded, c.data);
  }
}

TEST(UnboundedIndexCoderTest, DigitCountsFollowTfcsShiftsModulo32) {
  EXPECT_EQ(UnboundedOverflowDigits(0, 4), 0);
  EXPECT_EQ(UnboundedOverflowDigits(198, 4), 2);
  EXPECT_EQ(UnboundedOverflowDigits(0xFFFF, 16), 1);
  EXPECT_EQ(UnboundedOverflowDigits(0x7FFFFFFF, 1), 31);
  // 2^30 with 3-bit digits: the shift 33 wraps to 1, ..., 63 to 31.
  EXPECT_EQ(UnboundedOverflowDigits(1u << 30, 3), 21);
  // TFC never terminates for these.
  EXPECT_EQ(UnboundedOverflowDigits(0x10000, 16), -1);
  EXPECT_EQ(UnboundedOverflowDigits(1u << 31, 1), -1);
  EXPECT_EQ(UnboundedOverflowDigits(1u << 28, 4), -1);
  // Codable iff the code has at most 32 - gcd(width, 32) bits.
  for (int width = 1; width <= 16; ++width) {
    const int limit = 32 - std::gcd(width, 32);
    for (int bits = 1; bits <= 32; ++bits) {
      const uint32_t code = uint32_t{1} << (bits - 1);
      const int digits = UnboundedOverflowDigits(code, width);
      EXPECT_EQ(digits >= 0, bits <= limit) << width << " " << bits;
      const int plain = (bits + width - 1) / width;
      if (plain * width < 32) {  // No shift wraps: the plain digit count.
        EXPECT_EQ(digits, plain) << width << " " << bits;
      }
    }
  }
}

// Random rows with `cdf_size` entries, zero padded to `width`.
// REQUIRES: cdf_size[r] - 2 <= 2^precision - 1.
std::vector<int32_t> RandomCdf(std::mt19937& rng, int precision,
                               const std::vector<int32_t>& cdf_size,
                               size_t width) {
  std::vector<int32_t> cdf(cdf_size.size() * width, 0);
  for (size_t r = 0; r < cdf_size.size(); ++r) {
    const int32_t n = cdf_size[r];
    // n - 2 distinct cut points in 1..2^precision - 1, in order.
    std::set<int32_t> cuts;
    while (static_cast<int32_t>(cuts.size()) < n - 2) {
      cuts.insert(1 + static_cast<int32_t>(rng() % ((1u << precision) - 1)));
    }
    int32_t* row = &cdf[r * width];
    row[0] = 0;
    int32_t j = 1;
    for (int32_t cut : cuts) row[j++] = cut;
    row[n - 1] = 1 << precision;
  }
  return cdf;
}

TEST(UnboundedIndexCoderTest, RandomRoundTrips) {
  std::mt19937 rng(20261203);
  for (int trial = 0; trial < 300; ++trial) {
    const int precision = 2 + trial % 15;
    const int width_bits = 1 + (trial * 7) % 16;
    const int num_rows = 1 + rng() % 4;
    const int max_size = std::min(2 + (1 << precision) - 1, 40);
    std::vector<int32_t> cdf_size(num_rows), offset(num_rows);
    size_t width = 3;
    for (int r = 0; r < num_rows; ++r) {
      cdf_size[r] = 3 + rng() % (max_size - 2);
      offset[r] = static_cast<int32_t>(rng() % 41) - 20;
      width = std::max(width, static_cast<size_t>(cdf_size[r]));
    }
    width += rng() % 3;
    const std::vector<int32_t> cdf =
        RandomCdf(rng, precision, cdf_size, width);
    StatusOr<UnboundedIndexTable> table =
        UnboundedIndexTable::Make(cdf.data(), num_rows, width, cdf_size.data(),
                                  offset.data(), precision, width_bits);
    ASSERT_TRUE(table.ok()) << table.status().ToString();
    const size_t count = rng() % 200;
    std::vector<int32_t> index(count), data(count);
    const int max_bits = 32 - std::gcd(width_bits, 32) - 1;  // |v| < 2^bits.
    for (size_t i = 0; i < count; ++i) {
      index[i] = rng() % num_rows;
      const int32_t kind = rng() % 4;
      int64_t v;
      if (kind == 0) {
        const int bits = 1 + rng() % max_bits;
        v = static_cast<int64_t>(rng() % (uint64_t{1} << bits)) *
            (rng() % 2 ? 1 : -1);
      } else {
        v = rng() % (cdf_size[index[i]] - 2);
      }
      data[i] = static_cast<int32_t>(v + offset[index[i]]);
    }
    StatusOr<std::string> encoded =
        UnboundedIndexEncode(*table, index.data(), data.data(), count);
    ASSERT_TRUE(encoded.ok()) << encoded.status().ToString();
    std::vector<int32_t> decoded(count);
    TC_ASSERT_OK(UnboundedIndexDecode(*table, encoded->data(),
                                      encoded->size(), index.data(),
                                      decoded.data(), count));
    EXPECT_EQ(decoded, data) << "trial " << trial;
  }
}

TEST(UnboundedIndexCoderTest, ValuesTfcCannotCodeAreErrors) {
  const std::vector<int32_t> cdf = {0, 128, 256}, cdf_size = {3}, offset = {0};
  for (const auto& [width, value] : std::vector<std::pair<int, int32_t>>{
           {16, 32769}, {16, -32769}, {1, 1073741825}, {4, 268435457},
           {3, kMin}, {7, kMax}}) {
    StatusOr<UnboundedIndexTable> table = UnboundedIndexTable::Make(
        cdf.data(), 1, 3, cdf_size.data(), offset.data(), 8, width);
    ASSERT_TRUE(table.ok());
    const std::vector<int32_t> index = {0, 0}, data = {0, value};
    StatusOr<std::string> encoded =
        UnboundedIndexEncode(*table, index.data(), data.data(), 2);
    TC_EXPECT_ERROR(encoded.status(), kInvalidArgument, "at position 1");
    TC_EXPECT_ERROR(encoded.status(), kInvalidArgument, "never terminates");
  }
}

TEST(UnboundedIndexCoderTest, InvalidArgumentsAreReported) {
  const std::vector<int32_t> cdf = {0, 128, 256, 0}, size3 = {3}, zero = {0};
  auto make = [&](const std::vector<int32_t>& c, size_t width,
                  const std::vector<int32_t>& s, int precision, int w) {
    return UnboundedIndexTable::Make(c.data(), s.size(), width, s.data(),
                                     zero.data(), precision, w)
        .status();
  };
  TC_EXPECT_ERROR(make(cdf, 4, size3, 0, 4), kInvalidArgument, "`precision`");
  TC_EXPECT_ERROR(make(cdf, 4, size3, 17, 4), kInvalidArgument, "`precision`");
  TC_EXPECT_ERROR(make(cdf, 4, size3, 8, 0), kInvalidArgument,
                  "`overflow_width`");
  TC_EXPECT_ERROR(make(cdf, 4, size3, 8, 17), kInvalidArgument,
                  "`overflow_width`");
  TC_EXPECT_ERROR(make(cdf, 2, {2}, 8, 4), kInvalidArgument, "3 columns");
  TC_EXPECT_ERROR(make(cdf, 4, {2}, 8, 4), kInvalidArgument, "`cdf_size`");
  TC_EXPECT_ERROR(make(cdf, 4, {5}, 8, 4), kInvalidArgument, "`cdf_size`");
  TC_EXPECT_ERROR(make(cdf, 4, {4}, 8, 4), kInvalidArgument, "end at");
  TC_EXPECT_ERROR(make(cdf, 4, size3, 7, 4), kInvalidArgument, "end at");
  TC_EXPECT_ERROR(make({1, 128, 256}, 3, size3, 8, 4), kInvalidArgument,
                  "start from 0");
  TC_EXPECT_ERROR(make({0, 256, 256}, 3, size3, 8, 4), kInvalidArgument,
                  "not monotonic");
  TC_EXPECT_ERROR(make({0, 200, 100, 256}, 4, {4}, 8, 4), kInvalidArgument,
                  "not monotonic");
  // No rows at all is a valid (if useless) table.
  TC_ASSERT_OK(make({}, 3, {}, 8, 4));

  StatusOr<UnboundedIndexTable> table = UnboundedIndexTable::Make(
      cdf.data(), 1, 4, size3.data(), zero.data(), 8, 4);
  ASSERT_TRUE(table.ok());
  for (int32_t bad : {-1, 1, kMax, kMin}) {
    const std::vector<int32_t> index = {0, bad}, data = {0, 0};
    TC_EXPECT_ERROR(
        UnboundedIndexEncode(*table, index.data(), data.data(), 2).status(),
        kInvalidArgument, "position 1");
    std::vector<int32_t> decoded(2);
    TC_EXPECT_ERROR(UnboundedIndexDecode(*table, "", 0, index.data(),
                                         decoded.data(), 2),
                    kInvalidArgument, "`index` value");
  }
}

TEST(UnboundedIndexCoderTest, CorruptStringsAreDataLossNeverCrashes) {
  // Overflow width 1 over a 1-bit row: all-ones bytes decode the escape and
  // then more than 31 continuation symbols.
  const std::vector<int32_t> cdf = {0, 1, 2}, size3 = {3}, zero = {0};
  StatusOr<UnboundedIndexTable> table = UnboundedIndexTable::Make(
      cdf.data(), 1, 3, size3.data(), zero.data(), 1, 1);
  ASSERT_TRUE(table.ok());
  const std::string ones(16, '\xff');
  const std::vector<int32_t> index(4, 0);
  std::vector<int32_t> decoded(4);
  TC_EXPECT_ERROR(UnboundedIndexDecode(*table, ones.data(), ones.size(),
                                       index.data(), decoded.data(), 4),
                  kDataLoss, "31 digits");

  // Appended or removed bytes are noticed.
  const std::vector<int32_t> data = {5, -3, 0, 1000};
  StatusOr<std::string> encoded =
      UnboundedIndexEncode(*table, index.data(), data.data(), 4);
  ASSERT_TRUE(encoded.ok());
  const std::string longer = *encoded + "x";
  TC_EXPECT_ERROR(UnboundedIndexDecode(*table, longer.data(), longer.size(),
                                       index.data(), decoded.data(), 4),
                  kDataLoss, "too long");

  // Random strings with random tables: OK or DATA_LOSS, nothing else.
  std::mt19937 rng(99);
  for (int trial = 0; trial < 2000; ++trial) {
    const int precision = 1 + rng() % 16;
    const int width_bits = 1 + rng() % 16;
    const std::vector<int32_t> sizes = {
        3 + static_cast<int32_t>(rng() % std::min(30, (1 << precision) - 1))};
    const std::vector<int32_t> row =
        RandomCdf(rng, precision, sizes, sizes[0]);
    StatusOr<UnboundedIndexTable> random_table = UnboundedIndexTable::Make(
        row.data(), 1, sizes[0], sizes.data(), zero.data(), precision,
        width_bits);
    ASSERT_TRUE(random_table.ok()) << random_table.status().ToString();
    std::string bytes(rng() % 24, '\0');
    for (char& c : bytes) c = static_cast<char>(rng());
    const size_t count = rng() % 40;
    const std::vector<int32_t> zeros(count, 0);
    std::vector<int32_t> out(count);
    const Status status = UnboundedIndexDecode(
        *random_table, bytes.data(), bytes.size(), zeros.data(), out.data(),
        count);
    EXPECT_TRUE(status.ok() || status.code() == StatusCode::kDataLoss)
        << status.ToString();
  }
}

}  // namespace
}  // namespace tensorcoder
