// What every TensorFlow kernel of tensorcoder shares: core Status to
// TensorFlow status, the core's Runner over TensorFlow's CPU pool, lookup
// and precision arguments. The kernels convert tensors and call the core;
// they do no coding of their own.
#ifndef TENSORCODER_CC_TF_KERNEL_UTIL_H_
#define TENSORCODER_CC_TF_KERNEL_UTIL_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

#include "absl/status/status.h"
#include "cc/cdf_table.h"
#include "cc/parallel.h"
#include "cc/status.h"
#include "tensorflow/core/framework/op_kernel.h"
#include "tensorflow/core/framework/tensor.h"
#include "tensorflow/core/platform/threadpool.h"

namespace tensorcoder {

// The core's codes equal absl's, so this keeps INVALID_ARGUMENT/DATA_LOSS.
inline absl::Status ToTf(const Status& status) {
  if (status.ok()) return absl::OkStatus();
  return absl::Status(static_cast<absl::StatusCode>(status.code()),
                      status.message());
}

// A core Runner over the kernel's CPU thread pool (cc/parallel.h). The
// context must outlive the runner's use.
inline Runner TfRunner(tensorflow::OpKernelContext* context) {
  auto* workers = context->device()->tensorflow_cpu_worker_threads()->workers;
  return [workers](size_t n, size_t cost,
                   const std::function<void(size_t, size_t)>& shard) {
    workers->ParallelFor(static_cast<int64_t>(n), static_cast<int64_t>(cost),
                         [&shard](int64_t begin, int64_t end) {
                           shard(static_cast<size_t>(begin),
                                 static_cast<size_t>(end));
                         });
  };
}

// Runs fn(k) for k in [0, n) on the CPU pool and returns the error of the
// lowest k that failed, prefixed with "string k: " when n > 1.
inline absl::Status ParallelForStrings(
    tensorflow::OpKernelContext* context, int64_t n, int64_t cost,
    const std::function<Status(int64_t)>& fn) {
  return ToTf(RunTasks(
      TfRunner(context), static_cast<size_t>(n), static_cast<size_t>(cost),
      [&](size_t k) -> Status {
        Status status = fn(static_cast<int64_t>(k));
        if (status.ok() || n == 1) return status;
        return Status(status.code(),
                      StrCat("string ", k, ": ", status.message()));
      }));
}

// Parses a lookup tensor (rank 1: flat layout, rank 2: matrix layout) named
// `name` in messages.
inline absl::Status ParseLookup(const tensorflow::Tensor& lookup,
                                const char* name, CdfTable* table) {
  std::vector<int64_t> dims(lookup.dims());
  for (int i = 0; i < lookup.dims(); ++i) dims[i] = lookup.dim_size(i);
  StatusOr<CdfTable> parsed =
      CdfTable::FromArray(lookup.flat<int32_t>().data(), dims.size(),
                          dims.data(), name);
  if (!parsed.ok()) return ToTf(parsed.status());
  *table = std::move(parsed).value();
  return absl::OkStatus();
}

// Reads the `precision` attribute and checks it is in [1, 16].
inline absl::Status GetPrecisionAttr(tensorflow::OpKernelConstruction* context,
                                     int* precision) {
  TF_RETURN_IF_ERROR(context->GetAttr("precision", precision));
  return ToTf(CheckPrecision(*precision));
}

// Reads TFC's `debug_level` attribute, which must be 0 or 1. TFC skipped
// its checks at 0; tensorcoder always checks (a pass over the tables), so
// both levels behave the same.
inline absl::Status CheckDebugLevelAttr(
    tensorflow::OpKernelConstruction* context) {
  int debug_level;
  TF_RETURN_IF_ERROR(context->GetAttr("debug_level", &debug_level));
  if (debug_level != 0 && debug_level != 1) {
    return absl::InvalidArgumentError(
        StrCat("`debug_level` must be 0 or 1, got ", debug_level));
  }
  return absl::OkStatus();
}

}  // namespace tensorcoder

#endif  // TENSORCODER_CC_TF_KERNEL_UTIL_H_
