"""The main job: compress sample images with the embedded model.

Compresses and decompresses photographs that ship with the installed
scikit-image and matplotlib (none of them used in training), through the
container file format, at every quality level of the model, and prints bpp,
PSNR, MS-SSIM, encode/decode time and JPEG/WebP/AVIF (Pillow) at the same
bit rate, the means per level and the BD-rates. Writes ``side_by_side.png``
(crops: original / tensorcoder at the default level / JPEG, WebP and AVIF at
the nearest rate) and ``rd_plot.png`` (PSNR and MS-SSIM against bpp) into
``--out``.
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
  parser.add_argument("--refine", type=int, default=0, metavar="STEPS",
                      help="latent refinement steps per image and level "
                      "(as `tensorcoder compress --refine`; default 0)")
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
  levels = evaluate.levels(args.model)
  default = codec.check_quality(None, args.model)
  print(f"model: {codec.model_id(args.model)}"
        + ("" if default is None else
           f" ({len(levels)} quality levels, default {default})"))
  results = evaluate.evaluate(args.images, args.model, refine=args.refine)
  # The same round trip through files at the default level: bytes on disk
  # decode to exactly the in-memory reconstruction.
  for path in evaluate.image_paths(args.images):
    (result,) = [r for r in results if r.quality == default
                 and r.name == os.path.basename(path)]
    stem = os.path.splitext(os.path.basename(path))[0]
    compressed = os.path.join(args.out, f"{stem}.tci")
    decoded = os.path.join(args.out, f"{stem}.decoded.png")
    codec.compress_file(path, compressed, args.model, refine=args.refine)
    codec.decompress_file(compressed, decoded, args.model)
    if not np.array_equal(images.load(decoded), result.reconstruction):
      print(f"error: {decoded} differs from the in-memory reconstruction",
            file=sys.stderr)
      return 1
  print(evaluate.table(results))
  print()
  for level in evaluate.summary(results):
    name = "" if level.quality is None else f"quality {level.quality}: "
    margins = ", ".join(
        f"{value:+.2f} dB vs {baseline}"
        for baseline, value in (("JPEG", level.psnr - level.jpeg_psnr),
                                ("WebP", level.psnr - level.webp_psnr),
                                ("AVIF", level.psnr - level.avif_psnr))
        if not np.isnan(value))
    print(f"{name}{level.bpp:.3f} bpp, {level.psnr:.2f} dB"
          + (f" ({margins} at equal bpp)" if margins else ""))
  side = os.path.join(args.out, "side_by_side.png")
  first = [r for r in results if r.quality == default][0]
  evaluate.side_by_side(first, side)
  plot = os.path.join(args.out, "rd_plot.png")
  evaluate.rd_plot(results, plot)
  print(f"wrote {side}, {plot} and the .tci/.decoded.png files in "
        f"{args.out}/")
  return 0


if __name__ == "__main__":
  sys.exit(main())
