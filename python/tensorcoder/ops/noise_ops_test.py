"""Tests of the noise and likelihood ops: statistics and reproducibility of
the noise, gradients, stochastic rounding, and the fused likelihood against
reference formulas (including the far tails) and finite differences."""

import math
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # pylint: disable=g-import-not-at-top
import keras  # pylint: disable=g-import-not-at-top
import pytest  # pylint: disable=g-import-not-at-top
import tensorflow as tf  # pylint: disable=g-import-not-at-top

from tensorcoder import ops  # pylint: disable=g-import-not-at-top


@pytest.fixture(autouse=True)
def _seed_everything():
  """Every test starts from the same seeds (Python, NumPy, TF, Keras)."""
  keras.utils.set_random_seed(20261201)


GPUS = tf.config.list_physical_devices("GPU")


@pytest.mark.parametrize("dtype", [tf.float32, tf.float64, tf.float16])
def test_noise_statistics(dtype):
  u = ops.uniform_noise(tf.zeros([1 << 20], dtype), [3, 4]).numpy()
  u = u.astype(np.float64)
  assert u.min() >= -0.5 and u.max() <= 0.5
  assert abs(u.mean()) < 1.5e-3
  assert abs(u.var() - 1 / 12) < 5e-4
  assert abs(np.corrcoef(u[1:], u[:-1])[0, 1]) < 5e-3


def test_noise_is_a_function_of_seed_and_shape():
  x = tf.zeros([1000, 3])
  a = ops.uniform_noise(x, [1, 2])
  np.testing.assert_array_equal(a, ops.uniform_noise(x, [1, 2]))
  np.testing.assert_array_equal(a, ops.uniform_noise(x, tf.constant([1, 2],
                                                                    tf.int64)))
  b = ops.uniform_noise(x, [1, 3]).numpy()
  assert abs(np.corrcoef(a.numpy().ravel(), b.ravel())[0, 1]) < 0.05
  y = ops.add_uniform_noise(x + 2.0, [1, 2])
  np.testing.assert_array_equal(y, 2.0 + a)


def test_add_uniform_noise_gradient_is_identity():
  x = tf.Variable(tf.linspace(-3.0, 3.0, 50))
  with tf.GradientTape() as tape:
    y = tf.reduce_sum(3.0 * ops.add_uniform_noise(x, [5, 6]))
  np.testing.assert_array_equal(tape.gradient(y, x), np.full(50, 3.0))


def test_stochastic_round():
  x = tf.fill([200000], 0.3)
  r = ops.stochastic_round(x, 0.5, [7, 8])
  assert r.dtype == tf.int32
  assert set(np.unique(r)) <= {0, 1}
  assert abs(r.numpy().mean() * 0.5 - 0.3) < 0.003
  np.testing.assert_array_equal(r, ops.stochastic_round(x, 0.5, [7, 8]))
  assert ops.stochastic_round(tf.constant([1.5], tf.bfloat16), 1.0,
                              [1]).numpy()[0] in (1, 2)
  with pytest.raises(tf.errors.InvalidArgumentError, match="int32"):
    ops.stochastic_round(tf.constant([3e9]), 1.0, [1, 2])
  with pytest.raises(tf.errors.InvalidArgumentError, match="step_size"):
    ops.stochastic_round(tf.constant([1.0]), 0.0, [1, 2])


def reference_log_likelihood(y, loc, scale):
  """float64 reference: erfc differences on the upper side, erf around the
  mode; accurate until erfc underflows (about 26 scales out)."""
  s = math.sqrt(0.5)
  d = abs(y - loc)
  lo, hi = (d - 0.5) / scale, (d + 0.5) / scale
  if lo > 0:
    mass = 0.5 * (math.erfc(lo * s) - math.erfc(hi * s))
  else:
    mass = 0.5 * (math.erf(hi * s) - math.erf(lo * s))
  return math.log(mass) if mass > 0 else -math.inf


def asymptotic_log_likelihood(y, loc, scale):
  """log Q(a) + log(1 - Q(b)/Q(a)) with the asymptotic log Q, for far tails."""
  d = abs(y - loc)
  a, b = (d - 0.5) / scale, (d + 0.5) / scale
  def log_q(x):
    return (-0.5 * x * x - math.log(x) - 0.5 * math.log(2 * math.pi) +
            math.log(1 - 1 / x**2 + 3 / x**4 - 15 / x**6))
  return log_q(a) + math.log1p(-math.exp(log_q(b) - log_q(a)))


