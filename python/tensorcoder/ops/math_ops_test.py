"""Tests of the bound ops and perturb_and_apply."""

import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # pylint: disable=g-import-not-at-top
import keras  # pylint: disable=g-import-not-at-top
import pytest  # pylint: disable=g-import-not-at-top
import tensorflow as tf  # pylint: disable=g-import-not-at-top

from tensorcoder.ops import math_ops  # pylint: disable=g-import-not-at-top
from tensorcoder.ops import round_ops  # pylint: disable=g-import-not-at-top


@pytest.fixture(autouse=True)
def _seed_everything():
  """Every test starts from the same seeds (Python, NumPy, TF, Keras)."""
  keras.utils.set_random_seed(20261201)


DTYPES = [tf.float32, tf.float64]
GRADIENTS = ["identity_if_towards", "identity", "disconnected"]

# Inputs below, at and above the bound 0, each with a positive and a negative
# incoming gradient.
INPUTS = [-1.0, -1.0, 0.0, 0.0, 1.0, 1.0]
UPSTREAM = [1.0, -1.0, 1.0, -1.0, 1.0, -1.0]


def bound_grads(op, gradient, dtype):
  x = tf.constant(INPUTS, dtype)
  bound = tf.constant(0.0, dtype)
  with tf.GradientTape(persistent=True) as tape:
    tape.watch([x, bound])
    y = op(x, bound, gradient=gradient)
  dx, dbound = tape.gradient(y, [x, bound],
                             output_gradients=tf.constant(UPSTREAM, dtype))
  return y, dx, dbound


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("gradient", GRADIENTS)
def test_values(dtype, gradient):
  x = tf.constant(np.linspace(-3, 3, 13), dtype)
  np.testing.assert_array_equal(
      math_ops.upper_bound(x, 0.5, gradient=gradient), np.minimum(x, 0.5))
  np.testing.assert_array_equal(
      math_ops.lower_bound(x, 0.5, gradient=gradient), np.maximum(x, 0.5))
  assert math_ops.upper_bound(x, 0.5).dtype == dtype


@pytest.mark.parametrize("dtype", DTYPES)
def test_upper_bound_gradients(dtype):
  # identity_if_towards: through where x <= bound, or where descent (which
  # moves x by -grad) lowers x, i.e. grad > 0.
  _, dx, dbound = bound_grads(math_ops.upper_bound, "identity_if_towards",
                              dtype)
  np.testing.assert_array_equal(dx, [1, -1, 1, -1, 1, 0])
  assert dbound is None
  _, dx, dbound = bound_grads(math_ops.upper_bound, "identity", dtype)
  np.testing.assert_array_equal(dx, UPSTREAM)
  assert dbound is None
  # disconnected: exactly tf.minimum's gradient, for the bound too.
  _, dx, dbound = bound_grads(math_ops.upper_bound, "disconnected", dtype)
  np.testing.assert_array_equal(dx, [1, -1, 1, -1, 0, 0])
  np.testing.assert_array_equal(dbound, 0.0)  # The two active cancel.
  x = tf.constant(INPUTS, dtype)
  bound = tf.constant(0.0, dtype)
  with tf.GradientTape(persistent=True) as tape:
    tape.watch([x, bound])
    ours = math_ops.upper_bound(x, bound, gradient="disconnected")
    reference = tf.minimum(x, bound)
  np.testing.assert_array_equal(tape.gradient(ours, x),
                                tape.gradient(reference, x))
  np.testing.assert_array_equal(tape.gradient(ours, bound),
                                tape.gradient(reference, bound))


@pytest.mark.parametrize("dtype", DTYPES)
def test_lower_bound_gradients(dtype):
  # identity_if_towards: through where x >= bound, or where descent raises x,
  # i.e. grad < 0.
  _, dx, dbound = bound_grads(math_ops.lower_bound, "identity_if_towards",
                              dtype)
  np.testing.assert_array_equal(dx, [0, -1, 1, -1, 1, -1])
  assert dbound is None
  _, dx, dbound = bound_grads(math_ops.lower_bound, "identity", dtype)
  np.testing.assert_array_equal(dx, UPSTREAM)
  assert dbound is None
  _, dx, dbound = bound_grads(math_ops.lower_bound, "disconnected", dtype)
  np.testing.assert_array_equal(dx, [0, 0, 1, -1, 1, -1])
  np.testing.assert_array_equal(dbound, 0.0)
  x = tf.constant([-2.0, 3.0], dtype)
  bound = tf.constant(0.0, dtype)
  with tf.GradientTape() as tape:
    tape.watch(bound)
    y = math_ops.lower_bound(x, bound, gradient="disconnected")
  np.testing.assert_array_equal(tape.gradient(y, bound), 1.0)


def test_gradient_descent_escapes_bound():
  # A variable stuck above an upper bound, with a loss that wants it lower:
  # identity_if_towards lets it move, disconnected does not.
  for gradient, moves in [("identity_if_towards", True),
                          ("disconnected", False)]:
    v = tf.Variable(2.0)
    with tf.GradientTape() as tape:
      loss = tf.square(math_ops.upper_bound(v, 1.0, gradient=gradient))
    grad = tape.gradient(loss, v)
    assert (grad is not None and float(grad) != 0) == moves


