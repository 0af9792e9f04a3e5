"""Tests of tensorcoder.coder, the numpy interface of the C++ core."""

import os
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

from tensorcoder import coder

INT32_MIN = np.iinfo(np.int32).min
INT32_MAX = np.iinfo(np.int32).max

# One row, precision 2, three symbols with probabilities 1/4, 1/2, 1/4.
SMALL = [2, 0, 1, 3, 4]
# One row with overflow: precision 8, symbols 0..3 direct, 4 is the escape.
OVERFLOW = [-8, 0, 100, 200, 250, 256]
# Three rows as a flat lookup: an overflow row, a plain row, a 2-symbol row.
FLAT3 = [-4, 0, 5, 9, 16, 3, 0, 2, 5, 7, 8, 1, 0, 1, 2]
# The same rows as a matrix, padded with 2^precision.
MATRIX3 = [[-4, 0, 5, 9, 16, 16],
           [3, 0, 2, 5, 7, 8],
           [1, 0, 1, 2, 2, 2]]


def _rng(seed=0):
  return np.random.default_rng(seed)


def _random_values(rng, shape, num_symbols, overflow):
  """Values mostly inside the rows, plus escapes and int32 extremes."""
  values = rng.integers(0, num_symbols, size=shape, dtype=np.int64)
  if overflow:
    flat = values.reshape(-1)
    picks = rng.random(flat.size)
    flat[picks < 0.1] = rng.integers(-1000, 1000, size=(picks < 0.1).sum())
    flat[picks > 0.97] = INT32_MIN
    flat[picks > 0.985] = INT32_MAX
  return values.astype(np.int32)


# ---------------------------------------------------------------------------
# Golden strings (TensorFlow Compression writes the same bytes).


@pytest.mark.parametrize("values, expected", [
    ([], b""),
    ([0], b""),
    ([1], b"\x40"),
    ([2], b"\xc0"),
    ([0] * 10, b"\x00\x00"),
    ([1, 0, 2, 1, 1, 0, 2, 2, 1, 0], b"\x5b\x7a"),
])
def test_golden_small(values, expected):
  indexes = np.zeros(len(values), np.int32)
  assert coder.encode_index(SMALL, indexes, values) == expected
  assert coder.encode_index(np.array([SMALL]), indexes, values) == expected
  column = np.reshape(np.asarray(values, np.int32), (-1, 1))
  assert coder.encode_channel(SMALL, column) == expected
  decoded = coder.decode_index(SMALL, indexes, expected)
  assert decoded.dtype == np.int32
  np.testing.assert_array_equal(decoded, values)
  np.testing.assert_array_equal(
      coder.decode_channel(SMALL, expected, (len(values), 1)).reshape(-1),
      values)


def test_golden_overflow():
  values = [0, 1, 2, -1, 3, 4, 100, -7]
  expected = bytes.fromhex("4d358e8e497de4cf")
  assert coder.encode_index(OVERFLOW, [0] * 8, values) == expected
  np.testing.assert_array_equal(
      coder.decode_index(OVERFLOW, [0] * 8, expected), values)


def test_golden_run_length():
  assert coder.run_length_gamma_encode([-6, 3, 0, 0]) == bytes.fromhex("d16d")
  np.testing.assert_array_equal(
      coder.run_length_gamma_decode(bytes.fromhex("d16d"), [4]),
      [-6, 3, 0, 0])
  options = dict(run_length_code=1, magnitude_code=0,
                 use_run_length_for_non_zeros=True)
  data = [0, 0, 5, -2, 0, 1]
  assert coder.run_length_encode(data, **options) == bytes.fromhex("3a640d")
  np.testing.assert_array_equal(
      coder.run_length_decode(bytes.fromhex("3a640d"), (6,), **options), data)


def test_golden_pmf_to_quantized_cdf():
  cdf = coder.pmf_to_quantized_cdf([0.7, 0.2, 0.1, 0], 4)
  assert cdf.dtype == np.int32
  np.testing.assert_array_equal(cdf, [0, 10, 13, 15, 16])
  np.testing.assert_array_equal(
      coder.pmf_to_quantized_cdf([1 / 3] * 3, 2), [0, 2, 3, 4])


# ---------------------------------------------------------------------------
# Range coding round trips.


def test_index_round_trip_with_overflow_and_extremes():
  rng = _rng(1)
  indexes = rng.integers(0, 3, size=(7, 33)).astype(np.int32)
  values = _random_values(rng, indexes.shape, 2, overflow=False)
  # Row 0 has overflow: anything goes there, int32 extremes included.
  row0 = indexes == 0
  values[row0] = _random_values(rng, row0.sum(), 4, overflow=True)
  values.flat[np.flatnonzero(row0)[:2]] = [INT32_MIN, INT32_MAX]
  encoded = coder.encode_index(FLAT3, indexes, values)
  assert isinstance(encoded, bytes)
  decoded = coder.decode_index(FLAT3, indexes, encoded)
  assert decoded.shape == indexes.shape
  np.testing.assert_array_equal(decoded, values)
  # The matrix layout describes the same rows, hence the same bytes.
  assert coder.encode_index(MATRIX3, indexes, values) == encoded
  np.testing.assert_array_equal(
      coder.decode_index(MATRIX3, indexes, encoded), values)


