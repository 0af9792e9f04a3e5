#include "cc/parallel.h"

#include <algorithm>
#include <atomic>
#include <exception>
#include <mutex>
#include <utility>
#include <vector>

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

Runner SerialRunner() {
  return [](size_t n, size_t, const std::function<void(size_t, size_t)>& shard) {
    if (n > 0) shard(0, n);
  };
}

Runner ThreadRunner(int num_threads) {
  return [num_threads](size_t n, size_t,
                       const std::function<void(size_t, size_t)>& shard) {
    if (n > 0) ParallelFor(n, num_threads, shard);
  };
}

Status RunTasks(const Runner& runner, size_t n, size_t cost,
                const std::function<Status(size_t)>& task) {
  if (n == 0) return OkStatus();
  std::vector<Status> statuses(n);
  runner(n, cost, [&](size_t begin, size_t end) {
    for (size_t k = begin; k < end; ++k) statuses[k] = task(k);
  });
  for (const Status& status : statuses) {
    if (!status.ok()) return status;
  }
  return OkStatus();
}

Status RunShards(const Runner& runner, size_t n, size_t cost,
                 const std::function<Status(size_t, size_t)>& shard) {
  if (n == 0) return OkStatus();
  std::mutex mutex;
  size_t first_begin = n;
  Status first;
  runner(n, cost, [&](size_t begin, size_t end) {
    Status status = shard(begin, end);
    if (status.ok()) return;
    std::lock_guard<std::mutex> lock(mutex);
    if (begin < first_begin) {
      first_begin = begin;
      first = std::move(status);
    }
  });
  return first;
}

}  // namespace tensorcoder
