"""Distributions convolved with uniform noise U(-1/2, 1/2).

During training, entropy models replace rounding by additive uniform noise
(Ballé, Laparra and Simoncelli, "End-to-end optimized image compression",
ICLR 2017); the density of the noisy variable, ``F(y + 1/2) - F(y - 1/2)``
with F the base CDF, equals the probability mass the quantized variable gets
at integers, which makes the training rate an upper bound matching the
coded rate (Ballé et al., "Variational image compression with a scale
hyperprior", ICLR 2018).
"""

from __future__ import annotations

import math

import tensorflow as tf

from tensorcoder.distributions import base


def _log_diff_exp(a: tf.Tensor, b: tf.Tensor) -> tf.Tensor:
  """log(exp(a) - exp(b)) for a >= b, accurate when b is close to a."""
  d = tf.minimum(b - a, 0.0)
  safe = tf.minimum(d, -1e-30)  # log(-expm1(0)) = -inf, only for zero mass.
  near = tf.math.log(-tf.math.expm1(safe))
  far = tf.math.log1p(-tf.exp(tf.minimum(d, -math.log(2))))
  return a + tf.where(d > -math.log(2), near, far)


class UniformNoiseAdapter(base.Adapter):
  """The distribution of X + U, X ~ ``base``, U ~ U(-1/2, 1/2) independent.

  ``log_prob`` takes the difference of the base's log CDFs below the base's
  median and of its log survival functions above it, so the mass of far-out
  bins is not lost to cancellation. The tails and quantization offset of the
  base are used for the table ranges (:mod:`.helpers`).
  """

  def __init__(self, base_distribution, name: str | None = None):
    super().__init__(base_distribution, name=name or "UniformNoiseAdapter")

  def _median(self) -> tf.Tensor:
    return self.base.quantile(tf.constant(0.5, self.dtype))

  def log_prob(self, y) -> tf.Tensor:
    y = tf.convert_to_tensor(y, self.dtype)
    upper = y >= self._median()
    lower_bin = _log_diff_exp(self.base.log_cdf(y + 0.5),
                              self.base.log_cdf(y - 0.5))
    upper_bin = _log_diff_exp(self.base.log_survival_function(y - 0.5),
                              self.base.log_survival_function(y + 0.5))
    return tf.where(upper, upper_bin, lower_bin)

  def prob(self, y) -> tf.Tensor:
    return tf.exp(self.log_prob(y))

  def cdf(self, y):
    raise NotImplementedError("the CDF of a noise-adapted distribution is "
                              "not provided (entropy models do not need it)")

  def quantile(self, p):
    raise NotImplementedError("the quantile of a noise-adapted distribution "
                              "is not provided; use helpers.lower_tail/"
                              "upper_tail, which use the base's")

  def _quantization_offset(self) -> tf.Tensor:
    from tensorcoder.distributions import helpers  # pylint: disable=g-import-not-at-top
    return helpers.quantization_offset(self.base)

  def _lower_tail(self, tail_mass) -> tf.Tensor:
    from tensorcoder.distributions import helpers  # pylint: disable=g-import-not-at-top
    return helpers.lower_tail(self.base, tail_mass)

  def _upper_tail(self, tail_mass) -> tf.Tensor:
    from tensorcoder.distributions import helpers  # pylint: disable=g-import-not-at-top
    return helpers.upper_tail(self.base, tail_mass)


class NoisyNormal(UniformNoiseAdapter):
  """N(loc, scale^2) plus U(-1/2, 1/2) noise.

  ``log_prob`` is the fused op ``tensorcoder.ops.noisy_normal_log_likelihood``
  (float32/float64): one kernel, analytic gradients, finite far in the tails.
  """

  def __init__(self, loc=0.0, scale=1.0, dtype=None, name=None):
    super().__init__(base.Normal(loc, scale, dtype=dtype),
                     name=name or "NoisyNormal")

  @property
  def loc(self) -> tf.Tensor:
    return self.base.loc

  @property
  def scale(self) -> tf.Tensor:
    return self.base.scale

  @property
  def parameters(self) -> dict:
    return self.base.parameters

  def log_prob(self, y) -> tf.Tensor:
    if self.dtype not in (tf.float32, tf.float64):
      return super().log_prob(y)
    from tensorcoder import ops  # pylint: disable=g-import-not-at-top
    return ops.noisy_normal_log_likelihood(
        tf.convert_to_tensor(y, self.dtype), self.loc, self.scale)


class NoisyLogistic(UniformNoiseAdapter):
  """Logistic(loc, scale) plus U(-1/2, 1/2) noise."""

  def __init__(self, loc=0.0, scale=1.0, dtype=None, name=None):
    super().__init__(base.Logistic(loc, scale, dtype=dtype),
                     name=name or "NoisyLogistic")

  @property
  def parameters(self) -> dict:
    return self.base.parameters


class NoisyLaplace(UniformNoiseAdapter):
  """Laplace(loc, scale) plus U(-1/2, 1/2) noise."""

  def __init__(self, loc=0.0, scale=1.0, dtype=None, name=None):
    super().__init__(base.Laplace(loc, scale, dtype=dtype),
                     name=name or "NoisyLaplace")

  @property
  def parameters(self) -> dict:
    return self.base.parameters
