"""Tests of the soft rounding Keras layers."""

import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # pylint: disable=g-import-not-at-top
import numpy as np  # pylint: disable=g-import-not-at-top
import pytest  # pylint: disable=g-import-not-at-top
import tensorflow as tf  # pylint: disable=g-import-not-at-top

from tensorcoder.layers import soft_round  # pylint: disable=g-import-not-at-top
from tensorcoder.ops import round_ops  # pylint: disable=g-import-not-at-top


@pytest.fixture(autouse=True)
def _seed_everything():
  """Every test starts from the same seeds (Python, NumPy, TF, Keras)."""
  keras.utils.set_random_seed(20261201)


X = np.linspace(-3, 3, 61, dtype=np.float32).reshape(1, 61) + 0.013


@pytest.mark.parametrize("alpha", [0.0, 1.0, 5.0, 20.0])
def test_values_match_ops(alpha):
  np.testing.assert_array_equal(
      soft_round.SoftRound(alpha)(X), round_ops.soft_round(X, alpha))
  np.testing.assert_array_equal(
      soft_round.SoftRound(alpha, inverse=True)(X),
      round_ops.soft_round_inverse(X, alpha))
  np.testing.assert_array_equal(
      soft_round.SoftRoundConditionalMean(alpha)(X),
      round_ops.soft_round_conditional_mean(X, alpha))


def test_eps_and_inverse_pair():
  # Below eps: the identity.
  np.testing.assert_array_equal(soft_round.SoftRound(0.05, eps=0.1)(X), X)
  forward = soft_round.SoftRound(3.0)
  backward = soft_round.SoftRound(3.0, inverse=True)
  np.testing.assert_allclose(backward(forward(X)), X, atol=1e-5)


def test_gradient_and_annealing():
  layer = soft_round.SoftRound(5.0)
  x = tf.constant(X)
  with tf.GradientTape() as tape:
    tape.watch(x)
    y = layer(x)
  assert np.isfinite(tape.gradient(y, x).numpy()).all()
  layer.alpha = 0.0  # Anneal to the identity.
  np.testing.assert_array_equal(layer(x), x)


@pytest.mark.parametrize("layer", [
    soft_round.SoftRound(alpha=2.5, eps=1e-2, inverse=True, name="sr"),
    soft_round.SoftRoundConditionalMean(alpha=7.0, name="srcm"),
])
def test_config_round_trip(layer):
  config = layer.get_config()
  clone = type(layer).from_config(config)
  assert clone.get_config() == config
  assert clone.name == layer.name
  np.testing.assert_array_equal(clone(X), layer(X))
  # Also through Keras' generic (de)serialization, by registered name.
  restored = keras.saving.deserialize_keras_object(
      keras.saving.serialize_keras_object(layer))
  assert type(restored) is type(layer)
  assert restored.get_config() == config


def test_defaults():
  config = soft_round.SoftRound().get_config()
  assert (config["alpha"], config["eps"], config["inverse"]) == (5.0, 1e-3,
                                                                 False)
  assert soft_round.SoftRoundConditionalMean().get_config()["alpha"] == 5.0


def test_model_saves_and_reloads(tmp_path):
  inputs = keras.Input(shape=(61,))
  hidden = keras.layers.Dense(61)(inputs)
  rounded = soft_round.SoftRound(alpha=4.0)(hidden)
  outputs = soft_round.SoftRoundConditionalMean(alpha=4.0)(rounded)
  outputs = soft_round.SoftRound(alpha=2.0, inverse=True)(outputs)
  model = keras.Model(inputs, outputs)
  expected = model(X)
  path = os.path.join(tmp_path, "model.keras")
  model.save(path)
  reloaded = keras.models.load_model(path)
  np.testing.assert_array_equal(reloaded(X), expected)
  layers = [l for l in reloaded.layers
            if isinstance(l, (soft_round.SoftRound,
                              soft_round.SoftRoundConditionalMean))]
  assert [type(l).__name__ for l in layers] == [
      "SoftRound", "SoftRoundConditionalMean", "SoftRound"]
  assert layers[2].inverse and layers[0].alpha == 4.0


def test_in_compiled_model_training():
  model = keras.Sequential([
      keras.Input(shape=(4,)),
      keras.layers.Dense(4),
      soft_round.SoftRound(alpha=3.0),
  ])
  model.compile(optimizer="sgd", loss="mse")
  x = np.random.default_rng(0).normal(size=(32, 4)).astype(np.float32)
  history = model.fit(x, x, epochs=2, verbose=0)
  assert np.isfinite(history.history["loss"]).all()
  assert model.compute_output_shape((None, 4)) == (None, 4)


if __name__ == "__main__":
  sys.exit(pytest.main([__file__, "-q", "-p", "no:cacheprovider"]))
