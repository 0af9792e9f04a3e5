"""Tensor files: one range-coded integer tensor with its tables.

A tensor file holds everything needed to decode an int32 tensor: its shape,
the lookup table of CDF rows, the per-value row indexes (index mode) or none
(channel mode: value ``j`` of each string uses row ``j mod rows``), one
range-coded string per slice of the leading axis, and a CRC-32. The layout is
specified in ``docs/FORMAT.md`` ("Tensor files"); the C++ decoder-only
library (``cc/tensor_file.h``, ``libtensorcoder_decoder.a``) reads it without
Python or TensorFlow.

Only NumPy and :mod:`tensorcoder.coder` are needed.
"""

from __future__ import annotations

import os
import struct
import tempfile
import zlib

import numpy as np

from tensorcoder import coder

MAGIC = b"TCTENSOR"
VERSION = 1
_MAX_RANK = 32


def _as_int32(name: str, array) -> np.ndarray:
  array = np.asarray(array)
  if array.dtype.kind not in "iu":
    raise TypeError(f"{name} must hold integers, got dtype {array.dtype}")
  if array.size and (array.min() < -2**31 or array.max() > 2**31 - 1):
    raise ValueError(f"{name} has values outside the int32 range")
  return np.ascontiguousarray(array, dtype=np.int32)


def _batched_shape(shape) -> tuple[int, ...]:
  shape = tuple(int(d) for d in shape)
  return (1, int(np.prod(shape, dtype=np.int64))) if len(shape) < 2 else shape


def encode(values, lookup, indexes=None) -> bytes:
  """Returns the tensor-file bytes of ``values``.

  Args:
    values: integer array of rank <= 32. Each slice along the first axis is
      coded as its own string (all values in one string for rank <= 1).
    lookup: rank-2 integer array of CDF rows (see :mod:`tensorcoder.coder`).
    indexes: integer array of the shape of ``values`` giving each value's row,
      or None for channel mode (the innermost axis of ``values`` must then
      have as many entries as ``lookup`` has rows).

  Raises:
    ValueError, TypeError: for invalid arguments, with the coder's message.
  """
  values = _as_int32("values", values)
  lookup = _as_int32("lookup", lookup)
  if lookup.ndim != 2:
    raise ValueError(f"lookup must be rank 2, got shape {lookup.shape}")
  if values.ndim > _MAX_RANK:
    raise ValueError(f"rank {values.ndim} exceeds {_MAX_RANK}")
  # One string per slice of the leading axis; a single string for rank <= 1.
  batched = values.reshape(_batched_shape(values.shape))
  if indexes is None:
    if values.ndim < 2:
      raise ValueError("channel mode needs values of rank >= 2 (strings along "
                       "the first axis, rows along the last)")
    strings = (coder.encode_channel_batch(lookup, batched) if batched.size
               else [b""] * batched.shape[0])
  else:
    indexes = _as_int32("indexes", indexes)
    if indexes.shape != values.shape:
      raise ValueError(f"indexes shape {indexes.shape} differs from values "
                       f"shape {values.shape}")
    strings = coder.encode_index_batch(lookup, indexes.reshape(batched.shape),
                                       batched)
  return pack(values.shape, lookup, strings, indexes)


def pack(shape, lookup, strings, indexes=None) -> bytes:
  """Assembles a tensor file from already range-coded strings.

  Args:
    shape: the tensor's shape.
    lookup: rank-2 lookup of CDF rows.
    strings: the coded strings; their values, in order, fill the tensor.
    indexes: the row index of each value (index mode), or None (channel).
  """
  lookup = _as_int32("lookup", lookup)
  shape = tuple(int(d) for d in shape)
  parts = [
      MAGIC,
      struct.pack("<HBB", VERSION, 0 if indexes is None else 1, len(shape)),
      struct.pack(f"<{len(shape)}Q", *shape),
      struct.pack("<II", *lookup.shape),
      lookup.astype("<i4").tobytes(),
  ]
  if indexes is not None:
    parts.append(_as_int32("indexes", indexes).astype("<i4").tobytes())
  parts.append(struct.pack("<Q", len(strings)))
  for string in strings:
    parts += [struct.pack("<Q", len(string)), bytes(string)]
  body = b"".join(parts)
  return body + struct.pack("<I", zlib.crc32(body))


def decode(data: bytes) -> np.ndarray:
  """Decodes tensor-file bytes; raises ValueError naming what is wrong."""
  data = bytes(data)
  if len(data) < len(MAGIC) + 4 or not data.startswith(MAGIC):
    raise ValueError("not a tensorcoder tensor file (no TCTENSOR signature)")
  (stored,) = struct.unpack("<I", data[-4:])
  if zlib.crc32(data[:-4]) != stored:
    raise ValueError("tensor file: checksum mismatch, the file is truncated "
                     "or corrupted")
  body = memoryview(data)[:-4]
  position = len(MAGIC)

  def take(fmt: str):
    nonlocal position
    size = struct.calcsize(fmt)
    if position + size > len(body):
      raise ValueError("tensor file: truncated")
    result = struct.unpack_from(fmt, body, position)
    position += size
    return result

  version, mode, rank = take("<HBB")
  if version != VERSION:
    raise ValueError(f"tensor file version {version} is not supported (this "
                     f"reader reads version {VERSION})")
  if mode > 1 or rank > _MAX_RANK:
    raise ValueError("tensor file: invalid header")
  shape = take(f"<{rank}Q")
  rows, width = take("<II")
  lookup = np.array(take(f"<{rows * width}i"), np.int32).reshape(rows, width)
  count = int(np.prod(shape, dtype=np.int64))
  indexes = (np.array(take(f"<{count}i"), np.int32).reshape(shape)
             if mode == 1 else None)
  (num_strings,) = take("<Q")
  strings = []
  for _ in range(num_strings):
    (length,) = take("<Q")
    if position + length > len(body):
      raise ValueError("tensor file: truncated string")
    strings.append(bytes(body[position:position + length]))
    position += length
  if position != len(body):
    raise ValueError("tensor file: unexpected bytes before the checksum")
  batched_shape = _batched_shape(shape)
  if num_strings != batched_shape[0]:
    raise ValueError("tensor file: string count does not match the shape")
  if count == 0:
    return np.zeros(shape, np.int32)
  if indexes is None:
    decoded = coder.decode_channel_batch(lookup, strings, batched_shape[1:])
  else:
    decoded = coder.decode_index_batch(lookup, indexes.reshape(batched_shape),
                                       strings)
  return decoded.reshape(shape)


def save(path: str | os.PathLike, values, lookup, indexes=None) -> None:
  """Writes a tensor file; the file appears only once complete."""
  data = encode(values, lookup, indexes)
  directory = os.path.dirname(os.path.abspath(path))
  with tempfile.NamedTemporaryFile(dir=directory, delete=False) as f:
    f.write(data)
  umask = os.umask(0)
  os.umask(umask)
  os.chmod(f.name, 0o666 & ~umask)  # As open() would create it.
  os.replace(f.name, path)


def load(path: str | os.PathLike) -> np.ndarray:
  """Reads and decodes a tensor file."""
  with open(path, "rb") as f:
    return decode(f.read())
