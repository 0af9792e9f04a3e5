"""Distributions of rounded and soft-rounded variables.

For an increasing map f and a continuous X, the distribution of f(X) has CDF
``P(f(X) <= y) = F_X(g(y))`` with g the (generalised) inverse of f, and
quantiles ``f(Q_X(p))``; :class:`MonotonicAdapter` implements this, and the
subclasses take f to be rounding (:class:`RoundAdapter`) or the soft rounding
of Agustsson and Theis, "Universally Quantized Neural Compression" (NeurIPS
2020), Sec. 4.1 and appendix E (:class:`SoftRoundAdapter`). Adding uniform
noise on top (the ``Noisy*`` classes) gives the training densities of
universally quantized models: a model that soft-rounds its latents, adds
noise and is rated by ``NoisySoftRoundAdapter(base, alpha)`` pays the rate of
the soft-rounded variable.

CDFs and survival functions go through the base's ``log_cdf`` and
``log_survival_function``, never ``1 - cdf``, so the noisy densities stay
finite far in the tails.
"""

from __future__ import annotations

from typing import Optional

import tensorflow as tf

from tensorcoder.distributions import base as base_lib
from tensorcoder.distributions import helpers
from tensorcoder.distributions import uniform_noise
from tensorcoder.ops import round_ops

__all__ = [
    "MonotonicAdapter",
    "RoundAdapter",
    "NoisyRoundAdapter",
    "NoisyRoundedNormal",
    "NoisyRoundedDeepFactorized",
    "SoftRoundAdapter",
    "NoisySoftRoundAdapter",
    "NoisySoftRoundedNormal",
    "NoisySoftRoundedDeepFactorized",
]


class MonotonicAdapter(base_lib.Adapter):
  """The distribution of ``transform(X)``, X ~ ``base``, for an increasing map.

  Subclasses define ``transform`` and ``inverse_transform``. For a
  transform that is not invertible (constant on intervals, like rounding),
  ``inverse_transform(y)`` must be ``sup {x : transform(x) <= y}``, so that
  ``P(transform(X) <= y) = P(X <= inverse_transform(y))`` still holds, and
  ``invertible`` is False; such subclasses define their own tail and offset
  hooks (``quantile`` and ``mode`` are then not provided).

  The CDF, survival function and their logs are the base's at
  ``inverse_transform(y)``; quantiles, the mode, samples, tails
  (:func:`.helpers.lower_tail`, :func:`.helpers.upper_tail`) and the
  quantization offset are the base's, mapped through ``transform``
  (Agustsson and Theis, "Universally Quantized Neural Compression", NeurIPS
  2020, appendix E). Densities are not provided (``prob`` and ``log_prob``
  raise NotImplementedError): the entropy models use these adapters
  through :class:`.UniformNoiseAdapter`, which needs only the CDF.

  Args:
    base: a continuous distribution (this package's, TFP's, ...).
    name: the name.
  """

  invertible = True

  def __init__(self, base, name: Optional[str] = None):
    super().__init__(base, name=name or type(self).__name__)

  def transform(self, x) -> tf.Tensor:
    """The increasing map f."""
    raise NotImplementedError

  def inverse_transform(self, y) -> tf.Tensor:
    """sup {x : f(x) <= y}; the inverse of f where it is invertible."""
    raise NotImplementedError

  def _cdf(self, y) -> tf.Tensor:
    return self.base.cdf(self.inverse_transform(y))

  def _log_cdf(self, y) -> tf.Tensor:
    return self.base.log_cdf(self.inverse_transform(y))

  def _survival_function(self, y) -> tf.Tensor:
    return self.base.survival_function(self.inverse_transform(y))

  def _log_survival_function(self, y) -> tf.Tensor:
    return self.base.log_survival_function(self.inverse_transform(y))

  def _require_invertible(self, what: str) -> None:
    if not self.invertible:
      raise NotImplementedError(
          f"{type(self).__name__} does not define {what}: its transform is "
          "not invertible")

  def _quantile(self, p) -> tf.Tensor:
    # P(X <= x) = p if and only if P(f(X) <= f(x)) = p.
    self._require_invertible("quantile()")
    return self.transform(self.base.quantile(p))

  def _mode(self) -> tf.Tensor:
    self._require_invertible("mode()")
    return self.transform(self.base.mode())

  def _sample_n(self, n, seed=None) -> tf.Tensor:
    return self.transform(tf.convert_to_tensor(self.base.sample(n,
                                                                seed=seed)))

  def _quantization_offset(self) -> tf.Tensor:
    self._require_invertible("_quantization_offset()")
    return self.transform(helpers.quantization_offset(self.base))

  def _lower_tail(self, tail_mass) -> tf.Tensor:
    self._require_invertible("_lower_tail()")
    return self.transform(helpers.lower_tail(self.base, tail_mass))

  def _upper_tail(self, tail_mass) -> tf.Tensor:
    self._require_invertible("_upper_tail()")
    return self.transform(helpers.upper_tail(self.base, tail_mass))


