"""Tests of the rounding and soft-rounding distribution adapters."""

import math
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # pylint: disable=g-import-not-at-top
import keras  # pylint: disable=g-import-not-at-top
import pytest  # pylint: disable=g-import-not-at-top
import tensorflow as tf  # pylint: disable=g-import-not-at-top

from tensorcoder.distributions import base  # pylint: disable=g-import-not-at-top
from tensorcoder.distributions import helpers  # pylint: disable=g-import-not-at-top
from tensorcoder.distributions import round_adapters as ra  # pylint: disable=g-import-not-at-top
from tensorcoder.distributions import uniform_noise  # pylint: disable=g-import-not-at-top
from tensorcoder.ops import round_ops  # pylint: disable=g-import-not-at-top


@pytest.fixture(autouse=True)
def _seed_everything():
  """Every test starts from the same seeds (Python, NumPy, TF, Keras)."""
  keras.utils.set_random_seed(20261201)


DTYPES = [tf.float32, tf.float64]


def normal_cdf(x, loc=0.0, scale=1.0):
  return 0.5 * math.erfc(-(x - loc) / scale / math.sqrt(2))


def deep_factorized_or_skip():
  try:
    from tensorcoder.distributions import deep_factorized  # pylint: disable=g-import-not-at-top
  except ImportError:
    pytest.skip("tensorcoder.distributions.deep_factorized not available")
  return deep_factorized


# The monotonic adapters.


@pytest.mark.parametrize("dtype", DTYPES)
def test_round_adapter_cdf_is_right_continuous_step(dtype):
  d = ra.RoundAdapter(base.Normal(0.3, 1.5, dtype=dtype))
  y = np.array([-2.0, -1.5, -1.2, 0.0, 0.4, 0.99, 1.0, 2.5])
  cdf = d.cdf(tf.constant(y, dtype)).numpy()
  # P(round(X) <= y) = P(X <= floor(y) + 1/2).
  expected = [normal_cdf(math.floor(v) + 0.5, 0.3, 1.5) for v in y]
  np.testing.assert_allclose(cdf, expected, rtol=1e-5)
  np.testing.assert_allclose(
      d.cdf(tf.constant(y, dtype)) + d.survival_function(tf.constant(y, dtype)),
      1.0, rtol=1e-6)
  np.testing.assert_allclose(d.log_cdf(tf.constant(y, dtype)), np.log(cdf),
                             rtol=1e-5)


@pytest.mark.parametrize("dtype", DTYPES)
def test_round_adapter_quantile(dtype):
  d = ra.RoundAdapter(base.Normal([0.3, -4.0], [1.5, 0.2], dtype=dtype))
  p = tf.constant(np.linspace(0.01, 0.99, 25)[:, None], dtype)
  q = d.quantile(p).numpy()
  np.testing.assert_array_equal(q, np.round(q))  # Integers.
  # The smallest integer whose CDF reaches p.
  assert (d.cdf(q).numpy() >= p.numpy() - 1e-6).all()
  assert (d.cdf(q - 1).numpy() < p.numpy()).all()


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("alpha", [0.5, 5.0, 12.0])
def test_soft_round_adapter_cdf_quantile(dtype, alpha):
  normal = base.Normal([0.3, -1.0], [1.5, 0.7], dtype=dtype)
  d = ra.SoftRoundAdapter(normal, alpha)
  p = tf.constant(np.linspace(0.02, 0.98, 25)[:, None], dtype)
  q = d.quantile(p)
  np.testing.assert_allclose(q, round_ops.soft_round(normal.quantile(p), alpha))
  # The inverse soft rounding is steep near the integers, which amplifies
  # float32 rounding of q.
  atol = 3e-4 if dtype == tf.float32 else 1e-10
  np.testing.assert_allclose(d.cdf(q), p + tf.zeros_like(q), atol=atol)
  y = tf.constant(np.linspace(-4, 4, 33)[:, None], dtype)
  np.testing.assert_allclose(d.cdf(y) + d.survival_function(y), 1.0,
                             rtol=1e-6)
  np.testing.assert_allclose(
      d.log_survival_function(y), np.log(d.survival_function(y)), rtol=1e-4,
      atol=1e-7 if dtype == tf.float32 else 0)
  # Monotonic, and at integers equal to the base CDF (integers are fixed).
  assert (np.diff(d.cdf(y).numpy(), axis=0) >= -1e-7).all()
  k = tf.constant([[-2.0], [0.0], [1.0]], dtype)
  np.testing.assert_allclose(d.cdf(k), normal.cdf(k), rtol=1e-5)


