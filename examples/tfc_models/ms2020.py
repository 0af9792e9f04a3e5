"""TFC's channel-wise autoregressive image model (models/ms2020.py), on Keras 3.

The model of Minnen and Singh, "Channel-wise autoregressive entropy models
for learned image compression", ICIP 2020 (https://arxiv.org/abs/2007.08739):
the latents y are split along channels into ``num_slices`` slices, each
coded with a noisy normal whose mean and scale index are predicted from the
hyperprior's side information z and from the slices decoded before it (at
most ``max_support_slices`` of them); a latent residual prediction (LRP)
then corrects each rounded slice. z is coded with a factorized
``NoisyDeepFactorized`` hyperprior.

Ported as a TFC user would port TFC's script: ``tfc`` is tensorcoder and
only what Keras 3 forces has changed (marked ``Keras 3:``; see bls2017.py
and MIGRATING.md). Shared parts are in ``common.py``. TFC's script takes a
``--num_filters`` flag (default 192) but builds the image transforms with a
fixed 192 filters; here the flag sets that width, so the default model is
TFC's. The other widths, fixed in TFC's script, are keyword arguments of
``MS2020Model`` whose defaults are TFC's (the tests shrink them; the command
line keeps TFC's flags).

  python ms2020.py [--model_path DIR] train --train_glob 'dir/*.png'
  python ms2020.py [--model_path DIR] compress image.png image.tfci
  python ms2020.py [--model_path DIR] decompress image.tfci image.png
"""

from __future__ import annotations

import sys

import keras
import tensorflow as tf

import tensorcoder as tfc

import common  # pylint: disable=g-bad-import-order


def _conv(filters, support, name, corr, stride=1, activation=None,
          use_bias=True, **kwargs):
  """A zero-padded SignalConv2D: a correlation downsampling by ``stride``,
  or a convolution upsampling by it."""
  return tfc.SignalConv2D(
      filters, support, name=name, corr=corr,
      strides_down=stride if corr else 1, strides_up=1 if corr else stride,
      padding="same_zeros", use_bias=use_bias, activation=activation,
      **kwargs)


class AnalysisTransform(keras.Sequential):
  """Image to y: four stride-2 convolutions with GDN between them."""

  def __init__(self, num_filters: int, latent_depth: int):
    super().__init__(name="analysis")
    self.add(keras.layers.Lambda(lambda x: x / 255.))
    for i in range(3):
      self.add(_conv(num_filters, (5, 5), f"layer_{i}", True, 2,
                     activation=tfc.GDN(name=f"gdn_{i}")))
    self.add(_conv(latent_depth, (5, 5), "layer_3", True, 2))


class SynthesisTransform(keras.Sequential):
  """y_hat to image: four stride-2 transposed convolutions, inverse GDN."""

  def __init__(self, num_filters: int):
    super().__init__(name="synthesis")
    for i in range(3):
      self.add(_conv(num_filters, (5, 5), f"layer_{i}", False, 2,
                     activation=tfc.GDN(name=f"igdn_{i}", inverse=True)))
    self.add(_conv(3, (5, 5), "layer_3", False, 2))
    self.add(keras.layers.Lambda(lambda x: x * 255.))


class HyperAnalysisTransform(keras.Sequential):
  """y to z (the paper's small hyperprior, its Appendix C.2)."""

  def __init__(self, hyperprior_depth: int, filters=(320, 256)):
    super().__init__(name="hyper_analysis")
    self.add(_conv(filters[0], (3, 3), "layer_0", True, 1,
                   activation=tf.nn.relu))
    self.add(_conv(filters[1], (5, 5), "layer_1", True, 2,
                   activation=tf.nn.relu))
    self.add(_conv(hyperprior_depth, (5, 5), "layer_2", True, 2,
                   use_bias=False))


class HyperSynthesisTransform(keras.Sequential):
  """z_hat to a latent tensor from which the slices' means (or scale
  indexes) are predicted; it ends in a ReLU, since it holds no means or
  scales itself, and its depth need not be y's."""

  def __init__(self, name: str, filters=(192, 256, 320)):
    super().__init__(name=name)
    for i, (depth, support, up) in enumerate(
        zip(filters, ((5, 5), (5, 5), (3, 3)), (2, 2, 1))):
      self.add(_conv(depth, support, f"layer_{i}", False, up,
                     activation=tf.nn.relu, kernel_parameter="variable"))


class SliceTransform(keras.layers.Layer):
  """Predicts one slice's means, scale indexes or LRP from its support
  (hyperprior output and earlier slices); the output depth is a slice's."""

  def __init__(self, latent_depth: int, num_slices: int,
               filters=(224, 128)):
    super().__init__()
    slice_depth = latent_depth // num_slices
    if slice_depth * num_slices != latent_depth:
      raise ValueError(f"latent_depth ({latent_depth}) must be a multiple "
                       f"of num_slices ({num_slices})")
    self.transform = keras.Sequential([
        _conv(filters[0], (5, 5), "layer_0", False, activation=tf.nn.relu,
              kernel_parameter="variable"),
        _conv(filters[1], (5, 5), "layer_1", False, activation=tf.nn.relu,
              kernel_parameter="variable"),
        _conv(slice_depth, (3, 3), "layer_2", False,
              kernel_parameter="variable"),
    ])

  def call(self, tensor):
    return self.transform(tensor)


