"""Entropy-coder benchmark on the shared workloads (shared/bench/WORKLOAD.md).

Measures tensorcoder's pybind11 layer (numpy in -> bytes out, bytes -> numpy
out) on one thread: one warm-up, then the median of 5 runs; checks that the
decoded symbols equal the input; reports Msym/s, compressed bytes, the ideal
information content under the same quantized tables and the overhead over
it. With --tf-ops, tensorcoder's TensorFlow ops are timed on the same data
(the TF layer's overhead over the pybind11 layer). With --tfc-python, TensorFlow Compression's range coder ops are timed on
the same data in that interpreter (see tfc_reference.py) and the encoded
bytes of both are compared.

    bazel run -c opt //bench:coder_bench -- [--tf-ops] [--tfc-python PYTHON]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

import tensorcoder
from tensorcoder import coder
from tensorcoder import synthetic

_HERE = os.path.dirname(os.path.abspath(__file__))


def median_seconds(fn) -> float:
  fn()
  times = []
  for _ in range(5):
    start = time.perf_counter()
    fn()
    times.append(time.perf_counter() - start)
  return statistics.median(times)


def cpu_model() -> str:
  try:
    with open("/proc/cpuinfo") as f:
      for line in f:
        if line.startswith("model name"):
          return line.split(":", 1)[1].strip()
  except OSError:
    pass
  return platform.processor() or "unknown"


def run_tfc(python: str, workload: synthetic.Workload) -> dict:
  with tempfile.TemporaryDirectory() as tmp:
    src, dst = os.path.join(tmp, "in.npz"), os.path.join(tmp, "out.npz")
    np.savez(src, lookup=workload.lookup, indexes=workload.indexes,
             symbols=workload.symbols)
    subprocess.run([python, os.path.join(_HERE, "tfc_reference.py"), src, dst],
                   check=True)
    with np.load(dst) as out:
      return {k: out[k] for k in out.files}


def tf_ops_coder():
  """Returns (encode, decode) functions through tensorcoder's TF ops."""
  os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  from tensorcoder import ops  # pylint: disable=g-import-not-at-top
  tf.config.threading.set_intra_op_parallelism_threads(1)
  tf.config.threading.set_inter_op_parallelism_threads(1)

  def encode(lookup, indexes, symbols):
    handle = ops.create_range_encoder([], lookup)
    handle = ops.entropy_encode_index(handle, indexes, symbols)
    return ops.entropy_encode_finalize(handle)

  def decode(lookup, indexes, encoded):
    handle = ops.create_range_decoder(encoded, lookup)
    handle, decoded = ops.entropy_decode_index(handle, indexes,
                                               tf.shape(indexes))
    if not ops.entropy_decode_finalize(handle).numpy():
      raise RuntimeError("TF ops: decoder finalize reported failure")
    return decoded

  return tf, encode, decode


def main(argv: list[str] | None = None) -> int:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--symbols", type=int, default=1 << 20)
  parser.add_argument("--seed", type=int, default=0)
  parser.add_argument("--tf-ops", action="store_true",
                      help="also time tensorcoder's TensorFlow ops")
  parser.add_argument("--tfc-python", default="",
                      help="python of an environment with "
                      "tensorflow-compression, to compare against")
  args = parser.parse_args(argv)

  print(f"machine: {os.cpu_count()} cores, {cpu_model()}; "
        f"Python {platform.python_version()}, numpy {np.__version__}, "
        f"tensorcoder {tensorcoder.__version__}")
  print(f"{args.symbols} symbols per workload, precision "
        f"{synthetic.PRECISION}, one thread, median of 5 after a warm-up\n")
  print("| workload | coder | encode Msym/s | decode Msym/s | bytes | "
        "ideal bytes | overhead % | bytes equal |")
  print("|---|---|---|---|---|---|---|---|")
  for make in (synthetic.indexed_gaussian, synthetic.factorized_logistic):
    w = make(args.symbols, args.seed)
    n = w.symbols.size
    ideal = w.ideal_bits() / 8
    encoded = coder.encode_index(w.lookup, w.indexes, w.symbols)
    decoded = coder.decode_index(w.lookup, w.indexes, encoded)
    if not np.array_equal(decoded, w.symbols):
      raise RuntimeError(f"{w.name}: tensorcoder round trip failed")
    enc_s = median_seconds(
        lambda: coder.encode_index(w.lookup, w.indexes, w.symbols))
    dec_s = median_seconds(
        lambda: coder.decode_index(w.lookup, w.indexes, encoded))
    print(f"| {w.name} | tensorcoder (pybind11) | {n / enc_s / 1e6:.1f} | "
          f"{n / dec_s / 1e6:.1f} | {len(encoded)} | {ideal:.0f} | "
          f"{100 * (len(encoded) / ideal - 1):.4f} | |")
    if args.tf_ops:
      tf, tf_encode, tf_decode = tf_ops_coder()
      lookup, idx, sym = (tf.constant(w.lookup), tf.constant(w.indexes),
                          tf.constant(w.symbols))
      tf_encoded = tf_encode(lookup, idx, sym)
      if not np.array_equal(tf_decode(lookup, idx, tf_encoded), w.symbols):
        raise RuntimeError(f"{w.name}: TF ops round trip failed")
      tf_enc_s = median_seconds(lambda: tf_encode(lookup, idx, sym))
      tf_dec_s = median_seconds(lambda: tf_decode(lookup, idx, tf_encoded))
      same = tf_encoded.numpy() == encoded
      print(f"| {w.name} | tensorcoder (TF {tf.__version__} ops) | "
            f"{n / tf_enc_s / 1e6:.1f} | {n / tf_dec_s / 1e6:.1f} | "
            f"{len(tf_encoded.numpy())} | {ideal:.0f} | "
            f"{100 * (len(tf_encoded.numpy()) / ideal - 1):.4f} | "
            f"{'yes' if same else 'NO'} |")
      print(f"| {w.name} | ratio TF ops / pybind11 time | "
            f"{tf_enc_s / enc_s:.2f}x | {tf_dec_s / dec_s:.2f}x | | | | |")
    if args.tfc_python:
      tfc = run_tfc(args.tfc_python, w)
      tfc_bytes = tfc["encoded"].tobytes()
      if not (np.array_equal(tfc["decoded"], w.symbols) and tfc["ok"]):
        raise RuntimeError(f"{w.name}: TFC round trip failed")
      print(f"| {w.name} | TFC {tfc['tf_version']} ops | "
            f"{n / tfc['encode_s'] / 1e6:.1f} | "
            f"{n / tfc['decode_s'] / 1e6:.1f} | {len(tfc_bytes)} | "
            f"{ideal:.0f} | {100 * (len(tfc_bytes) / ideal - 1):.4f} | "
            f"{'yes' if tfc_bytes == encoded else 'NO'} |")
      print(f"| {w.name} | ratio tensorcoder / TFC | "
            f"{tfc['encode_s'] / enc_s:.2f}x | {tfc['decode_s'] / dec_s:.2f}x "
            f"| | | | |")
  return 0


if __name__ == "__main__":
  sys.exit(main())
