// CPU kernels of the noise and likelihood ops (noise_ops.cc) over the core's
// cc/noise.h. Elementwise work is split over TensorFlow's CPU thread pool;
// the counter-based generator makes the result independent of the split.
#define EIGEN_USE_THREADS

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <vector>

#include "cc/quantization_noise.h"
#include "cc/quantization_noise_gpu.h"
#include "cc/status.h"
#include "cc/tf/kernel_util.h"
#include "tensorflow/core/framework/op_kernel.h"
#include "tensorflow/core/framework/tensor.h"
#include "tensorflow/core/framework/tensor_shape.h"
#include "tensorflow/core/platform/threadpool.h"
#include "xla/stream_executor/stream.h"

namespace tensorcoder {
namespace {

using ::tensorflow::DEVICE_CPU;
using ::tensorflow::OpKernel;
using ::tensorflow::OpKernelConstruction;
using ::tensorflow::OpKernelContext;
using ::tensorflow::Tensor;
namespace errors = ::tensorflow::errors;

// The two 32-bit Philox key words of a 2-element int32/int64 seed.
absl::Status SeedKey(const Tensor& seed, uint32_t* key0, uint32_t* key1) {
  if (seed.NumElements() != 2 || seed.dims() != 1) {
    return errors::InvalidArgument("`seed` must have shape [2], got ",
                                   seed.shape().DebugString());
  }
  if (seed.dtype() == tensorflow::DT_INT32) {
    *key0 = static_cast<uint32_t>(seed.vec<int32_t>()(0));
    *key1 = static_cast<uint32_t>(seed.vec<int32_t>()(1));
  } else {
    const uint64_t s0 = static_cast<uint64_t>(seed.vec<int64_t>()(0));
    const uint64_t s1 = static_cast<uint64_t>(seed.vec<int64_t>()(1));
    // Low words as for int32 seeds; high words folded in.
    *key0 = static_cast<uint32_t>(s0) ^ (static_cast<uint32_t>(s0 >> 32) * 0x9E3779B9u);
    *key1 = static_cast<uint32_t>(s1) ^ (static_cast<uint32_t>(s1 >> 32) * 0x85EBCA6Bu);
  }
  return absl::OkStatus();
}

// Runs fn(begin, end) over [0, n) on the CPU thread pool; returns the error
// of the lowest failing shard.
template <typename Fn>
absl::Status ParallelElements(OpKernelContext* context, int64_t n,
                              int64_t cost, Fn fn) {
  return ToTf(RunShards(TfRunner(context), static_cast<size_t>(n),
                        static_cast<size_t>(cost),
                        [&fn](size_t begin, size_t end) -> Status {
                          return fn(static_cast<int64_t>(begin),
                                    static_cast<int64_t>(end));
                        }));
}

template <typename T, bool kAdd>
class UniformNoiseOp : public OpKernel {
 public:
  using OpKernel::OpKernel;

