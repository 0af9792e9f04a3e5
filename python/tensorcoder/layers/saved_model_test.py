"""Every layer in one model, exported as a SavedModel and reloaded elsewhere.

The reloading process imports TensorFlow only (not tensorcoder's Python
layers): a SavedModel must carry the computation itself.
"""

import os
import subprocess
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


def _model() -> keras.Model:
  inputs = keras.Input((16, 16, 3))
  x = layers.SignalConv2D(8, 5, corr=True, strides_down=2,
                          padding="same_reflect", use_bias=True,
                          activation=layers.GDN())(inputs)
  x = layers.SignalConv2D(6, 3, corr=True, padding="same_zeros",
                          kernel_parameter="variable",
                          activation=layers.GDN(rectify=True))(x)
  x = layers.SoftRound(alpha=3.0)(x)
  x = layers.SoftRoundConditionalMean(alpha=3.0)(x)
  x = layers.SignalConv2D(3, 5, corr=False, strides_up=2,
                          padding="same_zeros", use_bias=True,
                          activation=layers.GDN(inverse=True))(x)
  return keras.Model(inputs, x)


_RELOAD = """
import sys
import numpy as np
import tensorflow as tf
loaded = tf.saved_model.load(sys.argv[1])
x = np.load(sys.argv[2])
np.save(sys.argv[3], loaded.serve(tf.constant(x)).numpy())
assert "tensorcoder" not in sys.modules
"""


def test_all_layers_export_and_reload_in_a_fresh_process():
  model = _model()
  # Move every weight off its initial value, so the export must carry them.
  for weight in model.weights:
    weight.assign(weight + 0.01 * tf.cast(
        tf.random.stateless_normal(weight.shape, (1, 2)), weight.dtype))
  x = np.random.default_rng(0).normal(size=(2, 16, 16, 3)).astype(np.float32)
  expected = model(x).numpy()
  assert np.all(np.isfinite(expected))
  with tempfile.TemporaryDirectory() as directory:
    path = os.path.join(directory, "saved")
    model.export(path, verbose=False)
    np.save(os.path.join(directory, "x.npy"), x)
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)  # TensorFlow only, not tensorcoder.
    subprocess.run(
        [sys.executable, "-c", _RELOAD, path,
         os.path.join(directory, "x.npy"), os.path.join(directory, "y.npy")],
        check=True, env=env)
    reloaded = np.load(os.path.join(directory, "y.npy"))
  np.testing.assert_allclose(reloaded, expected, rtol=1e-5, atol=1e-6)


def test_tf_saved_model_save_keeps_variables():
  model = _model()
  x = np.random.default_rng(1).normal(size=(1, 16, 16, 3)).astype(np.float32)
  expected = model(x).numpy()
  module = tf.Module()
  module.model = model
  module.run = tf.function(
      lambda t: model(t),  # pylint: disable=unnecessary-lambda
      input_signature=[tf.TensorSpec([None, 16, 16, 3], tf.float32)])
  with tempfile.TemporaryDirectory() as directory:
    tf.saved_model.save(module, directory)
    loaded = tf.saved_model.load(directory)
  # The reloaded function reads its own copies of the variables.
  for weight in model.weights:
    weight.assign(tf.zeros_like(weight))
  np.testing.assert_allclose(loaded.run(x).numpy(), expected,
                             rtol=1e-5, atol=1e-6)


if __name__ == "__main__":
  import pytest  # pylint: disable=g-import-not-at-top
  sys.exit(pytest.main([__file__, "-q", "-p", "no:cacheprovider"]))