def test_every_int32_extreme_through_overflow_row():
  values = np.array([INT32_MIN, INT32_MIN + 1, -1, 0, 3, 4, INT32_MAX - 1,
                     INT32_MAX], np.int32)
  indexes = np.zeros_like(values)
  encoded = coder.encode_index(OVERFLOW, indexes, values)
  np.testing.assert_array_equal(
      coder.decode_index(OVERFLOW, indexes, encoded), values)


def test_flat_lookup_padding():
  padded = [2, 0, 1, 3, 4, 4, 4, -4, 0, 8, 16, 16]
  unpadded = [2, 0, 1, 3, 4, -4, 0, 8, 16]
  indexes = [0, 1, 1, 0, 1]
  values = [2, -5, 1, 0, 99]
  encoded = coder.encode_index(padded, indexes, values)
  assert encoded == coder.encode_index(unpadded, indexes, values)
  np.testing.assert_array_equal(
      coder.decode_index(padded, indexes, encoded), values)


def test_channel_round_trip_matches_indexed():
  rng = _rng(2)
  shape = (4, 5, 3)
  values = _random_values(rng, shape, 2, overflow=False)
  values[..., 0] = _random_values(rng, shape[:2], 4, overflow=True)
  encoded = coder.encode_channel(MATRIX3, values)
  indexes = np.broadcast_to(np.arange(3, dtype=np.int32), shape)
  assert encoded == coder.encode_index(MATRIX3, indexes, values)
  decoded = coder.decode_channel(MATRIX3, encoded, shape)
  assert decoded.shape == shape and decoded.dtype == np.int32
  np.testing.assert_array_equal(decoded, values)
  np.testing.assert_array_equal(
      coder.decode_channel(FLAT3, encoded, list(shape)), values)


def test_empty_inputs():
  assert coder.encode_index(SMALL, [], []) == b""
  assert coder.encode_index(SMALL, np.zeros((0, 3), np.int8),
                            np.zeros((0, 3), np.int64)) == b""
  decoded = coder.decode_index(SMALL, np.zeros((2, 0), np.int32), b"")
  assert decoded.shape == (2, 0) and decoded.dtype == np.int32
  assert coder.encode_channel(MATRIX3, np.zeros((0, 3), np.int32)) == b""
  assert coder.decode_channel(MATRIX3, b"", (0, 3)).shape == (0, 3)
  assert coder.encode_index_batch(SMALL, np.zeros((0, 4), np.int32),
                                  np.zeros((0, 4), np.int32)) == []
  assert coder.decode_index_batch(SMALL, np.zeros((0, 4), np.int32),
                                  []).shape == (0, 4)
  assert coder.encode_channel_batch(MATRIX3, np.zeros((0, 2, 3))
                                    .astype(np.int32)) == []
  assert coder.decode_channel_batch(MATRIX3, [], (2, 3)).shape == (0, 2, 3)
  assert coder.run_length_gamma_encode([]) == b""
  assert coder.run_length_gamma_decode(b"", 0).shape == (0,)
  assert coder.run_length_encode(np.zeros(0, np.int32)) == b""
  assert coder.run_length_decode(b"", (0, 2)).shape == (0, 2)
  assert coder.pmf_to_quantized_cdf(np.zeros((0, 4)), 8).shape == (0, 5)


def test_zero_dimensional_arrays():
  encoded = coder.encode_index(SMALL, np.int32(0), np.int64(2))
  assert encoded == b"\xc0"
  decoded = coder.decode_index(SMALL, 0, encoded)
  assert decoded.shape == () and decoded == 2


@pytest.mark.parametrize("dtype", [
    np.int8, np.uint8, np.int16, np.uint16, np.int32, np.uint32, np.int64,
    np.uint64, np.dtype(">i4"), np.dtype(">i8")])
def test_integer_dtypes(dtype):
  indexes = np.array([0, 1, 2, 1, 0, 2], dtype=dtype)
  values = np.array([3, 1, 0, 3, 9, 1], dtype=dtype)
  expected = coder.encode_index(FLAT3, indexes.tolist(), values.tolist())
  assert coder.encode_index(FLAT3, indexes, values) == expected
  assert coder.encode_index(np.array(FLAT3, dtype=np.int64), indexes,
                            values) == expected
  np.testing.assert_array_equal(coder.decode_index(FLAT3, indexes, expected),
                                values)


