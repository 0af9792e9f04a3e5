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
    "pmf_to_quantized_cdf",
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
