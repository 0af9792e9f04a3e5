#include "cc/tensor_file.h"

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include "cc/cdf_table.h"
#include "cc/crc32.h"
#include "cc/parallel.h"
#include "cc/range_decoder.h"
#include "cc/unit_decoder.h"

namespace tensorcoder {
namespace {

// Tensors above this many values are refused rather than allocated.
constexpr uint64_t kMaxValues = uint64_t{1} << 28;
constexpr int kMaxRank = 32;

// Bounds-checked little-endian reads.
class Reader {
 public:
  Reader(const char* data, size_t size) : data_(data), size_(size) {}

  size_t position() const { return position_; }
  size_t remaining() const { return size_ - position_; }

  Status Bytes(size_t count, const char** bytes, const char* what) {
    if (count > remaining()) {
      return InvalidArgumentError("tensor file: truncated while reading ",
                                  what, " (", count, " bytes needed at offset ",
                                  position_, ", ", remaining(), " left)");
    }
    *bytes = data_ + position_;
    position_ += count;
    return OkStatus();
  }

  template <typename T>
  Status Read(T* value, const char* what) {
    const char* bytes = nullptr;
    TC_RETURN_IF_ERROR(Bytes(sizeof(T), &bytes, what));
    uint64_t v = 0;
    for (size_t i = 0; i < sizeof(T); ++i) {
      v |= uint64_t{static_cast<unsigned char>(bytes[i])} << (8 * i);
    }
    *value = static_cast<T>(v);
    return OkStatus();
  }

  Status ReadInt32s(uint64_t count, std::vector<int32_t>* values,
                    const char* what) {
    if (count > remaining() / 4) {
      return InvalidArgumentError("tensor file: truncated while reading ",
                                  count, " ", what);
    }
    values->resize(count);
    for (uint64_t i = 0; i < count; ++i) {
      TC_RETURN_IF_ERROR(Read(&(*values)[i], what));
    }
    return OkStatus();
  }