def test_non_contiguous_inputs():
  rng = _rng(3)
  big = rng.integers(0, 2, size=(6, 8)).astype(np.int32)
  values = big[::2, 1::3]  # A strided view.
  indexes = np.ones_like(big)[::2, 1::3]
  assert not values.flags.c_contiguous
  encoded = coder.encode_index(FLAT3, indexes, values)
  assert encoded == coder.encode_index(FLAT3, np.ascontiguousarray(indexes),
                                       np.ascontiguousarray(values))
  np.testing.assert_array_equal(coder.decode_index(FLAT3, indexes, encoded),
                                values)
  transposed = np.ascontiguousarray(_random_values(rng, (3, 5), 2, False)).T
  assert coder.encode_channel(FLAT3, np.ascontiguousarray(transposed)) == (
      coder.encode_channel(FLAT3, transposed))


def test_bytes_like_data():
  values = [1, 0, 2, 1, 1, 0, 2, 2, 1, 0]
  indexes = [0] * 10
  encoded = coder.encode_index(SMALL, indexes, values)
  for data in (bytearray(encoded), memoryview(encoded),
               np.bytes_(encoded)):
    np.testing.assert_array_equal(coder.decode_index(SMALL, indexes, data),
                                  values)
  code = coder.run_length_gamma_encode([0, 4, 0])
  np.testing.assert_array_equal(
      coder.run_length_gamma_decode(bytearray(code), 3), [0, 4, 0])


def test_input_arrays_are_not_modified():
  values = np.array([3, 1, 0, 3, 9, 1], np.int32)
  indexes = np.array([0, 1, 2, 1, 0, 2], np.int32)
  encoded = coder.encode_index(FLAT3, indexes, values)
  np.testing.assert_array_equal(values, [3, 1, 0, 3, 9, 1])
  decoded = coder.decode_index(FLAT3, indexes, encoded)
  decoded[:] = 0  # The result is a fresh, writable array.
  np.testing.assert_array_equal(indexes, [0, 1, 2, 1, 0, 2])


# ---------------------------------------------------------------------------
# Batch mode.


@pytest.mark.parametrize("num_threads", [0, 1, 2, 5, -1])
def test_index_batch_matches_single_calls(num_threads):
  rng = _rng(4)
  indexes = rng.integers(0, 3, size=(9, 4, 5)).astype(np.int32)
  values = _random_values(rng, indexes.shape, 2, overflow=False)
  row0 = indexes == 0
  values[row0] = _random_values(rng, row0.sum(), 4, overflow=True)
  strings = coder.encode_index_batch(MATRIX3, indexes, values,
                                     num_threads=num_threads)
  assert isinstance(strings, list) and len(strings) == 9
  for k in range(9):
    assert strings[k] == coder.encode_index(MATRIX3, indexes[k], values[k])
  decoded = coder.decode_index_batch(MATRIX3, indexes, strings, num_threads)
  assert decoded.shape == indexes.shape and decoded.dtype == np.int32
  np.testing.assert_array_equal(decoded, values)
  # Any sequence of bytes-like strings is accepted.
  np.testing.assert_array_equal(
      coder.decode_index_batch(MATRIX3, indexes,
                               tuple(bytearray(s) for s in strings)), values)


@pytest.mark.parametrize("num_threads", [0, 1, 3])
def test_channel_batch_matches_single_calls(num_threads):
  rng = _rng(5)
  values = _random_values(rng, (6, 2, 3), 2, overflow=False)
  values[..., 0] = _random_values(rng, (6, 2), 4, overflow=True)
  strings = coder.encode_channel_batch(FLAT3, values, num_threads)
  assert len(strings) == 6
  for k in range(6):
    assert strings[k] == coder.encode_channel(FLAT3, values[k])
  decoded = coder.decode_channel_batch(FLAT3, strings, (2, 3),
                                       num_threads=num_threads)
  assert decoded.shape == (6, 2, 3)
  np.testing.assert_array_equal(decoded, values)


def test_batch_error_names_failing_string():
  indexes = np.zeros((3, 2), np.int32)
  values = np.array([[0, 1], [1, 2], [2, 7]], np.int32)
  with pytest.raises(ValueError, match=r"^string 2: value 7 at position 1"):
    coder.encode_index_batch(SMALL, indexes, values)
  strings = coder.encode_index_batch(SMALL, indexes[:2], values[:2])
  with pytest.raises(ValueError, match=r"^string 1: "):
    coder.decode_index_batch(SMALL, indexes[:2], [strings[0],
                                                  strings[1] + b"\x01"])


# ---------------------------------------------------------------------------
# pmf_to_quantized_cdf.


