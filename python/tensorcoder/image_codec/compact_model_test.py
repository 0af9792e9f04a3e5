"""Tests for compact_model: smaller .keras files that load as any other."""

import os
import sys
import warnings
import zipfile

import keras  # pylint: disable=g-import-not-at-top
import numpy as np  # pylint: disable=g-import-not-at-top
import pytest  # pylint: disable=g-import-not-at-top

from tensorcoder.image_codec import codec  # pylint: disable=g-import-not-at-top
from tensorcoder.image_codec import compact_model  # pylint: disable=g-import-not-at-top
from tensorcoder.models import HyperpriorCodec  # pylint: disable=g-import-not-at-top


def load(path):
  with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message=".*build_from_config")
    return keras.models.load_model(path, compile=False)


def photo(height=70, width=90, seed=0):
  rng = np.random.default_rng(seed)
  y, x = np.mgrid[:height, :width]
  base = np.stack([np.sin(x / 5.0), np.cos(y / 7.0), np.sin((x + y) / 9.0)],
                  -1)
  return np.clip(128 + 90 * base + rng.normal(0, 8, base.shape), 0,
                 255).astype(np.uint8)


@pytest.fixture(scope="module")
def model_file(tmp_path_factory):
  """A hyperprior model with tables, large enough that its kernels are
  rounded (``MIN_ROUNDED``), with seeded weights."""
  keras.utils.set_random_seed(3)
  model = HyperpriorCodec(num_filters=32, num_latents=32, num_hyper_filters=32,
                          lmbda=0.01)
  model.build()
  model.make_coders()
  path = str(tmp_path_factory.mktemp("model") / "model.keras")
  model.save(path)
  return path


def weights_in_order(model):
  """The model's weights in creation order (paths carry global layer-name
  counters, so two loads of one file name them differently)."""
  return dict(enumerate(np.asarray(w) for w in model.get_weights()))


def test_round_to_bfloat16():
  values = np.array([1.0, 1.00390625, 1.005859375, 1.0048828125, -3.1e-5,
                     np.inf, -np.inf, 0.0, 65504.0], np.float32)
  rounded = compact_model.round_to_bfloat16(values)
  # 1 + 2^-8 is a tie between 1 and 1 + 2^-7: to even (1); 1.005859375 is
  # 1 + 1.5 * 2^-8, nearer 1 + 2^-7.
  assert rounded[0] == 1.0 and rounded[1] == 1.0
  assert rounded[2] == np.float32(1.0078125)
  assert rounded[3] == np.float32(1.0078125)
  assert np.all(rounded.view(np.uint32)[np.isfinite(values)] & 0xFFFF == 0)
  assert np.array_equal(rounded[5:7], values[5:7])
  assert np.isnan(compact_model.round_to_bfloat16(
      np.array([np.nan], np.float32)))[0]
  finite = np.isfinite(values)
  assert np.all(np.abs(rounded[finite] - values[finite]) <=
                np.abs(values[finite]) * 2.0**-8)
  # A float32 that is already a bfloat16 value is kept.
  exact = np.float32([0.5, -2.0, 3.0, 1.0078125])
  assert np.array_equal(compact_model.round_to_bfloat16(exact), exact)


def test_lossless_keeps_every_bit(model_file, tmp_path):
  target = str(tmp_path / "compact.keras")
  before, after = compact_model.compact_model(model_file, target)
  assert after < before and after == os.path.getsize(target)
  original, compacted = load(model_file), load(target)
  a, b = weights_in_order(original), weights_in_order(compacted)
  assert a.keys() == b.keys()
  for path, value in a.items():
    assert value.dtype == b[path].dtype and value.shape == b[path].shape
    assert np.array_equal(value.view(np.uint8), b[path].view(np.uint8)), path
  # The same model: the same bytes for an image, decoded by the original.
  image = photo()
  strings, z_shape = compacted.compress(image)
  assert strings == original.compress(image)[0]
  assert np.array_equal(original.decompress(strings, image.shape, z_shape),
                        compacted.decompress(strings, image.shape, z_shape))


def test_bfloat16_weights_round_only_large_float_arrays(model_file, tmp_path):
  lossless = str(tmp_path / "lossless.keras")
  rounded = str(tmp_path / "rounded.keras")
  compact_model.compact_model(model_file, lossless)
  before, after = compact_model.compact_model(model_file, rounded,
                                              bfloat16_weights=True)
  assert after < 0.6 * os.path.getsize(lossless) < before
  a = weights_in_order(load(model_file))
  b = weights_in_order(load(rounded))
  rounded_count = 0
  for path, value in a.items():
    if value.dtype == np.float32 and value.size >= compact_model.MIN_ROUNDED:
      assert np.array_equal(b[path], compact_model.round_to_bfloat16(value))
      rounded_count += 1
    else:  # Tables (integers), biases and other small arrays: every bit.
      assert np.array_equal(value.view(np.uint8), b[path].view(np.uint8)), path
  assert rounded_count >= 8  # the transforms' kernels
  assert any(v.dtype.kind == "i" for v in a.values())  # the tables are there
  # The rounded model is a working codec of its own: its strings decode, and
  # its reconstruction is the original model's within a small difference.
  model = load(rounded)
  image = photo()
  strings, z_shape = model.compress(image)
  decoded = model.decompress(strings, image.shape, z_shape)
  assert decoded.shape == image.shape
  reference = load(model_file)
  reference_strings, reference_z_shape = reference.compress(image)
  expected = reference.decompress(reference_strings, image.shape,
                                  reference_z_shape)
  difference = np.abs(decoded.astype(int) - expected.astype(int))
  assert np.mean(difference) < 2.0


def test_the_shipped_model_compacts_losslessly(tmp_path):
  # The shipped files are stored compacted already: compacting again keeps
  # every bit and the size (the saving itself: test_lossless_keeps_every_bit).
  _, source = codec.model_path("hyperprior-v1")
  target = str(tmp_path / "hyperprior-v1.keras")
  before, after = compact_model.compact_model(source, target)
  assert after <= 1.01 * before
  a, b = weights_in_order(load(source)), weights_in_order(load(target))
  assert all(np.array_equal(v.view(np.uint8), b[k].view(np.uint8))
             for k, v in a.items())


def test_command_line(model_file, tmp_path, capsys):
  target = str(tmp_path / "out.keras")
  assert compact_model.main([model_file, target, "--bfloat16-weights"]) == 0
  assert "bfloat16" in capsys.readouterr().out
  assert os.path.getsize(target) < 0.6 * os.path.getsize(model_file)
  assert compact_model.main([str(tmp_path / "missing.keras"),
                             str(tmp_path / "other.keras")]) == 1
  assert "missing.keras" in capsys.readouterr().err
  assert not os.path.exists(tmp_path / "other.keras")


def test_bad_sources_are_refused_and_nothing_is_written(tmp_path):
  target = str(tmp_path / "out.keras")
  text = tmp_path / "text.keras"
  text.write_text("not a zip")
  with pytest.raises(ValueError, match="not a .keras model file"):
    compact_model.compact_model(str(text), target)
  no_weights = tmp_path / "no_weights.keras"
  with zipfile.ZipFile(no_weights, "w") as archive:
    archive.writestr("config.json", "{}")
  with pytest.raises(ValueError, match="no model.weights.h5"):
    compact_model.compact_model(str(no_weights), target)
  with pytest.raises(OSError):
    compact_model.compact_model(str(tmp_path / "missing.keras"), target)
  assert not os.path.exists(target)


if __name__ == "__main__":
  sys.exit(pytest.main([__file__, "-q"]))
