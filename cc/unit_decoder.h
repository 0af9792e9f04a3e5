// Coding units: the strings of the entropy models (docs/FORMAT.md, section
// 7), decoder side. unit_encoder.h writes them.
//
// A coding unit is `count` values coded into one string. Value i of unit u
// uses CDF row r = indexes[u * count + i] ("indexed") or r = i mod num_rows
// ("channel", indexes == nullptr), and is coded as the symbol
// value - cdf_offset[r], with the overflow escape of the row's table.
//
// A long unit (say a 1x64x64x192 latent) would be sequential work for one
// range coder, so units of 2 * kChunkValues values or more are cut into
// chunks that are range-coded independently and joined into one string:
//
//     [size of chunk 0] ... [size of chunk K-2]   (uint32, little-endian)
//     [chunk 0] [chunk 1] ... [chunk K-1]
//
// K and the chunk boundaries depend only on `count` and the alignment
// (ChunkLayoutFor), so the decoder recomputes them. A unit of fewer than
// 2 * kChunkValues values has K = 1: its string is exactly the plain
// range-coded string (TensorFlow Compression's bytes). Each chunk costs its
// own termination (up to 4 bytes) and a 4-byte size.
//
// This header is part of the decoder-only library: it needs no encoder.
#ifndef TENSORCODER_CC_UNIT_DECODER_H_
#define TENSORCODER_CC_UNIT_DECODER_H_

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "cc/cdf_table.h"
#include "cc/parallel.h"
#include "cc/range_decoder.h"
#include "cc/status.h"

namespace tensorcoder {

inline constexpr size_t kChunkValues = size_t{1} << 16;
inline constexpr size_t kMaxChunks = 64;

struct ChunkLayout {
  size_t num_chunks;  // K >= 1.
  size_t chunk_size;  // Values per chunk; the last may hold fewer.
};

// The layout of a unit of `count` values: K = min(count / kChunkValues,
// kMaxChunks) chunks of ceil(count / K) values rounded up to a multiple of
// `alignment` (>= 1; K is then ceil(count / chunk size)), or one chunk if
// count < 2 * kChunkValues. In channel mode the alignment is the number of
// rows, so that every chunk starts at row 0; in indexed mode it is 1.
ChunkLayout ChunkLayoutFor(size_t count, size_t alignment);

// The layout of a unit of `count` values in the given mode.
inline ChunkLayout UnitLayout(size_t count, bool indexed, size_t num_rows) {
  return ChunkLayoutFor(count, indexed ? 1 : num_rows);
}

// Splits a joined string into `num_chunks` (>= 1) views into `data`.
// DATA_LOSS if the sizes do not fit the string.
Status SplitChunks(const char* data, size_t size, size_t num_chunks,
                   std::vector<std::string_view>* chunks);

// INVALID_ARGUMENT unless `cdf_offset` has one entry per row of `table`
// (`num_offsets` entries; `name` names the argument in the message).
Status CheckOffsets(const CdfTable& table, size_t num_offsets,
                    const char* name);

// INVALID_ARGUMENT naming the first of indexes[0..n) outside [0, num_rows).
Status CheckIndexes(const int32_t* indexes, size_t n, size_t num_rows);

// Decodes num_units strings of `count` values each into values[u * count +
// i] = symbol + cdf_offset[row] (cdf_offset == nullptr: offsets 0). T is
// float, double or int32_t; for int32_t a sum outside int32 is DATA_LOSS.
// `indexes` (nullptr: channel mode) holds num_units * count rows, each
// checked to be a row of `table` (INVALID_ARGUMENT) before anything is
// decoded. The chunks of all units are decoded through `runner`.
//
// With `check`, a string whose chunk sizes do not fit, or a chunk that does
// not decode to exactly its values (RangeDecoder::Finish), is DATA_LOSS
// naming the unit and chunk. Without it (TFC's decode_sanity_check=False)
// whatever was decoded is returned: a string whose chunk sizes do not fit is
// taken as chunk 0 with the other chunks empty.
template <typename T>
Status DecodeUnits(const DecodeTable& table, const int32_t* cdf_offset,
                   const std::string_view* strings, size_t num_units,
                   const int32_t* indexes, size_t count, bool check,
                   const Runner& runner, T* values);

extern template Status DecodeUnits<float>(const DecodeTable&, const int32_t*,
                                          const std::string_view*, size_t,
                                          const int32_t*, size_t, bool,
                                          const Runner&, float*);
extern template Status DecodeUnits<double>(const DecodeTable&, const int32_t*,
                                           const std::string_view*, size_t,
                                           const int32_t*, size_t, bool,
                                           const Runner&, double*);
extern template Status DecodeUnits<int32_t>(const DecodeTable&,
                                            const int32_t*,
                                            const std::string_view*, size_t,
                                            const int32_t*, size_t, bool,
                                            const Runner&, int32_t*);

}  // namespace tensorcoder

#endif  // TENSORCODER_CC_UNIT_DECODER_H_
