// Coding of many independent strings at once, spread over threads.
//
// The values form a [num_strings, values_per_string] row-major matrix; string
// k holds row k. With `indexes` == nullptr rows are chosen per channel (value
// j of a string uses CDF row j mod num_rows), otherwise `indexes` has the
// same layout as the values. An error names the first failing string.
#ifndef TENSORCODER_CC_BATCH_CODER_H_
#define TENSORCODER_CC_BATCH_CODER_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "cc/cdf_table.h"
#include "cc/range_decoder.h"
#include "cc/status.h"

namespace tensorcoder {

// num_threads <= 0 uses std::thread::hardware_concurrency().
Status EncodeBatch(const CdfTable& table, const int32_t* indexes,
                   const int32_t* values, size_t num_strings,
                   size_t values_per_string, int num_threads,
                   std::vector<std::string>* strings);

Status DecodeBatch(const DecodeTable& table, const std::string_view* strings,
                   size_t num_strings, const int32_t* indexes,
                   size_t values_per_string, int num_threads, int32_t* values);

// Most threads ParallelFor uses, the caller's included, whatever is asked.
inline constexpr int kMaxParallelForThreads = 64;

// Runs fn(begin, end) over [0, n) split into contiguous shards, each shard
// exactly once, on up to min(num_threads, kMaxParallelForThreads, n) threads
// (the caller's thread included; num_threads <= 0 uses
// std::thread::hardware_concurrency()). Returns after every shard has run
// and every thread it started has been joined. If a thread cannot be
// started (std::thread throws, e.g. under an address-space or process
// limit), the shards are run by the threads that did start and the caller:
// results are the same, only parallelism is lost. `fn` must not throw.
void ParallelFor(size_t n, int num_threads,
                 const std::function<void(size_t, size_t)>& fn);

namespace internal {

// Starts a thread running `work`; may throw as std::thread's constructor
// does. ParallelFor uses std::thread; tests inject failures through this.
using ThreadStarter = std::function<std::thread(std::function<void()> work)>;

void ParallelFor(size_t n, int num_threads,
                 const std::function<void(size_t, size_t)>& fn,
                 const ThreadStarter& start_thread);

}  // namespace internal

}  // namespace tensorcoder

#endif  // TENSORCODER_CC_BATCH_CODER_H_
