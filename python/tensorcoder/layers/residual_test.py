"""Tests of ResidualBlock."""

import os
import sys
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # pylint: disable=g-import-not-at-top
import numpy as np  # pylint: disable=g-import-not-at-top
import pytest  # pylint: disable=g-import-not-at-top

from tensorcoder import layers  # pylint: disable=g-import-not-at-top


@pytest.fixture(autouse=True)
def _seed_everything():
  """Every test starts from the same seeds (Python, NumPy, TF, Keras)."""
  keras.utils.set_random_seed(20261207)


X = np.random.default_rng(0).normal(0, 2, (2, 9, 11, 6)).astype(np.float32)


def _trained(block):
  """``block`` with a random, non-zero second convolution (as after
  training)."""
  block.build(X.shape)
  rng = np.random.default_rng(1)
  block.conv_b.kernel.assign(
      rng.normal(0, 0.2, block.conv_b.kernel.shape).astype(np.float32))
  block.conv_b.bias.assign(
      rng.normal(0, 0.2, block.conv_b.bias.shape).astype(np.float32))
  return block


def test_starts_as_the_identity():
  block = layers.ResidualBlock(6)
  np.testing.assert_array_equal(block(X), X)
  # Both convolutions are trainable, and the first is not zero.
  assert len(block.trainable_weights) == 4
  assert np.abs(block.conv_a.kernel.numpy()).max() > 0


def test_computes_the_residual_form():
  block = _trained(layers.ResidualBlock(6))
  expected = X + block.conv_b(np.maximum(block.conv_a(X), 0))
  np.testing.assert_allclose(block(X), expected, rtol=1e-6, atol=1e-6)
  assert np.abs(np.asarray(block(X)) - X).max() > 0.1


def test_reach():
  # An output depends on the inputs within `reach` positions, not beyond.
  block = _trained(layers.ResidualBlock(6))
  before = np.asarray(block(X))
  for distance, changes in ((layers.ResidualBlock.reach, True),
                            (layers.ResidualBlock.reach + 1, False)):
    moved = X.copy()
    moved[:, 4, 5 + distance] += 10
    after = np.asarray(block(moved))
    assert (not np.array_equal(after[:, 4, 5], before[:, 4, 5])) == changes


def test_saves_and_loads():
  block = _trained(layers.ResidualBlock(6))
  model = keras.Sequential([keras.Input((9, 11, 6)), block])
  with tempfile.TemporaryDirectory() as folder:
    path = os.path.join(folder, "block.keras")
    model.save(path)
    loaded = keras.saving.load_model(path)
  np.testing.assert_array_equal(loaded(X), model(X))


def test_refuses_bad_settings():
  with pytest.raises(ValueError, match="filters must be positive"):
    layers.ResidualBlock(0)
  with pytest.raises(ValueError, match="6 channels got inputs"):
    layers.ResidualBlock(6)(np.zeros((1, 4, 4, 5), np.float32))


def test_mixed_precision():
  block = layers.ResidualBlock(6, dtype="mixed_bfloat16")
  outputs = block(X)
  assert block.conv_a.compute_dtype == "bfloat16"
  assert block.conv_b.kernel.dtype == "float32"
  assert keras.backend.standardize_dtype(outputs.dtype) == "bfloat16"
  # The identity, up to bfloat16's rounding of the inputs.
  np.testing.assert_allclose(np.asarray(outputs, np.float32), X, rtol=1e-2)


if __name__ == "__main__":
  sys.exit(pytest.main([__file__, "-q"]))