def test_pmf_to_quantized_cdf_shapes_and_dtypes():
  rng = _rng(6)
  pmf = rng.random((2, 3, 7)).astype(np.float32)
  pmf /= pmf.sum(axis=-1, keepdims=True)
  cdf = coder.pmf_to_quantized_cdf(pmf, 10)
  assert cdf.shape == (2, 3, 8) and cdf.dtype == np.int32
  for index in np.ndindex(2, 3):
    np.testing.assert_array_equal(
        cdf[index], coder.pmf_to_quantized_cdf(pmf[index], 10))
  # float32 converts to float64 exactly: same result.
  np.testing.assert_array_equal(
      cdf, coder.pmf_to_quantized_cdf(pmf.astype(np.float64), 10))
  assert np.all(cdf[..., 0] == 0) and np.all(cdf[..., -1] == 1024)
  assert np.all(np.diff(cdf, axis=-1) >= 1)
  # Histogram counts are normalized.
  np.testing.assert_array_equal(
      coder.pmf_to_quantized_cdf([70, 20, 10, 0], 4), [0, 10, 13, 15, 16])


def test_pmf_cdf_makes_a_working_lookup():
  rng = _rng(7)
  pmf = rng.random((4, 9))
  cdf = coder.pmf_to_quantized_cdf(pmf, 12)
  lookup = np.concatenate([np.full((4, 1), -12), cdf], axis=1)
  values = rng.integers(-3, 12, size=(50, 4)).astype(np.int32)
  encoded = coder.encode_channel(lookup, values)
  np.testing.assert_array_equal(
      coder.decode_channel(lookup, encoded, values.shape), values)


# ---------------------------------------------------------------------------
# Run-length codes.


def _sparse(rng, size):
  data = np.where(rng.random(size) < 0.2,
                  rng.integers(-50, 50, size=size), 0).astype(np.int32)
  data[::17] = 0
  return data


def test_run_length_gamma_round_trip():
  rng = _rng(8)
  data = _sparse(rng, (10, 12))
  data[0, :3] = [INT32_MIN, INT32_MAX, -1]
  code = coder.run_length_gamma_encode(data)
  decoded = coder.run_length_gamma_decode(code, data.shape)
  assert decoded.shape == data.shape and decoded.dtype == np.int32
  np.testing.assert_array_equal(decoded, data)
  assert coder.run_length_gamma_encode(data.astype(np.int64)) == code


@pytest.mark.parametrize("run_length_code", [-1, 0, 2])
@pytest.mark.parametrize("magnitude_code", [-1, 0, 3])
@pytest.mark.parametrize("use_run_length_for_non_zeros", [False, True])
def test_run_length_round_trip(run_length_code, magnitude_code,
                               use_run_length_for_non_zeros):
  options = dict(run_length_code=run_length_code,
                 magnitude_code=magnitude_code,
                 use_run_length_for_non_zeros=use_run_length_for_non_zeros)
  rng = _rng(9)
  data = _sparse(rng, 300)
  data[250:270] = rng.integers(1, 9, size=20)  # A long non-zero run.
  if magnitude_code < 0:
    data[5:7] = [INT32_MIN, INT32_MAX]
  code = coder.run_length_encode(data, **options)
  np.testing.assert_array_equal(
      coder.run_length_decode(code, data.shape, **options), data)
  # Trailing zeros and an all-zero tensor.
  for tail in (np.zeros(5, np.int32), np.array([0, 0, 3, 0, 0], np.int32)):
    code = coder.run_length_encode(tail, **options)
    np.testing.assert_array_equal(
        coder.run_length_decode(code, 5, **options), tail)


# ---------------------------------------------------------------------------
# Errors.


@pytest.mark.parametrize("lookup, match", [
    ([0, 0, 1], "precision 0 not in 1..16"),
    ([17, 0, 1], "precision 17"),
    ([-17, 0, 1], "precision -17"),
    ([2, 1, 4], "must start with 0"),
    ([2, 0, 3, 3, 4], "strictly increasing"),
    ([2, 0, 5], "exceeds 2\\^precision"),
    ([2, 0, 1, 3], "must end with 2\\^precision"),
    ([2], "empty CDF"),
    ([], "lookup is empty"),
    ([2, 0, 1, 3, 4, 7, 0, 1], "lookup row 1"),
    ([[2, 0, 1, 3, 4], [2, 0, 4, 3, 4]], "padding must repeat"),
    ([[2, 0, 4, 4], [1, 0, 2, 1]], "^lookup row 1: .*padding"),
    (np.zeros((0, 5), np.int32), "no rows"),
    (np.zeros((2, 2), np.int32), "at least 3 values"),
])
def test_bad_lookup(lookup, match):
  with pytest.raises(ValueError, match=match):
    coder.encode_index(lookup, [0], [0])
  with pytest.raises(ValueError, match=match):
    coder.decode_index(lookup, [0], b"")
  with pytest.raises(ValueError, match=match):
    coder.decode_channel_batch(lookup, [], 1)


