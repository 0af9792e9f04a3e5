#include "cc/batch_coder.h"

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <mutex>
#include <random>
#include <string_view>
#include <system_error>
#include <thread>
#include <vector>

#include "cc/range_encoder.h"
#include "cc/test_util.h"
#include "gtest/gtest.h"

namespace tensorcoder {
namespace {

// The report's reproducer, in a child process so that its limits do not
// touch this one: EncodeBatch of 3000 strings with num_threads = 3000 under
// a 1 GiB address-space limit used to abort (std::terminate from a joinable
// std::thread destroyed after a failed start). A second limit, a few MiB
// above what the child already maps, makes every thread start fail.
// AddressSanitizer reserves terabytes of address space, so the test cannot
// run under it (the deterministic FailedThreadStarts test in parallel_test.cc covers the
// same path there).
#if defined(__SANITIZE_ADDRESS__)
#define TC_HAS_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TC_HAS_ASAN 1
#endif
#endif

TEST(BatchCoderTest, EncodesWhenThreadsCannotStart) {
#ifdef TC_HAS_ASAN
  GTEST_SKIP() << "address-space limits cannot apply under AddressSanitizer";
#else
  const std::vector<int32_t> lookup = {-8, 0, 100, 200, 250, 256};
  StatusOr<CdfTable> table = CdfTable::FromFlat(lookup.data(), lookup.size());
  ASSERT_TRUE(table.ok());
  const size_t num_strings = 3000, per_string = 4;
  std::vector<int32_t> indexes(num_strings * per_string, 0),
      values(indexes.size());
  for (size_t i = 0; i < values.size(); ++i) {
    values[i] = static_cast<int32_t>(i % 7) - 2;
  }
  std::vector<std::string> expected;
  TC_ASSERT_OK(EncodeBatch(*table, indexes.data(), values.data(), num_strings,
                           per_string, 1, &expected));
  long pages = 0;
  if (FILE* statm = std::fopen("/proc/self/statm", "r")) {
    if (std::fscanf(statm, "%ld", &pages) != 1) pages = 0;
    std::fclose(statm);
  }
  ASSERT_GT(pages, 0);
  const rlim_t mapped = static_cast<rlim_t>(pages) * sysconf(_SC_PAGESIZE);
  for (const rlim_t limit : {rlim_t{1} << 30, mapped + (rlim_t{4} << 20)}) {
    std::fflush(nullptr);
    const pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      std::vector<std::string> strings;
      strings.reserve(num_strings);
      const struct rlimit rl = {limit, limit};
      if (setrlimit(RLIMIT_AS, &rl) != 0) _exit(3);
      const Status status =
          EncodeBatch(*table, indexes.data(), values.data(), num_strings,
                      per_string, 3000, &strings);
      _exit(!status.ok() ? 1 : strings != expected ? 2 : 0);
    }
    int wstatus = 0;
    ASSERT_EQ(waitpid(pid, &wstatus, 0), pid);
    ASSERT_TRUE(WIFEXITED(wstatus))
        << "child killed by signal " << WTERMSIG(wstatus) << " at limit "
        << limit;
    EXPECT_EQ(WEXITSTATUS(wstatus), 0) << "limit " << limit;
  }
#endif
}

TEST(BatchCoderTest, MatchesSingleStringCodingInBothModes) {
  const std::vector<int32_t> lookup = {-8, 0, 100, 200, 250, 256,  //
                                       5,  0, 1,   31,  32,  32};
  StatusOr<CdfTable> table = CdfTable::FromMatrix(lookup.data(), 2, 6);
  ASSERT_TRUE(table.ok()) << table.status().ToString();
  const DecodeTable decode_table(*table);
  std::mt19937 rng(31);
  const size_t num_strings = 37, per_string = 101;
  std::vector<int32_t> indexes(num_strings * per_string),
      values(indexes.size());
  for (size_t i = 0; i < values.size(); ++i) {
    indexes[i] = rng() % 2;
    values[i] = indexes[i] == 0 ? static_cast<int32_t>(rng() % 9) - 3
                                : static_cast<int32_t>(rng() % 3);
  }
  for (int threads : {1, 3}) {
    std::vector<std::string> strings;
    TC_ASSERT_OK(EncodeBatch(*table, indexes.data(), values.data(), num_strings,
                             per_string, threads, &strings));
    ASSERT_EQ(strings.size(), num_strings);
    for (size_t k = 0; k < num_strings; ++k) {
      StatusOr<std::string> single =
          EncodeIndexed(*table, indexes.data() + k * per_string,
                        values.data() + k * per_string, per_string);
      ASSERT_TRUE(single.ok());
      EXPECT_EQ(strings[k], *single);
    }
    std::vector<std::string_view> views(strings.begin(), strings.end());
    std::vector<int32_t> decoded(values.size());
    TC_ASSERT_OK(DecodeBatch(decode_table, views.data(), num_strings,
                             indexes.data(), per_string, threads,
                             decoded.data()));
    EXPECT_EQ(decoded, values);
  }
  // Channel mode: value j of each string uses row j mod 2.
  for (size_t i = 0; i < values.size(); ++i) {
    values[i] = (i % per_string) % 2 == 0 ? static_cast<int32_t>(rng() % 9) - 3
                                          : static_cast<int32_t>(rng() % 3);
  }
  std::vector<std::string> strings;
  TC_ASSERT_OK(EncodeBatch(*table, nullptr, values.data(), num_strings,
                           per_string, 2, &strings));
  std::vector<std::string_view> views(strings.begin(), strings.end());
  std::vector<int32_t> decoded(values.size());
  TC_ASSERT_OK(DecodeBatch(decode_table, views.data(), num_strings, nullptr,
                           per_string, 2, decoded.data()));
  EXPECT_EQ(decoded, values);
}

TEST(BatchCoderTest, ReportsTheFirstFailingString) {
  const std::vector<int32_t> lookup = {2, 0, 1, 3, 4};
  StatusOr<CdfTable> table = CdfTable::FromFlat(lookup.data(), lookup.size());
  ASSERT_TRUE(table.ok());
  std::vector<int32_t> values = {0, 1, 2, 7, 0, 9};  // strings of 2 values
  std::vector<std::string> strings;
  TC_EXPECT_ERROR(EncodeBatch(*table, nullptr, values.data(), 3, 2, 2,
                              &strings),
                  kInvalidArgument, "string 1: value 7 at position 1");
  values = {0, 1, 2, 0, 0, 2};
  TC_ASSERT_OK(EncodeBatch(*table, nullptr, values.data(), 3, 2, 2, &strings));
  strings[2] += "junk";
  std::vector<std::string_view> views(strings.begin(), strings.end());
  const DecodeTable decode_table(*table);
  std::vector<int32_t> decoded(6);
  TC_EXPECT_ERROR(DecodeBatch(decode_table, views.data(), 3, nullptr, 2, 2,
                              decoded.data()),
                  kDataLoss, "string 2: ");
}

}  // namespace
}  // namespace tensorcoder
