"""Location-scale base distributions without TensorFlow Probability.

Each class offers the interface the entropy models use (the subset of TFP's
that TensorFlow Compression relies on): ``prob``, ``log_prob``, ``cdf``,
``log_cdf``, ``survival_function``, ``log_survival_function``, ``quantile``,
``batch_shape``, ``dtype`` and ``parameters``, plus ``_quantization_offset``,
``_lower_tail`` and ``_upper_tail`` for :mod:`.helpers`. Upper-tail
quantities are computed as such (not as one minus the CDF) and the log forms
stay finite far into the tails.
"""

from __future__ import annotations

import math

import tensorflow as tf

_LOG_SQRT_2PI = 0.5 * math.log(2 * math.pi)


def _log_ndtr(x: tf.Tensor) -> tf.Tensor:
  """log Phi(x), accurate for all x (asymptotic series below -20)."""
  dtype = x.dtype
  threshold = -20.0 if dtype == tf.float64 else -10.0
  # Each branch sees only inputs where it is finite, so that tf.where's
  # gradient of the unused branches is 0, not NaN.
  xu = tf.maximum(x, 3.0)
  upper = tf.math.log1p(-0.5 * tf.math.erfc(xu / math.sqrt(2)))
  xm = tf.clip_by_value(x, threshold, 3.0)
  middle = tf.math.log(0.5 * tf.math.erfc(-xm / math.sqrt(2)))
  t = tf.minimum(x, threshold)
  r = 1 / (t * t)
  series = 1 - r * (1 - r * (3 - r * (15 - r * 105)))
  tail = -0.5 * t * t - tf.math.log(-t) - _LOG_SQRT_2PI + tf.math.log(series)
  return tf.where(x > 3.0, upper, tf.where(x > threshold, middle, tail))


class Adapter(tf.Module):
  """A distribution derived from another one, ``base``, of the same shape.

  Holds ``base`` and forwards ``dtype``, ``batch_shape`` and
  ``batch_shape_tensor`` to it; ``parameters`` is ``{"base": base}``.
  """

  def __init__(self, base, name: str | None = None):
    super().__init__(name=name or type(self).__name__)
    self._base = base

  @property
  def base(self):
    """The underlying distribution."""
    return self._base

  @property
  def dtype(self) -> tf.DType:
    return self.base.dtype

  @property
  def batch_shape(self) -> tf.TensorShape:
    return self.base.batch_shape

  def batch_shape_tensor(self) -> tf.Tensor:
    return self.base.batch_shape_tensor()

  @property
  def event_shape(self) -> tf.TensorShape:
    return tf.TensorShape([])

  @property
  def parameters(self) -> dict:
    return {"base": self.base}


class Distribution(tf.Module):
  """Shared parameter handling of the location-scale families."""

  def __init__(self, loc=0.0, scale=1.0, dtype=None, name=None):
    super().__init__(name=name or type(self).__name__)
    dtype = tf.as_dtype(dtype) if dtype is not None else None
    self._loc = tf.convert_to_tensor(loc, dtype=dtype)
    self._scale = tf.convert_to_tensor(scale, dtype=self._loc.dtype)
    self._parameters = {"loc": loc, "scale": scale}

  @property
  def loc(self) -> tf.Tensor:
    return self._loc

  @property
  def scale(self) -> tf.Tensor:
    return self._scale

  @property
  def dtype(self) -> tf.DType:
    return self._loc.dtype

  @property
  def parameters(self) -> dict:
    return dict(self._parameters)

  @property
  def batch_shape(self) -> tf.TensorShape:
    return tf.broadcast_static_shape(self.loc.shape, self.scale.shape)

  def batch_shape_tensor(self) -> tf.Tensor:
    return tf.broadcast_dynamic_shape(tf.shape(self.loc), tf.shape(self.scale))

  @property
  def event_shape(self) -> tf.TensorShape:
    return tf.TensorShape([])

  def _z(self, x) -> tf.Tensor:
    return (tf.convert_to_tensor(x, self.dtype) - self.loc) / self.scale

  def prob(self, x) -> tf.Tensor:
    return tf.exp(self.log_prob(x))

  def cdf(self, x) -> tf.Tensor:
    return tf.exp(self.log_cdf(x))

  def survival_function(self, x) -> tf.Tensor:
    return tf.exp(self.log_survival_function(x))

  def log_survival_function(self, x) -> tf.Tensor:
    # Symmetric families: S(x) = F(2 loc - x).
    return self.log_cdf(2 * self.loc - tf.convert_to_tensor(x, self.dtype))

  def _quantization_offset(self) -> tf.Tensor:
    # Centre the quantization grid on the mode.
    return tf.broadcast_to(self.loc, self.batch_shape_tensor())

  def _lower_tail(self, tail_mass) -> tf.Tensor:
    return self.quantile(tf.cast(tail_mass / 2, self.dtype))

  def _upper_tail(self, tail_mass) -> tf.Tensor:
    return self.quantile(tf.cast(1 - tail_mass / 2, self.dtype))


class Normal(Distribution):
  """Normal distribution N(loc, scale^2)."""

  def log_prob(self, x) -> tf.Tensor:
    z = self._z(x)
    return -0.5 * z * z - _LOG_SQRT_2PI - tf.math.log(self.scale)

  def log_cdf(self, x) -> tf.Tensor:
    return _log_ndtr(self._z(x))

  def quantile(self, p) -> tf.Tensor:
    p = tf.convert_to_tensor(p, self.dtype)
    return self.loc + self.scale * math.sqrt(2) * tf.math.erfinv(2 * p - 1)

  def _lower_tail(self, tail_mass) -> tf.Tensor:
    # ndtri is accurate for small p, unlike erfinv(2p - 1).
    p = tf.cast(tail_mass / 2, self.dtype)
    return self.loc + self.scale * tf.math.ndtri(p)

  def _upper_tail(self, tail_mass) -> tf.Tensor:
    p = tf.cast(tail_mass / 2, self.dtype)
    return self.loc - self.scale * tf.math.ndtri(p)


class Logistic(Distribution):
  """Logistic distribution with location ``loc`` and scale ``scale``."""

  def log_prob(self, x) -> tf.Tensor:
    z = self._z(x)
    return -z - 2 * tf.math.softplus(-z) - tf.math.log(self.scale)

  def log_cdf(self, x) -> tf.Tensor:
    return -tf.math.softplus(-self._z(x))

  def quantile(self, p) -> tf.Tensor:
    p = tf.convert_to_tensor(p, self.dtype)
    return self.loc + self.scale * (tf.math.log(p) - tf.math.log1p(-p))


class Laplace(Distribution):
  """Laplace distribution with location ``loc`` and scale ``scale``."""

  def log_prob(self, x) -> tf.Tensor:
    return -tf.abs(self._z(x)) - tf.math.log(2 * self.scale)

  def log_cdf(self, x) -> tf.Tensor:
    z = self._z(x)
    # z < 0: log(exp(z) / 2); z >= 0: log(1 - exp(-z) / 2).
    return tf.where(z < 0, z - math.log(2),
                    tf.math.log1p(-0.5 * tf.exp(-tf.abs(z))))

  def quantile(self, p) -> tf.Tensor:
    p = tf.convert_to_tensor(p, self.dtype)
    return self.loc - self.scale * tf.sign(p - 0.5) * tf.math.log1p(
        -2 * tf.abs(p - 0.5))
