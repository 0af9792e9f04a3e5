"""Tests of the checkerboard context (checkerboard.py) and of hyperprior
codecs that code with it."""

import os
import sys
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # pylint: disable=g-import-not-at-top
import numpy as np  # pylint: disable=g-import-not-at-top
import pytest  # pylint: disable=g-import-not-at-top
import tensorflow as tf  # pylint: disable=g-import-not-at-top

from tensorcoder.models import checkerboard  # pylint: disable=g-import-not-at-top
from tensorcoder.models import HyperpriorCodec  # pylint: disable=g-import-not-at-top
from tensorcoder.models import VariableRateHyperpriorCodec  # pylint: disable=g-import-not-at-top

SMALL = dict(num_filters=8, num_latents=6, num_hyper_filters=4)
LMBDAS = (0.002, 0.02)


@pytest.fixture(autouse=True)
def _seed_everything():
  """Every test starts from the same seeds (Python, NumPy, TF, Keras)."""
  keras.utils.set_random_seed(20261207)


def _positions(height, width):
  """[1, h, w, 1] tensor whose value is each position's row * 100 + column."""
  rows, columns = np.mgrid[:height, :width]
  return tf.constant((rows * 100 + columns)[None, :, :, None], tf.float32)


def test_split_orders_anchors_row_by_row():
  anchors, others = checkerboard.split(_positions(4, 6))
  np.testing.assert_array_equal(anchors[0, :, :, 0], [
      [0, 2, 4], [101, 103, 105], [200, 202, 204], [301, 303, 305]])
  np.testing.assert_array_equal(others[0, :, :, 0], [
      [1, 3, 5], [100, 102, 104], [201, 203, 205], [300, 302, 304]])


def test_merge_inverts_split():
  x = tf.random.stateless_normal([2, 6, 8, 3], [1, 2])
  np.testing.assert_array_equal(checkerboard.merge(*checkerboard.split(x)), x)


def test_mask_marks_the_anchors():
  x = _positions(4, 6)
  mask = checkerboard.anchor_mask(x)
  anchors, _ = checkerboard.split(x * mask + 1000 * (1 - mask))
  assert np.all(anchors.numpy() < 1000)
  _, others = checkerboard.split(x * mask)
  assert np.all(others.numpy() == 0)


def test_split_refuses_odd_sizes():
  with pytest.raises(ValueError, match="even height and width"):
    checkerboard.split(tf.zeros([1, 3, 4, 2]))


def _randomized(layer: checkerboard.ContextRefinement, seed: int = 3):
  """``layer`` with a random, non-zero output convolution (as after
  training)."""
  rng = np.random.default_rng(seed)
  for weight in layer.output_conv.weights:
    weight.assign(rng.normal(0, 0.3, weight.shape).astype(np.float32))
  return layer


def _parameters(shape=(1, 4, 6, 6)):
  rng = np.random.default_rng(5)
  return (tf.constant(rng.normal(0, 3, shape), tf.float32),
          tf.constant(rng.uniform(0, 40, shape), tf.float32))


def test_context_starts_as_no_change():
  layer = checkerboard.ContextRefinement(6)
  layer.build()
  loc, index = _parameters()
  anchors = tf.random.stateless_normal(loc.shape, [4, 4])
  new_loc, new_index = layer(anchors, loc, index)
  np.testing.assert_array_equal(new_loc, loc)
  np.testing.assert_array_equal(new_index, index)


def test_trained_context_changes_only_the_other_positions():
  layer = checkerboard.ContextRefinement(6)
  layer.build()
  _randomized(layer)
  loc, index = _parameters()
  anchors = tf.random.stateless_normal(loc.shape, [4, 4])
  new_loc, new_index = layer(anchors, loc, index)
  for old, new in ((loc, new_loc), (index, new_index)):
    old_anchors, old_others = checkerboard.split(old)
    new_anchors, new_others = checkerboard.split(new)
    np.testing.assert_array_equal(new_anchors, old_anchors)
    assert np.min(np.abs(new_others - old_others)) > 0


def test_merge_together_inverts_split_together():
  x = tf.random.stateless_normal([2, 6, 8, 3], [1, 2])
  u = tf.random.stateless_normal([2, 6, 8, 5], [3, 4])
  (x_anchors, u_anchors), (x_others, u_others) = checkerboard.split_together(
      x, u)
  for part, whole in ((x_anchors, x), (u_others, u)):
    assert part.shape == whole.shape[:2] + (4,) + whole.shape[3:]
  np.testing.assert_array_equal(x_anchors, checkerboard.split(x)[0])
  np.testing.assert_array_equal(u_others, checkerboard.split(u)[1])
  merged = checkerboard.merge_together([x_anchors, u_anchors],
                                       [x_others, u_others])
  np.testing.assert_array_equal(merged[0], x)
  np.testing.assert_array_equal(merged[1], u)


