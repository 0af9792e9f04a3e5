#include "cc/unit_decoder.h"

#include <algorithm>
#include <limits>
#include <type_traits>

namespace tensorcoder {

ChunkLayout ChunkLayoutFor(size_t count, size_t alignment) {
  alignment = std::max<size_t>(alignment, 1);
  if (count < 2 * kChunkValues) return {1, count};
  const size_t wanted = std::min(count / kChunkValues, kMaxChunks);
  size_t size = (count + wanted - 1) / wanted;
  size = (size + alignment - 1) / alignment * alignment;
  return {(count + size - 1) / size, size};
}

Status SplitChunks(const char* data, size_t size, size_t num_chunks,
                   std::vector<std::string_view>* chunks) {
  chunks->clear();
  if (num_chunks == 0) return InvalidArgumentError("no chunks to split into");
  const size_t header = 4 * (num_chunks - 1);
  if (size < header) {
    return DataLossError("chunked string of ", size, " bytes is shorter than "
                         "its ", header, "-byte header");
  }
  const auto* bytes = reinterpret_cast<const unsigned char*>(data);
  size_t position = header;
  for (size_t k = 0; k < num_chunks; ++k) {
    size_t length = size - position;
    if (k + 1 < num_chunks) {
      length = 0;
      for (int b = 0; b < 4; ++b) {
        length |= static_cast<size_t>(bytes[4 * k + b]) << (8 * b);
      }
      if (length > size - position) {
        return DataLossError("chunk ", k, " claims ", length, " bytes but ",
                             size - position, " remain");
      }
    }
    chunks->emplace_back(data + position, length);
    position += length;
  }
  return OkStatus();
}

Status CheckOffsets(const CdfTable& table, size_t num_offsets,
                    const char* name) {
  if (num_offsets != table.num_rows()) {
    return InvalidArgumentError("`", name, "` must have one entry per table "
                                "row (", table.num_rows(), "), got ",
                                num_offsets);
  }
  return OkStatus();
}

Status CheckIndexes(const int32_t* indexes, size_t n, size_t num_rows) {
  for (size_t i = 0; i < n; ++i) {
    if (indexes[i] < 0 || static_cast<size_t>(indexes[i]) >= num_rows) {
      return InvalidArgumentError("index ", indexes[i], " at position ", i,
                                  " is outside [0, ", num_rows, ")");
    }
  }
  return OkStatus();
}

namespace {

// symbol + offset as T; false if it does not fit.
template <typename T>
bool AddOffset(int32_t symbol, int32_t offset, T* out) {
  const int64_t sum = int64_t{symbol} + offset;
  if constexpr (std::is_same_v<T, int32_t>) {
    if (sum < std::numeric_limits<int32_t>::min() ||
        sum > std::numeric_limits<int32_t>::max()) {
      return false;
    }
  }
  *out = static_cast<T>(sum);
  return true;
}

}  // namespace

template <typename T>
Status DecodeUnits(const DecodeTable& table, const int32_t* cdf_offset,
                   const std::string_view* strings, size_t num_units,
                   const int32_t* indexes, size_t count, bool check,
                   const Runner& runner, T* values) {
  const size_t num_rows = table.num_rows();
  if (num_units == 0) return OkStatus();
  if (num_rows == 0) return InvalidArgumentError("the table has no rows");
  if (indexes != nullptr) {
    TC_RETURN_IF_ERROR(CheckIndexes(indexes, num_units * count, num_rows));
  }
  const ChunkLayout layout = UnitLayout(count, indexes != nullptr, num_rows);
  const size_t chunks = layout.num_chunks;
  std::vector<std::string_view> views(num_units * chunks);
  std::vector<std::string_view> split;
  for (size_t u = 0; u < num_units; ++u) {
    const Status status =
        SplitChunks(strings[u].data(), strings[u].size(), chunks, &split);
    if (status.ok()) {
      std::copy(split.begin(), split.end(), views.begin() + u * chunks);
    } else if (check) {
      return Status(status.code(), StrCat("string ", u, ": ",
                                          status.message()));
    } else {
      views[u * chunks] = strings[u];  // The others stay empty.
    }
  }
  return RunTasks(
      runner, num_units * chunks, 60 * layout.chunk_size,
      [&](size_t task) -> Status {
        const size_t unit = task / chunks, chunk = task % chunks;
        const size_t first = chunk * layout.chunk_size;
        const size_t begin = unit * count + first;
        const size_t n = std::min(layout.chunk_size, count - first);
        std::vector<int32_t> symbols(n, 0);
        const std::string_view view = views[task];
        const Status status =
            indexes != nullptr
                ? DecodeIndexed(table, view.data(), view.size(),
                                indexes + begin, symbols.data(), n)
                : DecodeChannel(table, view.data(), view.size(),
                                symbols.data(), n);
        if (!status.ok() && check) {
          return Status(status.code(), StrCat("string ", unit, ", chunk ",
                                              chunk, ": ", status.message()));
        }
        for (size_t i = 0; i < n; ++i) {
          const size_t row =
              indexes != nullptr ? static_cast<size_t>(indexes[begin + i])
                                 : (first + i) % num_rows;
          const int32_t offset = cdf_offset ? cdf_offset[row] : 0;
          if (!AddOffset(symbols[i], offset, &values[begin + i])) {
            return DataLossError("string ", unit, ": decoded symbol ",
                                 symbols[i], " at position ", begin + i,
                                 " plus cdf_offset ", offset,
                                 " is outside the int32 range");
          }
        }
        return OkStatus();
      });
}

template Status DecodeUnits<float>(const DecodeTable&, const int32_t*,
                                   const std::string_view*, size_t,
                                   const int32_t*, size_t, bool, const Runner&,
                                   float*);
template Status DecodeUnits<double>(const DecodeTable&, const int32_t*,
                                    const std::string_view*, size_t,
                                    const int32_t*, size_t, bool,
                                    const Runner&, double*);
template Status DecodeUnits<int32_t>(const DecodeTable&, const int32_t*,
                                     const std::string_view*, size_t,
                                     const int32_t*, size_t, bool,
                                     const Runner&, int32_t*);

}  // namespace tensorcoder
