"""Keras layers for soft rounding (Agustsson & Theis, NeurIPS 2020).

``SoftRound`` applies :func:`tensorcoder.ops.round_ops.soft_round` (or its
inverse) element-wise; ``SoftRoundConditionalMean`` applies
:func:`tensorcoder.ops.round_ops.soft_round_conditional_mean`, the decoder's
estimate of a soft-rounded value from its noisy version. Both have no
weights, keep the input shape, and serialize with their arguments.
"""

from __future__ import annotations

import keras

from tensorcoder.ops import round_ops

__all__ = [
    "SoftRound",
    "SoftRoundConditionalMean",
]


@keras.saving.register_keras_serializable(package="tensorcoder")
class SoftRound(keras.layers.Layer):
  """Element-wise soft rounding, or its inverse.

  ``alpha`` is a plain attribute; assign a new float to it to anneal the
  sharpness between calls (a traced ``tf.function`` keeps the old value
  until retraced).

  Args:
    alpha: sharpness; 0 is the identity, large values approach rounding.
    eps: below this alpha the identity is used.
    inverse: apply ``soft_round_inverse`` instead of ``soft_round``.
    **kwargs: base layer arguments (``name``, ``dtype``, ...).
  """

  def __init__(self, alpha: float = 5.0, eps: float = 1e-3,
               inverse: bool = False, **kwargs):
    super().__init__(**kwargs)
    self.alpha = alpha
    self.eps = float(eps)
    self.inverse = bool(inverse)
    self.supports_masking = True

  def call(self, inputs):
    fn = round_ops.soft_round_inverse if self.inverse else round_ops.soft_round
    return fn(inputs, self.alpha, eps=self.eps)

  def compute_output_shape(self, input_shape):
    return input_shape

  def get_config(self) -> dict:
    config = super().get_config()
    config.update(alpha=float(self.alpha), eps=self.eps, inverse=self.inverse)
    return config


@keras.saving.register_keras_serializable(package="tensorcoder")
class SoftRoundConditionalMean(keras.layers.Layer):
  """E[X | soft_round(X, alpha) + U = inputs], U ~ U(-1/2, 1/2), element-wise.

  Args:
    alpha: the sharpness the values were soft-rounded with.
    **kwargs: base layer arguments (``name``, ``dtype``, ...).
  """

  def __init__(self, alpha: float = 5.0, **kwargs):
    super().__init__(**kwargs)
    self.alpha = alpha
    self.supports_masking = True

  def call(self, inputs):
    return round_ops.soft_round_conditional_mean(inputs, self.alpha)

  def compute_output_shape(self, input_shape):
    return input_shape

  def get_config(self) -> dict:
    config = super().get_config()
    config.update(alpha=float(self.alpha))
    return config
