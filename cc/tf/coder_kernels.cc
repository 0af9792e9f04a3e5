// CPU kernels of the entropy-coding ops (coder_ops.cc): thin wrappers that
// check shapes, run the tensorcoder C++ core, and turn its Status values into
// InvalidArgument / DataLoss errors. Many strings are coded in parallel on
// TensorFlow's CPU thread pool.
#define EIGEN_USE_THREADS

#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "cc/batch_coder.h"
#include "cc/cdf_table.h"
#include "cc/pmf_to_cdf.h"
#include "cc/range_decoder.h"
#include "cc/range_encoder.h"
#include "cc/run_length_coder.h"
#include "cc/status.h"
#include "cc/tf/kernel_util.h"
#include "tensorflow/core/framework/op_kernel.h"
#include "tensorflow/core/framework/tensor.h"
#include "tensorflow/core/framework/tensor_shape.h"
#include "tensorflow/core/framework/tensor_util.h"
#include "tensorflow/core/framework/variant.h"
#include "tensorflow/core/framework/variant_encode_decode.h"
#include "tensorflow/core/framework/variant_tensor_data.h"
#include "tensorflow/core/platform/threadpool.h"

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
using ::tensorflow::Variant;
namespace errors = ::tensorflow::errors;

absl::Status ShapeFromTensor(const Tensor& tensor, const char* name,
                             TensorShape* shape) {
  if (!TensorShapeUtils::IsVector(tensor.shape())) {
    return errors::InvalidArgument("`", name, "` must be a 1-D int32 tensor, ",
                                   "got shape ", tensor.shape().DebugString());
  }
  const auto dims = tensor.vec<int32_t>();
  for (int64_t i = 0; i < dims.size(); ++i) {
    if (dims(i) < 0) {
      return errors::InvalidArgument("`", name, "` has a negative dimension ",
                                     dims(i), " at position ", i);
    }
  }
  return TensorShapeUtils::MakeShape(dims, shape);
}

// ---------------------------------------------------------------------------
// Legacy API: RangeEncode / RangeDecode with a broadcast CDF tensor.

// Maps each element of `data_shape` (row-major) to the offset of its CDF row
// in a cdf tensor of shape data_shape + [width] whose axes may be 1
// (broadcast).
class BroadcastRows {
 public:
  static absl::Status Make(const TensorShape& data_shape,
                           const TensorShape& cdf_shape, BroadcastRows* out) {
    if (cdf_shape.dims() != data_shape.dims() + 1) {
      return errors::InvalidArgument(
          "`cdf` must have one more axis than `data`: data shape ",
          data_shape.DebugString(), ", cdf shape ", cdf_shape.DebugString());
    }
    const int rank = data_shape.dims();
    const int64_t width = cdf_shape.dim_size(rank);
    if (width < 2) {
      return errors::InvalidArgument(
          "the last axis of `cdf` must have at least 2 values, got shape ",
          cdf_shape.DebugString());
    }
    out->dims_.resize(rank);
    out->strides_.resize(rank);
    int64_t stride = width;
    for (int i = rank - 1; i >= 0; --i) {
      const int64_t c = cdf_shape.dim_size(i), d = data_shape.dim_size(i);
      if (c != 1 && c != d) {
        return errors::InvalidArgument(
            "`cdf` axis ", i, " of size ", c, " does not broadcast to `data` ",
            "axis of size ", d, " (data shape ", data_shape.DebugString(),
            ", cdf shape ", cdf_shape.DebugString(), ")");
      }
      out->dims_[i] = d;
      out->strides_[i] = c == 1 ? 0 : stride;
      stride *= c;
    }
    out->width_ = width;
    return absl::OkStatus();
  }

  int64_t width() const { return width_; }

