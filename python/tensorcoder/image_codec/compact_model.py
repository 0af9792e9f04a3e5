"""Smaller model files: the same ``.keras`` format, loaded as any other.

A ``.keras`` file is a zip archive whose ``model.weights.h5`` holds each
variable as an HDF5 dataset, stored raw by Keras. :func:`compact_model`
rewrites that file with each dataset compressed by HDF5's own filters
(byte shuffle, then deflate), which h5py undoes when Keras reads it: no
loader change, and the loaded weights are the same bits (about 11 % smaller
for the shipped float32 models).

With ``bfloat16_weights`` the float32 values of the large arrays (the
transforms' kernels) are also rounded to the nearest bfloat16 value (8
significant bits, ties to even) and stored as float32 whose two low bytes
are zero, which the shuffle and deflate then remove: a file about 40 % of
the raw size. Use it only for a *new* model, before any of its files exist:
it changes the weights (relative change at most 2^-8), so a model's
existing bit strings may not decode after it is rounded (the hyper-synthesis
that predicts the coding tables' rows computes in float32). The coding
tables are integers and are never rounded, and the small float arrays
(biases of fewer than ``MIN_ROUNDED`` values, offsets, gains) keep all
their bits. On ``ladder-v2`` the rounding changed the rate by at most 0.2 %
and PSNR by at most 0.003 dB (default_model/README.md).

Command line (how the shipped models are stored)::

  python -m tensorcoder.image_codec.compact_model SOURCE TARGET \
      [--bfloat16-weights]
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import zipfile
from typing import Optional, Sequence

import numpy as np

from tensorcoder import _atomic

WEIGHTS = "model.weights.h5"
# Arrays of fewer values than this keep their float32 bits with
# ``bfloat16_weights``: biases, gains and other small vectors matter more per
# value and save nothing worth having.
MIN_ROUNDED = 4096
# Datasets smaller than this many values are stored raw (a filter would not
# pay for its header).
MIN_COMPRESSED = 64


def round_to_bfloat16(values: np.ndarray) -> np.ndarray:
  """``values`` (float32) rounded to the nearest bfloat16 value, ties to
  even, as float32; infinities and NaNs are kept."""
  values = np.asarray(values, np.float32)
  bits = values.view(np.uint32).astype(np.uint64)
  rounded = (bits + 0x7FFF + ((bits >> 16) & 1)) & 0xFFFF0000
  out = rounded.astype(np.uint32).view(np.float32)
  return np.where(np.isfinite(values), out, values)


def compact_model(source: str, target: str,
                  bfloat16_weights: bool = False) -> tuple[int, int]:
  """Writes the ``.keras`` model ``source`` to ``target`` with compressed
  weights (module docstring), atomically; returns the two files' sizes.

  Raises:
    ValueError: ``source`` is not a ``.keras`` archive with a weights file.
    OSError: ``source`` cannot be read or ``target`` written.
  """
  import h5py  # pylint: disable=g-import-not-at-top
  try:
    archive = zipfile.ZipFile(source)
  except zipfile.BadZipFile as error:
    raise ValueError(f"{source}: not a .keras model file ({error})") from error
  with archive:
    if WEIGHTS not in archive.namelist():
      raise ValueError(f"{source}: not a .keras model file (no {WEIGHTS})")
    members = [(info, archive.read(info)) for info in archive.infolist()]
  raw = next(data for info, data in members if info.filename == WEIGHTS)
  weights = io.BytesIO()
  with h5py.File(io.BytesIO(raw), "r") as old, \
      h5py.File(weights, "w") as new:
    _copy_group(old, new, bfloat16_weights)
  buffer = io.BytesIO()
  with zipfile.ZipFile(buffer, "w") as out:
    for info, data in members:
      out.writestr(info, weights.getvalue() if info.filename == WEIGHTS
                   else data)
  _atomic.write_bytes_atomically(target, buffer.getvalue())
  return os.path.getsize(source), os.path.getsize(target)


def _copy_group(old, new, bfloat16_weights: bool) -> None:
  import h5py  # pylint: disable=g-import-not-at-top
  for key, value in old.attrs.items():
    new.attrs[key] = value
  for name, item in old.items():
    if isinstance(item, h5py.Group):
      _copy_group(item, new.create_group(name), bfloat16_weights)
      continue
    data = item[()]
    if (bfloat16_weights and isinstance(data, np.ndarray) and
        data.dtype == np.float32 and data.size >= MIN_ROUNDED):
      data = round_to_bfloat16(data)
    filters = {}
    if isinstance(data, np.ndarray) and data.size >= MIN_COMPRESSED:
      filters = dict(compression="gzip", compression_opts=9, shuffle=True)
    dataset = new.create_dataset(name, data=data, **filters)
    for key, value in item.attrs.items():
      dataset.attrs[key] = value


def main(argv: Optional[Sequence[str]] = None) -> int:
  """The command line (module docstring); 0 on success, 1 with a one-line
  error on stderr."""
  parser = argparse.ArgumentParser(
      prog="python -m tensorcoder.image_codec.compact_model",
      description="Writes a .keras model with compressed weights.")
  parser.add_argument("source")
  parser.add_argument("target")
  parser.add_argument("--bfloat16-weights", action="store_true",
                      help="also round the large float32 arrays to bfloat16 "
                      "values (only for a new model: its strings change)")
  args = parser.parse_args(argv)
  try:
    before, after = compact_model(args.source, args.target,
                                  args.bfloat16_weights)
  except (ValueError, OSError) as error:
    print(f"error: {error}", file=sys.stderr)
    return 1
  kind = "bfloat16-rounded, compressed" if args.bfloat16_weights else (
      "compressed, every bit kept")
  print(f"wrote {args.target}: {after} bytes ({kind}; {args.source}: "
        f"{before} bytes)")
  return 0


if __name__ == "__main__":
  sys.exit(main())
