// Coding units split into independently range-coded chunks.
//
// A long coding unit (say a 1x64x64x192 latent, one string) is sequential
// work for one range coder. Cut into chunks that are coded independently,
// it codes and decodes on several threads; the chunks are joined into one
// string:
//
//     [size of chunk 0] ... [size of chunk K-2]   (uint32, little-endian)
//     [chunk 0] [chunk 1] ... [chunk K-1]
//
// K and the chunk boundaries depend only on the number of values and the
// alignment (ChunkLayoutFor), so the decoder recomputes them. A unit of
// fewer than 2 * kChunkValues values has K = 1: its string is exactly the
// plain range-coded string (TensorFlow Compression's bytes). Each chunk
// costs its own termination (up to 4 bytes) and a 4-byte size.
#ifndef TENSORCODER_CC_CHUNKED_CODER_H_
#define TENSORCODER_CC_CHUNKED_CODER_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "cc/cdf_table.h"
#include "cc/range_decoder.h"
#include "cc/status.h"

namespace tensorcoder {

inline constexpr size_t kChunkValues = size_t{1} << 16;
inline constexpr size_t kMaxChunks = 64;

struct ChunkLayout {
  size_t num_chunks;  // K >= 1.
  size_t chunk_size;  // Values per chunk; the last may hold fewer.
};

// The layout of `count` values. Chunk sizes are multiples of `alignment`
// (>= 1), so that a chunk starting at value i starts at row i mod alignment
// == 0 in channel mode (pass the number of rows there, 1 otherwise).
ChunkLayout ChunkLayoutFor(size_t count, size_t alignment);

// Joins chunk strings as described above.
std::string JoinChunks(const std::vector<std::string>& chunks);

// Splits a joined string into `num_chunks` views into `data`. DATA_LOSS if
// the sizes do not fit the string.
Status SplitChunks(const char* data, size_t size, size_t num_chunks,
                   std::vector<std::string_view>* chunks);

// Codes `count` values, value i with row indexes[i] (or, with indexes ==
// nullptr, row i mod num_rows), into one chunked string, chunks on up to
// num_threads threads (<= 0: all cores).
StatusOr<std::string> EncodeChunked(const CdfTable& table,
                                    const int32_t* indexes,
                                    const int32_t* values, size_t count,
                                    int num_threads);

// Decodes a string of EncodeChunked. Every chunk must end exactly where its
// encoder ended (see RangeDecoder::Finish); otherwise DATA_LOSS.
Status DecodeChunked(const DecodeTable& table, const char* data, size_t size,
                     const int32_t* indexes, int32_t* values, size_t count,
                     int num_threads);

}  // namespace tensorcoder

#endif  // TENSORCODER_CC_CHUNKED_CODER_H_
