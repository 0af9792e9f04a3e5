"""The ``tensorcoder`` command line.

    tensorcoder demo [--symbols N] [--seed S]    compress synthetic latents
                                                 (see python -m tensorcoder.demo -h)
    tensorcoder decode-tensor IN.tct OUT.npy     decode a tensor file
    tensorcoder encode-tensor IN.npy LOOKUP.npy OUT.tct [--indexes I.npy]

Also available as ``python -m tensorcoder``. Only NumPy is needed.
"""

from __future__ import annotations

import argparse
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

  own, demo_args = _split_demo(sys.argv[1:] if argv is None else list(argv))
  args = parser.parse_args(own)
  args.demo_args = demo_args
  try:
    return args.run(args)
  except (ValueError, TypeError, OSError) as error:
    print(f"tensorcoder {args.command}: error: {error}", file=sys.stderr)
    return 1


if __name__ == "__main__":
  sys.exit(main())
