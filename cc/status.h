// Error values for the tensorcoder core: no exceptions, no aborts.
//
// Every fallible function returns a `Status` (or a `StatusOr<T>`) whose
// message names what is wrong with the input. The numeric codes equal the
// canonical absl / TensorFlow codes, so bindings can map them one to one.
#ifndef TENSORCODER_CC_STATUS_H_
#define TENSORCODER_CC_STATUS_H_

#include <sstream>
#include <string>
#include <utility>

namespace tensorcoder {

enum class StatusCode : int {
  kOk = 0,
  kInvalidArgument = 3,  // The caller passed a bad argument (table, value...).
  kResourceExhausted = 8,
  kOutOfRange = 11,
  kInternal = 13,
  kDataLoss = 15,  // A compressed string is truncated or corrupted.
};

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message)
      : code_(code), message_(std::move(message)) {}

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // "INVALID_ARGUMENT: message", for logs and test failures.
  std::string ToString() const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

inline Status OkStatus() { return Status(); }

namespace internal {
inline void AppendAll(std::ostringstream&) {}
template <typename T, typename... Rest>
void AppendAll(std::ostringstream& os, const T& first, const Rest&... rest) {
  os << first;
  AppendAll(os, rest...);
}
}  // namespace internal

// Concatenates the streamed form of every argument.
template <typename... Args>
std::string StrCat(const Args&... args) {
  std::ostringstream os;
  internal::AppendAll(os, args...);
  return os.str();
}

template <typename... Args>
Status InvalidArgumentError(const Args&... args) {
  return Status(StatusCode::kInvalidArgument, StrCat(args...));
}
template <typename... Args>
Status DataLossError(const Args&... args) {
  return Status(StatusCode::kDataLoss, StrCat(args...));
}
template <typename... Args>
Status OutOfRangeError(const Args&... args) {
  return Status(StatusCode::kOutOfRange, StrCat(args...));
}
template <typename... Args>
Status ResourceExhaustedError(const Args&... args) {
  return Status(StatusCode::kResourceExhausted, StrCat(args...));
}

// Either a value or a non-OK status.
template <typename T>
class [[nodiscard]] StatusOr {
 public:
  StatusOr(Status status) : status_(std::move(status)) {}  // NOLINT
  StatusOr(T value) : value_(std::move(value)), has_value_(true) {}  // NOLINT

  bool ok() const { return has_value_; }
  const Status& status() const { return status_; }
  // REQUIRES: ok().
  T& value() & { return value_; }
  const T& value() const& { return value_; }
  T&& value() && { return std::move(value_); }
  T& operator*() & { return value_; }
  const T& operator*() const& { return value_; }
  T* operator->() { return &value_; }
  const T* operator->() const { return &value_; }

 private:
  Status status_;
  T value_{};
  bool has_value_ = false;
};

}  // namespace tensorcoder

#define TC_RETURN_IF_ERROR(expr)                    \
  do {                                              \
    ::tensorcoder::Status tc_status_ = (expr);      \
    if (!tc_status_.ok()) return tc_status_;        \
  } while (0)

#endif  // TENSORCODER_CC_STATUS_H_