  // Calls fn(element, cdf_offset) for every element in row-major order.
  template <typename Fn>
  absl::Status ForEach(int64_t num_elements, Fn fn) const {
    const int rank = static_cast<int>(dims_.size());
    std::vector<int64_t> index(rank, 0);
    int64_t offset = 0;
    for (int64_t e = 0; e < num_elements; ++e) {
      TF_RETURN_IF_ERROR(fn(e, offset));
      for (int i = rank - 1; i >= 0; --i) {
        offset += strides_[i];
        if (++index[i] < dims_[i]) break;
        offset -= strides_[i] * dims_[i];
        index[i] = 0;
      }
    }
    return absl::OkStatus();
  }

 private:
  std::vector<int64_t> dims_, strides_;
  int64_t width_ = 0;
};

absl::Status ValidateCdfRows(const Tensor& cdf, int precision) {
  const auto rows = cdf.flat_inner_dims<int32_t, 2>();
  for (int64_t r = 0; r < rows.dimension(0); ++r) {
    const Status status =
        ValidateCdf(&rows(r, 0), rows.dimension(1), precision);
    if (!status.ok()) {
      return errors::InvalidArgument("`cdf` row ", r, ": ", status.message());
    }
  }
  return absl::OkStatus();
}

class RangeCoderOpBase : public OpKernel {
 public:
  explicit RangeCoderOpBase(OpKernelConstruction* context)
      : OpKernel(context) {
    OP_REQUIRES_OK(context, GetPrecisionAttr(context, &precision_));
    OP_REQUIRES_OK(context, CheckDebugLevelAttr(context));
  }

 protected:
  int precision_;
};

class RangeEncodeOp : public RangeCoderOpBase {
 public:
  using RangeCoderOpBase::RangeCoderOpBase;

  void Compute(OpKernelContext* context) override {
    const Tensor& data = context->input(0);
    const Tensor& cdf = context->input(1);
    BroadcastRows rows;
    OP_REQUIRES_OK(context, BroadcastRows::Make(data.shape(), cdf.shape(),
                                                &rows));
    OP_REQUIRES_OK(context, ValidateCdfRows(cdf, precision_));
    const auto values = data.flat<int16_t>();
    const int32_t* cdf_data = cdf.flat<int32_t>().data();
    const int64_t max_value = rows.width() - 1;
    std::string encoded;
    RangeEncoder encoder(&encoded);
    encoder.Reserve(values.size());
    OP_REQUIRES_OK(context, rows.ForEach(values.size(), [&](int64_t e,
                                                            int64_t offset) {
      const int32_t value = values(e);
      if (value < 0 || value >= max_value) {
        return errors::InvalidArgument("`data` value ", value,
                                       " at position ", e, " is outside [0, ",
                                       max_value, ")");
      }
      const int32_t* row = cdf_data + offset;
      encoder.Encode(row[value], row[value + 1], precision_);
      return absl::OkStatus();
    }));
    encoder.Finalize();
    Tensor* output;
    OP_REQUIRES_OK(context, context->allocate_output(0, {}, &output));
    output->scalar<tstring>()() = std::move(encoded);
  }
};

class RangeDecodeOp : public RangeCoderOpBase {
 public:
  using RangeCoderOpBase::RangeCoderOpBase;

  void Compute(OpKernelContext* context) override {
    const Tensor& encoded = context->input(0);
    OP_REQUIRES(context, TensorShapeUtils::IsScalar(encoded.shape()),
                errors::InvalidArgument("`encoded` must be a scalar, got ",
                                        encoded.shape().DebugString()));
    TensorShape shape;
    OP_REQUIRES_OK(context, ShapeFromTensor(context->input(1), "shape",
                                            &shape));
    const Tensor& cdf = context->input(2);
    BroadcastRows rows;
    OP_REQUIRES_OK(context, BroadcastRows::Make(shape, cdf.shape(), &rows));
    OP_REQUIRES_OK(context, ValidateCdfRows(cdf, precision_));
    Tensor* output;
    OP_REQUIRES_OK(context, context->allocate_output(0, shape, &output));
    auto values = output->flat<int16_t>();
    const int32_t* cdf_data = cdf.flat<int32_t>().data();
    const tstring& string = encoded.scalar<tstring>()();
    RangeDecoder decoder(string.data(), string.size());
    OP_REQUIRES_OK(context, rows.ForEach(values.size(), [&](int64_t e,
                                                            int64_t offset) {
      const int32_t symbol =
          decoder.DecodeWithSearch(cdf_data + offset, rows.width(), precision_);
      if (symbol < 0) {
        return errors::DataLoss("range decoder: impossible state at position ",
                                e, ": the string is corrupted");
      }
      values(e) = static_cast<int16_t>(symbol);
      return absl::OkStatus();
    }));
    OP_REQUIRES_OK(context, ToTf(decoder.Finish()));
  }
};

