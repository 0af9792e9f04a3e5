#include "cc/crc32.h"

#include <string>

#include "gtest/gtest.h"

namespace tensorcoder {
namespace {

TEST(Crc32Test, StandardCheckValues) {
  EXPECT_EQ(Crc32("", 0), 0u);
  EXPECT_EQ(Crc32("123456789", 9), 0xCBF43926u);
  const std::string text = "The quick brown fox jumps over the lazy dog";
  EXPECT_EQ(Crc32(text.data(), text.size()), 0x414FA339u);
  // Incremental use gives the same result.
  EXPECT_EQ(Crc32(text.data() + 10, text.size() - 10, Crc32(text.data(), 10)),
            0x414FA339u);
}

}  // namespace
}  // namespace tensorcoder
