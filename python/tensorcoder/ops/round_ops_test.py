"""Tests of straight-through and soft rounding."""

import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # pylint: disable=g-import-not-at-top
import keras  # pylint: disable=g-import-not-at-top
import pytest  # pylint: disable=g-import-not-at-top
import tensorflow as tf  # pylint: disable=g-import-not-at-top

from tensorcoder.ops import round_ops  # pylint: disable=g-import-not-at-top


@pytest.fixture(autouse=True)
def _seed_everything():
  """Every test starts from the same seeds (Python, NumPy, TF, Keras)."""
  keras.utils.set_random_seed(20261201)


DTYPES = [tf.float32, tf.float64]


def grid(dtype, low=-4.0, high=4.0, num=801):
  # Offset so that the grid holds no exact half-integers (rounding ties).
  return tf.constant(np.linspace(low, high, num) + 0.0037, dtype)


def tol(dtype):
  return 2e-5 if dtype == tf.float32 else 1e-11


@pytest.mark.parametrize("dtype", DTYPES)
def test_round_st_values_and_gradient(dtype):
  x = grid(dtype)
  with tf.GradientTape() as tape:
    tape.watch(x)
    y = round_ops.round_st(x)
  np.testing.assert_array_equal(y, np.round(x.numpy()))
  np.testing.assert_array_equal(tape.gradient(y, x), np.ones(x.shape))


@pytest.mark.parametrize("dtype", DTYPES)
def test_round_st_with_offset(dtype):
  x = grid(dtype, num=81)
  offset = tf.constant(0.3, dtype)
  with tf.GradientTape(persistent=True) as tape:
    tape.watch([x, offset])
    y = round_ops.round_st(x, offset)
  expected = np.round(x.numpy() - offset.numpy()) + offset.numpy()
  np.testing.assert_array_equal(y, expected)
  np.testing.assert_array_equal(tape.gradient(y, x), np.ones(x.shape))
  assert tape.gradient(y, offset) is None


def test_round_st_broadcasts_offset():
  x = tf.constant([0.2, 1.7])
  offset = tf.constant([[0.0], [0.5]])
  with tf.GradientTape() as tape:
    tape.watch(x)
    y = round_ops.round_st(x, offset)
  np.testing.assert_array_equal(y, [[0.0, 2.0], [0.5, 1.5]])
  # Each element of x is used twice, so its gradient is 2.
  np.testing.assert_array_equal(tape.gradient(y, x), [2.0, 2.0])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("alpha", [1e-4, 0.01, 0.5, 2.0, 5.0, 10.0])
def test_soft_round_inverse_round_trip(dtype, alpha):
  # alpha <= 10 keeps soft_round well conditioned enough to be inverted.
  x = grid(dtype)
  y = round_ops.soft_round(x, alpha)
  x_back = round_ops.soft_round_inverse(y, alpha)
  atol = tol(dtype) * (1 if alpha <= 5 else 50)
  np.testing.assert_allclose(x_back, x, atol=atol)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("alpha", [0.5, 5.0, 20.0, 100.0, 1000.0])
def test_soft_round_of_inverse_is_identity(dtype, alpha):
  # This direction is well conditioned for every alpha.
  y = grid(dtype)
  x = round_ops.soft_round_inverse(y, alpha)
  assert np.isfinite(x.numpy()).all()
  np.testing.assert_allclose(round_ops.soft_round(x, alpha), y,
                             atol=100 * tol(dtype))


@pytest.mark.parametrize("dtype", DTYPES)
def test_soft_round_small_alpha_is_identity(dtype):
  x = grid(dtype)
  for alpha in [0.0, 1e-5, 9.9e-4]:  # Below eps: exactly the identity.
    np.testing.assert_array_equal(round_ops.soft_round(x, alpha), x)
    np.testing.assert_array_equal(round_ops.soft_round_inverse(x, alpha), x)
  # Just above eps: the tanh form, which is within O(alpha^2) of x.
  np.testing.assert_allclose(round_ops.soft_round(x, 2e-3), x, atol=1e-5)
  np.testing.assert_allclose(
      round_ops.soft_round_inverse(x, 2e-3), x, atol=1e-5)


