"""Distributions convolved with uniform noise U(-1/2, 1/2).

During training, entropy models replace rounding by additive uniform noise
(Ballé, Laparra and Simoncelli, "End-to-end optimized image compression",
ICLR 2017); the density of the noisy variable, ``F(y + 1/2) - F(y - 1/2)``
with F the base CDF, equals the probability mass the quantized variable gets
at integers, which makes the training rate an upper bound matching the
coded rate (Ballé, Minnen, Singh, Hwang and Johnston, "Variational image
compression with a scale hyperprior", ICLR 2018, appendix 6.2).
"""

from __future__ import annotations

import math

import tensorflow as tf

from tensorcoder.distributions import base as base_lib
from tensorcoder.distributions import helpers

__all__ = [
    "UniformNoiseAdapter",
    "NoisyMixtureSameFamily",
    "NoisyNormal",
    "NoisyLogistic",
    "NoisyLaplace",
    "NoisyNormalMixture",
    "NoisyLogisticMixture",
]


def _log_diff_exp(a: tf.Tensor, b: tf.Tensor) -> tf.Tensor:
  """log(exp(a) - exp(b)) for a >= b, accurate when b is close to a.

  -inf where a is -inf (no mass); finite, with finite gradients, elsewhere
  (zero mass, a == b, gives about log(1e-30)).
  """
  finite = a > -math.inf
  a = tf.where(finite, a, tf.zeros_like(a))
  b = tf.where(finite, b, -tf.ones_like(b))
  d = tf.minimum(b - a, 0.0)
  safe = tf.minimum(d, -1e-30)  # log(-expm1(0)) = -inf, only for zero mass.
  near = tf.math.log(-tf.math.expm1(safe))
  far = tf.math.log1p(-tf.exp(tf.minimum(d, -math.log(2))))
  result = a + tf.where(d > -math.log(2), near, far)
  return tf.where(finite, result, tf.fill(tf.shape(result),
                                          tf.constant(-math.inf, a.dtype)))


class UniformNoiseAdapter(base_lib.Adapter):
  """The distribution of X + U, X ~ ``base``, U ~ U(-1/2, 1/2) independent.

  The density is ``F(y + 1/2) - F(y - 1/2)``; ``log_prob`` takes it as the
  difference of the base's log CDFs left of the median and of its log
  survival functions right of it (as TensorFlow Compression does), so the
  mass of far-out bins is not lost to cancellation; a base with only a
  (log) CDF is also accepted. ``mean`` is the base's; ``mode``,
  ``quantile`` and the CDFs are not provided (NotImplementedError), and the
  tails and quantization offset (:mod:`.helpers`) are the base's.

  Args:
    base: the distribution of X (one of this package's, a TFP
      distribution, or anything with ``log_cdf``).
    name: the name.
  """

  def __init__(self, base, name: str = "UniformNoiseAdapter"):
    super().__init__(base, name=name)

  def _log_prob(self, y) -> tf.Tensor:
    base = self.base
    if not hasattr(base, "log_cdf"):
      raise NotImplementedError(
          "log_prob() is not implemented unless the base distribution "
          "implements log_cdf()")
    try:
      log_sf_plus = base.log_survival_function(y + 0.5)
      log_sf_minus = base.log_survival_function(y - 0.5)
    except (NotImplementedError, AttributeError):
      return _log_diff_exp(base.log_cdf(y + 0.5), base.log_cdf(y - 0.5))
    log_cdf_plus = base.log_cdf(y + 0.5)
    log_cdf_minus = base.log_cdf(y - 0.5)
    # Right of the median, where the survival function is the smaller, the
    # difference of survival functions is the accurate one.
    right = log_sf_plus < log_cdf_plus
    big = tf.where(right, log_sf_minus, log_cdf_plus)
    small = tf.where(right, log_sf_plus, log_cdf_minus)
    return _log_diff_exp(big, small)

  def _mean(self) -> tf.Tensor:
    return self.base.mean()

  def _sample_n(self, n, seed=None) -> tf.Tensor:
    base_seed, noise_seed = base_lib.split_seed(seed, 2)
    samples = tf.convert_to_tensor(self.base.sample(n, seed=base_seed))
    return samples + base_lib.random_uniform(
        tf.shape(samples), samples.dtype, noise_seed, -0.5, 0.5)

  def _quantization_offset(self) -> tf.Tensor:
    return helpers.quantization_offset(self.base)

  def _lower_tail(self, tail_mass) -> tf.Tensor:
    return helpers.lower_tail(self.base, tail_mass)

  def _upper_tail(self, tail_mass) -> tf.Tensor:
    return helpers.upper_tail(self.base, tail_mass)