REGISTER_KERNEL_BUILDER(Name("RangeEncode").Device(DEVICE_CPU), RangeEncodeOp);
REGISTER_KERNEL_BUILDER(Name("RangeDecode").Device(DEVICE_CPU), RangeDecodeOp);

// ---------------------------------------------------------------------------
// Handle API: CreateRangeEncoder / EntropyEncode* / CreateRangeDecoder /
// EntropyDecode*. A handle tensor holds, in its first element, the state of
// all its coders; a handle with no elements codes nothing.

struct EncoderState {
  CdfTable table;
  std::vector<std::unique_ptr<TableEncoder>> encoders;
  bool finalized = false;
  size_t size() const { return encoders.size(); }
};

struct DecoderState {
  Tensor encoded;  // Keeps the strings alive.
  std::unique_ptr<DecodeTable> table;
  std::vector<std::unique_ptr<TableDecoder>> decoders;
  bool finalized = false;
  size_t size() const { return decoders.size(); }
};

template <typename State>
struct StateVariant {
  std::shared_ptr<State> state;
  std::string TypeName() const {
    return std::is_same<State, EncoderState>::value
               ? "tensorcoder::RangeEncoderHandle"
               : "tensorcoder::RangeDecoderHandle";
  }
  // Handles live within one session run; they are not serializable.
  void Encode(tensorflow::VariantTensorData* data) const {
    data->set_type_name(TypeName());
  }
  bool Decode(const tensorflow::VariantTensorData& data) { return false; }
};

using EncoderVariant = StateVariant<EncoderState>;
using DecoderVariant = StateVariant<DecoderState>;

template <typename State>
absl::Status GetState(const Tensor& handle, std::shared_ptr<State>* state) {
  state->reset();
  if (handle.dtype() != tensorflow::DT_VARIANT) {
    return errors::InvalidArgument("`handle` must be a variant tensor");
  }
  const char* kind = std::is_same<State, EncoderState>::value
                         ? "range encoder"
                         : "range decoder";
  const int64_t n = handle.NumElements();
  if (n == 0) return absl::OkStatus();
  const auto handles = handle.flat<Variant>();
  const auto* wrapped = handles(0).get<StateVariant<State>>();
  if (wrapped == nullptr || wrapped->state == nullptr) {
    return errors::InvalidArgument("`handle` is not a ", kind, " handle");
  }
  // The state of all coders sits in element 0 and the other elements are
  // empty, so a handle reshaped keeps working while one that was gathered,
  // tiled, sliced, reversed or concatenated is refused: its coders would
  // no longer match its elements (and must never be indexed past the end).
  bool rearranged = static_cast<size_t>(n) != wrapped->state->size();
  for (int64_t k = 1; k < n && !rearranged; ++k) {
    rearranged = handles(k).get<StateVariant<State>>() != nullptr;
  }
  if (rearranged) {
    return errors::InvalidArgument(
        "`handle` of shape ", handle.shape().DebugString(), " holds ",
        wrapped->state->size(), " ", kind,
        "s in another arrangement: a handle may be reshaped but not "
        "gathered, sliced, tiled, reversed or concatenated; pass the handle "
        "that Create/Entropy ops returned");
  }
  if (wrapped->state->finalized) {
    return errors::InvalidArgument("`handle` was already finalized");
  }
  *state = wrapped->state;
  return absl::OkStatus();
}

