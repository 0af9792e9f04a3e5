"""Entropy model with a batch of independent priors (one per channel, say).

The model of the factorized-prior codec (Ballé, Laparra and Simoncelli, ICLR
2017) and of the hyperprior's side information (Ballé et al., ICLR 2018):
the prior's batch shape (``prior_shape``) matches the innermost dimensions of
the bottleneck, and the same prior is shared over the other dimensions.
:class:`BatchedEntropyModelBase` holds what it shares with
``UniversalBatchedEntropyModel``: the constructor's prior shape, ``call``,
``quantize``, ``compress`` and ``decompress``.
"""

from __future__ import annotations

from typing import Optional

import keras
import numpy as np
import tensorflow as tf

from tensorcoder.distributions import helpers
from tensorcoder.entropy_models import continuous_base


class BatchedEntropyModelBase(continuous_base.ContinuousEntropyModelBase):
  """Base of the batched models (not used directly): a batch of priors
  whose batch shape, the ``prior_shape``, is the innermost dimensions of
  the bottleneck.

  Subclasses give the quantization grid and table rows of a bottleneck
  (``_grid``) and build their tables (``_init_tables``) at the end of their
  constructor.

  Args:
    prior: the (noisy) prior, a batch of scalar distributions; None when
      the tables and ``prior_shape`` are given.
    coding_rank: innermost dimensions coded into one string, at least
      ``len(prior_shape)``.
    prior_shape: the prior's batch shape, when there is no prior.
    **kwargs: the arguments of :class:`ContinuousEntropyModelBase`.
  """

  def __init__(self, prior=None, coding_rank: Optional[int] = None,
               prior_shape=None, **kwargs):
    if prior is None and prior_shape is None:
      raise ValueError("give a prior, or prior_shape with the tables")
    if prior is not None and prior_shape is not None:
      if tf.TensorShape(prior_shape) != prior.batch_shape:
        raise ValueError(f"prior_shape {prior_shape} differs from the "
                         f"prior's batch shape {prior.batch_shape}")
    super().__init__(prior=prior, coding_rank=coding_rank, **kwargs)
    self._prior_shape = tf.TensorShape(
        prior.batch_shape if prior is not None else prior_shape)
    if not self._prior_shape.is_fully_defined():
      raise ValueError(f"the prior shape must be static, got "
                       f"{self._prior_shape}")
    if self.coding_rank < self._prior_shape.rank:
      raise ValueError(f"coding_rank ({self.coding_rank}) must be at least "
                       f"the prior's rank ({self._prior_shape.rank})")

  @property
  def prior_shape(self) -> tf.TensorShape:
    return self._prior_shape

  def _grid(self, shape: tf.Tensor
            ) -> tuple[Optional[tf.Tensor], Optional[tf.Tensor]]:
    """``(offset, rows)`` of a bottleneck of ``shape``: its quantization
    offsets (broadcastable to it; None: the integers) and the int32 table
    row of each element (None: the rows follow the prior's elements)."""
    raise NotImplementedError

  def _convert(self, bottleneck, prior_shape=None) -> tf.Tensor:
    return super()._convert(bottleneck, self._prior_shape)

  def call(self, bottleneck, training=True):
    """Perturbs (training) or quantizes the bottleneck and returns the rate.

    Args:
      bottleneck: the tensor to code; its innermost dimensions equal the
        prior shape.
      training: add uniform noise (True, TFC's default) or quantize (False).

    Returns:
      ``(outputs, bits)``: the perturbed or quantized bottleneck (its dtype)
      and the rate in bits of each coding unit (shape: the bottleneck's
      shape without its ``coding_rank`` innermost dimensions; the prior's
      dtype).
    """
    return self._perturb_or_quantize(self.prior, self._convert(bottleneck),
                                     training, self.quantize)

  def quantize(self, bottleneck) -> tf.Tensor:
    """Rounds to the quantization grid, straight through."""
    bottleneck = self._convert(bottleneck)
    offset, _ = self._grid(tf.shape(bottleneck))
    return self._round_to_grid(bottleneck, offset)

  def compress(self, bottleneck) -> tf.Tensor:
    """Codes the bottleneck into strings, one per coding unit.

    Values outside the tables' range are coded with the overflow escape, so
    every finite value with magnitude below 2**30 round-trips to its
    quantized value (others raise InvalidArgumentError). Coding units of
    2**17 or more values are split into chunks coded in parallel (see
    docs/FORMAT.md); smaller ones give TFC's bytes.

    Returns:
      A string tensor of the bottleneck's shape without its ``coding_rank``
      innermost dimensions.
    """
    self._check_compression()
    bottleneck = self._convert(bottleneck)
    offset, rows = self._grid(tf.shape(bottleneck))
    return self._compress_values(bottleneck, offset, rows)

  def decompress(self, strings, broadcast_shape) -> tf.Tensor:
    """Decodes strings of ``compress``.

    Args:
      strings: string tensor (any shape: the batch shape).
      broadcast_shape: the coding dimensions that precede the prior shape,
        ``bottleneck.shape[-coding_rank:-len(prior_shape)]``.

    Returns:
      The quantized bottleneck, of shape ``strings.shape + broadcast_shape
      + prior_shape`` and dtype ``bottleneck_dtype``. Corrupt strings raise
      DataLossError (unless ``decode_sanity_check=False``).
    """
    self._check_compression()
    strings = tf.convert_to_tensor(strings, tf.string)
    broadcast_shape = tf.cast(tf.convert_to_tensor(broadcast_shape,
                                                   tf.int32), tf.int32)
    expected = self.coding_rank - self._prior_shape.rank
    message = (f"broadcast_shape must have {expected} dimensions "
               f"(coding_rank - len(prior_shape))")
    rank = broadcast_shape.shape.rank
    if (rank not in (None, 1) or
        (rank == 1 and broadcast_shape.shape[0] not in (None, expected))):
      raise ValueError(f"{message}, got {broadcast_shape.shape}")
    if rank is None or broadcast_shape.shape[0] is None:
      # Known at run time only (a traced function's argument).
      with tf.control_dependencies([tf.debugging.assert_equal(
          tf.shape(broadcast_shape), [expected], message=message)]):
        broadcast_shape = tf.identity(broadcast_shape)
    shape = tf.concat([tf.shape(strings), broadcast_shape,
                       tf.constant(self._prior_shape.as_list(), tf.int32)], 0)
    count = tf.reduce_prod(broadcast_shape) * max(
        1, self._prior_shape.num_elements())
    offset, rows = self._grid(shape)
    return self._decompress_values(strings, shape, count, offset, rows)

  def get_config(self) -> dict:
    config = super().get_config()
    config.update(prior_shape=self._prior_shape.as_list())
    return config


