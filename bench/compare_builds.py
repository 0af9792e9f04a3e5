"""Side by side: two builds of tensorcoder on the coder and entropy-model
benchmarks, in one run.

    python bench/compare_builds.py --before DIR --after DIR [--rounds 3]

DIR is a PYTHONPATH holding a built `tensorcoder` package (tools/pytree.sh
DIR makes one from a checkout). Each round runs, alternating the builds:
bench/units_bench.py (EntropyModelEncode/Decode on a chunked 786,432-value
latent), bench/entropy_model_bench.py (LocationScaleIndexedEntropyModel
compress/decompress, the latent of compare_entropy_models.py) and
bench/coder_bench.py --tf-ops (range coder, pybind11 and TF ops, one
thread). Prints the medians, the after/before time ratios (below 1 is
faster), and whether the bytes are the same.
"""

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import compare_entropy_models  # pylint: disable=g-import-not-at-top,wrong-import-position

_ROW = re.compile(r"^\| (A|B): [^|]* \| tensorcoder \((pybind11|TF [^)]* ops)\)"
                  r" \| ([\d.]+) \| ([\d.]+) \| (\d+) \|")


def _run(pythonpath: str, args: list[str]) -> str:
  env = dict(os.environ, PYTHONPATH=pythonpath, TF_CPP_MIN_LOG_LEVEL="3")
  return subprocess.run([sys.executable] + args, check=True,
                        capture_output=True, text=True, env=env).stdout


def _coder_rows(output: str) -> dict:
  """{(workload, layer): (encode Msym/s, decode Msym/s, bytes)}."""
  rows = {}
  for line in output.splitlines():
    match = _ROW.match(line)
    if match:
      layer = "pybind11" if match[2] == "pybind11" else "TF ops"
      rows[(match[1], layer)] = (float(match[3]), float(match[4]),
                                 int(match[5]))
  return rows


def main() -> int:
  parser = argparse.ArgumentParser()
  parser.add_argument("--before", required=True)
  parser.add_argument("--after", required=True)
  parser.add_argument("--rounds", type=int, default=3)
  args = parser.parse_args()
  builds = {"before": args.before, "after": args.after}
  units = {b: [] for b in builds}
  models = {b: [] for b in builds}
  coders = {b: [] for b in builds}
  with tempfile.TemporaryDirectory() as directory:
    data = os.path.join(directory, "latent.npz")
    y, indexes = compare_entropy_models.make_latent()
    np.savez(data, y=y, indexes=indexes)
    for round_ in range(args.rounds):
      for build, path in builds.items():
        units[build].append(json.loads(_run(
            path, [os.path.join(HERE, "units_bench.py")]).splitlines()[-1]))
        models[build].append(json.loads(_run(
            path, [os.path.join(HERE, "entropy_model_bench.py"), "--impl",
                   "tensorcoder", data]).splitlines()[-1]))
        coders[build].append(_coder_rows(_run(
            path, [os.path.join(HERE, "coder_bench.py"), "--tf-ops"])))
        print(f"round {round_} {build} done", file=sys.stderr)

  def line(name, key_fn, runs):
    before = statistics.median(key_fn(r) for r in runs["before"])
    after = statistics.median(key_fn(r) for r in runs["after"])
    print(f"| {name} | {before:.2f} | {after:.2f} | {after / before:.2f} |")

  print("| measurement (median of rounds) | before | after | after / before |")
  print("|---|---|---|---|")
  for mode in ("channel", "indexed"):
    for op in ("encode", "decode"):
      line(f"EntropyModel{op.title()} op, {mode}, 786,432 values (ms)",
           lambda r, k=f"{mode}_{op}_s": r[k] * 1e3, units)
  for key in ("build_s", "compress_s", "decompress_s"):
    line(f"LocationScaleIndexedEntropyModel {key[:-2]} (ms)",
         lambda r, k=key: r[k] * 1e3, models)
  for workload in ("A", "B"):
    for layer in ("pybind11", "TF ops"):
      for i, what in ((0, "encode"), (1, "decode")):
        line(f"range coder {workload}, {layer}, {what} (Msym/s; higher is "
             "faster)", lambda r, k=(workload, layer), j=i: r[k][j], coders)
  same_units = {r["sha256"] for b in builds for r in units[b]}
  same_models = {r["bytes"] for b in builds for r in models[b]}
  same_coders = {tuple(sorted((k, v[2]) for k, v in r.items()))
                 for b in builds for r in coders[b]}
  print(f"\nunit strings identical across builds and rounds: "
        f"{len(same_units) == 1} (sha256 {sorted(same_units)[0][:16]}...)")
  print(f"entropy-model string bytes equal: {len(same_models) == 1}; "
        f"range-coder string sizes equal: {len(same_coders) == 1}")
  return 0 if len(same_units) == len(same_models) == 1 else 1


if __name__ == "__main__":
  sys.exit(main())