@pytest.mark.parametrize("dtype", DTYPES)
def test_soft_round_large_alpha_is_round(dtype):
  x = grid(dtype)
  away_from_ties = np.abs(x.numpy() - np.floor(x.numpy()) - 0.5) > 0.05
  y = round_ops.soft_round(x, 1000.0).numpy()
  np.testing.assert_allclose(y[away_from_ties],
                             np.round(x.numpy())[away_from_ties], atol=1e-6)
  # Larger alpha, closer to rounding.
  errors = [np.max(np.abs(round_ops.soft_round(x, a).numpy()[away_from_ties] -
                          np.round(x.numpy())[away_from_ties]))
            for a in (1.0, 5.0, 20.0)]
  assert errors[0] > errors[1] > errors[2]


@pytest.mark.parametrize("dtype", DTYPES)
def test_soft_round_fixes_integers_and_half_integers(dtype):
  k = tf.constant(np.arange(-5, 6), dtype)
  for alpha in [0.3, 5.0, 50.0]:
    for f in (round_ops.soft_round, round_ops.soft_round_inverse):
      np.testing.assert_allclose(f(k, alpha), k, atol=tol(dtype))
      np.testing.assert_allclose(f(k + 0.5, alpha), k + 0.5, atol=tol(dtype))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("alpha", [0.01, 1.0, 5.0, 30.0])
def test_monotonic(dtype, alpha):
  x = tf.constant(np.linspace(-3, 3, 2001), dtype)
  # Up to rounding: float32 tanh is not monotonic to the last bit.
  slack = 4 * 3 * np.finfo(dtype.as_numpy_dtype).eps
  for f in (round_ops.soft_round, round_ops.soft_round_inverse,
            round_ops.soft_round_conditional_mean):
    assert (np.diff(f(x, alpha).numpy()) >= -slack).all(), f.__name__
  # Strictly increasing where the function is not flat to working precision.
  assert (np.diff(round_ops.soft_round(x, 1.0).numpy()) > 0).all()


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("alpha", [0.0, 1e-4, 1e-3, 1.0, 5.0, 20.0, 200.0,
                                   5000.0])
def test_gradients_finite(dtype, alpha):
  # Exact integers and half-integers included: the inverse is steepest there.
  x = tf.constant(np.concatenate([np.arange(-3, 3.5, 0.5),
                                  np.linspace(-3, 3, 101) + 0.001]), dtype)
  a = tf.constant(alpha, dtype)
  for f in (round_ops.soft_round, round_ops.soft_round_inverse,
            round_ops.soft_round_conditional_mean):
    with tf.GradientTape(persistent=True) as tape:
      tape.watch([x, a])
      y = f(x, a)
    assert np.isfinite(y.numpy()).all(), f.__name__
    assert np.isfinite(tape.gradient(y, x).numpy()).all(), f.__name__
    assert np.isfinite(tape.gradient(y, a).numpy()), f.__name__


@pytest.mark.parametrize("alpha", [0.002, 0.5, 3.0, 12.0])
def test_gradients_match_finite_differences(alpha):
  x = tf.constant(np.linspace(-2, 2, 41) + 0.013, tf.float64)
  a = tf.constant(alpha, tf.float64)
  h = 1e-6
  for f in (round_ops.soft_round, round_ops.soft_round_inverse):
    with tf.GradientTape(persistent=True) as tape:
      tape.watch([x, a])
      y = f(x, a)
    dx = (f(x + h, a) - f(x - h, a)) / (2 * h)
    da = (f(x, a + h) - f(x, a - h)) / (2 * h)
    np.testing.assert_allclose(tape.gradient(y, x), dx, rtol=1e-6)
    np.testing.assert_allclose(tape.jacobian(y, a), da, rtol=1e-5, atol=1e-8)


