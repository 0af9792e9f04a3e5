"""Tensor files: one range-coded integer tensor with its tables.

A tensor file holds everything needed to decode an int32 tensor: its shape,
the lookup table of CDF rows, the per-value row indexes (index mode) or none
(channel mode: value ``j`` of each string uses row ``j mod rows``), one
range-coded string per slice of the leading axis, and a CRC-32. The layout is
specified in ``docs/FORMAT.md`` ("Tensor files"); the C++ decoder-only
library (``cc/tensor_file.h``, ``libtensorcoder_decoder.a``) reads it without
Python or TensorFlow.

Version 1 files hold plain range-coded strings. Version 2 files add one
offset per lookup row (``cdf_offset``, added to every decoded symbol) and
hold coding units, the strings of the entropy models (FORMAT.md section 7,
chunked when long): :func:`pack_units` stores what ``compress()`` or
:func:`tensorcoder.coder.encode_units` wrote, with its tables, so that a
native program decodes it. :func:`encode` writes version 1 where it can
(no offsets, no unit of 2^17 values or more), so that older readers read
those files, and version 2 otherwise.

Only NumPy and :mod:`tensorcoder.coder` are needed.
"""

from __future__ import annotations

import math
import os
import struct
import zlib

import numpy as np

from tensorcoder import _atomic
from tensorcoder import coder

MAGIC = b"TCTENSOR"
VERSION = 2  # The newest version; readers read every older one too.
# Units of this many values or more are chunked in version 2 (FORMAT.md 7).
_CHUNKED_UNIT = 1 << 17
_MAX_RANK = 32
# Readers (this one and cc/tensor_file.cc) refuse tensors of more values.
MAX_VALUES = 1 << 28


def _as_int32(name: str, array) -> np.ndarray:
  array = np.asarray(array)
  if array.dtype.kind not in "iu":
    raise TypeError(f"{name} must hold integers, got dtype {array.dtype}")
  if array.size and (array.min() < -2**31 or array.max() > 2**31 - 1):
    raise ValueError(f"{name} has values outside the int32 range")
  return np.ascontiguousarray(array, dtype=np.int32)


def _check_size(shape: tuple[int, ...]) -> None:
  """Refuses tensors that readers would refuse (more than MAX_VALUES)."""
  if len(shape) > _MAX_RANK:
    raise ValueError(f"rank {len(shape)} exceeds {_MAX_RANK}")
  if math.prod(shape) > MAX_VALUES or any(d > MAX_VALUES for d in shape):
    raise ValueError(f"shape {shape} has more than {MAX_VALUES} (2^28) "
                     "values, the limit of tensor files")


def _batched_shape(shape) -> tuple[int, ...]:
  shape = tuple(int(d) for d in shape)
  return (1, int(np.prod(shape, dtype=np.int64))) if len(shape) < 2 else shape


def encode(values, lookup, indexes=None, cdf_offset=None) -> bytes:
  """Returns the tensor-file bytes of ``values``.

  Args:
    values: integer array of rank <= 32. Each slice along the first axis is
      coded as its own string (all values in one string for rank <= 1).
    lookup: rank-2 integer array of CDF rows (see :mod:`tensorcoder.coder`).
    indexes: integer array of the shape of ``values`` giving each value's row,
      or None for channel mode (the innermost axis of ``values`` must then
      have as many entries as ``lookup`` has rows).
    cdf_offset: one integer per lookup row, subtracted from each value before
      it is coded with that row (and added back by readers), or None for no
      offsets. Offsets, or strings of 2^17 values or more, give a version-2
      file; anything else the version-1 bytes of earlier releases.

  Raises:
    ValueError, TypeError: for invalid arguments, with the coder's message.
  """
  values = _as_int32("values", values)
  lookup = _as_int32("lookup", lookup)
  if lookup.ndim != 2:
    raise ValueError(f"lookup must be rank 2, got shape {lookup.shape}")
  _check_size(values.shape)
  # One string per slice of the leading axis; a single string for rank <= 1.
  batched = values.reshape(_batched_shape(values.shape))
  if indexes is None:
    if values.ndim < 2:
      raise ValueError("channel mode needs values of rank >= 2 (strings along "
                       "the first axis, rows along the last)")
    if values.shape[-1] != lookup.shape[0]:
      raise ValueError(f"values of shape {values.shape}: the innermost axis "
                       "selects the CDF row, so its size must equal the "
                       f"number of lookup rows, {lookup.shape[0]}")
  else:
    indexes = _as_int32("indexes", indexes)
    if indexes.shape != values.shape:
      raise ValueError(f"indexes shape {indexes.shape} differs from values "
                       f"shape {values.shape}")
  # One unit per string.
  units = batched.reshape(batched.shape[0], math.prod(batched.shape[1:]))
  if cdf_offset is not None or units.shape[1] >= _CHUNKED_UNIT:
    offsets = (np.zeros(lookup.shape[0], np.int32) if cdf_offset is None
               else _as_int32("cdf_offset", cdf_offset))
    rows = None if indexes is None else indexes.reshape(units.shape)
    strings = coder.encode_units(units, rows, lookup, offsets,
                                 indexed=indexes is not None)
    return pack_units(values.shape, lookup, offsets, list(strings), indexes)
  if indexes is None:
    strings = (coder.encode_channel_batch(lookup, batched) if batched.size
               else [b""] * batched.shape[0])
  else:
    strings = coder.encode_index_batch(lookup, indexes.reshape(batched.shape),
                                       batched)
  return pack(values.shape, lookup, strings, indexes)


