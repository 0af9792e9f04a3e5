"""Tests of SignalConv1D/2D/3D, RDFTParameter and IdentityInitializer."""

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


def _reference_1d(x, kernel, corr, down, up, padding, extra_pad_end):
  """TFC's definition, sample by sample: upsample, filter around the kernel
  centre K // 2 (zeros outside), downsample."""
  n, k = len(x), len(kernel)
  length = n * up if extra_pad_end else (n - 1) * up + 1
  u = np.zeros(length)
  u[::up] = x
  if padding == "valid":
    offsets = range(length - k + 1)
    value = lambda m: sum(  # pylint: disable=g-long-lambda
        kernel[j] * u[m + j] if corr else kernel[k - 1 - j] * u[m + j]
        for j in range(k))
  else:
    offsets = range(length)
    at = lambda i: u[i] if 0 <= i < length else 0.0
    value = lambda m: sum(  # pylint: disable=g-long-lambda
        kernel[j] * (at(m + j - k // 2) if corr else at(m - j + k // 2))
        for j in range(k))
  return np.array([value(m) for m in offsets])[::down]


@pytest.mark.parametrize("corr", [True, False])
@pytest.mark.parametrize("padding", ["valid", "same_zeros"])
@pytest.mark.parametrize("k,down,up,extra", [
    (3, 1, 1, None), (4, 2, 1, None), (5, 1, 2, True), (3, 1, 3, False),
    (2, 1, 2, True), (5, 2, 3, True)])
def test_1d_matches_definition(corr, padding, k, down, up, extra):
  if corr and up > 1 and k % 2 == 0:
    pytest.skip("not implemented, as in TFC")
  x = np.random.default_rng(0).normal(size=11)
  kernel = np.random.default_rng(1).normal(size=k)
  layer = layers.SignalConv1D(
      1, k, corr=corr, strides_down=down, strides_up=up, padding=padding,
      extra_pad_end=extra, kernel_parameter=kernel[:, None, None])
  y = layer(tf.constant(x[None, :, None], tf.float32)).numpy()[0, :, 0]
  extra = layer.extra_pad_end
  expected = _reference_1d(x, kernel, corr, down, up, padding, extra)
  np.testing.assert_allclose(y, expected, rtol=1e-5, atol=1e-5)
  assert layer.compute_output_shape((1, 11, 1)) == (1, len(expected), 1)


def test_unimplemented_combination_raises_like_tfc():
  layer = layers.SignalConv1D(1, 2, corr=True, strides_up=2)
  with pytest.raises(NotImplementedError, match="SignalConv1D"):
    layer(tf.zeros((1, 5, 1)))


@pytest.mark.parametrize("padding", ["same_zeros", "same_reflect"])
@pytest.mark.parametrize("cls,shape", [
    (layers.SignalConv1D, (1, 9, 1)), (layers.SignalConv2D, (1, 9, 7, 1)),
    (layers.SignalConv3D, (1, 5, 4, 3, 1))])
def test_identity_kernel_resamples(padding, cls, shape):
  x = np.arange(np.prod(shape), dtype=np.float32).reshape(shape)
  rank = len(shape) - 2
  kernel = layers.IdentityInitializer()((3,) * rank + (1, 1))
  down = cls(1, 3, corr=True, strides_down=2, padding=padding,
             kernel_parameter=kernel)
  np.testing.assert_allclose(down(x), x[(slice(None),) + (slice(None, None,
                                                                2),) * rank])
  if padding == "same_zeros":
    up = cls(1, 3, strides_up=2, padding=padding, kernel_parameter=kernel)
    y = up(x).numpy()
    assert y.shape[1:-1] == tuple(2 * s for s in shape[1:-1])
    np.testing.assert_allclose(
        y[(slice(None),) + (slice(None, None, 2),) * rank], x)


def test_channel_separable_and_channels_first():
  x = np.random.default_rng(2).normal(size=(2, 8, 9, 3)).astype(np.float32)
  kernel = np.random.default_rng(3).normal(size=(3, 3, 3, 2))
  layer = layers.SignalConv2D(2, 3, corr=True, padding="same_zeros",
                              channel_separable=True, kernel_parameter=kernel)
  y = layer(x).numpy()
  assert y.shape == (2, 8, 9, 6)
  for c in range(3):
    single = layers.SignalConv2D(2, 3, corr=True, padding="same_zeros",
                                 kernel_parameter=kernel[:, :, c:c + 1])
    np.testing.assert_allclose(y[..., 2 * c:2 * c + 2],
                               single(x[..., c:c + 1]), rtol=1e-5, atol=1e-5)
  xt = np.moveaxis(x, -1, 1)
  yt = layers.SignalConv2D(
      3, 3, strides_down=2, padding="same_reflect",
      data_format="channels_first",
      kernel_parameter=layers.IdentityInitializer()((3, 3, 3, 3)))(xt)
  np.testing.assert_allclose(yt, xt[:, :, ::2, ::2], atol=1e-6)
  first = layers.SignalConv2D(4, 3, strides_down=2, padding="same_reflect",
                              data_format="channels_first")
  assert first.compute_output_shape((2, 3, 8, 9)) == (2, 4, 4, 5)


def test_identity_initializer_rectangular_and_integer():
  """TFC's IdentityInitializer: gain * eye(in, out) at the support centre,
  also for in != out, in the requested dtype."""
  kernel = layers.IdentityInitializer(gain=3)((3, 4, 2), dtype=tf.int32)
  assert kernel.dtype == tf.int32
  expected = np.zeros((3, 4, 2), np.int32)
  expected[1] = 3 * np.eye(4, 2, dtype=np.int32)
  np.testing.assert_array_equal(kernel, expected)
  wide = layers.IdentityInitializer()((2, 3, 1, 3))
  assert wide.dtype == tf.float32
  np.testing.assert_array_equal(wide[1, 1], [[1, 0, 0]])
  assert np.sum(wide) == 1
  with pytest.raises(ValueError, match="rank >= 3"):
    layers.IdentityInitializer()((2, 3))


def test_weight_lists_in_tfc_order():
  """get_weights/set_weights and Keras 2 .h5 weight files list variables as
  TFC 2.14 does (recorded there): [bias, activation's, kernel_imag,
  kernel_real]. A weight list from TFC must land in the right variables:
  real and imaginary parts have the same shape, so a swap would be silent."""
  layer = layers.SignalConv2D(4, 3, use_bias=True, activation=layers.GDN())
  layer.build((None, None, None, 2))
  assert [w.name for w in layer.weights] == [
      "bias", "reparam_beta", "reparam_gamma", "kernel_imag", "kernel_real"]
  assert [w.name for w in layer.trainable_weights] == [
      w.name for w in layer.weights]
  # TFC's variables for a kernel: the orthonormal rfft over the support of
  # the kernel transposed to [in, out, *support].
  kernel = np.random.default_rng(3).normal(size=(3, 3, 2, 4))
  spectrum = np.fft.rfft2(np.transpose(kernel, (2, 3, 0, 1))) / 3.0
  bias = np.arange(4.0)
  beta, gamma = [w.numpy() for w in layer.weights[1:3]]
  layer.set_weights([bias, beta, gamma, spectrum.imag, spectrum.real])
  np.testing.assert_allclose(layer.kernel, kernel, atol=1e-5)
  np.testing.assert_allclose(layer.bias, bias)
  np.testing.assert_allclose(layer.get_weights()[3], spectrum.imag, atol=1e-6)


_TFC_MODEL = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                          "testdata", "tfc214_signal_conv_gdn")


def _tfc_model_layers(inputs):
  """The architecture of testdata/tfc214_signal_conv_gdn.h5, which TFC
  2.14.1 (Keras 2) wrote with ``model.save`` after setting random weights;
  the .npz holds an input, TFC's output for it and TFC's weight names."""
  y = layers.SignalConv2D(4, 5, corr=True, strides_down=2,
                          padding="same_zeros", use_bias=True,
                          activation=layers.GDN(), name="analysis")(inputs)
  return layers.SignalConv2D(3, (3, 4), corr=False, strides_up=2,
                             padding="same_reflect", use_bias=True,
                             activation=layers.GDN(inverse=True),
                             name="synthesis")(y)


def test_loads_model_and_weights_saved_by_tfc_keras2():
  """A TFC user's Keras 2 .h5 files: ``keras.models.load_model`` rebuilds
  the model from the TFC class names, ``load_weights`` fills a model built
  with tensorcoder; both reproduce TFC's output."""
  io = np.load(_TFC_MODEL + ".npz")
  model = keras.models.load_model(_TFC_MODEL + ".h5")
  assert isinstance(model.get_layer("analysis"), layers.SignalConv2D)
  assert isinstance(model.get_layer("synthesis").activation, layers.GDN)
  np.testing.assert_allclose(model(io["x"]), io["y"], rtol=1e-5, atol=1e-5)
  inputs = keras.Input((None, None, 3))
  rebuilt = keras.Model(inputs, _tfc_model_layers(inputs))
  rebuilt.load_weights(_TFC_MODEL + ".h5")
  np.testing.assert_allclose(rebuilt(io["x"]), io["y"], rtol=1e-5, atol=1e-5)
  assert [w.path.split("/")[-1] for w in rebuilt.weights] == [
      str(n).split("/")[-1][:-2] for n in io["weight_names"]]


def test_rdft_parameter_keeps_real_and_imaginary_parts():
  for shape in [(7, 3, 2), (5, 3, 1, 2), (3, 4, 2, 2, 1)]:
    initial = tf.random.uniform(shape)
    p = layers.RDFTParameter(initial, name="kernel")
    np.testing.assert_allclose(p(), initial, atol=1e-6)
    np.testing.assert_allclose(tf.convert_to_tensor(p), initial, atol=1e-6)
    # TFC's order (tf.Module attribute order), which weight lists follow.
    assert [w.name for w in p.weights] == ["kernel_imag", "kernel_real"]
    assert tuple(p.real.shape) == shape[-2:] + shape[:-3] + (
        shape[-3] // 2 + 1,)
    with tf.GradientTape() as tape:
      loss = tf.reduce_sum(tf.random.uniform(shape) * p())
    grads = tape.gradient(loss, p.trainable_weights)
    assert len(grads) == 2 and all(np.abs(g).max() > 1e-3 for g in grads)
  # A serialized parameter comes back empty; the weights restore the value.
  clone = keras.saving.deserialize_keras_object(
      keras.saving.serialize_keras_object(p))
  clone.set_weights(p.get_weights())
  assert clone.name == p.name
  np.testing.assert_array_equal(clone(), p())


def test_builds_inside_tf_function():
  layer = layers.SignalConv2D(4, (3, 3), corr=True, strides_down=2,
                              padding="same_zeros")
  y = tf.function(lambda t: layer(t))(tf.ones((1, 16, 16, 3)))  # pylint: disable=unnecessary-lambda
  assert y.shape == (1, 8, 8, 4)
  np.testing.assert_allclose(y, layer(tf.ones((1, 16, 16, 3))), rtol=1e-5)


class _Subclassed(keras.Model):

  def __init__(self):
    super().__init__(name="coder")
    self.down = layers.SignalConv2D(4, 3, corr=True, strides_down=2,
                                    padding="same_zeros", use_bias=True,
                                    activation=layers.GDN())
    self.up = layers.SignalConv2D(3, 3, strides_up=2, padding="same_zeros",
                                  activation=layers.GDN(inverse=True))

  def call(self, x):
    return self.up(self.down(x))


def test_subclassed_model_builds_and_trains_in_fit():
  model = _Subclassed()
  model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="mse")
  x = np.random.default_rng(0).normal(size=(4, 16, 16, 3)).astype(np.float32)
  model.fit(x, x, epochs=1, batch_size=4, verbose=0)
  before = [w.numpy().copy() for w in model.trainable_weights]
  # real, imag, bias, beta, gamma; real, imag, beta, gamma.
  assert len(before) == 9
  model.fit(x, x, epochs=1, batch_size=4, verbose=0)
  changed = [not np.allclose(b, w.numpy())
             for b, w in zip(before, model.trainable_weights)]
  assert all(changed)


@pytest.mark.parametrize("kernel_parameter", ["rdft", "variable"])
def test_mixed_float16(kernel_parameter):
  keras.mixed_precision.set_global_policy("mixed_float16")
  try:
    down = layers.SignalConv2D(4, 3, corr=True, strides_down=2,
                               padding="same_zeros", use_bias=True,
                               kernel_parameter=kernel_parameter,
                               activation=layers.GDN())
    up = layers.SignalConv2D(3, 3, strides_up=2, padding="same_zeros",
                             kernel_parameter=kernel_parameter,
                             activation=layers.GDN(inverse=True))
    x = tf.random.stateless_normal((2, 8, 8, 3), seed=(1, 7))
    with tf.GradientTape() as tape:
      y = up(down(x))
      loss = tf.reduce_sum(tf.cast(y, tf.float32)**2)
    weights = down.trainable_weights + up.trainable_weights
    grads = tape.gradient(loss, weights)
  finally:
    keras.mixed_precision.set_global_policy("float32")
  assert y.dtype == tf.float16 and y.shape == x.shape
  assert all(w.dtype == "float32" for w in weights)
  assert all(g is not None and g.dtype == tf.float32 and
             np.isfinite(g.numpy()).all() for g in grads)
  assert np.abs(grads[0].numpy()).max() > 0


def test_saved_model_with_check_numerics_loads():
  layer = layers.SignalConv2D(4, 3, corr=True, padding="same_zeros",
                              use_bias=True)
  x = tf.random.stateless_normal((1, 8, 8, 3), seed=(2, 7))
  expected = layer(x).numpy()
  module = tf.Module()
  module.layer = layer
  module.run = tf.function(lambda t: layer(t),  # pylint: disable=unnecessary-lambda
                           input_signature=[tf.TensorSpec([None, 8, 8, 3])])
  with tempfile.TemporaryDirectory() as directory:
    tf.debugging.enable_check_numerics()
    try:
      tf.saved_model.save(module, directory)
    finally:
      tf.debugging.disable_check_numerics()
    loaded = tf.saved_model.load(directory)
    np.testing.assert_allclose(loaded.run(x), expected, rtol=1e-5, atol=1e-6)


def test_weights_and_overrides():
  layer = layers.SignalConv2D(3, 1, use_bias=True)
  layer.build((None, None, None, 2))
  assert sorted(w.name for w in layer.weights) == ["bias", "kernel_imag",
                                                   "kernel_real"]
  assert isinstance(layer.kernel_parameter, layers.RDFTParameter)
  assert isinstance(layer.bias_parameter, keras.Variable)
  assert len(layers.SignalConv2D(5, 3).weights) == 0
  # Overrides set before build are honoured; no weights are created.
  fixed = layers.SignalConv2D(1, 1, use_bias=True)
  fixed.kernel_parameter = [[[[2.0]]]]
  fixed.bias_parameter = [1.0]
  np.testing.assert_allclose(fixed(tf.ones((1, 2, 2, 1))), 3.0)
  assert not fixed.weights
  # A Parameter or a keras.Variable is trained with the layer.
  param = layers.RDFTParameter(tf.ones((3, 3, 2, 1)), name="shared")
  bias = keras.Variable([0.5], name="b")
  shared = layers.SignalConv2D(1, 3, corr=True, padding="same_zeros",
                               use_bias=True, kernel_parameter=param,
                               bias_parameter=bias)
  shared(tf.ones((1, 4, 4, 2)))
  assert len(shared.trainable_weights) == 3
  assert shared.kernel_parameter is param and shared.bias_parameter is bias
  with pytest.raises(TypeError, match="keras.Variable"):
    layers.SignalConv2D(1, 1, kernel_parameter=tf.Variable([[[[1.0]]]]))
  with pytest.raises(RuntimeError):
    shared.kernel_parameter = "rdft"
  for name, value in [("filters", 3), ("kernel_support", 3), ("corr", True),
                      ("strides_down", 2), ("strides_up", 2),
                      ("padding", "valid"), ("extra_pad_end", True),
                      ("channel_separable", True),
                      ("data_format", "channels_first"),
                      ("activation", tf.nn.relu), ("use_bias", False),
                      ("use_explicit", False), ("bias_parameter", [1.0]),
                      ("kernel_initializer", "ones"),
                      ("bias_initializer", "ones"),
                      ("kernel_regularizer", "l2"),
                      ("bias_regularizer", "l2")]:
    with pytest.raises(RuntimeError, match="after it has been built"):
      setattr(shared, name, value)


def test_attributes_and_regularizers():
  layer = layers.SignalConv1D(2, 3, padding="same_reflect",
                              kernel_regularizer=keras.regularizers.L2(1.0),
                              activity_regularizer="l2")
  assert (layer.filters, layer.kernel_support, layer.corr,
          layer.strides_down, layer.strides_up, layer.padding,
          layer.extra_pad_end, layer.channel_separable, layer.data_format,
          layer.activation, layer.use_bias, layer.use_explicit,
          layer.kernel_parameter, layer.bias_parameter) == (
              2, (3,), False, (1,), (1,), "same_reflect", True, False,
              "channels_last", None, False, True, "rdft", "variable")
  with pytest.raises(RuntimeError, match="build"):
    _ = layer.kernel
  layer(tf.ones((1, 5, 2)))
  np.testing.assert_allclose(layer.losses[0],
                             tf.reduce_sum(layer.kernel**2), rtol=1e-5)
  assert len(layer.losses) == 2
  assert layers.SignalConv1D(1, 3, padding="valid").extra_pad_end is False
  with pytest.raises(ValueError, match="data format"):
    layers.SignalConv1D(2, 1, data_format="NHWC")
  with pytest.raises(ValueError, match="padding"):
    layers.SignalConv2D(3, 3, padding="same")
  with pytest.raises(ValueError, match="kernel_support"):
    layers.SignalConv2D(3, (3, 3, 3))
  with pytest.raises(ValueError):
    layers.SignalConv2D(3, 3)(tf.zeros([4, 4, 3]))


def test_serialization_with_gdn_activation():
  model = keras.Sequential([
      keras.Input((16, 16, 3)),
      layers.SignalConv2D(4, 5, corr=True, strides_down=2,
                          padding="same_reflect", use_bias=True,
                          activation=layers.GDN()),
      layers.SignalConv2D(3, 5, strides_up=2, padding="same_zeros",
                          kernel_parameter="variable")])
  x = np.random.default_rng(1).normal(size=(2, 16, 16, 3)).astype(np.float32)
  for w in model.weights:
    w.assign(w + 0.01)
  with tempfile.TemporaryDirectory() as directory:
    path = os.path.join(directory, "conv.keras")
    model.save(path)
    clone = keras.models.load_model(path)
  np.testing.assert_allclose(clone(x), model(x), rtol=1e-5, atol=1e-6)
  assert not clone.layers[0].legacy
  assert isinstance(clone.layers[0].kernel_parameter, layers.RDFTParameter)


def test_legacy_layer_keeps_tensorcoder1_behaviour():
  # A tensorcoder 1 config (no data_format key) loads as the legacy layer.
  old_config = dict(name="c", filters=3, kernel_support=[5, 5], corr=False,
                    strides_down=[1, 1], strides_up=[2, 2],
                    padding="same_zeros", use_bias=False, activation=None,
                    kernel_parameter="rdft",
                    kernel_initializer="variance_scaling",
                    bias_initializer="zeros")
  layer = layers.SignalConv2D.from_config(old_config)
  assert layer.legacy
  x = np.random.default_rng(4).normal(size=(1, 6, 7, 2)).astype(np.float32)
  y = layer(x).numpy()
  assert [w.path.split("/")[-2:] for w in layer.weights] == [
      ["kernel_rdft", "rdft"]]
  stored = layer._rdft.value().numpy()  # pylint: disable=protected-access
  assert stored.shape == (5, 5, 3, 2)  # conv2d_transpose's [h, w, out, in].
  expected = tf.nn.conv2d_transpose(x, stored[::-1, ::-1], (1, 12, 14, 3),
                                    (1, 2, 2, 1), "SAME")
  np.testing.assert_allclose(y, expected, rtol=1e-5, atol=1e-5)


if __name__ == "__main__":
  sys.exit(pytest.main([__file__, "-q"]))
