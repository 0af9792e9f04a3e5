"""Entropy-coder benchmark on the shared workloads (shared/bench/WORKLOAD.md).

Measures tensorcoder's pybind11 layer (numpy in -> bytes out, bytes -> numpy
out) on one thread: one warm-up, then the median of 5 runs; checks that the
decoded symbols equal the input; reports Msym/s, compressed bytes, the ideal
information content under the same quantized tables and the overhead over
it. With --tfc-python, TensorFlow Compression's range coder ops are timed on
the same data in that interpreter (see tfc_reference.py) and the encoded
bytes of both are compared.

    bazel run -c opt //bench:coder_bench -- [--tfc-python /tmp/tfc-venv/bin/python]
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


def main(argv: list[str] | None = None) -> int:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--symbols", type=int, default=1 << 20)
  parser.add_argument("--seed", type=int, default=0)
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