class RoundAdapter(MonotonicAdapter):
  """The distribution of ``round(X)``, X ~ ``base``: mass on the integers.

  The CDF is the right-continuous step function
  ``P(round(X) <= y) = F_X(floor(y) + 1/2)``. (TensorFlow Compression uses
  ``F_X(ceil(y) - 1/2)``, which is ``P(round(X) < y)`` at the integers and
  the same elsewhere; noise-adapted densities agree except at the
  half-integers, where either value is a valid choice of density.) The
  quantile is the smallest integer k with ``F_X(k + 1/2) >= p``, i.e.
  ``ceil(Q_X(p) - 1/2)``; the tails are the base's widened to integers, and
  the quantization offset is 0 since the values are integers.
  """

  invertible = False

  def transform(self, x) -> tf.Tensor:
    return tf.round(x)

  def inverse_transform(self, y) -> tf.Tensor:
    # round(x) <= y  <=>  round(x) <= floor(y)  <=>  x < floor(y) + 1/2
    # (up to the tie at the half-integer, which has no mass).
    return tf.floor(y) + 0.5

  def _quantile(self, p) -> tf.Tensor:
    return tf.math.ceil(self.base.quantile(p) - 0.5)

  def _quantization_offset(self) -> tf.Tensor:
    return tf.zeros(self.batch_shape_tensor(), self.dtype)

  def _lower_tail(self, tail_mass) -> tf.Tensor:
    return tf.floor(helpers.lower_tail(self.base, tail_mass))

  def _upper_tail(self, tail_mass) -> tf.Tensor:
    return tf.math.ceil(helpers.upper_tail(self.base, tail_mass))


class SoftRoundAdapter(MonotonicAdapter):
  """The distribution of ``soft_round(X, alpha)``, X ~ ``base``.

  See :func:`tensorcoder.ops.round_ops.soft_round`. ``alpha`` may be a
  float, a tensor broadcasting with the base's batch shape, or a variable
  (read at each use, so it can be annealed during training).

  Args:
    base: a continuous distribution with the interface of :mod:`.base`.
    alpha: the soft-rounding sharpness.
    name: the name.
  """

  def __init__(self, base, alpha, name: str | None = None):
    super().__init__(base, name=name)
    self._alpha = alpha

  @property
  def alpha(self):
    return self._alpha

  def _batch_shape(self) -> tf.TensorShape:
    return tf.broadcast_static_shape(tf.TensorShape(self.base.batch_shape),
                                     tf.TensorShape(_shape_of(self.alpha)))

  def _batch_shape_tensor(self) -> tf.Tensor:
    return tf.broadcast_dynamic_shape(
        tf.cast(self.base.batch_shape_tensor(), tf.int32),
        tf.shape(self.alpha))

  @property
  def parameters(self) -> dict:
    return {"base": self.base, "alpha": self.alpha}

  def _alpha_tensor(self) -> tf.Tensor:
    # Python and NumPy numbers directly in the dtype (not via float32);
    # tensors and variables (read now) cast.
    return base_lib.to_dtype(self.alpha, self.dtype)

  def transform(self, x) -> tf.Tensor:
    return round_ops.soft_round(x, self._alpha_tensor())

  def inverse_transform(self, y) -> tf.Tensor:
    return round_ops.soft_round_inverse(y, self._alpha_tensor())


def _shape_of(value) -> tuple:
  shape = getattr(value, "shape", ())
  return tuple(shape) if shape is not None else ()


class _NoisyMonotonicAdapter(uniform_noise.UniformNoiseAdapter):
  """A ``MonotonicAdapter`` plus U(-1/2, 1/2) noise."""


class NoisyRoundAdapter(_NoisyMonotonicAdapter):
  """``round(X) + U``, X ~ ``base``, U ~ U(-1/2, 1/2).

  Its density at y is the mass ``P(round(X) = k)`` of the integer k nearest
  to y (the upper one at half-integers); the offset is 0 and the tails are
  integers.

  Args:
    base: a continuous distribution with the interface of :mod:`.base`.
    name: the name.
  """

  def __init__(self, base, name: str | None = None):
    super().__init__(RoundAdapter(base), name=name or type(self).__name__)


