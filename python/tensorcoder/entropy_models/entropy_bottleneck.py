"""``EntropyBottleneck``: the Keras layer of the factorized-prior codec.

Ballé, Laparra and Simoncelli, "End-to-end optimized image compression"
(ICLR 2017), with the flexible per-channel density of Ballé et al.,
"Variational image compression with a scale hyperprior" (ICLR 2018). The
layer behaves as TensorFlow Compression's original ``EntropyBottleneck``:

* ``layer(x, training=True)`` returns ``(x + u, likelihoods)`` with uniform
  noise u; ``training=False`` returns ``(round(x - m) + m, likelihoods)``
  with m each channel's median.
* Three quantiles per channel (the tails at ``tail_mass / 2`` and the
  median) are variables trained by an auxiliary loss, added to
  ``layer.losses`` (only the quantiles receive its gradients); they bound
  the range-coding tables.
* ``compress(x)`` returns one string per batch element,
  ``decompress(strings, shape, channels)`` inverts it. The integer tables
  are built from the density once, by ``update_tables()`` (called by the
  first ``compress``/``decompress`` if needed), and stored as weights: later
  training does not change them until ``update_tables()`` is called again,
  and a saved model decodes with exactly the tables it encoded with.
"""

from __future__ import annotations

import math
from typing import Optional, Sequence

import keras
import numpy as np
import tensorflow as tf

from tensorcoder.distributions.deep_factorized import DeepFactorized
from tensorcoder.entropy_models import continuous_base
from tensorcoder.ops import math_ops
from tensorcoder.ops import round_ops