 private:
  const char* data_;
  size_t size_;
  size_t position_ = 0;
};

}  // namespace

Status DecodeTensorFile(const char* data, size_t size, DecodedTensor* tensor,
                        int num_threads) {
  tensor->shape.clear();
  tensor->values.clear();
  if (size < sizeof(kTensorFileMagic) + 4 ||
      std::memcmp(data, kTensorFileMagic, sizeof(kTensorFileMagic)) != 0) {
    return InvalidArgumentError(
        "not a tensorcoder tensor file (no TCTENSOR signature)");
  }
  // The checksum covers everything before it: verify before parsing.
  uint32_t stored = 0;
  for (int i = 0; i < 4; ++i) {
    stored |= uint32_t{static_cast<unsigned char>(data[size - 4 + i])}
              << (8 * i);
  }
  if (Crc32(data, size - 4) != stored) {
    return DataLossError("tensor file: checksum mismatch, the file is "
                         "truncated or corrupted");
  }
  Reader reader(data, size - 4);
  const char* magic = nullptr;
  TC_RETURN_IF_ERROR(reader.Bytes(sizeof(kTensorFileMagic), &magic, "magic"));
  uint16_t version;
  uint8_t mode, rank;
  TC_RETURN_IF_ERROR(reader.Read(&version, "version"));
  if (version < 1 || version > kTensorFileVersion) {
    return InvalidArgumentError("tensor file version ", version,
                                " is not supported (this decoder reads "
                                "versions 1 to ", kTensorFileVersion, ")");
  }
  TC_RETURN_IF_ERROR(reader.Read(&mode, "mode"));
  TC_RETURN_IF_ERROR(reader.Read(&rank, "rank"));
  if (mode > 1) {
    return InvalidArgumentError("tensor file: unknown coding mode ", int{mode});
  }
  if (rank > kMaxRank) {
    return InvalidArgumentError("tensor file: rank ", int{rank},
                                " exceeds ", kMaxRank);
  }
  std::vector<int64_t> shape(rank);
  uint64_t num_values = 1;
  for (int i = 0; i < rank; ++i) {
    uint64_t dim;
    TC_RETURN_IF_ERROR(reader.Read(&dim, "shape"));
    if (dim > kMaxValues || (dim != 0 && num_values > kMaxValues / dim)) {
      return InvalidArgumentError("tensor file: shape too large (more than ",
                                  kMaxValues, " values)");
    }
    num_values *= dim;
    shape[i] = static_cast<int64_t>(dim);
  }
  uint32_t rows, width;
  TC_RETURN_IF_ERROR(reader.Read(&rows, "lookup rows"));
  TC_RETURN_IF_ERROR(reader.Read(&width, "lookup width"));
  std::vector<int32_t> lookup;
  TC_RETURN_IF_ERROR(
      reader.ReadInt32s(uint64_t{rows} * width, &lookup, "lookup values"));
  StatusOr<CdfTable> table = CdfTable::FromMatrix(lookup.data(), rows, width);
  if (!table.ok()) {
    return InvalidArgumentError("tensor file: invalid lookup: ",
                                table.status().message());
  }
  // Version 2: one offset per lookup row, added to every decoded symbol.
  std::vector<int32_t> offsets;
  if (version >= 2) {
    TC_RETURN_IF_ERROR(reader.ReadInt32s(rows, &offsets, "cdf offsets"));
  }
  std::vector<int32_t> indexes;
  if (mode == 1) {
    TC_RETURN_IF_ERROR(reader.ReadInt32s(num_values, &indexes, "indexes"));
  }
  uint64_t num_strings;
  TC_RETURN_IF_ERROR(reader.Read(&num_strings, "string count"));
  // S strings of N / S values each; S = 0 only for N = 0, and an empty
  // tensor may have any number of (empty) strings: the Python writer puts
  // one per slice of the first axis, e.g. 3 for shape (3, 0).
  if (num_strings == 0 ? num_values != 0 : num_values % num_strings != 0) {
    return InvalidArgumentError("tensor file: ", num_strings,
                                " strings cannot split ", num_values,
                                " values evenly");
  }
  if (num_strings > reader.remaining() / 8) {
    return InvalidArgumentError(
        "tensor file: ", num_strings, " strings need ", num_strings,
        " 8-byte lengths but only ", reader.remaining(), " bytes are left");
  }
  // Every string length is checked against the bytes present, and the file
  // against its end, before the values are allocated or anything decoded:
  // an inconsistent header costs no allocation and no decoding time. (The
  // values themselves are only bounded by kMaxValues: a range-coded value
  // of a near-certain symbol costs almost nothing, and one of a row with a
  // single symbol costs nothing at all.)
  const Reader strings_start = reader;
  for (uint64_t k = 0; k < num_strings; ++k) {
    uint64_t length = 0;
    if (reader.remaining() < sizeof(length)) {
      return InvalidArgumentError(
          "tensor file: truncated at string ", k, " of ", num_strings,
          ": its length needs 8 bytes, ", reader.remaining(), " left");
    }
    TC_RETURN_IF_ERROR(reader.Read(&length, "string length"));
    if (length > reader.remaining()) {
      return InvalidArgumentError("tensor file: string ", k, " of ",
                                  num_strings, " declares ", length,
                                  " bytes but only ", reader.remaining(),
                                  " are left");
    }
    const char* bytes = nullptr;
    TC_RETURN_IF_ERROR(reader.Bytes(length, &bytes, "string"));
  }
  if (reader.remaining() != 0) {
    return InvalidArgumentError("tensor file: ", reader.remaining(),
                                " unexpected bytes before the checksum");
  }

  const uint64_t per_string = num_strings ? num_values / num_strings : 0;
  const DecodeTable decode_table(std::move(table).value());
  std::vector<std::string_view> strings(num_strings);
  reader = strings_start;
  for (uint64_t k = 0; k < num_strings; ++k) {
    uint64_t length;
    const char* bytes = nullptr;
    TC_RETURN_IF_ERROR(reader.Read(&length, "string length"));
    TC_RETURN_IF_ERROR(reader.Bytes(length, &bytes, "string"));
    strings[k] = std::string_view(bytes, length);
  }
  std::vector<int32_t> values(num_values);
  const int32_t* rows_of = mode == 1 ? indexes.data() : nullptr;
  const Runner runner =
      num_threads == 1 ? SerialRunner() : ThreadRunner(num_threads);
  Status status = OkStatus();
  if (mode == 1) {
    status = CheckIndexes(indexes.data(), indexes.size(),
                          decode_table.num_rows());
  }
  if (status.ok() && version >= 2) {
    // Coding units (FORMAT.md section 7): chunked when long, offsets added.
    status = DecodeUnits(decode_table, offsets.data(), strings.data(),
                         num_strings, rows_of, per_string, /*check=*/true,
                         runner, values.data());
  } else if (status.ok()) {
    // Version 1: every string is one plain range-coded string.
    status = RunTasks(runner, num_strings, 60 * per_string,
                      [&](size_t k) -> Status {
      const size_t offset = k * per_string;
      const Status decoded =
          rows_of != nullptr
              ? DecodeIndexed(decode_table, strings[k].data(),
                              strings[k].size(), rows_of + offset,
                              values.data() + offset, per_string)
              : DecodeChannel(decode_table, strings[k].data(),
                              strings[k].size(), values.data() + offset,
                              per_string);
      if (decoded.ok()) return decoded;
      return Status(decoded.code(),
                    StrCat("string ", k, ": ", decoded.message()));
    });
  }
  if (!status.ok()) {
    return Status(status.code(), StrCat("tensor file: ", status.message()));
  }
  tensor->shape = std::move(shape);
  tensor->values = std::move(values);
  return OkStatus();
}

Status ReadTensorFile(const std::string& path, DecodedTensor* tensor,
                      int num_threads) {
  std::ifstream file(path, std::ios::binary);
  if (!file) return InvalidArgumentError("cannot open ", path);
  std::ostringstream content;
  content << file.rdbuf();
  const std::string bytes = content.str();
  return DecodeTensorFile(bytes.data(), bytes.size(), tensor, num_threads);
}

}  // namespace tensorcoder