class MS2020Model(common.RateDistortionModel):
  """The channel-wise autoregressive model.

  ``hyper_analysis_filters``, ``hyper_synthesis_filters`` and
  ``slice_filters`` are the widths of the hidden layers of those transforms
  (not arguments in TFC, whose values are the defaults).
  """

  def __init__(self, lmbda, num_filters, latent_depth, hyperprior_depth,
               num_slices, max_support_slices, num_scales, scale_min,
               scale_max, *, hyper_analysis_filters=(320, 256),
               hyper_synthesis_filters=(192, 256, 320),
               slice_filters=(224, 128)):
    super().__init__(lmbda)
    self.num_scales = num_scales
    self.num_slices = num_slices
    self.max_support_slices = max_support_slices
    offset = tf.math.log(scale_min)
    factor = (tf.math.log(scale_max) - tf.math.log(scale_min)) / (
        num_scales - 1.)
    self.scale_fn = lambda i: tf.math.exp(offset + factor * i)
    self.analysis_transform = AnalysisTransform(num_filters, latent_depth)
    self.synthesis_transform = SynthesisTransform(num_filters)
    self.hyper_analysis_transform = HyperAnalysisTransform(
        hyperprior_depth, hyper_analysis_filters)
    self.hyper_synthesis_mean_transform = HyperSynthesisTransform(
        "hyper_synthesis_mean", hyper_synthesis_filters)
    self.hyper_synthesis_scale_transform = HyperSynthesisTransform(
        "hyper_synthesis_scale", hyper_synthesis_filters)
    slices = lambda: [SliceTransform(latent_depth, num_slices, slice_filters)
                      for _ in range(num_slices)]
    self.cc_mean_transforms = slices()
    self.cc_scale_transforms = slices()
    self.lrp_transforms = slices()
    self.hyperprior = tfc.NoisyDeepFactorized(batch_shape=(hyperprior_depth,))
    self.build((None, None, None, 3))
    # decompress takes one string per slice, so its signature is made here.
    self.decompress = tf.function(
        input_signature=3 * [tf.TensorSpec(shape=(2,), dtype=tf.int32)] +
        (num_slices + 1) * [tf.TensorSpec(shape=(1,), dtype=tf.string)],
    )(self.decompress)

  def _support(self, y_hat_slices):
    """The decoded slices that the next slice is conditioned on."""
    if self.max_support_slices < 0:
      return y_hat_slices
    return y_hat_slices[:self.max_support_slices]

  def _slice_parameters(self, slice_index, latent_means, latent_scales,
                        y_hat_slices, y_shape):
    """Mean and scale indexes of a slice, and the support of its LRP."""
    support = self._support(y_hat_slices)
    mean_support = tf.concat([latent_means] + support, axis=-1)
    mu = self.cc_mean_transforms[slice_index](mean_support)
    mu = mu[:, :y_shape[0], :y_shape[1], :]
    scale_support = tf.concat([latent_scales] + support, axis=-1)
    indexes = self.cc_scale_transforms[slice_index](scale_support)
    indexes = indexes[:, :y_shape[0], :y_shape[1], :]
    return mu, indexes, mean_support

  def _add_lrp(self, slice_index, mean_support, y_hat_slice):
    """Latent residual prediction: corrects a slice by at most 1/2."""
    lrp = self.lrp_transforms[slice_index](
        tf.concat([mean_support, y_hat_slice], axis=-1))
    return y_hat_slice + 0.5 * tf.math.tanh(lrp)

  def call(self, x, training=False):  # Keras 3: `training` needs a default.
    """Rate-distortion loss, bits per pixel and MSE of a batch."""
    y = self.analysis_transform(x)
    y_shape = tf.shape(y)[1:-1]
    z = self.hyper_analysis_transform(y)
    num_pixels = tf.cast(tf.reduce_prod(tf.shape(x)[1:-1]), tf.float32)
    em_z = tfc.ContinuousBatchedEntropyModel(
        self.hyperprior, coding_rank=3, compression=False,
        offset_heuristic=False)
    # The rate of z is that of its noisy version when training; the hyper
    # synthesis sees z rounded (straight-through gradients).
    _, z_bits = em_z(z, training=training)
    z_bpp = tf.reduce_mean(z_bits) / num_pixels
    z_hat = em_z.quantize(z)
    latent_scales = self.hyper_synthesis_scale_transform(z_hat)
    latent_means = self.hyper_synthesis_mean_transform(z_hat)
    em_y = tfc.LocationScaleIndexedEntropyModel(
        tfc.NoisyNormal, num_scales=self.num_scales, scale_fn=self.scale_fn,
        coding_rank=3, compression=False)
    y_hat_slices = []
    y_bpps = []
    for slice_index, y_slice in enumerate(
        tf.split(y, self.num_slices, axis=-1)):
      mu, indexes, mean_support = self._slice_parameters(
          slice_index, latent_means, latent_scales, y_hat_slices, y_shape)
      _, slice_bits = em_y(y_slice, indexes, loc=mu, training=training)
      y_bpps.append(tf.reduce_mean(slice_bits) / num_pixels)
      # The synthesis (and the later slices) see the rounded slice.
      y_hat_slice = em_y.quantize(y_slice, loc=mu)
      y_hat_slices.append(
          self._add_lrp(slice_index, mean_support, y_hat_slice))
    x_hat = self.synthesis_transform(tf.concat(y_hat_slices, axis=-1))
    bpp = tf.add_n(y_bpps + [z_bpp])
    # No clipping or rounding of x_hat while training.
    mse = tf.reduce_mean(tf.math.squared_difference(x, x_hat))
    mse = tf.cast(mse, bpp.dtype)  # For mixed precision, as bmshj2018.py.
    return bpp + self.lmbda * mse, bpp, mse

  def fit(self, *args, **kwargs):
    history = super().fit(*args, **kwargs)
    # After training, fix the range coding tables (as in TFC). Keras 3:
    # a built model refuses new sub-layers, hence the `with` line.
    with tfc.unlocked_state(self):
      self.em_z = tfc.ContinuousBatchedEntropyModel(
          self.hyperprior, coding_rank=3, compression=True,
          offset_heuristic=False)
      self.em_y = tfc.LocationScaleIndexedEntropyModel(
          tfc.NoisyNormal, num_scales=self.num_scales, scale_fn=self.scale_fn,
          coding_rank=3, compression=True)
    return history

  @tf.function(input_signature=[
      tf.TensorSpec(shape=(None, None, 3), dtype=tf.uint8)])
  def compress(self, x):
    """Compresses an image: the three shapes, z's string, a string per
    slice."""
    x = tf.cast(tf.expand_dims(x, 0), tf.float32)
    x_shape = tf.shape(x)[1:-1]
    y = self.analysis_transform(x)
    y_shape = tf.shape(y)[1:-1]
    z = self.hyper_analysis_transform(y)
    z_shape = tf.shape(z)[1:-1]
    z_string = self.em_z.compress(z)
    z_hat = self.em_z.decompress(z_string, z_shape)
    latent_scales = self.hyper_synthesis_scale_transform(z_hat)
    latent_means = self.hyper_synthesis_mean_transform(z_hat)
    y_strings = []
    y_hat_slices = []
    for slice_index, y_slice in enumerate(
        tf.split(y, self.num_slices, axis=-1)):
      mu, indexes, mean_support = self._slice_parameters(
          slice_index, latent_means, latent_scales, y_hat_slices, y_shape)
      y_string = self.em_y.compress(y_slice, indexes, mu)
      y_strings.append(y_string)
      # The decoder's slice, which conditions the next slices.
      y_hat_slice = self.em_y.decompress(y_string, indexes, mu)
      y_hat_slices.append(
          self._add_lrp(slice_index, mean_support, y_hat_slice))
    return (x_shape, y_shape, z_shape, z_string) + tuple(y_strings)

  def decompress(self, x_shape, y_shape, z_shape, z_string, *y_strings):
    """Decompresses an image into uint8 [H, W, 3]."""
    assert len(y_strings) == self.num_slices
    z_hat = self.em_z.decompress(z_string, z_shape)
    latent_scales = self.hyper_synthesis_scale_transform(z_hat)
    latent_means = self.hyper_synthesis_mean_transform(z_hat)
    y_hat_slices = []
    for slice_index, y_string in enumerate(y_strings):
      mu, indexes, mean_support = self._slice_parameters(
          slice_index, latent_means, latent_scales, y_hat_slices, y_shape)
      y_hat_slice = self.em_y.decompress(y_string, indexes, loc=mu)
      y_hat_slices.append(
          self._add_lrp(slice_index, mean_support, y_hat_slice))
    x_hat = self.synthesis_transform(tf.concat(y_hat_slices, axis=-1))
    x_hat = x_hat[0, :x_shape[0], :x_shape[1], :]
    return tf.saturate_cast(tf.round(x_hat), tf.uint8)


def _extra_args(train_cmd) -> None:
  train_cmd.set_defaults(num_filters=192)
  train_cmd.add_argument("--latent_depth", type=int, default=320)
  train_cmd.add_argument("--hyperprior_depth", type=int, default=192)
  train_cmd.add_argument("--num_slices", type=int, default=10)
  train_cmd.add_argument("--max_support_slices", type=int, default=5)
  train_cmd.add_argument("--num_scales", type=int, default=64)
  train_cmd.add_argument("--scale_min", type=float, default=.11)
  train_cmd.add_argument("--scale_max", type=float, default=256.)


def model_fn(a, **widths) -> MS2020Model:
  return MS2020Model(a.lmbda, a.num_filters, a.latent_depth,
                     a.hyperprior_depth, a.num_slices, a.max_support_slices,
                     a.num_scales, a.scale_min, a.scale_max, **widths)


def main(argv) -> None:
  common.run(argv, model_fn, "ms2020", _extra_args)


if __name__ == "__main__":
  main(sys.argv)
