"""The ``.tci`` container: one compressed image in one file.

Layout (all integers little-endian), format versions 1 and 2:

    offset  size  field
    0       4     magic b"TCIM"
    4       1     format version (1 or 2)
    5       1     n: length of the model id
    6       n     model id (ASCII), which model decodes the strings
    ..      1     version 2 only: the quality level (1..255) of a
                  variable-rate model, which the decoder needs as well
    ..      4+4   image height, width (uint32, >= 1)
    ..      1     k: number of shape dimensions that follow
    ..      4*k   side shape (uint32 each; e.g. the spatial shape of z)
    ..      1     m: number of strings
    ..      m*(4+len)  each string: uint32 length, then its bytes
    ..      4     CRC-32 (zlib) of every byte before it

Writers use version 1 for models with a single quality (files are then
byte for byte those of earlier tensorcoder releases) and version 2 for
variable-rate models. Readers reject a wrong magic, an unknown version,
truncation, trailing bytes, quality 0 and CRC mismatches with a
:class:`ContainerError` naming the problem. A new format gets a new version
number; older files stay readable.
"""

from __future__ import annotations

import dataclasses
import struct
import zlib

MAGIC = b"TCIM"
VERSION = 2
# Versions that ``unpack`` reads.
VERSIONS = (1, 2)


class ContainerError(ValueError):
  """A file that is not a valid tensorcoder image container."""


@dataclasses.dataclass(frozen=True)
class CompressedImage:
  model_id: str
  height: int
  width: int
  side_shape: tuple[int, ...]
  strings: tuple[bytes, ...]
  # The quality level of a variable-rate model (None: a single-rate model,
  # written as format version 1).
  quality: int | None = None


def pack(image: CompressedImage) -> bytes:
  model_id = image.model_id.encode("ascii")
  if not 0 < len(model_id) < 256:
    raise ValueError("the model id must have 1 to 255 ASCII characters")
  if not (1 <= image.height < 2**32 and 1 <= image.width < 2**32):
    raise ValueError(f"bad image size {image.height}x{image.width}")
  if len(image.side_shape) > 255 or len(image.strings) > 255:
    raise ValueError("too many shape dimensions or strings")
  if image.quality is None:
    version, quality = 1, b""
  elif isinstance(image.quality, int) and 1 <= image.quality <= 255:
    version, quality = 2, struct.pack("<B", image.quality)
  else:
    raise ValueError(f"the quality must be an integer 1..255, got "
                     f"{image.quality!r}")
  parts = [MAGIC, struct.pack("<BB", version, len(model_id)), model_id,
           quality,
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
  if version not in VERSIONS:
    raise ContainerError(
        f"unsupported format version {version} (this tensorcoder reads "
        f"versions {', '.join(map(str, VERSIONS))})")
  (crc,) = struct.unpack("<I", data[-4:])
  reader = _Reader(data)
  reader.take(len(MAGIC) + 1, "the header")
  (id_length,) = reader.unpack("<B", "the model id length")
  model_id = reader.take(id_length, "the model id")
  quality = None
  if version >= 2:
    (quality,) = reader.unpack("<B", "the quality")
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
  if quality == 0:
    raise ContainerError("corrupted file: quality 0 (levels start at 1)")
  try:
    model_id_text = model_id.decode("ascii")
  except UnicodeDecodeError as error:
    raise ContainerError("corrupted file: the model id is not ASCII") from error
  return CompressedImage(model_id_text, height, width, tuple(side_shape),
                         tuple(strings), quality)
