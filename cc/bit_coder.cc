#include "cc/bit_coder.h"

namespace tensorcoder {

void BitWriter::WriteBits(int count, uint64_t bits) {
  bits &= (uint64_t{1} << count) - 1;
  buffer_ |= bits << bits_in_buffer_;
  bits_in_buffer_ += count;
  while (bits_in_buffer_ >= 8) {
    bytes_.push_back(static_cast<char>(buffer_));
    buffer_ >>= 8;
    bits_in_buffer_ -= 8;
  }
}

void BitWriter::WriteGamma(uint32_t value) {
  const int width = 32 - __builtin_clz(value);
  WriteBits(width - 1, 0);
  WriteBits(1, 1);
  WriteBits(width - 1, value);
}

void BitWriter::WriteRice(uint32_t value, int parameter) {
  uint64_t zeros = value >> parameter;
  for (; zeros > 32; zeros -= 32) WriteBits(32, 0);
  WriteBits(static_cast<int>(zeros), 0);
  WriteBits(1, 1);
  WriteBits(parameter, value);
}

std::string BitWriter::Finish() {
  if (bits_in_buffer_ > 0) WriteBits(8 - bits_in_buffer_, 0);
  return std::move(bytes_);
}

BitReader::BitReader(const char* data, size_t size)
    : next_(reinterpret_cast<const unsigned char*>(data)),
      end_(reinterpret_cast<const unsigned char*>(data) + size) {}

void BitReader::Refill() {
  while (bits_in_buffer_ <= 56 && next_ < end_) {
    buffer_ |= static_cast<uint64_t>(*next_++) << bits_in_buffer_;
    bits_in_buffer_ += 8;
  }
}

Status BitReader::ReadBits(int count, uint32_t* bits) {
  if (bits_in_buffer_ < count) {
    Refill();
    if (bits_in_buffer_ < count) {
      return DataLossError("bit reader: the string ended in the middle of a "
                           "code (truncated or corrupted)");
    }
  }
  *bits = static_cast<uint32_t>(buffer_ & ((uint64_t{1} << count) - 1));
  buffer_ >>= count;
  bits_in_buffer_ -= count;
  return OkStatus();
}

Status BitReader::ReadUnary(uint64_t limit, uint64_t* zeros) {
  // Counts zero bits up to the next one bit (consumed), a buffer at a time;
  // the buffer's bits above bits_in_buffer_ are always zero.
  *zeros = 0;
  while (true) {
    if (*zeros > limit) break;
    if (bits_in_buffer_ == 0) {
      Refill();
      if (bits_in_buffer_ == 0) {
        return DataLossError("bit reader: the string ended in the middle of "
                             "a code (truncated or corrupted)");
      }
    }
    if (buffer_ == 0) {
      *zeros += static_cast<uint64_t>(bits_in_buffer_);
      bits_in_buffer_ = 0;
      continue;
    }
    const int run = __builtin_ctzll(buffer_);
    *zeros += static_cast<uint64_t>(run);
    buffer_ >>= run;
    buffer_ >>= 1;
    bits_in_buffer_ -= run + 1;
    if (*zeros > limit) break;
    return OkStatus();
  }
  return DataLossError("bit reader: a code with more than ", limit,
                       " leading zeros (a value over 32 bits): the string is "
                       "corrupted");
}

Status BitReader::ReadGamma(uint32_t* value) {
  uint64_t zeros;
  TC_RETURN_IF_ERROR(ReadUnary(31, &zeros));
  uint32_t low = 0;
  if (zeros > 0) TC_RETURN_IF_ERROR(ReadBits(static_cast<int>(zeros), &low));
  *value = static_cast<uint32_t>((uint64_t{1} << zeros) | low);
  return OkStatus();
}

Status BitReader::ReadRice(int parameter, uint32_t* value) {
  uint64_t zeros;
  TC_RETURN_IF_ERROR(ReadUnary((uint64_t{1} << (32 - parameter)) - 1, &zeros));
  uint32_t low = 0;
  if (parameter > 0) TC_RETURN_IF_ERROR(ReadBits(parameter, &low));
  *value = static_cast<uint32_t>((zeros << parameter) | low);
  return OkStatus();
}

Status BitReader::Finish() const {
  if (bits_in_buffer_ >= 8 || next_ != end_) {
    return DataLossError("bit reader: ",
                         (end_ - next_) + bits_in_buffer_ / 8,
                         " bytes left over after decoding: the string is "
                         "corrupted or holds more values than requested");
  }
  if (buffer_ != 0) {
    return DataLossError("bit reader: nonzero padding bits at the end: the "
                         "string is corrupted");
  }
  return OkStatus();
}

}  // namespace tensorcoder
