"""The main job, for now: compress latent tensors through the C++ core.

Runs the two standard synthetic latents (an indexed-Gaussian "hyperprior"
latent and a factorized "EntropyBottleneck" latent, see
:mod:`tensorcoder.synthetic`) through :mod:`tensorcoder.coder`, checks that
decoding gives the input back, and prints the compressed size next to the
information content of the data under the same quantized tables, and the
coding speed.

    python -m tensorcoder.demo [--symbols N] [--seed S] [--threads T]
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

from tensorcoder import coder
from tensorcoder import synthetic


def _best_seconds(fn, repeats: int = 3) -> tuple[float, object]:
  result = None
  best = float("inf")
  for _ in range(repeats):
    start = time.perf_counter()
    result = fn()
    best = min(best, time.perf_counter() - start)
  return best, result


def run(workload: synthetic.Workload, threads: int) -> dict[str, float]:
  """Codes one workload; returns its figures. Raises if decoding differs."""
  n = workload.symbols.size
  encode_s, data = _best_seconds(lambda: coder.encode_index(
      workload.lookup, workload.indexes, workload.symbols))
  decode_s, decoded = _best_seconds(lambda: coder.decode_index(
      workload.lookup, workload.indexes, data))
  if not np.array_equal(decoded, workload.symbols):
    raise RuntimeError(f"{workload.name}: decoded symbols differ")

  # The same tensor split into 64 independent strings, coded on threads.
  rows = 64
  per_string = n // rows
  indexes = workload.indexes[:rows * per_string].reshape(rows, per_string)
  symbols = workload.symbols[:rows * per_string].reshape(rows, per_string)
  batch_s, strings = _best_seconds(lambda: coder.encode_index_batch(
      workload.lookup, indexes, symbols, num_threads=threads))
  batch_decoded = coder.decode_index_batch(
      workload.lookup, indexes, strings, num_threads=threads)
  if not np.array_equal(batch_decoded, symbols):
    raise RuntimeError(f"{workload.name}: batch-decoded symbols differ")

  ideal_bytes = workload.ideal_bits() / 8
  return {
      "symbols": n,
      "bytes": len(data),
      "ideal_bytes": ideal_bytes,
      "bits_per_symbol": 8 * len(data) / n,
      "overhead_percent": 100 * (len(data) / ideal_bytes - 1),
      "encode_msym_s": n / encode_s / 1e6,
      "decode_msym_s": n / decode_s / 1e6,
      "batch_encode_msym_s": symbols.size / batch_s / 1e6,
  }


def main(argv: list[str] | None = None) -> int:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--symbols", type=int, default=1 << 20,
                      help="elements per latent tensor (default 2^20)")
  parser.add_argument("--seed", type=int, default=0)
  parser.add_argument("--threads", type=int, default=0,
                      help="threads for the batched coder (0: all cores)")
  args = parser.parse_args(argv)
  if args.symbols < 64:
    parser.error("--symbols must be at least 64")

  print(f"tensorcoder demo: {args.symbols} int32 symbols per tensor, "
        f"tables of precision {synthetic.PRECISION}, seed {args.seed}\n")
  header = (f"{'latent':<26} {'bytes':>9} {'ideal':>11} {'bits/sym':>8} "
            f"{'overhead':>9} {'enc Msym/s':>10} {'dec Msym/s':>10} "
            f"{'batch enc':>9}")
  print(header)
  print("-" * len(header))
  for make in (synthetic.indexed_gaussian, synthetic.factorized_logistic):
    workload = make(args.symbols, args.seed)
    r = run(workload, args.threads)
    print(f"{workload.name:<26} {r['bytes']:>9d} {r['ideal_bytes']:>11.1f} "
          f"{r['bits_per_symbol']:>8.3f} {r['overhead_percent']:>8.4f}% "
          f"{r['encode_msym_s']:>10.1f} {r['decode_msym_s']:>10.1f} "
          f"{r['batch_encode_msym_s']:>9.1f}")
  print("\nEvery tensor decoded back exactly. 'ideal' is the information "
        "content\n(sum of -log2 p) of the symbols under the same integer "
        "tables.")
  return 0


if __name__ == "__main__":
  sys.exit(main())
