// Throughput of the C++ core on the shared workload A (indexed Gaussian) and
// B (factorized logistic): see shared/bench/WORKLOAD.md. One thread, one
// warm-up, then the median of 5 runs. The Python benchmark (coder_bench.py)
// measures the pybind11 layer on the same workloads.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "cc/cdf_table.h"
#include "cc/pmf_to_cdf.h"
#include "cc/range_decoder.h"
#include "cc/range_encoder.h"

namespace tensorcoder {
namespace {

constexpr size_t kSymbols = size_t{1} << 20;
constexpr int kPrecision = 16;

struct Workload {
  const char* name = "";
  std::vector<int32_t> lookup;  // Matrix layout, `width` values per row.
  size_t rows = 0, width = 0;
  std::vector<int32_t> indexes;  // Empty: channel mode.
  std::vector<int32_t> symbols;
  double ideal_bits = 0;
};

// Adds a row for the integer range [lo, hi] whose bin masses are mass(x),
// plus a trailing escape bin with the leftover mass.
template <typename Mass>
void AddRow(Workload* w, std::vector<std::vector<int32_t>>* rows, int lo,
            int hi, Mass mass) {
  std::vector<double> pmf;
  double sum = 0;
  for (int x = lo; x <= hi; ++x) {
    pmf.push_back(mass(x));
    sum += pmf.back();
  }
  pmf.push_back(std::max(0.0, 1.0 - sum));
  StatusOr<std::vector<int32_t>> cdf =
      PmfToQuantizedCdf(pmf.data(), pmf.size(), kPrecision);
  std::vector<int32_t> row = {-kPrecision};
  row.insert(row.end(), cdf->begin(), cdf->end());
  rows->push_back(row);
  w->width = std::max(w->width, row.size());
}

void Finish(Workload* w, std::vector<std::vector<int32_t>>& rows) {
  w->rows = rows.size();
  for (auto& row : rows) {
    row.resize(w->width, 1 << kPrecision);
    w->lookup.insert(w->lookup.end(), row.begin(), row.end());
  }
}

double Upper(double z) { return 0.5 * std::erfc(z / std::sqrt(2.0)); }

Workload MakeA() {
  Workload w;
  w.name = "A (indexed Gaussian)";
  std::mt19937_64 rng(20261122);
  std::vector<std::vector<int32_t>> rows;
  std::vector<int> bounds;
  std::vector<double> scales;
  for (int k = 0; k < 64; ++k) {
    const double s = std::exp(std::log(0.11) +
                              (std::log(256.0) - std::log(0.11)) * k / 63);
    const int t = static_cast<int>(std::ceil(8 * s));
    scales.push_back(s);
    bounds.push_back(t);
    AddRow(&w, &rows, -t, t, [s](int x) {
      // P(x - 1/2 <= X < x + 1/2), upper-tail form on both sides.
      const double a = (std::abs(x) - 0.5) / s, b = (std::abs(x) + 0.5) / s;
      return x == 0 ? 1 - 2 * Upper(0.5 / s) : Upper(a) - Upper(b);
    });
  }
  Finish(&w, rows);
  std::uniform_int_distribution<int> pick(0, 63);
  std::normal_distribution<double> normal(0, 1);
  for (size_t i = 0; i < kSymbols; ++i) {
    const int k = pick(rng);
    const int t = bounds[k];
    const int v = std::clamp(static_cast<int>(std::rint(normal(rng) * scales[k])),
                             -t, t);
    w.indexes.push_back(k);
    w.symbols.push_back(v + t);
  }
  return w;
}

Workload MakeB() {
  Workload w;
  w.name = "B (factorized logistic)";
  std::mt19937_64 rng(20261123);
  std::vector<std::vector<int32_t>> rows;
  std::vector<int> lows, highs;
  std::vector<double> locs, scales;
  std::uniform_real_distribution<double> unit(0, 1);
  for (int c = 0; c < 192; ++c) {
    const double loc = -2 + 4 * unit(rng);
    const double s = std::exp(std::log(0.5) + (std::log(20.0) - std::log(0.5)) *
                                                  unit(rng));
    const int lo = static_cast<int>(std::floor(loc - 20 * s));
    const int hi = static_cast<int>(std::ceil(loc + 20 * s));
    locs.push_back(loc);
    scales.push_back(s);
    lows.push_back(lo);
    highs.push_back(hi);
    auto upper = [loc, s](double y) { return 1 / (1 + std::exp((y - loc) / s)); };
    AddRow(&w, &rows, lo, hi, [&](int x) {
      return x >= loc ? upper(x - 0.5) - upper(x + 0.5)
                      : (1 - upper(x + 0.5)) - (1 - upper(x - 0.5));
    });
  }
  Finish(&w, rows);
  for (size_t i = 0; i < kSymbols; ++i) {
    const int c = static_cast<int>(i % 192);
    const double u = std::clamp(unit(rng), 1e-12, 1 - 1e-12);
    const double x = locs[c] + scales[c] * std::log(u / (1 - u));
    const int v = std::clamp(static_cast<int>(std::rint(x)), lows[c], highs[c]);
    w.symbols.push_back(v - lows[c]);
  }
  return w;
}

template <typename F>
double MedianSeconds(F f) {
  f();
  std::vector<double> times;
  for (int i = 0; i < 5; ++i) {
    const auto start = std::chrono::steady_clock::now();
    f();
    times.push_back(std::chrono::duration<double>(
                        std::chrono::steady_clock::now() - start)
                        .count());
  }
  std::sort(times.begin(), times.end());
  return times[2];
}

int Run(Workload w) {
  StatusOr<CdfTable> table =
      CdfTable::FromMatrix(w.lookup.data(), w.rows, w.width);
  if (!table.ok()) {
    std::fprintf(stderr, "%s\n", table.status().ToString().c_str());
    return 1;
  }
  for (size_t i = 0; i < w.symbols.size(); ++i) {
    const CdfTable::Row& row =
        table->row(w.indexes.empty() ? i % w.rows : w.indexes[i]);
    const uint32_t* cdf = table->cdf(row);
    w.ideal_bits -= std::log2((cdf[w.symbols[i] + 1] - cdf[w.symbols[i]]) /
                              65536.0);
  }
  std::string encoded;
  const bool channel = w.indexes.empty();
  const double encode_s = MedianSeconds([&] {
    encoded = (channel ? EncodeChannel(*table, w.symbols.data(), kSymbols)
                       : EncodeIndexed(*table, w.indexes.data(),
                                       w.symbols.data(), kSymbols))
                  .value();
  });
  const DecodeTable decode_table(*table);
  std::vector<int32_t> decoded(kSymbols);
  Status status;
  const double decode_s = MedianSeconds([&] {
    status = channel ? DecodeChannel(decode_table, encoded.data(),
                                     encoded.size(), decoded.data(), kSymbols)
                     : DecodeIndexed(decode_table, encoded.data(),
                                     encoded.size(), w.indexes.data(),
                                     decoded.data(), kSymbols);
  });
  if (!status.ok() || decoded != w.symbols) {
    std::fprintf(stderr, "round trip failed: %s\n", status.ToString().c_str());
    return 1;
  }
  const double ideal_bytes = w.ideal_bits / 8;
  std::printf("| %s | C++ core | %.1f | %.1f | %zu | %.0f | %.4f |\n", w.name,
              kSymbols / encode_s / 1e6, kSymbols / decode_s / 1e6,
              encoded.size(), ideal_bytes,
              100 * (encoded.size() / ideal_bytes - 1));
  return 0;
}

}  // namespace
}  // namespace tensorcoder

int main() {
  std::printf("| workload | layer | encode Msym/s | decode Msym/s | bytes | "
              "ideal bytes | overhead %% |\n|---|---|---|---|---|---|---|\n");
  return tensorcoder::Run(tensorcoder::MakeA()) |
         tensorcoder::Run(tensorcoder::MakeB());
}
