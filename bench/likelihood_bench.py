"""The fused noisy-normal likelihood op against the same math in plain TF ops.

Plain TF: log(Phi(u) - Phi(l)) written with tf.math.erf / erfc in the form a
careful user would write (upper tail on the upper side), and its automatic
gradient. Float32, 2^22 elements, CPU (all cores), median of 5 after a
warm-up; also reports the accuracy of each against a float64 reference.

    bazel run -c opt //bench:likelihood_bench
"""

import os
import statistics
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # pylint: disable=g-import-not-at-top
import tensorflow as tf  # pylint: disable=g-import-not-at-top

from tensorcoder import ops  # pylint: disable=g-import-not-at-top


def plain_tf(y, loc, scale):
  d = tf.abs(y - loc)
  lo, hi = (d - 0.5) / scale, (d + 0.5) / scale
  s = np.float32(np.sqrt(0.5))
  upper = 0.5 * (tf.math.erfc(lo * s) - tf.math.erfc(hi * s))
  center = 0.5 * (tf.math.erf(hi * s) - tf.math.erf(lo * s))
  return tf.math.log(tf.where(lo > 0, upper, center))


def median_ms(fn):
  fn()
  times = []
  for _ in range(5):
    start = time.perf_counter()
    fn()
    times.append((time.perf_counter() - start) * 1e3)
  return statistics.median(times)


def main():
  n = 1 << 22
  rng = np.random.default_rng(0)
  scale = np.exp(rng.uniform(np.log(0.11), np.log(256), n)).astype(np.float32)
  y = np.rint(rng.normal(0, scale * 1.5)).astype(np.float32)
  y[:1000] = 40 * scale[:1000]  # Some far-tail values.
  loc = np.zeros(n, np.float32)
  args = [tf.constant(v) for v in (y, loc, scale)]

  fused = tf.function(ops.noisy_normal_log_likelihood)
  plain = tf.function(plain_tf)

  def grads(fn):
    @tf.function
    def g(y, loc, scale):
      with tf.GradientTape() as tape:
        tape.watch([y, loc, scale])
        total = tf.reduce_sum(fn(y, loc, scale))
      return tape.gradient(total, [y, loc, scale])
    return g

  fused_grad, plain_grad = grads(ops.noisy_normal_log_likelihood), grads(
      plain_tf)
  reference = ops.noisy_normal_log_likelihood(
      *[tf.cast(a, tf.float64) for a in args]).numpy()
  print(f"TensorFlow {tf.__version__}, {os.cpu_count()} cores, {n} float32 "
        "elements\n")
  print("| computation | forward ms | forward+gradient ms | non-finite values "
        "| max abs error vs float64 (finite) |")
  print("|---|---|---|---|---|")
  for name, fn, gfn in (("fused op", fused, fused_grad),
                        ("plain TF ops", plain, plain_grad)):
    forward = fn(*args).numpy()
    finite = np.isfinite(forward)
    gradients = gfn(*args)
    bad_grads = sum(int((~np.isfinite(g.numpy())).sum()) for g in gradients)
    error = np.abs(forward[finite] - reference[finite]).max()
    print(f"| {name} | {median_ms(lambda: fn(*args)):.1f} | "
          f"{median_ms(lambda: gfn(*args)):.1f} | "
          f"{int((~finite).sum())} values, {bad_grads} gradients | "
          f"{error:.2e} |")
  return 0


if __name__ == "__main__":
  sys.exit(main())
