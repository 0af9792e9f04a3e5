// Fan-out of independent tasks over threads, for the core and its bindings.
//
// The core never owns a thread pool of its own: every parallel routine takes
// a `Runner`, so a caller decides where the work runs. The TensorFlow kernels
// pass one over TensorFlow's CPU pool, the pybind module and native apps one
// over plain std::threads (ThreadRunner), tests one that runs everything on
// the calling thread (SerialRunner). Results never depend on the runner.
#ifndef TENSORCODER_CC_PARALLEL_H_
#define TENSORCODER_CC_PARALLEL_H_

#include <cstddef>
#include <functional>
#include <thread>

#include "cc/status.h"

namespace tensorcoder {

// A Runner calls shard(begin, end) over contiguous pieces of [0, n) such
// that every index is covered exactly once, possibly on several threads at
// once, and returns when all have finished. `cost` estimates the work of one
// index in CPU cycles (TensorFlow's pool uses it to choose the shard size;
// others may ignore it). `shard` does not throw.
using Runner = std::function<void(
    size_t n, size_t cost, const std::function<void(size_t, size_t)>& shard)>;

// Runs everything on the calling thread.
Runner SerialRunner();

// ParallelFor below with `num_threads` (<= 0: all cores).
Runner ThreadRunner(int num_threads);

// Runs task(k) for every k in [0, n) through `runner` and returns the status
// of the lowest k whose task failed (OK if none did). Every task runs, also
// after a failure, so that the error reported does not depend on timing.
Status RunTasks(const Runner& runner, size_t n, size_t cost,
                const std::function<Status(size_t)>& task);

// Runs shard(begin, end) over the pieces `runner` cuts [0, n) into and
// returns the status of the failing piece with the lowest `begin` (OK if
// none failed), for element-wise work where one task per element would cost
// too much.
Status RunShards(const Runner& runner, size_t n, size_t cost,
                 const std::function<Status(size_t, size_t)>& shard);

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

#endif  // TENSORCODER_CC_PARALLEL_H_
