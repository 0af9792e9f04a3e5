"""Training-time quantization noise and the fused noisy-normal likelihood.

Entropy models train with additive uniform noise in place of rounding
(Ballé et al. 2017, "End-to-end optimized image compression"). These ops draw
that noise from a counter-based generator (Philox4x32-10, Salmon et al. 2011)
keyed by a stateless seed and the element's position, so a seed gives the
same noise on CPU and GPU and under any threading. The fused likelihood
computes log P(y) for y = x + u, x ~ N(loc, scale^2), u ~ U(-1/2, 1/2), in one
kernel with analytic gradients, accurate in both tails.
"""

from __future__ import annotations

import tensorflow as tf

from tensorcoder.ops import _library

_ops = _library.ops
_NATIVE = (tf.float32, tf.float64)


def _seed(seed) -> tf.Tensor:
  seed = tf.convert_to_tensor(seed)
  if seed.dtype not in (tf.int32, tf.int64):
    raise TypeError(f"seed must be int32 or int64, got {seed.dtype}")
  return tf.reshape(seed, [2])


def uniform_noise(x, seed, name: str | None = None) -> tf.Tensor:
  """Noise u ~ U(-1/2, 1/2) with the shape and dtype of ``x``.

  Args:
    x: a floating-point tensor; only its shape and dtype are used.
    seed: two int32 or int64 values; the same seed and shape give the same
      noise on every device.
    name: optional op name.
  """
  with tf.name_scope(name or "uniform_noise"):
    x = tf.convert_to_tensor(x)
    if x.dtype in _NATIVE:
      return _ops.uniform_noise(x, _seed(seed))
    # float16 / bfloat16: drawn in float32, then rounded to x's dtype.
    return tf.cast(_ops.uniform_noise(tf.cast(x, tf.float32), _seed(seed)),
                   x.dtype)


def add_uniform_noise(x, seed, name: str | None = None) -> tf.Tensor:
  """``x + uniform_noise(x, seed)``; its gradient with respect to x is 1."""
  with tf.name_scope(name or "add_uniform_noise"):
    x = tf.convert_to_tensor(x)
    if x.dtype in _NATIVE:
      return _ops.add_uniform_noise(x, _seed(seed))
    return x + uniform_noise(x, seed)


def stochastic_round(inputs, step_size, seed, name: str | None = None):
  """Rounds ``inputs / step_size`` up with probability equal to its
  fractional part (TFC's signature); int32 output. ``seed`` holds up to two
  int32 values (none: seeded from the clock)."""
  return _ops.stochastic_round(inputs, step_size, seed, name=name)


def noisy_normal_log_likelihood(y, loc, scale, name: str | None = None):
  """log(Phi((y - loc + 1/2) / scale) - Phi((y - loc - 1/2) / scale)).

  Broadcasts its arguments; float32 or float64. Gradients with respect to
  y, loc and scale are analytic and finite in the tails.
  """
  with tf.name_scope(name or "noisy_normal_log_likelihood"):
    y = tf.convert_to_tensor(y)
    dtype = y.dtype if y.dtype in _NATIVE else tf.float32
    y, loc, scale = (tf.cast(tf.convert_to_tensor(v), dtype)
                     for v in (y, loc, scale))
    shape = tf.broadcast_dynamic_shape(
        tf.shape(y), tf.broadcast_dynamic_shape(tf.shape(loc), tf.shape(scale)))
    # broadcast_to's gradient sums over the broadcast axes.
    result = _ops.noisy_normal_log_likelihood(tf.broadcast_to(y, shape),
                                              tf.broadcast_to(loc, shape),
                                              tf.broadcast_to(scale, shape))
    return result


@tf.RegisterGradient("AddUniformNoise")
def _add_uniform_noise_grad(op, grad):
  del op
  return grad, None


@tf.RegisterGradient("UniformNoise")
def _uniform_noise_grad(op, grad):
  del grad
  return tf.zeros_like(op.inputs[0]), None


@tf.RegisterGradient("NoisyNormalLogLikelihood")
def _noisy_normal_log_likelihood_grad(op, grad):
  y, loc, scale = op.inputs
  return _ops.noisy_normal_log_likelihood_grad(y, loc, scale, grad)


tf.no_gradient("StochasticRound")
