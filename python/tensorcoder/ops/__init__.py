"""TensorFlow ops of tensorcoder.

The op names, arguments, dtypes, shapes and bytes are those of TensorFlow
Compression's ops, so TFC code and stored bit strings keep working:

* ``range_encode(data, cdf, precision)`` / ``range_decode(encoded, shape,
  cdf, precision)``: the original API; one string per tensor, int16 data, a
  CDF with one more axis than the data whose other axes broadcast.
* ``create_range_encoder(shape, lookup)``, ``entropy_encode_channel``,
  ``entropy_encode_index``, ``entropy_encode_finalize``,
  ``create_range_decoder(encoded, lookup)``, ``entropy_decode_channel``,
  ``entropy_decode_index``, ``entropy_decode_finalize``: coders over a
  "lookup" of CDF rows ``[±precision, 0, ..., 2**precision]`` (negative
  precision: overflow escape), one string per handle element, coded in
  parallel on TensorFlow's CPU thread pool.
* ``pmfs_to_cdf_lookup(pmf, lengths, precision, overflow=True)``: the
  entropy models' table builder: a matrix lookup, one row per pmf, with the
  overflow escape; rows quantized in parallel.
* ``entropy_model_encode(values, indexes, cdf, cdf_offset, indexed)`` /
  ``entropy_model_decode(strings, indexes, count, cdf, cdf_offset,
  indexed)``: the entropy models' fused coders (round, offset, range code;
  long coding units split into chunks coded in parallel, see
  cc/unit_encoder.h; ``tensorcoder.coder.encode_units``/``decode_units``
  write and read the same bytes without TensorFlow).
* ``pmf_to_quantized_cdf``, ``run_length_gamma_encode/decode``,
  ``run_length_encode/decode``.
* ``unbounded_index_range_encode(data, index, cdf, cdf_size, offset,
  precision, overflow_width)`` / ``unbounded_index_range_decode(encoded,
  index, cdf, cdf_size, offset, precision, overflow_width)``: TFC 1.x's
  deprecated coder of int32 values of any magnitude with indexed CDF rows
  (ops ``UnboundedIndexRangeEncode`` / ``UnboundedIndexRangeDecode``, kept so
  that graphs exported by TFC 1.x's entropy models load and run).
* ``uniform_noise``, ``add_uniform_noise``, ``stochastic_round`` (counter-
  based noise, identical on CPU and GPU for a seed) and the fused
  ``noisy_normal_log_likelihood`` with analytic gradients (see ``noise``).

All kernels run the TensorFlow-free tensorcoder C++ core. Bad input raises
``InvalidArgumentError`` naming the problem; corrupt strings raise
``DataLossError`` (or make ``entropy_decode_finalize`` return False) and never
hang or crash the process.

The op library is loaded on import; a library built for another TensorFlow
version raises ImportError saying which version it was built for.
"""

from __future__ import annotations

import tensorflow as tf

from tensorcoder.ops import _library
from tensorcoder.ops.noise import add_uniform_noise
from tensorcoder.ops.noise import noisy_normal_log_likelihood
from tensorcoder.ops.noise import stochastic_round
from tensorcoder.ops.noise import uniform_noise

__all__ = [
    "range_encode",
    "range_decode",
    "create_range_encoder",
    "entropy_encode_channel",
    "entropy_encode_index",
    "entropy_encode_finalize",
    "create_range_decoder",
    "entropy_decode_channel",
    "entropy_decode_index",
    "entropy_decode_finalize",
    "pmf_to_quantized_cdf",
    "pmfs_to_cdf_lookup",
    "entropy_model_encode",
    "entropy_model_decode",
    "run_length_gamma_encode",
    "run_length_gamma_decode",
    "run_length_encode",
    "run_length_decode",
    "unbounded_index_range_encode",
    "unbounded_index_range_decode",
    "uniform_noise",
    "add_uniform_noise",
    "stochastic_round",
    "noisy_normal_log_likelihood",
]

_ops = _library.ops

