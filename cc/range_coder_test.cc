// Tests of range_encoder and range_decoder together: TFC golden bytes, round
// trips over random tables, and the handling of corrupt input.
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "cc/cdf_table.h"
#include "cc/pmf_to_cdf.h"
#include "cc/range_decoder.h"
#include "cc/range_encoder.h"
#include "cc/test_util.h"
#include "gtest/gtest.h"

namespace tensorcoder {
namespace {

using testing::Bytes;
using testing::Hex;

constexpr int32_t kMin = std::numeric_limits<int32_t>::min();
constexpr int32_t kMax = std::numeric_limits<int32_t>::max();

CdfTable Table(const std::vector<int32_t>& lookup) {
  StatusOr<CdfTable> table = CdfTable::FromFlat(lookup.data(), lookup.size());
  EXPECT_TRUE(table.ok()) << table.status().ToString();
  return std::move(table).value();
}

std::string EncodeRow0(const CdfTable& table,
                       const std::vector<int32_t>& values) {
  std::vector<int32_t> indexes(values.size(), 0);
  StatusOr<std::string> encoded =
      EncodeIndexed(table, indexes.data(), values.data(), values.size());
  EXPECT_TRUE(encoded.ok()) << encoded.status().ToString();
  return encoded.ok() ? *encoded : "";
}

std::vector<int32_t> DecodeRow0(const CdfTable& table, const std::string& s,
                                size_t count) {
  DecodeTable decode_table(table);
  std::vector<int32_t> indexes(count, 0), values(count, -12345);
  const Status status = DecodeIndexed(decode_table, s.data(), s.size(),
                                      indexes.data(), values.data(), count);
  EXPECT_TRUE(status.ok()) << status.ToString();
  return values;
}

TEST(RangeCoderTest, GoldenBytesWithoutOverflow) {
  const CdfTable table = Table({2, 0, 1, 3, 4});
  const std::vector<std::pair<std::vector<int32_t>, std::string>> cases = {
      {{}, ""},
      {{0}, ""},
      {{1}, "40"},
      {{2}, "c0"},
      {std::vector<int32_t>(10, 0), "00 00"},
      {{1, 0, 2, 1, 1, 0, 2, 2, 1, 0}, "5b 7a"},
  };
  for (const auto& [values, hex] : cases) {
    const std::string encoded = EncodeRow0(table, values);
    EXPECT_EQ(Hex(encoded), hex);
    EXPECT_EQ(DecodeRow0(table, encoded, values.size()), values);
  }
}

TEST(RangeCoderTest, GoldenBytesWithOverflow) {
  const CdfTable table = Table({-8, 0, 100, 200, 250, 256});
  const std::vector<int32_t> values = {0, 1, 2, -1, 3, 4, 100, -7};
  const std::string encoded = EncodeRow0(table, values);
  EXPECT_EQ(Hex(encoded), "4d 35 8e 8e 49 7d e4 cf");
  EXPECT_EQ(DecodeRow0(table, encoded, values.size()), values);
}

TEST(RangeCoderTest, ExtremeValuesThroughOverflow) {
  // One-symbol row: every value is escaped, including both int32 extremes.
  for (const std::vector<int32_t>& lookup :
       {std::vector<int32_t>{-1, 0, 2}, std::vector<int32_t>{-16, 0, 65535, 65536},
        std::vector<int32_t>{-3, 0, 1, 2, 7, 8}}) {
    const CdfTable table = Table(lookup);
    const std::vector<int32_t> values = {kMin, kMax, kMin + 1, kMax - 1, 0,
                                         -1,   1,    1 << 30,  -(1 << 30)};
    const std::string encoded = EncodeRow0(table, values);
    EXPECT_EQ(DecodeRow0(table, encoded, values.size()), values);
  }
}

// A random CDF row of n symbols at the given precision (all counts >= 1).
std::vector<int32_t> RandomRow(std::mt19937& rng, int precision, bool overflow,
                               int n) {
  std::vector<double> pmf(n);
  std::exponential_distribution<double> exp(1.0);
  const bool skewed = rng() % 2;
  for (double& p : pmf) p = skewed ? std::pow(exp(rng), 6) : exp(rng);
  StatusOr<std::vector<int32_t>> cdf =
      PmfToQuantizedCdf(pmf.data(), pmf.size(), precision);
  EXPECT_TRUE(cdf.ok()) << cdf.status().ToString();
  std::vector<int32_t> row = {overflow ? -precision : precision};
  row.insert(row.end(), cdf->begin(), cdf->end());
  return row;
}

int32_t RandomValue(std::mt19937& rng, int num_symbols, bool overflow) {
  if (!overflow || rng() % 4 != 0) {
    return static_cast<int32_t>(rng() % (overflow ? std::max(1, num_symbols - 1)
                                                  : num_symbols));
  }
  switch (rng() % 4) {
    case 0:
      return rng() % 2 ? kMin : kMax;
    case 1:
      return static_cast<int32_t>(rng());
    default:
      return static_cast<int32_t>(rng() % 64) - 32;
  }
}

TEST(RangeCoderTest, RandomRoundTripsAllPrecisions) {
  std::mt19937 rng(1234);
  int tables = 0;
  for (int precision = 1; precision <= 16; ++precision) {
    for (int overflow = 0; overflow <= 1; ++overflow) {
      for (int trial = 0; trial < 120; ++trial, ++tables) {
        // 1..8 rows in matrix layout, each with 1..min(2^p, 300) symbols
        // (at least 2 without overflow, so that values exist).
        const int num_rows = 1 + rng() % 8;
        const int max_symbols = std::min(1 << precision, 300);
        std::vector<std::vector<int32_t>> rows;
        size_t width = 0;
        for (int r = 0; r < num_rows; ++r) {
          const int n = 1 + rng() % max_symbols;
          rows.push_back(RandomRow(rng, precision, overflow, n));
          width = std::max(width, rows.back().size());
        }
        std::vector<int32_t> matrix;
        for (auto& row : rows) {
          row.resize(width, 1 << precision);
          matrix.insert(matrix.end(), row.begin(), row.end());
        }
        StatusOr<CdfTable> table =
            CdfTable::FromMatrix(matrix.data(), num_rows, width);
        ASSERT_TRUE(table.ok()) << table.status().ToString();
        const DecodeTable decode_table(*table);

        const size_t count = rng() % 2000;
        std::vector<int32_t> indexes(count), values(count);
        for (size_t i = 0; i < count; ++i) {
          indexes[i] = static_cast<int32_t>(rng() % num_rows);
          const int n = static_cast<int>(table->row(indexes[i]).num_symbols);
          if (!overflow && n < 1) continue;
          values[i] = RandomValue(rng, n, overflow);
        }
        StatusOr<std::string> encoded =
            EncodeIndexed(*table, indexes.data(), values.data(), count);
        ASSERT_TRUE(encoded.ok()) << encoded.status().ToString();
        std::vector<int32_t> decoded(count);
        TC_ASSERT_OK(DecodeIndexed(decode_table, encoded->data(),
                                   encoded->size(), indexes.data(),
                                   decoded.data(), count));
        ASSERT_EQ(decoded, values) << "precision " << precision;

        // The same values in channel order: row i mod num_rows.
        for (size_t i = 0; i < count; ++i) {
          const int n = static_cast<int>(table->row(i % num_rows).num_symbols);
          values[i] = RandomValue(rng, n, overflow);
        }
        encoded = EncodeChannel(*table, values.data(), count);
        ASSERT_TRUE(encoded.ok()) << encoded.status().ToString();
        TC_ASSERT_OK(DecodeChannel(decode_table, encoded->data(),
                                   encoded->size(), decoded.data(), count));
        ASSERT_EQ(decoded, values);
      }
    }
  }
  EXPECT_GE(tables, 3000);
}

TEST(RangeCoderTest, LongCarryChains) {
  // Symbols of probability 2^-16 next to near-certain ones keep the interval
  // straddling a 2^32 boundary for long stretches (pending bytes, carries).
  const CdfTable table = Table({16, 0, 1, 65535, 65536});
  std::mt19937 rng(7);
  for (int trial = 0; trial < 200; ++trial) {
    std::vector<int32_t> values(1 + rng() % 3000);
    for (int32_t& v : values) {
      const uint32_t r = rng() % 100;
      v = r < 45 ? 0 : (r < 90 ? 2 : 1);
    }
    const std::string encoded = EncodeRow0(table, values);
    ASSERT_EQ(DecodeRow0(table, encoded, values.size()), values);
  }
}

TEST(RangeCoderTest, IncrementalEncodingMatchesOneShot) {
  const CdfTable table = Table({-8, 0, 100, 200, 250, 256});
  const std::vector<int32_t> values = {0, 1, 2, -1, 3, 4, 100, -7};
  const std::vector<int32_t> indexes(values.size(), 0);
  TableEncoder encoder(table);
  TC_ASSERT_OK(encoder.EncodeIndexed(indexes.data(), values.data(), 3));
  TC_ASSERT_OK(encoder.EncodeIndexed(indexes.data(), values.data() + 3, 5));
  EXPECT_EQ(Hex(encoder.Finish()), "4d 35 8e 8e 49 7d e4 cf");

  DecodeTable decode_table(table);
  TableDecoder decoder(decode_table, "\x4d\x35\x8e\x8e\x49\x7d\xe4\xcf", 8);
  std::vector<int32_t> decoded(8);
  TC_ASSERT_OK(decoder.DecodeIndexed(indexes.data(), decoded.data(), 5));
  TC_ASSERT_OK(decoder.DecodeIndexed(indexes.data(), decoded.data() + 5, 3));
  TC_ASSERT_OK(decoder.Finish());
  EXPECT_EQ(decoded, values);
}

TEST(RangeCoderTest, DecodeWithSearchAgreesWithTable) {
  std::mt19937 rng(99);
  for (int trial = 0; trial < 50; ++trial) {
    const int precision = 1 + rng() % 16;
    const int n = 1 + rng() % std::min(1 << precision, 500);
    const std::vector<int32_t> row = RandomRow(rng, precision, false, n);
    const CdfTable table = Table(row);
    std::vector<int32_t> values(1000);
    for (int32_t& v : values) v = static_cast<int32_t>(rng() % n);
    const std::string encoded = EncodeRow0(table, values);
    RangeDecoder decoder(encoded.data(), encoded.size());
    for (int32_t v : values) {
      ASSERT_EQ(decoder.DecodeWithSearch(row.data() + 1, row.size() - 1,
                                         precision),
                v);
    }
    TC_ASSERT_OK(decoder.Finish());
  }
}

TEST(RangeCoderErrorTest, EncoderRejectsBadIndexesAndValues) {
  const CdfTable table = Table({2, 0, 1, 3, 4, /*row 1*/ -2, 0, 3, 4});
  const std::vector<int32_t> values = {0, 3};
  std::vector<int32_t> indexes = {0, 0};
  TC_EXPECT_ERROR(
      EncodeIndexed(table, indexes.data(), values.data(), 2).status(),
      kInvalidArgument, "value 3 at position 1 is outside [0, 3)");
  const std::vector<int32_t> negative = {-1};
  TC_EXPECT_ERROR(
      EncodeIndexed(table, indexes.data(), negative.data(), 1).status(),
      kInvalidArgument, "value -1 at position 0");
  indexes = {1, 2};
  TC_EXPECT_ERROR(
      EncodeIndexed(table, indexes.data(), values.data(), 2).status(),
      kInvalidArgument, "index 2 at position 1 is outside [0, 2)");
  indexes = {-1, 0};
  TC_EXPECT_ERROR(
      EncodeIndexed(table, indexes.data(), values.data(), 2).status(),
      kInvalidArgument, "index -1 at position 0");
  // Row 1 has overflow, so 3 is fine there.
  indexes = {0, 1};
  EXPECT_TRUE(EncodeIndexed(table, indexes.data(), values.data(), 2).ok());
}

TEST(RangeCoderErrorTest, DecoderDetectsLeftoverAndMissingBytes) {
  const CdfTable table = Table({-8, 0, 100, 200, 250, 256});
  const DecodeTable decode_table(table);
  const std::vector<int32_t> values = {0, 1, 2, -1, 3, 4, 100, -7};
  const std::vector<int32_t> indexes(values.size(), 0);
  const std::string good = EncodeRow0(table, values);
  std::vector<int32_t> out(values.size());
  for (const std::string& suffix :
       {std::string("x"), std::string(1, '\0'), std::string("xyz")}) {
    const std::string longer = good + suffix;
    TC_EXPECT_ERROR(DecodeIndexed(decode_table, longer.data(), longer.size(),
                                  indexes.data(), out.data(), out.size()),
                    kDataLoss, "range decoder");
  }
  // Decoding fewer values than encoded leaves bytes or a bad final state.
  EXPECT_FALSE(DecodeIndexed(decode_table, good.data(), good.size(),
                             indexes.data(), out.data(), 4)
                   .ok());
}

TEST(RangeCoderErrorTest, LengthIsExact) {
  // Range-coded strings carry no redundancy, so a truncated string usually
  // is a valid encoding of *other* values and cannot be detected (the
  // container format adds lengths for that). What the format does allow is
  // checked exactly: a string never decodes successfully to the original
  // values once bytes are removed or appended, even zero bytes, which TFC's
  // decoder reads as implicit padding and accepts.
  const CdfTable zeros_table = Table({2, 0, 1, 3, 4});
  const DecodeTable zeros_decode(zeros_table);
  const std::vector<int32_t> ten_zeros(10, 0);
  const std::vector<int32_t> row0(10, 0);
  std::vector<int32_t> out(10);
  for (const std::string& s : {std::string(""), std::string(1, '\0'),
                              std::string(3, '\0')}) {
    TC_EXPECT_ERROR(DecodeIndexed(zeros_decode, s.data(), s.size(),
                                  row0.data(), out.data(), 10),
                    kDataLoss, s.empty() ? "truncated" : "");
  }

  std::mt19937 rng(5);
  const CdfTable table = Table(RandomRow(rng, 16, true, 200));
  const DecodeTable decode_table(table);
  for (int trial = 0; trial < 300; ++trial) {
    std::vector<int32_t> values(rng() % 500);
    for (int32_t& v : values) v = RandomValue(rng, 200, true);
    const std::string good = EncodeRow0(table, values);
    std::vector<int32_t> indexes(values.size(), 0), decoded(values.size());
    for (size_t cut = 1; cut <= std::min<size_t>(good.size(), 3); ++cut) {
      const std::string s = good.substr(0, good.size() - cut);
      const Status status =
          DecodeIndexed(decode_table, s.data(), s.size(), indexes.data(),
                        decoded.data(), decoded.size());
      ASSERT_FALSE(status.ok() && decoded == values);
    }
    const std::string longer = good + std::string(1 + rng() % 3, '\0');
    EXPECT_FALSE(DecodeIndexed(decode_table, longer.data(), longer.size(),
                               indexes.data(), decoded.data(), decoded.size())
                     .ok());
  }
}

TEST(RangeCoderErrorTest, GarbageNeverCrashesOrHangs) {
  std::mt19937 rng(11);
  const std::vector<std::vector<int32_t>> lookups = {
      {-16, 0, 1, 65536},  // Escape almost certain: long escape codes.
      {-1, 0, 2},
      {16, 0, 1, 2, 65536},
      RandomRow(rng, 12, true, 300)};
  for (const auto& lookup : lookups) {
    const DecodeTable decode_table(Table(lookup));
    for (int trial = 0; trial < 300; ++trial) {
      std::string garbage(rng() % 64, '\0');
      for (char& c : garbage) c = static_cast<char>(rng());
      if (trial % 3 == 0) garbage.assign(garbage.size(), '\xff');
      std::vector<int32_t> indexes(200, 0), out(200);
      // Any status is acceptable; crashing, hanging or reading out of bounds
      // (caught by ASan) is not.
      const Status status =
          DecodeIndexed(decode_table, garbage.data(), garbage.size(),
                        indexes.data(), out.data(), out.size());
      if (status.ok()) {
        for (int32_t v : out) {
          if (lookup[0] > 0) {
            EXPECT_GE(v, 0);
            EXPECT_LT(v, static_cast<int32_t>(lookup.size()) - 2);
          }
        }
      }
    }
  }
}

// The encoder's output room follows from the symbols actually written,
// escapes included (issue D1: room was reserved for one symbol per value,
// so costly symbols after large escapes wrote past the buffer). Debug
// builds assert the reservation on every write and the ASan run catches
// any write past the allocation; each case must also round-trip.
TEST(RangeCoderTest, AdversarialEscapesStayInsideTheBuffer) {
  std::mt19937 rng(20261201);
  for (int precision = 1; precision <= 16; ++precision) {
    const int32_t total = 1 << precision;
    // The costliest row: the escape (and, from precision 2, a rare symbol)
    // gets probability 2^-precision.
    const CdfTable table =
        precision == 1 ? Table({-1, 0, 1, 2})
                       : Table({-precision, 0, total - 2, total - 1, total});
    const int32_t rare = precision == 1 ? 0 : 1;
    std::vector<std::vector<int32_t>> cases;
    cases.push_back(std::vector<int32_t>(1000, kMin));  // every value escapes
    cases.push_back(std::vector<int32_t>(1000, kMax));
    std::vector<int32_t> alternating(2000);
    for (size_t i = 0; i < alternating.size(); ++i) {
      alternating[i] = i % 2 ? rare : (i % 4 ? kMin : kMax);
    }
    cases.push_back(alternating);
    // The reproducer of D1: large escapes first, then costly symbols.
    std::vector<int32_t> escapes_first(1000, rare);
    for (int i = 0; i < 200; ++i) escapes_first[i] = kMin;
    cases.push_back(escapes_first);
    std::vector<int32_t> random(3000);
    std::uniform_int_distribution<int64_t> any(kMin, kMax);
    for (int32_t& v : random) v = rng() % 3 ? static_cast<int32_t>(any(rng)) : rare;
    cases.push_back(random);
    for (const std::vector<int32_t>& values : cases) {
      const std::string encoded = EncodeRow0(table, values);
      // At most 2 bytes per Encode() call plus 2 to finalize.
      EXPECT_LE(encoded.size(), 2 * 65 * values.size() + 2);
      EXPECT_EQ(DecodeRow0(table, encoded, values.size()), values)
          << "precision " << precision;
    }
    // Channel mode and several calls into one encoder take the same path.
    TableEncoder encoder(table);
    for (const std::vector<int32_t>& values : cases) {
      TC_ASSERT_OK(encoder.EncodeChannel(values.data(), values.size()));
    }
    const std::string joined = encoder.Finish();
    EXPECT_FALSE(joined.empty());
  }
}

TEST(RangeCoderErrorTest, AbsurdGammaPrefixStops) {
  // Escape followed by 40 zero bits: no int32 has a magnitude that long.
  std::string s;
  {
    RangeEncoder encoder(&s);
    encoder.Reserve(100);
    encoder.Encode(100, 256, 8);  // The escape of the row below.
    for (int i = 0; i < 40; ++i) encoder.EncodeBit(0);
    encoder.EncodeBit(1);
    encoder.Finalize();
  }
  const DecodeTable decode_table(Table({-8, 0, 100, 256}));
  int32_t index = 0, out = 0;
  TC_EXPECT_ERROR(
      DecodeIndexed(decode_table, s.data(), s.size(), &index, &out, 1),
      kDataLoss, "more than 31 leading zeros");

  // 32-bit magnitudes beyond the int32 range are rejected too.
  s.clear();
  {
    RangeEncoder encoder(&s);
    encoder.Reserve(100);
    encoder.Encode(100, 256, 8);
    for (int i = 0; i < 31; ++i) encoder.EncodeBit(0);
    for (int i = 0; i < 32; ++i) encoder.EncodeBit(1);  // 2^32 - 1
    encoder.EncodeBit(0);
    encoder.Finalize();
  }
  TC_EXPECT_ERROR(
      DecodeIndexed(decode_table, s.data(), s.size(), &index, &out, 1),
      kDataLoss, "outside the int32 range");
}

}  // namespace
}  // namespace tensorcoder
