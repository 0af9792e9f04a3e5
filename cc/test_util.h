// Helpers shared by the core's tests.
#ifndef TENSORCODER_CC_TEST_UTIL_H_
#define TENSORCODER_CC_TEST_UTIL_H_

#include <cstdint>
#include <string>
#include <vector>

#include "cc/status.h"

namespace tensorcoder {
namespace testing {

inline std::string Hex(const std::string& bytes) {
  static const char kDigits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    if (!out.empty()) out.push_back(' ');
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 15]);
  }
  return out;
}

inline std::string Bytes(const std::vector<int>& values) {
  std::string out;
  for (int v : values) out.push_back(static_cast<char>(v));
  return out;
}

}  // namespace testing
}  // namespace tensorcoder

#define TC_ASSERT_OK(expr)                                 \
  do {                                                     \
    const ::tensorcoder::Status tc_s_ = (expr);            \
    ASSERT_TRUE(tc_s_.ok()) << tc_s_.ToString();           \
  } while (0)

#define TC_EXPECT_ERROR(expr, expected_code, substring)                         \
  do {                                                                 \
    const ::tensorcoder::Status tc_s_ = (expr);                        \
    EXPECT_EQ(tc_s_.code(), ::tensorcoder::StatusCode::expected_code)           \
        << tc_s_.ToString();                                           \
    EXPECT_NE(tc_s_.message().find(substring), std::string::npos)      \
        << "message: " << tc_s_.message();                             \
  } while (0)

#endif  // TENSORCODER_CC_TEST_UTIL_H_