def test_monotonic_adapter_interface():
  normal = base.Normal([0.0, 1.0, 2.0], 1.0)
  d = ra.SoftRoundAdapter(normal, tf.constant([[1.0], [5.0]]))
  assert d.batch_shape == (2, 3)
  np.testing.assert_array_equal(d.batch_shape_tensor(), [2, 3])
  assert d.dtype == tf.float32 and d.event_shape == ()
  assert d.parameters["base"] is normal
  with pytest.raises(NotImplementedError):
    d.prob(0.0)
  with pytest.raises(NotImplementedError):
    ra.MonotonicAdapter(normal).cdf(0.0)
  r = ra.RoundAdapter(normal)
  assert r.batch_shape == (3,)
  with pytest.raises(NotImplementedError):
    r.log_prob(0.0)


# Noise on top: densities.


@pytest.mark.parametrize("dtype", DTYPES)
def test_noisy_rounded_normal_sums_to_one(dtype):
  d = ra.NoisyRoundedNormal(loc=[0.3, -2.2, 0.0], scale=[1.7, 0.4, 6.0],
                            dtype=dtype)
  k = tf.constant(np.arange(-60, 61)[:, None], dtype)
  np.testing.assert_allclose(tf.reduce_sum(d.prob(k), 0), 1.0, rtol=1e-5)
  # Piecewise constant: the mass of the integer nearest to y.
  for shift in [-0.49, -0.2, 0.3, 0.49]:
    np.testing.assert_allclose(d.prob(k + shift), d.prob(k), rtol=1e-5,
                               atol=1e-30)
  # The mass of integer k is Phi(k + 1/2) - Phi(k - 1/2).
  for j, (loc, scale) in enumerate([(0.3, 1.7), (-2.2, 0.4), (0.0, 6.0)]):
    expected = [normal_cdf(v + 0.5, loc, scale) - normal_cdf(v - 0.5, loc,
                                                             scale)
                for v in range(-3, 4)]
    np.testing.assert_allclose(d.prob(k[57:64])[:, j], expected, rtol=1e-4,
                               atol=1e-12)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("alpha", [1.0, 5.0, 15.0])
def test_noisy_soft_rounded_normal_integrates_to_one(dtype, alpha):
  d = ra.NoisySoftRoundedNormal(alpha=alpha, loc=0.3, scale=1.2, dtype=dtype)
  step = 1e-3
  y = tf.constant(np.arange(-10, 10, step) + step / 2, dtype)
  np.testing.assert_allclose(tf.reduce_sum(d.prob(y)) * step, 1.0, rtol=1e-4)


@pytest.mark.parametrize("dtype", DTYPES)
def test_noisy_soft_rounded_normal_limits(dtype):
  loc, scale = [0.3, -1.1], [1.2, 0.6]
  y = tf.constant(np.linspace(-3, 3, 121)[:, None] + 0.013, dtype)
  noisy = uniform_noise.NoisyNormal(loc, scale, dtype=dtype)
  rounded = ra.NoisyRoundedNormal(loc, scale, dtype=dtype)
  # Small alpha: the noisy normal (exactly below eps, closely above).
  for alpha, rtol in [(1e-4, 1e-5), (0.01, 1e-3)]:
    soft = ra.NoisySoftRoundedNormal(alpha, loc, scale, dtype=dtype)
    np.testing.assert_allclose(soft.prob(y), noisy.prob(y), rtol=rtol)
  # Large alpha: the noisy rounded normal, away from the half-integers where
  # the rounded density jumps.
  yn = y.numpy()
  away = np.broadcast_to(np.abs(yn - np.floor(yn) - 0.5) > 0.1, (121, 2))
  errors = []
  for alpha in [5.0, 50.0, 1000.0]:
    soft = ra.NoisySoftRoundedNormal(alpha, loc, scale, dtype=dtype)
    errors.append(np.max(np.abs(soft.prob(y) - rounded.prob(y))[away]))
  # The inverse soft rounding is within about atanh(0.8) / alpha of the
  # half-integers here, so the error falls like 1 / alpha.
  assert errors[0] > 5 * errors[1] > 50 * errors[2]
  assert errors[2] < 1e-3
  # At the integers all three agree for any alpha (soft rounding fixes the
  # half-integers, so the bins map to themselves).
  k = tf.constant(np.arange(-3, 4)[:, None], dtype)
  soft = ra.NoisySoftRoundedNormal(3.0, loc, scale, dtype=dtype)
  np.testing.assert_allclose(soft.prob(k), rounded.prob(k), rtol=1e-5)
  np.testing.assert_allclose(soft.prob(k), noisy.prob(k), rtol=1e-5)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("make", [
    lambda dtype: ra.NoisyRoundedNormal(0.4, 1.0, dtype=dtype),
    lambda dtype: ra.NoisySoftRoundedNormal(5.0, 0.4, 1.0, dtype=dtype),
    lambda dtype: ra.NoisySoftRoundedNormal(0.5, 0.4, 1.0, dtype=dtype),
])
def test_tails_finite(dtype, make):
  d = make(dtype)
  reference = uniform_noise.NoisyNormal(0.4, 1.0, dtype=dtype)
  # Integers 50 sigma out; at integers all agree with the fused noisy normal.
  k = tf.constant([-50.0, -30.0, -10.0, 10.0, 30.0, 50.0], dtype)
  log_prob = d.log_prob(k).numpy()
  assert np.isfinite(log_prob).all() and (log_prob < -40).all()
  np.testing.assert_allclose(log_prob, reference.log_prob(k), rtol=1e-4)
  y = tf.constant([-50.3, -49.8, 49.6, 50.2], dtype)
  with tf.GradientTape() as tape:
    tape.watch(y)
    log_prob = d.log_prob(y)
  assert np.isfinite(log_prob.numpy()).all()
  # (Zero for the rounded density, which is piecewise constant.)
  grad = tape.gradient(log_prob, y,
                       unconnected_gradients=tf.UnconnectedGradients.ZERO)
  assert np.isfinite(grad.numpy()).all()