@keras.saving.register_keras_serializable(package="tensorcoder")
class EntropyBottleneck(keras.layers.Layer):
  """Entropy bottleneck layer with a learned per-channel density.

  Args:
    init_scale: initial spread of the densities (about ±init_scale).
    filters: hidden widths of each channel's density network.
    tail_mass: probability mass outside the tables (coded by escape).
    likelihood_bound: likelihoods are bounded below by this value (with a
      gradient that lets them rise), avoiding log(0) in the rate.
    range_coder_precision: bits of the table probabilities (1..16).
    data_format: ``channels_last`` or ``channels_first``.
    table_shapes: shapes of stored tables (set by ``update_tables``; given
      when a saved layer is reloaded).
  """

  def __init__(self, init_scale: float = 10.0,
               filters: Sequence[int] = (3, 3, 3), tail_mass: float = 2**-8,
               likelihood_bound: float = 1e-9,
               range_coder_precision: int = 16,
               data_format: str = "channels_last",
               table_shapes: Optional[Sequence[Sequence[int]]] = None,
               **kwargs):
    super().__init__(**kwargs)
    continuous_base.unwrap_quantize(self)
    if data_format not in ("channels_last", "channels_first"):
      raise ValueError(f"data_format must be channels_last or "
                       f"channels_first, got {data_format!r}")
    continuous_base.check_tail_mass(tail_mass)
    continuous_base.check_range_coder_precision(range_coder_precision)
    self.init_scale = float(init_scale)
    self.filters = tuple(int(f) for f in filters)
    self.tail_mass = float(tail_mass)
    self.likelihood_bound = float(likelihood_bound)
    self.range_coder_precision = int(range_coder_precision)
    self.data_format = data_format
    self._table_shapes = (None if table_shapes is None else
                          [list(s) for s in table_shapes])
    self.density = None
    self.quantiles = None
    self._cdf = self._cdf_offset = None

  # -- building ----------------------------------------------------------------

  def _channel_axis(self, rank: int) -> int:
    return rank - 1 if self.data_format == "channels_last" else 1

  def build(self, input_shape):
    input_shape = tuple(input_shape)
    channels = input_shape[self._channel_axis(len(input_shape))]
    if channels is None:
      raise ValueError("EntropyBottleneck needs a known number of channels")
    self.channels = int(channels)
    self.density = DeepFactorized(
        batch_shape=[self.channels], num_filters=self.filters,
        init_scale=self.init_scale, name="density")
    init = np.array([-self.init_scale, 0, self.init_scale], np.float32)
    self.quantiles = self.add_weight(
        name="quantiles", shape=(self.channels, 3),
        initializer=keras.initializers.Constant(
            np.tile(init, (self.channels, 1))))
    if self._table_shapes is not None:
      self._create_tables(self._table_shapes)

  def _create_tables(self, shapes) -> None:
    self._cdf = self.add_weight(name="cdf", shape=tuple(shapes[0]),
                                dtype="int32", initializer="zeros",
                                trainable=False)
    self._cdf_offset = self.add_weight(name="cdf_offset",
                                       shape=tuple(shapes[1]), dtype="int32",
                                       initializer="zeros", trainable=False)
    self._table_shapes = [list(s) for s in shapes]

  # -- training ------------------------------------------------------------

  @property
  def medians(self) -> tf.Tensor:
    return tf.convert_to_tensor(self.quantiles)[:, 1]

  def aux_loss(self) -> tf.Tensor:
    """Moves the quantile variables to the density's quantiles."""
    target = math.log(2 / self.tail_mass - 1)
    targets = tf.constant([-target, 0.0, target])
    logits = self.density.logits_cumulative(
        tf.transpose(tf.convert_to_tensor(self.quantiles)),
        stop_gradient=True)
    return tf.reduce_sum(tf.abs(logits - targets[:, None]))

  def _to_channels_last(self, x: tf.Tensor) -> tf.Tensor:
    if self.data_format == "channels_last":
      return x
    perm = [0] + list(range(2, x.shape.rank)) + [1]
    return tf.transpose(x, perm)

  def _from_channels_last(self, x: tf.Tensor) -> tf.Tensor:
    if self.data_format == "channels_last":
      return x
    rank = x.shape.rank
    perm = [0, rank - 1] + list(range(1, rank - 1))
    return tf.transpose(x, perm)

  def _likelihood(self, values: tf.Tensor) -> tf.Tensor:
    """Mass of [v - 1/2, v + 1/2] under each channel's density (stable in
    both tails), bounded below by ``likelihood_bound``."""
    upper = self.density.logits_cumulative(values + 0.5)
    lower = self.density.logits_cumulative(values - 0.5)
    # sigmoid(a) - sigmoid(b) = sigmoid(a) sigmoid(-b) (1 - exp(b - a)).
    gap = tf.minimum(lower - upper, -1e-30)
    likelihood = tf.exp(-tf.math.softplus(-upper) - tf.math.softplus(lower) +
                        tf.math.log(-tf.math.expm1(gap)))
    if self.likelihood_bound > 0:
      likelihood = math_ops.lower_bound(likelihood, self.likelihood_bound)
    return likelihood

  def call(self, inputs, training=None):
    """Returns ``(outputs, likelihoods)``, both shaped like ``inputs``."""
    x = self._to_channels_last(tf.cast(inputs, tf.float32))
    if training:
      outputs = x + tf.random.uniform(tf.shape(x), -0.5, 0.5)
    else:
      outputs = round_ops.round_st(x, self.medians)
    likelihood = self._likelihood(outputs)
    self.add_loss(self.aux_loss())
    return (self._from_channels_last(outputs),
            self._from_channels_last(likelihood))

  def quantize(self, inputs) -> tf.Tensor:
    """``round(x - median) + median`` per channel (straight through)."""
    x = self._to_channels_last(tf.cast(inputs, tf.float32))
    return self._from_channels_last(round_ops.round_st(x, self.medians))

  # -- tables and coding ---------------------------------------------------

  def update_tables(self) -> None:
    """Builds the integer tables from the current density and quantiles.

    As the other entropy models' tables (``continuous_base``), with the
    learned quantiles as the tails and each channel's median as its
    quantization offset."""
    if not self.built:
      raise RuntimeError("build the layer (call it once) before building "
                         "tables")
    quantiles = tf.convert_to_tensor(self.quantiles)
    medians = quantiles[:, 1]
    minima, lengths = continuous_base.table_extent(
        tf.minimum(quantiles[:, 0], medians),
        tf.maximum(quantiles[:, 2], medians), medians)
    lengths = tf.cast(lengths, tf.int32)
    limit = continuous_base.max_table_symbols(self.range_coder_precision)
    if int(tf.reduce_max(lengths)) > limit:
      raise ValueError(f"the learned quantiles span {int(tf.reduce_max(lengths))} "
                       f"values, more than range_coder_precision="
                       f"{self.range_coder_precision} allows ({limit}); "
                       "train the auxiliary loss longer or raise tail_mass")
    cdf, cdf_offset = continuous_base.tables_from_pmf(
        self._likelihood_unbounded, minima, lengths, medians,
        self.range_coder_precision)
    shapes = [list(cdf.shape), list(cdf_offset.shape)]
    if self._cdf is None or shapes != self._table_shapes:
      # Tables are state added after build, on purpose.
      with continuous_base.unlocked_state(self):
        self._create_tables(shapes)
    self._cdf.assign(cdf)
    self._cdf_offset.assign(cdf_offset)
    self._has_tables = True

  def _likelihood_unbounded(self, values):
    bound, self.likelihood_bound = self.likelihood_bound, 0.0
    try:
      return self._likelihood(values)
    finally:
      self.likelihood_bound = bound

  def _ensure_tables(self) -> None:
    if self._cdf is None:
      if not tf.executing_eagerly():
        raise RuntimeError("call update_tables() (eagerly) before tracing "
                           "compress/decompress")
      self.update_tables()

  def compress(self, inputs) -> tf.Tensor:
    """One string per batch element (the first axis)."""
    x = tf.convert_to_tensor(inputs)
    if not self.built:
      self.build(x.shape)
    self._ensure_tables()
    x = self._to_channels_last(tf.cast(x, tf.float32))
    if x.shape[-1] != self.channels:
      raise ValueError(f"expected {self.channels} channels, got shape "
                       f"{inputs.shape}")
    values = continuous_base.flatten_units(x - self.medians,
                                           batch_shape=tf.shape(x)[:1])
    return continuous_base.encode_units(values, self._cdf, self._cdf_offset)

  def decompress(self, strings, shape, channels: Optional[int] = None):
    """Decodes ``compress``'s strings into [batch, *shape, channels] (or
    channels first, per ``data_format``)."""
    self._ensure_tables()
    if channels is not None and int(channels) != self.channels:
      raise ValueError(f"this layer has {self.channels} channels, not "
                       f"{channels}")
    strings = tf.convert_to_tensor(strings, tf.string)
    if strings.shape.rank != 1:
      raise ValueError(f"strings must be 1-D (one per batch element), got "
                       f"shape {strings.shape}")
    shape = tf.cast(tf.convert_to_tensor(shape), tf.int32)
    count = tf.reduce_prod(shape) * self.channels
    symbols = continuous_base.decode_units(strings, count, self._cdf,
                                           self._cdf_offset)
    symbols = tf.reshape(symbols, tf.concat(
        [tf.shape(strings), shape, [self.channels]], 0))
    values = symbols + self.medians
    return self._from_channels_last(values)

  def get_config(self) -> dict:
    config = super().get_config()
    config.update(init_scale=self.init_scale, filters=list(self.filters),
                  tail_mass=self.tail_mass,
                  likelihood_bound=self.likelihood_bound,
                  range_coder_precision=self.range_coder_precision,
                  data_format=self.data_format,
                  table_shapes=self._table_shapes)
    return config