class CreateRangeEncoderOp : public OpKernel {
 public:
  using OpKernel::OpKernel;

  void Compute(OpKernelContext* context) override {
    TensorShape shape;
    OP_REQUIRES_OK(context, ShapeFromTensor(context->input(0), "shape",
                                            &shape));
    auto state = std::make_shared<EncoderState>();
    OP_REQUIRES_OK(context, ParseLookup(context->input(1), "lookup", &state->table));
    Tensor* handle;
    OP_REQUIRES_OK(context, context->allocate_output(0, shape, &handle));
    if (shape.num_elements() == 0) return;
    for (int64_t k = 0; k < shape.num_elements(); ++k) {
      state->encoders.push_back(std::make_unique<TableEncoder>(state->table));
    }
    handle->flat<Variant>()(0) = EncoderVariant{std::move(state)};
  }
};

class EntropyEncodeOp : public OpKernel {
 public:
  using OpKernel::OpKernel;

  void Compute(OpKernelContext* context) override {
    const Tensor& handle = context->input(0);
    std::shared_ptr<EncoderState> state;
    OP_REQUIRES_OK(context, GetState(handle, &state));
    const bool indexed = context->num_inputs() == 3;
    const Tensor& value = context->input(indexed ? 2 : 1);
    OP_REQUIRES(
        context, TensorShapeUtils::StartsWith(value.shape(), handle.shape()),
        errors::InvalidArgument("`value` shape ", value.shape().DebugString(),
                                " must start with `handle` shape ",
                                handle.shape().DebugString()));
    const int32_t* index_data = nullptr;
    if (indexed) {
      const Tensor& index = context->input(1);
      OP_REQUIRES(context, index.shape() == value.shape(),
                  errors::InvalidArgument(
                      "`index` shape ", index.shape().DebugString(),
                      " must equal `value` shape ",
                      value.shape().DebugString()));
      index_data = index.flat<int32_t>().data();
    }
    context->set_output(0, handle);
    const int64_t n = handle.NumElements();
    if (n == 0) return;
    const int64_t per_string = value.NumElements() / n;
    const int32_t* value_data = value.flat<int32_t>().data();
    OP_REQUIRES_OK(context, ParallelForStrings(
        context, n, 40 * per_string + 100, [&](int64_t k) {
          TableEncoder& encoder = *state->encoders[k];
          const int64_t offset = k * per_string;
          return indexed
                     ? encoder.EncodeIndexed(index_data + offset,
                                             value_data + offset, per_string)
                     : encoder.EncodeChannel(value_data + offset, per_string);
        }));
  }
};

class EntropyEncodeFinalizeOp : public OpKernel {
 public:
  using OpKernel::OpKernel;

  void Compute(OpKernelContext* context) override {
    const Tensor& handle = context->input(0);
    std::shared_ptr<EncoderState> state;
    OP_REQUIRES_OK(context, GetState(handle, &state));
    Tensor* output;
    OP_REQUIRES_OK(context,
                   context->allocate_output(0, handle.shape(), &output));
    if (state == nullptr) return;
    state->finalized = true;
    auto strings = output->flat<tstring>();
    for (int64_t k = 0; k < strings.size(); ++k) {
      strings(k) = state->encoders[k]->Finish();
    }
  }
};

REGISTER_KERNEL_BUILDER(Name("CreateRangeEncoder").Device(DEVICE_CPU),
                        CreateRangeEncoderOp);
REGISTER_KERNEL_BUILDER(Name("EntropyEncodeChannel").Device(DEVICE_CPU),
                        EntropyEncodeOp);
REGISTER_KERNEL_BUILDER(Name("EntropyEncodeIndex").Device(DEVICE_CPU),
                        EntropyEncodeOp);
REGISTER_KERNEL_BUILDER(Name("EntropyEncodeFinalize").Device(DEVICE_CPU),
                        EntropyEncodeFinalizeOp);

