#include "cc/batch_coder.h"

#include <algorithm>
#include <atomic>
#include <exception>
#include <thread>
#include <utility>

#include "cc/range_encoder.h"

namespace tensorcoder {

namespace internal {

void ParallelFor(size_t n, int num_threads,
                 const std::function<void(size_t, size_t)>& fn,
                 const ThreadStarter& start_thread) {
  if (num_threads <= 0) {
    num_threads = static_cast<int>(std::thread::hardware_concurrency());
  }
  num_threads = std::min(num_threads, kMaxParallelForThreads);
  const size_t shards = std::max<size_t>(
      1, std::min<size_t>(n, static_cast<size_t>(std::max(num_threads, 1))));
  if (shards <= 1) {
    fn(0, n);
    return;
  }
  // Shards are claimed from a shared counter, so whichever threads exist
  // (all of them, or only the caller when none could start) run them all.
  std::atomic<size_t> next_shard{0};
  auto run_shards = [&next_shard, shards, n, &fn] {
    for (size_t s; (s = next_shard.fetch_add(1)) < shards;) {
      fn(n * s / shards, n * (s + 1) / shards);
    }
  };
  std::vector<std::thread> threads;
  // Joins on every exit path: a joinable std::thread must never be
  // destroyed (that calls std::terminate).
  struct Joiner {
    std::vector<std::thread>* threads;
    ~Joiner() {
      for (std::thread& t : *threads) {
        if (t.joinable()) t.join();
      }
    }
  } joiner{&threads};
  try {
    threads.reserve(shards - 1);
    for (size_t t = 1; t < shards; ++t) {
      threads.push_back(start_thread(run_shards));
    }
  } catch (const std::exception&) {
    // std::system_error (no thread could be created) or std::bad_alloc:
    // carry on with the threads that started.
  }
  run_shards();
}

}  // namespace internal

void ParallelFor(size_t n, int num_threads,
                 const std::function<void(size_t, size_t)>& fn) {
  internal::ParallelFor(n, num_threads, fn, [](std::function<void()> work) {
    return std::thread(std::move(work));
  });
}

namespace {

// Keeps the status of the lowest-numbered failing string.
Status FirstError(const std::vector<Status>& statuses) {
  for (size_t k = 0; k < statuses.size(); ++k) {
    if (!statuses[k].ok()) {
      return Status(statuses[k].code(),
                    StrCat("string ", k, ": ", statuses[k].message()));
    }
  }
  return OkStatus();
}

}  // namespace

Status EncodeBatch(const CdfTable& table, const int32_t* indexes,
                   const int32_t* values, size_t num_strings,
                   size_t values_per_string, int num_threads,
                   std::vector<std::string>* strings) {
  strings->assign(num_strings, std::string());
  std::vector<Status> statuses(num_strings);
  ParallelFor(num_strings, num_threads, [&](size_t begin, size_t end) {
    for (size_t k = begin; k < end; ++k) {
      const size_t offset = k * values_per_string;
      TableEncoder encoder(table);
      statuses[k] =
          indexes == nullptr
              ? encoder.EncodeChannel(values + offset, values_per_string)
              : encoder.EncodeIndexed(indexes + offset, values + offset,
                                      values_per_string);
      if (statuses[k].ok()) (*strings)[k] = encoder.Finish();
    }
  });
  return FirstError(statuses);
}

Status DecodeBatch(const DecodeTable& table, const std::string_view* strings,
                   size_t num_strings, const int32_t* indexes,
                   size_t values_per_string, int num_threads, int32_t* values) {
  std::vector<Status> statuses(num_strings);
  ParallelFor(num_strings, num_threads, [&](size_t begin, size_t end) {
    for (size_t k = begin; k < end; ++k) {
      const size_t offset = k * values_per_string;
      const std::string_view s = strings[k];
      statuses[k] =
          indexes == nullptr
              ? DecodeChannel(table, s.data(), s.size(), values + offset,
                              values_per_string)
              : DecodeIndexed(table, s.data(), s.size(), indexes + offset,
                              values + offset, values_per_string);
    }
  });
  return FirstError(statuses);
}

}  // namespace tensorcoder
