"""The ``tensorcoder`` command line.

    tensorcoder compress IN.png [OUT.tci] [--quality N] [--model M.keras]
    tensorcoder compress IMAGES_OR_FOLDERS... [--output-dir DIR] [--quality N]
    tensorcoder decompress IN.tci [OUT.png] [--model M.keras]
    tensorcoder decompress TCI_FILES_OR_FOLDERS... [--output-dir DIR]
    tensorcoder evaluate [IMAGES...] [--plot rd_plot.png]  every quality vs
                                                 JPEG, WebP, AVIF; BD-rates
    tensorcoder train --data DIR|GLOB|builtin --model-dir DIR --steps N ...
    tensorcoder main-job [--out DIR]              the README's main job
    tensorcoder demo [--symbols N] [--seed S]    compress synthetic latents
                                                 (see python -m tensorcoder.demo -h)
    tensorcoder decode-tensor IN.tct OUT.npy     decode a tensor file
    tensorcoder encode-tensor IN.npy LOOKUP.npy OUT.tct [--indexes I.npy]

Also available as ``python -m tensorcoder``. The tensor-file commands need
only NumPy; the image commands need TensorFlow and Pillow.

Every failure, usage errors included, is reported as one line on stderr,
``tensorcoder COMMAND: error: WHAT``, with exit status 1 (2 for usage
errors, 130 when interrupted); outputs are written to a temporary file and
renamed into place only on success, so a failed command leaves none. Set
``TENSORCODER_TRACEBACK=1`` to get the Python traceback instead.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import importlib.abc
import os
import re
import struct
import sys
import tempfile
import time
from typing import Iterator, NoReturn

import numpy as np

from tensorcoder import _op_errors

# Lines that TensorFlow writes to stderr while it starts, whatever
# TF_CPP_MIN_LOG_LEVEL says: absl's notice and INFO records such as
# "I0000 00:00:... port.cc:153] oneDNN custom operations are on...".
_STARTUP_NOISE = re.compile(
    r"WARNING: All log messages before absl::InitializeLog\(\) is called"
    r"|I\d{4} \d\d:\d\d:")


class _Parser(argparse.ArgumentParser):
  """Reports usage errors in one line, like every other failure."""

  def error(self, message: str) -> NoReturn:
    self.exit(2, f"{self.prog}: error: {message} (see {self.prog} -h)\n")


@contextlib.contextmanager
def _filtered_native_stderr() -> Iterator[None]:
  """Captures file descriptor 2 and, at the end, passes on everything but
  TensorFlow's startup noise (``_STARTUP_NOISE``), which native code writes
  there directly."""
  sys.stderr.flush()
  saved = os.dup(2)
  with tempfile.TemporaryFile() as capture:
    os.dup2(capture.fileno(), 2)
    try:
      yield
    finally:
      sys.stderr.flush()
      os.dup2(saved, 2)
      os.close(saved)
      capture.seek(0)
      for line in capture.read().decode(errors="replace").splitlines(True):
        if not _STARTUP_NOISE.match(line):
          sys.stderr.write(line)
      sys.stderr.flush()


class _Hidden(importlib.abc.MetaPathFinder):
  """While in ``sys.meta_path``, makes the packages ``names`` unimportable
  (ModuleNotFoundError), as if they were not installed."""

  def __init__(self, *names: str):
    self._names = names

  def find_spec(self, fullname, path=None, target=None):
    del path, target
    if fullname.split(".")[0] in self._names:
      raise ModuleNotFoundError(f"{fullname} is hidden while TensorFlow "
                                "starts", name=fullname)
    return None


def _import_tensorflow(plots: bool) -> None:
  """Imports TensorFlow, Keras and the models. Without ``plots``,
  matplotlib stays hidden meanwhile: Keras imports matplotlib.pyplot only
  for its optional image galleries (skipped when matplotlib is missing), and
  that import took 0.3-0.4 s of the 3-3.5 s start of a `compress` or
  `decompress` here. A Keras that needs matplotlib gets it: the import is
  then retried without hiding it."""
  hidden = None if plots or "matplotlib" in sys.modules else (
      _Hidden("matplotlib"))
  if hidden is not None:
    sys.meta_path.insert(0, hidden)
  try:
    import tensorflow  # pylint: disable=g-import-not-at-top,unused-import
    import keras  # pylint: disable=g-import-not-at-top,unused-import
    import tensorcoder.models  # pylint: disable=g-import-not-at-top,unused-import
  except ImportError as error:
    if hidden is None or not (error.name or "").startswith("matplotlib"):
      raise
    sys.meta_path.remove(hidden)
    hidden = None
    _import_tensorflow(plots=True)
  finally:
    if hidden is not None:
      sys.meta_path.remove(hidden)


def _start_tensorflow(plots: bool = True) -> None:
  """Imports TensorFlow, Keras and the models without TensorFlow's startup
  log lines. TensorFlow's own logs are off unless TF_CPP_MIN_LOG_LEVEL says
  otherwise: failures reach the command as exceptions, and its messages on
  a machine without a GPU (such as "failed call to cuInit") are noise.
  ``plots``: whether the command draws (``_import_tensorflow``)."""
  os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
  try:
    with _filtered_native_stderr():
      _import_tensorflow(plots)
  except ImportError as error:
    raise RuntimeError(f"this command needs TensorFlow and Keras ({error})"
                       ) from error


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
  from tensorcoder import _atomic  # pylint: disable=g-import-not-at-top
  from tensorcoder import tensor_file  # pylint: disable=g-import-not-at-top
  _atomic.check_writable(args.output)
  values = tensor_file.load(args.input)
  _atomic.write_atomically(args.output, lambda f: np.save(f, values))
  print(f"decoded {values.size} values of shape {values.shape} into "
        f"{args.output}")
  return 0


def _encode_tensor(args: argparse.Namespace) -> int:
  from tensorcoder import _atomic  # pylint: disable=g-import-not-at-top
  from tensorcoder import tensor_file  # pylint: disable=g-import-not-at-top
  _atomic.check_writable(args.output)
  values = np.load(args.input)
  lookup = np.load(args.lookup)
  indexes = np.load(args.indexes) if args.indexes else None
  tensor_file.save(args.output, values, lookup, indexes)
  print(f"encoded {values.size} values into {args.output}")
  return 0


def _batch(args: argparse.Namespace, compress: bool) -> int:
  """compress/decompress: one file (errors before TensorFlow starts where
  possible) or many in one process (a failing file is reported, in one line,
  and the others go on; exit status 1 if any failed)."""
  from tensorcoder.image_codec import batch  # pylint: disable=g-import-not-at-top
  from tensorcoder.image_codec import images  # pylint: disable=g-import-not-at-top
  jobs = batch.plan(args.files, args.output_dir, compress)
  batch.check_targets(jobs, args.output_dir)
  single = len(jobs) == 1
  if single:  # Bad input is refused before TensorFlow starts.
    if compress:
      preloaded = images.load(jobs[0].source)
    else:
      from tensorcoder.image_codec import codec  # pylint: disable=g-import-not-at-top
      preloaded = codec.read_compressed(jobs[0].source)
      codec.parse(preloaded)
  _start_tensorflow(plots=False)
  from tensorcoder.image_codec import codec  # pylint: disable=g-import-not-at-top
  if compress:
    quality = codec.check_quality(args.quality, args.model)

  def load(job):
    if single:
      return preloaded
    return (images.load(job.source) if compress
            else codec.read_compressed(job.source))

  def code(job, value) -> tuple:
    start = time.perf_counter()
    if compress:
      result = codec.compress_array(value, args.model, quality,
                                    args.precision, args.refine)
    else:
      result = codec.decompress_bytes(value, args.model, args.precision)
    return value, result, time.perf_counter() - start

  def store(job, coded) -> str:
    value, result, seconds = coded
    if compress:
      images.write_atomically(job.target, result)
      height, width = value.shape[:2]
      level = "" if quality is None else f", quality {quality}"
      bpp = 8 * len(result) / height / width
      return (f"{job.source} ({width}x{height}) -> {job.target}: "
              f"{len(result)} bytes, {bpp:.3f} bpp{level}, "
              f"{1000 * seconds:.0f} ms")
    images.save_png(job.target, result)
    height, width = result.shape[:2]
    return (f"{job.source} -> {job.target} ({width}x{height}), "
            f"{1000 * seconds:.0f} ms")

  def fail(job, error) -> None:
    if single:
      raise error
    text = describe(error)
    if job.source not in text:
      text = f"{job.source}: {text}"
    print(f"tensorcoder {args.command}: error: {text}", file=sys.stderr)

  outcome = batch.run(jobs, load, code, store, print, fail)
  if not single:
    print(f"{outcome.done} of {len(jobs)} files "
          f"{'compressed' if compress else 'decompressed'} in "
          f"{outcome.seconds:.1f} s"
          + (f", {outcome.failed} failed" if outcome.failed else ""))
  return 1 if outcome.failed else 0


def _compress(args: argparse.Namespace) -> int:
  return _batch(args, compress=True)


def _decompress(args: argparse.Namespace) -> int:
  return _batch(args, compress=False)


def _evaluate(args: argparse.Namespace) -> int:
  from tensorcoder import _atomic  # pylint: disable=g-import-not-at-top
  plot = None if args.no_plot else args.plot
  if plot:
    _atomic.check_writable(plot)
  _start_tensorflow()
  from tensorcoder.image_codec import evaluate  # pylint: disable=g-import-not-at-top
  results = evaluate.evaluate(args.images or ["builtin-eval"], args.model,
                              plot=plot, qualities=args.quality,
                              precision=args.precision, refine=args.refine)
  print(evaluate.table(results))
  if plot:
    print(f"wrote {plot}")
  return 0


def _train(args: argparse.Namespace) -> int:
  _start_tensorflow()
  from tensorcoder.image_codec import train  # pylint: disable=g-import-not-at-top
  return train.run(args)


def _main_job(args: argparse.Namespace) -> int:
  _start_tensorflow()
  from tensorcoder.image_codec import main_job  # pylint: disable=g-import-not-at-top
  return main_job.main(["--out", args.out, "--refine", str(args.refine)] +
                       (["--model", args.model] if args.model else []))


def _add_precision(command: argparse.ArgumentParser) -> None:
  from tensorcoder.image_codec import train  # pylint: disable=g-import-not-at-top
  command.add_argument(
      "--precision", choices=train.PRECISIONS, default=None,
      help="the dtype policy the analysis and synthesis transforms compute "
      "in (default: the model's own where this CPU computes it natively, "
      "else float32; the default model's is mixed_bfloat16, native on CPUs "
      "with AVX512-BF16 or AMX). Files decode in any precision.")


def _add_refine(command: argparse.ArgumentParser) -> None:
  command.add_argument(
      "--refine", type=_steps, default=0, metavar="STEPS",
      help="search STEPS steps for latents that cost fewer bits for a "
      "better image (stochastic Gumbel annealing); the files decode as "
      "usual. 100 steps take about 30 s for a 768x512 image on two cores "
      "(default: 0, no search)")


def _steps(text: str) -> int:
  try:
    value = int(text)
  except ValueError:
    value = -1
  if value < 0:
    raise argparse.ArgumentTypeError(f"not a number of steps (0 or more): "
                                     f"{text!r}")
  return value


def main(argv: list[str] | None = None) -> int:
  parser = _Parser(
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

  compress = commands.add_parser(
      "compress", help="compress image files (IN [OUT.tci], or many inputs)")
  compress.add_argument("files", nargs="+", metavar="FILE",
                        help="IN.png [OUT.tci], or images, folders and globs "
                        "(each written as NAME.tci beside it or in "
                        "--output-dir)")
  compress.add_argument("--output-dir", help="write the .tci files here")
  compress.add_argument("--quality", type=int, default=None,
                        help="quality level of a variable-rate model, 1 "
                        "(lowest rate) to its number of levels (default: "
                        "the model's default level)")
  compress.add_argument("--model", help="a .keras model file or a shipped "
                        "model id (default: the embedded default model)")
  _add_precision(compress)
  _add_refine(compress)
  compress.set_defaults(run=_compress)

  decompress = commands.add_parser(
      "decompress", help="decompress .tci files into PNGs (IN [OUT.png], or "
      "many inputs)")
  decompress.add_argument("files", nargs="+", metavar="FILE",
                          help="IN.tci [OUT.png], or .tci files, folders and "
                          "globs (each written as NAME.png beside it or in "
                          "--output-dir)")
  decompress.add_argument("--output-dir", help="write the PNG files here")
  decompress.add_argument("--model", help="the .keras model that compressed "
                          "them (default: the shipped model each file names)")
  _add_precision(decompress)
  decompress.set_defaults(run=_decompress)

  evaluate = commands.add_parser(
      "evaluate", help="bpp, PSNR, MS-SSIM of every quality level against "
      "JPEG, WebP and AVIF, with BD-rates")
  evaluate.add_argument("images", nargs="*",
                        help="folders, globs or files (default: the "
                        "held-out sample images)")
  evaluate.add_argument("--model", help="a .keras file or shipped model id")
  evaluate.add_argument("--quality", type=int, nargs="+", default=None,
                        help="only these levels (default: every level of a "
                        "variable-rate model)")
  evaluate.add_argument("--plot", default="rd_plot.png",
                        help="where to write the RD plot (PSNR and MS-SSIM "
                        "against bpp, with the baselines and BD-rates), as "
                        "PNG (default: %(default)s)")
  evaluate.add_argument("--no-plot", action="store_true",
                        help="write no plot")
  _add_precision(evaluate)
  _add_refine(evaluate)
  evaluate.set_defaults(run=_evaluate)

  train = commands.add_parser("train", help="train an image codec")
  from tensorcoder.image_codec import train as train_module  # pylint: disable=g-import-not-at-top
  train_module.add_arguments(train)
  train.set_defaults(run=_train)

  job = commands.add_parser("main-job", help="the README's main job")
  job.add_argument("--out", default="out")
  job.add_argument("--model", help="a .keras file or shipped model id")
  _add_refine(job)
  job.set_defaults(run=_main_job)

  own, demo_args = _split_demo(sys.argv[1:] if argv is None else list(argv))
  args = parser.parse_args(own)
  args.demo_args = demo_args
  return _run(args)


def program() -> NoReturn:
  """The ``tensorcoder`` program (and ``python -m tensorcoder``): ``main``
  on the command line, then exit with its status.

  Before exiting, ``gc.freeze()`` moves every object to the collector's
  permanent generation: Python's last collection at exit would otherwise
  walk TensorFlow's objects for about a second (0.9-1.0 s measured here),
  which a batch of files pays once and a single file pays on top of its
  coding. Exit still flushes the streams and runs the atexit handlers;
  every output file is complete and closed before ``main`` returns."""
  status = main()
  gc.freeze()
  sys.exit(status)


def _run(args: argparse.Namespace) -> int:
  """Runs the command; any failure becomes one line on stderr."""
  try:
    return args.run(args)
  except KeyboardInterrupt:
    print(f"tensorcoder {args.command}: interrupted", file=sys.stderr)
    return 130
  except Exception as error:  # pylint: disable=broad-except
    if os.environ.get("TENSORCODER_TRACEBACK"):
      raise
    print(f"tensorcoder {args.command}: error: {describe(error)}",
          file=sys.stderr)
    return 1


def describe(error: BaseException) -> str:
  """What went wrong, in one line, for any exception."""
  tf = sys.modules.get("tensorflow")
  if tf is not None and isinstance(error, tf.errors.OpError):
    text = _one_line(_op_errors.text(error))
    if isinstance(error, tf.errors.ResourceExhaustedError):
      return f"out of memory in TensorFlow: {text}"
    return f"TensorFlow {type(error).__name__}: {text}"
  if isinstance(error, MemoryError):
    return "out of memory" + (f" ({_one_line(error)})" if str(error) else "")
  if isinstance(error, OSError) and error.strerror:
    if error.filename is not None:
      return f"{error.filename}: {error.strerror}"
    return _one_line(error.strerror)
  if isinstance(error, struct.error):
    return f"malformed input ({_one_line(error)})"
  text = _one_line(error)
  if isinstance(error, (ValueError, TypeError, RuntimeError, OSError)):
    return text or type(error).__name__
  # Anything else is unexpected: name its type.
  return f"{type(error).__name__}: {text}" if text else type(error).__name__


def _one_line(text) -> str:
  return " ".join(line.strip() for line in str(text).splitlines()
                  if line.strip())


if __name__ == "__main__":
  sys.exit(main())
