// CRC-32 (IEEE 802.3, the one of zlib and PNG): reflected polynomial
// 0xEDB88320, initial value and final XOR 0xFFFFFFFF.
#ifndef TENSORCODER_CC_CRC32_H_
#define TENSORCODER_CC_CRC32_H_

#include <cstddef>
#include <cstdint>

namespace tensorcoder {

// Continues a CRC over `size` more bytes; start with crc = 0.
uint32_t Crc32(const void* data, size_t size, uint32_t crc = 0);

}  // namespace tensorcoder

#endif  // TENSORCODER_CC_CRC32_H_