class NoisySoftRoundAdapter(_NoisyMonotonicAdapter):
  """``soft_round(X, alpha) + U``, X ~ ``base``, U ~ U(-1/2, 1/2).

  As alpha -> 0 it becomes ``UniformNoiseAdapter(base)``, for large alpha
  ``NoisyRoundAdapter(base)``.

  Args:
    base: a continuous distribution with the interface of :mod:`.base`.
    alpha: the soft-rounding sharpness (see :class:`SoftRoundAdapter`).
    name: the name.
  """

  def __init__(self, base, alpha, name: str | None = None):
    super().__init__(SoftRoundAdapter(base, alpha),
                     name=name or type(self).__name__)

  @property
  def alpha(self):
    return self.base.alpha


class NoisyRoundedNormal(NoisyRoundAdapter):
  """``round(X) + U`` for X ~ N(loc, scale^2) and U ~ U(-1/2, 1/2).

  Args:
    loc: mean of X.
    scale: standard deviation of X.
    **kwargs: further arguments of :class:`.base.Normal` (``dtype``, ...).
    name: the name.
  """

  def __init__(self, loc=0.0, scale=1.0, name: str = "NoisyRoundedNormal",
               **kwargs):
    super().__init__(base_lib.Normal(loc, scale, **kwargs), name=name)

  @property
  def loc(self) -> tf.Tensor:
    return self.base.base.loc

  @property
  def scale(self) -> tf.Tensor:
    return self.base.base.scale

  @property
  def parameters(self) -> dict:
    return self.base.base.parameters


class NoisySoftRoundedNormal(NoisySoftRoundAdapter):
  """``soft_round(X, alpha) + U`` for X ~ N(loc, scale^2), U ~ U(-1/2, 1/2).

  Args:
    alpha: the soft-rounding sharpness.
    loc: mean of X.
    scale: standard deviation of X.
    **kwargs: further arguments of :class:`.base.Normal` (``dtype``, ...).
    name: the name.
  """

  def __init__(self, alpha=5.0, loc=0.0, scale=1.0,
               name: str = "NoisySoftRoundedNormal", **kwargs):
    super().__init__(base_lib.Normal(loc, scale, **kwargs), alpha, name=name)

  @property
  def loc(self) -> tf.Tensor:
    return self.base.base.loc

  @property
  def scale(self) -> tf.Tensor:
    return self.base.base.scale

  @property
  def parameters(self) -> dict:
    return dict(self.base.base.parameters, alpha=self.alpha)


def _deep_factorized(kwargs: dict):
  """A DeepFactorized from ``kwargs`` (or the one passed as ``base``)."""
  given = kwargs.pop("base", None)
  if given is not None:
    if kwargs:
      raise ValueError("give either base or DeepFactorized arguments, not "
                       f"both (got {sorted(kwargs)})")
    return given
  # Imported here: DeepFactorized depends on Keras, which the other classes
  # of this module do not need.
  from tensorcoder.distributions import deep_factorized  # pylint: disable=g-import-not-at-top
  return deep_factorized.DeepFactorized(**kwargs)


class NoisyRoundedDeepFactorized(NoisyRoundAdapter):
  """``round(X) + U`` for X ~ ``DeepFactorized(**kwargs)``.

  The trainable density is ``base.base``, a sublayer: a Keras model, layer
  or ``tf.Module`` holding this prior tracks its weights.

  Args:
    name: the name.
    **kwargs: arguments of ``DeepFactorized`` (``batch_shape``,
      ``num_filters``, ``init_scale``, ``dtype``, ...), or ``base=`` an
      existing ``DeepFactorized`` to share.
  """

  def __init__(self, name: str | None = None, **kwargs):
    super().__init__(_deep_factorized(kwargs),
                     name=name or "NoisyRoundedDeepFactorized")


class NoisySoftRoundedDeepFactorized(NoisySoftRoundAdapter):
  """``soft_round(X, alpha) + U`` for X ~ ``DeepFactorized(**kwargs)``.

  As for :class:`NoisyRoundedDeepFactorized`, the trainable density is
  ``base.base``.

  Args:
    alpha: the soft-rounding sharpness.
    name: the name.
    **kwargs: arguments of ``DeepFactorized``, or ``base=`` an existing one.
  """

  def __init__(self, alpha=5.0, name: str | None = None, **kwargs):
    super().__init__(_deep_factorized(kwargs), alpha,
                     name=name or "NoisySoftRoundedDeepFactorized")
