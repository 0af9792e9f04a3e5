#include "cc/batch_coder.h"

#include <algorithm>
#include <thread>

#include "cc/range_encoder.h"

namespace tensorcoder {

void ParallelFor(size_t n, int num_threads,
                 const std::function<void(size_t, size_t)>& fn) {
  if (num_threads <= 0) {
    num_threads = static_cast<int>(std::thread::hardware_concurrency());
  }
  const size_t shards = std::max<size_t>(1, std::min<size_t>(n, num_threads));
  if (shards <= 1) {
    fn(0, n);
    return;
  }
  std::vector<std::thread> threads;
  threads.reserve(shards - 1);
  for (size_t s = 1; s < shards; ++s) {
    threads.emplace_back(fn, n * s / shards, n * (s + 1) / shards);
  }
  fn(0, n / shards);
  for (std::thread& t : threads) t.join();
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