  void Compute(OpKernelContext* context) override {
    const Tensor& x = context->input(0);
    uint32_t key0, key1;
    OP_REQUIRES_OK(context, SeedKey(context->input(1), &key0, &key1));
    Tensor* output;
    OP_REQUIRES_OK(context, context->allocate_output(0, x.shape(), &output));
    const T* in = x.flat<T>().data();
    T* out = output->flat<T>().data();
    OP_REQUIRES_OK(context, ParallelElements(
        context, x.NumElements(), 20, [&](int64_t begin, int64_t end) {
          if (kAdd) {
            AddUniformNoise<T>(key0, key1, begin, in + begin, out + begin,
                               end - begin);
          } else {
            UniformNoise<T>(key0, key1, begin, out + begin, end - begin);
          }
          return OkStatus();
        }));
  }
};

#define REGISTER(T)                                                    \
  REGISTER_KERNEL_BUILDER(                                             \
      Name("UniformNoise").Device(DEVICE_CPU).TypeConstraint<T>("T"),  \
      UniformNoiseOp<T, false>);                                       \
  REGISTER_KERNEL_BUILDER(                                             \
      Name("AddUniformNoise").Device(DEVICE_CPU).TypeConstraint<T>("T"), \
      UniformNoiseOp<T, true>);
REGISTER(float)
REGISTER(double)
#undef REGISTER

// TFC's seed for stochastic_round: any number of int32 values. Up to two
// form the key; more are mixed in; none means a key from the clock.
void StochasticRoundKey(const Tensor& seed_tensor, uint32_t* key0,
                        uint32_t* key1) {
  const auto seed = seed_tensor.flat<int32_t>();
  if (seed.size() == 0) {
    const uint64_t now =
        std::chrono::high_resolution_clock::now().time_since_epoch().count();
    *key0 = static_cast<uint32_t>(now);
    *key1 = static_cast<uint32_t>(now >> 32);
    return;
  }
  *key0 = static_cast<uint32_t>(seed(0));
  *key1 = seed.size() > 1 ? static_cast<uint32_t>(seed(1)) : 0;
  for (int64_t i = 2; i < seed.size(); ++i) {
    *key0 = (*key0 ^ static_cast<uint32_t>(seed(i))) * 16777619u;
    *key1 = (*key1 + static_cast<uint32_t>(seed(i))) * 2654435761u;
  }
}

template <typename T>
class StochasticRoundOp : public OpKernel {
 public:
  using OpKernel::OpKernel;

  void Compute(OpKernelContext* context) override {
    const Tensor& inputs = context->input(0);
    OP_REQUIRES(context, context->input(1).dims() == 0,
                errors::InvalidArgument("`step_size` must be a scalar"));
    const float step = context->input(1).scalar<float>()();
    uint32_t key0, key1;
    StochasticRoundKey(context->input(2), &key0, &key1);
    Tensor* output;
    OP_REQUIRES_OK(context,
                   context->allocate_output(0, inputs.shape(), &output));
    const auto in = inputs.flat<T>();
    int32_t* out = output->flat<int32_t>().data();
    OP_REQUIRES_OK(context, ParallelElements(
        context, in.size(), 30, [&](int64_t begin, int64_t end) {
          std::vector<float> x(end - begin);
          for (int64_t i = begin; i < end; ++i) {
            x[i - begin] = static_cast<float>(in(i));
          }
          return StochasticRound(key0, key1, begin, x.data(), step,
                                 out + begin, end - begin);
        }));
  }
};

REGISTER_KERNEL_BUILDER(
    Name("StochasticRound").Device(DEVICE_CPU).TypeConstraint<float>("T"),
    StochasticRoundOp<float>);
REGISTER_KERNEL_BUILDER(Name("StochasticRound")
                            .Device(DEVICE_CPU)
                            .TypeConstraint<Eigen::half>("T"),
                        StochasticRoundOp<Eigen::half>);
REGISTER_KERNEL_BUILDER(Name("StochasticRound")
                            .Device(DEVICE_CPU)
                            .TypeConstraint<tensorflow::bfloat16>("T"),
                        StochasticRoundOp<tensorflow::bfloat16>);

absl::Status SameShapes(OpKernelContext* context, int count) {
  for (int i = 1; i < count; ++i) {
    if (context->input(i).shape() != context->input(0).shape()) {
      return errors::InvalidArgument(
          "inputs must have one shape (the Python wrapper broadcasts): ",
          context->input(0).shape().DebugString(), " vs ",
          context->input(i).shape().DebugString());
    }
  }
  return absl::OkStatus();
}

template <typename T>
class NoisyNormalLogLikelihoodOp : public OpKernel {
 public:
  using OpKernel::OpKernel;

