"""Mixtures of noise-adapted distributions, the last axis indexing the
components (as TensorFlow Compression's ``NoisyNormalMixture`` and
``NoisyLogisticMixture``; Minnen, Ballé and Toderici, "Joint autoregressive
and hierarchical priors for learned image compression", NeurIPS 2018, use
such mixtures as conditional priors)."""

from __future__ import annotations

import tensorflow as tf

from tensorcoder.distributions import helpers
from tensorcoder.distributions import uniform_noise


class _NoisyMixture(tf.Module):
  """sum_k weight_k * component_k(loc_k, scale_k), components on the last
  axis; the weights are normalized."""

  _component = None  # Set by subclasses.

  def __init__(self, loc, scale, weight, dtype=None, name=None):
    super().__init__(name=name or type(self).__name__)
    self._components = self._component(loc, scale, dtype=dtype)
    weight = tf.convert_to_tensor(weight, self._components.dtype)
    self._log_weight = tf.math.log(weight) - tf.math.reduce_logsumexp(
        tf.math.log(weight), axis=-1, keepdims=True)
    self._parameters = {"loc": loc, "scale": scale, "weight": weight}

  @property
  def components(self):
    return self._components

  @property
  def dtype(self) -> tf.DType:
    return self._components.dtype

  @property
  def parameters(self) -> dict:
    return dict(self._parameters)

  @property
  def batch_shape(self) -> tf.TensorShape:
    shape = tf.broadcast_static_shape(self._components.batch_shape,
                                      self._log_weight.shape)
    return shape[:-1]

  def batch_shape_tensor(self) -> tf.Tensor:
    shape = tf.broadcast_dynamic_shape(
        self._components.batch_shape_tensor(), tf.shape(self._log_weight))
    return shape[:-1]

  @property
  def event_shape(self) -> tf.TensorShape:
    return tf.TensorShape([])

  def log_prob(self, y) -> tf.Tensor:
    y = tf.convert_to_tensor(y, self.dtype)[..., None]
    return tf.math.reduce_logsumexp(
        self._log_weight + self._components.log_prob(y), axis=-1)

  def prob(self, y) -> tf.Tensor:
    return tf.exp(self.log_prob(y))

  def _quantization_offset(self) -> tf.Tensor:
    # No single mode: quantize on the integer grid.
    return tf.zeros(self.batch_shape_tensor(), self.dtype)

  def _lower_tail(self, tail_mass) -> tf.Tensor:
    return tf.reduce_min(
        helpers.lower_tail(self._components.base, tail_mass), axis=-1)

  def _upper_tail(self, tail_mass) -> tf.Tensor:
    return tf.reduce_max(
        helpers.upper_tail(self._components.base, tail_mass), axis=-1)


class NoisyNormalMixture(_NoisyMixture):
  """Mixture of normals plus U(-1/2, 1/2) noise."""
  _component = uniform_noise.NoisyNormal


class NoisyLogisticMixture(_NoisyMixture):
  """Mixture of logistics plus U(-1/2, 1/2) noise."""
  _component = uniform_noise.NoisyLogistic
