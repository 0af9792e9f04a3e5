"""Entropy models whose prior is chosen per element by an index.

In the scale-hyperprior codec (Ballé et al., "Variational image compression
with a scale hyperprior", ICLR 2018) a hyper-decoder predicts, for each latent
element, which of a finite family of priors to use; the family is fixed (say
64 normal distributions with scales spaced geometrically), so its integer
tables can be built once and the index of each element selects its row.
"""

from __future__ import annotations

import importlib
import math
from typing import Callable, Mapping, Optional, Sequence, Union

import keras
import numpy as np
import tensorflow as tf

from tensorcoder.entropy_models import continuous_base
from tensorcoder.ops import math_ops
from tensorcoder.ops import round_ops


@keras.saving.register_keras_serializable(package="tensorcoder")
class GeometricScales:
  """``scale_fn`` of geometrically spaced scales: index 0 gives ``minimum``,
  index ``num_scales - 1`` gives ``maximum`` (fractional indexes
  interpolate). Serializable, unlike a lambda."""

  def __init__(self, minimum: float, maximum: float, num_scales: int):
    if not 0 < minimum < maximum:
      raise ValueError(f"need 0 < minimum < maximum, got {minimum}, "
                       f"{maximum}")
    if int(num_scales) < 2:
      raise ValueError(f"num_scales must be at least 2, got {num_scales}")
    self.minimum = float(minimum)
    self.maximum = float(maximum)
    self.num_scales = int(num_scales)

  def __call__(self, index):
    step = (math.log(self.maximum) - math.log(self.minimum)) / (
        self.num_scales - 1)
    return tf.exp(math.log(self.minimum) + step * index)

  def get_config(self) -> dict:
    return dict(minimum=self.minimum, maximum=self.maximum,
                num_scales=self.num_scales)

  @classmethod
  def from_config(cls, config: dict) -> "GeometricScales":
    return cls(**config)


def _serialize_callable(fn):
  """A JSON-able description of a tensorcoder class (e.g. ``NoisyNormal``)
  or of a Keras-registered object with ``get_config``; None otherwise."""
  if fn is None:
    return None
  if isinstance(fn, type):
    if fn.__module__.startswith("tensorcoder."):
      return {"class": f"{fn.__module__}:{fn.__qualname__}"}
    return None
  try:
    name = keras.saving.get_registered_name(type(fn))
  except (TypeError, AttributeError):
    return None
  if hasattr(fn, "get_config") and keras.saving.get_registered_object(
      name) is type(fn):
    return {"object": name, "config": fn.get_config()}
  return None


def _deserialize_callable(spec):
  if spec is None:
    return None
  if "class" in spec:
    module, _, qualname = spec["class"].partition(":")
    if not module.startswith("tensorcoder."):
      raise ValueError(f"refusing to import {spec['class']!r}")
    value = importlib.import_module(module)
    for part in qualname.split("."):
      value = getattr(value, part)
    return value
  cls = keras.saving.get_registered_object(spec["object"])
  if cls is None:
    raise ValueError(f"unknown serialized object {spec['object']!r}")
  return cls.from_config(spec["config"])