@pytest.mark.parametrize("lookup", [5, np.zeros((1, 1, 5), np.int32)])
def test_lookup_rank(lookup):
  with pytest.raises(ValueError, match="lookup must have rank 1"):
    coder.encode_index(lookup, [0], [0])
  with pytest.raises(ValueError, match="lookup must have rank 1"):
    coder.encode_channel_batch(lookup, [[0]])


def test_index_out_of_range():
  for index in (3, -1, INT32_MAX):
    with pytest.raises(ValueError, match=f"^index {index} at position 1 is "
                       r"outside \[0, 3\)"):
      coder.encode_index(FLAT3, [0, index], [0, 0])
    with pytest.raises(ValueError, match=f"^index {index} at position 1"):
      coder.decode_index(FLAT3, [0, index], b"\x00")
    with pytest.raises(ValueError, match=f"index {index}"):
      coder.encode_index_batch(FLAT3, [[0, index]], [[0, 0]])


@pytest.mark.parametrize("value", [3, 4, -1, INT32_MIN, INT32_MAX])
def test_value_out_of_range_without_overflow(value):
  with pytest.raises(ValueError, match=f"^value {value} at position 2 is "
                     r"outside \[0, 3\).*overflow disabled"):
    coder.encode_index(SMALL, [0, 0, 0], [1, 2, value])
  with pytest.raises(ValueError, match=f"value {value}"):
    coder.encode_channel_batch(SMALL, [[[0], [value]]])


