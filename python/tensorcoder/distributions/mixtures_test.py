"""Tests of the noisy mixtures."""

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


MIXTURES = [(tcd.NoisyNormalMixture, tcd.NoisyNormal),
            (tcd.NoisyLogisticMixture, tcd.NoisyLogistic)]


@pytest.mark.parametrize("mixture,component", MIXTURES)
def test_mixture_is_weighted_sum_and_normalized(mixture, component):
  loc = [[-3.0, 0.5, 4.0], [1.0, 1.0, 1.0]]
  scale = [[0.5, 2.0, 1.0], [0.3, 3.0, 10.0]]
  weight = [[1.0, 2.0, 1.0], [5.0, 1.0, 1.0]]  # Normalized by the model.
  d = mixture(loc, scale, weight)
  assert d.batch_shape == (2,)
  y = tf.range(-300.0, 301.0)[:, None]
  p = d.prob(y).numpy()
  np.testing.assert_allclose(p.sum(axis=0), [1.0, 1.0], rtol=1e-5)
  w = np.array(weight) / np.sum(weight, axis=-1, keepdims=True)
  loc32, scale32 = np.float32(loc), np.float32(scale)
  expected = sum(w[:, k] * component(loc32[:, k], scale32[:, k]).prob(y).numpy()
                 for k in range(3))
  np.testing.assert_allclose(p, expected, rtol=1e-5, atol=1e-12)


@pytest.mark.parametrize("mixture,component", MIXTURES)
def test_mixture_tails_offset_and_gradients(mixture, component):
  d = mixture([[-3.0, 4.0]], [[0.5, 2.0]], [[1.0, 1.0]])
  lower = tcd.lower_tail(d, 2**-8).numpy()
  upper = tcd.upper_tail(d, 2**-8).numpy()
  assert lower[0] < -3.0 and upper[0] > 4.0
  mass = d.prob(tf.range(np.floor(lower[0]), np.ceil(upper[0]) + 1)[:, None])
  assert mass.numpy().sum() > 1 - 2**-8
  np.testing.assert_array_equal(tcd.quantization_offset(d), [0.0])
  loc = tf.Variable([[-3.0, 4.0]])
  with tf.GradientTape() as tape:
    lp = tf.reduce_sum(mixture(loc, [[0.5, 2.0]], [[1.0, 1.0]]).log_prob(
        tf.constant([[-40.0], [0.0], [40.0]])))
  assert np.isfinite(lp.numpy())
  assert np.isfinite(tape.gradient(lp, loc).numpy()).all()


if __name__ == "__main__":
  sys.exit(pytest.main([__file__, "-q", "-p", "no:cacheprovider"]))
