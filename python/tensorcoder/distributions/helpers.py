"""Tail and offset helpers used to build entropy-model tables.

They accept any distribution object with the interface of :mod:`.base`
(TensorFlow Probability distributions included): a distribution's own
``_lower_tail``/``_upper_tail``/``_quantization_offset`` are used when
present, its ``quantile`` otherwise.
"""

from __future__ import annotations

import tensorflow as tf


def lower_tail(distribution, tail_mass) -> tf.Tensor:
  """A point x with P(X < x) about ``tail_mass / 2`` (per batch element)."""
  if hasattr(distribution, "_lower_tail"):
    return distribution._lower_tail(tail_mass)  # pylint: disable=protected-access
  return distribution.quantile(tf.cast(tail_mass / 2, distribution.dtype))


def upper_tail(distribution, tail_mass) -> tf.Tensor:
  """A point x with P(X > x) about ``tail_mass / 2`` (per batch element)."""
  if hasattr(distribution, "_upper_tail"):
    return distribution._upper_tail(tail_mass)  # pylint: disable=protected-access
  return distribution.quantile(tf.cast(1 - tail_mass / 2, distribution.dtype))


def quantization_offset(distribution) -> tf.Tensor:
  """The offset o such that quantizing x to round(x - o) + o is favourable.

  For the families here it is the mode (the location); for others the
  median, found with ``quantile(0.5)``; 0 if neither is available. Entropy
  models reduce it modulo 1 where needed.
  """
  if hasattr(distribution, "_quantization_offset"):
    return distribution._quantization_offset()  # pylint: disable=protected-access
  try:
    return distribution.quantile(tf.constant(0.5, distribution.dtype))
  except (NotImplementedError, AttributeError):
    return tf.zeros(distribution.batch_shape_tensor(), distribution.dtype)
