// Coding of many independent strings at once, spread over threads.
//
// The values form a [num_strings, values_per_string] row-major matrix; string
// k holds row k. With `indexes` == nullptr rows are chosen per channel (value
// j of a string uses CDF row j mod num_rows), otherwise `indexes` has the
// same layout as the values. An error names the first failing string.
#ifndef TENSORCODER_CC_BATCH_CODER_H_
#define TENSORCODER_CC_BATCH_CODER_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "cc/cdf_table.h"
#include "cc/parallel.h"  // ParallelFor, for existing callers.
#include "cc/range_decoder.h"
#include "cc/status.h"

namespace tensorcoder {

// num_threads <= 0 uses std::thread::hardware_concurrency() (ThreadRunner).
Status EncodeBatch(const CdfTable& table, const int32_t* indexes,
                   const int32_t* values, size_t num_strings,
                   size_t values_per_string, int num_threads,
                   std::vector<std::string>* strings);

Status DecodeBatch(const DecodeTable& table, const std::string_view* strings,
                   size_t num_strings, const int32_t* indexes,
                   size_t values_per_string, int num_threads, int32_t* values);


}  // namespace tensorcoder

#endif  // TENSORCODER_CC_BATCH_CODER_H_
