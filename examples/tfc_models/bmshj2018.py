"""TFC's hyperprior image model (models/bmshj2018.py), on Keras 3.

The model of Ballé, Minnen, Singh, Hwang and Johnston, "Variational image
compression with a scale hyperprior", ICLR 2018
(https://arxiv.org/abs/1802.01436): latents y coded with a zero-mean noisy
normal whose scale index comes from side information z, which is coded with
a factorized ``NoisyDeepFactorized`` hyperprior.

Ported as a TFC user would port TFC's script: ``tfc`` is tensorcoder and
only what Keras 3 forces has changed (marked ``Keras 3:``; see bls2017.py
and MIGRATING.md). Shared parts are in ``common.py``.

  python bmshj2018.py [--model_path DIR] train --train_glob 'dir/*.png'
  python bmshj2018.py [--model_path DIR] compress image.png image.tfci
  python bmshj2018.py [--model_path DIR] decompress image.tfci image.png
"""

from __future__ import annotations

import sys

import keras
import tensorflow as tf

import tensorcoder as tfc

import common  # pylint: disable=g-bad-import-order


def _conv(filters, support, name, down=1, up=1, activation=None,
          use_bias=True, **kwargs):
  return tfc.SignalConv2D(
      filters, support, name=name, corr=up == 1, strides_down=down,
      strides_up=up, padding="same_zeros", use_bias=use_bias,
      activation=activation, **kwargs)


class AnalysisTransform(keras.Sequential):
  """Image to y: four stride-2 convolutions with GDN between them."""

  def __init__(self, num_filters: int):
    super().__init__(name="analysis")
    self.add(keras.layers.Lambda(lambda x: x / 255.))
    for i in range(3):
      self.add(_conv(num_filters, (5, 5), f"layer_{i}", down=2,
                     activation=tfc.GDN(name=f"gdn_{i}")))
    self.add(_conv(num_filters, (5, 5), "layer_3", down=2))


class SynthesisTransform(keras.Sequential):
  """y to image: four stride-2 transposed convolutions, inverse GDN."""

  def __init__(self, num_filters: int):
    super().__init__(name="synthesis")
    for i in range(3):
      self.add(_conv(num_filters, (5, 5), f"layer_{i}", up=2,
                     activation=tfc.GDN(name=f"igdn_{i}", inverse=True)))
    self.add(_conv(3, (5, 5), "layer_3", up=2))
    self.add(keras.layers.Lambda(lambda x: x * 255.))


class HyperAnalysisTransform(keras.Sequential):
  """|y| to z."""

  def __init__(self, num_filters: int):
    super().__init__(name="hyper_analysis")
    self.add(_conv(num_filters, (3, 3), "layer_0", activation=tf.nn.relu))
    self.add(_conv(num_filters, (5, 5), "layer_1", down=2,
                   activation=tf.nn.relu))
    self.add(_conv(num_filters, (5, 5), "layer_2", down=2, use_bias=False))


class HyperSynthesisTransform(keras.Sequential):
  """z to the scale indexes of y."""

  def __init__(self, num_filters: int):
    super().__init__(name="hyper_synthesis")
    self.add(_conv(num_filters, (5, 5), "layer_0", up=2,
                   activation=tf.nn.relu, kernel_parameter="variable"))
    self.add(_conv(num_filters, (5, 5), "layer_1", up=2,
                   activation=tf.nn.relu, kernel_parameter="variable"))
    self.add(tfc.SignalConv2D(
        num_filters, (3, 3), name="layer_2", corr=False, strides_up=1,
        padding="same_zeros", use_bias=True, kernel_parameter="variable",
        activation=None))


