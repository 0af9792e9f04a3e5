"""Video frames from YUV4MPEG2 (``.y4m``) files, as TFC's ``Y4MDataset``.

A ``.y4m`` file is one header line, ``YUV4MPEG2`` followed by space-separated
parameters (``W<width>``, ``H<height>``, ``C<chroma>``, ``I<interlacing>``,
frame rate, aspect, ...), then frames, each ``FRAME\\n`` followed by the
planar Y', Cb and Cr samples (8 bits each). As in TFC, the chroma format must
be given and be ``C420jpeg`` (chroma planes of half width and height; the
frame size must then be even) or ``C444``; interlacing, if given, must be
``Ip`` (progressive); frame headers carry no parameters; other header
parameters are ignored. Anything else is refused with an error naming the
file and the offending field.
"""

from __future__ import annotations

from typing import Iterator

import numpy as np
import tensorflow as tf

__all__ = ["Y4MDataset"]

_MAGIC = b"YUV4MPEG2"
_FRAME = b"FRAME\n"
_MAX_HEADER = 1 << 16  # Bytes; real headers are well under 100.


class Y4MError(ValueError):
  """A ``.y4m`` file that cannot be read."""


def _parse_header(line: bytes, name: str) -> tuple[int, int, bool]:
  """(width, height, is_420) from a header line without its newline."""
  if not line.startswith(_MAGIC):
    raise Y4MError(f"{name!r} does not start with a YUV4MPEG2 marker")
  width = height = 0
  chroma = None
  for field in line[len(_MAGIC):].split(b" ")[1:]:
    if not field:
      raise Y4MError(f"{name!r} has an invalid Y4M header {line[:80]!r}")
    key, value = field[:1], field[1:]
    if key in (b"W", b"H"):
      if not value.isdigit() or int(value) <= 0:
        raise Y4MError(f"{name!r} has an invalid {'width' if key == b'W' else 'height'} "
                       f"specifier {value.decode(errors='replace')!r}")
      if key == b"W":
        width = int(value)
      else:
        height = int(value)
    elif key == b"C":
      if value == b"420jpeg":
        chroma = True
      elif value == b"444":
        chroma = False
      else:
        raise Y4MError(f"{name!r} has the unsupported chroma format "
                       f"{value.decode(errors='replace')!r} (C420jpeg and "
                       "C444 are supported)")
    elif key == b"I" and value != b"p":
      raise Y4MError(f"{name!r} is not in progressive format (I"
                     f"{value.decode(errors='replace')})")
  if not width:
    raise Y4MError(f"{name!r} has no width specifier")
  if not height:
    raise Y4MError(f"{name!r} has no height specifier")
  if chroma is None:
    raise Y4MError(f"{name!r} has no chroma format specifier")
  if chroma and (width % 2 or height % 2):
    raise Y4MError(f"{name!r} has 4:2:0 chroma format, but odd width or "
                   f"height ({width}x{height})")
  return width, height, chroma


def _read_header(stream, name: str) -> bytes:
  """The header line (without its newline); leaves the stream after it."""
  buffer = b""
  while b"\n" not in buffer and len(buffer) < _MAX_HEADER:
    chunk = stream.read(256)
    if not chunk:
      break
    buffer += chunk
  end = buffer.find(b"\n")
  if end < 0:
    raise Y4MError(f"{name!r} does not contain a complete Y4M header")
  stream.seek(end + 1)
  return buffer[:end]


def _frames(filenames: np.ndarray) -> Iterator[tuple[np.ndarray, np.ndarray]]:
  """Yields (Y' [H, W, 1], CbCr [Hc, Wc, 2]) for every frame of every file."""
  for raw in np.asarray(filenames).reshape(-1):
    name = raw.decode() if isinstance(raw, bytes) else str(raw)
    size = tf.io.gfile.stat(name).length
    with tf.io.gfile.GFile(name, "rb") as stream:
      width, height, is_420 = _parse_header(_read_header(stream, name), name)
      chroma_w, chroma_h = (width // 2, height // 2) if is_420 else (width,
                                                                     height)
      luma, chroma = width * height, chroma_w * chroma_h
      frame_size = len(_FRAME) + luma + 2 * chroma
      position = stream.tell()
      while position < size:
        if frame_size > size - position:  # Checked before reading: the
          raise Y4MError(                 # header's size is untrusted.
              f"{name!r} has an incomplete or unsupported frame at byte "
              f"{position}: expected {frame_size} bytes, only "
              f"{size - position} are left")
        frame = stream.read(frame_size)
        if len(frame) != frame_size:
          raise Y4MError(f"{name!r} ended early at byte {position}")
        if not frame.startswith(_FRAME):
          raise Y4MError(f"{name!r} has a FRAME marker at byte {position} "
                         "that is invalid or has unsupported frame "
                         "parameters")
        samples = np.frombuffer(frame, np.uint8, offset=len(_FRAME))
        y = samples[:luma].reshape(height, width, 1)
        cb = samples[luma:luma + chroma].reshape(chroma_h, chroma_w)
        cr = samples[luma + chroma:].reshape(chroma_h, chroma_w)
        yield y, np.stack([cb, cr], axis=-1)
        position += frame_size


class Y4MDataset:
  """A ``tf.data.Dataset`` of Y'CbCr frames read from ``.y4m`` files.

  Each element is a tuple of ``tf.uint8`` tensors: the luma plane, shape
  ``(H, W, 1)``, and the two chroma planes, ``(Hc, Wc, 2)``, with
  ``Hc, Wc = H / 2, W / 2`` for ``C420jpeg`` files and ``H, W`` for ``C444``.
  The files are read in order and their frames form one sequence.

  Constructing a ``Y4MDataset`` returns a ``tf.data.Dataset`` (so
  ``map``, ``batch``, ... work as usual); unlike TFC's class, the result is
  not an instance of ``Y4MDataset`` itself. The frames are read by Python
  (``tf.data.Dataset.from_generator``), so the data set cannot be
  serialized into a graph or SavedModel.

  Args:
    filenames: a file name or a rank-1 list/tensor of names (any file system
      ``tf.io.gfile`` knows).
  """

  element_spec = (tf.TensorSpec([None, None, 1], tf.uint8),
                  tf.TensorSpec([None, None, 2], tf.uint8))

  def __new__(cls, filenames) -> tf.data.Dataset:
    filenames = tf.convert_to_tensor(filenames, tf.string)
    if filenames.shape.rank is not None and filenames.shape.rank > 1:
      raise ValueError("`filenames` must be a scalar or a vector, got shape "
                       f"{filenames.shape}")
    return tf.data.Dataset.from_generator(
        _frames, args=(filenames,), output_signature=cls.element_spec)
