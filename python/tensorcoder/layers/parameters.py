"""Reparameterised weights: RDFT-domain kernels and lower-bounded GDN
parameters.

Ballé, "Efficient nonlinear transforms for lossy image compression" (PCS
2018) trains convolution kernels in a real DFT domain, which balances the
step sizes of the optimiser across frequencies, and keeps GDN's parameters
positive through a bounded, squared reparameterisation whose gradients do not
vanish at the bound.
"""

from __future__ import annotations

from typing import Sequence

import keras
import numpy as np
import tensorflow as tf

from tensorcoder.ops import math_ops


def real_dft_basis(size: int) -> np.ndarray:
  """Orthonormal real DFT basis of length ``size``, one vector per row:
  the constant, then cos/sin pairs of increasing frequency, then (even
  sizes) the alternating Nyquist vector."""
  n = np.arange(size)
  rows = [np.full(size, 1 / np.sqrt(size))]
  for j in range(1, (size + 1) // 2):
    angle = 2 * np.pi * j * n / size
    rows.append(np.sqrt(2 / size) * np.cos(angle))
    rows.append(np.sqrt(2 / size) * np.sin(angle))
  if size % 2 == 0:
    rows.append((-1.0)**n / np.sqrt(size))
  return np.stack(rows)


@keras.saving.register_keras_serializable(package="tensorcoder")
class RDFTParameter(keras.layers.Layer):
  """A convolution kernel [*support, in, out] stored as coefficients of the
  orthonormal real 2-D DFT over its spatial support.

  Calling the layer (or ``value()``) returns the kernel. The transform is
  orthonormal, so the kernel's initial value is preserved exactly.
  """

  def __init__(self, initial_shape: Sequence[int], initializer="variance_scaling",
               name: str = "rdft_parameter", **kwargs):
    super().__init__(name=name, **kwargs)
    self.initial_shape = tuple(int(d) for d in initial_shape)
    if len(self.initial_shape) != 4:
      raise ValueError(f"RDFTParameter needs a 4-D kernel shape "
                       f"[height, width, in, out], got {initial_shape}")
    height, width, channels_in, channels_out = self.initial_shape
    basis = np.kron(real_dft_basis(height), real_dft_basis(width))
    self._basis = tf.constant(basis, self.variable_dtype)
    self.initializer = keras.initializers.get(initializer)
    kernel = tf.convert_to_tensor(self.initializer(self.initial_shape),
                                  self.variable_dtype)
    flat = tf.reshape(kernel, [height * width, channels_in * channels_out])
    self.coefficients = self.add_weight(
        name="rdft", shape=flat.shape,
        initializer=keras.initializers.Constant(
            tf.linalg.matmul(self._basis, flat).numpy()))
    self.built = True

  def value(self) -> tf.Tensor:
    flat = tf.linalg.matmul(self._basis, self.coefficients, transpose_a=True)
    return tf.reshape(flat, self.initial_shape)

  def call(self, inputs=None):
    return self.value()

  def get_config(self) -> dict:
    config = super().get_config()
    config.update(initial_shape=list(self.initial_shape),
                  initializer=keras.initializers.serialize(self.initializer))
    return config


@keras.saving.register_keras_serializable(package="tensorcoder")
class GDNParameter(keras.layers.Layer):
  """A tensor kept at or above ``minimum`` through ``value = v**2 - p``,
  with v bounded below by ``sqrt(minimum + p)`` (gradients pass where they
  push v up) and the pedestal ``p = reparam_offset**2`` keeping the square's
  gradient alive near zero."""

  def __init__(self, initial_value, minimum: float = 0.0,
               reparam_offset: float = 2.0**-18, name: str = "gdn_parameter",
               **kwargs):
    super().__init__(name=name, **kwargs)
    initial_value = np.asarray(initial_value, np.float64)
    self.minimum = float(minimum)
    self.reparam_offset = float(reparam_offset)
    self._pedestal = self.reparam_offset**2
    self._bound = float(np.sqrt(self.minimum + self._pedestal))
    stored = np.sqrt(np.maximum(initial_value + self._pedestal,
                                self._pedestal))
    self.variable = self.add_weight(
        name="reparam", shape=initial_value.shape,
        initializer=keras.initializers.Constant(stored))
    self._initial_shape = initial_value.shape
    self.built = True

  def value(self) -> tf.Tensor:
    v = math_ops.lower_bound(tf.convert_to_tensor(self.variable),
                             self._bound)
    return tf.square(v) - self._pedestal

  def call(self, inputs=None):
    return self.value()

  def get_config(self) -> dict:
    config = super().get_config()
    # The shape is what matters; the weights restore the value.
    config.update(initial_value=np.zeros(self._initial_shape).tolist(),
                  minimum=self.minimum, reparam_offset=self.reparam_offset)
    return config
