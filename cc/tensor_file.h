// Decoder of tensorcoder tensor files: one integer tensor, range-coded with
// its lookup table, as written by tensorcoder.tensor_file.save (Python).
// docs/FORMAT.md, section "Tensor files", specifies the layout.
//
// This is the public header of the decoder-only library
// (//cc:tensor_file_decoder, also packaged as libtensorcoder_decoder.a): it
// needs neither the encoder, TensorFlow nor Python, and reports every problem
// as a Status (C++) or an error code and message (C ABI below).
//
// Contract:
//  * any input bytes are safe: truncated, corrupted or foreign files give
//    INVALID_ARGUMENT (not a tensor file, unsupported version, inconsistent
//    sizes) or DATA_LOSS (checksum mismatch, corrupt range-coded string);
//    decoding never reads out of bounds, never aborts and never hangs;
//  * the whole header, every string length included, is checked against
//    the bytes present before the values are allocated or any string is
//    decoded, so an inconsistent file is refused at once; tensors of more
//    than 2^28 values are refused. Memory used is then at most 4 bytes per
//    declared value (at most 1 GiB: a range-coded value can cost almost no
//    bits, so a small file may legitimately hold many values) plus a small
//    multiple of the file size (twice that in the C ABI, which copies);
//  * on success the decoded values equal those that were saved, in row-major
//    order of `shape`.
#ifndef TENSORCODER_CC_TENSOR_FILE_H_
#define TENSORCODER_CC_TENSOR_FILE_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
#include <string>
#include <vector>

#include "cc/status.h"

namespace tensorcoder {

inline constexpr char kTensorFileMagic[8] = {'T', 'C', 'T', 'E',
                                             'N', 'S', 'O', 'R'};
// The newest version this decoder reads; it reads every older one too.
// Version 1 holds plain range-coded strings; version 2 adds one offset per
// lookup row and holds coding units (the entropy models' strings, chunked
// when long: docs/FORMAT.md sections 6 and 7).
inline constexpr uint16_t kTensorFileVersion = 2;

struct DecodedTensor {
  std::vector<int64_t> shape;
  std::vector<int32_t> values;  // Row-major, product(shape) values.
};

// Decodes a whole tensor file held in memory. Strings (and the chunks of
// long ones) are decoded on up to `num_threads` threads (<= 0: one per
// core); the result does not depend on it.
Status DecodeTensorFile(const char* data, size_t size, DecodedTensor* tensor,
                        int num_threads = 1);

// Reads and decodes the file at `path`.
Status ReadTensorFile(const std::string& path, DecodedTensor* tensor,
                      int num_threads = 1);

}  // namespace tensorcoder

extern "C" {
#endif  // __cplusplus

// C ABI for other languages. Returns 0 on success, otherwise the status code
// (3 = invalid argument, 15 = data loss, ...) and, if `error` is not NULL, a
// NUL-terminated message in error[0..error_size). On success *values (free
// with tc_free) holds *num_values int32 values and shape[0..*rank) the
// shape; `shape` must have room for 32 dimensions (the maximum rank). Decodes
// on the calling thread only.
int tc_decode_tensor_file(const char* data, size_t size, int32_t** values,
                          size_t* num_values, int64_t* shape, int* rank,
                          char* error, size_t error_size);
void tc_free(void* pointer);

#ifdef __cplusplus
}  // extern "C"
#endif

#endif  // TENSORCODER_CC_TENSOR_FILE_H_