# Tail and offset helpers.


@pytest.mark.parametrize("dtype", DTYPES)
def test_helpers_on_rounded(dtype):
  normal = base.Normal([0.3, -2.6], [1.7, 0.4], dtype=dtype)
  d = ra.NoisyRoundedNormal([0.3, -2.6], [1.7, 0.4], dtype=dtype)
  lower = helpers.lower_tail(d, 1e-6).numpy()
  upper = helpers.upper_tail(d, 1e-6).numpy()
  np.testing.assert_array_equal(lower, np.floor(
      helpers.lower_tail(normal, 1e-6)))
  np.testing.assert_array_equal(upper, np.ceil(
      helpers.upper_tail(normal, 1e-6)))
  np.testing.assert_array_equal(helpers.quantization_offset(d), [0.0, 0.0])
  # The integer range holds all but about tail_mass of the mass.
  k = tf.constant(np.arange(-40, 41)[:, None], dtype)
  inside = (k >= lower) & (k <= upper)
  mass = tf.reduce_sum(tf.where(inside, d.prob(k), 0.0), 0)
  np.testing.assert_allclose(mass, 1.0, atol=2e-6)


@pytest.mark.parametrize("dtype", DTYPES)
def test_helpers_on_soft_rounded(dtype):
  loc, scale, alpha = [0.3, -2.6], [1.7, 0.4], 4.0
  normal = base.Normal(loc, scale, dtype=dtype)
  d = ra.NoisySoftRoundedNormal(alpha, loc, scale, dtype=dtype)
  np.testing.assert_allclose(
      helpers.lower_tail(d, 1e-4),
      round_ops.soft_round(helpers.lower_tail(normal, 1e-4), alpha))
  np.testing.assert_allclose(
      helpers.upper_tail(d, 1e-4),
      round_ops.soft_round(helpers.upper_tail(normal, 1e-4), alpha))
  # As TFC: the soft-rounded decimal part of the base's mode, reduced to
  # its own decimal part.
  loc_t = tf.constant(loc, dtype)
  offset = round_ops.soft_round(loc_t - tf.round(loc_t), alpha)
  np.testing.assert_allclose(helpers.quantization_offset(d),
                             offset - tf.round(offset))
  lower = helpers.lower_tail(d, 1e-4).numpy()
  upper = helpers.upper_tail(d, 1e-4).numpy()
  assert (lower < upper).all()
  np.testing.assert_allclose(d.base.cdf(lower), 5e-5, rtol=1e-3)
  np.testing.assert_allclose(d.base.survival_function(upper), 5e-5,
                             rtol=1e-3)


# Gradients.


@pytest.mark.parametrize("cls", [ra.NoisyRoundedNormal,
                                 ra.NoisySoftRoundedNormal])
