#include "cc/run_length_coder.h"

#include <algorithm>

#include "cc/bit_coder.h"

namespace tensorcoder {
namespace {

uint32_t Magnitude(int32_t value) {
  return value < 0 ? 0u - static_cast<uint32_t>(value)
                   : static_cast<uint32_t>(value);
}

Status MakeSigned(uint32_t positive, uint64_t magnitude, int32_t* value) {
  if (positive ? magnitude > 0x7FFFFFFFu : magnitude > 0x80000000u) {
    return DataLossError("decoded magnitude ", magnitude,
                         " does not fit in int32: the string is corrupted");
  }
  *value = positive ? static_cast<int32_t>(magnitude)
                    : static_cast<int32_t>(0u - static_cast<uint32_t>(magnitude));
  return OkStatus();
}

Status CheckOptions(const RunLengthOptions& options) {
  if (options.run_length_code > kMaxRiceParameter ||
      options.magnitude_code > kMaxRiceParameter) {
    return InvalidArgumentError(
        "Rice parameters must be at most ", kMaxRiceParameter,
        " (negative selects the gamma code): run_length_code=",
        options.run_length_code, ", magnitude_code=", options.magnitude_code);
  }
  return OkStatus();
}

// Writes and reads run lengths and non-zero values with the chosen codes.
class RunLengthWriter {
 public:
  explicit RunLengthWriter(const RunLengthOptions& options)
      : options_(options) {}

  Status WriteRunLength(uint32_t run) {
    if (options_.run_length_code >= 0) {
      return WriteRice(run, options_.run_length_code, "run length");
    }
    writer_.WriteGamma(run + 1);
    return OkStatus();
  }

  Status WriteNonZero(int32_t value) {
    const uint32_t positive = value > 0;
    writer_.WriteOneBit(positive);
    if (options_.magnitude_code >= 0) {
      return WriteRice(Magnitude(value) - 1, options_.magnitude_code,
                       "magnitude");
    }
    writer_.WriteGamma(Magnitude(value));
    return OkStatus();
  }

  std::string Finish() { return writer_.Finish(); }

 private:
  Status WriteRice(uint32_t value, int parameter, const char* what) {
    if (!BitWriter::RiceFits(value, parameter)) {
      return InvalidArgumentError(
          what, " ", value, " needs a Rice(", parameter, ") code longer than ",
          kMaxRiceUnaryBits, " bits: use a larger parameter or gamma");
    }
    writer_.WriteRice(value, parameter);
    return OkStatus();
  }

  const RunLengthOptions& options_;
  BitWriter writer_;
};

class RunLengthReader {
 public:
  RunLengthReader(const RunLengthOptions& options, const char* code,
                  size_t size)
      : options_(options), reader_(code, size) {}

  Status ReadRunLength(uint64_t* run) {
    uint32_t value;
    if (options_.run_length_code >= 0) {
      TC_RETURN_IF_ERROR(reader_.ReadRice(options_.run_length_code, &value));
      *run = value;
    } else {
      TC_RETURN_IF_ERROR(reader_.ReadGamma(&value));
      *run = uint64_t{value} - 1;
    }
    return OkStatus();
  }

  Status ReadNonZero(int32_t* value) {
    uint32_t positive, magnitude;
    TC_RETURN_IF_ERROR(reader_.ReadOneBit(&positive));
    if (options_.magnitude_code >= 0) {
      TC_RETURN_IF_ERROR(reader_.ReadRice(options_.magnitude_code, &magnitude));
      return MakeSigned(positive, uint64_t{magnitude} + 1, value);
    }
    TC_RETURN_IF_ERROR(reader_.ReadGamma(&magnitude));
    return MakeSigned(positive, magnitude, value);
  }

  Status Finish() const { return reader_.Finish(); }

