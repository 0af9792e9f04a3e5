"""Tests of tensor files (docs/FORMAT.md section 6): round trips, and a
reader that checks every header field before allocating anything."""

import os
import struct
import sys
import zlib

import numpy as np
import pytest

from tensorcoder import coder
from tensorcoder import tensor_file

# One row of one symbol of probability 1 (precision 16): any number of
# values codes into a few bytes, which is what makes huge shapes cheap to
# declare.
_ONE_SYMBOL = np.array([[16, 0, 1 << 16]], np.int32)
_LOOKUP = np.array([[16, 0, 30000, 50000, 65536], [16, 0, 1000, 2000, 65536]],
                   np.int32)


def raw_file(shape, lookup_size=(1, 3), lookup=_ONE_SYMBOL.tobytes(),
             strings=(b"\0" * 8,), mode=0, rank=None, version=1,
             num_strings=None, lengths=None, extra=b"") -> bytes:
  """Tensor-file bytes with any header values and a valid checksum."""
  rank = len(shape) if rank is None else rank
  lengths = [len(s) for s in strings] if lengths is None else lengths
  body = b"".join([
      tensor_file.MAGIC, struct.pack("<HBB", version, mode, rank),
      struct.pack(f"<{len(shape)}Q", *shape),
      struct.pack("<II", *lookup_size), lookup,
      struct.pack("<Q", len(strings) if num_strings is None else num_strings),
      *[struct.pack("<Q", n) + s for n, s in zip(lengths, strings)], extra])
  return body + struct.pack("<I", zlib.crc32(body))


@pytest.mark.parametrize("indexed", [False, True])
def test_round_trip(indexed):
  rng = np.random.default_rng(0)
  values = rng.integers(0, 3, (4, 5, 2))
  indexes = rng.integers(0, 2, values.shape) if indexed else None
  data = tensor_file.encode(values, _LOOKUP, indexes)
  np.testing.assert_array_equal(tensor_file.decode(data), values)


def test_more_than_2_28_values_are_refused_before_allocating():
  """The security review's file: 76 bytes declaring 2^29 values of one
  symbol, which this reader used to decode into 2 GiB."""
  data = raw_file((1, 1 << 29))
  assert len(data) == 76
  with pytest.raises(ValueError, match=r"more than 268435456 \(2\^28\)"):
    tensor_file.decode(data)
  # Also when the product overflows 64 bits, or a zero hides a huge axis
  # (the C++ reader refuses both as well).
  for shape in [(1 << 40, 1 << 40), (0, 1 << 40), (1 << 28, 2)]:
    with pytest.raises(ValueError, match="2\\^28"):
      tensor_file.decode(raw_file(shape))


def test_a_shape_at_the_limit_is_checked_against_the_bytes():
  # 2^28 values pass the cap; the indexes they need are not in the file.
  with pytest.raises(ValueError, match="truncated while reading the indexes"):
    tensor_file.decode(raw_file((1, 1 << 28), mode=1))


def test_a_huge_lookup_is_truncation_not_a_struct_error():
  data = raw_file((1, 1), lookup_size=(1 << 31, 1 << 31))
  with pytest.raises(ValueError, match="truncated while reading the lookup"):
    tensor_file.decode(data)


@pytest.mark.parametrize("fields, message", [
    (dict(mode=2), "unknown coding mode 2"),
    (dict(rank=33), "rank 33 exceeds 32"),
    (dict(version=3), "version 3 is not supported"),
    (dict(version=0), "version 0 is not supported"),
    (dict(num_strings=2), "2 strings, but the shape needs 1"),
    (dict(num_strings=1 << 60), "strings, but the shape needs 1"),
    (dict(lengths=[1 << 62]), "truncated while reading string 0"),
    (dict(extra=b"\0"), "1 unexpected bytes before the checksum"),
])
def test_invalid_header_fields(fields, message):
  with pytest.raises(ValueError, match=message):
    tensor_file.decode(raw_file((1, 1), **fields))


