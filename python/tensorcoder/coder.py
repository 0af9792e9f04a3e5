"""Entropy coding of integer tensors: numpy arrays in, bytes out.

This module wraps the tensorcoder C++ core (extension `tensorcoder._coder`)
and needs only numpy, not TensorFlow. Its range coder writes the same bytes
as TensorFlow Compression's.

Lookups
  Range coding functions take a `lookup` of CDF rows, each
  ``[±precision, 0, c_1, ..., c_n = 2**precision]`` (n symbols, strictly
  increasing, precision 1..16). A negative precision enables the overflow
  escape: the last symbol is then the escape and every int32 value is codable.
  A rank-1 lookup holds the rows back to back (each may be followed by
  repeated ``2**precision`` padding); a rank-2 lookup holds one row per row,
  padded to the width with ``2**precision``. Any other rank is a ValueError.

Arguments
  Integer arguments accept any integer numpy dtype or array-like; values must
  fit in int32 (ValueError otherwise) and float, bool or object arrays raise
  TypeError. Encoded strings may be bytes, bytearray or memoryview. Shapes are
  an int or a sequence of non-negative ints.

Coding units
  :func:`encode_units` and :func:`decode_units` write and read the strings of
  the entropy models (``docs/FORMAT.md``, section 7) byte for byte as the
  TensorFlow ops ``EntropyModelEncode``/``EntropyModelDecode`` do, with the
  same arguments: each unit (a vector along the last axis) becomes one
  string, long units chunked so that they code in parallel.

Errors
  Invalid arguments and corrupted, truncated or extended strings raise
  ValueError with the core's message. The GIL is released while coding, so
  other Python threads run meanwhile.
"""

from typing import List, Sequence, Union

import numpy as np
import numpy.typing as npt

from tensorcoder import _coder

__all__ = [
    "encode_index",
    "decode_index",
    "encode_channel",
    "decode_channel",
    "encode_index_batch",
    "decode_index_batch",
    "encode_channel_batch",
    "decode_channel_batch",
    "encode_units",
    "decode_units",
    "pmf_to_quantized_cdf",
    "pmfs_to_lookup",
    "run_length_gamma_encode",
    "run_length_gamma_decode",
    "run_length_encode",
    "run_length_decode",
]

BytesLike = Union[bytes, bytearray, memoryview]
ShapeLike = Union[int, Sequence[int]]


def encode_index(lookup: npt.ArrayLike, indexes: npt.ArrayLike,
                 values: npt.ArrayLike) -> bytes:
  """Range-codes `values`, each with the CDF row its index names.

  Args:
    lookup: CDF rows, rank 1 or 2 (see the module docstring).
    indexes: Integer array; ``indexes[i]`` is the lookup row of ``values[i]``.
    values: Integer array of the same shape as `indexes`.

  Returns:
    The encoded string.

  Raises:
    ValueError: Bad lookup, shape mismatch, an index outside the lookup rows,
      or a value outside its row when that row has no overflow.
    TypeError: Non-integer `indexes` or `values`.
  """
  return _coder.encode_index(lookup, indexes, values)


def decode_index(lookup: npt.ArrayLike, indexes: npt.ArrayLike,
                 data: BytesLike) -> np.ndarray:
  """Decodes a string written by `encode_index` with the same indexes.

  Returns:
    An int32 array of the shape of `indexes`.

  Raises:
    ValueError: Bad lookup or indexes, or `data` is corrupted, truncated or
      longer than the encoder writes.
  """
  return _coder.decode_index(lookup, indexes, data)


def encode_channel(lookup: npt.ArrayLike, values: npt.ArrayLike) -> bytes:
  """Range-codes `values`, whose innermost axis selects the CDF row.

  Args:
    lookup: CDF rows, rank 1 or 2.
    values: Integer array of rank >= 1 with ``values.shape[-1]`` equal to the
      number of lookup rows; ``values[..., r]`` is coded with row r.

  Returns:
    The encoded string.

  Raises:
    ValueError: Bad lookup, wrong innermost axis, or a value outside its row
      when that row has no overflow.
  """
  return _coder.encode_channel(lookup, values)


