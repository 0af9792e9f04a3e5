"""Side-by-side benchmark: tensorcoder vs TFC 2.14 entropy models.

    python bench/compare_entropy_models.py --tfc-python /tmp/tfc-venv/bin/python \
        [--tensorcoder-pythonpath DIR] [--rounds 3]

Writes a 1x192x64x64 latent (scales spread over the 64-scale table) to a
temporary .npz, then alternates runs of bench/entropy_model_bench.py in the
two environments (tensorcoder: this Python; TFC: --tfc-python), and prints
each round and the ratios of the medians.
"""

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))


def make_latent() -> tuple[np.ndarray, np.ndarray]:
  """The benchmark's 1x192x64x64 latent (channels last) and scale indexes,
  spread over the 64-scale table; values drawn from the indexed normals."""
  rng = np.random.default_rng(0)
  shape = (1, 64, 64, 192)
  indexes = rng.integers(8, 48, shape).astype(np.int32)
  step = (math.log(256.0) - math.log(0.11)) / 63
  scales = np.exp(math.log(0.11) + step * indexes)
  y = (rng.normal(size=shape) * scales).astype(np.float32)
  return y, indexes


def main() -> int:
  parser = argparse.ArgumentParser()
  parser.add_argument("--tfc-python", required=True)
  parser.add_argument("--tensorcoder-pythonpath", default=None)
  parser.add_argument("--rounds", type=int, default=3)
  parser.add_argument("--threads", type=int, default=0,
                      help="TF intra-op threads in both (0: all cores)")
  args = parser.parse_args()
  y, indexes = make_latent()
  runs = {"tensorcoder": [], "tfc": []}
  with tempfile.TemporaryDirectory() as directory:
    data = os.path.join(directory, "latent.npz")
    np.savez(data, y=y, indexes=indexes)
    env = dict(os.environ)
    if args.tensorcoder_pythonpath:
      env["PYTHONPATH"] = args.tensorcoder_pythonpath
    for round_ in range(args.rounds):
      for impl, python in (("tensorcoder", sys.executable),
                           ("tfc", args.tfc_python)):
        out = subprocess.run(
            [python, os.path.join(HERE, "entropy_model_bench.py"), "--impl",
             impl, "--threads", str(args.threads), data], check=True, capture_output=True, text=True,
            env=env if impl == "tensorcoder" else dict(os.environ))
        result = json.loads(out.stdout.strip().splitlines()[-1])
        runs[impl].append(result)
        print(f"round {round_} {impl:11s} build {result['build_s']*1e3:8.1f} "
              f"ms  compress {result['compress_s']*1e3:8.1f} ms  decompress "
              f"{result['decompress_s']*1e3:8.1f} ms  bytes {result['bytes']}"
              f"  (TF {result['tf']})")
  median = lambda impl, key: statistics.median(r[key] for r in runs[impl])
  print("\nmedians (ms) and TFC / tensorcoder ratios:")
  for key in ("build_s", "compress_s", "decompress_s"):
    ours, theirs = median("tensorcoder", key), median("tfc", key)
    print(f"  {key[:-2]:10s} tensorcoder {ours*1e3:8.1f}  TFC {theirs*1e3:8.1f}"
          f"  ratio {theirs / ours:5.2f}x")
  ours = median("tensorcoder", "compress_s") + median("tensorcoder",
                                                       "decompress_s")
  theirs = median("tfc", "compress_s") + median("tfc", "decompress_s")
  print(f"  end to end (compress + decompress): ratio {theirs / ours:5.2f}x")
  return 0


if __name__ == "__main__":
  sys.exit(main())
