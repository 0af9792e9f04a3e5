// Coding units, encoder side: writes the strings that unit_decoder.h reads
// (docs/FORMAT.md, section 7). See unit_decoder.h for units, rows, offsets
// and chunks.
#ifndef TENSORCODER_CC_UNIT_ENCODER_H_
#define TENSORCODER_CC_UNIT_ENCODER_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "cc/cdf_table.h"
#include "cc/parallel.h"
#include "cc/status.h"
#include "cc/unit_decoder.h"

namespace tensorcoder {

// Joins chunk strings as described in unit_decoder.h.
std::string JoinChunks(const std::vector<std::string>& chunks);

// Codes num_units units of `count` values each (values[u * count + i]) into
// one string per unit, strings->at(u). Value v with row r becomes the symbol
// s = round(v) - cdf_offset[r] (cdf_offset == nullptr: offsets 0):
//  * T = float or double: round to nearest, ties to even (std::nearbyint
//    under the default rounding mode); v must be finite with |v| < 2^30;
//  * T = int32_t: v itself.
// s must fit int32 (it is computed in int64). `indexes` (nullptr: channel
// mode, row i mod num_rows) holds num_units * count rows of `table`. Errors
// are INVALID_ARGUMENT naming the value's position (u * count + i) and unit.
// The chunks of all units are coded through `runner`; the bytes do not
// depend on it.
template <typename T>
Status EncodeUnits(const CdfTable& table, const int32_t* cdf_offset,
                   const T* values, size_t num_units, const int32_t* indexes,
                   size_t count, const Runner& runner,
                   std::vector<std::string>* strings);

extern template Status EncodeUnits<float>(const CdfTable&, const int32_t*,
                                          const float*, size_t,
                                          const int32_t*, size_t,
                                          const Runner&,
                                          std::vector<std::string>*);
extern template Status EncodeUnits<double>(const CdfTable&, const int32_t*,
                                           const double*, size_t,
                                           const int32_t*, size_t,
                                           const Runner&,
                                           std::vector<std::string>*);
extern template Status EncodeUnits<int32_t>(const CdfTable&, const int32_t*,
                                            const int32_t*, size_t,
                                            const int32_t*, size_t,
                                            const Runner&,
                                            std::vector<std::string>*);

}  // namespace tensorcoder

#endif  // TENSORCODER_CC_UNIT_ENCODER_H_