def decode_channel(lookup: npt.ArrayLike, data: BytesLike,
                   shape: ShapeLike) -> np.ndarray:
  """Decodes a string written by `encode_channel`.

  Args:
    lookup: The lookup used to encode.
    data: The encoded string.
    shape: The shape of the encoded values (rank >= 1, innermost size equal
      to the number of lookup rows).

  Returns:
    An int32 array of shape `shape`.
  """
  return _coder.decode_channel(lookup, data, shape)


def encode_index_batch(lookup: npt.ArrayLike, indexes: npt.ArrayLike,
                       values: npt.ArrayLike,
                       num_threads: int = 0) -> List[bytes]:
  """Encodes each ``values[k]`` into its own string, strings in parallel.

  String k equals ``encode_index(lookup, indexes[k], values[k])``.

  Args:
    lookup: CDF rows, rank 1 or 2.
    indexes: Integer array of rank >= 1, shaped like `values`.
    values: Integer array of rank >= 1; the leading axis enumerates strings.
    num_threads: Threads to use; 0 or less uses one per CPU core.

  Returns:
    ``len(values)`` strings.

  Raises:
    ValueError: As `encode_index`; the message names the first failing string.
  """
  return _coder.encode_index_batch(lookup, indexes, values, num_threads)


def decode_index_batch(lookup: npt.ArrayLike, indexes: npt.ArrayLike,
                       strings: Sequence[BytesLike],
                       num_threads: int = 0) -> np.ndarray:
  """Decodes strings written by `encode_index_batch`, in parallel.

  Args:
    lookup: The lookup used to encode.
    indexes: Integer array of shape ``[len(strings), ...]``.
    strings: The encoded strings.
    num_threads: Threads to use; 0 or less uses one per CPU core.

  Returns:
    An int32 array of the shape of `indexes`.
  """
  return _coder.decode_index_batch(lookup, indexes, strings, num_threads)


def encode_channel_batch(lookup: npt.ArrayLike, values: npt.ArrayLike,
                         num_threads: int = 0) -> List[bytes]:
  """Encodes each ``values[k]`` in channel mode into its own string.

  String k equals ``encode_channel(lookup, values[k])``.

  Args:
    lookup: CDF rows, rank 1 or 2.
    values: Integer array of rank >= 2 whose innermost axis has one entry per
      lookup row; the leading axis enumerates strings.
    num_threads: Threads to use; 0 or less uses one per CPU core.

  Returns:
    ``len(values)`` strings.
  """
  return _coder.encode_channel_batch(lookup, values, num_threads)


def decode_channel_batch(lookup: npt.ArrayLike, strings: Sequence[BytesLike],
                         shape: ShapeLike,
                         num_threads: int = 0) -> np.ndarray:
  """Decodes strings written by `encode_channel_batch`, in parallel.

  Args:
    lookup: The lookup used to encode.
    strings: The encoded strings.
    shape: The shape of each string's values (rank >= 1, innermost size
      equal to the number of lookup rows).
    num_threads: Threads to use; 0 or less uses one per CPU core.

  Returns:
    An int32 array of shape ``(len(strings),) + tuple(shape)``.
  """
  return _coder.decode_channel_batch(lookup, strings, shape, num_threads)