 private:
  const RunLengthOptions& options_;
  BitReader reader_;
};

Status PastEnd() {
  return DataLossError("run-length code runs past the end of the tensor: "
                       "the string is corrupted or the shape is wrong");
}

Status CheckCount(size_t count) {
  if (count > 0xFFFFFFFEu) {
    return InvalidArgumentError("run-length coding supports at most 2^32 - 2 "
                                "values, got ", count);
  }
  return OkStatus();
}

}  // namespace

StatusOr<std::string> RunLengthGammaEncode(const int32_t* data, size_t count) {
  TC_RETURN_IF_ERROR(CheckCount(count));
  BitWriter writer;
  uint32_t zeros_plus_one = 1;
  for (size_t i = 0; i < count; ++i) {
    if (data[i] == 0) {
      ++zeros_plus_one;
      continue;
    }
    writer.WriteGamma(zeros_plus_one);
    writer.WriteOneBit(data[i] > 0);
    writer.WriteGamma(Magnitude(data[i]));
    zeros_plus_one = 1;
  }
  if (zeros_plus_one > 1) writer.WriteGamma(zeros_plus_one);
  return writer.Finish();
}

Status RunLengthGammaDecode(const char* code, size_t size, int32_t* data,
                            size_t count) {
  std::fill(data, data + count, 0);
  BitReader reader(code, size);
  size_t i = 0;
  while (i < count) {
    uint32_t zeros_plus_one, positive, magnitude;
    TC_RETURN_IF_ERROR(reader.ReadGamma(&zeros_plus_one));
    const uint64_t next = uint64_t{i} + zeros_plus_one - 1;
    if (next == count) break;  // Trailing zeros.
    if (next > count) return PastEnd();
    i = static_cast<size_t>(next);
    TC_RETURN_IF_ERROR(reader.ReadOneBit(&positive));
    TC_RETURN_IF_ERROR(reader.ReadGamma(&magnitude));
    TC_RETURN_IF_ERROR(MakeSigned(positive, magnitude, &data[i]));
    ++i;
  }
  return reader.Finish();
}

StatusOr<std::string> RunLengthEncode(const int32_t* data, size_t count,
                                      const RunLengthOptions& options) {
  TC_RETURN_IF_ERROR(CheckOptions(options));
  TC_RETURN_IF_ERROR(CheckCount(count));
  RunLengthWriter writer(options);
  const int32_t* p = data;
  const int32_t* const end = data + count;
  uint32_t offset = 0;  // 1 once zero runs are known to be non-empty.
  while (p < end) {
    const int32_t* q = std::find_if(p, end, [](int32_t x) { return x != 0; });
    TC_RETURN_IF_ERROR(
        writer.WriteRunLength(static_cast<uint32_t>(q - p) - offset));
    p = q;
    if (p == end) break;
    if (options.use_run_length_for_non_zeros) {
      q = std::find(p, end, 0);
      TC_RETURN_IF_ERROR(
          writer.WriteRunLength(static_cast<uint32_t>(q - p) - 1));
      for (; p < q; ++p) TC_RETURN_IF_ERROR(writer.WriteNonZero(*p));
      offset = 1;
    } else {
      TC_RETURN_IF_ERROR(writer.WriteNonZero(*p++));
    }
  }
  return writer.Finish();
}

Status RunLengthDecode(const char* code, size_t size, int32_t* data,
                       size_t count, const RunLengthOptions& options) {
  TC_RETURN_IF_ERROR(CheckOptions(options));
  std::fill(data, data + count, 0);
  RunLengthReader reader(options, code, size);
  uint64_t i = 0;
  uint64_t offset = 0;
  while (i < count) {
    uint64_t run;
    TC_RETURN_IF_ERROR(reader.ReadRunLength(&run));
    i += run + offset;
    if (i >= count) {
      if (i > count) return PastEnd();
      break;
    }
    if (options.use_run_length_for_non_zeros) {
      TC_RETURN_IF_ERROR(reader.ReadRunLength(&run));
      const uint64_t stop = i + run + 1;
      if (stop > count) return PastEnd();
      for (; i < stop; ++i) {
        TC_RETURN_IF_ERROR(reader.ReadNonZero(&data[i]));
      }
      offset = 1;
    } else {
      TC_RETURN_IF_ERROR(reader.ReadNonZero(&data[i]));
      ++i;
    }
  }
  return reader.Finish();
}

}  // namespace tensorcoder
