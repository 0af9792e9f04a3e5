// Registration of TensorFlow Compression 1.x's deprecated "unbounded index"
// range coding ops, which TFC 2.x still registers so that graphs and
// SavedModels exported by TFC 1.x's entropy models keep loading. Names,
// inputs, attributes, output dtypes and shape functions are TFC's; the
// kernels (unbounded_kernels.cc) run cc/unbounded_index_coder.h, which
// writes TFC's bytes. New code should use the entropy models.
#include "tensorflow/core/framework/common_shape_fns.h"
#include "tensorflow/core/framework/op.h"
#include "tensorflow/core/framework/shape_inference.h"

namespace tensorcoder {
namespace {

using ::tensorflow::shape_inference::InferenceContext;

REGISTER_OP("UnboundedIndexRangeEncode")
    .Input("data: int32")
    .Input("index: int32")
    .Input("cdf: int32")
    .Input("cdf_size: int32")
    .Input("offset: int32")
    .Output("encoded: string")
    .Attr("precision: int >= 1")
    .Attr("overflow_width: int >= 1")
    .Attr("debug_level: int = 1")
    .SetShapeFn(tensorflow::shape_inference::ScalarShape)
    .Doc(R"doc(
Range-encodes int32 `data` of any value into one string, value i with CDF row
`index[i]` (deprecated TFC 1.x format; prefer the entropy models).

`data` and `index` have the same shape. Row r of the 2-D `cdf` holds a CDF
of `cdf_size[r]` (>= 3) entries, 0 < ... < 2^precision, possibly followed by
padding. With m = cdf_size[r] - 2, the values offset[r] .. offset[r] + m - 1
are coded directly; any other value codes the escape symbol m followed by
its distance from that range in digits of `overflow_width` bits. tensorcoder
writes TensorFlow Compression's bytes, and always checks its arguments
(TFC skipped the checks at debug_level 0).

data: int32 values to encode.
index: int32 row of `cdf` for each value, same shape as `data`.
cdf: int32 matrix of CDF rows, each value divided by 2^precision.
cdf_size: int32 vector: the length of each row's CDF.
offset: int32 vector: the smallest regular value of each row.
encoded: The scalar string.
precision: Bits of the CDF values, in 1..16.
overflow_width: Bits of each escape digit, in 1..16.
debug_level: 0 or 1; accepted for compatibility, the checks always run.
)doc");

REGISTER_OP("UnboundedIndexRangeDecode")
    .Input("encoded: string")
    .Input("index: int32")
    .Input("cdf: int32")
    .Input("cdf_size: int32")
    .Input("offset: int32")
    .Output("decoded: int32")
    .Attr("precision: int >= 1")
    .Attr("overflow_width: int >= 1")
    .Attr("debug_level: int = 1")
    .SetShapeFn([](InferenceContext* c) {
      c->set_output(0, c->input(1));
      return absl::OkStatus();
    })
    .Doc(R"doc(
Decodes a string of UnboundedIndexRangeEncode into an int32 tensor of the
shape of `index`. `index`, `cdf`, `cdf_size`, `offset`, `precision` and
`overflow_width` must equal the encoder's. A corrupt string raises
DataLossError (TFC returned arbitrary values instead).

encoded: Scalar string from UnboundedIndexRangeEncode.
index: int32 row of `cdf` for each value to decode.
cdf: int32 matrix of CDF rows, as for the encoder.
cdf_size: int32 vector, as for the encoder.
offset: int32 vector, as for the encoder.
decoded: int32 tensor of the shape of `index`.
precision: As for the encoder.
overflow_width: As for the encoder.
debug_level: 0 or 1; accepted for compatibility, the checks always run.
)doc");

}  // namespace
}  // namespace tensorcoder