class CreateRangeDecoderOp : public OpKernel {
 public:
  using OpKernel::OpKernel;

  void Compute(OpKernelContext* context) override {
    const Tensor& encoded = context->input(0);
    auto state = std::make_shared<DecoderState>();
    CdfTable table;
    OP_REQUIRES_OK(context, ParseLookup(context->input(1), "lookup", &table));
    Tensor* handle;
    OP_REQUIRES_OK(context,
                   context->allocate_output(0, encoded.shape(), &handle));
    if (encoded.NumElements() == 0) return;
    state->encoded = encoded;
    state->table = std::make_unique<DecodeTable>(std::move(table));
    const auto strings = state->encoded.flat<tstring>();
    for (int64_t k = 0; k < strings.size(); ++k) {
      state->decoders.push_back(std::make_unique<TableDecoder>(
          *state->table, strings(k).data(), strings(k).size()));
    }
    handle->flat<Variant>()(0) = DecoderVariant{std::move(state)};
  }
};

class EntropyDecodeOp : public OpKernel {
 public:
  using OpKernel::OpKernel;

  void Compute(OpKernelContext* context) override {
    const Tensor& handle = context->input(0);
    std::shared_ptr<DecoderState> state;
    OP_REQUIRES_OK(context, GetState(handle, &state));
    const bool indexed = context->num_inputs() == 3;
    TensorShape shape;
    OP_REQUIRES_OK(context, ShapeFromTensor(context->input(indexed ? 2 : 1),
                                            "shape", &shape));
    TensorShape output_shape = handle.shape();
    output_shape.AppendShape(shape);
    const int32_t* index_data = nullptr;
    if (indexed) {
      const Tensor& index = context->input(1);
      OP_REQUIRES(context, index.shape() == output_shape,
                  errors::InvalidArgument(
                      "`index` shape ", index.shape().DebugString(),
                      " must equal `handle` shape + `shape` = ",
                      output_shape.DebugString()));
      index_data = index.flat<int32_t>().data();
    }
    context->set_output(0, handle);
    Tensor* output;
    OP_REQUIRES_OK(context, context->allocate_output(1, output_shape, &output));
    const int64_t n = handle.NumElements();
    if (n == 0) return;
    const int64_t per_string = shape.num_elements();
    int32_t* values = output->flat<int32_t>().data();
    OP_REQUIRES_OK(context, ParallelForStrings(
        context, n, 60 * per_string + 100, [&](int64_t k) {
          TableDecoder& decoder = *state->decoders[k];
          const int64_t offset = k * per_string;
          return indexed ? decoder.DecodeIndexed(index_data + offset,
                                                 values + offset, per_string)
                         : decoder.DecodeChannel(values + offset, per_string);
        }));
  }
};

class EntropyDecodeFinalizeOp : public OpKernel {
 public:
  using OpKernel::OpKernel;

  void Compute(OpKernelContext* context) override {
    const Tensor& handle = context->input(0);
    std::shared_ptr<DecoderState> state;
    OP_REQUIRES_OK(context, GetState(handle, &state));
    Tensor* output;
    OP_REQUIRES_OK(context,
                   context->allocate_output(0, handle.shape(), &output));
    if (state == nullptr) return;
    state->finalized = true;
    auto success = output->flat<bool>();
    for (int64_t k = 0; k < success.size(); ++k) {
      success(k) = state->decoders[k]->Finish().ok();
    }
  }
};

REGISTER_KERNEL_BUILDER(Name("CreateRangeDecoder").Device(DEVICE_CPU),
                        CreateRangeDecoderOp);
REGISTER_KERNEL_BUILDER(Name("EntropyDecodeChannel").Device(DEVICE_CPU),
                        EntropyDecodeOp);
REGISTER_KERNEL_BUILDER(Name("EntropyDecodeIndex").Device(DEVICE_CPU),
                        EntropyDecodeOp);
REGISTER_KERNEL_BUILDER(Name("EntropyDecodeFinalize").Device(DEVICE_CPU),
                        EntropyDecodeFinalizeOp);