def test_gradients_wrt_parameters(cls):
  loc = tf.Variable([0.3, -1.2], dtype=tf.float64)
  scale = tf.Variable([1.5, 0.8], dtype=tf.float64)
  y = tf.constant([[0.0, -1.0], [0.4, 2.0], [-2.7, 0.2]], tf.float64)

  def loss(loc, scale):
    return tf.reduce_sum(cls(loc=loc, scale=scale).log_prob(y))

  with tf.GradientTape() as tape:
    value = loss(loc, scale)
  dloc, dscale = tape.gradient(value, [loc, scale])
  assert np.isfinite(dloc.numpy()).all() and np.isfinite(dscale.numpy()).all()
  assert (np.abs(dloc.numpy()) > 0).all() and (np.abs(dscale.numpy()) > 0).all()
  h = 1e-6
  for i in range(2):
    e = tf.one_hot(i, 2, dtype=tf.float64) * h
    fd_loc = (loss(loc + e, scale) - loss(loc - e, scale)) / (2 * h)
    fd_scale = (loss(loc, scale + e) - loss(loc, scale - e)) / (2 * h)
    np.testing.assert_allclose(dloc[i], fd_loc, rtol=1e-5)
    np.testing.assert_allclose(dscale[i], fd_scale, rtol=1e-5)


def test_gradient_wrt_alpha():
  alpha = tf.Variable(3.0, dtype=tf.float64)
  d = ra.NoisySoftRoundedNormal(alpha, loc=0.2, scale=1.3, dtype=tf.float64)
  assert any(v is alpha for v in d.trainable_variables)
  y = tf.constant([0.3, -0.8, 1.6], tf.float64)
  with tf.GradientTape() as tape:
    value = tf.reduce_sum(d.log_prob(y))
  grad = tape.gradient(value, alpha)
  h = 1e-6
  plus = ra.NoisySoftRoundedNormal(3.0 + h, 0.2, 1.3, dtype=tf.float64)
  minus = ra.NoisySoftRoundedNormal(3.0 - h, 0.2, 1.3, dtype=tf.float64)
  fd = (tf.reduce_sum(plus.log_prob(y)) - tf.reduce_sum(minus.log_prob(y)))
  np.testing.assert_allclose(grad, fd / (2 * h), rtol=1e-5)
  # Annealing: the variable is read at each use.
  alpha.assign(1e-4)
  np.testing.assert_allclose(
      d.prob(y), uniform_noise.NoisyNormal(0.2, 1.3, dtype=tf.float64).prob(y),
      rtol=1e-9)


def test_in_tf_function():
  @tf.function
  def f(loc):
    with tf.GradientTape() as tape:
      tape.watch(loc)
      value = ra.NoisySoftRoundedNormal(5.0, loc, 1.0).log_prob([0.2, 1.4])
    return value, tape.gradient(value, loc)

  value, grad = f(tf.constant(0.1))
  assert np.isfinite(value.numpy()).all() and np.isfinite(grad.numpy())


# DeepFactorized bases.


def test_noisy_rounded_deep_factorized():
  deep_factorized_or_skip()
  d = ra.NoisyRoundedDeepFactorized(batch_shape=(2,), init_scale=3.0)
  assert d.batch_shape == (2,) and d.dtype == tf.float32
  assert d.trainable_variables
  k = tf.constant(np.arange(-40, 41)[:, None], tf.float32)
  np.testing.assert_allclose(tf.reduce_sum(d.prob(k), 0), 1.0, rtol=1e-4)
  np.testing.assert_allclose(d.prob(k + 0.3), d.prob(k), rtol=1e-5)
  lower = helpers.lower_tail(d, 1e-3).numpy()
  np.testing.assert_array_equal(lower, np.floor(lower))
  np.testing.assert_array_equal(helpers.quantization_offset(d), [0.0, 0.0])
  with tf.GradientTape() as tape:
    value = tf.reduce_sum(d.log_prob(k[30:50]))
  grads = tape.gradient(value, d.trainable_variables)
  assert all(g is not None and np.isfinite(g.numpy()).all() for g in grads)


def test_noisy_soft_rounded_deep_factorized():
  deep_factorized_or_skip()
  d = ra.NoisySoftRoundedDeepFactorized(alpha=4.0, batch_shape=(3,),
                                        init_scale=3.0)
  assert d.batch_shape == (3,) and d.alpha == 4.0
  step = 2e-3
  y = tf.constant(np.arange(-30, 30, step)[:, None] + step / 2, tf.float32)
  np.testing.assert_allclose(tf.reduce_sum(d.prob(y), 0) * step, 1.0,
                             rtol=1e-3)
  # Sharing a DeepFactorized between adapters.
  shared = ra.NoisyRoundedDeepFactorized(base=d.base.base)
  assert shared.base.base is d.base.base
  lower = helpers.lower_tail(d, 1e-3)
  upper = helpers.upper_tail(d, 1e-3)
  assert (lower.numpy() < upper.numpy()).all()


if __name__ == "__main__":
  sys.exit(pytest.main([__file__, "-q", "-p", "no:cacheprovider"]))