def test_broadcasting():
  x = tf.constant([[-1.0], [2.0]])  # Shape (2, 1).
  bound = tf.constant([0.0, 1.0, 3.0])  # Shape (3,).
  with tf.GradientTape() as tape:
    tape.watch(x)
    y = math_ops.upper_bound(x, bound, gradient="identity_if_towards")
  np.testing.assert_array_equal(y, np.minimum(x.numpy(), bound.numpy()))
  # Upstream gradient -1 (pushes up): only the elements within the bound.
  dx = tape.gradient(y, x, output_gradients=-tf.ones([2, 3]))
  np.testing.assert_array_equal(dx, [[-3.0], [-1.0]])


def test_invalid_gradient():
  with pytest.raises(ValueError, match="gradient"):
    math_ops.upper_bound(1.0, 0.0, gradient="bogus")
  with pytest.raises(ValueError, match="gradient"):
    math_ops.lower_bound(1.0, 0.0, gradient="identity_if_away")


def test_bounds_in_tf_function():
  @tf.function
  def f(x):
    with tf.GradientTape() as tape:
      tape.watch(x)
      y = math_ops.lower_bound(x, 0.0)
    return y, tape.gradient(y, x, output_gradients=tf.ones_like(x))

  y, dx = f(tf.constant([-1.0, 1.0]))
  np.testing.assert_array_equal(y, [0.0, 1.0])
  np.testing.assert_array_equal(dx, [0.0, 1.0])


@pytest.mark.parametrize("dtype", DTYPES)
def test_perturb_and_apply_expected_gradient(dtype):
  x = tf.constant(np.linspace(-2, 2, 17) + 0.1, dtype)
  u = tf.constant(np.random.default_rng(0).uniform(-.5, .5, 17), dtype)
  alpha = tf.constant(3.0, dtype)
  f = round_ops.soft_round
  with tf.GradientTape(persistent=True) as tape:
    tape.watch([x, alpha])
    y, x_plus_u = math_ops.perturb_and_apply(f, x, alpha, u=u)
  np.testing.assert_allclose(x_plus_u, x + u)
  np.testing.assert_allclose(y, f(x + u, alpha))
  np.testing.assert_allclose(tape.gradient(y, x),
                             f(x + 0.5, alpha) - f(x - 0.5, alpha),
                             rtol=1e-6)
  # Arguments other than x get their ordinary gradients, at x + u.
  with tf.GradientTape() as inner:
    inner.watch(alpha)
    reference = f(x + u, alpha)
  np.testing.assert_allclose(tape.gradient(y, alpha),
                             inner.gradient(reference, alpha), rtol=1e-6)
  # The returned x + u has gradient 1 with respect to x.
  np.testing.assert_array_equal(tape.gradient(x_plus_u, x), np.ones(17))


def test_perturb_and_apply_without_expected_gradient():
  x = tf.constant([0.3, 1.2])
  u = tf.constant([0.1, -0.4])
  with tf.GradientTape() as tape:
    tape.watch(x)
    y, _ = math_ops.perturb_and_apply(tf.square, x, u=u, expected_grads=False)
  np.testing.assert_allclose(tape.gradient(y, x), 2 * (x + u), rtol=1e-6)


def test_perturb_and_apply_noise_arguments():
  x = tf.zeros([1000], tf.float64)
  y, x_plus_u = math_ops.perturb_and_apply(tf.identity, x)
  assert (np.abs(x_plus_u) <= 0.5).all() and np.std(x_plus_u) > 0.2
  np.testing.assert_array_equal(y, x_plus_u)
  given = tf.constant([0.25], tf.float64)
  y, x_plus_u = math_ops.perturb_and_apply(tf.square, given, x_plus_u=given)
  np.testing.assert_array_equal(y, [0.0625])
  with pytest.raises(ValueError):
    math_ops.perturb_and_apply(tf.square, given, u=given, x_plus_u=given)


def test_perturb_and_apply_with_variables_and_broadcasting():
  # f uses a variable and broadcasts x against an argument.
  scale = tf.Variable(2.0)
  x = tf.constant([0.1, 0.9])
  shift = tf.constant([[0.0], [1.0]])
  u = tf.constant([0.2, -0.3])

  def f(v, s):
    return scale * tf.square(v + s)

  with tf.GradientTape() as tape:
    tape.watch(x)
    y, _ = math_ops.perturb_and_apply(f, x, shift, u=u)
  dx, dscale = tape.gradient(y, [x, scale])
  slope = f(x + 0.5, shift) - f(x - 0.5, shift)
  np.testing.assert_allclose(dx, tf.reduce_sum(slope, 0), rtol=1e-6)
  np.testing.assert_allclose(dscale, tf.reduce_sum(tf.square(x + u + shift)),
                             rtol=1e-6)


def test_perturb_and_apply_step_function():
  # For rounding (zero derivative almost everywhere) the expected gradient is
  # round(x + 1/2) - round(x - 1/2), which is 1 away from the half-integers.
  x = tf.constant([0.2, 1.1, -0.3])
  with tf.GradientTape() as tape:
    tape.watch(x)
    y, x_plus_u = math_ops.perturb_and_apply(tf.round, x)
  np.testing.assert_array_equal(y, tf.round(x_plus_u))
  np.testing.assert_array_equal(tape.gradient(y, x), [1.0, 1.0, 1.0])


if __name__ == "__main__":
  sys.exit(pytest.main([__file__, "-q", "-p", "no:cacheprovider"]))