class NoisyMixtureSameFamily(base_lib.MixtureSameFamily):
  """A mixture of distributions, each with additive uniform noise.

  Takes the arguments of :class:`.base.MixtureSameFamily` (or of
  ``tfp.distributions.MixtureSameFamily``): the mixture's components are
  ``UniformNoiseAdapter(components_distribution)``, and ``base`` is the
  mixture without noise, whose tails are the table range. The quantization
  offset is that of the "peakiest" component, as TensorFlow Compression
  picks it: the component offset (decimal part of its mode) at which the
  noisy mixture's density is highest.

  Args:
    mixture_distribution: Categorical of the weights (this package's or
      TFP's).
    components_distribution: the K components, along the last batch axis.
    name: the name.
  """

  def __init__(self, mixture_distribution, components_distribution,
               name: str = "NoisyMixtureSameFamily"):
    super().__init__(mixture_distribution,
                     UniformNoiseAdapter(components_distribution),
                     name=name)
    self._base = base_lib.MixtureSameFamily(
        mixture_distribution, components_distribution, name=name + "Base")

  @property
  def base(self):
    """The mixture without uniform noise."""
    return self._base

  def _quantization_offset(self) -> tf.Tensor:
    offsets = helpers.quantization_offset(self.components_distribution)
    rank = self.batch_shape.rank
    num_components = tf.shape(self._log_weights())[-1:]
    offsets = tf.broadcast_to(tf.cast(offsets, self.dtype), tf.concat(
        [self.batch_shape_tensor(), num_components], 0))
    transposed = tf.transpose(offsets, [rank] + list(range(rank)))
    component = tf.argmax(self.log_prob(transposed), axis=0)
    return tf.gather(offsets, component, axis=-1, batch_dims=rank)

  def _lower_tail(self, tail_mass) -> tf.Tensor:
    return helpers.lower_tail(self.base, tail_mass)

  def _upper_tail(self, tail_mass) -> tf.Tensor:
    return helpers.upper_tail(self.base, tail_mass)


class NoisyNormal(UniformNoiseAdapter):
  """N(loc, scale^2) plus U(-1/2, 1/2) noise.

  ``log_prob`` is the fused op ``tensorcoder.ops.noisy_normal_log_likelihood``
  (float32/float64, scale > 0): one kernel, analytic gradients, finite far in
  the tails.

  Args:
    loc, scale: the normal's parameters.
    name: the name.
    **kwargs: further arguments of :class:`.base.Normal` (``dtype``,
      ``validate_args``, ``allow_nan_stats``).
  """

  def __init__(self, loc=0.0, scale=1.0, name: str = "NoisyNormal",
               **kwargs):
    super().__init__(base_lib.Normal(loc, scale, **kwargs), name=name)

  @property
  def loc(self) -> tf.Tensor:
    return self.base.loc

  @property
  def scale(self) -> tf.Tensor:
    return self.base.scale

  @property
  def parameters(self) -> dict:
    return self.base.parameters

  def _log_prob(self, y) -> tf.Tensor:
    if self.dtype not in (tf.float32, tf.float64):
      return super()._log_prob(y)
    from tensorcoder import ops  # pylint: disable=g-import-not-at-top
    return ops.noisy_normal_log_likelihood(y, self.loc, self.scale)


class NoisyLogistic(UniformNoiseAdapter):
  """Logistic(loc, scale) plus U(-1/2, 1/2) noise (arguments as
  :class:`NoisyNormal`)."""

  def __init__(self, loc=0.0, scale=1.0, name: str = "NoisyLogistic",
               **kwargs):
    super().__init__(base_lib.Logistic(loc, scale, **kwargs), name=name)

  @property
  def loc(self) -> tf.Tensor:
    return self.base.loc

  @property
  def scale(self) -> tf.Tensor:
    return self.base.scale

  @property
  def parameters(self) -> dict:
    return self.base.parameters


class NoisyLaplace(UniformNoiseAdapter):
  """Laplace(loc, scale) plus U(-1/2, 1/2) noise (arguments as
  :class:`NoisyNormal`)."""

  def __init__(self, loc=0.0, scale=1.0, name: str = "NoisyLaplace",
               **kwargs):
    super().__init__(base_lib.Laplace(loc, scale, **kwargs), name=name)

  @property
  def loc(self) -> tf.Tensor:
    return self.base.loc

  @property
  def scale(self) -> tf.Tensor:
    return self.base.scale

  @property
  def parameters(self) -> dict:
    return self.base.parameters


class NoisyNormalMixture(NoisyMixtureSameFamily):
  """A mixture of normals, each with U(-1/2, 1/2) noise; the components
  are along the last axis (Minnen, Ballé and Toderici, "Joint
  autoregressive and hierarchical priors for learned image compression",
  NeurIPS 2018, use such mixtures as conditional priors).

  Args:
    loc, scale: the components' parameters.
    weight: the components' weights (``probs`` of the Categorical; they
      need not be normalized).
    name: the name.
  """

  def __init__(self, loc, scale, weight, name: str = "NoisyNormalMixture"):
    dtype = base_lib.common_dtype([loc, scale, weight])
    super().__init__(
        mixture_distribution=base_lib.Categorical(probs=base_lib.as_parameter(
            weight, dtype)),
        components_distribution=base_lib.Normal(loc=loc, scale=scale,
                                                dtype=dtype),
        name=name)


class NoisyLogisticMixture(NoisyMixtureSameFamily):
  """A mixture of logistics, each with U(-1/2, 1/2) noise (arguments as
  :class:`NoisyNormalMixture`)."""

  def __init__(self, loc, scale, weight,
               name: str = "NoisyLogisticMixture"):
    dtype = base_lib.common_dtype([loc, scale, weight])
    super().__init__(
        mixture_distribution=base_lib.Categorical(probs=base_lib.as_parameter(
            weight, dtype)),
        components_distribution=base_lib.Logistic(loc=loc, scale=scale,
                                                  dtype=dtype),
        name=name)