range_encode = _ops.range_encode
range_decode = _ops.range_decode
create_range_encoder = _ops.create_range_encoder
entropy_encode_channel = _ops.entropy_encode_channel
entropy_encode_index = _ops.entropy_encode_index
entropy_encode_finalize = _ops.entropy_encode_finalize
create_range_decoder = _ops.create_range_decoder
entropy_decode_finalize = _ops.entropy_decode_finalize
pmf_to_quantized_cdf = _ops.pmf_to_quantized_cdf
pmfs_to_cdf_lookup = _ops.pmfs_to_cdf_lookup
entropy_model_encode = _ops.entropy_model_encode
entropy_model_decode = _ops.entropy_model_decode
run_length_gamma_encode = _ops.run_length_gamma_encode
run_length_gamma_decode = _ops.run_length_gamma_decode
run_length_encode = _ops.run_length_encode
run_length_decode = _ops.run_length_decode


def entropy_decode_channel(handle, shape, Tdecoded=tf.int32, name=None):  # pylint: disable=invalid-name
  """Decodes ``handle.shape + shape`` values; see the module docstring.

  Returns:
    ``(aliased_handle, decoded)``.
  """
  return _ops.entropy_decode_channel(handle, shape, Tdecoded, name=name)


def entropy_decode_index(handle, index, shape, Tdecoded=tf.int32, name=None):  # pylint: disable=invalid-name
  """Decodes values with the lookup rows of ``index``; see the module docstring.

  Returns:
    ``(aliased_handle, decoded)``.
  """
  return _ops.entropy_decode_index(handle, index, shape, Tdecoded, name=name)


def unbounded_index_range_encode(data, index, cdf, cdf_size, offset,
                                 precision, overflow_width, debug_level=1,
                                 name=None):
  """Range-encodes int32 ``data`` with CDF rows ``cdf[index]``, TFC 1.x style.

  The op ``UnboundedIndexRangeEncode`` of TensorFlow Compression 1.x (still
  registered, deprecated, by TFC 2.x); the bytes are TFC's. Row ``r`` of the
  2-D ``cdf`` holds a CDF of ``cdf_size[r]`` (>= 3) strictly increasing
  values from 0 to ``2**precision`` (then any padding); with
  ``m = cdf_size[r] - 2`` the values ``offset[r]`` to ``offset[r] + m - 1``
  are coded with it, any other value as an escape (symbol ``m``) followed by
  its distance from that range in digits of ``overflow_width`` bits.

  Prefer the entropy models (``tensorcoder.entropy_models``) in new code.

  Args:
    data: int32 tensor of values.
    index: int32 tensor of the shape of ``data``: the row of each value.
    cdf: 2-D int32 tensor of CDF rows.
    cdf_size: 1-D int32 tensor: the CDF length of each row.
    offset: 1-D int32 tensor: the smallest regular value of each row.
    precision: bits of the CDF values, 1 to 16.
    overflow_width: bits of each escape digit, 1 to 16.
    debug_level: 0 or 1. Accepted for compatibility: unlike TFC (which
      skipped its checks at 0), the arguments are always checked.
    name: optional op name.

  Returns:
    A scalar string tensor.

  Raises:
    InvalidArgumentError: bad shapes or tables, an index outside the rows,
      or a value TFC's encoder cannot code (it never terminates for values
      whose escape code exceeds ``32 - gcd(overflow_width, 32)`` bits, e.g.
      ``|value - offset| >= 2**15`` with ``overflow_width=16``).
  """
  return _ops.unbounded_index_range_encode(
      data, index, cdf, cdf_size, offset, precision=precision,
      overflow_width=overflow_width, debug_level=debug_level, name=name)


def unbounded_index_range_decode(encoded, index, cdf, cdf_size, offset,
                                 precision, overflow_width, debug_level=1,
                                 name=None):
  """Decodes a string of ``unbounded_index_range_encode``.

  ``index``, ``cdf``, ``cdf_size``, ``offset``, ``precision`` and
  ``overflow_width`` must equal the encoder's (the string has no shape).

  Returns:
    An int32 tensor of the shape of ``index``.

  Raises:
    InvalidArgumentError: bad shapes, tables or index.
    DataLossError: a corrupt string (TFC returned arbitrary values instead).
  """
  return _ops.unbounded_index_range_decode(
      encoded, index, cdf, cdf_size, offset, precision=precision,
      overflow_width=overflow_width, debug_level=debug_level, name=name)