def test_truncated_and_extended_strings():
  rng = _rng(10)
  indexes = rng.integers(0, 3, size=200).astype(np.int32)
  values = _random_values(rng, 200, 2, overflow=False)
  encoded = coder.encode_index(FLAT3, indexes, values)
  assert len(encoded) > 4
  for bad in (b"", encoded + b"\x00", encoded + b"\x01",
              encoded + b"\xff\xff"):
    with pytest.raises(ValueError, match="^range decoder: the string has"):
      coder.decode_index(FLAT3, indexes, bad)
  # A shorter string may be the valid encoding of other values (every string
  # the encoder writes is accepted), but never decodes to the original ones.
  for bad in (encoded[:-1], encoded[:-2], encoded[:len(encoded) // 2]):
    try:
      decoded = coder.decode_index(FLAT3, indexes, bad)
    except ValueError:
      continue
    assert not np.array_equal(decoded, values)
    assert coder.encode_index(FLAT3, indexes, decoded) == bad
  channel = coder.encode_channel(FLAT3, values[:198].reshape(66, 3))
  with pytest.raises(ValueError):
    coder.decode_channel(FLAT3, channel + b"\x00", (66, 3))
  with pytest.raises(ValueError):
    coder.decode_channel(FLAT3, b"", (66, 3))


def test_corrupted_strings_never_crash():
  rng = _rng(11)
  indexes = rng.integers(0, 3, size=300).astype(np.int32)
  values = _random_values(rng, 300, 2, overflow=False)
  values[indexes == 0] = _random_values(rng, (indexes == 0).sum(), 4, True)
  encoded = bytearray(coder.encode_index(FLAT3, indexes, values))
  errors = 0
  for trial in range(300):
    corrupt = bytearray(encoded)
    position = trial % len(corrupt)
    corrupt[position] ^= 1 << (trial % 8)
    try:
      decoded = coder.decode_index(FLAT3, indexes, corrupt)
    except ValueError:
      errors += 1
    else:
      assert decoded.shape == values.shape
      assert not np.array_equal(decoded, values)
  assert errors > 0


def test_corrupted_run_length_strings():
  data = np.array([0, 0, 5, -2, 0, 1], np.int32)
  code = coder.run_length_gamma_encode(data)
  for bad, shape in ((code + b"\x00", 6), (code[:-1], 6), (code, 5),
                     (code, 7), (b"\x00" * 8, 6)):
    with pytest.raises(ValueError):
      coder.run_length_gamma_decode(bad, shape)
  code = coder.run_length_encode(data, run_length_code=2)
  with pytest.raises(ValueError):
    coder.run_length_decode(code + b"\x01", 6, run_length_code=2)
  with pytest.raises(ValueError):
    coder.run_length_decode(code, 4, run_length_code=2)


def test_run_length_bad_options():
  with pytest.raises(ValueError, match="Rice parameters must be at most 31"):
    coder.run_length_encode([1, 0], run_length_code=32)
  with pytest.raises(ValueError, match="Rice parameters must be at most 31"):
    coder.run_length_decode(b"", 0, magnitude_code=40)
  with pytest.raises(ValueError, match="longer than"):
    coder.run_length_encode([INT32_MAX], magnitude_code=0)


@pytest.mark.parametrize("bad", [
    np.array([0.0, 1.0]), [0.5, 1], np.array([True, False]), [True],
    np.array([1, 2], dtype=object), np.array([1 + 2j]), "ab"])
def test_non_integer_inputs_raise_type_error(bad):
  with pytest.raises(TypeError, match="integer"):
    coder.encode_index(SMALL, np.zeros(np.shape(bad), np.int32), bad)
  with pytest.raises(TypeError, match="indexes must be an integer array"):
    coder.decode_index(SMALL, bad, b"")
  with pytest.raises(TypeError, match="lookup must be an integer array"):
    coder.encode_channel(bad, [0])
  with pytest.raises(TypeError, match="data must be an integer array"):
    coder.run_length_gamma_encode(bad)
  with pytest.raises(TypeError, match="values must be an integer array"):
    coder.encode_channel_batch(SMALL, bad)


@pytest.mark.parametrize("bad, text", [
    (np.array([0, 2**31], np.int64), "2147483648"),
    (np.array([-2**31 - 1], np.int64), "-2147483649"),
    (np.array([2**32], np.uint64), "4294967296"),
    (np.array([2**31], np.uint32), "2147483648"),
    ([1, 2**40], "1099511627776"),
    ([2**70], "1180591620717411303424"),
])
def test_values_beyond_int32_raise_value_error(bad, text):
  with pytest.raises(ValueError, match=f"values: value {text} .*int32"):
    coder.encode_index(OVERFLOW, np.zeros(np.shape(bad), np.int32), bad)
  with pytest.raises(ValueError, match=f"data: value {text}"):
    coder.run_length_gamma_encode(bad)
  with pytest.raises(ValueError, match=f"indexes: value {text}"):
    coder.decode_index(OVERFLOW, bad, b"")


def test_shape_mismatches():
  with pytest.raises(ValueError, match="same shape.*\\(3,\\) and \\(2,\\)"):
    coder.encode_index(SMALL, [0, 0, 0], [0, 0])
  with pytest.raises(ValueError, match="same shape"):
    coder.encode_index(SMALL, [[0, 0]], [0, 0])
  with pytest.raises(ValueError, match="same shape"):
    coder.encode_index_batch(SMALL, [[0, 0]], [[0], [0]])
  with pytest.raises(ValueError, match="innermost axis.*3"):
    coder.encode_channel(FLAT3, np.zeros((3, 2), np.int32))
  with pytest.raises(ValueError, match="innermost axis"):
    coder.decode_channel(FLAT3, b"", (3, 2))
  with pytest.raises(ValueError, match="innermost axis"):
    coder.encode_channel_batch(FLAT3, np.zeros((2, 3, 2), np.int32))
  with pytest.raises(ValueError, match="innermost axis"):
    coder.decode_channel_batch(FLAT3, [b""], (3, 2))
  with pytest.raises(ValueError, match="rank >= 1"):
    coder.encode_channel(SMALL, np.int32(0))
  with pytest.raises(ValueError, match="rank >= 1"):
    coder.decode_channel(SMALL, b"", ())
  with pytest.raises(ValueError, match="rank >= 2"):
    coder.encode_channel_batch(SMALL, [0, 1])
  with pytest.raises(ValueError, match="rank >= 1"):
    coder.encode_index_batch(SMALL, 0, 0)
  with pytest.raises(ValueError, match=r"len\(strings\)"):
    coder.decode_index_batch(SMALL, np.zeros((2, 3), np.int32), [b""])


def test_bad_shapes():
  with pytest.raises(ValueError, match="non-negative"):
    coder.decode_channel(SMALL, b"", (-1, 1))
  with pytest.raises(ValueError, match="non-negative"):
    coder.run_length_gamma_decode(b"", -3)
  with pytest.raises(TypeError):
    coder.run_length_gamma_decode(b"", (2.0,))
  with pytest.raises(TypeError):
    coder.run_length_gamma_decode(b"", "3")
  with pytest.raises(TypeError):
    coder.run_length_gamma_decode(b"", None)
  with pytest.raises(ValueError, match="too large"):
    coder.run_length_gamma_decode(b"", (2**40, 2**40))
  # Shapes may be numpy integers or arrays.
  assert coder.run_length_gamma_decode(b"", np.array([2, 0])).shape == (2, 0)
  assert coder.decode_channel(SMALL, b"", (np.int64(2), 1)).shape == (2, 1)


def test_bad_strings():
  with pytest.raises(TypeError, match="data must be bytes"):
    coder.decode_index(SMALL, [0], "\x40")
  with pytest.raises(TypeError, match="data must be bytes"):
    coder.decode_index(SMALL, [0], [64])
  with pytest.raises(TypeError, match="code must be bytes"):
    coder.run_length_decode(None, 0)
  with pytest.raises(TypeError, match="strings must be a sequence"):
    coder.decode_index_batch(SMALL, [[0]], b"\x40")
  with pytest.raises(TypeError, match="strings must be bytes"):
    coder.decode_channel_batch(SMALL, ["\x40"], 1)
  with pytest.raises(TypeError):
    coder.decode_channel(SMALL, memoryview(b"\x40\x00\x00\x00")[::2], 1)


def test_pmf_errors():
  with pytest.raises(ValueError, match="precision 0 not in 1..16"):
    coder.pmf_to_quantized_cdf([0.5, 0.5], 0)
  with pytest.raises(ValueError, match="precision 17"):
    coder.pmf_to_quantized_cdf([0.5, 0.5], 17)
  with pytest.raises(ValueError, match="more than 2\\^2"):
    coder.pmf_to_quantized_cdf([0.2] * 5, 2)
  with pytest.raises(ValueError, match=r"pmf\[1\] = -0.5 is negative"):
    coder.pmf_to_quantized_cdf([0.5, -0.5], 8)
  with pytest.raises(ValueError, match=r"pmf\[0\] = nan.*\(in pmf vector 1\)"):
    coder.pmf_to_quantized_cdf([[0.5, 0.5], [np.nan, 1]], 8)
  with pytest.raises(ValueError, match="infinite"):
    coder.pmf_to_quantized_cdf(np.array([np.inf, 1], np.float32), 8)
  with pytest.raises(ValueError, match="pmf is empty"):
    coder.pmf_to_quantized_cdf(np.zeros((2, 0)), 8)
  with pytest.raises(ValueError, match="rank >= 1"):
    coder.pmf_to_quantized_cdf(0.5, 8)
  for bad in (np.array([1 + 1j]), np.array([True]), ["a"]):
    with pytest.raises(TypeError, match="pmf must be a real"):
      coder.pmf_to_quantized_cdf(bad, 8)


# ---------------------------------------------------------------------------
# Threads and imports.


def test_gil_is_released_while_coding():
  """The main thread runs Python code while a long encode runs."""
  rng = _rng(12)
  # Mostly escapes: about 40 coder steps per value, a slow encode.
  values = rng.integers(INT32_MIN, INT32_MAX, size=(1 << 18, 1),
                        dtype=np.int64).astype(np.int32)
  lookup = np.array(OVERFLOW, np.int32)
  progress = [0]
  seen = []
  done = threading.Event()

  def worker():
    try:
      # The first call in a new thread may let the main thread run once
      # (one-time per-thread setup), whatever the GIL handling: not measured.
      coder.encode_channel(lookup, values[:4])
      for _ in range(10):
        before = progress[0]
        coder.encode_channel(lookup, values)
        seen.append(progress[0] - before)
        if seen[-1] > 0:
          return
    finally:
      done.set()

  # With a huge switch interval the interpreter never forces the worker to
  # hand over the GIL: the main thread can only run while the worker is in
  # encode_channel if that call releases the GIL itself. So without the
  # release the counter cannot move between the worker's two reads.
  interval = sys.getswitchinterval()
  sys.setswitchinterval(100.0)
  try:
    thread = threading.Thread(target=worker)
    thread.start()
    while not done.is_set():
      progress[0] += 1
      time.sleep(0)  # Hands the GIL back so the worker can finish a call.
    thread.join()
  finally:
    sys.setswitchinterval(interval)
  assert seen and seen[-1] > 0, seen


def test_concurrent_python_threads_agree():
  rng = _rng(13)
  indexes = rng.integers(0, 3, size=(8, 2000)).astype(np.int32)
  values = _random_values(rng, indexes.shape, 2, overflow=False)
  strings = [coder.encode_index(FLAT3, i, v) for i, v in zip(indexes, values)]
  results = [None] * 8

  def work(k):
    for _ in range(5):
      assert coder.encode_index(FLAT3, indexes[k], values[k]) == strings[k]
    results[k] = coder.decode_index(FLAT3, indexes[k], strings[k])

  threads = [threading.Thread(target=work, args=(k,)) for k in range(8)]
  for t in threads:
    t.start()
  for t in threads:
    t.join()
  np.testing.assert_array_equal(np.stack(results), values)


def test_import_does_not_need_tensorflow():
  code = ("import sys\n"
          "import tensorcoder\n"
          "assert '_coder' not in dir(tensorcoder), 'eager extension import'\n"
          "import tensorcoder.coder\n"
          "assert 'tensorflow' not in sys.modules, 'tensorflow imported'\n"
          "assert tensorcoder.__version__ == '0.1.0'\n"
          "print(tensorcoder.coder.encode_index([2, 0, 1, 3, 4], [0], [2]))\n")
  env = dict(os.environ)
  env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
  result = subprocess.run([sys.executable, "-c", code], env=env,
                          capture_output=True, text=True, timeout=60,
                          check=False)
  assert result.returncode == 0, result.stderr
  assert result.stdout.strip() == repr(b"\xc0")


if __name__ == "__main__":
  sys.exit(pytest.main([__file__, "-q", "-p", "no:cacheprovider"]))


_UNIT_LOOKUP = np.array([[-8, 0, 100, 200, 250, 256], [-5, 0, 1, 31, 32, 32]],
                        np.int32)


@pytest.mark.parametrize("indexed", [False, True])
def test_units_round_trip_any_shape_and_dtype(indexed):
  rng = np.random.default_rng(3)
  offsets = np.array([-100, 7], np.int32)
  for shape in [(4,), (2, 3, 6), (1, 3 * 65536 + 4)]:
    rows = (rng.integers(0, 2, shape) if indexed
            else np.arange(shape[-1]) % 2)
    x = rng.normal(0, 3, shape) + offsets[rows]
    strings = coder.encode_units(x, rows if indexed else None, _UNIT_LOOKUP,
                                 offsets, indexed=indexed)
    assert strings.shape == shape[:-1] and strings.dtype == object
    for dtype in (np.float32, np.float64, np.int32):
      decoded = coder.decode_units(strings, rows if indexed else None,
                                   shape[-1], _UNIT_LOOKUP, offsets,
                                   indexed=indexed, dtype=dtype)
      assert decoded.dtype == dtype and decoded.shape == shape
      np.testing.assert_array_equal(decoded, np.round(x))
    # Integers are coded as they are: the same strings as their floats.
    again = coder.encode_units(np.round(x).astype(np.int64),
                               rows if indexed else None, _UNIT_LOOKUP,
                               offsets, indexed=indexed)
    assert list(again.reshape(-1)) == list(strings.reshape(-1))


def test_short_units_are_plain_range_coded_strings():
  values = np.array([[0, 1, 2, -1, 3, 4, 100, -7]])
  strings = coder.encode_units(values, np.zeros_like(values), _UNIT_LOOKUP,
                               [0, 0], indexed=True)
  assert strings[0] == coder.encode_index(_UNIT_LOOKUP, np.zeros(8, np.int32),
                                          values[0])
  assert strings[0].hex() == "4d358e8e497de4cf"  # TFC's bytes.


def test_units_refuse_bad_arguments():
  with pytest.raises(ValueError, match="not finite"):
    coder.encode_units([[0.0, np.nan]], None, _UNIT_LOOKUP, [0, 0],
                       indexed=False)
  with pytest.raises(ValueError, match="cdf_offset"):
    coder.encode_units([[0.0, 1.0]], None, _UNIT_LOOKUP, [0], indexed=False)
  with pytest.raises(ValueError, match="indexes must have the shape"):
    coder.encode_units([[0.0, 1.0]], [0], _UNIT_LOOKUP, [0, 0], indexed=True)
  with pytest.raises(ValueError, match="index 5 at position 1"):
    coder.encode_units([[0.0, 1.0]], [[0, 5]], _UNIT_LOOKUP, [0, 0],
                       indexed=True)
  with pytest.raises(TypeError, match="real array"):
    coder.encode_units([["a"]], None, _UNIT_LOOKUP, [0, 0], indexed=False)
  with pytest.raises(ValueError, match="dtype must be"):
    coder.decode_units([b""], None, 0, _UNIT_LOOKUP, [0, 0], indexed=False,
                       dtype=np.int16)
  # A truncated chunked string is refused, or decoded anyway unchecked.
  strings = coder.encode_units(np.ones((1, 3 * 65536)), None, _UNIT_LOOKUP,
                               [0, 0], indexed=False)
  cut = [strings[0][:5]]
  with pytest.raises(ValueError, match="string 0"):
    coder.decode_units(cut, None, 3 * 65536, _UNIT_LOOKUP, [0, 0],
                       indexed=False)
  unchecked = coder.decode_units(cut, None, 3 * 65536, _UNIT_LOOKUP, [0, 0],
                                 indexed=False, check=False)
  assert unchecked.shape == (1, 3 * 65536)


def test_pmfs_to_lookup_quantizes_each_row_with_its_escape():
  pmf = np.array([[0.5, 0.25, 0.125], [0.9, 5.0, 5.0]])
  lookup = coder.pmfs_to_lookup(pmf, [3, 1], precision=8)
  assert lookup.shape == (2, 6) and lookup.dtype == np.int32
  for r, n in enumerate([3, 1]):
    masses = np.append(pmf[r, :n], max(0.0, 1.0 - pmf[r, :n].sum()))
    cdf = coder.pmf_to_quantized_cdf(masses, 8)
    expected = np.full(6, 256)
    expected[0], expected[1:cdf.size + 1] = -8, cdf
    np.testing.assert_array_equal(lookup[r], expected)
  plain = coder.pmfs_to_lookup(pmf, [3, 1], precision=8, overflow=False)
  assert plain.shape == (2, 5) and (plain[:, 0] == 8).all()
  with pytest.raises(ValueError, match="pmf row 1: length 4"):
    coder.pmfs_to_lookup(pmf, [3, 4], precision=8)
  with pytest.raises(ValueError, match="precision"):
    coder.pmfs_to_lookup(pmf, [3, 1], precision=0)