def _assemble(version: int, shape, lookup, offsets, strings, indexes) -> bytes:
  lookup = _as_int32("lookup", lookup)
  if lookup.ndim != 2:
    raise ValueError(f"lookup must be rank 2, got shape {lookup.shape}")
  shape = tuple(int(d) for d in shape)
  _check_size(shape)
  expected = _batched_shape(shape)[0]
  if len(strings) != expected:
    raise ValueError(f"shape {shape} needs {expected} strings (one per slice "
                     f"of the first axis), got {len(strings)}")
  parts = [
      MAGIC,
      struct.pack("<HBB", version, 0 if indexes is None else 1, len(shape)),
      struct.pack(f"<{len(shape)}Q", *shape),
      struct.pack("<II", *lookup.shape),
      lookup.astype("<i4").tobytes(),
  ]
  if offsets is not None:
    parts.append(offsets.astype("<i4").tobytes())
  if indexes is not None:
    indexes = _as_int32("indexes", indexes)
    if indexes.shape != shape:
      raise ValueError(f"indexes shape {indexes.shape} differs from the "
                       f"shape {shape}")
    parts.append(indexes.astype("<i4").tobytes())
  parts.append(struct.pack("<Q", len(strings)))
  for string in strings:
    parts += [struct.pack("<Q", len(string)), bytes(string)]
  body = b"".join(parts)
  return body + struct.pack("<I", zlib.crc32(body))


def pack(shape, lookup, strings, indexes=None) -> bytes:
  """Assembles a version-1 tensor file from plain range-coded strings.

  Args:
    shape: the tensor's shape.
    lookup: rank-2 lookup of CDF rows.
    strings: the coded strings, one per slice of the first axis (one for
      rank <= 1); their values, in order, fill the tensor.
    indexes: the row index of each value (index mode), or None (channel).
  """
  return _assemble(1, shape, lookup, None, strings, indexes)


def pack_units(shape, cdf, cdf_offset, strings, indexes=None) -> bytes:
  """Assembles a version-2 tensor file from coding units and their tables.

  The strings are those of the entropy models' ``compress()`` (the
  ``EntropyModelEncode`` op) or of :func:`tensorcoder.coder.encode_units`:
  readers decode each into ``symbol + cdf_offset[row]``, the values the
  ``EntropyModelDecode`` op returns.

  Args:
    shape: the tensor's shape; string ``k`` holds slice ``k`` of the first
      axis (the whole tensor for rank <= 1).
    cdf: rank-2 lookup the strings were coded with.
    cdf_offset: one integer per lookup row.
    strings: the coded strings, one per slice of the first axis.
    indexes: each value's row (indexed units), or None (channel units: value
      ``j`` of a string uses row ``j mod rows``).
  """
  offsets = _as_int32("cdf_offset", cdf_offset)
  if offsets.shape != (np.shape(cdf)[0],):
    raise ValueError(f"cdf_offset must have one entry per lookup row "
                     f"({np.shape(cdf)[0]}), got shape {offsets.shape}")
  return _assemble(2, shape, cdf, offsets, list(strings), indexes)


class _Reader:
  """Bounds-checked little-endian reads from a tensor file's body."""

  def __init__(self, body: memoryview):
    self.body = body
    self.position = len(MAGIC)

  @property
  def remaining(self) -> int:
    return len(self.body) - self.position

  def fields(self, fmt: str, what: str) -> tuple:
    size = struct.calcsize(fmt)
    if size > self.remaining:
      raise ValueError(f"tensor file: truncated while reading {what} ({size} "
                       f"bytes needed at offset {self.position}, "
                       f"{self.remaining} left)")
    result = struct.unpack_from(fmt, self.body, self.position)
    self.position += size
    return result

  def int32s(self, count: int, what: str) -> np.ndarray:
    """``count`` int32 values; the size is checked before anything is
    allocated."""
    if count > self.remaining // 4:
      raise ValueError(f"tensor file: truncated while reading {what} "
                       f"({count} int32 values declared, {self.remaining} "
                       "bytes left)")
    values = np.frombuffer(self.body, "<i4", count, self.position)
    self.position += 4 * count
    return values.astype(np.int32)

  def take(self, length: int, what: str) -> bytes:
    if length > self.remaining:
      raise ValueError(f"tensor file: truncated while reading {what} "
                       f"({length} bytes declared, {self.remaining} left)")
    chunk = bytes(self.body[self.position:self.position + length])
    self.position += length
    return chunk


