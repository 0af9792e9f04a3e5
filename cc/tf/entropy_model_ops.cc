// Op definitions of the fused coding ops of the entropy models; their CPU
// kernels are in entropy_model_kernels.cc.
#include "tensorflow/core/framework/common_shape_fns.h"
#include "tensorflow/core/framework/op.h"
#include "tensorflow/core/framework/shape_inference.h"

namespace tensorcoder {
namespace {

using ::tensorflow::shape_inference::InferenceContext;
using ::tensorflow::shape_inference::ShapeHandle;

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

}  // namespace
}  // namespace tensorcoder
