"""Tests of the TFP-free distributions and the tail helpers."""

import math
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # pylint: disable=g-import-not-at-top
import keras  # pylint: disable=g-import-not-at-top
import pytest  # pylint: disable=g-import-not-at-top
import tensorflow as tf  # pylint: disable=g-import-not-at-top

from tensorcoder import distributions as tcd  # pylint: disable=g-import-not-at-top


@pytest.fixture(autouse=True)
def _seed_everything():
  """Every test starts from the same seeds (Python, NumPy, TF, Keras)."""
  keras.utils.set_random_seed(20261201)


BASES = [tcd.Normal, tcd.Logistic, tcd.Laplace]
NOISY = [tcd.NoisyNormal, tcd.NoisyLogistic, tcd.NoisyLaplace]


def reference_cdf(cls, x, loc, scale):
  z = (x - loc) / scale
  if cls is tcd.Normal:
    return 0.5 * math.erfc(-z / math.sqrt(2))
  if cls is tcd.Logistic:
    return 1 / (1 + math.exp(-z))
  return 0.5 * math.exp(z) if z < 0 else 1 - 0.5 * math.exp(-z)


@pytest.mark.parametrize("cls", BASES)
@pytest.mark.parametrize("dtype", [tf.float32, tf.float64])
def test_base_consistency(cls, dtype):
  d = cls(loc=[0.5, -1.0], scale=[2.0, 0.3], dtype=dtype)
  assert d.batch_shape == (2,) and d.dtype == dtype
  x = tf.constant(np.linspace(-6, 6, 49)[:, None], dtype)
  cdf, sf = d.cdf(x).numpy(), d.survival_function(x).numpy()
  np.testing.assert_allclose(cdf + sf, 1.0, rtol=1e-5)
  assert (np.diff(cdf, axis=0) >= 0).all()
  for (i, j), value in np.ndenumerate(cdf):
    ref = reference_cdf(cls, float(x[i, 0]), [0.5, -1.0][j], [2.0, 0.3][j])
    np.testing.assert_allclose(value, ref, rtol=2e-5, atol=1e-7)
  # The density integrates to one and is the CDF's derivative.
  grid = tf.constant(np.linspace(-40, 40, 80001)[:, None], dtype)
  mass = np.trapezoid(d.prob(grid).numpy(), grid.numpy()[:, 0], axis=0)
  np.testing.assert_allclose(mass, 1.0, rtol=1e-3)
  p = tf.constant([[0.01], [0.3], [0.5], [0.97]], dtype)
  np.testing.assert_allclose(d.cdf(d.quantile(p)), np.broadcast_to(p, (4, 2)),
                             rtol=1e-4)


@pytest.mark.parametrize("cls", BASES)
def test_log_tails_are_finite(cls):
  d = cls(0.0, 1.0)
  x = tf.constant([-60.0, -40.0, -20.0, 20.0, 40.0, 60.0])
  for fn in (d.log_cdf, d.log_survival_function, d.log_prob):
    values = fn(x).numpy()
    assert np.isfinite(values).all(), (fn, values)
  if cls is tcd.Normal:
    # log Phi(-40) = -800 - log(40 sqrt(2 pi)) + log(1 - 1/1600 + ...)
    expected = -800 - math.log(40) - 0.5 * math.log(2 * math.pi) + math.log(
        1 - 1 / 1600 + 3 / 1600**2)
    np.testing.assert_allclose(d.log_cdf(-40.0), expected, rtol=1e-5)
    with tf.GradientTape() as tape:
      y = tf.constant([-60.0, -5.0, 0.0, 9.0])
      tape.watch(y)
      value = tf.reduce_sum(d.log_cdf(y))
    assert np.isfinite(tape.gradient(value, y)).all()


