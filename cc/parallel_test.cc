#include "cc/parallel.h"

#include <atomic>
#include <mutex>
#include <system_error>
#include <thread>
#include <vector>

#include "cc/test_util.h"
#include "gtest/gtest.h"

namespace tensorcoder {
namespace {

TEST(ParallelForTest, CoversEveryIndexOnce) {
  for (int threads : {0, 1, 2, 7}) {
    for (size_t n : {0, 1, 5, 100}) {
      std::vector<std::atomic<int>> hits(n);
      ParallelFor(n, threads, [&](size_t begin, size_t end) {
        for (size_t i = begin; i < end; ++i) ++hits[i];
      });
      for (auto& h : hits) EXPECT_EQ(h.load(), 1);
    }
  }
}

// Counts the threads ParallelFor starts and fails the start of every thread
// after the first `successes` with std::system_error, as std::thread does
// when the system is out of threads or address space.
class FailingStarter {
 public:
  explicit FailingStarter(int successes) : successes_(successes) {}

  internal::ThreadStarter starter() {
    return [this](std::function<void()> work) {
      std::lock_guard<std::mutex> lock(mutex_);
      ++attempts_;
      if (started_ >= successes_) {
        throw std::system_error(
            std::make_error_code(std::errc::resource_unavailable_try_again),
            "simulated thread creation failure");
      }
      ++started_;
      return std::thread(std::move(work));
    };
  }
  int attempts() const { return attempts_; }
  int started() const { return started_; }

 private:
  std::mutex mutex_;
  const int successes_;
  int attempts_ = 0;
  int started_ = 0;
};

void ExpectEveryIndexOnce(size_t n, int threads,
                          const internal::ThreadStarter& starter) {
  std::vector<std::atomic<int>> hits(n);
  internal::ParallelFor(n, threads, [&](size_t begin, size_t end) {
    for (size_t i = begin; i < end; ++i) ++hits[i];
  }, starter);
  for (size_t i = 0; i < n; ++i) {
    ASSERT_EQ(hits[i].load(), 1) << "index " << i << " of " << n;
  }
}

TEST(ParallelForTest, HugeThreadCountsAreCapped) {
  // More threads than the cap and than the work: one per shard at most.
  for (size_t n : {size_t{0}, size_t{1}, size_t{5}, size_t{3000}}) {
    for (int threads : {100, 3000, 1 << 30}) {
      FailingStarter counter(1 << 30);
      ExpectEveryIndexOnce(n, threads, counter.starter());
      EXPECT_LE(counter.started(), kMaxParallelForThreads - 1);
      EXPECT_LE(static_cast<size_t>(counter.started()), n == 0 ? 0 : n - 1);
    }
  }
  // And through the real thread starter.
  std::vector<std::atomic<int>> hits(3000);
  ParallelFor(hits.size(), 3000, [&](size_t begin, size_t end) {
    for (size_t i = begin; i < end; ++i) ++hits[i];
  });
  for (auto& h : hits) EXPECT_EQ(h.load(), 1);
}

TEST(ParallelForTest, FailedThreadStartsFallBackToStartedThreads) {
  // No thread at all, one, a few: the work is still done exactly once, all
  // started threads are joined, and nothing terminates.
  for (int successes : {0, 1, 3}) {
    FailingStarter starter(successes);
    ExpectEveryIndexOnce(1000, 16, starter.starter());
    EXPECT_EQ(starter.started(), successes);
    EXPECT_EQ(starter.attempts(), successes + 1);  // Stops at the first failure.
  }
}

TEST(RunTasksTest, RunsEveryTaskAndReportsTheLowestFailure) {
  for (const Runner& runner : {SerialRunner(), ThreadRunner(4)}) {
    std::vector<std::atomic<int>> runs(50);
    const Status status = RunTasks(runner, runs.size(), 1, [&](size_t k) {
      ++runs[k];
      if (k == 17 || k == 40) return DataLossError("task ", k);
      return OkStatus();
    });
    EXPECT_EQ(status.code(), StatusCode::kDataLoss);
    EXPECT_EQ(status.message(), "task 17");
    for (auto& r : runs) EXPECT_EQ(r.load(), 1);
    TC_ASSERT_OK(RunTasks(runner, 0, 1, [](size_t) {
      return InvalidArgumentError("never called");
    }));
  }
}

TEST(RunShardsTest, ReportsTheFailingShardWithTheLowestBegin) {
  for (const Runner& runner : {SerialRunner(), ThreadRunner(4)}) {
    std::vector<std::atomic<int>> hits(1000);
    const Status status = RunShards(runner, hits.size(), 1,
                                    [&](size_t begin, size_t end) -> Status {
      for (size_t i = begin; i < end; ++i) ++hits[i];
      if (begin <= 500 && 500 < end) return DataLossError("at 500");
      if (begin <= 900 && 900 < end) return DataLossError("at 900");
      return OkStatus();
    });
    EXPECT_EQ(status.message(), "at 500");
    for (auto& h : hits) EXPECT_EQ(h.load(), 1);
  }
}

}  // namespace
}  // namespace tensorcoder
