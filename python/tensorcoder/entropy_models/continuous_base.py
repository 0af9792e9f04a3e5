"""What the continuous entropy models share: tables, rates, serialization.

An entropy model turns a continuous "bottleneck" tensor into bits. During
training it adds uniform noise U(-1/2, 1/2) and returns the rate under the
noisy prior, a differentiable upper bound of the coded rate (Ballé, Laparra
and Simoncelli, "End-to-end optimized image compression", ICLR 2017). For
compression it rounds and range-codes the integers with integer CDF tables.

Tables are built once, vectorised, from the prior: each pmf covers the
prior's central ``1 - tail_mass`` (from ``lower_tail``/``upper_tail``), its
masses are quantized to ``range_coder_precision`` bits by the
``pmfs_to_cdf_lookup`` op, and the remaining mass goes to an overflow escape
symbol, so any integer stays codable. The tables (the matrix lookup ``cdf``
and the integer ``cdf_offset`` of each row) are Variables when
``stateless=False``: they are saved with the model, and the decoder never
rebuilds them from floating-point parameters.

The models are Keras 3 layers, so that a Keras model holding one tracks its
prior's weights and its tables, trains them with ``fit`` and saves them.
"""

from __future__ import annotations

import contextlib
import math
from typing import Any, Callable, Iterator, Optional

import keras
import numpy as np
import tensorflow as tf

from tensorcoder import ops
from tensorcoder.distributions import helpers
from tensorcoder.ops import round_ops

def global_compute_dtype() -> tf.DType:
  """The compute dtype of Keras' global dtype policy (float16 under
  mixed_float16), the default bottleneck dtype, as in TFC."""
  return tf.as_dtype(keras.mixed_precision.global_policy().compute_dtype)


def find_layers(prior) -> list:
  """Keras layers a prior is made of (itself or its ``base`` chain), so the
  entropy model can track their weights."""
  layers, seen = [], set()
  while prior is not None and id(prior) not in seen:
    seen.add(id(prior))
    if isinstance(prior, keras.layers.Layer):
      layers.append(prior)
    prior = getattr(prior, "base", None)
  return layers


def unwrap_quantize(layer: keras.layers.Layer) -> None:
  """Undoes Keras' wrapping of ``layer.quantize`` (its int8 weight
  quantization API, installed as an instance attribute by
  ``Layer.__new__``), so the entropy models' ``quantize`` (TFC's meaning:
  rounding) is called as written. Deleting the instance attribute leaves the
  class' method."""
  try:
    del layer.quantize
  except AttributeError:
    pass


@contextlib.contextmanager
def unlocked_state(layer: keras.layers.Layer) -> Iterator[None]:
  """Lets a built Keras layer or model accept new sub-layers and variables.

  Keras 3 locks the state of a built layer (including subclassed
  ``keras.Model``s, but not Functional or Sequential ones): assigning a new
  sub-layer afterwards raises ``ValueError: You cannot add new elements of
  state``. TensorFlow Compression's models attach their range-coding
  entropy model after training, e.g. in a ``fit`` override::

    self.entropy_model = tfc.ContinuousBatchedEntropyModel(
        self.prior, coding_rank=3, compression=True)

  With Keras 3 the same line is written inside this context::

    with tensorcoder.unlocked_state(self):
      self.entropy_model = tensorcoder.ContinuousBatchedEntropyModel(
          self.prior, coding_rank=3, compression=True)

  The new entropy model is then tracked as usual: its tables are among the
  model's weights, saved by ``model.save`` and ``tf.saved_model.save``.
  The previous lock state is restored on exit. Keras has no public API for
  this; this is tensorcoder's only use of Keras' private attribute tracker.

  Args:
    layer: a Keras layer or model (anything else: the context does nothing).
  """
  tracker = getattr(layer, "_tracker", None)
  if tracker is None or not tracker.locked:
    yield
    return
  message = getattr(tracker, "_lock_violation_msg", None)
  tracker.unlock()
  try:
    yield
  finally:
    tracker.lock(message)


