// Registration of the training-noise and likelihood ops: uniform noise and
// stochastic rounding from a counter-based generator (the same values on CPU
// and GPU for the same seed), and the fused noisy-normal log-likelihood with
// its gradient. Kernels: noise_kernels.cc (CPU), noise_kernels_gpu.cc (CUDA).
#include "tensorflow/core/framework/common_shape_fns.h"
#include "tensorflow/core/framework/op.h"
#include "tensorflow/core/framework/shape_inference.h"

namespace tensorcoder {
namespace {

using ::tensorflow::shape_inference::InferenceContext;
using ::tensorflow::shape_inference::ShapeHandle;

absl::Status SeedShape(InferenceContext* c, int input) {
  ShapeHandle seed;
  TF_RETURN_IF_ERROR(c->WithRank(c->input(input), 1, &seed));
  ::tensorflow::shape_inference::DimensionHandle unused;
  return c->WithValue(c->Dim(seed, 0), 2, &unused);
}

REGISTER_OP("UniformNoise")
    .Input("input: T")
    .Input("seed: Tseed")
    .Output("noise: T")
    .Attr("T: {float, double}")
    .Attr("Tseed: {int32, int64} = DT_INT32")
    .SetShapeFn([](InferenceContext* c) {
      TF_RETURN_IF_ERROR(SeedShape(c, 1));
      c->set_output(0, c->input(0));
      return absl::OkStatus();
    })
    .Doc(R"doc(
Noise u ~ U(-1/2, 1/2) of the shape and dtype of `input` (its values are not
read). Element i draws from Philox4x32-10 with key `seed` and counter i, so
the result depends only on the seed and the shape: identical on CPU and GPU.
)doc");

REGISTER_OP("AddUniformNoise")
    .Input("x: T")
    .Input("seed: Tseed")
    .Output("y: T")
    .Attr("T: {float, double}")
    .Attr("Tseed: {int32, int64} = DT_INT32")
    .SetShapeFn([](InferenceContext* c) {
      TF_RETURN_IF_ERROR(SeedShape(c, 1));
      c->set_output(0, c->input(0));
      return absl::OkStatus();
    })
    .Doc("x + UniformNoise(x, seed); the gradient with respect to x is 1.");

REGISTER_OP("StochasticRound")
    .Input("inputs: T")
    .Input("step_size: float32")
    .Input("seed: int32")
    .Output("outputs: int32")
    .Attr("T: {bfloat16, float16, float32}")
    .SetShapeFn(tensorflow::shape_inference::UnchangedShape)
    .Doc(R"doc(
Rounds inputs / step_size to floor(x) + 1 with probability x - floor(x), else
floor(x), with the counter-based generator keyed by `seed` (up to 2 values;
more are mixed into 2; none: seeded from the clock).
)doc");

REGISTER_OP("NoisyNormalLogLikelihood")
    .Input("y: T")
    .Input("loc: T")
    .Input("scale: T")
    .Output("log_likelihood: T")
    .Attr("T: {float, double}")
    .SetShapeFn([](InferenceContext* c) {
      ShapeHandle shape;
      TF_RETURN_IF_ERROR(c->Merge(c->input(0), c->input(1), &shape));
      TF_RETURN_IF_ERROR(c->Merge(shape, c->input(2), &shape));
      c->set_output(0, shape);
      return absl::OkStatus();
    })
    .Doc(R"doc(
log(Phi((y - loc + 1/2) / scale) - Phi((y - loc - 1/2) / scale)): the log
density of a normal convolved with U(-1/2, 1/2), stable in both tails.
Inputs must have one shape (the Python wrapper broadcasts).
)doc");

REGISTER_OP("NoisyNormalLogLikelihoodGrad")
    .Input("y: T")
    .Input("loc: T")
    .Input("scale: T")
    .Input("upstream: T")
    .Output("grad_y: T")
    .Output("grad_loc: T")
    .Output("grad_scale: T")
    .Attr("T: {float, double}")
    .SetShapeFn([](InferenceContext* c) {
      for (int i = 0; i < 3; ++i) c->set_output(i, c->input(0));
      return absl::OkStatus();
    })
    .Doc("Gradients of NoisyNormalLogLikelihood times `upstream`.");

}  // namespace
}  // namespace tensorcoder
