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
"""

from __future__ import annotations

from typing import Optional

import keras
import numpy as np
import tensorflow as tf

from tensorcoder import ops
from tensorcoder.entropy_models import continuous_base
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
    from tensorcoder.distributions import helpers  # pylint: disable=g-import-not-at-top
    lower = helpers.lower_tail(self._prior, tail_mass)
    upper = helpers.upper_tail(self._prior, tail_mass)
    offset = tf.cast(self._offset, self.dtype)
    return (tf.broadcast_to(lower - offset, self._batch_shape),
            tf.broadcast_to(upper - offset, self._batch_shape))

  def _lower_tail(self, tail_mass):
    return self._tails(tail_mass)[0]

  def _upper_tail(self, tail_mass):
    return self._tails(tail_mass)[1]


@keras.saving.register_keras_serializable(package="tensorcoder")
class UniversalBatchedEntropyModel(
    continuous_base.ContinuousEntropyModelBase):
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
    if prior is None and prior_shape is None:
      raise ValueError("give a prior, or prior_shape with the tables")
    super().__init__(
        prior=prior, coding_rank=coding_rank, compression=compression,
        stateless=stateless, expected_grads=expected_grads,
        tail_mass=tail_mass, range_coder_precision=range_coder_precision,
        bottleneck_dtype=bottleneck_dtype,
        laplace_tail_mass=laplace_tail_mass, name=name, **kwargs)
    self._prior_shape = tf.TensorShape(
        prior.batch_shape if prior is not None else prior_shape)
    if self.coding_rank < self._prior_shape.rank:
      raise ValueError(f"coding_rank ({self.coding_rank}) must be at least "
                       f"the prior's rank ({self._prior_shape.rank})")
    if int(num_noise_levels) < 1:
      raise ValueError(f"num_noise_levels must be positive, got "
                       f"{num_noise_levels}")
    self._num_noise_levels = int(num_noise_levels)
    self._decode_sanity_check = bool(decode_sanity_check)
    self._init_tables(cdf, cdf_offset, cdf_shapes)

  @property
  def prior_shape(self) -> tf.TensorShape:
    return self._prior_shape

  @property
  def num_noise_levels(self) -> int:
    return self._num_noise_levels

  def _tables_from_prior(self):
    levels = self._num_noise_levels
    prior_shape = self._prior_shape.as_list()
    offsets = level_offsets(tf.range(levels), levels, self.prior.dtype)
    offsets = tf.reshape(offsets, [levels] + [1] * len(prior_shape))
    batch = tf.constant([levels] + prior_shape, tf.int32)
    # Rows: level-major, then the prior's elements.
    return self._build_tables(_ShiftedPrior(self.prior, offsets, batch))

  def _levels_and_rows(self, shape: tf.Tensor):
    """Dither offsets and table rows for a bottleneck of ``shape``."""
    levels = noise_levels(shape, self._num_noise_levels)
    size = max(1, self._prior_shape.num_elements())
    element = tf.broadcast_to(
        tf.reshape(tf.range(size), self._prior_shape), shape)
    rows = levels * size + element
    return level_offsets(levels, self._num_noise_levels), rows

  def _convert(self, bottleneck, prior_shape=None) -> tf.Tensor:
    return super()._convert(bottleneck, self._prior_shape)

  def call(self, bottleneck, training=True):
    """``(perturbed, bits)``: uniform noise in training; the universally
    quantized value and its coded rate otherwise."""
    return self._perturb_or_quantize(self.prior, self._convert(bottleneck),
                                     training, self.quantize)

  def quantize(self, bottleneck) -> tf.Tensor:
    """``round(x - u) + u`` with the shared dither u (straight through)."""
    bottleneck = self._convert(bottleneck)
    offset, _ = self._levels_and_rows(tf.shape(bottleneck))
    x = tf.cast(bottleneck, tf.float32)
    from tensorcoder.ops import round_ops  # pylint: disable=g-import-not-at-top
    return tf.cast(round_ops.round_st(x, offset), self.bottleneck_dtype)

  def compress(self, bottleneck) -> tf.Tensor:
    """Codes ``round(x - u)`` into one string per coding unit."""
    self._check_compression()
    bottleneck = self._convert(bottleneck)
    shape = tf.shape(bottleneck)
    offset, rows = self._levels_and_rows(shape)
    values = continuous_base.as_coding_float(bottleneck)
    values -= tf.cast(offset, values.dtype)
    flat = tf.concat([shape[:tf.rank(bottleneck) - self.coding_rank], [-1]],
                     0)
    return self._encode_units(tf.reshape(values, flat),
                              tf.reshape(rows, flat))

  def decompress(self, strings, broadcast_shape) -> tf.Tensor:
    """Decodes ``compress``'s strings into ``round(x - u) + u``."""
    self._check_compression()
    strings = tf.convert_to_tensor(strings, tf.string)
    broadcast_shape = tf.convert_to_tensor(broadcast_shape, tf.int32)
    shape = tf.concat([tf.shape(strings), broadcast_shape,
                       tf.constant(self._prior_shape.as_list(), tf.int32)], 0)
    offset, rows = self._levels_and_rows(shape)
    count = tf.reduce_prod(shape[tf.rank(strings):])
    flat_rows = tf.reshape(rows, tf.concat([tf.shape(strings), [count]], 0))
    values = self._decode_units(strings, count, flat_rows,
                                check=self._decode_sanity_check)
    values = tf.reshape(values, shape) + offset
    return tf.cast(values, self.bottleneck_dtype)

  def get_config(self) -> dict:
    config = super().get_config()
    config.update(prior_shape=self._prior_shape.as_list(),
                  num_noise_levels=self._num_noise_levels,
                  decode_sanity_check=self._decode_sanity_check)
    return config