def check_scalar_prior(prior) -> None:
  """Raises ValueError for a prior with a non-scalar event shape (the
  entropy models code batches of scalar distributions)."""
  event_shape = getattr(prior, "event_shape", None)
  if event_shape is not None and tf.TensorShape(event_shape).rank:
    raise ValueError(
        "the prior must be a (batch of) scalar distribution(s); got event "
        f"shape {tf.TensorShape(event_shape)}. Move the event dimensions "
        "into the batch shape (e.g. tfp.distributions.Independent's "
        "distribution, or a batch of scalar priors).")


def is_tensor_like(value) -> bool:
  return isinstance(value, (tf.Tensor, tf.Variable)) or (
      hasattr(value, "dtype") and hasattr(value, "shape") and
      not isinstance(value, (float, int, np.ndarray, np.generic)))


def sum_over_coding_dims(values: tf.Tensor, coding_rank: int) -> tf.Tensor:
  if coding_rank == 0:
    return values
  return tf.reduce_sum(values, axis=list(range(-coding_rank, 0)))


def flatten_units(values: tf.Tensor, coding_rank: Optional[int] = None,
                  batch_shape: Optional[tf.Tensor] = None,
                  count=-1) -> tf.Tensor:
  """Reshapes to ``[batch..., count]``: one row per coding unit.

  The models' one flat-shape reshape, for values, table rows and decoded
  symbols alike.

  Args:
    values: the tensor to reshape.
    coding_rank: the batch shape is that of ``values`` without its
      ``coding_rank`` innermost dimensions (the encoder side).
    batch_shape: the batch shape itself, e.g. ``tf.shape(strings)`` (the
      decoder side); used instead of ``coding_rank``.
    count: values per unit; -1 (inferred) unless known. The decoder passes
      it, since it cannot be inferred for an empty batch.
  """
  if batch_shape is None:
    batch_shape = tf.shape(values)[:tf.rank(values) - coding_rank]
  return tf.reshape(values, tf.concat([batch_shape, [count]], 0))


def check_tail_mass(tail_mass: float) -> None:
  """Raises ValueError unless ``0 < tail_mass < 1``."""
  if not 0 < tail_mass < 1:
    raise ValueError(f"tail_mass must be in (0, 1), got {tail_mass}")


def check_range_coder_precision(range_coder_precision: int) -> None:
  """Raises ValueError unless the precision is in [1, 16] bits."""
  if not 1 <= int(range_coder_precision) <= 16:
    raise ValueError("range_coder_precision must be in [1, 16], got "
                     f"{range_coder_precision}")


def max_table_symbols(range_coder_precision: int) -> int:
  """Most symbols a table row may hold at this precision (one more value of
  the 2**precision goes to the overflow escape)."""
  return 2**int(range_coder_precision) - 1