@pytest.mark.parametrize("dtype", DTYPES)
def test_inverse_gradient_is_reciprocal_slope(dtype):
  # d soft_round_inverse / dy = 1 / soft_round'(x); at integers sinh(a) / a.
  a = 5.0
  x = tf.constant(np.linspace(-1, 1, 41) + 0.01, dtype)
  with tf.GradientTape() as tape:
    tape.watch(x)
    y = round_ops.soft_round(x, a)
  slope = tape.gradient(y, x)
  with tf.GradientTape() as tape:
    tape.watch(y)
    x_back = round_ops.soft_round_inverse(y, a)
  np.testing.assert_allclose(tape.gradient(x_back, y) * slope, 1.0,
                             rtol=1e-4 if dtype == tf.float32 else 1e-9)
  k = tf.constant([0.0, 2.0], dtype)
  with tf.GradientTape() as tape:
    tape.watch(k)
    x_k = round_ops.soft_round_inverse(k, a)
  np.testing.assert_allclose(tape.gradient(x_k, k), np.sinh(a) / a, rtol=1e-5)


@pytest.mark.parametrize("dtype", DTYPES)
def test_conditional_mean(dtype):
  y = grid(dtype)
  yn = y.numpy()
  for alpha in [0.5, 5.0, 50.0]:
    mean = round_ops.soft_round_conditional_mean(y, alpha).numpy()
    assert (mean >= yn - 0.5).all() and (mean <= yn + 0.5).all()
  # alpha -> 0: y itself; alpha large: round(y), away from the ties.
  np.testing.assert_allclose(
      round_ops.soft_round_conditional_mean(y, 1e-4), y, atol=tol(dtype))
  away_from_ties = np.abs(yn - np.floor(yn) - 0.5) > 0.05
  errors = [np.max(np.abs(
      round_ops.soft_round_conditional_mean(y, a).numpy() - np.round(yn))
                   [away_from_ties]) for a in (5.0, 20.0, 100.0)]
  assert errors[0] > errors[1] > errors[2]
  assert errors[2] < 0.02
  # The definition: soft_round_inverse(y - 1/2) + 1/2.
  np.testing.assert_allclose(
      round_ops.soft_round_conditional_mean(y, 3.0),
      round_ops.soft_round_inverse(y - 0.5, 3.0) + 0.5, atol=tol(dtype))


def test_conditional_mean_is_mean_of_posterior():
  # Monte Carlo: X uniform on a wide range, Z = soft_round(X) + U. Among
  # samples with Z near z, the mean of X is about the conditional mean.
  rng = np.random.default_rng(0)
  alpha = 4.0
  x = rng.uniform(-3, 3, 2_000_000)
  z = round_ops.soft_round(x, alpha).numpy() + rng.uniform(-.5, .5, x.size)
  for z0 in [-0.7, -0.2, 0.1, 0.35, 1.3]:
    near = np.abs(z - z0) < 0.01
    expected = round_ops.soft_round_conditional_mean(
        tf.constant(z0, tf.float64), alpha).numpy()
    np.testing.assert_allclose(x[near].mean(), expected, atol=0.01)


def test_alpha_tensor_broadcasts():
  x = tf.constant([0.2, 0.7, 1.4])
  alpha = tf.constant([[0.5], [5.0]])
  with tf.GradientTape(persistent=True) as tape:
    tape.watch([x, alpha])
    y = round_ops.soft_round_inverse(x, alpha)
  assert y.shape == (2, 3)
  np.testing.assert_allclose(y[1], round_ops.soft_round_inverse(x, 5.0))
  assert tape.gradient(y, x).shape == (3,)
  assert tape.gradient(y, alpha).shape == (2, 1)
  y = round_ops.soft_round(x, alpha)
  np.testing.assert_allclose(y[0], round_ops.soft_round(x, 0.5))


def test_works_in_tf_function():
  @tf.function
  def f(x):
    with tf.GradientTape() as tape:
      tape.watch(x)
      y = round_ops.soft_round_inverse(round_ops.round_st(x), 5.0)
    return y, tape.gradient(y, x)

  y, g = f(tf.constant([0.4, 1.6]))
  np.testing.assert_allclose(y, [0.0, 2.0], atol=1e-6)
  np.testing.assert_allclose(g, np.sinh(5.0) / 5.0, rtol=1e-5)


if __name__ == "__main__":
  sys.exit(pytest.main([__file__, "-q", "-p", "no:cacheprovider"]))