def encode_units(values: npt.ArrayLike, indexes: npt.ArrayLike,
                 cdf: npt.ArrayLike, cdf_offset: npt.ArrayLike, indexed: bool,
                 num_threads: int = 0) -> np.ndarray:
  """Codes each unit of ``values`` into one string, as ``EntropyModelEncode``.

  Value ``v`` with table row ``r`` is coded as the symbol
  ``round(v) - cdf_offset[r]`` (round half to even) against lookup row ``r``
  of ``cdf``, with the row's overflow escape. With ``indexed``, ``r`` is the
  value's entry in ``indexes``; otherwise value ``i`` of each unit uses row
  ``i mod rows`` and ``indexes`` is ignored. Units of 2**17 values or more
  are cut into chunks (``docs/FORMAT.md``, section 7); shorter ones are plain
  range-coded strings (TFC's bytes). The strings equal the op's for the same
  arguments, whatever ``num_threads``.

  Args:
    values: Real array of rank >= 1; the last axis holds the values of a
      unit. Floating-point values are rounded (float32 as float32, wider
      types as float64) and must be finite with magnitude below 2**30, as
      for the op; integer values (any int32) are coded as they are.
    indexes: Integer array of the shape of ``values`` (indexed mode only).
    cdf: Lookup of rank 1 or 2 (see the module docstring).
    cdf_offset: Rank-1 integer array, one offset per lookup row.
    indexed: Whether rows come from ``indexes``.
    num_threads: Threads to use; 0 or less uses one per CPU core.

  Returns:
    An object array of shape ``values.shape[:-1]`` holding ``bytes``.

  Raises:
    ValueError: Bad shapes or tables, or a value that cannot be coded (the
      message names its position and unit).
    TypeError: Non-real values or non-integer tables.
  """
  values = np.asarray(values)
  if values.ndim < 1:
    raise ValueError("values must have rank >= 1 (units along the last axis)")
  flat = _coder.encode_units(values, indexes, cdf, cdf_offset, bool(indexed),
                             num_threads)
  strings = np.empty(len(flat), dtype=object)
  strings[:] = flat
  return strings.reshape(values.shape[:-1])


def decode_units(strings, indexes: npt.ArrayLike, count: int,
                 cdf: npt.ArrayLike, cdf_offset: npt.ArrayLike, indexed: bool,
                 check: bool = True, dtype: npt.DTypeLike = np.float32,
                 num_threads: int = 0) -> np.ndarray:
  """Decodes strings of :func:`encode_units`, as ``EntropyModelDecode``.

  Args:
    strings: One bytes-like string, or an array-like of them of any shape.
    indexes: Integer array of shape ``strings.shape + (count,)`` (indexed
      mode only; ignored otherwise).
    count: Values per unit.
    cdf: The lookup the strings were coded with.
    cdf_offset: Its offsets, one per row.
    indexed: As for :func:`encode_units`.
    check: Raise ValueError when a string does not decode exactly (TFC's
      ``decode_sanity_check``); without it, whatever was decoded is returned.
    dtype: float32, float64 or int32 (for int32, a value outside int32 is a
      ValueError).
    num_threads: Threads to use; 0 or less uses one per CPU core.

  Returns:
    An array of shape ``strings.shape + (count,)``: the rounded values,
    ``cdf_offset`` added back.
  """
  if isinstance(strings, (bytes, bytearray, memoryview)):
    shape, flat = (), [strings]
  else:
    array = np.asarray(strings, dtype=object)
    shape, flat = array.shape, list(array.reshape(-1))
  count = int(count)
  if indexed:
    indexes = np.asarray(indexes)
    expected = tuple(shape) + (count,)
    if indexes.shape != expected:
      raise ValueError(f"indexes must have shape strings.shape + (count,) = "
                       f"{expected}, got {indexes.shape}")
    indexes = indexes.reshape(len(flat), count)
  name = np.dtype(dtype).name
  values = _coder.decode_units(flat, indexes, count, cdf, cdf_offset,
                               bool(indexed), bool(check), name, num_threads)
  return values.reshape(tuple(shape) + (count,))


