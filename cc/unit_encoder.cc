#include "cc/unit_encoder.h"

#include <algorithm>
#include <cmath>
#include <iterator>
#include <limits>
#include <type_traits>

#include "cc/range_encoder.h"

namespace tensorcoder {

std::string JoinChunks(const std::vector<std::string>& chunks) {
  size_t total = 4 * (chunks.empty() ? 0 : chunks.size() - 1);
  for (const std::string& chunk : chunks) total += chunk.size();
  std::string joined;
  joined.reserve(total);
  for (size_t k = 0; k + 1 < chunks.size(); ++k) {
    const uint32_t size = static_cast<uint32_t>(chunks[k].size());
    for (int b = 0; b < 4; ++b) {
      joined.push_back(static_cast<char>((size >> (8 * b)) & 0xFF));
    }
  }
  for (const std::string& chunk : chunks) joined += chunk;
  return joined;
}

namespace {

// The symbol of value v (at `position`, in `unit`) with `offset`.
template <typename T>
Status ToSymbol(T v, int32_t offset, size_t position, size_t unit,
                int32_t* symbol) {
  int64_t rounded;
  if constexpr (std::is_same_v<T, int32_t>) {
    rounded = v;
  } else {
    const double d = static_cast<double>(v);
    if (!(std::fabs(d) < 1073741824.0)) {
      return InvalidArgumentError("value ", d, " at position ", position,
                                  " (string ", unit,
                                  ") is not finite or has magnitude >= 2^30");
    }
    rounded = static_cast<int64_t>(std::nearbyint(d));
  }
  const int64_t s = rounded - offset;
  if (s < std::numeric_limits<int32_t>::min() ||
      s > std::numeric_limits<int32_t>::max()) {
    return InvalidArgumentError("value ", v, " at position ", position,
                                " minus cdf_offset ", offset, " is ", s,
                                ", outside the int32 range that can be coded");
  }
  *symbol = static_cast<int32_t>(s);
  return OkStatus();
}

}  // namespace

template <typename T>
Status EncodeUnits(const CdfTable& table, const int32_t* cdf_offset,
                   const T* values, size_t num_units, const int32_t* indexes,
                   size_t count, const Runner& runner,
                   std::vector<std::string>* strings) {
  strings->assign(num_units, std::string());
  const size_t num_rows = table.num_rows();
  if (num_units == 0) return OkStatus();
  if (num_rows == 0) return InvalidArgumentError("the table has no rows");
  const ChunkLayout layout = UnitLayout(count, indexes != nullptr, num_rows);
  const size_t chunks = layout.num_chunks;
  std::vector<std::string> parts(num_units * chunks);
  const Status status = RunTasks(
      runner, num_units * chunks, 40 * layout.chunk_size,
      [&](size_t task) -> Status {
        const size_t unit = task / chunks, chunk = task % chunks;
        const size_t first = chunk * layout.chunk_size;
        const size_t begin = unit * count + first;
        const size_t n = std::min(layout.chunk_size, count - first);
        std::vector<int32_t> symbols(n);
        for (size_t i = 0; i < n; ++i) {
          size_t row = (first + i) % num_rows;
          if (indexes != nullptr) {
            const int32_t index = indexes[begin + i];
            if (index < 0 || static_cast<size_t>(index) >= num_rows) {
              return InvalidArgumentError("index ", index, " at position ",
                                          begin + i, " is outside [0, ",
                                          num_rows, ")");
            }
            row = static_cast<size_t>(index);
          }
          TC_RETURN_IF_ERROR(ToSymbol(values[begin + i],
                                      cdf_offset ? cdf_offset[row] : 0,
                                      begin + i, unit, &symbols[i]));
        }
        TableEncoder encoder(table);
        const Status coded =
            indexes != nullptr
                ? encoder.EncodeIndexed(indexes + begin, symbols.data(), n)
                : encoder.EncodeChannel(symbols.data(), n);
        if (!coded.ok()) {
          return Status(coded.code(), StrCat("string ", unit, ", chunk ",
                                             chunk, ": ", coded.message()));
        }
        parts[task] = encoder.Finish();
        return OkStatus();
      });
  if (!status.ok()) return status;
  for (size_t u = 0; u < num_units; ++u) {
    if (chunks == 1) {
      (*strings)[u] = std::move(parts[u]);
      continue;
    }
    const std::vector<std::string> unit_chunks(
        std::make_move_iterator(parts.begin() + u * chunks),
        std::make_move_iterator(parts.begin() + (u + 1) * chunks));
    (*strings)[u] = JoinChunks(unit_chunks);
  }
  return OkStatus();
}

template Status EncodeUnits<float>(const CdfTable&, const int32_t*,
                                   const float*, size_t, const int32_t*,
                                   size_t, const Runner&,
                                   std::vector<std::string>*);
template Status EncodeUnits<double>(const CdfTable&, const int32_t*,
                                    const double*, size_t, const int32_t*,
                                    size_t, const Runner&,
                                    std::vector<std::string>*);
template Status EncodeUnits<int32_t>(const CdfTable&, const int32_t*,
                                     const int32_t*, size_t, const int32_t*,
                                     size_t, const Runner&,
                                     std::vector<std::string>*);

}  // namespace tensorcoder
