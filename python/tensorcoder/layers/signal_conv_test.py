"""Tests of SignalConv2D and RDFTParameter."""

import os
import sys
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # pylint: disable=g-import-not-at-top
import numpy as np  # pylint: disable=g-import-not-at-top
import pytest  # pylint: disable=g-import-not-at-top
import tensorflow as tf  # pylint: disable=g-import-not-at-top

from tensorcoder import layers  # pylint: disable=g-import-not-at-top
from tensorcoder.layers import parameters  # pylint: disable=g-import-not-at-top


@pytest.fixture(autouse=True)
def _seed_everything():
  """Every test starts from the same seeds (Python, NumPy, TF, Keras)."""
  keras.utils.set_random_seed(20261201)


def test_real_dft_basis_is_orthonormal():
  for size in (1, 2, 3, 5, 8):
    basis = parameters.real_dft_basis(size)
    np.testing.assert_allclose(basis @ basis.T, np.eye(size), atol=1e-12)


def test_rdft_parameter_preserves_initial_kernel():
  init = keras.initializers.RandomNormal(seed=3)
  p = parameters.RDFTParameter((5, 5, 2, 4), initializer=init)
  np.testing.assert_allclose(p.value(), init((5, 5, 2, 4)), atol=1e-5)


@pytest.mark.parametrize("padding", ["same_zeros", "same_reflect", "valid"])
def test_output_sizes(padding):
  x = tf.random.normal([1, 17, 31, 3])
  down = layers.SignalConv2D(8, 5, corr=True, strides_down=2,
                             padding=padding)
  y = down(x)
  if padding == "valid":
    assert y.shape == (1, 7, 14, 8)
  else:
    assert y.shape == (1, 9, 16, 8)
  if padding != "same_reflect":
    up = layers.SignalConv2D(3, 5, strides_up=2, padding=padding)
    z = up(y)
    expected = (18, 32) if padding == "same_zeros" else (17, 31)
    assert z.shape[1:3] == expected


def test_matches_plain_correlation_and_convolution():
  x = np.random.default_rng(0).normal(size=(1, 9, 9, 2)).astype(np.float32)
  corr = layers.SignalConv2D(3, 3, corr=True, padding="valid",
                             kernel_parameter="variable", use_bias=True,
                             bias_initializer="ones")
  y = corr(x).numpy()
  kernel = corr.kernel.numpy()
  reference = tf.nn.conv2d(x, kernel, 1, "VALID").numpy() + 1
  np.testing.assert_allclose(y, reference, rtol=1e-5, atol=1e-5)
  conv = layers.SignalConv2D(3, 3, corr=False, padding="valid",
                             kernel_parameter="variable")
  y = conv(x).numpy()
  stored = conv._kernel.numpy()  # pylint: disable=protected-access
  reference = tf.nn.conv2d(x, stored[::-1, ::-1], 1, "VALID").numpy()
  np.testing.assert_allclose(y, reference, rtol=1e-5, atol=1e-5)


def test_serialization_with_gdn_activation():
  model = keras.Sequential([
      keras.Input((16, 16, 3)),
      layers.SignalConv2D(4, 5, corr=True, strides_down=2,
                          padding="same_reflect", use_bias=True,
                          activation=layers.GDN())])
  x = np.random.default_rng(1).normal(size=(2, 16, 16, 3)).astype(np.float32)
  with tempfile.TemporaryDirectory() as directory:
    path = os.path.join(directory, "conv.keras")
    model.save(path)
    clone = keras.models.load_model(path)
  np.testing.assert_allclose(clone(x), model(x), rtol=1e-5)


def test_errors():
  with pytest.raises(ValueError, match="padding"):
    layers.SignalConv2D(3, 3, padding="same")
  with pytest.raises(ValueError, match="both"):
    layers.SignalConv2D(3, 3, strides_down=2, strides_up=2)
  with pytest.raises(ValueError, match="inputs"):
    layers.SignalConv2D(3, 3)(tf.zeros([4, 4, 3]))


if __name__ == "__main__":
  sys.exit(pytest.main([__file__, "-q"]))