  void Compute(OpKernelContext* context) override {
    OP_REQUIRES_OK(context, SameShapes(context, 3));
    const Tensor& y = context->input(0);
    Tensor* output;
    OP_REQUIRES_OK(context, context->allocate_output(0, y.shape(), &output));
    const T* yp = y.flat<T>().data();
    const T* lp = context->input(1).flat<T>().data();
    const T* sp = context->input(2).flat<T>().data();
    T* out = output->flat<T>().data();
    OP_REQUIRES_OK(context, ParallelElements(
        context, y.NumElements(), 200, [&](int64_t b, int64_t e) {
          return NoisyNormalLogLikelihood(yp + b, lp + b, sp + b, out + b,
                                          e - b, b);
        }));
  }
};

template <typename T>
class NoisyNormalLogLikelihoodGradOp : public OpKernel {
 public:
  using OpKernel::OpKernel;

  void Compute(OpKernelContext* context) override {
    OP_REQUIRES_OK(context, SameShapes(context, 4));
    const Tensor& y = context->input(0);
    Tensor *gy, *gl, *gs;
    OP_REQUIRES_OK(context, context->allocate_output(0, y.shape(), &gy));
    OP_REQUIRES_OK(context, context->allocate_output(1, y.shape(), &gl));
    OP_REQUIRES_OK(context, context->allocate_output(2, y.shape(), &gs));
    const T* yp = y.flat<T>().data();
    const T* lp = context->input(1).flat<T>().data();
    const T* sp = context->input(2).flat<T>().data();
    const T* up = context->input(3).flat<T>().data();
    T* gyp = gy->flat<T>().data();
    T* glp = gl->flat<T>().data();
    T* gsp = gs->flat<T>().data();
    OP_REQUIRES_OK(context, ParallelElements(
        context, y.NumElements(), 300, [&](int64_t b, int64_t e) {
          return NoisyNormalLogLikelihoodGrad(yp + b, lp + b, sp + b, up + b,
                                              gyp + b, glp + b, gsp + b,
                                              e - b, b);
        }));
  }
};

#define REGISTER(T)                                                       \
  REGISTER_KERNEL_BUILDER(Name("NoisyNormalLogLikelihood")                \
                              .Device(DEVICE_CPU)                         \
                              .TypeConstraint<T>("T"),                    \
                          NoisyNormalLogLikelihoodOp<T>);                 \
  REGISTER_KERNEL_BUILDER(Name("NoisyNormalLogLikelihoodGrad")            \
                              .Device(DEVICE_CPU)                         \
                              .TypeConstraint<T>("T"),                    \
                          NoisyNormalLogLikelihoodGradOp<T>);
REGISTER(float)
REGISTER(double)
#undef REGISTER


// ---------------------------------------------------------------------------
// GPU kernels: the same computations through cc/quantization_noise_gpu.h, on
// the op's CUDA stream. Seeds and scalars stay in host memory.
#ifdef TENSORCODER_WITH_CUDA

using ::tensorflow::DEVICE_GPU;

void* CudaStream(OpKernelContext* context) {
  auto* device_context = context->op_device_context();
  if (device_context == nullptr || device_context->stream() == nullptr) {
    return nullptr;
  }
  return device_context->stream()->platform_specific_handle().stream;
}

template <typename T, bool kAdd>
class UniformNoiseGpuOp : public OpKernel {
 public:
  using OpKernel::OpKernel;

  void Compute(OpKernelContext* context) override {
    const Tensor& x = context->input(0);
    uint32_t key0, key1;
    OP_REQUIRES_OK(context, SeedKey(context->input(1), &key0, &key1));
    Tensor* output;
    OP_REQUIRES_OK(context, context->allocate_output(0, x.shape(), &output));
    OP_REQUIRES_OK(context, ToTf(UniformNoiseGpu<T>(
                                key0, key1, kAdd ? x.flat<T>().data() : nullptr,
                                output->flat<T>().data(), x.NumElements(),
                                CudaStream(context))));
  }
};

#define REGISTER(T)                                                       \
  REGISTER_KERNEL_BUILDER(Name("UniformNoise")                            \
                              .Device(DEVICE_GPU)                         \
                              .HostMemory("seed")                         \
                              .TypeConstraint<T>("T"),                    \
                          UniformNoiseGpuOp<T, false>);                   \
  REGISTER_KERNEL_BUILDER(Name("AddUniformNoise")                         \
                              .Device(DEVICE_GPU)                         \
                              .HostMemory("seed")                         \
                              .TypeConstraint<T>("T"),                    \
                          UniformNoiseGpuOp<T, true>);
REGISTER(float)
REGISTER(double)
#undef REGISTER

template <typename T>
class NoisyNormalLogLikelihoodGpuOp : public OpKernel {
 public:
  using OpKernel::OpKernel;

