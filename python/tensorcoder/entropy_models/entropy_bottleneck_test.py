"""Tests of the EntropyBottleneck Keras layer."""

import os
import sys
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # pylint: disable=g-import-not-at-top
import numpy as np  # pylint: disable=g-import-not-at-top
import pytest  # pylint: disable=g-import-not-at-top
import tensorflow as tf  # pylint: disable=g-import-not-at-top

from tensorcoder.entropy_models import EntropyBottleneck  # pylint: disable=g-import-not-at-top


@pytest.fixture(autouse=True)
def _seed_everything():
  """Every test starts from the same seeds (Python, NumPy, TF, Keras)."""
  keras.utils.set_random_seed(20261201)


def test_training_and_inference_outputs():
  layer = EntropyBottleneck()
  x = tf.constant(np.random.default_rng(0).normal(0, 3, (2, 5, 5, 4)),
                  tf.float32)
  noisy, likelihood = layer(x, training=True)
  assert np.all(np.abs(noisy - x) <= 0.5)
  assert np.all((likelihood > 0) & (likelihood <= 1))
  quantized, _ = layer(x, training=False)
  fraction = (quantized - layer.medians).numpy()
  np.testing.assert_allclose(fraction, np.round(fraction), atol=1e-4)
  assert len(layer.losses) >= 1  # The auxiliary loss.


def test_round_trip_channels_first_and_last():
  x = np.random.default_rng(1).normal(0, 4, (3, 6, 7, 5)).astype(np.float32)
  x[0, 0, 0, 0] = 3000.0  # Overflow escape.
  for data_format, data in (("channels_last", x),
                            ("channels_first", x.transpose(0, 3, 1, 2))):
    layer = EntropyBottleneck(data_format=data_format)
    layer(data, training=False)
    strings = layer.compress(data)
    assert strings.shape == (3,)
    decoded = layer.decompress(strings, [6, 7], channels=5)
    np.testing.assert_allclose(decoded, layer.quantize(data), atol=1e-4)


class BottleneckCodec(keras.Model):

  def __init__(self, **kwargs):
    super().__init__(**kwargs)
    self.bottleneck = EntropyBottleneck()

  def call(self, x, training=False):
    return self.bottleneck(x, training=training)

  def train_step(self, data):
    with tf.GradientTape() as tape:
      _, likelihood = self(data, training=True)
      rate = tf.reduce_mean(-tf.math.log(likelihood)) / np.log(2)
      loss = rate + tf.add_n(self.bottleneck.losses)
    variables = self.trainable_variables
    self.optimizer.apply_gradients(zip(tape.gradient(loss, variables),
                                       variables))
    return {"rate": rate}


def test_fit_trains_rate_and_quantiles_then_saves():
  data = np.random.default_rng(2).laplace(0, 2, (64, 4, 4, 3)).astype(
      np.float32)
  model = BottleneckCodec()
  model.compile(optimizer=keras.optimizers.Adam(0.01))
  model(data[:1])
  history = model.fit(data, epochs=30, batch_size=16, verbose=0)
  rates = history.history["rate"]
  assert rates[-1] < rates[0] - 0.5
  layer = model.bottleneck
  # The tail quantiles moved from their initial +-10 towards the data's:
  # Laplace(0, 2) puts 2^-9 of its mass beyond +-2 ln(256) = +-11.09.
  quantiles = layer.quantiles.numpy()
  np.testing.assert_allclose(quantiles[:, 2], 11.09, atol=1.5)
  np.testing.assert_allclose(quantiles[:, 0], -11.09, atol=1.5)
  layer.update_tables()
  strings = layer.compress(data[:4])
  with tempfile.TemporaryDirectory() as directory:
    path = os.path.join(directory, "layer.keras")
    holder = keras.Sequential([keras.Input((4, 4, 3)), layer])
    holder.save(path)
    reloaded = keras.models.load_model(path).layers[0]
  assert reloaded.get_config()["table_shapes"] == layer.get_config()[
      "table_shapes"]
  np.testing.assert_array_equal(reloaded.compress(data[:4]), strings)
  np.testing.assert_allclose(reloaded.decompress(strings, [4, 4]),
                             layer.quantize(data[:4]), atol=1e-4)


def test_errors():
  layer = EntropyBottleneck()
  layer(tf.zeros([1, 2, 2, 3]), training=False)
  with pytest.raises(ValueError, match="channels"):
    layer.compress(tf.zeros([1, 2, 2, 4]))
  data = np.random.default_rng(3).normal(0, 5, (1, 8, 8, 3))
  strings = layer.compress(data.astype(np.float32))
  assert len(strings.numpy()[0]) > 20
  # Range-coded strings carry no redundancy: a truncated one is either
  # rejected or decodes to other values (containers add lengths/checksums).
  try:
    decoded = layer.decompress(tf.strings.substr(strings, 0, 10), [8, 8])
    assert not np.allclose(decoded, layer.quantize(data))
  except tf.errors.InvalidArgumentError as error:
    assert "corrupt" in str(error)
  with pytest.raises(ValueError, match="data_format"):
    EntropyBottleneck(data_format="nhwc")


if __name__ == "__main__":
  sys.exit(pytest.main([__file__, "-q"]))
