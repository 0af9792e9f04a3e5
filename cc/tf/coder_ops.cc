// Registration of the entropy-coding ops. Names, inputs, attributes and
// shapes are those of TensorFlow Compression's ops, so graphs and SavedModels
// that use them keep working; the kernels (coder_kernels.cc) run the
// tensorcoder C++ core.
#include "tensorflow/core/framework/common_shape_fns.h"
#include "tensorflow/core/framework/op.h"
#include "tensorflow/core/framework/shape_inference.h"

namespace tensorcoder {
namespace {

using ::tensorflow::shape_inference::InferenceContext;
using ::tensorflow::shape_inference::ShapeHandle;

// Output shape taken from the int32 shape tensor at input `index`.
absl::Status ShapeFromInput(InferenceContext* c, int index) {
  ShapeHandle shape;
  TF_RETURN_IF_ERROR(c->MakeShapeFromShapeTensor(index, &shape));
  c->set_output(0, shape);
  return absl::OkStatus();
}

REGISTER_OP("RangeEncode")
    .Input("data: int16")
    .Input("cdf: int32")
    .Output("encoded: string")
    .Attr("precision: int >= 1")
    .Attr("debug_level: int = 1")
    .SetShapeFn(tensorflow::shape_inference::ScalarShape)
    .Doc(R"doc(
Range-encodes `data` into one string with the CDF rows of `cdf`.

`cdf` has one more axis than `data`; every axis but the last broadcasts into
`data`. Value v of an element is coded as the interval [cdf[..., v],
cdf[..., v + 1]) / 2^precision, so 0 <= v < cdf.shape[-1] - 1.
)doc");

REGISTER_OP("RangeDecode")
    .Input("encoded: string")
    .Input("shape: int32")
    .Input("cdf: int32")
    .Output("decoded: int16")
    .Attr("precision: int >= 1")
    .Attr("debug_level: int = 1")
    .SetShapeFn([](InferenceContext* c) { return ShapeFromInput(c, 1); })
    .Doc(R"doc(
Decodes a string of RangeEncode into a tensor of `shape`; `cdf` and
`precision` must equal the encoder's.
)doc");

REGISTER_OP("CreateRangeEncoder")
    .Input("shape: int32")
    .Input("lookup: int32")
    .Output("handle: variant")
    .SetIsStateful()
    .SetShapeFn(tensorflow::shape_inference::RandomShape)
    .Doc(R"doc(
Creates range encoders, one per element of a tensor of the given `shape`.
`lookup` is a 1-D concatenation or a 2-D stack of CDF rows
[±precision, 0, ..., 2^precision]; a negative precision enables the
overflow escape for that row.
)doc");

REGISTER_OP("EntropyEncodeChannel")
    .Input("handle: variant")
    .Input("value: Tvalue")
    .Output("aliased_handle: variant")
    .Attr("Tvalue: {int32}")
    .SetShapeFn(tensorflow::shape_inference::UnchangedShape)
    .Doc(R"doc(
Encodes `value` (shape: handle.shape + suffix) into the encoders of `handle`;
value j of a stream's slice uses lookup row j mod (number of rows), i.e. the
innermost axis selects the row when it has as many entries as rows.
)doc");

REGISTER_OP("EntropyEncodeIndex")
    .Input("handle: variant")
    .Input("index: Tindex")
    .Input("value: Tvalue")
    .Output("aliased_handle: variant")
    .Attr("Tindex: {int32}")
    .Attr("Tvalue: {int32}")
    .SetShapeFn(tensorflow::shape_inference::UnchangedShape)
    .Doc(R"doc(
Encodes `value` into the encoders of `handle`, each element with the lookup
row given by the same element of `index`.
)doc");

REGISTER_OP("EntropyEncodeFinalize")
    .Input("handle: variant")
    .Output("encoded: string")
    .SetShapeFn(tensorflow::shape_inference::UnchangedShape)
    .Doc("Finalizes the encoders of `handle` and returns their strings.");

REGISTER_OP("CreateRangeDecoder")
    .Input("encoded: string")
    .Input("lookup: int32")
    .Output("handle: variant")
    .SetIsStateful()
    .SetShapeFn(tensorflow::shape_inference::UnchangedShape)
    .Doc("Creates range decoders over the strings of `encoded`.");

absl::Status DecodeShape(InferenceContext* c, int shape_input) {
  ShapeHandle shape = c->input(0);
  c->set_output(0, shape);
  ShapeHandle suffix;
  TF_RETURN_IF_ERROR(c->MakeShapeFromShapeTensor(shape_input, &suffix));
  TF_RETURN_IF_ERROR(c->Concatenate(shape, suffix, &shape));
  c->set_output(1, shape);
  return absl::OkStatus();
}

REGISTER_OP("EntropyDecodeChannel")
    .Input("handle: variant")
    .Input("shape: int32")
    .Output("aliased_handle: variant")
    .Output("decoded: Tdecoded")
    .Attr("Tdecoded: {int32}")
    .SetShapeFn([](InferenceContext* c) { return DecodeShape(c, 1); })
    .Doc("Decodes handle.shape + shape values, rows chosen as when encoding.");

REGISTER_OP("EntropyDecodeIndex")
    .Input("handle: variant")
    .Input("index: Tindex")
    .Input("shape: int32")
    .Output("aliased_handle: variant")
    .Output("decoded: Tdecoded")
    .Attr("Tindex: {int32}")
    .Attr("Tdecoded: {int32}")
    .SetShapeFn([](InferenceContext* c) { return DecodeShape(c, 2); })
    .Doc("Decodes handle.shape + shape values with the rows of `index`.");

REGISTER_OP("EntropyDecodeFinalize")
    .Input("handle: variant")
    .Output("success: bool")
    .SetShapeFn(tensorflow::shape_inference::UnchangedShape)
    .Doc(R"doc(
True for each string that had exactly the length the encoder writes for the
decoded values and ended as the encoder ends a string.
)doc");

REGISTER_OP("PmfToQuantizedCdf")
    .Input("pmf: float")
    .Output("cdf: int32")
    .Attr("precision: int >= 1")
    .SetShapeFn([](InferenceContext* c) {
      ShapeHandle pmf;
      TF_RETURN_IF_ERROR(c->WithRankAtLeast(c->input(0), 1, &pmf));
      auto last = c->Dim(pmf, -1);
      if (c->ValueKnown(last)) {
        ShapeHandle out;
        TF_RETURN_IF_ERROR(
            c->ReplaceDim(pmf, -1, c->MakeDim(c->Value(last) + 1), &out));
        c->set_output(0, out);
      } else {
        ShapeHandle out;
        TF_RETURN_IF_ERROR(c->ReplaceDim(pmf, -1, c->UnknownDim(), &out));
        c->set_output(0, out);
      }
      return absl::OkStatus();
    })
    .Doc("Quantizes each last-axis pmf to an integer CDF of `precision` bits.");

REGISTER_OP("PmfsToCdfLookup")
    .Input("pmf: T")
    .Input("lengths: int32")
    .Output("lookup: int32")
    .Attr("T: {float, double}")
    .Attr("precision: int >= 1")
    .Attr("overflow: bool = true")
    .SetShapeFn([](InferenceContext* c) {
      ShapeHandle pmf;
      TF_RETURN_IF_ERROR(c->WithRank(c->input(0), 2, &pmf));
      ShapeHandle lengths;
      TF_RETURN_IF_ERROR(c->WithRank(c->input(1), 1, &lengths));
      bool overflow;
      TF_RETURN_IF_ERROR(c->GetAttr("overflow", &overflow));
      auto width = c->Dim(pmf, 1);
      if (c->ValueKnown(width)) {
        width = c->MakeDim(c->Value(width) + (overflow ? 3 : 2));
      } else {
        width = c->UnknownDim();
      }
      c->set_output(0, c->Matrix(c->Dim(pmf, 0), width));
      return absl::OkStatus();
    })
    .Doc(R"doc(
Builds a matrix lookup (one CDF row per pmf) for the range coder ops.

Row r uses the first lengths[r] masses of pmf[r] (1 <= lengths[r] <=
pmf.shape[1]). With `overflow`, an escape symbol whose mass is
max(0, 1 - sum of those masses) is appended and the row's precision is stored
negated. Each row is [±precision, 0, c_1, ..., 2^precision], padded to the
common width pmf.shape[1] + 2 (+ 1 with overflow) by repeating 2^precision.
)doc");

REGISTER_OP("RunLengthGammaEncode")
    .Input("data: int32")
    .Output("code: string")
    .SetShapeFn(tensorflow::shape_inference::ScalarShape)
    .Doc("Run-length gamma code of `data` (see PowerLawEntropyModel).");

REGISTER_OP("RunLengthGammaDecode")
    .Input("code: string")
    .Input("shape: int32")
    .Output("data: int32")
    .SetShapeFn([](InferenceContext* c) { return ShapeFromInput(c, 1); })
    .Doc("Decodes a run-length gamma code into a tensor of `shape`.");

REGISTER_OP("RunLengthEncode")
    .Input("data: int32")
    .Output("code: string")
    .Attr("run_length_code: int")
    .Attr("magnitude_code: int")
    .Attr("use_run_length_for_non_zeros: bool")
    .SetShapeFn(tensorflow::shape_inference::ScalarShape)
    .Doc(R"doc(
Run-length code of `data`; a code attribute m >= 0 selects Rice(m), a negative
one the Elias gamma code.
)doc");

REGISTER_OP("RunLengthDecode")
    .Input("code: string")
    .Input("shape: int32")
    .Output("data: int32")
    .Attr("run_length_code: int")
    .Attr("magnitude_code: int")
    .Attr("use_run_length_for_non_zeros: bool")
    .SetShapeFn([](InferenceContext* c) { return ShapeFromInput(c, 1); })
    .Doc("Decodes a RunLengthEncode string into a tensor of `shape`.");

}  // namespace
}  // namespace tensorcoder
