"""Initializers for ``SignalConv*`` kernels (TFC's ``IdentityInitializer``)."""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

__all__ = ["IdentityInitializer"]


@keras.saving.register_keras_serializable(package="tensorcoder")
class IdentityInitializer(keras.initializers.Initializer):
  """The identity kernel ``[*support, in_channels, out_channels]``.

  ``gain`` at the kernel centre (``support // 2``) times an identity matrix
  between input and output channels (``tf.eye(in_channels, out_channels)``,
  so it may be rectangular, as in TFC), zero elsewhere: a ``SignalConv*``
  with it returns its input (up to boundaries and resampling) in the first
  ``min(in, out)`` channels. Keras' ``Identity`` initializer is for matrices
  only.

  Args:
    gain: the centre value.
  """

  def __init__(self, gain: float = 1):
    self.gain = gain

  def __call__(self, shape, dtype=None, partition_info=None) -> tf.Tensor:
    del partition_info  # TFC's signature; unused.
    shape = tuple(int(d) for d in shape)
    if len(shape) <= 2:
      raise ValueError(f"IdentityInitializer needs a kernel shape [*support, "
                       f"in, out] of rank >= 3, got {shape}; use "
                       f"keras.initializers.Identity for matrices")
    kernel = np.zeros(shape)
    center = tuple(s // 2 for s in shape[:-2])
    kernel[center] = self.gain * np.eye(shape[-2], shape[-1])
    dtype = tf.as_dtype(dtype or keras.config.floatx())
    return tf.constant(kernel.astype(dtype.as_numpy_dtype), dtype=dtype)

  def get_config(self) -> dict:
    return dict(gain=self.gain)
