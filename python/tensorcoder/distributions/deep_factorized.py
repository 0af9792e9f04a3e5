"""The flexible factorized density of Ballé et al. (2018), trainable.

Ballé, Minnen, Singh, Hwang and Johnston, "Variational image compression with
a scale hyperprior", ICLR 2018, appendix 6.1: each channel's CDF is a small
monotonic network ``sigmoid(f_K(... f_1(x)))`` with layers
``f_k(x) = H_k x + b_k`` followed (except for the last) by
``x + tanh(a_k) * tanh(x)``. ``H_k = softplus(h_k)`` is positive and
``tanh(a_k) > -1``, so every layer is increasing and the result is a valid CDF.

The distributions here, like all of this package's, are Keras 3 layers and
``tf.Module`` objects (see :mod:`.base`), so a model, layer or module
holding one tracks, trains, checkpoints and saves its weights.
"""

from __future__ import annotations

import math
from typing import Sequence

import keras
import tensorflow as tf

from tensorcoder.distributions import base as base_lib
from tensorcoder.distributions import uniform_noise

__all__ = [
    "DeepFactorized",
    "NoisyDeepFactorized",
]


def log_expm1(x):
  """log(exp(x) - 1), finite for all positive x (x itself above 15, where
  exp(x) - 1 rounds to exp(x))."""
  if isinstance(x, (int, float)):
    return math.log(math.expm1(x)) if x < 15 else float(x)
  x = tf.convert_to_tensor(x)
  return tf.where(x < 15.0, tf.math.log(tf.math.expm1(tf.minimum(x, 15.0))),
                  x)


def _logit(p: tf.Tensor) -> tf.Tensor:
  return tf.math.log(p) - tf.math.log1p(-p)


