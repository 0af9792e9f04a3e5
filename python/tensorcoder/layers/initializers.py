"""Initializers for ``SignalConv*`` kernels (TFC's ``IdentityInitializer``)."""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

__all__ = ["IdentityInitializer"]


@keras.saving.register_keras_serializable(package="tensorcoder")
class IdentityInitializer(keras.initializers.Initializer):
  """The identity kernel ``[*support, channels, channels]``: ``gain`` at the
  kernel centre (``support // 2``) between equal input and output channels,
  zero elsewhere, so a ``SignalConv*`` with it returns its input (up to
  boundaries and resampling). Keras' ``Identity`` initializer is for
  matrices only.

  Args:
    gain: the centre value.
  """

  def __init__(self, gain: float = 1):
    self.gain = float(gain)

  def __call__(self, shape, dtype=None, partition_info=None) -> tf.Tensor:
    del partition_info  # TFC's signature; unused.
    shape = tuple(int(d) for d in shape)
    if len(shape) <= 2:
      raise ValueError(f"IdentityInitializer needs a kernel shape [*support, "
                       f"in, out], got {shape}; use "
                       f"keras.initializers.Identity for matrices")
    if shape[-2] != shape[-1]:
      raise ValueError(f"IdentityInitializer needs as many input as output "
                       f"channels, got shape {shape}")
    kernel = np.zeros(shape)
    center = tuple(s // 2 for s in shape[:-2])
    kernel[center] = self.gain * np.eye(shape[-1])
    return tf.constant(kernel, dtype=dtype or keras.config.floatx())

  def get_config(self) -> dict:
    return dict(gain=self.gain)