class BMSHJ2018Model(common.RateDistortionModel):
  """The hyperprior model."""

  def __init__(self, lmbda, num_filters, num_scales, scale_min, scale_max):
    super().__init__(lmbda)
    self.num_scales = num_scales
    offset = tf.math.log(scale_min)
    factor = (tf.math.log(scale_max) - tf.math.log(scale_min)) / (
        num_scales - 1.)
    self.scale_fn = lambda i: tf.math.exp(offset + factor * i)
    self.analysis_transform = AnalysisTransform(num_filters)
    self.synthesis_transform = SynthesisTransform(num_filters)
    self.hyper_analysis_transform = HyperAnalysisTransform(num_filters)
    self.hyper_synthesis_transform = HyperSynthesisTransform(num_filters)
    self.hyperprior = tfc.NoisyDeepFactorized(batch_shape=(num_filters,))
    self.build((None, None, None, 3))

  def call(self, x, training=False):  # Keras 3: `training` needs a default.
    """Rate-distortion loss, bits per pixel and MSE of a batch."""
    entropy_model = tfc.LocationScaleIndexedEntropyModel(
        tfc.NoisyNormal, self.num_scales, self.scale_fn, coding_rank=3,
        compression=False)
    side_entropy_model = tfc.ContinuousBatchedEntropyModel(
        self.hyperprior, coding_rank=3, compression=False)
    x = tf.cast(x, self.compute_dtype)
    y = self.analysis_transform(x)
    z = self.hyper_analysis_transform(abs(y))
    z_hat, side_bits = side_entropy_model(z, training=training)
    indexes = self.hyper_synthesis_transform(z_hat)
    y_hat, bits = entropy_model(y, indexes, training=training)
    x_hat = self.synthesis_transform(y_hat)
    num_pixels = tf.cast(tf.reduce_prod(tf.shape(x)[:-1]), bits.dtype)
    bpp = (tf.reduce_sum(bits) + tf.reduce_sum(side_bits)) / num_pixels
    mse = tf.cast(tf.reduce_mean(tf.math.squared_difference(x, x_hat)),
                  bpp.dtype)
    return bpp + self.lmbda * mse, bpp, mse

  def fit(self, *args, **kwargs):
    history = super().fit(*args, **kwargs)
    # After training, fix the range coding tables (as in TFC). Keras 3:
    # a built model refuses new sub-layers, hence the `with` line.
    with tfc.unlocked_state(self):
      self.entropy_model = tfc.LocationScaleIndexedEntropyModel(
          tfc.NoisyNormal, self.num_scales, self.scale_fn, coding_rank=3,
          compression=True)
      self.side_entropy_model = tfc.ContinuousBatchedEntropyModel(
          self.hyperprior, coding_rank=3, compression=True)
    return history

  @tf.function(input_signature=[
      tf.TensorSpec(shape=(None, None, 3), dtype=tf.uint8)])
  def compress(self, x):
    """Compresses an image: strings and the shapes needed to decode."""
    x = tf.cast(tf.expand_dims(x, 0), self.compute_dtype)
    y = self.analysis_transform(x)
    z = self.hyper_analysis_transform(abs(y))
    x_shape, y_shape, z_shape = (tf.shape(x)[1:-1], tf.shape(y)[1:-1],
                                 tf.shape(z)[1:-1])
    z_hat = self.side_entropy_model.quantize(z)
    indexes = self.hyper_synthesis_transform(z_hat)
    indexes = indexes[:, :y_shape[0], :y_shape[1], :]
    side_string = self.side_entropy_model.compress(z)
    string = self.entropy_model.compress(y, indexes)
    return string, side_string, x_shape, y_shape, z_shape

  @tf.function(input_signature=[
      tf.TensorSpec(shape=(1,), dtype=tf.string),
      tf.TensorSpec(shape=(1,), dtype=tf.string),
      tf.TensorSpec(shape=(2,), dtype=tf.int32),
      tf.TensorSpec(shape=(2,), dtype=tf.int32),
      tf.TensorSpec(shape=(2,), dtype=tf.int32)])
  def decompress(self, string, side_string, x_shape, y_shape, z_shape):
    """Decompresses an image into uint8 [H, W, 3]."""
    z_hat = self.side_entropy_model.decompress(side_string, z_shape)
    indexes = self.hyper_synthesis_transform(z_hat)
    indexes = indexes[:, :y_shape[0], :y_shape[1], :]
    y_hat = self.entropy_model.decompress(string, indexes)
    x_hat = self.synthesis_transform(y_hat)
    x_hat = x_hat[0, :x_shape[0], :x_shape[1], :]
    return tf.saturate_cast(tf.round(x_hat), tf.uint8)


def _extra_args(train_cmd) -> None:
  train_cmd.add_argument("--num_scales", type=int, default=64)
  train_cmd.add_argument("--scale_min", type=float, default=.11)
  train_cmd.add_argument("--scale_max", type=float, default=256.)


def main(argv) -> None:
  common.run(argv, lambda a: BMSHJ2018Model(
      a.lmbda, a.num_filters, a.num_scales, a.scale_min, a.scale_max),
             "bmshj2018", _extra_args)


if __name__ == "__main__":
  main(sys.argv)
