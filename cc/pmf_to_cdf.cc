#include "cc/pmf_to_cdf.h"

#include <algorithm>
#include <cmath>
#include <queue>
#include <utility>

#include "cc/cdf_table.h"

namespace tensorcoder {
namespace {

// Greedy adjustment of `counts` by `steps` unit steps of `direction` (+1/-1),
// each time at the index with the best score; ties go to the lower index.
void Adjust(const std::vector<double>& mass, std::vector<int64_t>* counts,
            int64_t steps, int direction) {
  auto score = [&](size_t i) {
    const double c = static_cast<double>((*counts)[i]);
    if (direction < 0) {
      // Cost of a decrement, negated so that the heap's top is the cheapest.
      if ((*counts)[i] <= 1) return -HUGE_VAL;
      return -(mass[i] * (std::log2(c) - std::log2(c - 1)));
    }
    return mass[i] * (std::log2(c + 1) - std::log2(c));
  };
  using Item = std::pair<double, size_t>;
  // Highest score first; among equal scores the lowest index first.
  auto worse = [](const Item& x, const Item& y) {
    return x.first < y.first || (x.first == y.first && x.second > y.second);
  };
  std::priority_queue<Item, std::vector<Item>, decltype(worse)> heap(worse);
  for (size_t i = 0; i < mass.size(); ++i) heap.emplace(score(i), i);
  for (int64_t k = 0; k < steps; ++k) {
    const size_t i = heap.top().second;
    heap.pop();
    (*counts)[i] += direction;
    heap.emplace(score(i), i);
  }
}

}  // namespace

StatusOr<std::vector<int32_t>> PmfToQuantizedCdf(const double* pmf, size_t n,
                                                 int precision) {
  if (precision < 1 || precision > kMaxPrecision) {
    return InvalidArgumentError("precision ", precision, " not in 1..16");
  }
  const int64_t total = int64_t{1} << precision;
  if (n == 0) return InvalidArgumentError("pmf is empty");
  if (n > static_cast<size_t>(total)) {
    return InvalidArgumentError("pmf has ", n, " entries, more than 2^",
                                precision, " = ", total,
                                ", so not every symbol can get a count");
  }
  double sum = 0;
  for (size_t i = 0; i < n; ++i) {
    if (!std::isfinite(pmf[i]) || pmf[i] < 0) {
      return InvalidArgumentError("pmf[", i, "] = ", pmf[i],
                                  " is negative, NaN or infinite");
    }
    sum += pmf[i];
  }
  const double scale = sum > 1.0 + 1.0 / 1024 ? 1.0 / sum : 1.0;
  std::vector<double> mass(pmf, pmf + n);
  std::vector<int64_t> counts(n);
  int64_t count_sum = 0;
  for (size_t i = 0; i < n; ++i) {
    if (scale != 1.0) mass[i] *= scale;
    counts[i] = std::max<int64_t>(
        1, static_cast<int64_t>(std::rint(mass[i] * static_cast<double>(total))));
    count_sum += counts[i];
  }
  if (count_sum > total) Adjust(mass, &counts, count_sum - total, -1);
  if (count_sum < total) Adjust(mass, &counts, total - count_sum, +1);

  std::vector<int32_t> cdf(n + 1);
  cdf[0] = 0;
  for (size_t i = 0; i < n; ++i) {
    cdf[i + 1] = cdf[i] + static_cast<int32_t>(counts[i]);
  }
  return cdf;
}

template <typename T>
Status PmfsToLookup(const T* pmfs, const int32_t* lengths, size_t num_rows,
                    size_t max_length, int precision, bool overflow,
                    const Runner& runner, int32_t* lookup) {
  TC_RETURN_IF_ERROR(CheckPrecision(precision));
  const size_t width = LookupWidth(max_length, overflow);
  const int32_t total = int32_t{1} << precision;
  return RunTasks(runner, num_rows, 200 * width, [&](size_t r) -> Status {
    const int64_t n = lengths[r];
    if (n < 1 || static_cast<size_t>(n) > max_length) {
      return InvalidArgumentError("pmf row ", r, ": length ", n,
                                  " is outside [1, ", max_length, "]");
    }
    std::vector<double> row(static_cast<size_t>(n) + (overflow ? 1 : 0));
    double sum = 0;
    for (int64_t i = 0; i < n; ++i) {
      row[i] = static_cast<double>(pmfs[r * max_length + i]);
      sum += row[i];
    }
    if (overflow) row[n] = std::max(0.0, 1.0 - sum);
    StatusOr<std::vector<int32_t>> cdf =
        PmfToQuantizedCdf(row.data(), row.size(), precision);
    if (!cdf.ok()) {
      return Status(cdf.status().code(),
                    StrCat("pmf row ", r, ": ", cdf.status().message()));
    }
    int32_t* out = lookup + r * width;
    out[0] = overflow ? -precision : precision;
    std::copy(cdf->begin(), cdf->end(), out + 1);
    std::fill(out + 1 + cdf->size(), out + width, total);
    return OkStatus();
  });
}

template Status PmfsToLookup<float>(const float*, const int32_t*, size_t,
                                    size_t, int, bool, const Runner&,
                                    int32_t*);
template Status PmfsToLookup<double>(const double*, const int32_t*, size_t,
                                     size_t, int, bool, const Runner&,
                                     int32_t*);

}  // namespace tensorcoder