@pytest.mark.parametrize("shape", [(1, 4, 6, 6), (2, 6, 2, 6), (1, 2, 8, 6)])
def test_refine_others_is_call_at_the_non_anchors(shape):
  """The four-tap evaluation at the non-anchors is the 3x3 convolution's
  function, borders included (up to the order of the float sums)."""
  layer = checkerboard.ContextRefinement(6, num_hidden=5)
  layer.build()
  _randomized(layer)
  for weight in (layer.anchor_conv.kernel, layer.anchor_conv.bias):
    weight.assign(np.random.default_rng(8).normal(
        0, 0.2, weight.shape).astype(np.float32))
  loc, index = _parameters(shape)
  y_hat = tf.random.stateless_normal(shape, [6, 6]) * 4
  anchors, _ = checkerboard.split(y_hat)
  _, (loc_others, index_others) = checkerboard.split_together(loc, index)
  full = layer(y_hat * checkerboard.anchor_mask(y_hat), loc, index)
  sparse = layer.refine_others(anchors, loc_others, index_others)
  for whole, part, before in zip(full, sparse, (loc_others, index_others)):
    expected = checkerboard.split(whole)[1]
    np.testing.assert_allclose(part, expected,
                               atol=1e-6 * np.abs(expected).max())
    assert np.min(np.abs(part - before)) > 0  # It did refine them.


def _codec(context="checkerboard", variable_rate=True, **kwargs):
  if variable_rate:
    model = VariableRateHyperpriorCodec(lmbdas=LMBDAS, context=context,
                                        **SMALL, **kwargs)
  else:
    model = HyperpriorCodec(context=context, **SMALL, **kwargs)
  model.build()
  return model


def _latents(model, seed=7, shape=(1, 8, 12)):
  """Large random latents (many symbols far from 0)."""
  return tf.constant(np.random.default_rng(seed).normal(
      0, 6, shape + (model.num_latents,)), tf.float32)


def test_refuses_an_unknown_context():
  with pytest.raises(ValueError, match="context must be None or one of"):
    _codec(context="serial")


def test_context_reads_only_the_anchors():
  model = _codec()
  _randomized(model.context_model)
  loc, index = _parameters((1, 8, 12, 6))
  y_hat = _latents(model)
  noise = tf.random.stateless_normal(y_hat.shape, [9, 9])
  moved = y_hat + noise * (1 - checkerboard.anchor_mask(y_hat))
  for a, b in zip(model.entropy_parameters(y_hat, loc, index),
                  model.entropy_parameters(moved, loc, index)):
    np.testing.assert_array_equal(a, b)
  # The anchors do matter.
  moved = y_hat + noise * checkerboard.anchor_mask(y_hat)
  assert not np.array_equal(model.entropy_parameters(y_hat, loc, index)[0],
                            model.entropy_parameters(moved, loc, index)[0])


def test_refuses_an_unknown_context_evaluation():
  with pytest.raises(ValueError, match="context_evaluation must be one of"):
    _codec(context_evaluation="serial")


def test_context_evaluation_in_the_config():
  """New models evaluate the context at the non-anchors; a saved config
  without the setting (ladder-v8's) means the whole grid."""
  model = _codec()
  assert model.context_evaluation == "non_anchors"
  config = model.get_config()
  assert config["context_evaluation"] == "non_anchors"
  assert type(model).from_config(config).context_evaluation == "non_anchors"
  del config["context_evaluation"], config["parameter_arithmetic"]
  assert type(model).from_config(config).context_evaluation == "grid"
  assert _codec(context_evaluation="grid",
                parameter_arithmetic="float32").context_evaluation == "grid"
  assert "context_evaluation" not in _codec(context=None).get_config()


@pytest.mark.parametrize("variable_rate,evaluation,arithmetic", [
    (False, "non_anchors", "float32"), (True, "non_anchors", "float32"),
    (True, "grid", "float32"), (False, "non_anchors", "fixed_point"),
    (True, "non_anchors", "fixed_point")])