@keras.saving.register_keras_serializable(package="tensorcoder")
class ContinuousIndexedEntropyModel(
    continuous_base.ContinuousEntropyModelBase):
  """Indexed entropy model for continuous random variables.

  ``prior_fn(**{name: fn(indexes) for name, fn in parameter_fns.items()})``
  is the (noisy) prior of each element. With a single index range
  (``index_ranges=R`` or ``(R,)`` and ``channel_axis=None``) the indexes have
  the bottleneck's shape with values in ``[0, R)``; with several, they have
  one more axis, at ``channel_axis``, holding one index per range.

  Indexes outside the ranges are clipped to them, as in TFC (integer and
  floating-point ones alike). Floating-point indexes are a continuous
  parameterisation: in training (and for the rate with ``training=False``)
  they select interpolated priors, clipped with gradients that pull them
  back inside; when coding they select table row ``floor(index)``, as in
  TFC (``index_rounding="floor"``, the default), so strings written by TFC's
  models decode here. ``index_rounding="nearest"`` rounds to the nearest
  row instead: tensorcoder 1 did that, and configs saved by it (which have
  no ``index_rounding`` key) load with it, so their strings stay the same.

  Args:
    prior_fn: callable returning a batch of noisy priors from parameters.
    index_ranges: int or sequence of ints, the number of values of each
      index.
    parameter_fns: ``{name: fn}`` mapping (float) indexes to parameters.
    coding_rank: innermost dimensions coded into one string.
    channel_axis: axis of ``indexes`` holding the index channels (ignored,
      and None, for a single index range given as an int).
    compression, stateless, expected_grads, tail_mass,
    range_coder_precision, bottleneck_dtype, laplace_tail_mass: see
      :class:`ContinuousEntropyModelBase`.
    prior_dtype: dtype of the priors' parameters.
    cdf, cdf_offset, cdf_shapes: tables given, or their shapes (see
      :class:`ContinuousBatchedEntropyModel`).
    decode_sanity_check: ``decompress`` raises on corrupt strings.
    index_rounding: how float indexes select table rows when coding:
      ``"floor"`` (TFC's) or ``"nearest"`` (tensorcoder 1's).
  """

  def __init__(self, prior_fn: Optional[Callable] = None,
               index_ranges: Union[int, Sequence[int]] = None,
               parameter_fns: Optional[Mapping[str, Callable]] = None,
               coding_rank: Optional[int] = None,
               channel_axis: Optional[int] = -1, compression: bool = False,
               stateless: bool = False, expected_grads: bool = False,
               tail_mass: float = 2**-8, range_coder_precision: int = 12,
               bottleneck_dtype=None, prior_dtype=tf.float32, cdf=None,
               cdf_offset=None, cdf_shapes=None,
               decode_sanity_check: bool = True,
               laplace_tail_mass: float = 0.0, name: Optional[str] = None,
               index_rounding: str = "floor", **kwargs):
    if index_rounding not in ("floor", "nearest"):
      raise ValueError("index_rounding must be 'floor' (TFC's) or 'nearest', "
                       f"got {index_rounding!r}")
    self._index_rounding = index_rounding
    if index_ranges is None:
      raise ValueError("index_ranges is required")
    if isinstance(index_ranges, (int, np.integer)):
      index_ranges = (int(index_ranges),)
      channel_axis = None
    index_ranges = tuple(int(r) for r in index_ranges)
    if not index_ranges or any(r < 1 for r in index_ranges):
      raise ValueError(f"index_ranges must be positive, got {index_ranges}")
    if channel_axis is None and len(index_ranges) != 1:
      raise ValueError("channel_axis=None needs a single index range")
    super().__init__(
        prior=None, coding_rank=coding_rank, compression=compression,
        stateless=stateless, expected_grads=expected_grads,
        tail_mass=tail_mass, range_coder_precision=range_coder_precision,
        bottleneck_dtype=bottleneck_dtype,
        laplace_tail_mass=laplace_tail_mass, name=name,
        decode_sanity_check=decode_sanity_check, **kwargs)
    self._prior_fn = prior_fn
    self._parameter_fns = dict(parameter_fns or {})
    self._index_ranges = index_ranges
    self._channel_axis = None if channel_axis is None else int(channel_axis)
    self._prior_dtype = tf.as_dtype(prior_dtype)
    if prior_fn is not None:
      # The family over the whole index grid: its rows are the table rows,
      # and its Keras layers (if any) are tracked.
      self._prior = self._make_prior(self._index_grid())
      self._prior_layers = continuous_base.find_layers(self._prior)
    elif cdf is None and cdf_shapes is None and compression:
      raise ValueError("give prior_fn, or the tables (cdf, cdf_offset) or "
                       "their cdf_shapes")
    self._init_tables(cdf, cdf_offset, cdf_shapes)
    if self.compression:
      rows = int(np.prod(self._index_ranges)) * self._tables_per_index()
      if self._cdf_offset.shape[0] != rows:
        raise ValueError(f"the tables have {self._cdf_offset.shape[0]} rows, "
                         f"index_ranges {self._index_ranges} need {rows}")

  # -- properties ------------------------------------------------------------

  @property
  def index_ranges(self) -> tuple[int, ...]:
    return self._index_ranges

  @property
  def parameter_fns(self) -> dict:
    return dict(self._parameter_fns)

  @property
  def prior_fn(self):
    return self._prior_fn

  @property
  def prior_dtype(self) -> tf.DType:
    return self._prior_dtype

  @property
  def channel_axis(self) -> Optional[int]:
    return self._channel_axis

  # -- priors and indexes ----------------------------------------------------

  def _make_prior(self, indexes):
    if self._prior_fn is None:
      raise RuntimeError("this entropy model was created from tables and has "
                         "no prior_fn")
    indexes = tf.cast(indexes, self._prior_dtype)
    parameters = {k: f(indexes) for k, f in self._parameter_fns.items()}
    prior = self._prior_fn(**parameters)
    continuous_base.check_scalar_prior(prior)
    if prior.dtype != self._prior_dtype:
      raise TypeError(f"prior_fn made a prior of dtype {prior.dtype.name}, "
                      f"expected prior_dtype={self._prior_dtype.name}")
    return prior

  def _index_grid(self) -> tf.Tensor:
    if self._channel_axis is None:
      return tf.range(self._index_ranges[0], dtype=self._prior_dtype)
    axes = [tf.range(r, dtype=self._prior_dtype) for r in self._index_ranges]
    grid = tf.meshgrid(*axes, indexing="ij")
    return tf.stack(grid, axis=self._channel_axis)

  def _tables_from_prior(self):
    # The family is made again here: this may run eagerly (see _eagerly).
    return self._build_tables(self._make_prior(self._index_grid()))

  def _tables_per_index(self) -> int:
    """Table rows per index value (more for universal quantization)."""
    return 1

  def _dither(self, shape: tf.Tensor
              ) -> tuple[Optional[tf.Tensor], Optional[tf.Tensor]]:
    """``(offset, row_shift)`` of a bottleneck of ``shape``: quantization
    offsets (None: the integers) and what to add to the indexes' table rows
    (None: nothing). Universal quantization's dither in the subclass."""
    del shape
    return None, None

  def _bounds(self, indexes: tf.Tensor) -> tf.Tensor:
    """Largest valid index, shaped to broadcast against ``indexes``."""
    if self._channel_axis is None:
      return tf.constant(self._index_ranges[0] - 1, indexes.dtype)
    axes = [1] * indexes.shape.rank
    axes[self._channel_axis] = len(self._index_ranges)
    return tf.reshape(tf.constant([r - 1 for r in self._index_ranges],
                                  indexes.dtype), axes)

  def _check_index_shape(self, bottleneck: tf.Tensor, indexes: tf.Tensor):
    if indexes.shape.rank is None or bottleneck.shape.rank is None:
      return
    shape = indexes.shape
    if self._channel_axis is not None:
      if shape.rank != bottleneck.shape.rank + 1:
        raise ValueError(f"indexes must have one more axis than the "
                         f"bottleneck (the index channels at axis "
                         f"{self._channel_axis}), got shapes {shape} and "
                         f"{bottleneck.shape}")
      if shape[self._channel_axis] not in (None, len(self._index_ranges)):
        raise ValueError(f"indexes need {len(self._index_ranges)} channels "
                         f"at axis {self._channel_axis}, got shape {shape}")
      dims = shape.as_list()
      del dims[self._channel_axis]
      shape = tf.TensorShape(dims)
    if not shape.is_compatible_with(bottleneck.shape):
      raise ValueError(f"indexes of shape {indexes.shape} do not match the "
                       f"bottleneck's shape {bottleneck.shape}")

  def _normalize_indexes(self, indexes: tf.Tensor) -> tf.Tensor:
    """Float indexes clipped to the ranges (gradients pull them inside)."""
    indexes = tf.cast(indexes, self._prior_dtype)
    indexes = math_ops.lower_bound(indexes, 0.0)
    return math_ops.upper_bound(indexes, self._bounds(indexes))

  def _row_indexes(self, indexes: tf.Tensor):
    """Table rows of the indexes, and assertions guarding them.

    As TFC, indexes outside the ranges are clipped to them (each channel to
    ``[0, index_ranges[k] - 1]``); float indexes are then rounded to the
    row ``floor(index)`` (TFC) or the nearest one (``index_rounding``) and
    must be finite.
    """
    checks = []
    if indexes.dtype.is_integer:
      indexes = tf.cast(indexes, tf.int32)
      indexes = tf.clip_by_value(indexes, 0, self._bounds(indexes))
    elif indexes.dtype.is_floating:
      wide = tf.cast(indexes, tf.float32)
      checks.append(tf.debugging.assert_all_finite(
          wide, "indexes must be finite"))
      with tf.control_dependencies(checks):
        wide = tf.clip_by_value(wide, 0.0,
                                tf.cast(self._bounds(wide), tf.float32))
      rows = tf.floor(wide) if self._index_rounding == "floor" else tf.round(
          wide)
      indexes = tf.cast(rows, tf.int32)
    else:
      raise TypeError(f"indexes must be integer or floating point, got "
                      f"{indexes.dtype.name}")
    if self._channel_axis is not None:
      strides = np.cumprod((1,) + self._index_ranges[:0:-1])[::-1]
      with tf.control_dependencies(checks):
        indexes = tf.tensordot(indexes, tf.constant(strides, tf.int32),
                               [[self._channel_axis], [0]])
    return indexes, checks

  # -- training and quantization --------------------------------------------

  def call(self, bottleneck, indexes, training=True):
    """Perturbs (training) or quantizes the bottleneck and returns the rate.

    Returns:
      ``(outputs, bits)``, the bits summed over the coding dimensions.
    """
    bottleneck = self._convert(bottleneck)
    indexes = tf.convert_to_tensor(indexes)
    self._check_index_shape(bottleneck, indexes)
    prior = self._make_prior(self._normalize_indexes(indexes))
    return self._perturb_or_quantize(
        prior, bottleneck, training,
        lambda x: round_ops.round_st(self._convert(x)))

  def quantize(self, bottleneck) -> tf.Tensor:
    """Rounds to the quantization grid (the integers, or the dither of the
    universal model) with a straight-through gradient."""
    bottleneck = self._convert(bottleneck)
    offset, _ = self._dither(tf.shape(bottleneck))
    return self._round_to_grid(bottleneck, offset)

  # -- coding ----------------------------------------------------------------

  def compress(self, bottleneck, indexes) -> tf.Tensor:
    """Codes the rounded bottleneck with the rows its indexes select.

    Coding units of 2**17 or more values are split into chunks coded in
    parallel (docs/FORMAT.md); smaller ones give TFC's bytes.

    Returns:
      Strings of the bottleneck's shape without its coding dimensions.
    """
    self._check_compression()
    bottleneck = self._convert(bottleneck)
    indexes = tf.convert_to_tensor(indexes)
    self._check_index_shape(bottleneck, indexes)
    rows, checks = self._row_indexes(indexes)
    shape = tf.shape(bottleneck)
    offset, shift = self._dither(shape)
    with tf.control_dependencies(checks):
      rows = tf.broadcast_to(rows, shape)
      if shift is not None:
        rows += shift
    return self._compress_values(bottleneck, offset, rows)

  def decompress(self, strings, indexes) -> tf.Tensor:
    """Decodes strings of ``compress`` given the same indexes.

    Returns:
      The quantized bottleneck (the indexes' shape without index channels).
      Corrupt strings raise DataLossError (unless
      ``decode_sanity_check=False``).
    """
    self._check_compression()
    strings = tf.convert_to_tensor(strings, tf.string)
    indexes = tf.convert_to_tensor(indexes)
    rows, checks = self._row_indexes(indexes)
    if rows.shape.rank is not None and strings.shape.rank is not None:
      if rows.shape.rank != strings.shape.rank + self.coding_rank:
        raise ValueError(
            f"indexes (without index channels) have rank {rows.shape.rank}; "
            f"it must be the strings' rank {strings.shape.rank} plus "
            f"coding_rank={self.coding_rank}")
    shape = tf.shape(rows)
    count = tf.reduce_prod(shape[tf.rank(strings):])
    checks.append(tf.debugging.assert_equal(
        tf.shape(strings), shape[:tf.rank(strings)],
        message="the strings' shape must equal the indexes' batch shape"))
    offset, shift = self._dither(shape)
    if shift is not None:
      with tf.control_dependencies(checks):
        rows += shift
    return self._decompress_values(strings, shape, count, offset, rows,
                                   checks)

  # -- serialization ---------------------------------------------------------

  def get_config(self) -> dict:
    config = super().get_config()
    config.update(index_ranges=list(self._index_ranges),
                  channel_axis=self._channel_axis,
                  prior_dtype=self._prior_dtype.name,
                  index_rounding=self._index_rounding)
    return config

  @classmethod
  def from_config(cls, config: dict):
    config = dict(config)
    # Saved by tensorcoder 1, which rounded float indexes to the nearest row.
    config.setdefault("index_rounding", "nearest")
    return super().from_config(config)

  @property
  def index_rounding(self) -> str:
    """``"floor"`` (TFC's) or ``"nearest"``: see the class docstring."""
    return self._index_rounding