namespace {

int CError(tensorcoder::StatusCode code, const std::string& message,
           char* error, size_t error_size) {
  if (error != nullptr && error_size > 0) {
    std::strncpy(error, message.c_str(), error_size - 1);
    error[error_size - 1] = '\0';
  }
  return static_cast<int>(code);
}

}  // namespace

extern "C" int tc_decode_tensor_file(const char* data, size_t size,
                                     int32_t** values, size_t* num_values,
                                     int64_t* shape, int* rank, char* error,
                                     size_t error_size) {
  if (values == nullptr || num_values == nullptr || shape == nullptr ||
      rank == nullptr || (data == nullptr && size != 0)) {
    return CError(tensorcoder::StatusCode::kInvalidArgument,
                  "tc_decode_tensor_file: data (unless size is 0), values, "
                  "num_values, shape and rank must not be NULL",
                  error, error_size);
  }
  tensorcoder::DecodedTensor tensor;
  const tensorcoder::Status status =
      tensorcoder::DecodeTensorFile(data == nullptr ? "" : data, size, &tensor);
  if (!status.ok()) {
    return CError(status.code(), status.message(), error, error_size);
  }
  // At least one byte, so that an empty tensor gets a pointer to free too.
  const size_t bytes = sizeof(int32_t) * tensor.values.size();
  int32_t* copy = static_cast<int32_t*>(std::malloc(bytes == 0 ? 1 : bytes));
  if (copy == nullptr) {
    return CError(tensorcoder::StatusCode::kResourceExhausted,
                  "out of memory", error, error_size);
  }
  // An empty vector's data() may be NULL, which memcpy must not get.
  if (bytes != 0) std::memcpy(copy, tensor.values.data(), bytes);
  *values = copy;
  *num_values = tensor.values.size();
  *rank = static_cast<int>(tensor.shape.size());
  for (size_t i = 0; i < tensor.shape.size(); ++i) shape[i] = tensor.shape[i];
  if (error != nullptr && error_size > 0) error[0] = '\0';
  return 0;
}

extern "C" void tc_free(void* pointer) { std::free(pointer); }
