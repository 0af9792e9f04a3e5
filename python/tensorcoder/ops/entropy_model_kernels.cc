// Fused coding ops of the entropy models: EntropyModelEncode takes the
// (offset-shifted) floating-point bottleneck, rounds it, subtracts each
// row's cdf_offset and range-codes every coding unit into one chunked string
// (cc/chunked_coder.h); EntropyModelDecode inverts it. One pass over the
// data and chunks coded in parallel on TensorFlow's thread pool, instead of
// the separate quantize / gather / encode ops of TFC's graph.
#define EIGEN_USE_THREADS

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <iterator>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "cc/cdf_table.h"
#include "cc/chunked_coder.h"
#include "cc/range_decoder.h"
#include "cc/range_encoder.h"
#include "cc/status.h"
#include "python/tensorcoder/ops/kernel_util.h"
#include "tensorflow/core/framework/op.h"
#include "tensorflow/core/framework/op_kernel.h"
#include "tensorflow/core/framework/shape_inference.h"
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
using ::tensorflow::shape_inference::InferenceContext;
using ::tensorflow::shape_inference::ShapeHandle;
namespace errors = ::tensorflow::errors;

REGISTER_OP("EntropyModelEncode")
    .Input("values: T")
    .Input("indexes: int32")
    .Input("cdf: int32")
    .Input("cdf_offset: int32")
    .Output("strings: string")
    .Attr("T: {float, double}")
    .Attr("indexed: bool")
    .SetShapeFn([](InferenceContext* c) {
      ShapeHandle values;
      TF_RETURN_IF_ERROR(c->WithRankAtLeast(c->input(0), 1, &values));
      ShapeHandle strings;
      TF_RETURN_IF_ERROR(c->Subshape(values, 0, -1, &strings));
      c->set_output(0, strings);
      return absl::OkStatus();
    })
    .Doc(R"doc(
Codes each row of `values` ([..., N]) into one string: value v with table row
r is coded as round(v) - cdf_offset[r] (ties to even) against lookup row r
of `cdf`, with the overflow escape. With `indexed`, r = indexes[..., i]
(same shape as values); otherwise r = i mod (number of rows) and `indexes`
is ignored. Values must be finite with magnitude below 2^30.
)doc");