// ---------------------------------------------------------------------------
// PmfToQuantizedCdf.

class PmfToQuantizedCdfOp : public OpKernel {
 public:
  explicit PmfToQuantizedCdfOp(OpKernelConstruction* context)
      : OpKernel(context) {
    OP_REQUIRES_OK(context, GetPrecisionAttr(context, &precision_));
  }

  void Compute(OpKernelContext* context) override {
    const Tensor& pmf = context->input(0);
    OP_REQUIRES(context, pmf.dims() >= 1,
                errors::InvalidArgument("`pmf` must be at least 1-D"));
    TensorShape shape = pmf.shape();
    const int64_t n = shape.dim_size(shape.dims() - 1);
    OP_REQUIRES_OK(context, shape.SetDimWithStatus(shape.dims() - 1, n + 1));
    Tensor* cdf;
    OP_REQUIRES_OK(context, context->allocate_output(0, shape, &cdf));
    if (shape.num_elements() == 0) return;
    const auto rows = pmf.flat_inner_dims<float, 2>();
    auto out = cdf->flat_inner_dims<int32_t, 2>();
    OP_REQUIRES_OK(context, ParallelForStrings(
        context, rows.dimension(0), 200 * (n + 1), [&](int64_t r) -> Status {
          const std::vector<double> masses(&rows(r, 0), &rows(r, 0) + n);
          StatusOr<std::vector<int32_t>> row =
              PmfToQuantizedCdf(masses.data(), masses.size(), precision_);
          if (!row.ok()) {
            return Status(row.status().code(),
                          StrCat("pmf row ", r, ": ", row.status().message()));
          }
          std::copy(row->begin(), row->end(), &out(r, 0));
          return OkStatus();
        }));
  }

 private:
  int precision_;
};

REGISTER_KERNEL_BUILDER(Name("PmfToQuantizedCdf").Device(DEVICE_CPU),
                        PmfToQuantizedCdfOp);

// PmfsToCdfLookup.

template <typename T>
class PmfsToCdfLookupOp : public OpKernel {
 public:
  explicit PmfsToCdfLookupOp(OpKernelConstruction* context)
      : OpKernel(context) {
    OP_REQUIRES_OK(context, GetPrecisionAttr(context, &precision_));
    OP_REQUIRES_OK(context, context->GetAttr("overflow", &overflow_));
  }

  void Compute(OpKernelContext* context) override {
    const Tensor& pmf = context->input(0);
    const Tensor& lengths = context->input(1);
    OP_REQUIRES(context, pmf.dims() == 2,
                errors::InvalidArgument("`pmf` must be 2-D, got shape ",
                                        pmf.shape().DebugString()));
    OP_REQUIRES(context,
                lengths.dims() == 1 && lengths.dim_size(0) == pmf.dim_size(0),
                errors::InvalidArgument(
                    "`lengths` must be 1-D with one entry per pmf row (",
                    pmf.dim_size(0), "), got shape ",
                    lengths.shape().DebugString()));
    const int64_t num_rows = pmf.dim_size(0);
    const int64_t max_length = pmf.dim_size(1);
    Tensor* lookup;
    OP_REQUIRES_OK(context, context->allocate_output(
        0, {num_rows, static_cast<int64_t>(LookupWidth(max_length, overflow_))},
        &lookup));
    if (num_rows == 0) return;
    OP_REQUIRES_OK(context, ToTf(PmfsToLookup(
        pmf.flat<T>().data(), lengths.flat<int32_t>().data(), num_rows,
        max_length, precision_, overflow_, TfRunner(context),
        lookup->flat<int32_t>().data())));
  }

 private:
  int precision_;
  bool overflow_;
};

REGISTER_KERNEL_BUILDER(
    Name("PmfsToCdfLookup").Device(DEVICE_CPU).TypeConstraint<float>("T"),
    PmfsToCdfLookupOp<float>);