@keras.saving.register_keras_serializable(package="tensorcoder")
class LocationScaleIndexedEntropyModel(ContinuousIndexedEntropyModel):
  """Indexed entropy model over a family of location-scale priors.

  ``prior_fn(loc=0, scale=scale_fn(i))`` for ``i`` in ``[0, num_scales)``
  gives the tables; the location is handled by shifting: the bottleneck is
  coded as ``bottleneck - loc``, which keeps the family finite (the mean-
  scale hyperprior of Minnen, Ballé and Toderici, NeurIPS 2018).

  Args:
    prior_fn: a location-scale noisy prior class, e.g. ``NoisyNormal``.
    num_scales: number of scales (table rows).
    scale_fn: maps float indexes to scales, e.g.
      ``GeometricScales(0.11, 256, 64)``.
    coding_rank, compression, stateless, expected_grads, tail_mass,
    range_coder_precision, bottleneck_dtype, prior_dtype, laplace_tail_mass:
      see :class:`ContinuousIndexedEntropyModel`.
  """

  def __init__(self, prior_fn=None, num_scales: Optional[int] = None,
               scale_fn: Optional[Callable] = None,
               coding_rank: Optional[int] = None, compression: bool = False,
               stateless: bool = False, expected_grads: bool = False,
               tail_mass: float = 2**-8, range_coder_precision: int = 12,
               bottleneck_dtype=None, prior_dtype=tf.float32,
               laplace_tail_mass: float = 0.0, cdf=None, cdf_offset=None,
               cdf_shapes=None, decode_sanity_check: bool = True,
               name: Optional[str] = None, **kwargs):
    if num_scales is None or int(num_scales) < 1:
      raise ValueError(f"num_scales must be a positive integer, got "
                       f"{num_scales}")
    if (prior_fn is None) != (scale_fn is None):
      raise ValueError("give both prior_fn and scale_fn (or neither, with "
                       "tables)")
    self._num_scales = int(num_scales)
    self._scale_fn = scale_fn
    parameter_fns = None
    if scale_fn is not None:
      parameter_fns = dict(loc=lambda _: 0.0, scale=scale_fn)
    kwargs.pop("index_ranges", None)
    kwargs.pop("channel_axis", None)
    super().__init__(
        prior_fn=prior_fn, index_ranges=(self._num_scales,),
        parameter_fns=parameter_fns, coding_rank=coding_rank,
        channel_axis=None, compression=compression, stateless=stateless,
        expected_grads=expected_grads, tail_mass=tail_mass,
        range_coder_precision=range_coder_precision,
        bottleneck_dtype=bottleneck_dtype, prior_dtype=prior_dtype, cdf=cdf,
        cdf_offset=cdf_offset, cdf_shapes=cdf_shapes,
        decode_sanity_check=decode_sanity_check,
        laplace_tail_mass=laplace_tail_mass, name=name, **kwargs)

  @property
  def num_scales(self) -> int:
    return self._num_scales

  @property
  def scale_fn(self):
    return self._scale_fn

  def _shift(self, bottleneck, loc):
    bottleneck = self._convert(bottleneck)
    if loc is None:
      return bottleneck, None
    loc = tf.cast(tf.convert_to_tensor(loc), self.bottleneck_dtype)
    return bottleneck - loc, loc

  def call(self, bottleneck, scale_indexes, loc=None, training=True):
    """``(perturbed or quantized bottleneck, bits)``; see the base class.

    The straight-through quantization ``round(x - loc) + loc`` passes
    gradients to both the bottleneck and ``loc``.
    """
    shifted, loc = self._shift(bottleneck, loc)
    values, bits = super().call(shifted, scale_indexes, training=training)
    if loc is not None:
      values += loc
    return values, bits

  def quantize(self, bottleneck, loc=None) -> tf.Tensor:
    """``round(bottleneck - loc) + loc`` with straight-through gradients."""
    shifted, loc = self._shift(bottleneck, loc)
    values = round_ops.round_st(shifted)
    return values if loc is None else values + loc

  def compress(self, bottleneck, scale_indexes, loc=None) -> tf.Tensor:
    """Codes ``round(bottleneck - loc)`` with the rows of ``scale_indexes``."""
    shifted, _ = self._shift(bottleneck, loc)
    return super().compress(shifted, scale_indexes)

  def decompress(self, strings, scale_indexes, loc=None) -> tf.Tensor:
    """Inverse of ``compress``: ``round(bottleneck - loc) + loc``."""
    values = super().decompress(strings, scale_indexes)
    if loc is not None:
      values += tf.cast(loc, self.bottleneck_dtype)
    return values

  def get_config(self) -> dict:
    config = super().get_config()
    for key in ("index_ranges", "channel_axis"):
      config.pop(key)
    config.update(num_scales=self._num_scales,
                  prior_fn=_serialize_callable(self._prior_fn),
                  scale_fn=_serialize_callable(self._scale_fn))
    return config

  @classmethod
  def from_config(cls, config: dict) -> "LocationScaleIndexedEntropyModel":
    config = dict(config)
    config.setdefault("index_rounding", "nearest")  # tensorcoder 1's configs.
    prior_fn = _deserialize_callable(config.pop("prior_fn", None))
    scale_fn = _deserialize_callable(config.pop("scale_fn", None))
    if prior_fn is None or scale_fn is None:
      prior_fn = scale_fn = None
    return cls(prior_fn=prior_fn, scale_fn=scale_fn, **config)