@pytest.mark.parametrize("dtype", [tf.float32, tf.float64])
def test_likelihood_accuracy_including_tails(dtype):
  scale = np.array([0.11, 0.5, 1.0, 4.0, 60.0])
  z = np.linspace(-40, 40, 161)
  y = (z[:, None] * scale[None, :] + 0.25).astype(np.float64)
  loc = np.full_like(y, 0.25)
  out = ops.noisy_normal_log_likelihood(
      tf.constant(y, dtype), tf.constant(loc, dtype),
      tf.constant(np.broadcast_to(scale, y.shape), dtype)).numpy()
  assert np.isfinite(out).all()
  tol = 2e-6 if dtype == tf.float32 else 1e-10
  for (i, j), value in np.ndenumerate(out):
    ref = reference_log_likelihood(y[i, j], loc[i, j], scale[j])
    if ref > -600:
      assert abs(value - ref) <= tol * max(1.0, abs(ref)) * 10, (i, j)
    elif abs(y[i, j] - loc[i, j]) / scale[j] > 12:
      ref = asymptotic_log_likelihood(y[i, j], loc[i, j], scale[j])
      assert abs(value - ref) <= 1e-3 * abs(ref), (i, j, value, ref)


def test_likelihood_broadcasts_and_checks_scale():
  y = tf.reshape(tf.range(-5.0, 5.0), [10, 1])
  out = ops.noisy_normal_log_likelihood(y, 0.0, [0.5, 1.0, 2.0])
  assert out.shape == (10, 3)
  with pytest.raises(tf.errors.InvalidArgumentError, match="scale"):
    ops.noisy_normal_log_likelihood([0.0, 1.0], 0.0, [1.0, -1.0])


@pytest.mark.parametrize("z", [-38.0, -6.0, -0.3, 0.0, 0.7, 3.0, 25.0])
def test_likelihood_gradients_match_finite_differences(z):
  loc, scale = 0.3, 1.7
  y = tf.constant([z * scale + loc], tf.float64)
  args = [y, tf.constant([loc], tf.float64), tf.constant([scale], tf.float64)]
  theoretical, numerical = tf.test.compute_gradient(
      ops.noisy_normal_log_likelihood, args, delta=1e-6)
  for t, n in zip(theoretical, numerical):
    assert np.isfinite(t).all()
    np.testing.assert_allclose(t, n, rtol=1e-5, atol=1e-6)


def test_likelihood_gradients_sum_over_broadcast_axes():
  loc = tf.Variable([0.1, -0.2])
  with tf.GradientTape() as tape:
    total = tf.reduce_sum(ops.noisy_normal_log_likelihood(
        tf.constant([[0.0, 1.0], [2.0, -1.0], [0.5, 0.5]]), loc, 1.0))
  grad = tape.gradient(total, loc)
  assert grad.shape == (2,) and np.isfinite(grad).all()


def test_tf_function_and_graph_shapes():
  @tf.function(input_signature=[tf.TensorSpec([None, 4], tf.float32)])
  def f(x):
    noisy = ops.add_uniform_noise(x, [1, 2])
    return noisy, ops.noisy_normal_log_likelihood(noisy, 0.0, 2.0)

  noisy, ll = f(tf.zeros([3, 4]))
  assert noisy.shape == (3, 4) and ll.shape == (3, 4)
  assert f.get_concrete_function().structured_outputs[0].shape.as_list() == [
      None, 4]


@pytest.mark.skipif(not GPUS, reason="no GPU visible")
def test_gpu_matches_cpu():
  x = tf.random.stateless_normal([100000], [1, 1])
  with tf.device("/GPU:0"):
    gpu_noise = ops.add_uniform_noise(x, [4, 2])
    gpu_ll = ops.noisy_normal_log_likelihood(x, 0.1, 0.7)
  with tf.device("/CPU:0"):
    cpu_noise = ops.add_uniform_noise(x, [4, 2])
    cpu_ll = ops.noisy_normal_log_likelihood(x, 0.1, 0.7)
  np.testing.assert_array_equal(gpu_noise, cpu_noise)
  np.testing.assert_allclose(gpu_ll, cpu_ll, rtol=1e-6)


if __name__ == "__main__":
  sys.exit(pytest.main([__file__, "-q", "-p", "no:cacheprovider"]))
