"""Entropy models with universal quantization.

Universal quantization (Ziv 1985; Agustsson and Theis, "Universally quantized
neural compression", NeurIPS 2020) shares a uniform dither ``u`` between
encoder and decoder and codes ``k = round(x - u)``; the decoder outputs
``k + u``, whose error is exactly uniform, so the training-time noise model
matches test time. The coded integer has the pmf
``P(k | u) = p_noisy(k + u)`` with ``p_noisy`` the prior convolved with
U(-1/2, 1/2). The dither takes one of ``num_noise_levels`` values
``(j + 1) / (num_noise_levels + 1) - 1/2``; each level has its own table
rows, and the level of each element comes from a counter-based generator
keyed by a fixed seed and the element's position, identical on every
machine.

The two models are the batched and the indexed model with a dithered
quantization grid: :class:`_UniversalQuantization` gives them the dither
(offsets and table rows of each element) and its tables; construction,
``quantize``, ``compress`` and ``decompress`` are those of
``BatchedEntropyModelBase`` and ``ContinuousIndexedEntropyModel``.
"""

from __future__ import annotations

from typing import Optional

import keras
import numpy as np
import tensorflow as tf

from tensorcoder import ops
from tensorcoder.distributions import helpers
from tensorcoder.entropy_models import continuous_batched
from tensorcoder.entropy_models import continuous_indexed

_SEED = (1234, 5678)


def noise_levels(shape, num_noise_levels: int) -> tf.Tensor:
  """The dither level (int32 in [0, num_noise_levels)) of each element of a
  tensor of ``shape``; depends only on the shape and the element position."""
  u = ops.uniform_noise(tf.zeros(shape, tf.float32), _SEED)
  levels = tf.floor((tf.cast(u, tf.float64) + 0.5) * num_noise_levels)
  return tf.minimum(tf.cast(levels, tf.int32), num_noise_levels - 1)


def level_offsets(levels: tf.Tensor, num_noise_levels: int,
                  dtype=tf.float32) -> tf.Tensor:
  return tf.cast((tf.cast(levels, tf.float64) + 1) / (num_noise_levels + 1)
                 - 0.5, dtype)


class _ShiftedPrior:
  """The prior evaluated at ``x + offset`` (offsets broadcast over the
  prior's batch): the table rows of one dither level."""

  def __init__(self, prior, offset: tf.Tensor, batch_shape: tf.Tensor):
    self._prior = prior
    self._offset = offset
    self._batch_shape = batch_shape

  @property
  def dtype(self):
    return self._prior.dtype

  def batch_shape_tensor(self):
    return self._batch_shape

  def prob(self, x):
    return self._prior.prob(x + tf.cast(self._offset, self.dtype))

  def _tails(self, tail_mass):
    lower = helpers.lower_tail(self._prior, tail_mass)
    upper = helpers.upper_tail(self._prior, tail_mass)
    offset = tf.cast(self._offset, self.dtype)
    return (tf.broadcast_to(lower - offset, self._batch_shape),
            tf.broadcast_to(upper - offset, self._batch_shape))

  def _lower_tail(self, tail_mass):
    return self._tails(tail_mass)[0]

  def _upper_tail(self, tail_mass):
    return self._tails(tail_mass)[1]


