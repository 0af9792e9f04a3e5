"""The ``tensorcoder`` command line.

    tensorcoder compress IN.png [OUT.tci] [--model M.keras]
    tensorcoder decompress IN.tci [OUT.png] [--model M.keras]
    tensorcoder evaluate [IMAGES...] [--plot rd.png]   bpp/PSNR/MS-SSIM vs JPEG, WebP
    tensorcoder train --data DIR|GLOB|builtin --model-dir DIR --steps N ...
    tensorcoder main-job [--out DIR]              the README's main job
    tensorcoder demo [--symbols N] [--seed S]    compress synthetic latents
                                                 (see python -m tensorcoder.demo -h)
    tensorcoder decode-tensor IN.tct OUT.npy     decode a tensor file
    tensorcoder encode-tensor IN.npy LOOKUP.npy OUT.tct [--indexes I.npy]

Also available as ``python -m tensorcoder``. The tensor-file commands need
only NumPy; the image commands need TensorFlow and Pillow.
"""

from __future__ import annotations

import argparse
import os
import sys

import numpy as np


def _demo(args: argparse.Namespace) -> int:
  from tensorcoder import demo  # pylint: disable=g-import-not-at-top
  return demo.main(args.demo_args)


def _split_demo(argv: list[str]) -> tuple[list[str], list[str]]:
  """`demo` forwards everything after it to tensorcoder.demo."""
  if "demo" in argv:
    i = argv.index("demo")
    return argv[:i + 1], argv[i + 1:]
  return argv, []


def _decode_tensor(args: argparse.Namespace) -> int:
  from tensorcoder import tensor_file  # pylint: disable=g-import-not-at-top
  values = tensor_file.load(args.input)
  np.save(args.output, values)
  print(f"decoded {values.size} values of shape {values.shape} into "
        f"{args.output}")
  return 0


def _encode_tensor(args: argparse.Namespace) -> int:
  from tensorcoder import tensor_file  # pylint: disable=g-import-not-at-top
  values = np.load(args.input)
  lookup = np.load(args.lookup)
  indexes = np.load(args.indexes) if args.indexes else None
  tensor_file.save(args.output, values, lookup, indexes)
  print(f"encoded {values.size} values into {args.output}")
  return 0


def _compress(args: argparse.Namespace) -> int:
  from tensorcoder.image_codec import codec  # pylint: disable=g-import-not-at-top
  output = args.output or os.path.splitext(args.input)[0] + ".tci"
  info = codec.compress_file(args.input, output, args.model)
  height, width = info["shape"][:2]
  print(f"{args.input} ({width}x{height}) -> {output}: {info['bytes']} bytes, "
        f"{info['bpp']:.3f} bpp, {1000 * info['seconds']:.0f} ms")
  return 0


def _decompress(args: argparse.Namespace) -> int:
  from tensorcoder.image_codec import codec  # pylint: disable=g-import-not-at-top
  output = args.output or os.path.splitext(args.input)[0] + ".png"
  info = codec.decompress_file(args.input, output, args.model)
  height, width = info["shape"][:2]
  print(f"{args.input} -> {output} ({width}x{height}), "
        f"{1000 * info['seconds']:.0f} ms")
  return 0


def _evaluate(args: argparse.Namespace) -> int:
  from tensorcoder.image_codec import evaluate  # pylint: disable=g-import-not-at-top
  results = evaluate.evaluate(args.images or ["builtin-eval"], args.model,
                              plot=args.plot)
  print(evaluate.table(results))
  if args.plot:
    print(f"wrote {args.plot}")
  return 0


def _train(args: argparse.Namespace) -> int:
  from tensorcoder.image_codec import train  # pylint: disable=g-import-not-at-top
  return train.run(args)


def _main_job(args: argparse.Namespace) -> int:
  from tensorcoder.image_codec import main_job  # pylint: disable=g-import-not-at-top
  return main_job.main(["--out", args.out] +
                       (["--model", args.model] if args.model else []))


def main(argv: list[str] | None = None) -> int:
  parser = argparse.ArgumentParser(
      prog="tensorcoder",
      description="Learned data compression: entropy coding tools.")
  commands = parser.add_subparsers(dest="command", required=True)

  demo = commands.add_parser(
      "demo", help="compress synthetic latent tensors and report size/speed")
  demo.set_defaults(run=_demo)

  decode = commands.add_parser("decode-tensor",
                               help="decode a tensor file into a .npy file")
  decode.add_argument("input")
  decode.add_argument("output")
  decode.set_defaults(run=_decode_tensor)

  encode = commands.add_parser(
      "encode-tensor", help="range-code an integer .npy with a lookup table")
  encode.add_argument("input", help=".npy of integers")
  encode.add_argument("lookup", help=".npy of CDF rows (rank 2)")
  encode.add_argument("output")
  encode.add_argument("--indexes", help=".npy of row indexes (index mode)")
  encode.set_defaults(run=_encode_tensor)

  compress = commands.add_parser("compress", help="compress an image file")
  compress.add_argument("input")
  compress.add_argument("output", nargs="?",
                        help="default: the input with extension .tci")
  compress.add_argument("--model", help="a .keras model file or a shipped "
                        "model id (default: the embedded hyperprior-v1)")
  compress.set_defaults(run=_compress)

  decompress = commands.add_parser("decompress",
                                   help="decompress a .tci file into a PNG")
  decompress.add_argument("input")
  decompress.add_argument("output", nargs="?",
                          help="default: the input with extension .png")
  decompress.add_argument("--model", help="the .keras model that compressed "
                          "it (default: the shipped model the file names)")
  decompress.set_defaults(run=_decompress)

  evaluate = commands.add_parser(
      "evaluate", help="bpp, PSNR, MS-SSIM against JPEG and WebP")
  evaluate.add_argument("images", nargs="*",
                        help="folders, globs or files (default: the "
                        "held-out sample images)")
  evaluate.add_argument("--model", help="a .keras file or shipped model id")
  evaluate.add_argument("--plot", help="write an RD plot PNG here")
  evaluate.set_defaults(run=_evaluate)

  train = commands.add_parser("train", help="train an image codec")
  from tensorcoder.image_codec import train as train_module  # pylint: disable=g-import-not-at-top
  train_module.add_arguments(train)
  train.set_defaults(run=_train)

  job = commands.add_parser("main-job", help="the README's main job")
  job.add_argument("--out", default="out")
  job.add_argument("--model", help="a .keras file or shipped model id")
  job.set_defaults(run=_main_job)

  own, demo_args = _split_demo(sys.argv[1:] if argv is None else list(argv))
  args = parser.parse_args(own)
  args.demo_args = demo_args
  try:
    return args.run(args)
  except (ValueError, TypeError, OSError, RuntimeError) as error:
    print(f"tensorcoder {args.command}: error: {error}", file=sys.stderr)
    return 1


if __name__ == "__main__":
  sys.exit(main())
