"""Tests of the fixed-point coding parameters (fixed_point.py) and of the
hyperprior codecs that code with them."""

import os
import subprocess
import sys
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # pylint: disable=g-import-not-at-top
import numpy as np  # pylint: disable=g-import-not-at-top
import pytest  # pylint: disable=g-import-not-at-top
import tensorflow as tf  # pylint: disable=g-import-not-at-top

from tensorcoder.models import fixed_point  # pylint: disable=g-import-not-at-top
from tensorcoder.models import HyperpriorCodec  # pylint: disable=g-import-not-at-top
from tensorcoder.models import VariableRateHyperpriorCodec  # pylint: disable=g-import-not-at-top
from tensorcoder.layers.residual import ResidualBlock  # pylint: disable=g-import-not-at-top
from tensorcoder.layers.signal_conv import SignalConv2D  # pylint: disable=g-import-not-at-top

SMALL = dict(num_filters=8, num_latents=6, num_hyper_filters=4,
             hyper_blocks=1)
STEP = 2.0**-fixed_point.ACTIVATION_BITS


@pytest.fixture(autouse=True)
def _seed_everything():
  """Every test starts from the same seeds (Python, NumPy, TF, Keras)."""
  keras.utils.set_random_seed(20261207)


def _codec(context="checkerboard", variable_rate=False, **kwargs):
  """A small codec whose zero-initialized parts (the residual block's
  second convolution, the context's output) are random, as after
  training."""
  if variable_rate:
    model = VariableRateHyperpriorCodec(lmbdas=(0.002, 0.02), context=context,
                                        **SMALL, **kwargs)
  else:
    model = HyperpriorCodec(context=context, **SMALL, **kwargs)
  model.build()
  rng = np.random.default_rng(11)
  parts = [layer.conv_b for layer in model.hyper_synthesis.layers
           if isinstance(layer, ResidualBlock)]
  if model.context_model is not None:
    parts.append(model.context_model.output_conv)
  for part in parts:
    for weight in part.weights:
      weight.assign(rng.normal(0, 0.2, weight.shape).astype(np.float32))
  return model


def _z_hat(model, shape=(1, 3, 4), seed=5):
  """Decoded-z-like values: integers plus a fractional offset."""
  rng = np.random.default_rng(seed)
  values = np.round(rng.normal(0, 3, shape + (model.num_hyper_filters,)))
  return tf.constant(values + 0.3, tf.float32)


def test_synthesis_is_the_float_synthesis_on_a_grid():
  model = _codec(context=None)
  z_hat = _z_hat(model)
  fixed = fixed_point.FixedPointSynthesis(model.hyper_synthesis)(z_hat)
  floats = model.hyper_synthesis(z_hat)
  assert fixed.dtype == tf.float32 and fixed.shape == floats.shape
  units = fixed.numpy() / STEP
  np.testing.assert_array_equal(units, np.round(units))
  # Each layer rounds to the grid: a few steps off at most, here.
  np.testing.assert_allclose(fixed, floats, atol=20 * STEP)
  assert np.abs(floats).max() > 100 * STEP  # Not trivially close.


