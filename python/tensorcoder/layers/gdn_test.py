"""Tests of GDN/IGDN and their parameterisation."""

import os
import sys
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # pylint: disable=g-import-not-at-top
import numpy as np  # pylint: disable=g-import-not-at-top
import pytest  # pylint: disable=g-import-not-at-top
import tensorflow as tf  # pylint: disable=g-import-not-at-top

from tensorcoder import layers  # pylint: disable=g-import-not-at-top


@pytest.fixture(autouse=True)
def _seed_everything():
  """Every test starts from the same seeds (Python, NumPy, TF, Keras)."""
  keras.utils.set_random_seed(20261201)


def test_gdn_matches_formula_and_inverse_inverts_at_init():
  x = np.random.default_rng(0).normal(0, 2, (2, 3, 4, 5)).astype(np.float32)
  gdn, igdn = layers.GDN(), layers.GDN(inverse=True)
  y = gdn(x).numpy()
  np.testing.assert_allclose(y, x / np.sqrt(1 + 0.1 * x**2), rtol=1e-5)
  # With diagonal gamma the two are exact inverses on each channel's value
  # only approximately; check the defining formula for IGDN instead.
  np.testing.assert_allclose(igdn(x), x * np.sqrt(1 + 0.1 * x**2), rtol=1e-5)
  rectified = layers.GDN(rectify=True)(x).numpy()
  assert np.all(rectified >= 0)


def test_parameters_stay_above_their_bounds_under_training():
  gdn = layers.GDN(beta_min=1e-3)
  x = tf.random.normal([4, 6, 6, 3])
  gdn(x)
  optimizer = keras.optimizers.SGD(10.0)
  for _ in range(5):
    with tf.GradientTape() as tape:
      loss = tf.reduce_sum(gdn(x))  # Pushes beta down hard.
    optimizer.apply_gradients(zip(tape.gradient(loss, gdn.trainable_weights),
                                  gdn.trainable_weights))
  assert np.all(gdn.beta.value().numpy() >= 1e-3 - 1e-9)
  assert np.all(gdn.gamma.value().numpy() >= -1e-9)


def test_serialization_round_trip():
  model = keras.Sequential([keras.Input((8, 8, 3)),
                            layers.GDN(inverse=True, rectify=False)])
  x = np.random.default_rng(1).normal(size=(1, 8, 8, 3)).astype(np.float32)
  with tempfile.TemporaryDirectory() as directory:
    path = os.path.join(directory, "gdn.keras")
    model.save(path)
    clone = keras.models.load_model(path)
  np.testing.assert_allclose(clone(x), model(x), rtol=1e-6)
  with pytest.raises(ValueError):
    layers.GDN(beta_min=0.0)


if __name__ == "__main__":
  sys.exit(pytest.main([__file__, "-q"]))
