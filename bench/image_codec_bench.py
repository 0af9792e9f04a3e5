"""Image codec speed: time per 768x512 image, in one process and through
the CLI's batch mode.

    python bench/image_codec_bench.py [--model M.keras] [--images 12]
        [--quality N] [--precision P] [--refine STEPS]

The images are the held-out sample photographs (``images.EVAL_IMAGES``)
resized to 768x512 (Kodak's size), repeated to ``--images``. Three
measurements, one after the other in one run:

* in process: the model loaded once, then each image compressed and
  decompressed (``codec.compress_array`` / ``decompress_bytes``); the first
  image includes tracing for the size, so the table gives the mean over the
  others and the amortized mean over all;
* ``tensorcoder compress DIR --output-dir`` and ``decompress`` of all images
  in one process each: wall time / number of images (TensorFlow start and
  model load included);
* the same commands for one image: what a one-file-per-process user pays.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # pylint: disable=g-import-not-at-top


def _images(count: int) -> list[np.ndarray]:
  from PIL import Image  # pylint: disable=g-import-not-at-top
  from tensorcoder.image_codec import images  # pylint: disable=g-import-not-at-top
  base = []
  for name in images.EVAL_IMAGES:
    image = Image.fromarray(images.load(name))
    if image.height > image.width:
      image = image.rotate(90, expand=True)
    base.append(np.asarray(image.resize((768, 512), Image.LANCZOS)))
  return [base[i % len(base)] for i in range(count)]


def _cli(*args: str) -> float:
  start = time.perf_counter()
  subprocess.run([sys.executable, "-m", "tensorcoder", *args], check=True,
                 capture_output=True)
  return time.perf_counter() - start


def main() -> int:
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--model", default=None)
  parser.add_argument("--images", type=int, default=12)
  parser.add_argument("--quality", type=int, default=None)
  parser.add_argument("--precision", default=None,
                      help="as tensorcoder compress --precision")
  parser.add_argument("--refine", type=int, default=0,
                      help="as tensorcoder compress --refine")
  args = parser.parse_args()
  from PIL import Image  # pylint: disable=g-import-not-at-top
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  from tensorcoder.image_codec import codec  # pylint: disable=g-import-not-at-top

  pictures = _images(args.images)
  start = time.perf_counter()
  codec.load_model(args.model, args.precision)
  load_s = time.perf_counter() - start
  encode, decode, sizes = [], [], []
  for image in pictures:
    start = time.perf_counter()
    data = codec.compress_array(image, args.model, args.quality,
                                args.precision, args.refine)
    encode.append(time.perf_counter() - start)
    start = time.perf_counter()
    codec.decompress_bytes(data, args.model, args.precision)
    decode.append(time.perf_counter() - start)
    sizes.append(8 * len(data) / (768 * 512))

  with tempfile.TemporaryDirectory() as folder:
    source = os.path.join(folder, "png")
    os.makedirs(source)
    for i, image in enumerate(pictures):
      Image.fromarray(image).save(os.path.join(source, f"{i:03d}.png"))
    model = ["--model", args.model] if args.model else []
    quality = ["--quality", str(args.quality)] if args.quality else []
    precision = (["--precision", args.precision] if args.precision else [])
    quality += precision
    if args.refine:
      quality += ["--refine", str(args.refine)]
    tci, out = os.path.join(folder, "tci"), os.path.join(folder, "out")
    batch_encode = _cli("compress", source, "--output-dir", tci, *model,
                        *quality)
    batch_decode = _cli("decompress", tci, "--output-dir", out, *model,
                        *precision)
    one = os.path.join(source, "000.png")
    single_encode = _cli("compress", one, os.path.join(folder, "one.tci"),
                         *model, *quality)
    single_decode = _cli("decompress", os.path.join(folder, "one.tci"),
                         os.path.join(folder, "one.png"), *model, *precision)

  n = len(pictures)
  print(f"model {codec.model_id(args.model)} computing in "
        f"{codec.load_model(args.model, args.precision).transform_dtype}"
        + (f" with {args.refine} refinement steps" if args.refine else "")
        + ", "
        f"{n} images of 768x512, "
        f"mean {np.mean(sizes):.3f} bpp; TensorFlow {tf.__version__}, "
        f"{os.cpu_count()} CPUs; model load {load_s:.2f} s")
  print("| measurement | encode (s/image) | decode (s/image) |")
  print("|---|---|---|")
  print(f"| in process, images 2..{n} (mean) | {np.mean(encode[1:]):.3f} | "
        f"{np.mean(decode[1:]):.3f} |")
  print(f"| in process, all {n} (amortized, first traces) | "
        f"{np.mean(encode):.3f} | {np.mean(decode):.3f} |")
  print(f"| CLI, {n} files in one process (wall / {n}) | "
        f"{batch_encode / n:.3f} | {batch_decode / n:.3f} |")
  print(f"| CLI, one file per process | {single_encode:.3f} | "
        f"{single_decode:.3f} |")
  return 0


if __name__ == "__main__":
  sys.exit(main())