@keras.saving.register_keras_serializable(package="tensorcoder")
class UniversalIndexedEntropyModel(
    continuous_indexed.ContinuousIndexedEntropyModel):
  """Indexed entropy model with universal quantization.

  Arguments as :class:`ContinuousIndexedEntropyModel`, plus
  ``num_noise_levels``. The tables have one row per (dither level, index)
  pair; ``compress``/``decompress`` take the same indexes as the indexed
  model and return ``round(x - u) + u``.
  """

  def __init__(self, prior_fn=None, index_ranges=None, parameter_fns=None,
               coding_rank: Optional[int] = None, channel_axis=-1,
               num_noise_levels: int = 15, **kwargs):
    if int(num_noise_levels) < 1:
      raise ValueError(f"num_noise_levels must be positive, got "
                       f"{num_noise_levels}")
    self._num_noise_levels_init = int(num_noise_levels)
    super().__init__(prior_fn=prior_fn, index_ranges=index_ranges,
                     parameter_fns=parameter_fns, coding_rank=coding_rank,
                     channel_axis=channel_axis, **kwargs)

  @property
  def num_noise_levels(self) -> int:
    return self._num_noise_levels_init

  def _tables_from_prior(self):
    levels = self._num_noise_levels_init
    prior = self._make_prior(self._index_grid())  # May run eagerly.
    offsets = level_offsets(tf.range(levels), levels, prior.dtype)
    offsets = tf.reshape(offsets, [levels] + [1] * len(self._index_ranges))
    batch = tf.constant([levels] + list(self._index_ranges), tf.int32)
    return self._build_tables(_ShiftedPrior(prior, offsets, batch))

  def _tables_per_index(self) -> int:
    return self._num_noise_levels_init

  def quantize(self, bottleneck) -> tf.Tensor:
    bottleneck = self._convert(bottleneck)
    offset = level_offsets(
        noise_levels(tf.shape(bottleneck), self._num_noise_levels_init),
        self._num_noise_levels_init)
    from tensorcoder.ops import round_ops  # pylint: disable=g-import-not-at-top
    return tf.cast(round_ops.round_st(tf.cast(bottleneck, tf.float32), offset),
                   self.bottleneck_dtype)

  def _level_rows(self, indexes: tf.Tensor, shape: tf.Tensor):
    """Dither levels of a tensor of ``shape`` and the table rows of its
    (level, index) pairs, with the assertions that guard the indexes."""
    rows, checks = self._row_indexes(indexes)
    levels = noise_levels(shape, self._num_noise_levels_init)
    per_level = int(np.prod(self._index_ranges))
    with tf.control_dependencies(checks):
      rows = tf.broadcast_to(rows, shape) + levels * per_level
    return levels, rows

  def compress(self, bottleneck, indexes) -> tf.Tensor:
    """Codes ``round(x - u)`` with the rows of (dither level, index)."""
    self._check_compression()
    bottleneck = self._convert(bottleneck)
    indexes = tf.convert_to_tensor(indexes)
    self._check_index_shape(bottleneck, indexes)
    shape = tf.shape(bottleneck)
    levels, rows = self._level_rows(indexes, shape)
    values = continuous_base.as_coding_float(bottleneck)
    values -= tf.cast(level_offsets(levels, self._num_noise_levels_init),
                      values.dtype)
    flat = tf.concat([shape[:tf.rank(bottleneck) - self.coding_rank], [-1]],
                     0)
    return self._encode_units(tf.reshape(values, flat),
                              tf.reshape(rows, flat))

  def decompress(self, strings, indexes) -> tf.Tensor:
    """Decodes ``compress``'s strings into ``round(x - u) + u``."""
    self._check_compression()
    strings = tf.convert_to_tensor(strings, tf.string)
    indexes = tf.convert_to_tensor(indexes)
    shape = tf.shape(self._row_indexes(indexes)[0])
    levels, rows = self._level_rows(indexes, shape)
    count = tf.reduce_prod(shape[tf.rank(strings):])
    flat = tf.reshape(rows, tf.concat([tf.shape(strings), [count]], 0))
    values = self._decode_units(strings, count, flat,
                                check=self.decode_sanity_check)
    values = tf.reshape(values, shape) + level_offsets(
        levels, self._num_noise_levels_init)
    return tf.cast(values, self.bottleneck_dtype)

  def get_config(self) -> dict:
    config = super().get_config()
    config["num_noise_levels"] = self._num_noise_levels_init
    return config