REGISTER_OP("EntropyModelDecode")
    .Input("strings: string")
    .Input("indexes: int32")
    .Input("count: int32")
    .Input("cdf: int32")
    .Input("cdf_offset: int32")
    .Output("values: T")
    .Attr("T: {float, double}")
    .Attr("indexed: bool")
    .Attr("check: bool = true")
    .SetShapeFn([](InferenceContext* c) {
      ShapeHandle count;
      TF_RETURN_IF_ERROR(c->WithRank(c->input(2), 0, &count));
      ShapeHandle out;
      TF_RETURN_IF_ERROR(
          c->Concatenate(c->input(0), c->Vector(c->UnknownDim()), &out));
      c->set_output(0, out);
      return absl::OkStatus();
    })
    .Doc(R"doc(
Decodes strings of EntropyModelEncode into [..., count] values (the rounded
values, cdf_offset added back). With `check`, a string that does not decode
exactly raises DataLossError; without, whatever was decoded is returned
(TFC's decode_sanity_check=False).
)doc");

absl::Status ParseTables(const Tensor& cdf, const Tensor& cdf_offset,
                         CdfTable* table) {
  StatusOr<CdfTable> parsed =
      cdf.dims() == 2
          ? CdfTable::FromMatrix(cdf.flat<int32_t>().data(), cdf.dim_size(0),
                                 cdf.dim_size(1))
          : cdf.dims() == 1
                ? CdfTable::FromFlat(cdf.flat<int32_t>().data(),
                                     cdf.NumElements())
                : StatusOr<CdfTable>(InvalidArgumentError(
                      "`cdf` must be rank 1 or 2, got shape ",
                      cdf.shape().DebugString()));
  TF_RETURN_IF_ERROR(ToTf(parsed.status()));
  *table = *std::move(parsed);
  if (cdf_offset.dims() != 1 ||
      static_cast<size_t>(cdf_offset.NumElements()) != table->num_rows()) {
    return errors::InvalidArgument("`cdf_offset` must have one entry per "
                                   "table row (", table->num_rows(),
                                   "), got shape ",
                                   cdf_offset.shape().DebugString());
  }
  return absl::OkStatus();
}

// Runs fn(task) for task in [0, n) on the CPU pool; returns the first error.
template <typename Fn>
absl::Status RunTasks(OpKernelContext* context, int64_t n, int64_t cost,
                      Fn fn) {
  std::vector<Status> statuses(n);
  auto* workers = context->device()->tensorflow_cpu_worker_threads()->workers;
  workers->ParallelFor(n, cost, [&](int64_t begin, int64_t end) {
    for (int64_t k = begin; k < end; ++k) statuses[k] = fn(k);
  });
  for (const Status& status : statuses) {
    if (!status.ok()) return ToTf(status);
  }
  return absl::OkStatus();
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
    const int64_t num_strings = shape.num_elements();
    if (num_strings == 0) return;
    const auto offsets = context->input(3).flat<int32_t>();
    const T* data = values.flat<T>().data();
    const int32_t* rows = indexed_ ? indexes.flat<int32_t>().data() : nullptr;
    const int64_t num_rows = static_cast<int64_t>(table.num_rows());
    const ChunkLayout layout =
        ChunkLayoutFor(count, indexed_ ? 1 : table.num_rows());
    const int64_t chunks = layout.num_chunks;
    std::vector<std::string> parts(num_strings * chunks);
    OP_REQUIRES_OK(context, RunTasks(
        context, num_strings * chunks, 40 * layout.chunk_size,
        [&](int64_t task) -> Status {
          const int64_t string = task / chunks, chunk = task % chunks;
          const int64_t begin = string * count + chunk * layout.chunk_size;
          const int64_t n = std::min<int64_t>(
              layout.chunk_size, count - chunk * layout.chunk_size);
          std::vector<int32_t> symbols(n);
          for (int64_t i = 0; i < n; ++i) {
            const double v = static_cast<double>(data[begin + i]);
            if (!(std::fabs(v) < 1073741824.0)) {
              return InvalidArgumentError(
                  "value ", v, " at position ", begin + i, " (string ",
                  string, ") is not finite or has magnitude >= 2^30");
            }
            const int64_t row =
                indexed_ ? rows[begin + i]
                         : (chunk * layout.chunk_size + i) % num_rows;
            if (row < 0 || row >= num_rows) {
              return InvalidArgumentError("index ", row, " at position ",
                                          begin + i, " is outside [0, ",
                                          num_rows, ")");
            }
            // |v| < 2^30 and any int32 offset: the difference fits in
            // int64 but not always in int32, the range the coder codes.
            const int64_t symbol =
                static_cast<int64_t>(std::nearbyint(v)) - offsets(row);
            if (symbol < std::numeric_limits<int32_t>::min() ||
                symbol > std::numeric_limits<int32_t>::max()) {
              return InvalidArgumentError(
                  "value ", v, " at position ", begin + i, " minus cdf_offset ",
                  offsets(row), " of row ", row, " is ", symbol,
                  ", outside the int32 range that can be coded");
            }
            symbols[i] = static_cast<int32_t>(symbol);
          }
          TableEncoder encoder(table);
          TC_RETURN_IF_ERROR(indexed_ ? encoder.EncodeIndexed(
                                            rows + begin, symbols.data(), n)
                                      : encoder.EncodeChannel(symbols.data(),
                                                              n));
          parts[task] = encoder.Finish();
          return OkStatus();
        }));
    auto out = strings->flat<tstring>();
    for (int64_t s = 0; s < num_strings; ++s) {
      std::vector<std::string> chunk_strings(
          std::make_move_iterator(parts.begin() + s * chunks),
          std::make_move_iterator(parts.begin() + (s + 1) * chunks));
      out(s) = JoinChunks(chunk_strings);
    }
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
    shape.AddDim(count);
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
    const int64_t num_rows = static_cast<int64_t>(parsed.num_rows());
    const int32_t* rows = indexed_ ? indexes.flat<int32_t>().data() : nullptr;
    if (indexed_) {
      const int64_t total = indexes.NumElements();
      for (int64_t i = 0; i < total; ++i) {
        OP_REQUIRES(context, rows[i] >= 0 && rows[i] < num_rows,
                    errors::InvalidArgument("index ", rows[i], " at position ",
                                            i, " is outside [0, ", num_rows,
                                            ")"));
      }
    }
    const DecodeTable table(std::move(parsed));
    Tensor* output;
    OP_REQUIRES_OK(context, context->allocate_output(0, shape, &output));
    const int64_t num_strings = strings.NumElements();
    if (num_strings == 0) return;
    const auto offsets = context->input(4).flat<int32_t>();
    T* out = output->flat<T>().data();
    const auto in = strings.flat<tstring>();
    const ChunkLayout layout = ChunkLayoutFor(count, indexed_ ? 1 : num_rows);
    const int64_t chunks = layout.num_chunks;
    std::vector<std::vector<std::string_view>> views(num_strings);
    for (int64_t s = 0; s < num_strings; ++s) {
      const Status split =
          SplitChunks(in(s).data(), in(s).size(), chunks, &views[s]);
      if (!split.ok() && !check_) {
        // Unchecked: treat the whole string as chunk 0, the others empty.
        views[s].assign(chunks, std::string_view());
        views[s][0] = std::string_view(in(s).data(), in(s).size());
        continue;
      }
      OP_REQUIRES(context, split.ok(),
                  errors::DataLoss("string ", s, ": ", split.message()));
    }
    OP_REQUIRES_OK(context, RunTasks(
        context, num_strings * chunks, 60 * layout.chunk_size,
        [&](int64_t task) -> Status {
          const int64_t string = task / chunks, chunk = task % chunks;
          const int64_t begin = string * count + chunk * layout.chunk_size;
          const int64_t n = std::min<int64_t>(
              layout.chunk_size, count - chunk * layout.chunk_size);
          std::vector<int32_t> symbols(n, 0);
          const std::string_view view = views[string][chunk];
          Status status =
              indexed_ ? DecodeIndexed(table, view.data(), view.size(),
                                       rows + begin, symbols.data(), n)
                       : DecodeChannel(table, view.data(), view.size(),
                                       symbols.data(), n);
          if (!status.ok() && check_) {
            return Status(status.code(), StrCat("string ", string, ", chunk ",
                                                chunk, ": ",
                                                status.message()));
          }
          for (int64_t i = 0; i < n; ++i) {
            const int64_t row =
                indexed_ ? rows[begin + i]
                         : (chunk * layout.chunk_size + i) % num_rows;
            out[begin + i] = static_cast<T>(static_cast<int64_t>(symbols[i]) +
                                            offsets(row));
          }
          return OkStatus();
        }));
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
