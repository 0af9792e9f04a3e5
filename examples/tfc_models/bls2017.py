"""TFC's factorized-prior image model (models/bls2017.py), on Keras 3.

The model of Ballé, Laparra and Simoncelli, "End-to-end optimized image
compression", ICLR 2017 (https://arxiv.org/abs/1611.01704): a GDN analysis
transform, a factorized ``NoisyDeepFactorized`` prior per channel, and the
mirrored synthesis transform, trained on rate + lambda * MSE.

This is TFC's example script as a TFC user ports it: ``tfc`` is tensorcoder,
and only what Keras 3 forces has changed (marked ``Keras 3:``, listed in
MIGRATING.md): metrics created in ``__init__`` and not named ``self.loss``,
a ``training=False`` default in ``call``, and ``tf.saved_model.save/load``
instead of ``model.save``/``load_model``. The training loop, data pipeline
and command line that the TFC scripts repeat are in ``common.py``. Training
data is a glob of PNG files (TFC's other choice, TF Datasets' CLIC, is not
installed here).

  python bls2017.py [--model_path DIR] train --train_glob 'dir/*.png'
  python bls2017.py [--model_path DIR] compress image.png image.tfci
  python bls2017.py [--model_path DIR] decompress image.tfci image.png
"""

from __future__ import annotations

import sys

import keras
import tensorflow as tf

import tensorcoder as tfc

import common  # pylint: disable=g-bad-import-order


class AnalysisTransform(keras.Sequential):
  """Image to latents: three strided convolutions, GDN between them."""

  def __init__(self, num_filters: int):
    super().__init__(name="analysis")
    self.add(keras.layers.Lambda(lambda x: x / 255.))
    self.add(tfc.SignalConv2D(
        num_filters, (9, 9), name="layer_0", corr=True, strides_down=4,
        padding="same_zeros", use_bias=True,
        activation=tfc.GDN(name="gdn_0")))
    self.add(tfc.SignalConv2D(
        num_filters, (5, 5), name="layer_1", corr=True, strides_down=2,
        padding="same_zeros", use_bias=True,
        activation=tfc.GDN(name="gdn_1")))
    self.add(tfc.SignalConv2D(
        num_filters, (5, 5), name="layer_2", corr=True, strides_down=2,
        padding="same_zeros", use_bias=False, activation=None))


class SynthesisTransform(keras.Sequential):
  """Latents to image: the transposed convolutions, inverse GDN between."""

  def __init__(self, num_filters: int):
    super().__init__(name="synthesis")
    self.add(tfc.SignalConv2D(
        num_filters, (5, 5), name="layer_0", corr=False, strides_up=2,
        padding="same_zeros", use_bias=True,
        activation=tfc.GDN(name="igdn_0", inverse=True)))
    self.add(tfc.SignalConv2D(
        num_filters, (5, 5), name="layer_1", corr=False, strides_up=2,
        padding="same_zeros", use_bias=True,
        activation=tfc.GDN(name="igdn_1", inverse=True)))
    self.add(tfc.SignalConv2D(
        3, (9, 9), name="layer_2", corr=False, strides_up=4,
        padding="same_zeros", use_bias=True, activation=None))
    self.add(keras.layers.Lambda(lambda x: x * 255.))


class BLS2017Model(common.RateDistortionModel):
  """The factorized-prior model: transforms, prior, rate-distortion loss."""

  def __init__(self, lmbda: float, num_filters: int):
    super().__init__(lmbda)
    self.analysis_transform = AnalysisTransform(num_filters)
    self.synthesis_transform = SynthesisTransform(num_filters)
    self.prior = tfc.NoisyDeepFactorized(batch_shape=(num_filters,))
    self.build((None, None, None, 3))

  def call(self, x, training=False):  # Keras 3: `training` needs a default.
    """Rate-distortion loss, bits per pixel and MSE of a batch."""
    entropy_model = tfc.ContinuousBatchedEntropyModel(
        self.prior, coding_rank=3, compression=False)
    x = tf.cast(x, self.compute_dtype)
    y = self.analysis_transform(x)
    y_hat, bits = entropy_model(y, training=training)
    x_hat = self.synthesis_transform(y_hat)
    num_pixels = tf.cast(tf.reduce_prod(tf.shape(x)[:-1]), bits.dtype)
    bpp = tf.reduce_sum(bits) / num_pixels
    mse = tf.cast(tf.reduce_mean(tf.math.squared_difference(x, x_hat)),
                  bpp.dtype)
    return bpp + self.lmbda * mse, bpp, mse

  def fit(self, *args, **kwargs):
    history = super().fit(*args, **kwargs)
    # After training, fix the range coding tables (as in TFC). Keras 3:
    # a built model refuses new sub-layers, hence the `with` line.
    with tfc.unlocked_state(self):
      self.entropy_model = tfc.ContinuousBatchedEntropyModel(
          self.prior, coding_rank=3, compression=True)
    return history

  @tf.function(input_signature=[
      tf.TensorSpec(shape=(None, None, 3), dtype=tf.uint8)])
  def compress(self, x):
    """Compresses an image: (strings, image shape, latent shape)."""
    x = tf.cast(tf.expand_dims(x, 0), self.compute_dtype)
    y = self.analysis_transform(x)
    x_shape = tf.shape(x)[1:-1]
    y_shape = tf.shape(y)[1:-1]
    return self.entropy_model.compress(y), x_shape, y_shape

  @tf.function(input_signature=[
      tf.TensorSpec(shape=(1,), dtype=tf.string),
      tf.TensorSpec(shape=(2,), dtype=tf.int32),
      tf.TensorSpec(shape=(2,), dtype=tf.int32)])
  def decompress(self, string, x_shape, y_shape):
    """Decompresses an image into uint8 [H, W, 3]."""
    y_hat = self.entropy_model.decompress(string, y_shape)
    x_hat = self.synthesis_transform(y_hat)
    x_hat = x_hat[0, :x_shape[0], :x_shape[1], :]
    return tf.saturate_cast(tf.round(x_hat), tf.uint8)


def main(argv) -> None:
  common.run(argv, lambda a: BLS2017Model(a.lmbda, a.num_filters), "bls2017")


if __name__ == "__main__":
  main(sys.argv)
