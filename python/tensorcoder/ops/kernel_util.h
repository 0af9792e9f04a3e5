// Helpers shared by the op kernels: core Status to TensorFlow status.
#ifndef TENSORCODER_PYTHON_TENSORCODER_OPS_KERNEL_UTIL_H_
#define TENSORCODER_PYTHON_TENSORCODER_OPS_KERNEL_UTIL_H_

#include "absl/status/status.h"
#include "cc/status.h"

namespace tensorcoder {

// The core's codes equal absl's, so this keeps INVALID_ARGUMENT/DATA_LOSS.
inline absl::Status ToTf(const Status& status) {
  if (status.ok()) return absl::OkStatus();
  return absl::Status(static_cast<absl::StatusCode>(status.code()),
                      status.message());
}

}  // namespace tensorcoder

#endif  // TENSORCODER_PYTHON_TENSORCODER_OPS_KERNEL_UTIL_H_
