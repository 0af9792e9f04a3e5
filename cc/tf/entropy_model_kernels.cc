// CPU kernels of the fused coding ops of the entropy models
// (entropy_model_ops.cc): EntropyModelEncode rounds the (offset-shifted)
// floating-point bottleneck, subtracts each row's cdf_offset and range-codes
// every coding unit into one chunked string; EntropyModelDecode inverts it.
// Both only convert tensors: the coding, chunking and checks are the core's
// (cc/unit_encoder.h, cc/unit_decoder.h), run on TensorFlow's thread pool.
#define EIGEN_USE_THREADS

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "cc/cdf_table.h"
#include "cc/range_decoder.h"
#include "cc/status.h"
#include "cc/tf/kernel_util.h"
#include "cc/unit_decoder.h"
#include "cc/unit_encoder.h"
#include "tensorflow/core/framework/op_kernel.h"
#include "tensorflow/core/framework/tensor.h"

namespace tensorcoder {
namespace {

using ::tensorflow::DEVICE_CPU;
using ::tensorflow::OpKernel;
using ::tensorflow::OpKernelConstruction;
using ::tensorflow::OpKernelContext;
using ::tensorflow::Tensor;
using ::tensorflow::TensorShape;
using ::tensorflow::TensorShapeUtils;
using ::tensorflow::tstring;
namespace errors = ::tensorflow::errors;

// The `cdf` lookup and its `cdf_offset` (one entry per row).
absl::Status ParseTables(const Tensor& cdf, const Tensor& cdf_offset,
                         CdfTable* table) {
  TF_RETURN_IF_ERROR(ParseLookup(cdf, "cdf", table));
  if (cdf_offset.dims() != 1) {
    return errors::InvalidArgument("`cdf_offset` must be 1-D, got shape ",
                                   cdf_offset.shape().DebugString());
  }
  return ToTf(CheckOffsets(*table, cdf_offset.NumElements(), "cdf_offset"));
}

template <typename T>
class EntropyModelEncodeOp : public OpKernel {
 public:
  explicit EntropyModelEncodeOp(OpKernelConstruction* context)
      : OpKernel(context) {
    OP_REQUIRES_OK(context, context->GetAttr("indexed", &indexed_));
  }

  void Compute(OpKernelContext* context) override {
    const Tensor& values = context->input(0);
    const Tensor& indexes = context->input(1);
    OP_REQUIRES(context, values.dims() >= 1,
                errors::InvalidArgument("`values` must be at least 1-D"));
    if (indexed_) {
      OP_REQUIRES(context, indexes.shape() == values.shape(),
                  errors::InvalidArgument(
                      "`indexes` shape ", indexes.shape().DebugString(),
                      " must equal `values` shape ",
                      values.shape().DebugString()));
    }
    CdfTable table;
    OP_REQUIRES_OK(context,
                   ParseTables(context->input(2), context->input(3), &table));
    TensorShape shape = values.shape();
    const int64_t count = shape.dim_size(shape.dims() - 1);
    shape.RemoveLastDims(1);
    Tensor* strings;
    OP_REQUIRES_OK(context, context->allocate_output(0, shape, &strings));
    const int64_t num_units = shape.num_elements();
    if (num_units == 0) return;
    std::vector<std::string> coded;
    OP_REQUIRES_OK(context, ToTf(EncodeUnits(
        table, context->input(3).flat<int32_t>().data(),
        values.flat<T>().data(), num_units,
        indexed_ ? indexes.flat<int32_t>().data() : nullptr, count,
        TfRunner(context), &coded)));
    auto out = strings->flat<tstring>();
    for (int64_t u = 0; u < num_units; ++u) out(u) = std::move(coded[u]);
  }

 private:
  bool indexed_;
};

template <typename T>
class EntropyModelDecodeOp : public OpKernel {
 public:
  explicit EntropyModelDecodeOp(OpKernelConstruction* context)
      : OpKernel(context) {
    OP_REQUIRES_OK(context, context->GetAttr("indexed", &indexed_));
    OP_REQUIRES_OK(context, context->GetAttr("check", &check_));
  }

  void Compute(OpKernelContext* context) override {
    const Tensor& strings = context->input(0);
    const Tensor& indexes = context->input(1);
    const Tensor& count_tensor = context->input(2);
    OP_REQUIRES(context, TensorShapeUtils::IsScalar(count_tensor.shape()),
                errors::InvalidArgument("`count` must be a scalar"));
    const int64_t count = count_tensor.scalar<int32_t>()();
    OP_REQUIRES(context, count >= 0,
                errors::InvalidArgument("`count` must be >= 0, got ", count));
    TensorShape shape = strings.shape();
    OP_REQUIRES_OK(context, shape.AddDimWithStatus(count));
    if (indexed_) {
      OP_REQUIRES(context, indexes.shape() == shape,
                  errors::InvalidArgument(
                      "`indexes` shape ", indexes.shape().DebugString(),
                      " must equal strings shape + [count] = ",
                      shape.DebugString()));
    }
    CdfTable parsed;
    OP_REQUIRES_OK(context,
                   ParseTables(context->input(3), context->input(4), &parsed));
    const DecodeTable table(std::move(parsed));
    Tensor* output;
    OP_REQUIRES_OK(context, context->allocate_output(0, shape, &output));
    const int64_t num_units = strings.NumElements();
    if (num_units == 0) return;
    const auto in = strings.flat<tstring>();
    std::vector<std::string_view> views(num_units);
    for (int64_t u = 0; u < num_units; ++u) {
      views[u] = std::string_view(in(u).data(), in(u).size());
    }
    OP_REQUIRES_OK(context, ToTf(DecodeUnits(
        table, context->input(4).flat<int32_t>().data(), views.data(),
        num_units, indexed_ ? indexes.flat<int32_t>().data() : nullptr,
        count, check_, TfRunner(context), output->flat<T>().data())));
  }

 private:
  bool indexed_;
  bool check_;
};

#define REGISTER(T)                                                        \
  REGISTER_KERNEL_BUILDER(                                                 \
      Name("EntropyModelEncode").Device(DEVICE_CPU).TypeConstraint<T>("T"), \
      EntropyModelEncodeOp<T>);                                            \
  REGISTER_KERNEL_BUILDER(                                                 \
      Name("EntropyModelDecode").Device(DEVICE_CPU).TypeConstraint<T>("T"), \
      EntropyModelDecodeOp<T>);
REGISTER(float)
REGISTER(double)
#undef REGISTER

}  // namespace
}  // namespace tensorcoder