@keras.saving.register_keras_serializable(package="tensorcoder")
class DeepFactorized(base_lib.Distribution):
  """A flexible, trainable univariate density per batch element.

  The density of appendix 6.1 of Ballé et al. (ICLR 2018), *without* the
  uniform noise of appendix 6.2 (that is :class:`NoisyDeepFactorized`).
  Offers ``prob``, ``log_prob``, ``cdf``, ``log_cdf``, ``survival_function``,
  ``log_survival_function`` and a numerical ``quantile``; ``mode``,
  ``mean`` and ``sample`` raise NotImplementedError (as in TensorFlow
  Compression). The quantization offset is the median's decimal part.

  Args:
    batch_shape: shape of the batch of independent densities (e.g. the
      number of channels, ``(192,)``).
    num_filters: widths of the hidden layers of each density's network.
    init_scale: the densities start close to uniform over about
      ``[-init_scale, init_scale]``.
    allow_nan_stats: accepted for TFC compatibility; ignored.
    dtype: the dtype of the parameters and of computations.
    name: layer name.
  """

  def __init__(self, batch_shape: Sequence[int] = (),
               num_filters: Sequence[int] = (3, 3), init_scale: float = 10.0,
               allow_nan_stats: bool = False, dtype="float32",
               name: str = "DeepFactorized", **kwargs):
    del allow_nan_stats
    batch_shape = tuple(int(d) for d in batch_shape)
    num_filters = tuple(int(f) for f in num_filters)
    if any(f < 1 for f in num_filters):
      raise ValueError(f"num_filters must be positive, got {num_filters}")
    if not init_scale > 0:
      raise ValueError(f"init_scale must be positive, got {init_scale}")
    super().__init__(
        dtype=dtype, name=name, parameters=dict(
            batch_shape=batch_shape, num_filters=num_filters,
            init_scale=float(init_scale)), **kwargs)
    self._batch_shape_tuple = batch_shape
    self._num_filters = num_filters
    self._init_scale = float(init_scale)
    channels = max(1, tf.TensorShape(batch_shape).num_elements())
    filters = (1,) + self._num_filters + (1,)
    scale = self._init_scale ** (1 / (len(self._num_filters) + 1))
    self._matrices, self._biases, self._factors = [], [], []
    for k in range(len(filters) - 1):
      init = log_expm1(1 / scale / filters[k + 1])
      self._matrices.append(self.add_weight(
          name=f"matrix_{k}", shape=(channels, filters[k + 1], filters[k]),
          initializer=keras.initializers.Constant(init),
          dtype=self.variable_dtype))
      self._biases.append(self.add_weight(
          name=f"bias_{k}", shape=(channels, filters[k + 1], 1),
          initializer=keras.initializers.RandomUniform(-0.5, 0.5),
          dtype=self.variable_dtype))
      if k < len(filters) - 2:
        self._factors.append(self.add_weight(
            name=f"factor_{k}", shape=(channels, filters[k + 1], 1),
            initializer="zeros", dtype=self.variable_dtype))
    self._expose_to_modules(self.weights)

  # -- Layer plumbing ------------------------------------------------------

  def get_config(self) -> dict:
    config = super().get_config()
    config.update(batch_shape=list(self._batch_shape_tuple),
                  num_filters=list(self._num_filters),
                  init_scale=self._init_scale)
    return config

  # -- Distribution interface ------------------------------------------------

  @property
  def num_filters(self) -> tuple[int, ...]:
    return self._num_filters

  @property
  def init_scale(self) -> float:
    return self._init_scale

  def _batch_shape(self) -> tf.TensorShape:
    return tf.TensorShape(self._batch_shape_tuple)

  def _to_channels(self, x: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
    """Broadcasts x against the batch shape; returns ([C, 1, N], shape)."""
    shape = tf.broadcast_dynamic_shape(tf.shape(x), self.batch_shape_tensor())
    x = tf.broadcast_to(x, shape)
    channels = max(1, self.batch_shape.num_elements())
    x = tf.reshape(x, [-1, channels])
    return tf.transpose(x)[:, None, :], shape

  def _from_channels(self, y: tf.Tensor, shape: tf.Tensor) -> tf.Tensor:
    return tf.reshape(tf.transpose(y[:, 0, :]), shape)

  def _logits_and_slope(self, x: tf.Tensor, slope: bool,
                        stop_gradient: bool = False):
    """The network's output (logit of the CDF) and, optionally, its
    derivative with respect to x, propagated in forward mode. With
    ``stop_gradient`` the parameters get no gradient (x still does)."""
    read = tf.stop_gradient if stop_gradient else tf.convert_to_tensor
    logits = x
    derivative = tf.ones_like(x) if slope else None
    for k, (matrix, bias) in enumerate(zip(self._matrices, self._biases)):
      weights = tf.nn.softplus(read(matrix))
      logits = tf.linalg.matmul(weights, logits) + read(bias)
      if slope:
        derivative = tf.linalg.matmul(weights, derivative)
      if k < len(self._factors):
        factor = tf.math.tanh(read(self._factors[k]))
        t = tf.math.tanh(logits)
        if slope:
          derivative *= 1 + factor * (1 - t * t)
        logits += factor * t
    return logits, derivative

  def logits_cumulative(self, x, stop_gradient: bool = False) -> tf.Tensor:
    """logit(CDF(x)), broadcast against the batch shape; ``stop_gradient``
    keeps gradients from reaching the density's parameters."""
    x, shape = self._to_channels(self._convert(x))
    return self._from_channels(
        self._logits_and_slope(x, False, stop_gradient)[0], shape)

  def _logits(self, x: tf.Tensor) -> tf.Tensor:
    x, shape = self._to_channels(x)
    return self._from_channels(self._logits_and_slope(x, False)[0], shape)

  def _log_cdf(self, x) -> tf.Tensor:
    return -tf.math.softplus(-self._logits(x))

  def _log_survival_function(self, x) -> tf.Tensor:
    return -tf.math.softplus(self._logits(x))

  def _cdf(self, x) -> tf.Tensor:
    return tf.math.sigmoid(self._logits(x))

  def _survival_function(self, x) -> tf.Tensor:
    return tf.math.sigmoid(-self._logits(x))

  def _log_prob(self, x) -> tf.Tensor:
    x, shape = self._to_channels(x)
    logits, slope = self._logits_and_slope(x, True)
    log_density = (-tf.math.softplus(-logits) - tf.math.softplus(logits) +
                   tf.math.log(slope))
    return self._from_channels(log_density, shape)

  def _prob(self, x) -> tf.Tensor:
    return tf.exp(self._log_prob(x))

  def _solve(self, target_logit) -> tf.Tensor:
    """The x of each batch element with logits_cumulative(x) == target.

    The network is increasing, so a bracket found by doubling followed by
    bisection converges for any target; 64 halvings reach the dtype's
    resolution for brackets up to 2^64 wide. Each loop stops early once an
    iteration leaves the bracket unchanged: from then on every iteration
    would, so the result is that of all 64 (and eager callers, such as a
    model load, do not pay for them).
    """
    channels = max(1, self.batch_shape.num_elements())
    target = tf.broadcast_to(tf.cast(target_logit, self.dtype), [channels])
    target = target[:, None, None]
    def f(v):
      return self._logits_and_slope(v, False)[0]
    def until_fixed(step):
      def body(i, lo, hi, _):
        new_lo, new_hi = step(lo, hi)
        moved = tf.reduce_any(tf.not_equal(new_lo, lo)) | tf.reduce_any(
            tf.not_equal(new_hi, hi))
        return i + 1, new_lo, new_hi, moved
      return lambda lo, hi: tf.while_loop(
          lambda i, lo, hi, moved: (i < 64) & moved, body,
          (0, lo, hi, tf.constant(True)))[1:3]
    def expand(lo, hi):
      return (tf.where(f(lo) > target, 2 * lo, lo),
              tf.where(f(hi) < target, 2 * hi, hi))
    def bisect(lo, hi):
      mid = (lo + hi) / 2
      below = f(mid) < target
      return tf.where(below, mid, lo), tf.where(below, hi, mid)
    lo, hi = until_fixed(expand)(-tf.ones_like(target), tf.ones_like(target))
    lo, hi = until_fixed(bisect)(lo, hi)
    result = tf.reshape((lo + hi) / 2, [-1])
    return tf.reshape(result, self.batch_shape_tensor())

  def _quantile(self, p) -> tf.Tensor:
    """Inverse CDF, found numerically (per batch element; p broadcasts)."""
    if p.shape.rank:
      return tf.map_fn(lambda q: self._solve(_logit(q)), tf.reshape(p, [-1]))
    return self._solve(_logit(p))

  def _quantization_offset(self) -> tf.Tensor:
    # The median (TFC's choice; helpers.quantization_offset keeps its
    # decimal part).
    return tf.stop_gradient(self._solve(0.0))

  def _lower_tail(self, tail_mass) -> tf.Tensor:
    p = tf.cast(tail_mass, self.dtype) / 2
    return tf.stop_gradient(self._solve(_logit(p)))

  def _upper_tail(self, tail_mass) -> tf.Tensor:
    p = tf.cast(tail_mass, self.dtype) / 2
    return tf.stop_gradient(self._solve(-_logit(p)))


class NoisyDeepFactorized(uniform_noise.UniformNoiseAdapter):
  """``DeepFactorized`` plus U(-1/2, 1/2) noise (Ballé et al., ICLR 2018,
  appendix 6.2).

  Takes the arguments of :class:`DeepFactorized`, or ``base=`` an existing
  one to share. The trainable network is ``base``, a sublayer: a Keras
  model, layer or ``tf.Module`` holding this prior tracks its weights.
  """

  def __init__(self, name: str = "NoisyDeepFactorized", **kwargs):
    base = kwargs.pop("base", None)
    if base is None:
      base = DeepFactorized(**kwargs)
    elif kwargs:
      raise ValueError("give either base or DeepFactorized arguments, not "
                       f"both (got {sorted(kwargs)})")
    super().__init__(base, name=name)

  def _log_prob(self, y) -> tf.Tensor:
    # sigmoid(a) - sigmoid(b) = sigmoid(a) sigmoid(-b) (1 - exp(b - a)):
    # exact in both tails, where the plain difference cancels.
    upper = self.base.logits_cumulative(y + 0.5)
    lower = self.base.logits_cumulative(y - 0.5)
    gap = tf.minimum(lower - upper, -1e-30)
    return (-tf.math.softplus(-upper) - tf.math.softplus(lower) +
            tf.math.log(-tf.math.expm1(gap)))