  void Compute(OpKernelContext* context) override {
    OP_REQUIRES_OK(context, SameShapes(context, 3));
    const Tensor& y = context->input(0);
    Tensor* output;
    OP_REQUIRES_OK(context, context->allocate_output(0, y.shape(), &output));
    OP_REQUIRES_OK(context, ToTf(NoisyNormalLogLikelihoodGpu<T>(
                                y.flat<T>().data(),
                                context->input(1).flat<T>().data(),
                                context->input(2).flat<T>().data(),
                                output->flat<T>().data(), y.NumElements(),
                                CudaStream(context))));
  }
};

template <typename T>
class NoisyNormalLogLikelihoodGradGpuOp : public OpKernel {
 public:
  using OpKernel::OpKernel;

  void Compute(OpKernelContext* context) override {
    OP_REQUIRES_OK(context, SameShapes(context, 4));
    const Tensor& y = context->input(0);
    Tensor *gy, *gl, *gs;
    OP_REQUIRES_OK(context, context->allocate_output(0, y.shape(), &gy));
    OP_REQUIRES_OK(context, context->allocate_output(1, y.shape(), &gl));
    OP_REQUIRES_OK(context, context->allocate_output(2, y.shape(), &gs));
    OP_REQUIRES_OK(context, ToTf(NoisyNormalLogLikelihoodGradGpu<T>(
                                y.flat<T>().data(),
                                context->input(1).flat<T>().data(),
                                context->input(2).flat<T>().data(),
                                context->input(3).flat<T>().data(),
                                gy->flat<T>().data(), gl->flat<T>().data(),
                                gs->flat<T>().data(), y.NumElements(),
                                CudaStream(context))));
  }
};

#define REGISTER(T)                                                       \
  REGISTER_KERNEL_BUILDER(Name("NoisyNormalLogLikelihood")                \
                              .Device(DEVICE_GPU)                         \
                              .TypeConstraint<T>("T"),                    \
                          NoisyNormalLogLikelihoodGpuOp<T>);              \
  REGISTER_KERNEL_BUILDER(Name("NoisyNormalLogLikelihoodGrad")            \
                              .Device(DEVICE_GPU)                         \
                              .TypeConstraint<T>("T"),                    \
                          NoisyNormalLogLikelihoodGradGpuOp<T>);
REGISTER(float)
REGISTER(double)
#undef REGISTER

class StochasticRoundGpuOp : public OpKernel {
 public:
  using OpKernel::OpKernel;

  void Compute(OpKernelContext* context) override {
    const Tensor& inputs = context->input(0);
    OP_REQUIRES(context, context->input(1).dims() == 0,
                errors::InvalidArgument("`step_size` must be a scalar"));
    uint32_t key0, key1;
    StochasticRoundKey(context->input(2), &key0, &key1);
    Tensor* output;
    OP_REQUIRES_OK(context,
                   context->allocate_output(0, inputs.shape(), &output));
    OP_REQUIRES_OK(context, ToTf(StochasticRoundGpu(
                                key0, key1,
                                inputs.flat<float>().data(),
                                context->input(1).scalar<float>()(),
                                output->flat<int32_t>().data(),
                                inputs.NumElements(), CudaStream(context))));
  }
};

REGISTER_KERNEL_BUILDER(Name("StochasticRound")
                            .Device(DEVICE_GPU)
                            .HostMemory("step_size")
                            .HostMemory("seed")
                            .TypeConstraint<float>("T"),
                        StochasticRoundGpuOp);

#endif  // TENSORCODER_WITH_CUDA

}  // namespace
}  // namespace tensorcoder
