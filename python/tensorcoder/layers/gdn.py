"""Generalized divisive normalization (GDN) and its inverse (IGDN).

Ballé, Laparra and Simoncelli, "Density modeling of images using a
generalized normalization transformation", ICLR 2016:

    y_i = x_i / sqrt(beta_i + sum_j gamma_ij x_j^2)

and the inverse (approximate, used in synthesis transforms) multiplies
instead of dividing. ``rectify=True`` applies a ReLU first.
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from tensorcoder.layers import parameters


@keras.saving.register_keras_serializable(package="tensorcoder")
class GDN(keras.layers.Layer):
  """GDN over the last (channel) axis of inputs of any rank >= 2.

  Args:
    inverse: IGDN (multiply by the normalizer) instead of GDN.
    rectify: apply a ReLU before normalizing.
    gamma_init: initial value of the diagonal of gamma.
    beta_min: lower bound of beta (keeps the normalizer positive).
    gamma_min: lower bound of gamma's entries.
  """

  def __init__(self, inverse: bool = False, rectify: bool = False,
               gamma_init: float = 0.1, beta_min: float = 1e-6,
               gamma_min: float = 0.0, **kwargs):
    super().__init__(**kwargs)
    if not beta_min > 0:
      raise ValueError(f"beta_min must be positive, got {beta_min}")
    self.inverse = bool(inverse)
    self.rectify = bool(rectify)
    self.gamma_init = float(gamma_init)
    self.beta_min = float(beta_min)
    self.gamma_min = float(gamma_min)
    self.beta = None
    self.gamma = None

  def build(self, input_shape):
    channels = input_shape[-1]
    if channels is None:
      raise ValueError("GDN needs a known number of channels (last axis)")
    self.beta = parameters.GDNParameter(
        np.ones(channels), minimum=self.beta_min, name="beta")
    self.gamma = parameters.GDNParameter(
        self.gamma_init * np.eye(channels), minimum=self.gamma_min,
        name="gamma")

  def call(self, inputs):
    x = tf.convert_to_tensor(inputs)
    if x.shape.rank is not None and x.shape.rank < 2:
      raise ValueError(f"GDN needs inputs of rank >= 2, got {x.shape}")
    if self.rectify:
      x = tf.nn.relu(x)
    gamma = tf.cast(self.gamma.value(), x.dtype)
    beta = tf.cast(self.beta.value(), x.dtype)
    norm = tf.tensordot(tf.square(x), gamma, [[-1], [0]]) + beta
    if self.inverse:
      return x * tf.sqrt(norm)
    return x * tf.math.rsqrt(norm)

  def compute_output_shape(self, input_shape):
    return input_shape

  def get_config(self) -> dict:
    config = super().get_config()
    config.update(inverse=self.inverse, rectify=self.rectify,
                  gamma_init=self.gamma_init, beta_min=self.beta_min,
                  gamma_min=self.gamma_min)
    return config