def _read_shape(reader: _Reader, rank: int) -> tuple[int, ...]:
  """The shape; refuses more than ``MAX_VALUES`` values in all."""
  shape = reader.fields(f"<{rank}Q", "the shape")
  count = 1
  for dim in shape:
    count *= dim
    if count > MAX_VALUES or dim > MAX_VALUES:
      raise ValueError(f"tensor file: shape {tuple(shape)} declares more "
                       f"than {MAX_VALUES} (2^28) values, the limit of "
                       "this reader")
  return tuple(shape)


def _read_strings(reader: _Reader, expected: int) -> list[bytes]:
  (num_strings,) = reader.fields("<Q", "the string count")
  if num_strings != expected:
    raise ValueError(f"tensor file: {num_strings} strings, but the shape "
                     f"needs {expected} (one per slice of the first axis)")
  strings = []
  for k in range(num_strings):
    (length,) = reader.fields("<Q", f"the length of string {k}")
    strings.append(reader.take(length, f"string {k}"))
  return strings


def decode(data: bytes) -> np.ndarray:
  """Decodes tensor-file bytes.

  Every header field is checked against the bytes present and against the
  limit of ``MAX_VALUES`` values before anything is allocated (FORMAT.md,
  section 6).

  Raises:
    ValueError: naming what is wrong (signature, checksum, version, mode,
      rank, size limit, truncation, trailing bytes, or a string that does not
      decode).
  """
  data = bytes(data)
  if len(data) < len(MAGIC) + 4 or not data.startswith(MAGIC):
    raise ValueError("not a tensorcoder tensor file (no TCTENSOR signature)")
  (stored,) = struct.unpack("<I", data[-4:])
  body = memoryview(data)[:-4]
  if zlib.crc32(body) != stored:
    raise ValueError("tensor file: checksum mismatch, the file is truncated "
                     "or corrupted")
  reader = _Reader(body)
  version, mode, rank = reader.fields("<HBB", "the header")
  if not 1 <= version <= VERSION:
    raise ValueError(f"tensor file version {version} is not supported (this "
                     f"reader reads versions 1 to {VERSION})")
  if mode > 1:
    raise ValueError(f"tensor file: unknown coding mode {mode}")
  if rank > _MAX_RANK:
    raise ValueError(f"tensor file: rank {rank} exceeds {_MAX_RANK}")
  shape = _read_shape(reader, rank)
  count = math.prod(shape)
  rows, width = reader.fields("<II", "the lookup size")
  lookup = reader.int32s(rows * width, "the lookup").reshape(rows, width)
  offsets = reader.int32s(rows, "the cdf offsets") if version >= 2 else None
  indexes = reader.int32s(count, "the indexes") if mode == 1 else None
  batched_shape = _batched_shape(shape)
  strings = _read_strings(reader, batched_shape[0])
  if reader.remaining:
    raise ValueError(f"tensor file: {reader.remaining} unexpected bytes "
                     "before the checksum")
  if count == 0:
    return np.zeros(shape, np.int32)
  if offsets is not None:
    per_string = math.prod(batched_shape[1:])
    rows_of = (None if indexes is None
               else indexes.reshape(len(strings), per_string))
    decoded = coder.decode_units(strings, rows_of, per_string, lookup,
                                 offsets, indexed=indexes is not None,
                                 dtype=np.int32)
    return decoded.reshape(shape)
  if indexes is None:
    decoded = coder.decode_channel_batch(lookup, strings, batched_shape[1:])
  else:
    decoded = coder.decode_index_batch(lookup, indexes.reshape(batched_shape),
                                       strings)
  return decoded.reshape(shape)


def save(path: str | os.PathLike, values, lookup, indexes=None,
         cdf_offset=None) -> None:
  """Writes a tensor file (see :func:`encode`); the file appears only once
  complete."""
  data = encode(values, lookup, indexes, cdf_offset)
  _atomic.write_bytes_atomically(path, data)


def load(path: str | os.PathLike) -> np.ndarray:
  """Reads and decodes a tensor file."""
  with open(path, "rb") as f:
    return decode(f.read())
