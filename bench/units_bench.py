"""Benchmark of the entropy models' coding-unit ops on a chunked latent.

    python bench/units_bench.py [--repeats 5]

Times EntropyModelEncode / EntropyModelDecode (cc/unit_encoder.h,
cc/unit_decoder.h through the TF kernels) on a 1x64x64x192 latent: one unit
of 786,432 values, 12 chunks, channel mode with 192 rows (a batched model's
layout) and indexed mode with 64 rows (an indexed model's), on all cores;
best of --repeats after a warm-up. Prints one JSON line with the times and
a SHA-256 of the strings, so that two builds can be compared byte for byte
(bench/compare_builds.py). Uses only ops that every release has.
"""

import argparse
import hashlib
import json
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def _lookup(np, rows: int, seed: int):
  """`rows` random overflow tables of 8..40 symbols, precision 15."""
  from tensorcoder import coder  # pylint: disable=g-import-not-at-top
  rng = np.random.default_rng(seed)
  lengths = rng.integers(8, 41, rows)
  cdfs = []
  for n in lengths:
    pmf = rng.dirichlet(np.ones(n)) * 0.999
    cdfs.append(coder.pmf_to_quantized_cdf(np.append(pmf, 1 - pmf.sum()), 15))
  width = 1 + max(c.size for c in cdfs)
  lookup = np.full((rows, width), 1 << 15, np.int32)
  for r, cdf in enumerate(cdfs):
    lookup[r, 0], lookup[r, 1:cdf.size + 1] = -15, cdf
  return lookup, lengths


def main() -> int:
  parser = argparse.ArgumentParser()
  parser.add_argument("--repeats", type=int, default=5)
  args = parser.parse_args()
  import numpy as np  # pylint: disable=g-import-not-at-top
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  from tensorcoder import ops  # pylint: disable=g-import-not-at-top
  rng = np.random.default_rng(0)
  count = 64 * 64 * 192
  result = dict(tf=tf.__version__, values=count)
  digest = hashlib.sha256()
  for mode, rows in (("channel", 192), ("indexed", 64)):
    lookup, lengths = _lookup(np, rows, seed=rows)
    offsets = (-(lengths // 2)).astype(np.int32)
    if mode == "channel":
      row_of = np.arange(count) % rows
      indexes = tf.zeros([0], tf.int32)
    else:
      row_of = rng.integers(0, rows, count)
      indexes = tf.constant(row_of.reshape(1, count).astype(np.int32))
    # Mostly in-table values, a few escapes.
    spread = lengths[row_of] / 4
    x = (rng.normal(0, 1, count) * spread).astype(np.float32).reshape(1, count)
    indexed = mode == "indexed"
    encode = tf.function(lambda v, i, c=lookup, o=offsets, m=indexed:
                         ops.entropy_model_encode(v, i, c, o, indexed=m))
    decode = tf.function(lambda s, i, c=lookup, o=offsets, m=indexed:
                         ops.entropy_model_decode(s, i, count, c, o,
                                                  T=tf.float32, indexed=m,
                                                  check=True))
    xt = tf.constant(x)
    strings = encode(xt, indexes)
    decoded = decode(strings, indexes).numpy()
    if not np.array_equal(decoded, np.round(x)):
      print(f"{mode}: round trip failed", file=sys.stderr)
      return 1

    def best(fn):
      times = []
      for _ in range(args.repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
      return min(times)

    data = strings.numpy()[0]
    digest.update(data)
    result[f"{mode}_bytes"] = len(data)
    result[f"{mode}_encode_s"] = best(lambda: encode(xt, indexes).numpy())
    result[f"{mode}_decode_s"] = best(
        lambda: decode(strings, indexes).numpy())
  result["sha256"] = digest.hexdigest()
  print(json.dumps(result))
  return 0


if __name__ == "__main__":
  sys.exit(main())
