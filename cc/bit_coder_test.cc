#include "cc/bit_coder.h"

#include <random>
#include <vector>

#include "cc/test_util.h"
#include "gtest/gtest.h"

namespace tensorcoder {
namespace {

using testing::Hex;

TEST(BitCoderTest, LeastSignificantBitFirst) {
  BitWriter writer;
  writer.WriteOneBit(1);
  writer.WriteBits(3, 0b110);  // Low bit first: 0, 1, 1.
  writer.WriteBits(8, 0xA5);
  // Bits in order: 1 0 1 1 | 1 0 1 0 0 1 0 1 -> 0b0101'1101 = 0x5d, 0x0a.
  EXPECT_EQ(Hex(writer.Finish()), "5d 0a");
}

TEST(BitCoderTest, GammaAndRiceCodewords) {
  BitWriter writer;
  writer.WriteGamma(1);  // "1"
  writer.WriteGamma(6);  // "00" "1" then 2 low bits of 6 (0, 1)
  writer.WriteRice(5, 1);  // 5 >> 1 = 2 zeros, "1", low bit 1
  // 1 | 0 0 1 0 1 | 0 0 1 1 -> byte0 = 1,0,0,1,0,1,0,0 = 0x29; byte1 = 1,1
  EXPECT_EQ(Hex(writer.Finish()), "29 03");
}

TEST(BitCoderTest, RoundTripsAllWidths) {
  std::mt19937 rng(3);
  BitWriter writer;
  std::vector<uint32_t> gammas, rices;
  std::vector<int> params;
  for (int i = 0; i < 5000; ++i) {
    const int width = 1 + rng() % 32;
    uint32_t v = static_cast<uint32_t>(rng()) >> (32 - width);
    v |= 1u << (width - 1);
    gammas.push_back(v);
    writer.WriteGamma(v);
    const int k = rng() % 32;
    uint32_t r = static_cast<uint32_t>(rng()) >> (rng() % 32);
    if (!BitWriter::RiceFits(r, k)) r >>= 12;
    rices.push_back(r);
    params.push_back(k);
    writer.WriteRice(r, k);
  }
  writer.WriteGamma(0xFFFFFFFFu);
  const std::string bytes = writer.Finish();
  BitReader reader(bytes.data(), bytes.size());
  for (size_t i = 0; i < gammas.size(); ++i) {
    uint32_t v;
    TC_ASSERT_OK(reader.ReadGamma(&v));
    ASSERT_EQ(v, gammas[i]);
    TC_ASSERT_OK(reader.ReadRice(params[i], &v));
    ASSERT_EQ(v, rices[i]);
  }
  uint32_t v;
  TC_ASSERT_OK(reader.ReadGamma(&v));
  EXPECT_EQ(v, 0xFFFFFFFFu);
  TC_ASSERT_OK(reader.Finish());
}

TEST(BitCoderTest, ReaderErrors) {
  uint32_t v;
  {
    BitReader reader("", 0);
    TC_EXPECT_ERROR(reader.ReadOneBit(&v), kDataLoss, "ended");
    TC_ASSERT_OK(reader.Finish());
  }
  {
    const std::string zeros(5, '\0');  // 40 zero bits: prefix too long.
    BitReader reader(zeros.data(), zeros.size());
    TC_EXPECT_ERROR(reader.ReadGamma(&v), kDataLoss, "more than 31");
  }
  {
    // Rice(31) with 8 leading zeros would be 8 * 2^31 + ...: over 32 bits.
    const std::string zeros = std::string(1, '\0') + "\x01";
    BitReader reader(zeros.data(), zeros.size());
    TC_EXPECT_ERROR(reader.ReadRice(31, &v), kDataLoss, "more than 1 leading");
  }
  {
    const std::string one = "\x01";  // gamma(1), then 7 zero padding bits.
    BitReader reader(one.data(), one.size());
    TC_ASSERT_OK(reader.ReadGamma(&v));
    TC_ASSERT_OK(reader.Finish());
  }
  {
    const std::string extra("\x01\x00", 2);
    BitReader reader(extra.data(), extra.size());
    TC_ASSERT_OK(reader.ReadGamma(&v));
    TC_EXPECT_ERROR(reader.Finish(), kDataLoss, "1 bytes left over");
  }
  {
    const std::string dirty = "\x03";  // gamma(1), gamma(1), nonzero padding
    BitReader reader(dirty.data(), dirty.size());
    TC_ASSERT_OK(reader.ReadGamma(&v));
    TC_EXPECT_ERROR(reader.Finish(), kDataLoss, "padding");
  }
}

}  // namespace
}  // namespace tensorcoder