@keras.saving.register_keras_serializable(package="tensorcoder")
class ContinuousBatchedEntropyModel(BatchedEntropyModelBase):
  """Batched entropy model for continuous random variables.

  TFC's ``ContinuousBatchedEntropyModel`` (Ballé, Laparra and Simoncelli,
  "End-to-end optimized image compression", ICLR 2017) as a Keras 3 layer.

  Quantization offsets (``round(x - o) + o``; "Nonlinear Transform Coding",
  Ballé et al., IEEE JSTSP 2021, Sec. III.A), as TFC:

  * ``quantization_offset`` given: those offsets.
  * otherwise, with ``offset_heuristic`` and ``compression``: the prior's
    ``quantization_offset`` (decimal part of its mode), computed once and
    stored with the tables; None (integers) when it is all zero.
  * otherwise, with ``offset_heuristic`` and no compression: recomputed
    from the prior at each use.
  * otherwise: None, plain rounding.

  Args:
    prior: a noisy prior (e.g. ``NoisyDeepFactorized(batch_shape=[C])``)
      whose batch shape is the ``prior_shape``; may be None when ``cdf``,
      ``cdf_offset`` (or ``cdf_shapes``) and ``prior_shape`` are given.
    coding_rank: innermost dimensions coded into one string, at least
      ``len(prior_shape)``.
    compression, stateless, expected_grads, tail_mass,
    range_coder_precision, bottleneck_dtype, laplace_tail_mass: see
      :class:`ContinuousEntropyModelBase`.
    prior_shape: the prior's batch shape, when there is no prior.
    cdf, cdf_offset: tables of another model with the same prior shape.
    cdf_shapes: shapes of ``cdf`` and ``cdf_offset``, to create zero tables
      that ``set_weights`` or a checkpoint fills.
    offset_heuristic: use the prior's offsets (see above). Disable it for
      soft-rounding models. ``non_integer_offset`` is an accepted older
      name.
    quantization_offset: the offsets; with ``cdf_shapes``, TFC's bool
      (True: a zero offset Variable of ``prior_shape`` to be filled by
      ``set_weights``) or the offsets themselves.
    decode_sanity_check: ``decompress`` raises when a string was not
      consumed exactly (corrupt or truncated); otherwise it returns whatever
      the decoder produced.
  """

  def __init__(self, prior=None, coding_rank: Optional[int] = None,
               compression: bool = False, stateless: bool = False,
               expected_grads: bool = False, tail_mass: float = 2**-8,
               range_coder_precision: int = 12, bottleneck_dtype=None,
               prior_shape=None, cdf=None, cdf_offset=None, cdf_shapes=None,
               offset_heuristic: bool = True, quantization_offset=None,
               decode_sanity_check: bool = True,
               laplace_tail_mass: float = 0.0, name: Optional[str] = None,
               non_integer_offset: Optional[bool] = None, **kwargs):
    if non_integer_offset is not None:
      offset_heuristic = non_integer_offset
    super().__init__(
        prior=prior, coding_rank=coding_rank, prior_shape=prior_shape,
        compression=compression, stateless=stateless,
        expected_grads=expected_grads, tail_mass=tail_mass,
        range_coder_precision=range_coder_precision,
        bottleneck_dtype=bottleneck_dtype,
        laplace_tail_mass=laplace_tail_mass, name=name,
        decode_sanity_check=decode_sanity_check, **kwargs)
    self._offset_heuristic = bool(offset_heuristic)

    def offsets():
      if isinstance(quantization_offset, (bool, np.bool_)):
        if cdf_shapes is None:
          raise ValueError("a bool quantization_offset goes with cdf_shapes")
        offset = (tf.zeros(self._prior_shape, self.bottleneck_dtype)
                  if quantization_offset else None)
      elif quantization_offset is not None:
        offset = quantization_offset
      elif self._offset_heuristic and self.compression:
        if cdf_shapes is not None or cdf is not None:
          offset = None  # Tables given without offsets: integers.
        elif self._prior is None:
          raise ValueError("the offset heuristic needs a prior")
        else:
          offset = helpers.quantization_offset(self._prior)
          if tf.executing_eagerly() and not np.any(np.asarray(offset)):
            offset = None
      else:
        offset = None
      if offset is not None:
        offset = tf.broadcast_to(
            tf.cast(offset, self.bottleneck_dtype), self._prior_shape)
      return offset

    self._quantization_offset = self._eagerly(offsets)
    self._init_tables(cdf, cdf_offset, cdf_shapes)
    if (self._quantization_offset is not None and self.compression and
        not self.stateless):
      self._quantization_offset = self._table_variable(
          "quantization_offset", self._quantization_offset)

  def _tables_from_prior(self):
    return self._build_tables(self.prior, self._quantization_offset)

  # -- properties ------------------------------------------------------------

  @property
  def prior_shape_tensor(self) -> tf.Tensor:
    """``prior_shape`` as an int32 Tensor (a property, as TFC)."""
    return tf.constant(self._prior_shape.as_list(), tf.int32)

  @property
  def offset_heuristic(self) -> bool:
    return self._offset_heuristic

  @property
  def non_integer_offset(self) -> bool:
    """TFC's older name of ``offset_heuristic``."""
    return self._offset_heuristic

  @property
  def quantization_offset(self) -> Optional[tf.Tensor]:
    """Offsets of the quantization grid, in ``bottleneck_dtype`` (None: the
    integers)."""
    if self._quantization_offset is not None:
      return tf.convert_to_tensor(self._quantization_offset)
    if self._offset_heuristic and not self.compression:
      if self._prior is None:
        raise RuntimeError("the offset heuristic needs a prior")
      return tf.cast(tf.stop_gradient(helpers.quantization_offset(
          self._prior)), self.bottleneck_dtype)
    return None

  # -- quantization grid ---------------------------------------------------

  def _grid(self, shape: tf.Tensor):
    del shape  # The offsets broadcast; the rows follow the prior's elements.
    return self.quantization_offset, None

  # -- serialization ---------------------------------------------------------

  def get_config(self) -> dict:
    config = super().get_config()
    config.update(offset_heuristic=self._offset_heuristic,
                  quantization_offset=self._quantization_offset is not None)
    return config

  def _table_variables(self) -> list:
    extra = ([] if self._quantization_offset is None else
             [self._quantization_offset])
    return super()._table_variables() + extra
