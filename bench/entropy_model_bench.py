"""Benchmark of LocationScaleIndexedEntropyModel, tensorcoder or TFC.

    python bench/entropy_model_bench.py --impl tensorcoder|tfc DATA.npz

Runs in whichever environment has the implementation (TFC needs TF 2.14):
builds the model (NoisyNormal, 64 scales 0.11..256, coding_rank=3,
compression=True), times the table build, then compress and decompress of
the latent in DATA.npz (y, indexes) inside tf.functions with fixed
signatures, checks the round trip, and prints one JSON line (best of
--repeats, seconds). bench/compare_entropy_models.py runs both side by side.
"""

import argparse
import json
import math
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def main() -> int:
  parser = argparse.ArgumentParser()
  parser.add_argument("--impl", choices=("tensorcoder", "tfc"), required=True)
  parser.add_argument("--repeats", type=int, default=5)
  parser.add_argument("--threads", type=int, default=0,
                      help="TF intra-op threads (0: TF's default, all cores)")
  parser.add_argument("data")
  args = parser.parse_args()
  import numpy as np  # pylint: disable=g-import-not-at-top
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  if args.threads:
    tf.config.threading.set_intra_op_parallelism_threads(args.threads)
    tf.config.threading.set_inter_op_parallelism_threads(args.threads)
  if args.impl == "tfc":
    import tensorflow_compression as lib  # pylint: disable=g-import-not-at-top
  else:
    import tensorcoder as lib  # pylint: disable=g-import-not-at-top
  data = np.load(args.data)
  y, indexes = data["y"], data["indexes"]
  step = (math.log(256.0) - math.log(0.11)) / 63

  def scale_fn(i):
    return tf.exp(math.log(0.11) + step * i)

  def build():
    return lib.LocationScaleIndexedEntropyModel(
        lib.NoisyNormal, 64, scale_fn, coding_rank=3, compression=True)

  build_times = []
  for _ in range(args.repeats):
    start = time.perf_counter()
    model = build()
    float(tf.reduce_sum(tf.cast(model.cdf, tf.float32)))  # Materialise.
    build_times.append(time.perf_counter() - start)

  spec_y = tf.TensorSpec(y.shape, tf.float32)
  spec_i = tf.TensorSpec(indexes.shape, tf.int32)
  compress = tf.function(model.compress, input_signature=[spec_y, spec_i])
  decompress = tf.function(
      model.decompress,
      input_signature=[tf.TensorSpec(y.shape[:1], tf.string), spec_i])
  yt, it = tf.constant(y), tf.constant(indexes)
  strings = compress(yt, it)
  decoded = decompress(strings, it)
  if not np.array_equal(decoded.numpy(), np.round(y)):
    print("round trip failed", file=sys.stderr)
    return 1

  def best(fn):
    times = []
    for _ in range(args.repeats):
      start = time.perf_counter()
      fn()
      times.append(time.perf_counter() - start)
    return min(times)

  compress_s = best(lambda: compress(yt, it).numpy())
  decompress_s = best(lambda: decompress(strings, it).numpy())
  print(json.dumps(dict(
      impl=args.impl, tf=tf.__version__, threads=args.threads, elements=int(y.size),
      bytes=int(sum(len(s) for s in strings.numpy())),
      build_s=min(build_times), compress_s=compress_s,
      decompress_s=decompress_s)))
  return 0


if __name__ == "__main__":
  sys.exit(main())
