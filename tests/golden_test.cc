// The C++ core against the golden vectors that TensorFlow Compression wrote
// (tests/golden/): same bytes when encoding, same values when decoding.
#include <string>
#include <vector>

#include "cc/cdf_table.h"
#include "cc/range_decoder.h"
#include "cc/range_encoder.h"
#include "cc/run_length_coder.h"
#include "gtest/gtest.h"
#include "tests/golden_cases.h"

namespace tensorcoder {
namespace {

TEST(GoldenTest, CoreMatchesTfcBytes) {
  const std::vector<golden::Case> cases = golden::LoadCases("tests/golden");
  ASSERT_GE(cases.size(), 40u);
  for (const golden::Case& c : cases) {
    SCOPED_TRACE(c.name);
    const std::vector<int32_t> values = c.Int32("values");
    std::vector<int32_t> decoded(values.size());
    if (c.coder == "range_index" || c.coder == "range_channel") {
      const std::vector<int32_t> shape = c.Int32("lookup_shape");
      const std::vector<int32_t> lookup = c.Int32("lookup");
      StatusOr<CdfTable> table =
          CdfTable::FromMatrix(lookup.data(), shape[0], shape[1]);
      ASSERT_TRUE(table.ok()) << table.status().ToString();
      const DecodeTable decode_table(*table);
      const bool indexed = c.coder == "range_index";
      const std::vector<int32_t> indexes = c.Int32("indexes");
      StatusOr<std::string> encoded =
          indexed ? EncodeIndexed(*table, indexes.data(), values.data(),
                                  values.size())
                  : EncodeChannel(*table, values.data(), values.size());
      ASSERT_TRUE(encoded.ok()) << encoded.status().ToString();
      EXPECT_EQ(*encoded, c.expected);
      const Status status =
          indexed ? DecodeIndexed(decode_table, c.expected.data(),
                                  c.expected.size(), indexes.data(),
                                  decoded.data(), decoded.size())
                  : DecodeChannel(decode_table, c.expected.data(),
                                  c.expected.size(), decoded.data(),
                                  decoded.size());
      EXPECT_TRUE(status.ok()) << status.ToString();
    } else if (c.coder == "run_length_gamma") {
      EXPECT_EQ(RunLengthGammaEncode(values.data(), values.size()).value(),
                c.expected);
      const Status status = RunLengthGammaDecode(
          c.expected.data(), c.expected.size(), decoded.data(), decoded.size());
      EXPECT_TRUE(status.ok()) << status.ToString();
    } else if (c.coder == "run_length") {
      const std::vector<int32_t> o = c.Int32("options");
      RunLengthOptions options;
      options.run_length_code = o[0];
      options.magnitude_code = o[1];
      options.use_run_length_for_non_zeros = o[2] != 0;
      StatusOr<std::string> encoded =
          RunLengthEncode(values.data(), values.size(), options);
      ASSERT_TRUE(encoded.ok()) << encoded.status().ToString();
      EXPECT_EQ(*encoded, c.expected);
      const Status status =
          RunLengthDecode(c.expected.data(), c.expected.size(),
                          decoded.data(), decoded.size(), options);
      EXPECT_TRUE(status.ok()) << status.ToString();
    } else {
      FAIL() << "unknown coder " << c.coder;
    }
    EXPECT_EQ(decoded, values);
  }
}

}  // namespace
}  // namespace tensorcoder