REGISTER_KERNEL_BUILDER(
    Name("PmfsToCdfLookup").Device(DEVICE_CPU).TypeConstraint<double>("T"),
    PmfsToCdfLookupOp<double>);

// ---------------------------------------------------------------------------
// Run-length codes.

// The four run-length ops share their plumbing: encode takes `data` to a
// scalar string, decode takes (`code`, `shape`) to an int32 tensor.
void EncodeToScalar(OpKernelContext* context,
                    const StatusOr<std::string>& code) {
  OP_REQUIRES_OK(context, ToTf(code.status()));
  Tensor* output;
  OP_REQUIRES_OK(context, context->allocate_output(0, {}, &output));
  output->scalar<tstring>()() = code.value();
}

template <typename Decode>
void DecodeFromScalar(OpKernelContext* context, Decode decode) {
  const Tensor& code = context->input(0);
  OP_REQUIRES(context, TensorShapeUtils::IsScalar(code.shape()),
              errors::InvalidArgument("`code` must be a scalar, got ",
                                      code.shape().DebugString()));
  TensorShape shape;
  OP_REQUIRES_OK(context,
                 ShapeFromTensor(context->input(1), "shape", &shape));
  Tensor* data;
  OP_REQUIRES_OK(context, context->allocate_output(0, shape, &data));
  const tstring& bytes = code.scalar<tstring>()();
  OP_REQUIRES_OK(context, ToTf(decode(bytes.data(), bytes.size(),
                                      data->flat<int32_t>().data(),
                                      data->NumElements())));
}

class RunLengthGammaEncodeOp : public OpKernel {
 public:
  using OpKernel::OpKernel;

  void Compute(OpKernelContext* context) override {
    const auto data = context->input(0).flat<int32_t>();
    EncodeToScalar(context, RunLengthGammaEncode(data.data(), data.size()));
  }
};

class RunLengthGammaDecodeOp : public OpKernel {
 public:
  using OpKernel::OpKernel;

  void Compute(OpKernelContext* context) override {
    DecodeFromScalar(context, RunLengthGammaDecode);
  }
};

class RunLengthOpBase : public OpKernel {
 public:
  explicit RunLengthOpBase(OpKernelConstruction* context) : OpKernel(context) {
    OP_REQUIRES_OK(context, context->GetAttr("run_length_code",
                                             &options_.run_length_code));
    OP_REQUIRES_OK(context, context->GetAttr("magnitude_code",
                                             &options_.magnitude_code));
    OP_REQUIRES_OK(context,
                   context->GetAttr("use_run_length_for_non_zeros",
                                    &options_.use_run_length_for_non_zeros));
  }

 protected:
  RunLengthOptions options_;
};

class RunLengthEncodeOp : public RunLengthOpBase {
 public:
  using RunLengthOpBase::RunLengthOpBase;

  void Compute(OpKernelContext* context) override {
    const auto data = context->input(0).flat<int32_t>();
    EncodeToScalar(context, RunLengthEncode(data.data(), data.size(), options_));
  }
};

class RunLengthDecodeOp : public RunLengthOpBase {
 public:
  using RunLengthOpBase::RunLengthOpBase;

  void Compute(OpKernelContext* context) override {
    DecodeFromScalar(context, [this](const char* code, size_t size,
                                     int32_t* data, size_t count) {
      return RunLengthDecode(code, size, data, count, options_);
    });
  }
};

REGISTER_KERNEL_BUILDER(Name("RunLengthGammaEncode").Device(DEVICE_CPU),
                        RunLengthGammaEncodeOp);
REGISTER_KERNEL_BUILDER(Name("RunLengthGammaDecode").Device(DEVICE_CPU),
                        RunLengthGammaDecodeOp);
REGISTER_KERNEL_BUILDER(Name("RunLengthEncode").Device(DEVICE_CPU),
                        RunLengthEncodeOp);
REGISTER_KERNEL_BUILDER(Name("RunLengthDecode").Device(DEVICE_CPU),
                        RunLengthDecodeOp);

}  // namespace
}  // namespace tensorcoder