def test_strings_decode_to_the_encoders_symbols(variable_rate, evaluation,
                                                arithmetic):
  model = _codec(variable_rate=variable_rate, context_evaluation=evaluation,
                 parameter_arithmetic=arithmetic)
  _randomized(model.context_model)
  model.make_coders()
  y = _latents(model)
  strings, z_shape = model._compress_latents(y)  # pylint: disable=protected-access
  assert len(strings) == 3 and model.string_names == (
      "y_anchors", "y_others", "z")
  y_hat, loc, index = model.decode_latents(strings, z_shape)
  # What the encoder coded: y rounded around the refined locations.
  z_hat = model.z_coder.decompress(tf.constant([strings[2]]), z_shape)
  hyper_loc, hyper_index = model.coding_parameters(z_hat)
  expected_loc, expected_index = model.entropy_parameters(
      tf.round(y - hyper_loc) + hyper_loc, hyper_loc, hyper_index)
  if evaluation == "grid":  # The context as trained, on the whole grid.
    np.testing.assert_array_equal(loc, expected_loc)
    np.testing.assert_array_equal(index, expected_index)
  else:  # The same function, its sums in another order or in fixed point.
    step = 2.0**-12 if arithmetic == "fixed_point" else 0.0
    for value, expected in ((loc, expected_loc), (index, expected_index)):
      np.testing.assert_allclose(
          value, expected, atol=1e-6 * np.abs(expected).max() + 40 * step)
  np.testing.assert_array_equal(y_hat, tf.round(y - loc) + loc)
  # The context changed the others' parameters: without it they decode to
  # something else.
  assert not np.array_equal(loc, hyper_loc)
  with pytest.raises(ValueError, match="3 strings, but this model decodes 2"):
    _codec(context=None, variable_rate=variable_rate).check_strings(strings)


def test_a_new_context_codes_as_the_model_without_it():
  """With its output at zero, a context model's probabilities are the
  hyperprior's: the same symbols, about the same bytes (split into two
  strings)."""
  plain = _codec(context=None)
  model = _codec()
  added = {id(w) for w in model.context_model.weights}
  targets = [w for w in model.weights if id(w) not in added]
  assert len(targets) == len(plain.weights)
  for target, weight in zip(targets, plain.weights):
    target.assign(weight)
  plain.make_coders()
  model.make_coders()
  y = _latents(model)
  plain_strings, z_shape = plain._compress_latents(y)  # pylint: disable=protected-access
  strings, _ = model._compress_latents(y)  # pylint: disable=protected-access
  assert strings[2] == plain_strings[1]  # z
  np.testing.assert_array_equal(model.decode_latents(strings, z_shape)[0],
                                plain.decode_latents(plain_strings, z_shape)[0])
  # Each string carries a few bytes of the range coder's flush.
  assert abs(len(strings[0]) + len(strings[1]) - len(plain_strings[0])) <= 8


def test_images_round_trip_and_reload():
  model = _codec()
  _randomized(model.context_model)
  model.make_coders()
  image = np.random.default_rng(2).integers(0, 256, (70, 130, 3), np.uint8)
  strings, z_shape = model.compress(image, quality=2)
  decoded = model.decompress(strings, image.shape, z_shape, quality=2)
  assert decoded.shape == image.shape
  with tempfile.TemporaryDirectory() as folder:
    path = os.path.join(folder, "model.keras")
    model.save(path)
    loaded = keras.models.load_model(path, compile=False)
  assert loaded.context == "checkerboard"
  assert loaded.get_config()["context"] == "checkerboard"
  assert loaded.context_evaluation == "non_anchors"
  again, _ = loaded.compress(image, quality=2)
  assert again == strings
  np.testing.assert_array_equal(
      loaded.decompress(strings, image.shape, z_shape, quality=2), decoded)
  # Refined latents decode with the same decoder.
  refined, z_shape = loaded.compress(image, quality=2, refine=3)
  assert len(refined) == 3 and refined != strings
  loaded.decompress(refined, image.shape, z_shape, quality=2)


def test_without_context_the_config_is_unchanged():
  assert "context" not in _codec(context=None).get_config()


def test_the_context_trains():
  model = _codec()
  model.compile_for_training(1e-3)
  before = [w.numpy().copy() for w in model.context_model.weights]
  images = np.random.default_rng(4).integers(0, 256, (2, 64, 64, 3),
                                             np.uint8)
  model.fit(images, epochs=3, batch_size=2, verbose=0)
  after = [w.numpy() for w in model.context_model.weights]
  # Every weight moved: the zero output convolution in the first step, the
  # others once it is not zero.
  assert all(not np.array_equal(a, b) for a, b in zip(before, after))


if __name__ == "__main__":
  sys.exit(pytest.main([__file__, "-q"]))
