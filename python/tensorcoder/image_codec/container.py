"""The ``.tci`` container: one compressed image in one file.

Layout (all integers little-endian), format version 1:

    offset  size  field
    0       4     magic b"TCIM"
    4       1     format version (1)
    5       1     n: length of the model id
    6       n     model id (ASCII), which model decodes the strings
    ..      4+4   image height, width (uint32, >= 1)
    ..      1     k: number of shape dimensions that follow
    ..      4*k   side shape (uint32 each; e.g. the spatial shape of z)
    ..      1     m: number of strings
    ..      m*(4+len)  each string: uint32 length, then its bytes
    ..      4     CRC-32 (zlib) of every byte before it

Readers reject a wrong magic, an unknown version, truncation, trailing
bytes and CRC mismatches with a :class:`ContainerError` naming the problem.
A new format gets a new version number; version 1 files stay readable.
"""

from __future__ import annotations

import dataclasses
import struct
import zlib

MAGIC = b"TCIM"
VERSION = 1


class ContainerError(ValueError):
  """A file that is not a valid tensorcoder image container."""


@dataclasses.dataclass(frozen=True)
class CompressedImage:
  model_id: str
  height: int
  width: int
  side_shape: tuple[int, ...]
  strings: tuple[bytes, ...]


def pack(image: CompressedImage) -> bytes:
  model_id = image.model_id.encode("ascii")
  if not 0 < len(model_id) < 256:
    raise ValueError("the model id must have 1 to 255 ASCII characters")
  if not (1 <= image.height < 2**32 and 1 <= image.width < 2**32):
    raise ValueError(f"bad image size {image.height}x{image.width}")
  if len(image.side_shape) > 255 or len(image.strings) > 255:
    raise ValueError("too many shape dimensions or strings")
  parts = [MAGIC, struct.pack("<BB", VERSION, len(model_id)), model_id,
           struct.pack("<IIB", image.height, image.width,
                       len(image.side_shape)),
           struct.pack(f"<{len(image.side_shape)}I", *image.side_shape),
           struct.pack("<B", len(image.strings))]
  for string in image.strings:
    parts.append(struct.pack("<I", len(string)))
    parts.append(bytes(string))
  body = b"".join(parts)
  return body + struct.pack("<I", zlib.crc32(body))


class _Reader:

  def __init__(self, data: bytes):
    self.data = data
    self.pos = 0

  def take(self, size: int, what: str) -> bytes:
    if self.pos + size > len(self.data) - 4:
      raise ContainerError(f"truncated file: {what} is missing")
    chunk = self.data[self.pos:self.pos + size]
    self.pos += size
    return chunk

  def unpack(self, fmt: str, what: str):
    return struct.unpack(fmt, self.take(struct.calcsize(fmt), what))


def unpack(data: bytes) -> CompressedImage:
  """Parses and validates a container."""
  if len(data) < len(MAGIC) or data[:len(MAGIC)] != MAGIC:
    raise ContainerError("not a tensorcoder image file (bad magic bytes)")
  if len(data) < len(MAGIC) + 2 + 4:
    raise ContainerError("truncated file: the header is incomplete")
  version = data[len(MAGIC)]
  if version != VERSION:
    raise ContainerError(f"unsupported format version {version} (this "
                         f"tensorcoder reads version {VERSION})")
  (crc,) = struct.unpack("<I", data[-4:])
  reader = _Reader(data)
  reader.take(len(MAGIC) + 1, "the header")
  (id_length,) = reader.unpack("<B", "the model id length")
  model_id = reader.take(id_length, "the model id")
  height, width, rank = reader.unpack("<IIB", "the image shape")
  side_shape = reader.unpack(f"<{rank}I", "the side shape")
  (count,) = reader.unpack("<B", "the string count")
  strings = []
  for i in range(count):
    (length,) = reader.unpack("<I", f"the length of string {i}")
    strings.append(reader.take(length, f"string {i}"))
  if reader.pos != len(data) - 4:
    if zlib.crc32(data[:-4]) != crc:
      raise ContainerError("corrupted file: checksum mismatch")
    raise ContainerError(f"{len(data) - 4 - reader.pos} unexpected bytes "
                         "after the last string")
  if zlib.crc32(data[:-4]) != crc:
    raise ContainerError("corrupted file: checksum mismatch")
  if height < 1 or width < 1:
    raise ContainerError(f"bad image size {height}x{width}")
  try:
    model_id_text = model_id.decode("ascii")
  except UnicodeDecodeError as error:
    raise ContainerError("corrupted file: the model id is not ASCII") from error
  return CompressedImage(model_id_text, height, width, tuple(side_shape),
                         tuple(strings))
