"""The flexible factorized density of Ballé et al. (2018), trainable.

Ballé, Minnen, Singh, Hwang and Johnston, "Variational image compression with
a scale hyperprior", ICLR 2018, appendix 6.1: each channel's CDF is a small
monotonic network ``sigmoid(f_K(... f_1(x)))`` with layers
``f_k(x) = H_k x + b_k`` followed (except for the last) by
``x + tanh(a_k) * tanh(x)``. ``H_k = softplus(h_k)`` is positive and
``tanh(a_k) > -1``, so every layer is increasing and the result is a valid CDF.

The distributions here are Keras 3 layers, so that a model (or entropy model)
holding one tracks, trains, saves and restores its weights; they also offer
the distribution interface of :mod:`.base`.
"""

from __future__ import annotations

import math
from typing import Sequence

import keras
import tensorflow as tf

from tensorcoder.distributions import uniform_noise


def _logit(p: tf.Tensor) -> tf.Tensor:
  return tf.math.log(p) - tf.math.log1p(-p)


@keras.saving.register_keras_serializable(package="tensorcoder")
class DeepFactorized(keras.layers.Layer):
  """A flexible, trainable univariate density per batch element.

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
    super().__init__(name=name, dtype=dtype, autocast=False, **kwargs)
    del allow_nan_stats
    self._batch_shape = tf.TensorShape([int(d) for d in batch_shape])
    self._num_filters = tuple(int(f) for f in num_filters)
    if any(f < 1 for f in self._num_filters):
      raise ValueError(f"num_filters must be positive, got {num_filters}")
    if not init_scale > 0:
      raise ValueError(f"init_scale must be positive, got {init_scale}")
    self._init_scale = float(init_scale)
    channels = max(1, self._batch_shape.num_elements())
    filters = (1,) + self._num_filters + (1,)
    scale = self._init_scale ** (1 / (len(self._num_filters) + 1))
    self._matrices, self._biases, self._factors = [], [], []
    for k in range(len(filters) - 1):
      init = math.log(math.expm1(1 / scale / filters[k + 1]))
      self._matrices.append(self.add_weight(
          name=f"matrix_{k}", shape=(channels, filters[k + 1], filters[k]),
          initializer=keras.initializers.Constant(init), dtype=self.dtype))
      self._biases.append(self.add_weight(
          name=f"bias_{k}", shape=(channels, filters[k + 1], 1),
          initializer=keras.initializers.RandomUniform(-0.5, 0.5),
          dtype=self.dtype))
      if k < len(filters) - 2:
        self._factors.append(self.add_weight(
            name=f"factor_{k}", shape=(channels, filters[k + 1], 1),
            initializer="zeros", dtype=self.dtype))
    self.built = True

  # -- Layer plumbing ------------------------------------------------------

  def get_config(self) -> dict:
    config = super().get_config()
    config.update(batch_shape=self._batch_shape.as_list(),
                  num_filters=list(self._num_filters),
                  init_scale=self._init_scale)
    return config

  def call(self, inputs):
    """As a layer, returns the likelihood (density) of ``inputs``."""
    return self.prob(inputs)

  # -- Distribution interface ------------------------------------------------

  @property
  def num_filters(self) -> tuple[int, ...]:
    return self._num_filters

  @property
  def init_scale(self) -> float:
    return self._init_scale

  @property
  def batch_shape(self) -> tf.TensorShape:
    return self._batch_shape

  def batch_shape_tensor(self) -> tf.Tensor:
    return tf.constant(self._batch_shape.as_list(), tf.int32)

  @property
  def event_shape(self) -> tf.TensorShape:
    return tf.TensorShape([])

  @property
  def dtype(self) -> tf.DType:
    return tf.as_dtype(self.variable_dtype)

  @property
  def parameters(self) -> dict:
    return dict(batch_shape=self._batch_shape, num_filters=self._num_filters,
                init_scale=self._init_scale)

  def _to_channels(self, x) -> tuple[tf.Tensor, tf.Tensor]:
    """Broadcasts x against the batch shape; returns ([C, 1, N], shape)."""
    x = tf.convert_to_tensor(x, self.dtype)
    shape = tf.broadcast_dynamic_shape(tf.shape(x), self.batch_shape_tensor())
    x = tf.broadcast_to(x, shape)
    channels = max(1, self._batch_shape.num_elements())
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
    x, shape = self._to_channels(x)
    return self._from_channels(
        self._logits_and_slope(x, False, stop_gradient)[0], shape)

  def log_cdf(self, x) -> tf.Tensor:
    return -tf.math.softplus(-self.logits_cumulative(x))

  def log_survival_function(self, x) -> tf.Tensor:
    return -tf.math.softplus(self.logits_cumulative(x))

  def cdf(self, x) -> tf.Tensor:
    return tf.math.sigmoid(self.logits_cumulative(x))

  def survival_function(self, x) -> tf.Tensor:
    return tf.math.sigmoid(-self.logits_cumulative(x))

  def log_prob(self, x) -> tf.Tensor:
    x, shape = self._to_channels(x)
    logits, slope = self._logits_and_slope(x, True)
    log_density = (-tf.math.softplus(-logits) - tf.math.softplus(logits) +
                   tf.math.log(slope))
    return self._from_channels(log_density, shape)

  def prob(self, x) -> tf.Tensor:
    return tf.exp(self.log_prob(x))

  def _solve(self, target_logit) -> tf.Tensor:
    """The x of each batch element with logits_cumulative(x) == target.

    The network is increasing, so a bracket found by doubling followed by
    bisection converges for any target; 64 halvings reach the dtype's
    resolution for brackets up to 2^64 wide.
    """
    channels = max(1, self._batch_shape.num_elements())
    target = tf.broadcast_to(tf.cast(target_logit, self.dtype), [channels])
    target = target[:, None, None]
    def f(v):
      return self._logits_and_slope(v, False)[0]
    lo = -tf.ones_like(target)
    hi = tf.ones_like(target)
    def expand(i, lo, hi):
      lo = tf.where(f(lo) > target, 2 * lo, lo)
      hi = tf.where(f(hi) < target, 2 * hi, hi)
      return i + 1, lo, hi
    _, lo, hi = tf.while_loop(lambda i, *_: i < 64, expand, (0, lo, hi))
    def bisect(i, lo, hi):
      mid = (lo + hi) / 2
      below = f(mid) < target
      return i + 1, tf.where(below, mid, lo), tf.where(below, hi, mid)
    _, lo, hi = tf.while_loop(lambda i, *_: i < 64, bisect, (0, lo, hi))
    result = tf.reshape((lo + hi) / 2, [-1])
    return tf.reshape(result, self.batch_shape_tensor())

  def quantile(self, p) -> tf.Tensor:
    """Inverse CDF, found numerically (per batch element; p broadcasts)."""
    p = tf.convert_to_tensor(p, self.dtype)
    if p.shape.rank:
      return tf.map_fn(lambda q: self._solve(_logit(q)), tf.reshape(p, [-1]))
    return self._solve(_logit(p))

  def _quantization_offset(self) -> tf.Tensor:
    return tf.stop_gradient(self._solve(0.0))

  def _lower_tail(self, tail_mass) -> tf.Tensor:
    p = tf.cast(tail_mass, self.dtype) / 2
    return tf.stop_gradient(self._solve(_logit(p)))

  def _upper_tail(self, tail_mass) -> tf.Tensor:
    p = tf.cast(tail_mass, self.dtype) / 2
    return tf.stop_gradient(self._solve(-_logit(p)))


class NoisyDeepFactorized(uniform_noise.UniformNoiseAdapter):
  """``DeepFactorized`` plus U(-1/2, 1/2) noise (arguments as DeepFactorized).

  The trainable network is ``base`` (a Keras layer); a model holding this
  adapter should also hold ``base`` (the entropy models do it for you).
  """

  def __init__(self, name: str = "NoisyDeepFactorized", **kwargs):
    base = kwargs.pop("base", None) or DeepFactorized(**kwargs)
    super().__init__(base, name=name)

  def _median(self) -> tf.Tensor:
    return self.base._quantization_offset()  # pylint: disable=protected-access

  def log_prob(self, y) -> tf.Tensor:
    # sigmoid(a) - sigmoid(b) = sigmoid(a) sigmoid(-b) (1 - exp(b - a)):
    # exact in both tails, where the plain difference cancels.
    y = tf.convert_to_tensor(y, self.dtype)
    upper = self.base.logits_cumulative(y + 0.5)
    lower = self.base.logits_cumulative(y - 0.5)
    gap = tf.minimum(lower - upper, -1e-30)
    return (-tf.math.softplus(-upper) - tf.math.softplus(lower) +
            tf.math.log(-tf.math.expm1(gap)))

  @property
  def trainable_variables(self):
    return tuple(self.base.trainable_variables)