@pytest.mark.parametrize("cls", NOISY)
def test_noisy_mass_sums_to_one_and_matches_bin_masses(cls):
  d = cls(loc=0.3, scale=2.5)
  y = tf.range(-200.0, 201.0)
  p = d.prob(y).numpy()
  np.testing.assert_allclose(p.sum(), 1.0, rtol=1e-5)
  # Bin masses in float64, as differences of survival functions above the
  # location (where CDF differences would cancel).
  base = cls(loc=0.3, scale=2.5, dtype=tf.float64).base
  y64 = tf.cast(y, tf.float64)
  bins = tf.where(y64 >= 0.3,
                  base.survival_function(y64 - 0.5) -
                  base.survival_function(y64 + 0.5),
                  base.cdf(y64 + 0.5) - base.cdf(y64 - 0.5)).numpy()
  central = bins > 1e-12
  np.testing.assert_allclose(p[central], bins[central], rtol=1e-4)


@pytest.mark.parametrize("cls", NOISY)
def test_noisy_log_prob_far_tails_and_gradients(cls):
  d = cls(loc=0.0, scale=1.0)
  y = tf.Variable([-40.0, -7.0, 0.0, 3.0, 40.0])
  with tf.GradientTape() as tape:
    lp = d.log_prob(y)
    total = tf.reduce_sum(lp)
  assert np.isfinite(lp.numpy()).all(), lp
  assert np.isfinite(tape.gradient(total, y).numpy()).all()
  assert lp.numpy()[0] == pytest.approx(lp.numpy()[-1], rel=1e-5)


def test_noisy_normal_uses_fused_op_and_matches_generic_path():
  fused = tcd.NoisyNormal(0.2, 1.5, dtype=tf.float64)
  generic = tcd.UniformNoiseAdapter(tcd.Normal(0.2, 1.5, dtype=tf.float64))
  y = tf.constant(np.linspace(-30, 30, 121), tf.float64)
  np.testing.assert_allclose(fused.log_prob(y), generic.log_prob(y),
                             rtol=1e-6)


@pytest.mark.parametrize("cls", BASES + NOISY)
def test_tail_helpers(cls):
  d = cls(loc=[0.3, -3.75], scale=[1.0, 5.0])
  base = d.base if hasattr(d, "base") else d
  lower = tcd.lower_tail(d, 2**-8)
  upper = tcd.upper_tail(d, 2**-8)
  np.testing.assert_allclose(base.cdf(lower), 2**-9, rtol=1e-3)
  np.testing.assert_allclose(base.survival_function(upper), 2**-9, rtol=1e-3)
  # TFC's offset: the decimal part mode - round(mode) of the mode.
  np.testing.assert_allclose(tcd.quantization_offset(d), [0.3, 0.25],
                             rtol=1e-6)


def test_helpers_accept_any_object_with_the_interface():

  class Uniform01:
    dtype = tf.float32

    def quantile(self, p):
      return tf.convert_to_tensor(p, tf.float32)

    def batch_shape_tensor(self):
      return tf.constant([], tf.int32)

  d = Uniform01()
  assert float(tcd.lower_tail(d, 0.1)) == pytest.approx(0.05)
  assert float(tcd.upper_tail(d, 0.1)) == pytest.approx(0.95)
  assert float(tcd.quantization_offset(d)) == pytest.approx(0.5)


def test_tfp_distributions_work_with_helpers():
  tfp = pytest.importorskip("tensorflow_probability")
  d = tfp.distributions.Normal(0.0, 2.0)
  np.testing.assert_allclose(tcd.upper_tail(d, 2**-8),
                             tcd.upper_tail(tcd.Normal(0.0, 2.0), 2**-8),
                             rtol=1e-4)


def test_tf_function():
  d = tcd.NoisyLogistic(0.0, [1.0, 3.0])

  @tf.function(input_signature=[tf.TensorSpec([None, 2], tf.float32)])
  def f(y):
    return d.log_prob(y)

  assert f(tf.zeros([4, 2])).shape == (4, 2)


if __name__ == "__main__":
  sys.exit(pytest.main([__file__, "-q", "-p", "no:cacheprovider"]))
