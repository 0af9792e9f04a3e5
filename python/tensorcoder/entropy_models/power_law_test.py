"""Tests of PowerLawEntropyModel."""

import os
import subprocess
import sys
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # pylint: disable=g-import-not-at-top
import keras  # pylint: disable=g-import-not-at-top
import pytest  # pylint: disable=g-import-not-at-top
import tensorflow as tf  # pylint: disable=g-import-not-at-top

from tensorcoder.entropy_models import PowerLawEntropyModel  # pylint: disable=g-import-not-at-top


@pytest.fixture(autouse=True)
def _seed_everything():
  """Every test starts from the same seeds (Python, NumPy, TF, Keras)."""
  keras.utils.set_random_seed(20261201)


def test_penalty_values_and_shape():
  model = PowerLawEntropyModel(coding_rank=2, alpha=0.5)
  x = tf.constant([[[0.0, 1.0], [-2.0, 0.5]]] * 3)
  penalty = model.penalty(x)
  assert penalty.shape == (3,)
  expected = sum(np.log((abs(v) + 0.5) / 0.5) for v in (0.0, 1.0, -2.0, 0.5))
  np.testing.assert_allclose(penalty, [expected] * 3, rtol=1e-6)


def test_call_quantizes_straight_through_and_penalizes_continuous_values():
  model = PowerLawEntropyModel(coding_rank=1)
  x = tf.Variable([0.4, -1.6, 2.5, 3.49])
  with tf.GradientTape() as tape:
    quantized, penalty = model(x)
    loss = tf.reduce_sum(quantized * [1.0, 2.0, 3.0, 4.0]) + penalty
  np.testing.assert_array_equal(quantized, [0.0, -2.0, 2.0, 3.0])
  grad = tape.gradient(loss, x).numpy()
  alpha = 0.01
  penalty_grad = np.sign(x.numpy()) / (np.abs(x.numpy()) + alpha)
  np.testing.assert_allclose(grad, [1.0, 2.0, 3.0, 4.0] + penalty_grad,
                             rtol=1e-5)


@pytest.mark.parametrize("coding_rank", [1, 2, 3])
@pytest.mark.parametrize("dtype", [tf.float32, tf.bfloat16, tf.float64])
def test_compress_decompress_round_trip(coding_rank, dtype):
  rng = np.random.default_rng(coding_rank)
  x = rng.laplace(0, 2, (2, 3, 4, 5)) * (rng.random((2, 3, 4, 5)) < 0.3)
  x[0, 0, 0, 0] = 1e6  # Large values code fine.
  model = PowerLawEntropyModel(coding_rank=coding_rank, bottleneck_dtype=dtype)
  x = tf.constant(x, dtype)
  strings = model.compress(x)
  assert strings.shape == x.shape[:4 - coding_rank]
  decoded = model.decompress(strings, x.shape[4 - coding_rank:])
  assert decoded.dtype == dtype
  np.testing.assert_array_equal(decoded, model.quantize(x))
  # The code is short for sparse data: far fewer bits than 32 per value.
  bits = sum(len(s) for s in strings.numpy().ravel()) * 8
  assert bits < 8 * x.shape.num_elements()


def test_compress_in_tf_function_and_errors():
  model = PowerLawEntropyModel(coding_rank=1)

  @tf.function(input_signature=[tf.TensorSpec([None, 6], tf.float32)])
  def compress(x):
    return model.compress(x)

  strings = compress(tf.constant([[0.0, 0, 3, -1, 0, 0]] * 2))
  assert strings.shape == (2,)
  assert strings.numpy()[0] == strings.numpy()[1]
  with pytest.raises(tf.errors.InvalidArgumentError, match="int32"):
    model.compress(tf.constant([[3e9]]))
  with pytest.raises(tf.errors.DataLossError):
    model.decompress(tf.constant([b"\x00" * 8]), [6])
  with pytest.raises(ValueError, match="coding_rank"):
    model.penalty(tf.constant(1.0))
  with pytest.raises(ValueError, match="alpha"):
    PowerLawEntropyModel(coding_rank=1, alpha=0)


def test_config_round_trip():
  model = PowerLawEntropyModel(coding_rank=2, alpha=0.2,
                               bottleneck_dtype="float64")
  clone = PowerLawEntropyModel.from_config(model.get_config())
  assert clone.get_config() == model.get_config()


_RELOAD = """
import os, sys
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
import tensorflow as tf
import tensorcoder.ops
loaded = tf.saved_model.load(sys.argv[1])
x = tf.constant([[0.0, 0.0, 3.0, -1.0, 0.0, 0.0]])
print(loaded.compress(x).numpy()[0].hex())
"""


def test_saved_model_compresses_identically_in_fresh_process():
  model = PowerLawEntropyModel(coding_rank=1)
  model.compress_fn = tf.function(
      model.compress, input_signature=[tf.TensorSpec([None, 6], tf.float32)])
  x = tf.constant([[0.0, 0.0, 3.0, -1.0, 0.0, 0.0]])
  expected = model.compress(x).numpy()[0].hex()
  with tempfile.TemporaryDirectory() as path:
    tf.saved_model.save(model, path,
                        signatures={"compress": model.compress_fn})
    script = _RELOAD.replace("loaded.compress(x)",
                             "loaded.compress_fn(x)")
    result = subprocess.run(
        [sys.executable, "-c", script, path], check=True, capture_output=True,
        text=True, env=dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path)))
  assert result.stdout.strip().splitlines()[-1] == expected


if __name__ == "__main__":
  sys.exit(pytest.main([__file__, "-q", "-p", "no:cacheprovider"]))
