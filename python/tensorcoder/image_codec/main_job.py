"""The main job: compress sample images with the embedded model.

Compresses and decompresses photographs that ship with the installed
scikit-image and matplotlib (none of them used in training), through the
container file format, and prints bpp, PSNR, MS-SSIM, encode/decode time and
JPEG/WebP (Pillow) at the same bit rate. Writes ``side_by_side.png``
(original / tensorcoder / JPEG) and ``rd_plot.png`` into ``--out``.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Optional, Sequence

import numpy as np


def main(argv: Optional[Sequence[str]] = None) -> int:
  os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--out", default="out",
                      help="folder for the PNGs and compressed files")
  parser.add_argument("--model", default=None,
                      help="a .keras model file (default: the embedded one)")
  parser.add_argument("images", nargs="*", default=["builtin-eval"],
                      help="images (default: the held-out sample images)")
  args = parser.parse_args(argv)
  from tensorcoder.image_codec import codec  # pylint: disable=g-import-not-at-top
  from tensorcoder.image_codec import evaluate  # pylint: disable=g-import-not-at-top
  from tensorcoder.image_codec import images  # pylint: disable=g-import-not-at-top

  # Under `bazel run`, relative paths mean the caller's directory.
  base = os.environ.get("BUILD_WORKING_DIRECTORY")
  if base and not os.path.isabs(args.out):
    args.out = os.path.join(base, args.out)
  if base and args.model and not os.path.isabs(args.model):
    args.model = os.path.join(base, args.model)
  args.images = [os.path.join(base, p) if base and os.path.exists(
      os.path.join(base, p)) else p for p in args.images]
  os.makedirs(args.out, exist_ok=True)
  print(f"model: {codec.model_id(args.model)}")
  results = evaluate.evaluate(args.images, args.model)
  # The same round trip through files: bytes on disk decode to exactly the
  # in-memory reconstruction.
  for result, path in zip(results, _paths(args.images, images)):
    stem = os.path.splitext(os.path.basename(path))[0]
    compressed = os.path.join(args.out, f"{stem}.tci")
    decoded = os.path.join(args.out, f"{stem}.decoded.png")
    codec.compress_file(path, compressed, args.model)
    codec.decompress_file(compressed, decoded, args.model)
    if not np.array_equal(images.load(decoded), result.reconstruction):
      print(f"error: {decoded} differs from the in-memory reconstruction",
            file=sys.stderr)
      return 1
  print(evaluate.table(results))
  wins = sum(r.psnr > r.jpeg_psnr for r in results)
  print(f"\ntensorcoder beats JPEG in PSNR at equal bpp on {wins} of "
        f"{len(results)} images")
  side = os.path.join(args.out, "side_by_side.png")
  evaluate.side_by_side(results[0], side)
  plot = os.path.join(args.out, "rd_plot.png")
  evaluate.rd_plot(results, plot)
  print(f"wrote {side}, {plot} and the .tci/.decoded.png files in "
        f"{args.out}/")
  return 0


def _paths(sources, images):
  paths = []
  for source in sources:
    if source == "builtin-eval":
      paths.extend(images.resolve(n) for n in images.EVAL_IMAGES)
    else:
      paths.extend(images.expand([source]))
  return paths


if __name__ == "__main__":
  sys.exit(main())