def test_corruption_and_foreign_files():
  data = tensor_file.encode(np.zeros((2, 1), np.int32), _ONE_SYMBOL)
  with pytest.raises(ValueError, match="checksum mismatch"):
    tensor_file.decode(data[:-5] + bytes([data[-5] ^ 1]) + data[-4:])
  with pytest.raises(ValueError, match="checksum mismatch"):
    tensor_file.decode(data[:-1])
  with pytest.raises(ValueError, match="no TCTENSOR signature"):
    tensor_file.decode(b"\x89PNG\r\n\x1a\n" + bytes(30))


def test_writers_refuse_what_readers_refuse():
  with pytest.raises(ValueError, match="2\\^28"):
    tensor_file.pack((1, (1 << 28) + 1), _ONE_SYMBOL, [b""])


def test_save_is_atomic(tmp_path):
  path = tmp_path / "t.tct"
  tensor_file.save(path, np.ones((3, 2), np.int32), _LOOKUP)
  np.testing.assert_array_equal(tensor_file.load(path), np.ones((3, 2)))
  with pytest.raises(ValueError):  # Value 7 is not in the tables.
    tensor_file.save(tmp_path / "bad.tct", np.full((3, 2), 7), _LOOKUP)
  with pytest.raises(OSError, match="cannot write .*missing"):
    tensor_file.save(tmp_path / "missing" / "t.tct", np.ones((3, 2), int),
                     _LOOKUP)
  assert sorted(os.listdir(tmp_path)) == ["t.tct"]  # No temporary files.


if __name__ == "__main__":
  sys.exit(pytest.main([__file__, "-q"]))


def test_small_tensors_without_offsets_keep_the_version_1_bytes():
  values = np.arange(8).reshape(4, 2) % 3
  data = tensor_file.encode(values, _LOOKUP)
  assert struct.unpack_from("<H", data, 8)[0] == 1
  strings = coder.encode_channel_batch(_LOOKUP, values)
  assert data == tensor_file.pack(values.shape, _LOOKUP, strings)


@pytest.mark.parametrize("indexed", [False, True])
def test_version_2_round_trips_offsets_and_chunked_units(indexed):
  # Two rows with the escape, so that any value is codable.
  lookup = np.array([[-8, 0, 100, 200, 250, 256], [-5, 0, 1, 31, 32, 32]],
                    np.int32)
  rng = np.random.default_rng(1)
  offsets = np.array([1000, -7], np.int32)
  for shape in [(3, 5, 2), (1, 3 * 32768 + 1, 2)]:  # Small units; 3 chunks.
    indexes = (rng.integers(0, 2, shape).astype(np.int32) if indexed
               else None)
    rows = indexes if indexed else np.arange(shape[-1]) % 2
    values = rng.integers(-2, 6, shape) + offsets[rows]  # Escapes too.
    data = tensor_file.encode(values, lookup, indexes, cdf_offset=offsets)
    assert struct.unpack_from("<H", data, 8)[0] == 2
    np.testing.assert_array_equal(tensor_file.decode(data), values)
    # The same file from the entropy-model strings of coder.encode_units.
    units = values.reshape(shape[0], -1)
    strings = coder.encode_units(
        units, None if indexes is None else indexes.reshape(units.shape),
        lookup, offsets, indexed=indexed)
    assert tensor_file.pack_units(shape, lookup, offsets, strings,
                                  indexes) == data
  # Long units without offsets are version 2 too (chunked, offsets 0).
  long = rng.integers(0, 3, (1, 1 << 17, 2))
  data = tensor_file.encode(long, lookup)
  assert struct.unpack_from("<H", data, 8)[0] == 2
  np.testing.assert_array_equal(tensor_file.decode(data), long)


def test_version_2_refuses_bad_tables_and_sums_outside_int32():
  with pytest.raises(ValueError, match="one entry per lookup row"):
    tensor_file.pack_units((1, 2), _LOOKUP, [0, 0, 0], [b""])
  with pytest.raises(ValueError, match="needs 1 strings"):
    tensor_file.pack_units((1, 2), _LOOKUP, [0, 0], [b"", b""])
  # Symbol 1 plus an offset of 2^31 - 1 does not fit the int32 output.
  strings = coder.encode_units(np.array([[1, 1]]), None, _LOOKUP, [0, 0],
                               indexed=False)
  data = tensor_file.pack_units((1, 2), _LOOKUP, [2**31 - 1, 0], strings)
  with pytest.raises(ValueError, match="outside the int32 range"):
    tensor_file.decode(data)
