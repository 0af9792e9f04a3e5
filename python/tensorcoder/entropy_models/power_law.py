"""Entropy model with a power-law penalty instead of a learned prior.

The penalty ``log((|x| + alpha) / alpha)`` approximates the code length of a
value under a heavy-tailed (power-law) density and pushes most values to
zero; the quantized tensor is then coded with the run-length gamma code,
which needs no probability tables. This follows TensorFlow Compression's
``PowerLawEntropyModel`` (same arguments and methods), so code written for it
runs unchanged.
"""

from __future__ import annotations

import keras
import tensorflow as tf

from tensorcoder import ops


from tensorcoder.ops.round_ops import round_st  # pylint: disable=g-bad-import-order


@keras.saving.register_keras_serializable(package="tensorcoder")
class PowerLawEntropyModel(tf.Module):
  """Entropy model for power-law distributed random variables.

  Args:
    coding_rank: number of innermost dimensions coded together: ``compress``
      returns one string per element of the remaining (batch) dimensions and
      ``penalty`` sums over the coding dimensions.
    alpha: the penalty's scale; smaller values make it closer to counting
      non-zeros.
    bottleneck_dtype: dtype of the bottleneck, the outputs and the penalty
      (default: the compute dtype of Keras' global dtype policy, e.g.
      float16 under ``mixed_float16``, as TFC).
  """

  def __init__(self, coding_rank: int, alpha: float = 0.01,
               bottleneck_dtype=None):
    super().__init__()
    if int(coding_rank) < 0:
      raise ValueError(f"coding_rank must be >= 0, got {coding_rank}")
    if not alpha > 0:
      raise ValueError(f"alpha must be positive, got {alpha}")
    self._coding_rank = int(coding_rank)
    self._alpha = float(alpha)
    if bottleneck_dtype is None:
      bottleneck_dtype = keras.mixed_precision.global_policy().compute_dtype
    self._bottleneck_dtype = tf.as_dtype(bottleneck_dtype)

  @property
  def coding_rank(self) -> int:
    return self._coding_rank

  @property
  def alpha(self) -> float:
    return self._alpha

  @property
  def bottleneck_dtype(self) -> tf.DType:
    return self._bottleneck_dtype

  def _check_rank(self, bottleneck: tf.Tensor) -> None:
    rank = bottleneck.shape.rank
    if rank is not None and rank < self.coding_rank:
      raise ValueError(f"bottleneck has rank {rank}, less than coding_rank "
                       f"{self.coding_rank}")

  def penalty(self, bottleneck) -> tf.Tensor:
    """``sum log((|x| + alpha) / alpha)`` over the coding dimensions."""
    bottleneck = tf.convert_to_tensor(bottleneck, self.bottleneck_dtype)
    self._check_rank(bottleneck)
    alpha = tf.cast(self.alpha, bottleneck.dtype)
    penalty = tf.math.log((abs(bottleneck) + alpha) / alpha)
    return tf.reduce_sum(penalty, axis=tf.range(-self.coding_rank, 0))

  def quantize(self, bottleneck) -> tf.Tensor:
    """Rounds to integers, with a straight-through gradient."""
    return round_st(tf.convert_to_tensor(bottleneck, self.bottleneck_dtype))

  def __call__(self, bottleneck) -> tuple[tf.Tensor, tf.Tensor]:
    """Returns ``(quantize(bottleneck), penalty(bottleneck))``."""
    return self.quantize(bottleneck), self.penalty(bottleneck)

  def compress(self, bottleneck) -> tf.Tensor:
    """Codes each coding unit of the rounded bottleneck into a string.

    Values must round into the int32 range (InvalidArgumentError otherwise).
    Returns a string tensor of the bottleneck's batch shape.
    """
    bottleneck = tf.convert_to_tensor(bottleneck, self.bottleneck_dtype)
    self._check_rank(bottleneck)
    shape = tf.shape(bottleneck)
    rank = tf.rank(bottleneck)
    batch_shape = shape[:rank - self.coding_rank]
    coding_shape = shape[rank - self.coding_rank:]
    rounded = tf.round(tf.cast(bottleneck, tf.float64))
    tf.debugging.assert_less_equal(  # -inf for an empty tensor: passes.
        tf.reduce_max(tf.abs(rounded)), tf.constant(2.0**31 - 1, tf.float64),
        message="bottleneck values must round into the int32 range")
    symbols = tf.reshape(tf.cast(rounded, tf.int32),
                         tf.concat([[-1], coding_shape], 0))
    strings = tf.map_fn(self._encode_fn, symbols,
                        fn_output_signature=tf.string)
    return tf.reshape(strings, batch_shape)

  def decompress(self, strings, code_shape) -> tf.Tensor:
    """Decodes strings of ``compress``; ``code_shape`` is the shape of one
    coding unit. Corrupt strings raise DataLossError."""
    strings = tf.convert_to_tensor(strings, tf.string)
    code_shape = tf.convert_to_tensor(code_shape, tf.int32)
    flat = tf.reshape(strings, [-1])
    symbols = tf.map_fn(
        lambda s: self._decode_fn(s, code_shape), flat,
        fn_output_signature=tf.int32)
    values = tf.reshape(symbols,
                        tf.concat([tf.shape(strings), code_shape], 0))
    return tf.cast(values, self.bottleneck_dtype)

  def _encode_fn(self, symbols: tf.Tensor) -> tf.Tensor:
    return ops.run_length_gamma_encode(symbols)

  def _decode_fn(self, string: tf.Tensor, shape: tf.Tensor) -> tf.Tensor:
    return ops.run_length_gamma_decode(string, shape)

  def get_config(self) -> dict:
    return {"coding_rank": self.coding_rank, "alpha": self.alpha,
            "bottleneck_dtype": self.bottleneck_dtype.name}

  @classmethod
  def from_config(cls, config: dict) -> "PowerLawEntropyModel":
    return cls(**config)