class _UniversalQuantization:
  """What the universal models add to their batched or indexed base: the
  dither levels, their table rows and their quantization offsets.

  The host class calls ``_set_num_noise_levels`` before it builds tables,
  and gives each table's row count per dither level (``_rows_per_level``).
  """

  # Universal quantization rounds in float32, the dtype decompress adds the
  # dither in.
  _rounding_dtype = tf.float32

  def _set_num_noise_levels(self, num_noise_levels: int) -> None:
    if int(num_noise_levels) < 1:
      raise ValueError(f"num_noise_levels must be positive, got "
                       f"{num_noise_levels}")
    self._num_noise_levels = int(num_noise_levels)

  @property
  def num_noise_levels(self) -> int:
    return self._num_noise_levels

  def _rows_per_level(self) -> int:
    raise NotImplementedError

  def _dither(self, shape: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
    """``(offset, row_shift)`` of a tensor of ``shape``: the float32 dither
    of each element and the int32 first table row of its dither level."""
    levels = noise_levels(shape, self._num_noise_levels)
    return (level_offsets(levels, self._num_noise_levels),
            levels * self._rows_per_level())

  def _dithered_tables(self, prior, batch_dims: list):
    """Tables of a prior whose batch shape is ``batch_dims``, one set of
    rows per dither level. Rows: level-major, then the prior's elements."""
    levels = self._num_noise_levels
    offsets = level_offsets(tf.range(levels), levels, prior.dtype)
    offsets = tf.reshape(offsets, [levels] + [1] * len(batch_dims))
    batch = tf.constant([levels] + list(batch_dims), tf.int32)
    return self._build_tables(_ShiftedPrior(prior, offsets, batch))


@keras.saving.register_keras_serializable(package="tensorcoder")
class UniversalBatchedEntropyModel(
    _UniversalQuantization, continuous_batched.BatchedEntropyModelBase):
  """Batched entropy model with universal quantization.

  Arguments as :class:`ContinuousBatchedEntropyModel`, plus
  ``num_noise_levels`` (dither levels; tables have that many rows per prior
  element). ``quantize``/``decompress`` return ``round(x - u) + u``.
  """

  def __init__(self, prior=None, coding_rank: Optional[int] = None,
               compression: bool = False, stateless: bool = False,
               expected_grads: bool = False, tail_mass: float = 2**-8,
               range_coder_precision: int = 12, bottleneck_dtype=None,
               prior_shape=None, cdf=None, cdf_offset=None, cdf_shapes=None,
               num_noise_levels: int = 15, decode_sanity_check: bool = True,
               laplace_tail_mass: float = 0.0, name: Optional[str] = None,
               **kwargs):
    super().__init__(
        prior=prior, coding_rank=coding_rank, prior_shape=prior_shape,
        compression=compression, stateless=stateless,
        expected_grads=expected_grads, tail_mass=tail_mass,
        range_coder_precision=range_coder_precision,
        bottleneck_dtype=bottleneck_dtype,
        laplace_tail_mass=laplace_tail_mass, name=name,
        decode_sanity_check=decode_sanity_check, **kwargs)
    self._set_num_noise_levels(num_noise_levels)
    self._init_tables(cdf, cdf_offset, cdf_shapes)

  def _rows_per_level(self) -> int:
    return max(1, self._prior_shape.num_elements())

  def _tables_from_prior(self):
    return self._dithered_tables(self.prior, self._prior_shape.as_list())

  def _grid(self, shape: tf.Tensor):
    """The dither of each element, and its row: its level's rows, then its
    element of the prior."""
    offset, shift = self._dither(shape)
    element = tf.broadcast_to(
        tf.reshape(tf.range(self._rows_per_level()), self._prior_shape),
        shape)
    return offset, shift + element

  def get_config(self) -> dict:
    config = super().get_config()
    config.update(num_noise_levels=self._num_noise_levels)
    return config


@keras.saving.register_keras_serializable(package="tensorcoder")
class UniversalIndexedEntropyModel(
    _UniversalQuantization, continuous_indexed.ContinuousIndexedEntropyModel):
  """Indexed entropy model with universal quantization.

  Arguments as :class:`ContinuousIndexedEntropyModel`, plus
  ``num_noise_levels``. The tables have one row per (dither level, index)
  pair; ``compress``/``decompress`` take the same indexes as the indexed
  model and return ``round(x - u) + u``.
  """

  def __init__(self, prior_fn=None, index_ranges=None, parameter_fns=None,
               coding_rank: Optional[int] = None, channel_axis=-1,
               num_noise_levels: int = 15, **kwargs):
    # The indexed constructor builds the tables, which need the levels.
    self._set_num_noise_levels(num_noise_levels)
    super().__init__(prior_fn=prior_fn, index_ranges=index_ranges,
                     parameter_fns=parameter_fns, coding_rank=coding_rank,
                     channel_axis=channel_axis, **kwargs)

  def _rows_per_level(self) -> int:
    return int(np.prod(self._index_ranges))

  def _tables_from_prior(self):
    prior = self._make_prior(self._index_grid())  # May run eagerly.
    return self._dithered_tables(prior, list(self._index_ranges))

  def _tables_per_index(self) -> int:
    return self._num_noise_levels

  def get_config(self) -> dict:
    config = super().get_config()
    config["num_noise_levels"] = self._num_noise_levels
    return config
