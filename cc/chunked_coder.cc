#include "cc/chunked_coder.h"

#include <algorithm>

#include "cc/batch_coder.h"
#include "cc/range_encoder.h"

namespace tensorcoder {

ChunkLayout ChunkLayoutFor(size_t count, size_t alignment) {
  alignment = std::max<size_t>(alignment, 1);
  if (count < 2 * kChunkValues) return {1, count};
  const size_t wanted = std::min(count / kChunkValues, kMaxChunks);
  size_t size = (count + wanted - 1) / wanted;
  size = (size + alignment - 1) / alignment * alignment;
  return {(count + size - 1) / size, size};
}

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

Status SplitChunks(const char* data, size_t size, size_t num_chunks,
                   std::vector<std::string_view>* chunks) {
  chunks->clear();
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

namespace {

Status FirstChunkError(const std::vector<Status>& statuses) {
  for (size_t k = 0; k < statuses.size(); ++k) {
    if (!statuses[k].ok()) {
      if (statuses.size() == 1) return statuses[k];
      return Status(statuses[k].code(),
                    StrCat("chunk ", k, ": ", statuses[k].message()));
    }
  }
  return OkStatus();
}

}  // namespace

StatusOr<std::string> EncodeChunked(const CdfTable& table,
                                    const int32_t* indexes,
                                    const int32_t* values, size_t count,
                                    int num_threads) {
  const ChunkLayout layout =
      ChunkLayoutFor(count, indexes == nullptr ? table.num_rows() : 1);
  std::vector<std::string> chunks(layout.num_chunks);
  std::vector<Status> statuses(layout.num_chunks);
  ParallelFor(layout.num_chunks, num_threads, [&](size_t begin, size_t end) {
    for (size_t k = begin; k < end; ++k) {
      const size_t offset = k * layout.chunk_size;
      const size_t n = std::min(layout.chunk_size, count - offset);
      TableEncoder encoder(table);
      statuses[k] = indexes == nullptr
                        ? encoder.EncodeChannel(values + offset, n)
                        : encoder.EncodeIndexed(indexes + offset,
                                                values + offset, n);
      if (statuses[k].ok()) chunks[k] = encoder.Finish();
    }
  });
  TC_RETURN_IF_ERROR(FirstChunkError(statuses));
  return JoinChunks(chunks);
}

Status DecodeChunked(const DecodeTable& table, const char* data, size_t size,
                     const int32_t* indexes, int32_t* values, size_t count,
                     int num_threads) {
  const ChunkLayout layout =
      ChunkLayoutFor(count, indexes == nullptr ? table.num_rows() : 1);
  std::vector<std::string_view> chunks;
  TC_RETURN_IF_ERROR(SplitChunks(data, size, layout.num_chunks, &chunks));
  std::vector<Status> statuses(layout.num_chunks);
  ParallelFor(layout.num_chunks, num_threads, [&](size_t begin, size_t end) {
    for (size_t k = begin; k < end; ++k) {
      const size_t offset = k * layout.chunk_size;
      const size_t n = std::min(layout.chunk_size, count - offset);
      statuses[k] =
          indexes == nullptr
              ? DecodeChannel(table, chunks[k].data(), chunks[k].size(),
                              values + offset, n)
              : DecodeIndexed(table, chunks[k].data(), chunks[k].size(),
                              indexes + offset, values + offset, n);
    }
  });
  return FirstChunkError(statuses);
}

}  // namespace tensorcoder
