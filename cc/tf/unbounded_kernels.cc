// CPU kernels of UnboundedIndexRangeEncode / UnboundedIndexRangeDecode
// (unbounded_ops.cc): check shapes, run cc/unbounded_index_coder.h, and turn
// its Status values into InvalidArgument / DataLoss errors.
#include <cstdint>
#include <string>
#include <utility>

#include "cc/status.h"
#include "cc/unbounded_index_coder.h"
#include "cc/tf/kernel_util.h"
#include "tensorflow/core/framework/op_kernel.h"
#include "tensorflow/core/framework/tensor.h"
#include "tensorflow/core/framework/tensor_shape.h"

namespace tensorcoder {
namespace {

using ::tensorflow::DEVICE_CPU;
using ::tensorflow::OpKernel;
using ::tensorflow::OpKernelConstruction;
using ::tensorflow::OpKernelContext;
using ::tensorflow::Tensor;
using ::tensorflow::TensorShapeUtils;
using ::tensorflow::tstring;
namespace errors = ::tensorflow::errors;

// The shape checks of TFC's kernels, with its messages.
absl::Status CheckTableShapes(const Tensor& cdf, const Tensor& cdf_size,
                              const Tensor& offset) {
  if (!TensorShapeUtils::IsMatrix(cdf.shape()) || cdf.dim_size(1) < 3) {
    return errors::InvalidArgument(
        "'cdf' should be 2-D and cdf.dim_size(1) >= 3: ",
        cdf.shape().DebugString());
  }
  if (!TensorShapeUtils::IsVector(cdf_size.shape()) ||
      cdf_size.dim_size(0) != cdf.dim_size(0)) {
    return errors::InvalidArgument(
        "'cdf_size' should be 1-D and its length should match the number of "
        "rows in 'cdf': cdf_size.shape=",
        cdf_size.shape().DebugString(), ", cdf.shape=",
        cdf.shape().DebugString());
  }
  if (!TensorShapeUtils::IsVector(offset.shape()) ||
      offset.dim_size(0) != cdf.dim_size(0)) {
    return errors::InvalidArgument(
        "'offset' should be 1-D and its length should match the number of "
        "rows in 'cdf': offset.shape=",
        offset.shape().DebugString(), ", cdf.shape=",
        cdf.shape().DebugString());
  }
  return absl::OkStatus();
}

absl::Status MakeTable(const Tensor& cdf, const Tensor& cdf_size,
                       const Tensor& offset, int precision, int overflow_width,
                       UnboundedIndexTable* table) {
  TF_RETURN_IF_ERROR(CheckTableShapes(cdf, cdf_size, offset));
  StatusOr<UnboundedIndexTable> made = UnboundedIndexTable::Make(
      cdf.flat<int32_t>().data(), cdf.dim_size(0), cdf.dim_size(1),
      cdf_size.flat<int32_t>().data(), offset.flat<int32_t>().data(),
      precision, overflow_width);
  if (!made.ok()) return ToTf(made.status());
  *table = *made;
  return absl::OkStatus();
}

class UnboundedIndexOpBase : public OpKernel {
 public:
  explicit UnboundedIndexOpBase(OpKernelConstruction* context)
      : OpKernel(context) {
    OP_REQUIRES_OK(context, context->GetAttr("precision", &precision_));
    OP_REQUIRES_OK(context,
                   context->GetAttr("overflow_width", &overflow_width_));
    OP_REQUIRES_OK(context, ToTf(ValidateUnboundedIndexAttrs(
                                precision_, overflow_width_)));
    OP_REQUIRES_OK(context, CheckDebugLevelAttr(context));
  }

 protected:
  int precision_;
  int overflow_width_;
};

class UnboundedIndexRangeEncodeOp : public UnboundedIndexOpBase {
 public:
  using UnboundedIndexOpBase::UnboundedIndexOpBase;

  void Compute(OpKernelContext* context) override {
    const Tensor& data = context->input(0);
    const Tensor& index = context->input(1);
    OP_REQUIRES(context, data.shape() == index.shape(),
                errors::InvalidArgument(
                    "`data` and `index` should have the same shape: "
                    "data.shape=",
                    data.shape().DebugString(),
                    ", index.shape=", index.shape().DebugString()));
    UnboundedIndexTable table;
    OP_REQUIRES_OK(context,
                   MakeTable(context->input(2), context->input(3),
                             context->input(4), precision_, overflow_width_,
                             &table));
    StatusOr<std::string> encoded = UnboundedIndexEncode(
        table, index.flat<int32_t>().data(), data.flat<int32_t>().data(),
        data.NumElements());
    OP_REQUIRES_OK(context, ToTf(encoded.status()));
    Tensor* output;
    OP_REQUIRES_OK(context, context->allocate_output(0, {}, &output));
    output->scalar<tstring>()() = std::move(encoded).value();
  }
};

class UnboundedIndexRangeDecodeOp : public UnboundedIndexOpBase {
 public:
  using UnboundedIndexOpBase::UnboundedIndexOpBase;

  void Compute(OpKernelContext* context) override {
    const Tensor& encoded = context->input(0);
    const Tensor& index = context->input(1);
    OP_REQUIRES(context, TensorShapeUtils::IsScalar(encoded.shape()),
                errors::InvalidArgument("`encoded` should be a scalar: ",
                                        encoded.shape().DebugString()));
    UnboundedIndexTable table;
    OP_REQUIRES_OK(context,
                   MakeTable(context->input(2), context->input(3),
                             context->input(4), precision_, overflow_width_,
                             &table));
    Tensor* output;
    OP_REQUIRES_OK(context,
                   context->allocate_output(0, index.shape(), &output));
    const tstring& string = encoded.scalar<tstring>()();
    OP_REQUIRES_OK(context,
                   ToTf(UnboundedIndexDecode(
                       table, string.data(), string.size(),
                       index.flat<int32_t>().data(),
                       output->flat<int32_t>().data(), index.NumElements())));
  }
};

REGISTER_KERNEL_BUILDER(Name("UnboundedIndexRangeEncode").Device(DEVICE_CPU),
                        UnboundedIndexRangeEncodeOp);
REGISTER_KERNEL_BUILDER(Name("UnboundedIndexRangeDecode").Device(DEVICE_CPU),
                        UnboundedIndexRangeDecodeOp);

}  // namespace
}  // namespace tensorcoder