def _reference_signal_conv(x, layer, conv):
  """``SignalConv2D.legacy_filter`` plus bias and rescaling, in NumPy, the
  taps summed in the reverse order, one tap at a time."""
  kernel = conv.kernel.numpy()
  (kh, kw) = layer.kernel_support
  (sh, sw) = layer.strides_up
  batch, height, width, _ = x.shape
  out = np.zeros((batch, height * sh, width * sw, layer.filters))
  if max(sh, sw) > 1:  # conv2d_transpose, "SAME": y[s*i + t - pad] += x[i]K[t]
    ph, pw = max(kh - sh, 0) // 2, max(kw - sw, 0) // 2
    for th in reversed(range(kh)):
      for tw in reversed(range(kw)):
        contribution = x @ kernel[th, tw].T  # [B, h, w, out]
        for i in range(height):
          for j in range(width):
            r, c = sh * i + th - ph, sw * j + tw - pw
            if 0 <= r < height * sh and 0 <= c < width * sw:
              out[:, r, c] += contribution[:, i, j]
  else:  # Zero padding, then a "VALID" correlation.
    padded = np.pad(x, [(0, 0), ((kh - 1) // 2, kh // 2),
                        ((kw - 1) // 2, kw // 2), (0, 0)])
    for th in reversed(range(kh)):
      for tw in reversed(range(kw)):
        out += padded[:, th:th + height, tw:tw + width] @ kernel[th, tw]
  out += conv.bias.numpy()
  if layer.activation is not None:
    out = np.maximum(out, 0)
  return np.floor(out * 2.0**-fixed_point.WEIGHT_BITS + 0.5)


def test_synthesis_is_exact_in_any_order_of_the_sums():
  """The sums are exact, so another order of them (NumPy, taps reversed)
  gives the same bits, where float32 would not."""
  model = _codec(context=None)
  synthesis = fixed_point.FixedPointSynthesis(model.hyper_synthesis)
  z_hat = _z_hat(model, shape=(2, 3, 4))
  x = np.floor(z_hat.numpy().astype(np.float64) / STEP + 0.5)
  for layer, (_, _, conv, _) in zip(model.hyper_synthesis.layers,
                                    synthesis._steps):  # pylint: disable=protected-access
    if isinstance(layer, SignalConv2D):
      x = _reference_signal_conv(x, layer, conv)
    else:
      inner = x
      for part, weights in zip((layer.conv_a, layer.conv_b), conv):
        padded = np.pad(inner, [(0, 0), (1, 1), (1, 1), (0, 0)])
        total = weights.bias.numpy() + sum(
            padded[:, th:th + x.shape[1], tw:tw + x.shape[2]] @
            weights.kernel.numpy()[th, tw]
            for th in reversed(range(3)) for tw in reversed(range(3)))
        if part is layer.conv_a:
          total = np.maximum(total, 0)
        inner = np.floor(total * 2.0**-fixed_point.WEIGHT_BITS + 0.5)
      x = x + inner
  np.testing.assert_array_equal(synthesis(z_hat).numpy(),
                                (x * STEP).astype(np.float32))


def test_context_is_refine_others_on_a_grid():
  model = _codec()
  context = model.context_model
  rng = np.random.default_rng(3)
  anchors = tf.constant(np.round(rng.normal(0, 4, (1, 4, 3, 6))) + 0.25,
                        tf.float32)
  loc = tf.constant(np.round(rng.normal(0, 2, (1, 4, 3, 6)) / STEP) * STEP,
                    tf.float32)
  index = tf.constant(np.round(rng.uniform(0, 40, (1, 4, 3, 6)) / STEP) *
                      STEP, tf.float32)
  fixed = fixed_point.FixedPointContext(context)(anchors, loc, index)
  floats = context.refine_others(anchors, loc, index)
  for a, b, before in zip(fixed, floats, (loc, index)):
    units = a.numpy() / STEP
    np.testing.assert_array_equal(units, np.round(units))
    np.testing.assert_allclose(a, b, atol=20 * STEP)
    assert np.abs(b - before).max() > 100 * STEP  # The context acts.


def test_overflow_is_refused():
  model = _codec(context=None)
  synthesis = fixed_point.FixedPointSynthesis(model.hyper_synthesis)
  with pytest.raises(fixed_point.FixedPointOverflow, match="beyond 2\\*\\*52"):
    synthesis(_z_hat(model) * 1e12)
  with pytest.raises(fixed_point.FixedPointOverflow):
    synthesis(_z_hat(model) * np.nan)


def test_settings_and_their_defaults():
  model = _codec()
  assert model.parameter_arithmetic == "fixed_point"
  config = model.get_config()
  assert config["parameter_arithmetic"] == "fixed_point"
  assert HyperpriorCodec.from_config(config).parameter_arithmetic == (
      "fixed_point")
  # Saved before the setting: float32 (and a context there: the grid).
  del config["parameter_arithmetic"], config["context_evaluation"]
  old = HyperpriorCodec.from_config(config)
  assert (old.parameter_arithmetic, old.context_evaluation) == ("float32",
                                                                "grid")
  # A newer model without a context given one (train --start-from ...
  # --context): the defaults.
  plain = _codec(context=None).get_config()
  assert "context_evaluation" not in plain
  added = HyperpriorCodec.from_config(dict(plain, context="checkerboard"))
  assert (added.parameter_arithmetic, added.context_evaluation) == (
      "fixed_point", "non_anchors")
  with pytest.raises(ValueError, match="parameter_arithmetic must be one of"):
    _codec(parameter_arithmetic="int8")
  with pytest.raises(ValueError, match="give parameter_arithmetic='float32'"):
    _codec(context_evaluation="grid")
  assert _codec(context=None).get_config()["parameter_arithmetic"] == (
      "fixed_point")


def _latents(model, seed=7, shape=(1, 8, 12)):
  return tf.constant(np.random.default_rng(seed).normal(
      0, 6, shape + (model.num_latents,)), tf.float32)


@pytest.mark.parametrize("context,variable_rate", [
    (None, False), ("checkerboard", False), ("checkerboard", True)])
def test_strings_decode_to_the_encoders_symbols(context, variable_rate):
  model = _codec(context=context, variable_rate=variable_rate)
  model.make_coders()
  y = _latents(model)
  strings, z_shape = model._compress_latents(y)  # pylint: disable=protected-access
  y_hat, loc, index = model.decode_latents(strings, z_shape)
  np.testing.assert_array_equal(y_hat, tf.round(y - loc) + loc)
  for values in (loc, index):  # On the fixed-point grid.
    units = values.numpy() / STEP
    np.testing.assert_array_equal(units, np.round(units))
  # About the bytes of the float32 computation.
  floats = _codec(context=context, variable_rate=variable_rate,
                  parameter_arithmetic="float32",
                  **({} if context is None else
                     dict(context_evaluation="non_anchors")))
  floats.make_coders()
  floats.set_weights(model.get_weights())
  float_strings, _ = floats._compress_latents(y)  # pylint: disable=protected-access
  size, float_size = sum(map(len, strings)), sum(map(len, float_strings))
  assert abs(size - float_size) <= 0.02 * float_size + 4, (size, float_size)


_DECODE_ELSEWHERE = """
import sys
sys.path[:0] = sys.argv[4].split(":")
import numpy as np
import tensorflow as tf
tf.config.threading.set_intra_op_parallelism_threads(1)
tf.config.threading.set_inter_op_parallelism_threads(1)
import keras
import tensorcoder.models
model = keras.models.load_model(sys.argv[1], compile=False)
saved = np.load(sys.argv[2], allow_pickle=True)
y_hat, loc, index = model.decode_latents(list(saved["strings"]),
                                         tuple(saved["z_shape"]))
np.savez(sys.argv[3], y_hat=y_hat, loc=loc, index=index)
"""


def test_decodes_the_same_bits_with_another_build_of_the_kernels(tmp_path):
  """Another process with one thread and TensorFlow's oneDNN kernels off
  (Eigen's instead, as builds without oneDNN use) computes the same
  locations and indexes, bit for bit, so it decodes the same symbols."""
  model = _codec()
  model.make_coders()
  path = str(tmp_path / "model.keras")
  model.save(path)
  y = _latents(model, shape=(1, 12, 16))
  strings, z_shape = model._compress_latents(y)  # pylint: disable=protected-access
  np.savez(tmp_path / "strings.npz", strings=np.array(strings, dtype=object),
           z_shape=np.array(z_shape))
  env = dict(os.environ, TF_ENABLE_ONEDNN_OPTS="0")
  subprocess.run(
      [sys.executable, "-c", _DECODE_ELSEWHERE, path,
       str(tmp_path / "strings.npz"), str(tmp_path / "theirs.npz"),
       os.pathsep.join(sys.path)], check=True, env=env)
  theirs = np.load(tmp_path / "theirs.npz")
  ours = model.decode_latents(strings, z_shape)
  for name, value in zip(("y_hat", "loc", "index"), ours):
    np.testing.assert_array_equal(theirs[name], value, err_msg=name)


def test_fixed_point_is_made_anew_with_the_tables():
  model = _codec(context=None)
  model.make_coders()
  z_hat = _z_hat(model)
  before = model.coding_parameters(z_hat)[0].numpy()
  bias, = [w for w in model.hyper_synthesis.layers[-1].weights
           if w.path.endswith("bias")]
  bias.assign(bias + 1.0)
  assert np.array_equal(model.coding_parameters(z_hat)[0], before)
  model.make_coders()
  assert not np.array_equal(model.coding_parameters(z_hat)[0], before)


def test_image_round_trip_and_reload():
  model = _codec(variable_rate=True)
  model.make_coders()
  image = np.random.default_rng(2).integers(0, 256, (70, 130, 3), np.uint8)
  strings, z_shape = model.compress(image, quality=2)
  decoded = model.decompress(strings, image.shape, z_shape, quality=2)
  with tempfile.TemporaryDirectory() as folder:
    path = os.path.join(folder, "model.keras")
    model.save(path)
    loaded = keras.models.load_model(path, compile=False)
  assert loaded.parameter_arithmetic == "fixed_point"
  assert loaded.compress(image, quality=2)[0] == strings
  np.testing.assert_array_equal(
      loaded.decompress(strings, image.shape, z_shape, quality=2), decoded)


if __name__ == "__main__":
  sys.exit(pytest.main([__file__, "-q"]))