def table_extent(lower: tf.Tensor, upper: tf.Tensor,
                 offset: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
  """First symbol and number of symbols (both floating point) of the table
  rows covering ``[lower, upper]`` on the grid ``offset + integers``."""
  minima = tf.math.floor(lower - offset)
  maxima = tf.math.ceil(upper - offset)
  return minima, tf.maximum(maxima - minima + 1, 1)


def tables_from_pmf(pmf_fn: Callable[[tf.Tensor], tf.Tensor],
                    minima: tf.Tensor, lengths: tf.Tensor,
                    offset: tf.Tensor,
                    range_coder_precision: int) -> tuple[tf.Tensor, tf.Tensor]:
  """Integer range-coding tables of rows of pmfs; every model's tables.

  Args:
    pmf_fn: maps sample points ``[max_length, rows]`` to their masses (the
      mass of the bin around each point), of the same shape.
    minima: [rows] first symbol of each row (floating point, integral).
    lengths: [rows] int32 number of symbols of each row (from
      :func:`table_extent`, checked against :func:`max_table_symbols`).
    offset: [rows] quantization offset of each row: symbol k stands for
      the value ``k + offset``.
    range_coder_precision: bits of the table probabilities.

  Returns:
    ``(cdf, cdf_offset)``: the [rows, width] int32 lookup (with the
    overflow escape) and the [rows] int32 first symbol of each row.
  """
  max_length = tf.reduce_max(lengths)
  samples = (tf.cast(tf.range(max_length), minima.dtype)[:, None] +
             (minima + offset)[None, :])
  pmf = tf.transpose(pmf_fn(samples))
  # Masses outside a row's length are never read.
  cdf = ops.pmfs_to_cdf_lookup(
      tf.cast(pmf, tf.float64) if pmf.dtype != tf.float64 else pmf,
      lengths, precision=range_coder_precision, overflow=True)
  cdf_offset = tf.cast(minima, tf.int32)
  return tf.stop_gradient(cdf), tf.stop_gradient(cdf_offset)


def encode_units(values: tf.Tensor, cdf, cdf_offset,
                 rows: Optional[tf.Tensor] = None) -> tf.Tensor:
  """Codes [batch..., N] values (already minus their quantization offsets)
  into one string per row of the batch: round, subtract the rows'
  ``cdf_offset`` and range-code, in one fused op. ``rows`` gives each
  value's table row; None means row i mod (number of rows)."""
  if values.dtype not in (tf.float32, tf.float64):
    values = tf.cast(values, tf.float32)
  return ops.entropy_model_encode(
      values, tf.zeros([0], tf.int32) if rows is None else rows,
      cdf, cdf_offset, indexed=rows is not None)


def decode_units(strings: tf.Tensor, count, cdf, cdf_offset,
                 rows: Optional[tf.Tensor] = None,
                 check: bool = True) -> tf.Tensor:
  """Inverse of :func:`encode_units`: float32 [strings.shape..., count].
  With ``check``, a string not consumed exactly raises DataLossError."""
  return ops.entropy_model_decode(
      strings, tf.zeros([0], tf.int32) if rows is None else rows,
      tf.cast(count, tf.int32), cdf, cdf_offset, T=tf.float32,
      indexed=rows is not None, check=check)


# TFC arguments that tensorcoder refuses, with what to use instead.
_REFUSED_ARGUMENTS = {
    "no_variables": "use stateless=True (TFC 2.5+ renamed it)",
    "cdf_length": "TFC 2.5+ tables have no cdf_length; pass cdf and "
                  "cdf_offset (or cdf_shapes)",
    "cdf_max_length": "TFC 2.5+ tables have no cdf_max_length; pass cdf "
                      "and cdf_offset (or cdf_shapes)",
}


def refuse_arguments(kwargs: dict) -> None:
  for name, instead in _REFUSED_ARGUMENTS.items():
    if name in kwargs:
      raise TypeError(f"the argument {name}= is not supported: {instead}")


def as_coding_float(values: tf.Tensor) -> tf.Tensor:
  """float32/float64 values as they are, half-precision ones as float32."""
  if values.dtype in (tf.float32, tf.float64):
    return values
  return tf.cast(values, tf.float32)


class ContinuousEntropyModelBase(keras.layers.Layer):
  """Base of the continuous entropy models (not used directly).

  Args:
    prior: the (noisy) prior distribution, a batch of scalar distributions
      (a non-scalar event shape raises ValueError); None when the tables are
      given.
    coding_rank: number of innermost dimensions coded into one string; the
      rates sum over them.
    compression: build range-coding tables (needed for ``compress``). They
      are built on construction, also when the model is constructed inside a
      ``tf.function`` (from the prior's current values).
    stateless: tables as Tensors rather than Variables (for models built
      inside a ``tf.function`` that must not create variables); implied when
      ``compression=False``.
    expected_grads: use the expected gradient of the rate with respect to
      the bottleneck under the uniform noise (Agustsson and Theis,
      "Universally quantized neural compression", NeurIPS 2020).
    tail_mass: probability mass left outside the tables, coded by escape.
    range_coder_precision: bits of the table probabilities (1..16).
    bottleneck_dtype: dtype of the bottleneck, of the perturbed/quantized
      outputs and of ``decompress`` (default: the compute dtype of Keras'
      global dtype policy, e.g. float16 under ``mixed_float16``, as TFC).
      Rates, tables and likelihoods are computed in the prior's dtype.
    laplace_tail_mass: float or float Tensor; when positive, the rate uses
      the mixture ``(1 - m) p + m * NoisyLaplace(0, 1)``, which keeps
      gradients alive far in the tails.
    decode_sanity_check: ``decompress`` raises DataLossError when a string
      was not consumed exactly (corrupt or truncated); otherwise it returns
      whatever the decoder produced. The ``decode_sanity_check`` property.
  """

  # dtype in which ``quantize`` rounds to an offset grid; None: that of
  # ``as_coding_float`` (the universal models round in float32).
  _rounding_dtype: Optional[tf.DType] = None

  def __init__(self, prior=None, coding_rank: Optional[int] = None,
               compression: bool = False, stateless: bool = False,
               expected_grads: bool = False, tail_mass: float = 2**-8,
               range_coder_precision: int = 12, bottleneck_dtype=None,
               laplace_tail_mass: float = 0.0, name: Optional[str] = None,
               decode_sanity_check: bool = True, **kwargs):
    refuse_arguments(kwargs)
    # The Keras dtype policy is not the models' dtype (bottleneck_dtype and
    # the prior's dtype are): a mixed policy would make Keras' __call__ open
    # an autocast scope (autocast=False notwithstanding) and cast the
    # prior's float32 Variables to float16.
    kwargs.pop("dtype", None)
    super().__init__(name=name, autocast=False, dtype="float32", **kwargs)
    unwrap_quantize(self)
    if prior is not None:
      check_scalar_prior(prior)
    if coding_rank is None or int(coding_rank) < 0:
      raise ValueError(f"coding_rank must be a non-negative integer, got "
                       f"{coding_rank}")
    check_tail_mass(tail_mass)
    check_range_coder_precision(range_coder_precision)
    if is_tensor_like(laplace_tail_mass):
      self._laplace_tail_mass = laplace_tail_mass
    else:
      if not 0 <= laplace_tail_mass < 1:
        raise ValueError(f"laplace_tail_mass must be in [0, 1), got "
                         f"{laplace_tail_mass}")
      self._laplace_tail_mass = float(laplace_tail_mass)
    self._prior = prior
    # Track the prior's Keras layers (and so its trainable weights).
    self._prior_layers = find_layers(prior)
    self._coding_rank = int(coding_rank)
    self._compression = bool(compression)
    self._stateless = bool(stateless) or not self._compression
    self._expected_grads = bool(expected_grads)
    self._tail_mass = float(tail_mass)
    self._range_coder_precision = int(range_coder_precision)
    self._bottleneck_dtype = tf.as_dtype(bottleneck_dtype or
                                         global_compute_dtype())
    self._decode_sanity_check = bool(decode_sanity_check)
    self._cdf = None
    self._cdf_offset = None
    self.built = True

  # -- properties ------------------------------------------------------------

  @property
  def prior(self):
    """The prior the tables were built from (RuntimeError when the model was
    created from tables or a config)."""
    if self._prior is None:
      raise RuntimeError("this entropy model was created from tables (cdf, "
                         "cdf_offset) or a config and has no prior")
    return self._prior

  @prior.deleter
  def prior(self):
    self._prior = None

  @property
  def cdf(self) -> tf.Tensor:
    """The range-coding lookup (matrix: one row per table)."""
    self._check_compression()
    return tf.convert_to_tensor(self._cdf)

  @property
  def cdf_offset(self) -> tf.Tensor:
    """The value of each table row's first symbol."""
    self._check_compression()
    return tf.convert_to_tensor(self._cdf_offset)

  @property
  def cdf_shapes(self) -> tuple:
    """(shape of ``cdf``, shape of ``cdf_offset``)."""
    self._check_compression()
    return (tuple(self._cdf.shape), tuple(self._cdf_offset.shape))

  @property
  def coding_rank(self) -> int:
    return self._coding_rank

  @property
  def compression(self) -> bool:
    return self._compression

  @property
  def stateless(self) -> bool:
    return self._stateless

  @property
  def expected_grads(self) -> bool:
    return self._expected_grads

  @property
  def tail_mass(self) -> float:
    return self._tail_mass

  @property
  def range_coder_precision(self) -> int:
    return self._range_coder_precision

  @property
  def bottleneck_dtype(self) -> tf.DType:
    return self._bottleneck_dtype

  @property
  def laplace_tail_mass(self):
    return self._laplace_tail_mass

  @property
  def decode_sanity_check(self) -> bool:
    """``decompress`` raises DataLossError when a string is not consumed
    exactly (corrupt, truncated or coded with other tables). Settable, as
    TFC's attribute."""
    return self._decode_sanity_check

  @decode_sanity_check.setter
  def decode_sanity_check(self, value: bool) -> None:
    self._decode_sanity_check = bool(value)

  def _check_compression(self) -> None:
    if not self._compression:
      raise RuntimeError(
          f"{type(self).__name__} was created with compression=False: it "
          "has no range-coding tables. Create it with compression=True "
          "(after training) to compress or decompress.")

  # -- tables ----------------------------------------------------------------

  def _eagerly(self, fn):
    """Runs ``fn`` (which builds tables from the prior) eagerly when the
    model is constructed inside a ``tf.function`` and keeps Variables:
    ``tf.function`` creates variables in its first trace only and keeps no
    other op of that trace, so the tables become the variables' initial
    values, computed from the prior's current (eager) values.

    Stateless models build their tables in the function graph."""
    if self._stateless or not tf.inside_function():
      return fn()
    try:
      with tf.init_scope():
        return fn()
    except (TypeError, ValueError) as error:
      if "Graph" not in str(error) and "graph" not in str(error):
        raise
      raise ValueError(
          "compression=True inside a tf.function needs a prior whose "
          "parameters exist outside the function (Variables or constants "
          "created eagerly), since the tables become Variables. Create the "
          "prior outside the function, or pass stateless=True.") from error

  def _build_tables(self, prior, offset=None):
    """Integer tables of a prior whose batch is flattened to rows.

    Args:
      prior: noisy prior whose ``prob`` at x is the mass of the bin around x.
      offset: per-row quantization offsets (or None for 0), broadcastable to
        the prior's batch shape.

    Returns:
      ``(cdf, cdf_offset)``: the [num_rows, width] int32 lookup and the
      [num_rows] int32 value of each row's first symbol.
    """
    batch_shape = prior.batch_shape_tensor()
    dtype = prior.dtype
    lower = tf.broadcast_to(
        tf.cast(helpers.lower_tail(prior, self.tail_mass), dtype), batch_shape)
    upper = tf.broadcast_to(
        tf.cast(helpers.upper_tail(prior, self.tail_mass), dtype), batch_shape)
    if offset is None:
      offset = tf.zeros(batch_shape, dtype)
    offset = tf.broadcast_to(tf.cast(offset, dtype), batch_shape)
    tf.debugging.assert_all_finite(lower, "the prior's lower tail is not "
                                   "finite; cannot build tables")
    tf.debugging.assert_all_finite(upper, "the prior's upper tail is not "
                                   "finite; cannot build tables")
    minima, lengths = table_extent(lower, upper, offset)
    max_symbols = max_table_symbols(self.range_coder_precision)
    tf.debugging.assert_less_equal(
        tf.reduce_max(lengths), tf.cast(max_symbols, dtype),
        message=f"the prior's central 1 - tail_mass spans more values than "
                f"a table of range_coder_precision="
                f"{self.range_coder_precision} can hold ({max_symbols}); "
                "raise tail_mass or range_coder_precision")

    def pmf_fn(samples):  # [max_length, rows] -> the prior's batch and back.
      max_length = tf.shape(samples)[0]
      pmf = prior.prob(tf.reshape(
          samples, tf.concat([[max_length], batch_shape], 0)))
      return tf.reshape(pmf, [max_length, -1])

    return tables_from_pmf(
        pmf_fn, tf.reshape(minima, [-1]),
        tf.reshape(tf.cast(lengths, tf.int32), [-1]),
        tf.reshape(offset, [-1]), self.range_coder_precision)

  def _init_tables(self, cdf, cdf_offset, cdf_shapes, extra=None) -> None:
    """Stores tables: given ones, ones of ``cdf_shapes`` to be loaded later
    (zeros), or ones built by the subclass (``_tables_from_prior``).

    ``cdf_shapes`` is tensorcoder's ``[[rows, width], [rows]]`` (matrix
    lookup) or TFC's ``(len(cdf), len(cdf_offset))`` (TFC's flat tables,
    which ``set_weights`` can then fill with a TFC model's weights)."""
    if not self._compression:
      if (cdf is not None or cdf_offset is not None or
          cdf_shapes is not None):
        raise ValueError("cdf, cdf_offset and cdf_shapes need "
                         "compression=True")
      return
    if cdf is None and cdf_offset is None and cdf_shapes is None:
      if self._prior is None:
        raise ValueError("compression=True needs a prior, or cdf and "
                         "cdf_offset, or cdf_shapes")
      cdf, cdf_offset = self._eagerly(self._tables_from_prior)
    elif cdf is None and cdf_offset is None:
      if self._stateless:
        raise ValueError("cdf_shapes creates Variables to be filled by "
                         "set_weights; it needs stateless=False")
      if len(cdf_shapes) != 2:
        raise ValueError(f"cdf_shapes must have two elements, got "
                         f"{cdf_shapes}")
      shapes = [[int(s)] if np.ndim(s) == 0 else [int(d) for d in s]
                for s in cdf_shapes]
      cdf = tf.zeros(shapes[0], tf.int32)
      cdf_offset = tf.zeros(shapes[1], tf.int32)
    elif cdf is None or cdf_offset is None or cdf_shapes is not None:
      raise ValueError("give both cdf and cdf_offset, or cdf_shapes")
    cdf = tf.convert_to_tensor(cdf, tf.int32)
    cdf_offset = tf.convert_to_tensor(cdf_offset, tf.int32)
    if cdf.shape.rank not in (1, 2):
      raise ValueError(f"cdf must be a matrix lookup (or a TFC flat one), "
                       f"got shape {cdf.shape}")
    if cdf_offset.shape.rank != 1:
      raise ValueError(f"cdf_offset must be 1-D, got shape "
                       f"{cdf_offset.shape}")
    if self._stateless:
      self._cdf, self._cdf_offset = cdf, cdf_offset
    else:
      self._cdf = self._table_variable("cdf", cdf)
      self._cdf_offset = self._table_variable("cdf_offset", cdf_offset)

  def _table_variable(self, name: str, value):
    """A non-trainable Variable whose initial value is ``value`` (so that it
    is also right when created inside a ``tf.function``)."""
    value = tf.convert_to_tensor(value)
    if not value.shape.is_fully_defined():
      raise ValueError(f"{name}: table shapes must be static, got "
                       f"{value.shape}")
    return self.add_weight(
        name=name, shape=tuple(value.shape), dtype=value.dtype.name,
        initializer=lambda shape, dtype=None: value, trainable=False)

  def _tables_from_prior(self):
    raise NotImplementedError

  # -- coding ----------------------------------------------------------------

  def _encode_units(self, values: tf.Tensor, rows=None) -> tf.Tensor:
    """:func:`encode_units` with this model's tables."""
    return encode_units(values, self._cdf, self._cdf_offset, rows)

  def _decode_units(self, strings: tf.Tensor, count, rows=None,
                    check: bool = True) -> tf.Tensor:
    """:func:`decode_units` with this model's tables."""
    return decode_units(strings, count, self._cdf, self._cdf_offset, rows,
                        check=check)

  def _compress_values(self, bottleneck: tf.Tensor,
                       offset: Optional[tf.Tensor] = None,
                       rows: Optional[tf.Tensor] = None) -> tf.Tensor:
    """Every model's ``compress``: codes ``round(bottleneck - offset)``, one
    string per coding unit.

    Args:
      bottleneck: the converted bottleneck (see ``_convert``).
      offset: quantization offsets broadcastable to it, or None.
      rows: int32 table row of each element (the bottleneck's shape), or
        None for row i mod (number of rows) within each unit.
    """
    values = as_coding_float(bottleneck)
    if offset is not None:
      values -= tf.cast(offset, values.dtype)
    if rows is not None:
      rows = flatten_units(rows, self.coding_rank)
    return self._encode_units(flatten_units(values, self.coding_rank), rows)

  def _decompress_values(self, strings: tf.Tensor, shape: tf.Tensor,
                         count, offset: Optional[tf.Tensor] = None,
                         rows: Optional[tf.Tensor] = None,
                         checks=()) -> tf.Tensor:
    """Every model's ``decompress``: the inverse of ``_compress_values``.

    Args:
      strings: the strings (their shape is the batch shape).
      shape: int32 shape of the result (``tf.shape(strings)`` followed by
        the coding dimensions).
      count: values per string (the product of the coding dimensions).
      offset: quantization offsets broadcastable to ``shape``, or None.
      rows: int32 table rows, of ``shape``, or None.
      checks: assertions the rows depend on.

    Returns:
      The values of ``shape``, in ``bottleneck_dtype``.
    """
    if rows is not None:
      with tf.control_dependencies(checks):
        rows = flatten_units(rows, batch_shape=tf.shape(strings),
                             count=count)
    values = self._decode_units(strings, count, rows,
                                check=self.decode_sanity_check)
    values = tf.reshape(values, shape)
    if offset is not None:
      values += tf.cast(offset, values.dtype)
    return tf.cast(values, self.bottleneck_dtype)

  def _round_to_grid(self, bottleneck: tf.Tensor,
                     offset: Optional[tf.Tensor]) -> tf.Tensor:
    """Every model's ``quantize``: ``round(x - offset) + offset`` with a
    straight-through gradient (plain rounding for None), in
    ``bottleneck_dtype``."""
    if offset is None:
      return round_ops.round_st(bottleneck)
    x = (as_coding_float(bottleneck) if self._rounding_dtype is None else
         tf.cast(bottleneck, self._rounding_dtype))
    return tf.cast(round_ops.round_st(x, tf.cast(offset, x.dtype)),
                   self.bottleneck_dtype)

  # -- inputs and rates --------------------------------------------------------

  def _convert(self, bottleneck, prior_shape=None) -> tf.Tensor:
    """The bottleneck as a tensor of ``bottleneck_dtype``, checked to have
    at least ``coding_rank`` dimensions, the innermost equal to
    ``prior_shape`` when given."""
    bottleneck = tf.convert_to_tensor(bottleneck,
                                      dtype_hint=self.bottleneck_dtype)
    if not bottleneck.dtype.is_floating:
      raise TypeError(f"the bottleneck must be floating point, got "
                      f"{bottleneck.dtype.name}")
    if bottleneck.dtype != self.bottleneck_dtype:
      bottleneck = tf.cast(bottleneck, self.bottleneck_dtype)
    rank = bottleneck.shape.rank
    if rank is not None and rank < self.coding_rank:
      raise ValueError(f"the bottleneck has rank {rank}, less than "
                       f"coding_rank={self.coding_rank}")
    if prior_shape is not None and prior_shape.rank and rank is not None:
      inner = bottleneck.shape[rank - prior_shape.rank:]
      if not inner.is_compatible_with(prior_shape):
        raise ValueError(f"the bottleneck's innermost dimensions {inner} "
                         f"must equal the prior shape {prior_shape}")
    return bottleneck

  def _perturb_or_quantize(self, prior, bottleneck: tf.Tensor, training,
                           quantize):
    """``(x + u, rate)`` in training, ``(quantize(x), rate)`` otherwise;
    the noise is added in the prior's dtype, the output cast back."""
    if training:
      x = tf.cast(bottleneck, prior.dtype)
      noise = tf.random.uniform(tf.shape(x), -0.5, 0.5, dtype=prior.dtype)
      values = x + noise
      bits = self._bits(prior, values, x, noise, True)
      return tf.cast(values, self.bottleneck_dtype), bits
    values = quantize(bottleneck)
    return values, self._bits(prior, values, bottleneck, None, False)


  def _log_prob(self, prior, values) -> tf.Tensor:
    """log p(values) under the prior (in its dtype), mixed as TFC with the
    bins of a unit Laplace when ``laplace_tail_mass`` m > 0 (a float, or a
    Tensor decided at run time): ``log((1 - m) p + m q)`` with
    ``q = NoisyLaplace(0, 1)``, and ``log(m) + log(q)`` where that mixture
    is below 1e-10 (there the prior is negligible, and the rate grows as
    ``|x| / log(2)`` with a gradient that pulls x back).
    """
    values = tf.cast(values, prior.dtype)
    m = self._laplace_tail_mass
    if not is_tensor_like(m) and not m:
      return prior.log_prob(values)

    def mixture():
      probs = prior.prob(values)
      mass = tf.cast(m, probs.dtype)
      v = tf.abs(values)
      # log q(v), the mass of [v - 1/2, v + 1/2] under Laplace(0, 1):
      # exp(-v) sinh(1/2) for v >= 1/2, 1 - exp(-1/2) cosh(v) below.
      half = tf.constant(0.5, probs.dtype)
      inner = tf.math.log1p(-tf.exp(-half) * tf.math.cosh(tf.minimum(v, half)))
      outer = -v + tf.math.log(tf.math.sinh(half))
      log_laplace = tf.where(v < half, inner, outer)
      probs = (1 - mass) * probs + mass * tf.exp(log_laplace)
      floor = tf.constant(1e-10, probs.dtype)
      return tf.where(probs < floor, tf.math.log(mass) + log_laplace,
                      tf.math.log(tf.maximum(probs, floor)))

    if is_tensor_like(m):
      return tf.cond(tf.greater(m, 0), mixture,
                     lambda: prior.log_prob(values))
    return mixture()

  def _bits(self, prior, values, bottleneck, noise, training) -> tf.Tensor:
    """Rate in bits summed over the coding dimensions.

    With ``expected_grads`` in training, the value is -log2 p(x + u) while
    the gradient with respect to x is the expectation over u,
    -(log2 p(x + 1/2) - log2 p(x - 1/2)).
    """
    if training and self._expected_grads:
      x = tf.cast(bottleneck, prior.dtype)
      perturbed = tf.stop_gradient(x) + tf.cast(noise, prior.dtype)
      log_prob = self._log_prob(prior, perturbed)
      slope = tf.stop_gradient(self._log_prob(prior, x + 0.5) -
                               self._log_prob(prior, x - 0.5))
      log_prob += slope * (x - tf.stop_gradient(x))
    else:
      log_prob = self._log_prob(prior, tf.cast(values, prior.dtype))
    bits = sum_over_coding_dims(log_prob, self.coding_rank) / -math.log(2.0)
    return bits

  # -- serialization ---------------------------------------------------------

  def _base_config(self) -> dict:
    return dict(
        coding_rank=self.coding_rank, compression=self.compression,
        stateless=self.stateless, expected_grads=self.expected_grads,
        tail_mass=self.tail_mass,
        range_coder_precision=self.range_coder_precision,
        bottleneck_dtype=self.bottleneck_dtype.name,
        laplace_tail_mass=float(self.laplace_tail_mass),
        decode_sanity_check=self.decode_sanity_check)

  def get_config(self) -> dict[str, Any]:
    """A config that recreates the model for compression (without prior);
    its tables come back with ``set_weights(get_weights())`` or when a
    ``.keras`` file / checkpoint is loaded (``from_config`` creates them as
    zeros of ``cdf_shapes``).

    Raises:
      NotImplementedError (a RuntimeError, as TFC raises): the model has no
        tables (``compression=False``) or holds them as Tensors
        (``stateless=True``); its prior is not serializable in general.
    """
    if not self.compression or self.stateless:
      raise NotImplementedError(
          "get_config needs compression=True and stateless=False: the "
          "config describes the range-coding tables, not the prior")
    config = super().get_config()
    config.update(self._base_config())
    config["cdf_shapes"] = [list(s) for s in self.cdf_shapes]
    return config

  def get_weights(self) -> list[np.ndarray]:
    """The tables as NumPy arrays (``cdf``, ``cdf_offset``, ...)."""
    return [np.asarray(v) for v in self._table_variables()]

  def set_weights(self, weights) -> None:
    variables = self._table_variables()
    if len(weights) != len(variables):
      raise ValueError(f"expected {len(variables)} arrays, got "
                       f"{len(weights)}")
    for variable, value in zip(variables, weights):
      value = np.asarray(value)
      if tuple(value.shape) != tuple(variable.shape):
        raise ValueError(f"{variable.name}: expected shape "
                         f"{tuple(variable.shape)}, got {value.shape}")
      variable.assign(value)

  def _table_variables(self) -> list:
    self._check_compression()
    if self.stateless:
      raise RuntimeError("a stateless model has no table variables")
    return [self._cdf, self._cdf_offset]
