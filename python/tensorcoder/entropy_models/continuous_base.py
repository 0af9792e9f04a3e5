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

import math
from typing import Any, Optional

import keras
import numpy as np
import tensorflow as tf

from tensorcoder import ops
from tensorcoder.distributions import helpers

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
  quantization API), so the entropy models' ``quantize`` (TFC's meaning:
  rounding) is called as written."""
  layer.__dict__.pop("quantize", None)


def sum_over_coding_dims(values: tf.Tensor, coding_rank: int) -> tf.Tensor:
  if coding_rank == 0:
    return values
  return tf.reduce_sum(values, axis=list(range(-coding_rank, 0)))


def as_coding_float(values: tf.Tensor) -> tf.Tensor:
  """float32/float64 values as they are, half-precision ones as float32."""
  if values.dtype in (tf.float32, tf.float64):
    return values
  return tf.cast(values, tf.float32)


class ContinuousEntropyModelBase(keras.layers.Layer):
  """Base of the continuous entropy models (not used directly).

  Args:
    prior: the (noisy) prior distribution; None when the tables are given.
    coding_rank: number of innermost dimensions coded into one string; the
      rates sum over them.
    compression: build range-coding tables (needed for ``compress``).
    stateless: tables as Tensors rather than Variables (for models built
      inside a ``tf.function``); implied when ``compression=False``.
    expected_grads: use the expected gradient of the rate with respect to
      the bottleneck under the uniform noise (Agustsson and Theis,
      "Universally quantized neural compression", NeurIPS 2020).
    tail_mass: probability mass left outside the tables, coded by escape.
    range_coder_precision: bits of the table probabilities (1..16).
    bottleneck_dtype: dtype of the bottleneck (default: Keras' global
      compute dtype).
    laplace_tail_mass: when positive, the rate uses the mixture
      ``(1 - m) p + m * Laplace(0, 1)`` (bins' masses), which keeps
      gradients alive far in the tails.
  """

  def __init__(self, prior=None, coding_rank: Optional[int] = None,
               compression: bool = False, stateless: bool = False,
               expected_grads: bool = False, tail_mass: float = 2**-8,
               range_coder_precision: int = 12, bottleneck_dtype=None,
               laplace_tail_mass: float = 0.0, name: Optional[str] = None,
               **kwargs):
    super().__init__(name=name, autocast=False, **kwargs)
    unwrap_quantize(self)
    if coding_rank is None or int(coding_rank) < 0:
      raise ValueError(f"coding_rank must be a non-negative integer, got "
                       f"{coding_rank}")
    if not 0 < tail_mass < 1:
      raise ValueError(f"tail_mass must be in (0, 1), got {tail_mass}")
    if not 1 <= int(range_coder_precision) <= 16:
      raise ValueError("range_coder_precision must be in [1, 16], got "
                       f"{range_coder_precision}")
    if not 0 <= laplace_tail_mass < 1:
      raise ValueError(f"laplace_tail_mass must be in [0, 1), got "
                       f"{laplace_tail_mass}")
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
    self._laplace_tail_mass = float(laplace_tail_mass)
    self._cdf = None
    self._cdf_offset = None
    self.built = True

  # -- properties ------------------------------------------------------------

  @property
  def prior(self):
    if self._prior is None:
      raise RuntimeError("this entropy model was created from tables (cdf, "
                         "cdf_offset) and has no prior")
    return self._prior

  @property
  def cdf(self):
    self._check_compression()
    return self._cdf

  @property
  def cdf_offset(self):
    self._check_compression()
    return self._cdf_offset

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
  def laplace_tail_mass(self) -> float:
    return self._laplace_tail_mass

  def _check_compression(self) -> None:
    if not self._compression:
      raise RuntimeError(
          f"{type(self).__name__} was created with compression=False: it "
          "has no range-coding tables. Create it with compression=True "
          "(after training) to compress or decompress.")

  # -- tables ----------------------------------------------------------------

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
    minima = tf.math.floor(lower - offset)
    maxima = tf.math.ceil(upper - offset)
    lengths = tf.maximum(maxima - minima + 1, 1)
    max_symbols = 2**self.range_coder_precision - 1  # One is the escape.
    tf.debugging.assert_less_equal(
        tf.reduce_max(lengths), tf.cast(max_symbols, dtype),
        message=f"the prior's central 1 - tail_mass spans more values than "
                f"a table of range_coder_precision="
                f"{self.range_coder_precision} can hold ({max_symbols}); "
                "raise tail_mass or range_coder_precision")
    lengths = tf.cast(lengths, tf.int32)
    max_length = tf.reduce_max(lengths)
    samples = (tf.cast(tf.range(max_length), dtype)[:, None] +
               tf.reshape(minima + offset, [1, -1]))
    samples = tf.reshape(samples, tf.concat([[max_length], batch_shape], 0))
    pmf = prior.prob(samples)
    pmf = tf.transpose(tf.reshape(pmf, [max_length, -1]))
    # Masses outside a row's length are never read.
    cdf = ops.pmfs_to_cdf_lookup(
        tf.cast(pmf, tf.float64) if pmf.dtype != tf.float64 else pmf,
        tf.reshape(lengths, [-1]), precision=self.range_coder_precision,
        overflow=True)
    cdf_offset = tf.cast(tf.reshape(minima, [-1]), tf.int32)
    return tf.stop_gradient(cdf), tf.stop_gradient(cdf_offset)

  def _init_tables(self, cdf, cdf_offset, cdf_shapes, extra=None) -> None:
    """Stores tables: given ones, ones of ``cdf_shapes`` to be loaded later
    (zeros), or ones built by the subclass (``_tables_from_prior``)."""
    if not self._compression:
      if cdf is not None or cdf_offset is not None:
        raise ValueError("cdf and cdf_offset need compression=True")
      return
    if cdf is None and cdf_offset is None and cdf_shapes is None:
      if self._prior is None:
        raise ValueError("compression=True needs a prior, or cdf and "
                         "cdf_offset, or cdf_shapes")
      cdf, cdf_offset = self._tables_from_prior()
    elif cdf is None and cdf_offset is None:
      cdf = tf.zeros(cdf_shapes[0], tf.int32)
      cdf_offset = tf.zeros(cdf_shapes[1], tf.int32)
    elif cdf is None or cdf_offset is None:
      raise ValueError("give both cdf and cdf_offset, or neither")
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

  def _table_variable(self, name: str, value: tf.Tensor):
    variable = self.add_weight(
        name=name, shape=value.shape, dtype=value.dtype.name,
        initializer="zeros", trainable=False)
    variable.assign(value)
    return variable

  def _tables_from_prior(self):
    raise NotImplementedError

  # -- coding ----------------------------------------------------------------

  def _encode_units(self, values: tf.Tensor, rows=None) -> tf.Tensor:
    """Codes [batch..., N] values (already minus their quantization
    offsets) into one string per row of the batch: round, subtract the
    rows' cdf_offset and range-code, in one fused op. ``rows`` gives each
    value's table row; None means row i mod (number of rows)."""
    if values.dtype not in (tf.float32, tf.float64):
      values = tf.cast(values, tf.float32)
    return ops.entropy_model_encode(
        values, tf.zeros([0], tf.int32) if rows is None else rows,
        self._cdf, self._cdf_offset, indexed=rows is not None)

  def _decode_units(self, strings: tf.Tensor, count, rows=None,
                    check: bool = True) -> tf.Tensor:
    """Inverse of ``_encode_units``: float32 [strings.shape..., count]."""
    return ops.entropy_model_decode(
        strings, tf.zeros([0], tf.int32) if rows is None else rows,
        tf.cast(count, tf.int32), self._cdf, self._cdf_offset,
        T=tf.float32, indexed=rows is not None, check=check)

  # -- inputs and rates --------------------------------------------------------

  def _convert(self, bottleneck, prior_shape=None) -> tf.Tensor:
    """The bottleneck as a tensor of ``bottleneck_dtype``, checked to have
    at least ``coding_rank`` dimensions, the innermost equal to
    ``prior_shape`` when given."""
    bottleneck = tf.convert_to_tensor(bottleneck)
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
    """log p(values) under the prior, mixed with a unit Laplace's bins when
    ``laplace_tail_mass`` > 0."""
    log_prob = prior.log_prob(values)
    if self._laplace_tail_mass:
      m = tf.cast(self._laplace_tail_mass, log_prob.dtype)
      v = tf.abs(tf.cast(values, log_prob.dtype))
      # log of the mass of [v - 1/2, v + 1/2] under Laplace(0, 1):
      # exp(-v) sinh(1/2) for v >= 1/2, 1 - exp(-1/2) cosh(v) below.
      half = tf.constant(0.5, log_prob.dtype)
      inner = tf.math.log1p(-tf.exp(-half) * tf.math.cosh(tf.minimum(v, half)))
      outer = -v + tf.math.log(tf.math.sinh(half))
      laplace = tf.where(v < half, inner, outer)
      log_prob = tf.reduce_logsumexp(
          tf.stack([tf.math.log1p(-m) + log_prob, tf.math.log(m) + laplace]),
          axis=0)
    return log_prob

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
        laplace_tail_mass=self.laplace_tail_mass)

  def get_config(self) -> dict[str, Any]:
    """A config that recreates the model for compression (without prior);
    its tables come back with ``set_weights(get_weights())`` or when a
    ``.keras`` file / checkpoint is loaded.

    Raises:
      NotImplementedError: the model was built without compression (it has
        nothing but its prior, which is not serializable in general).
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