def pmfs_to_lookup(pmf: npt.ArrayLike, lengths: npt.ArrayLike, precision: int,
                   overflow: bool = True, num_threads: int = 0) -> np.ndarray:
  """Builds the lookup of the entropy models from pmfs, as ``PmfsToCdfLookup``.

  Row ``r`` takes the first ``lengths[r]`` masses of ``pmf[r]``; with
  ``overflow`` an escape symbol of mass ``max(0, 1 - sum)`` is appended and
  the row's precision is negative. Each row is quantized as
  :func:`pmf_to_quantized_cdf` does and padded with ``2**precision``.

  Args:
    pmf: Real array of shape ``[rows, max_length]``.
    lengths: Integer array of shape ``[rows]``, each in ``1..max_length``.
    precision: 1..16.
    overflow: Whether rows get the escape symbol.
    num_threads: Threads to use; 0 or less uses one per CPU core.

  Returns:
    An int32 lookup matrix of shape ``[rows, max_length + 2 + overflow]``.
  """
  return _coder.pmfs_to_lookup(pmf, lengths, precision, bool(overflow),
                               num_threads)


def pmf_to_quantized_cdf(pmf: npt.ArrayLike, precision: int) -> np.ndarray:
  """Quantizes probability mass functions into integer CDFs.

  Each vector along the last axis gets the CDF ``[0, c_1, ..., 2**precision]``
  of a quantized version of it: every symbol has a count of at least one and
  the counts sum to ``2**precision``. Masses are converted to float64 (exactly
  for float32); vectors summing to more than 1 are normalized first.

  Args:
    pmf: Real array of rank >= 1.
    precision: 1..16.

  Returns:
    An int32 array whose last axis is one longer than pmf's. Prefix each row
    with the precision to make a lookup row.

  Raises:
    ValueError: Bad precision, an empty vector, more masses than
      ``2**precision``, or a negative, NaN or infinite mass.
    TypeError: A non-real `pmf`.
  """
  return _coder.pmf_to_quantized_cdf(pmf, precision)


def run_length_gamma_encode(data: npt.ArrayLike) -> bytes:
  """Encodes an integer tensor (flattened) with the run-length gamma code.

  Each non-zero value is coded as the Elias gamma code of its preceding zero
  run plus one, a sign bit and the gamma code of its magnitude.
  """
  return _coder.run_length_gamma_encode(data)


def run_length_gamma_decode(code: BytesLike, shape: ShapeLike) -> np.ndarray:
  """Decodes a string written by `run_length_gamma_encode`.

  Returns:
    An int32 array of shape `shape`.

  Raises:
    ValueError: `code` is corrupted, truncated, too long, or does not hold
      exactly ``prod(shape)`` values.
  """
  return _coder.run_length_gamma_decode(code, shape)


def run_length_encode(data: npt.ArrayLike, run_length_code: int = -1,
                      magnitude_code: int = -1,
                      use_run_length_for_non_zeros: bool = False) -> bytes:
  """Encodes an integer tensor (flattened) with a configurable run-length code.

  Args:
    data: Integer array.
    run_length_code: Code of zero runs: a Rice parameter 0..31, or negative
      for the Elias gamma code.
    magnitude_code: Code of magnitudes, as `run_length_code`.
    use_run_length_for_non_zeros: Code runs of non-zero values by their
      length followed by the values, instead of one value per zero run.

  Returns:
    The encoded string.

  Raises:
    ValueError: A Rice parameter above 31, or a value whose Rice code would
      be too long.
  """
  return _coder.run_length_encode(data, run_length_code, magnitude_code,
                                  use_run_length_for_non_zeros)


def run_length_decode(code: BytesLike, shape: ShapeLike,
                      run_length_code: int = -1, magnitude_code: int = -1,
                      use_run_length_for_non_zeros: bool = False
                      ) -> np.ndarray:
  """Decodes a string written by `run_length_encode` with the same options.

  Returns:
    An int32 array of shape `shape`.

  Raises:
    ValueError: Bad options, or `code` is corrupted, truncated, too long, or
      does not hold exactly ``prod(shape)`` values.
  """
  return _coder.run_length_decode(code, shape, run_length_code,
                                  magnitude_code, use_run_length_for_non_zeros)
