"""Tests of the quality ladder: the variable-rate model, its training, the
quality in the ``.tci`` header, batch compress/decompress in one process,
and the evaluation of every level against JPEG, WebP and AVIF."""

import dataclasses
import os
import shutil
import subprocess
import sys
import threading

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # pylint: disable=g-import-not-at-top
import numpy as np  # pylint: disable=g-import-not-at-top
import pytest  # pylint: disable=g-import-not-at-top
from PIL import Image  # pylint: disable=g-import-not-at-top
import tensorflow as tf  # pylint: disable=g-import-not-at-top

from tensorcoder import cli  # pylint: disable=g-import-not-at-top
from tensorcoder.image_codec import batch  # pylint: disable=g-import-not-at-top
from tensorcoder.image_codec import codec  # pylint: disable=g-import-not-at-top
from tensorcoder.image_codec import container  # pylint: disable=g-import-not-at-top
from tensorcoder.image_codec import evaluate  # pylint: disable=g-import-not-at-top
from tensorcoder.image_codec import images  # pylint: disable=g-import-not-at-top
from tensorcoder.image_codec import precision  # pylint: disable=g-import-not-at-top
from tensorcoder.image_codec import train  # pylint: disable=g-import-not-at-top
from tensorcoder.models import VariableRateHyperpriorCodec  # pylint: disable=g-import-not-at-top

LMBDAS = (0.002, 0.008, 0.03, 0.1)


def photo(height=48, width=40, seed=0):
  rng = np.random.default_rng(seed)
  y, x = np.mgrid[:height, :width]
  base = np.stack([np.sin(x / 5.0), np.cos(y / 7.0), np.sin((x + y) / 9.0)],
                  -1)
  return np.clip(128 + 90 * base + rng.normal(0, 8, base.shape), 0,
                 255).astype(np.uint8)


@pytest.fixture(scope="module")
def ladder(tmp_path_factory):
  """A small four-level model trained by the train command's code."""
  directory = str(tmp_path_factory.mktemp("ladder"))
  config = train.TrainConfig(
      data=("skimage:astronaut.png", "skimage:rocket.jpg"),
      model_dir=directory, steps=60, patch_size=64, batch_size=4,
      learning_rate=1e-3, checkpoint_every=30, num_filters=8, num_latents=8,
      num_hyper_filters=8, lmbdas=LMBDAS, validation_images=0)
  return train.train(config, log=lambda *_: None)


def test_levels_are_a_ladder_and_each_decodes_exactly(ladder):
  model = codec.load_model(ladder)
  assert isinstance(model, VariableRateHyperpriorCodec)
  assert codec.qualities(ladder) == 4 and model.default_quality == 3
  image = photo(70, 90, seed=3)
  sizes, errors = [], []
  for quality in range(1, 5):
    data = codec.compress_array(image, ladder, quality)
    parsed = container.unpack(data)
    assert parsed.quality == quality and data[4] == 2  # format version 2
    decoded = codec.decompress_bytes(data, ladder)
    # The file decodes to exactly what the model reconstructs at that level.
    strings, side = model.compress(image, quality=quality)
    np.testing.assert_array_equal(
        decoded, model.decompress(strings, image.shape, side,
                                  quality=quality))
    sizes.append(len(data))
    errors.append(np.mean((decoded.astype(float) - image) ** 2))
  # The gains start apart (a finer quantization for a larger λ): the rate
  # grows with the level even after this short training.
  assert sizes == sorted(sizes) and sizes[0] < sizes[-1], sizes
  assert errors[-1] < errors[0], errors
  # The default level is the middle one.
  assert container.unpack(codec.compress_array(image, ladder)).quality == 3


def test_training_trains_the_gains_and_cycles_the_levels(ladder):
  model = codec.load_model(ladder)
  fresh = VariableRateHyperpriorCodec(lmbdas=LMBDAS, num_filters=8,
                                      num_latents=8, num_hyper_filters=8)
  assert not np.allclose(model.log_gain.numpy(), fresh.log_gain.numpy())
  assert not np.allclose(model.log_inverse_gain.numpy(),
                         fresh.log_inverse_gain.numpy())
  fresh.build()
  fresh.compile(optimizer=keras.optimizers.Adam(1e-3))
  fresh.optimizer.build(fresh.trainable_variables)
  fresh.optimizer.iterations.assign(5)
  # Patch i of step s is at level (s * B + i) mod Q.
  np.testing.assert_array_equal(fresh.training_levels(6).numpy(),
                                [(5 * 6 + i) % 4 for i in range(6)])


def test_rd_loss_weights_each_example_with_its_levels_lambda():
  keras.utils.set_random_seed(1)
  model = VariableRateHyperpriorCodec(lmbdas=LMBDAS, num_filters=8,
                                      num_latents=8, num_hyper_filters=8)
  model.build()
  batch_images = tf.constant(np.stack([photo(64, 64, seed=s)
                                       for s in range(2)]), tf.float32)
  both = model.rd_loss(batch_images, training=False, levels=[0, 3])
  singles = [model.rd_loss(batch_images[i:i + 1], training=False,
                           levels=[level])
             for i, level in ((0, 0), (1, 3))]
  expected = np.mean([float(t["bpp"]) + lmbda * float(t["mse"])
                      for t, lmbda in zip(singles, (LMBDAS[0], LMBDAS[3]))])
  assert float(both["loss"]) == pytest.approx(expected, rel=1e-4)


def test_training_under_mixed_precision():
  # Transforms in bfloat16, gains and the loss in float32.
  keras.mixed_precision.set_global_policy("mixed_bfloat16")
  try:
    keras.utils.set_random_seed(2)
    model = VariableRateHyperpriorCodec(lmbdas=LMBDAS, num_filters=8,
                                        num_latents=8, num_hyper_filters=8)
    model.build()
    images_ = tf.constant(photo(64, 64, seed=9)[None], tf.float32)
    with tf.GradientTape() as tape:
      terms = model.rd_loss(images_, training=True, levels=[1])
    gradients = tape.gradient(terms["loss"], model.trainable_variables)
  finally:
    keras.mixed_precision.set_global_policy("float32")
  assert terms["loss"].dtype == tf.float32 and np.isfinite(terms["loss"])
  assert model.log_gain.dtype == "float32"
  assert all(g is not None for g in gradients)


def test_train_precision_mixed_bfloat16(tmp_path):
  # --precision mixed_bfloat16: the run's transforms compute in bfloat16,
  # its weights stay float32, and the model it saves computes its analysis
  # and synthesis in bfloat16 too (the hyper transforms in float32) and
  # round-trips; the global policy is left as it was.
  settings = dict(
      data=("skimage:astronaut.png",), model_dir=str(tmp_path / "run"),
      steps=8, patch_size=64, batch_size=2, learning_rate=1e-3,
      checkpoint_every=4, num_filters=8, num_latents=8, num_hyper_filters=8,
      lmbdas=LMBDAS, validation_images=0, precision="mixed_bfloat16")
  config = train.TrainConfig(**settings)
  training = train._training_model(config)  # pylint: disable=protected-access
  assert training.analysis.layers[0].compute_dtype == "bfloat16"
  assert all(v.dtype == "float32" for v in training.trainable_variables)
  assert keras.mixed_precision.global_policy().name == "float32"
  initial = [v.numpy() for v in training.trainable_variables]
  lines = []
  path = train.train(config, log=lines.append)
  assert keras.mixed_precision.global_policy().name == "float32"
  # Where bfloat16 is slow, the run says so.
  assert any("no bfloat16 instructions" in line for line in lines) == (
      not precision.native_bfloat16())
  # Saved in bfloat16; the codec computes so where it is native, else in
  # float32 unless asked (image_codec.precision).
  assert codec.saved_precision(path) == "mixed_bfloat16"
  assert codec.load_model(path).transform_dtype == (
      precision.coding_precision("mixed_bfloat16"))
  model = codec.load_model(path, "mixed_bfloat16")
  assert {layer.compute_dtype for layer in model.analysis.layers +
          model.synthesis.layers} == {"bfloat16"}
  assert {layer.compute_dtype for layer in model.hyper_analysis.layers +
          model.hyper_synthesis.layers} == {"float32"}
  assert all(v.dtype == "float32" for v in model.trainable_variables)
  trained = [v.numpy() for v in model.trainable_variables]
  assert len(trained) == len(initial)
  assert sum(not np.array_equal(a, b) for a, b in zip(initial, trained)) > (
      len(initial) // 2)
  image = photo(64, 64, seed=4)
  decoded = codec.decompress_bytes(codec.compress_array(image, path, 2), path)
  assert decoded.shape == image.shape
  with pytest.raises(ValueError, match="--precision must be one of"):
    train.train(dataclasses.replace(config, precision="float16",
                                    model_dir=str(tmp_path / "bad")))
  assert not os.path.exists(tmp_path / "bad")


def test_precision_changes_the_transforms_not_the_meaning_of_the_bytes(
    ladder):
  # The ladder computes in float32; a bfloat16 copy has the same weights
  # and tables. Each decodes the other's files, into nearly the same image.
  assert codec.load_model(ladder).transform_dtype == "float32"
  assert codec.load_model(ladder, "float32") is codec.load_model(ladder)
  fast = codec.load_model(ladder, "mixed_bfloat16")
  assert fast.transform_dtype == "mixed_bfloat16"
  assert fast.analysis.layers[0].compute_dtype == "bfloat16"
  assert fast.hyper_synthesis.layers[0].compute_dtype == "float32"
  for a, b in zip(fast.weights, codec.load_model(ladder).weights):
    np.testing.assert_array_equal(a.numpy(), b.numpy())
  image = photo(70, 90, seed=5)
  exact = codec.compress_array(image, ladder, 2)
  rounded = codec.compress_array(image, ladder, 2, "mixed_bfloat16")
  assert abs(len(rounded) - len(exact)) <= 0.1 * len(exact)
  decodes = {}
  for name, data in (("exact", exact), ("rounded", rounded)):
    for policy in ("float32", "mixed_bfloat16"):
      decodes[name, policy] = codec.decompress_bytes(data, ladder, policy)
  def mse(a, b):
    return np.mean((a.astype(np.float64) - b.astype(np.float64))**2)
  reference = mse(decodes["exact", "float32"], image)
  for key, decoded in decodes.items():
    assert decoded.shape == image.shape and decoded.dtype == np.uint8
    assert abs(mse(decoded, image) / reference - 1) < 0.05, key
    # The synthesis alone: the same latents, pixels a little apart.
    assert mse(decoded, decodes[key[0], "float32"]) < 2, key
  # The default precision is the model's own: the same bytes as float32.
  assert codec.compress_array(image, ladder, 2, None) == exact
  with pytest.raises(ValueError, match="precision 'float16' is not one of"):
    codec.load_model(ladder, "float16")


def test_fractional_qualities_interpolate_the_gains(ladder):
  model = codec.load_model(ladder)
  low, _ = model.gains(2)
  high, _ = model.gains(3)
  middle, _ = model.gains(2.5)
  np.testing.assert_allclose(middle.numpy(),
                             np.sqrt(low.numpy() * high.numpy()), rtol=1e-5)
  for bad in (0, 4.5, float("nan"), "high"):
    with pytest.raises(ValueError, match="quality"):
      model.gains(bad)


def test_call_reconstructs_what_the_decoder_does(ladder):
  # model(images, quality=q) in evaluation mode rounds as the coders do.
  model = codec.load_model(ladder)
  image = photo(64, 64, seed=13)
  for quality in (1, 4):
    strings, side = model.compress(image, quality=quality)
    decoded = model.decompress(strings, image.shape, side, quality=quality)
    direct = model(tf.constant(image[None], tf.float32), quality=quality)
    difference = np.abs(np.clip(np.round(direct.numpy()[0]), 0, 255)
                        - decoded.astype(np.float64))
    assert difference.max() <= 1, difference.max()


def test_reloaded_ladder_gives_the_same_bytes(ladder, tmp_path):
  copy = str(tmp_path / "copy.keras")
  codec.load_model(ladder).save(copy)
  image = photo(33, 47, seed=4)
  reloaded = keras.models.load_model(copy, compile=False)
  for quality in (1, 4):
    expected = codec.load_model(ladder).compress(image, quality=quality)
    assert reloaded.compress(image, quality=quality)[0] == expected[0]


def test_export_backup_writes_the_trained_model(ladder, tmp_path):
  # The backup of the last full epoch (step 60) as a model file: the same
  # weights and tables as the run's own model.keras, so the same strings.
  target = str(tmp_path / "snapshot.keras")
  assert cli.main(["train", "--model-dir", os.path.dirname(ladder),
                   "--export-backup", target]) == 0
  umask = os.umask(0)
  os.umask(umask)
  assert os.stat(target).st_mode & 0o777 == 0o666 & ~umask
  image = photo(40, 56, seed=8)
  for quality in (1, 3):
    assert (codec.load_model(target).compress(image, quality=quality)[0] ==
            codec.load_model(ladder).compress(image, quality=quality)[0])
  # With --lmbdas: another ladder from the same backup. Levels at trained λ
  # give the trained level's strings; a level below them (extrapolated
  # gains) a lower rate.
  lower = str(tmp_path / "lower.keras")
  assert cli.main(["train", "--model-dir", os.path.dirname(ladder),
                   "--export-backup", lower, "--lmbdas", "0.0005",
                   *map(str, LMBDAS)]) == 0
  extended = codec.load_model(lower)
  assert extended.lmbdas == (0.0005,) + LMBDAS
  trained = codec.load_model(ladder)
  for quality in (1, 4):
    assert (extended.compress(image, quality=quality + 1)[0] ==
            trained.compress(image, quality=quality)[0])
  assert (sum(map(len, extended.compress(image, quality=1)[0])) <
          sum(map(len, trained.compress(image, quality=1)[0])))
  with pytest.raises(ValueError, match="ascending"):
    train.export_backup(os.path.dirname(ladder), str(tmp_path / "x.keras"),
                        lmbdas=(0.01, 0.001))
  with pytest.raises(ValueError, match="no training run with a backup"):
    train.export_backup(str(tmp_path), str(tmp_path / "x.keras"))
  assert not os.path.exists(tmp_path / "x.keras")


def test_resuming_with_another_ladder_moves_the_gains(ladder, tmp_path):
  # A run resumed with other --lmbdas keeps its transforms and step; each
  # new level gets the gains of its λ on the old ladder (interpolated by
  # log λ, extrapolated beyond it); the old backup is kept.
  run = str(tmp_path / "run")
  shutil.copytree(os.path.dirname(ladder), run)
  old_config = dataclasses.replace(train.run_config(run), model_dir=run)
  old = train._training_model(old_config)  # pylint: disable=protected-access
  assert train.load_backup(old, os.path.join(run, "backup"))
  new_lmbdas = (0.001, 0.008, 0.015, 0.03, 0.2)
  config = dataclasses.replace(old_config, lmbdas=new_lmbdas)
  logs = []
  path = train.train(config, log=logs.append)  # At step 60: nothing to train.
  assert any("moved the backup of step 60" in line for line in logs)
  model = codec.load_model(path)
  assert model.num_qualities == 5 and model.lmbdas == new_lmbdas
  assert tuple(train.run_config(run).lmbdas) == new_lmbdas
  old_gains = old.log_gain.numpy()
  gains = model.log_gain.numpy()
  np.testing.assert_array_equal(gains[1], old_gains[1])  # λ 0.008
  np.testing.assert_array_equal(gains[3], old_gains[2])  # λ 0.03
  log_l = np.log(LMBDAS)
  between = (np.log(0.015) - log_l[1]) / (log_l[2] - log_l[1])
  np.testing.assert_allclose(
      gains[2], (1 - between) * old_gains[1] + between * old_gains[2],
      rtol=1e-6)
  below = (np.log(0.001) - log_l[0]) / (log_l[1] - log_l[0])
  assert below < 0
  np.testing.assert_allclose(
      gains[0], (1 - below) * old_gains[0] + below * old_gains[1], rtol=1e-5)
  above = (np.log(0.2) - log_l[2]) / (log_l[3] - log_l[2])
  np.testing.assert_allclose(
      model.log_inverse_gain.numpy()[4],
      (1 - above) * old.log_inverse_gain.numpy()[2]
      + above * old.log_inverse_gain.numpy()[3], rtol=1e-5)
  assert np.all(np.diff(gains.mean(axis=1)) > 0)
  # The transforms are the old ones: at a level whose λ is an old level's,
  # the strings are the old model's.
  image = photo(40, 56, seed=8)
  assert (model.compress(image, quality=2)[0] ==
          codec.load_model(ladder).compress(image, quality=2)[0])
  # The old backup is kept as it was.
  kept = train._training_model(old_config)  # pylint: disable=protected-access
  assert train.load_backup(kept, os.path.join(run, "backup.lmbdas-60"))
  for a, b in zip(kept.trainable_variables, old.trainable_variables):
    np.testing.assert_array_equal(a.numpy(), b.numpy())
  # Training goes on from there with the new ladder, without moving again.
  logs.clear()
  path = train.train(dataclasses.replace(config, steps=64), log=logs.append)
  assert any("at step 60" in line for line in logs)
  assert not any("moved" in line for line in logs)
  assert codec.load_model(path).num_qualities == 5
  with pytest.raises(ValueError, match="--num-filters"):
    train.train(dataclasses.replace(config, lmbdas=LMBDAS, num_filters=4,
                                    steps=70), log=lambda *_: None)


def test_start_from_a_trained_model(ladder, tmp_path):
  """--start-from: a new run starts from a model file's weights (its gains
  moved to the run's ladder), trains from there, and refuses models of
  another kind or size before writing anything."""
  start = codec.load_model(ladder)
  base = dict(data=("skimage:astronaut.png",), patch_size=64, batch_size=4,
              checkpoint_every=2, num_filters=8, num_latents=8,
              num_hyper_filters=8, validation_images=0, start_from=ladder)
  quiet = lambda *_: None
  same = codec.load_model(train.train(train.TrainConfig(
      model_dir=str(tmp_path / "same"), steps=0, lmbdas=LMBDAS, **base),
                                      log=quiet))
  for a, b in zip(same.trainable_variables, start.trainable_variables):
    np.testing.assert_array_equal(a.numpy(), b.numpy())
  # Another ladder: the shared λ keep their gains, 0.3 is extrapolated.
  moved = codec.load_model(train.train(train.TrainConfig(
      model_dir=str(tmp_path / "moved"), steps=0,
      lmbdas=LMBDAS[1:] + (0.3,), **base), log=quiet))
  np.testing.assert_allclose(moved.log_gain.numpy()[:3],
                             start.log_gain.numpy()[1:], rtol=1e-6)
  np.testing.assert_array_equal(moved.analysis.weights[0].numpy(),
                                start.analysis.weights[0].numpy())
  # Training goes on from the start, not from random weights.
  trained = codec.load_model(train.train(train.TrainConfig(
      model_dir=str(tmp_path / "trained"), steps=2, lmbdas=LMBDAS,
      learning_rate=1e-4, **base), log=quiet))
  before = start.synthesis.weights[0].numpy()
  after = trained.synthesis.weights[0].numpy()
  assert not np.array_equal(before, after)
  assert np.abs(after - before).max() < 0.01
  for changes, message in [
      (dict(num_filters=16), "has --num-filters 8 --num-latents 8 "
       "--num-hyper-filters 8; give the same"),
      (dict(lmbdas=None), "variable-rate model: give --lmbdas"),
      (dict(start_from=str(tmp_path / "none.keras")), "neither a shipped"),
  ]:
    settings = dict(base, lmbdas=LMBDAS, steps=2)
    settings.update(changes)
    folder = tmp_path / "refused"
    with pytest.raises((ValueError, FileNotFoundError), match=message):
      train.train(train.TrainConfig(model_dir=str(folder), **settings),
                  log=quiet)
    assert not folder.exists()


def test_mixed_quantization_trains_the_synthesis_on_rounded_latents(
    tmp_path):
  keras.utils.set_random_seed(0)
  model = VariableRateHyperpriorCodec(lmbdas=LMBDAS, num_filters=8,
                                      num_latents=8, num_hyper_filters=8)
  model.build()
  rng = np.random.default_rng(0)
  y = tf.constant(rng.normal(0, 3, [1, 4, 4, 8]), tf.float32)
  loc = tf.constant(rng.normal(0, 1, [1, 4, 4, 8]), tf.float32)
  y_tilde = y + 0.25
  assert model._synthesis_input(y, y_tilde, loc, True) is y_tilde  # pylint: disable=protected-access
  model.mixed_quantization = True
  with tf.GradientTape() as tape:
    tape.watch(y)
    seen = model._synthesis_input(y, y_tilde, loc, True)  # pylint: disable=protected-access
    total = tf.reduce_sum(seen * tf.range(8.0))
  np.testing.assert_allclose(seen - loc, np.round(y - loc), atol=1e-5)
  # Straight through: the rounding passes gradients to y unchanged.
  np.testing.assert_array_equal(
      tape.gradient(total, y),
      np.broadcast_to(np.arange(8.0, dtype=np.float32), y.shape))
  # Evaluation always quantizes; only training mode is changed.
  assert model._synthesis_input(y, y_tilde, loc, False) is y_tilde  # pylint: disable=protected-access
  # A run trained so.
  path = train.train(train.TrainConfig(
      data=("skimage:astronaut.png",), model_dir=str(tmp_path / "mixed"),
      steps=4, patch_size=64, batch_size=4, checkpoint_every=2,
      num_filters=8, num_latents=8, num_hyper_filters=8, lmbdas=LMBDAS,
      validation_images=0, quantization="mixed"), log=lambda *_: None)
  assert train.run_config(str(tmp_path / "mixed")).quantization == "mixed"
  image = photo(64, 64)
  assert codec.decompress_bytes(codec.compress_array(image, path),
                                path).shape == image.shape
  with pytest.raises(ValueError, match="--quantization must be one of"):
    train.train(train.TrainConfig(model_dir=str(tmp_path / "bad"),
                                  quantization="round"))


def test_quality_errors(ladder):
  image = photo()
  for bad in (0, 5, -1):
    with pytest.raises(ValueError, match=r"not a level .* \(1 to 4\)"):
      codec.compress_array(image, ladder, bad)
  with pytest.raises(ValueError, match="must be an integer"):
    codec.compress_array(image, ladder, 2.5)
  with pytest.raises(ValueError, match="single quality"):
    codec.compress_array(image, "hyperprior-v1", 2)
  data = codec.compress_array(image, ladder, 2)
  parsed = container.unpack(data)
  for forged, message in (
      (dataclasses.replace(parsed, quality=9), "quality 9, but the model has "
       "levels 1 to 4"),
      (dataclasses.replace(parsed, quality=None), "no quality level for a "
       "variable-rate model")):
    with pytest.raises(container.ContainerError, match=message):
      codec.decompress_bytes(container.pack(forged), ladder)
  # Quality 0 never reaches the model.
  zero = bytearray(container.pack(dataclasses.replace(parsed, quality=1)))
  position = 6 + len(parsed.model_id)
  assert zero[position] == 1
  zero[position] = 0
  import zlib  # pylint: disable=g-import-not-at-top
  zero[-4:] = zlib.crc32(bytes(zero[:-4])).to_bytes(4, "little")
  with pytest.raises(container.ContainerError, match="quality 0"):
    container.unpack(bytes(zero))


def test_version_1_files_still_decode():
  # A single-rate model writes version 1, byte for byte what earlier
  # releases wrote, and reads it back; the quality is None.
  image = photo(20, 30, seed=6)
  data = codec.compress_array(image, "hyperprior-v1")
  assert data[4] == 1 and container.unpack(data).quality is None
  assert codec.decompress_bytes(data).shape == (20, 30, 3)
  # A version-1 file can't be decoded by a variable-rate model.
  parsed = container.unpack(data)
  assert container.pack(parsed) == data


def _cli(*args, cwd):
  env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
  env.pop("TENSORCODER_TRACEBACK", None)
  return subprocess.run([sys.executable, "-m", "tensorcoder", *args],
                        cwd=cwd, env=env, capture_output=True, text=True,
                        timeout=600, check=False)


def test_batch_compress_and_decompress_in_one_process(ladder, tmp_path):
  folder = tmp_path / "photos"
  folder.mkdir()
  for i, (h, w) in enumerate(((40, 50), (33, 21), (64, 64))):
    Image.fromarray(photo(h, w, seed=i)).save(folder / f"p{i}.png")
  (folder / "notes.txt").write_text("not an image")  # Not an input.
  (folder / "broken.png").write_bytes(b"not a PNG")
  result = _cli("compress", "photos", "--output-dir", "tci", "--model",
                ladder, "--quality", "2", cwd=tmp_path)
  # The broken image is reported in one line; the others are compressed.
  assert result.returncode == 1
  lines = result.stderr.splitlines()
  assert len(lines) == 1, result.stderr
  assert lines[0].startswith("tensorcoder compress: error: ")
  assert "broken.png: not an image file" in lines[0]
  assert sorted(os.listdir(tmp_path / "tci")) == ["p0.tci", "p1.tci",
                                                  "p2.tci"]
  assert "3 of 4 files compressed" in result.stdout
  for name in ("p0", "p1", "p2"):
    data = (tmp_path / "tci" / f"{name}.tci").read_bytes()
    assert container.unpack(data).quality == 2
  # A corrupted file among good ones: reported in one line, the others go
  # on, exit status 1, no output for the bad one.
  (tmp_path / "tci" / "bad.tci").write_bytes(b"TCIM\x02garbage")
  result = _cli("decompress", "tci", "--output-dir", "png", "--model",
                ladder, cwd=tmp_path)
  assert result.returncode == 1
  lines = result.stderr.splitlines()
  assert len(lines) == 1 and "bad.tci" in lines[0], result.stderr
  assert lines[0].startswith("tensorcoder decompress: error: ")
  assert sorted(os.listdir(tmp_path / "png")) == ["p0.png", "p1.png",
                                                  "p2.png"]
  for i, shape in enumerate(((40, 50), (33, 21), (64, 64))):
    assert images.load(str(tmp_path / "png" / f"p{i}.png")).shape[:2] == shape
  assert "3 of 4 files decompressed" in result.stdout


def test_batch_plans(tmp_path):
  for name in ("a.png", "b.jpg", "a.jpg"):
    Image.fromarray(photo(8, 8)).save(tmp_path / name)
  a, b = str(tmp_path / "a.png"), str(tmp_path / "b.jpg")
  # IN OUT is the one-file form; two images are two inputs.
  assert batch.plan([a, "x.tci"], None, True) == [batch.Job(a, "x.tci")]
  assert [j.target for j in batch.plan([a, b], None, True)] == [
      str(tmp_path / "a.tci"), str(tmp_path / "b.tci")]
  # a.png and a.jpg would overwrite each other's output.
  with pytest.raises(ValueError, match="would both be written"):
    batch.plan([str(tmp_path)], None, True)
  with pytest.raises(ValueError, match="no .tci files"):
    batch.plan([str(tmp_path)], None, False)
  with pytest.raises(ValueError, match="matches no file"):
    batch.plan([str(tmp_path / "*.webp")], None, True)
  assert [j.target for j in batch.plan([b], "out", True)] == [
      os.path.join("out", "b.tci")]
  # An --output-dir that is a file is refused before anything is written.
  (tmp_path / "file").write_bytes(b"")
  with pytest.raises(ValueError, match="not a folder"):
    batch.check_targets(batch.plan([a, b], str(tmp_path / "file"), True),
                        str(tmp_path / "file"))
  batch.check_targets(batch.plan([a], str(tmp_path / "new"), True),
                      str(tmp_path / "new"))
  assert os.listdir(tmp_path / "new") == []


def test_batch_run_overlaps_io_with_coding_and_keeps_the_order():
  # load and store run on another thread than code; the next job's load
  # happens while a job is coded (code waits for it), and the last job's
  # store too. A failure in any step is that job's, reported in order.
  jobs = [batch.Job(f"in{i}", f"out{i}") for i in range(6)]
  loaded = {i: threading.Event() for i in range(6)}
  stored = {i: threading.Event() for i in range(6)}
  main = threading.get_ident()
  threads = set()

  def load(job):
    i = int(job.source[2:])
    threads.add(threading.get_ident())
    loaded[i].set()
    if i == 1:
      raise ValueError("unreadable")
    return i

  def code(job, value):
    assert threading.get_ident() == main
    if value + 1 < len(jobs):
      assert loaded[value + 1].wait(10), "the next load did not overlap"
    if value in (4, 5):  # Jobs 3 and 4 reached their store.
      assert stored[value - 1].wait(10), "the last store did not overlap"
    if value == 2:
      raise RuntimeError("does not decode")
    return value * 10

  def store(job, result):
    threads.add(threading.get_ident())
    stored[result // 10].set()
    if result == 40:
      raise OSError("disk full")
    return f"{job.target}: {result}"

  events = []
  outcome = batch.run(jobs, load, code, store, events.append,
                      lambda job, error: events.append(f"{job.source} {error}"))
  assert events == ["out0: 0", "in1 unreadable", "in2 does not decode",
                    "out3: 30", "in4 disk full", "out5: 50"]
  assert (outcome.done, outcome.failed) == (3, 3)
  assert main not in threads and len(threads) == 1
  assert batch.run([], load, code, store, events.append, None).done == 0


def test_evaluate_every_level_with_bd_rates(ladder, tmp_path):
  sources = []
  for i in range(2):
    source = str(tmp_path / f"e{i}.png")
    Image.fromarray(photo(64, 96, seed=10 + i)).save(source)
    sources.append(source)
  plot = str(tmp_path / "rd.png")
  results = evaluate.evaluate(sources, ladder, plot=plot)
  assert [(r.name, r.quality) for r in results] == [
      (f"e{i}.png", q) for i in range(2) for q in range(1, 5)]
  assert Image.open(plot).size[0] > 500
  for r in results:
    data = codec.compress_array(images.load(
        str(tmp_path / r.name)), ladder, r.quality)
    assert r.bpp == 8 * len(data) / (64 * 96)
    assert r.curves["avif"].shape[1] == 4
  levels = evaluate.summary(results)
  assert [l.quality for l in levels] == [1, 2, 3, 4]
  assert levels[0].bpp == pytest.approx(np.mean([r.bpp for r in results
                                                 if r.quality == 1]))
  deltas = evaluate.bd_rates(results)
  assert set(deltas) == {"JPEG", "WebP", "AVIF"}
  text = evaluate.table(results)
  assert "BD-rate of tensorcoder" in text or "n/a" in text
  assert "Means over 2 image(s)" in text
  # The BD-rate of a codec against its own curve is 0.
  curve = evaluate.mean_baseline_curve(results, "WebP")
  rows = curve[(curve[:, 1] > 0.2) & (curve[:, 1] < 2)]
  from tensorcoder.image_codec import rd  # pylint: disable=g-import-not-at-top
  assert rd.bd_rate(rows[:, 1], rows[:, 2], rows[:, 1],
                    rows[:, 2]) == pytest.approx(0, abs=1e-9)
  side = str(tmp_path / "side.png")
  evaluate.side_by_side(results[2], side, crop=32)
  assert Image.open(side).size == (5 * 36 - 4, 32 + 18)


def test_cli_evaluate_writes_the_plot(ladder, tmp_path, monkeypatch, capsys):
  source = str(tmp_path / "e.png")
  Image.fromarray(photo(64, 64, seed=12)).save(source)
  monkeypatch.chdir(tmp_path)
  assert cli.main(["evaluate", source, "--model", ladder, "--quality", "1",
                   "4"]) == 0
  out = capsys.readouterr().out
  assert "wrote rd_plot.png" in out and "Means over 1 image(s)" in out
  assert Image.open(tmp_path / "rd_plot.png").size[0] > 500
  os.remove(tmp_path / "rd_plot.png")
  assert cli.main(["evaluate", source, "--model", ladder, "--quality", "2",
                   "--no-plot"]) == 0
  assert not os.path.exists(tmp_path / "rd_plot.png")
  assert cli.main(["evaluate", source, "--model", ladder, "--quality",
                   "9", "--no-plot"]) == 1
  assert "not a level" in capsys.readouterr().err


def test_cli_quality_flag(ladder, tmp_path):
  source = str(tmp_path / "in.png")
  Image.fromarray(photo(30, 40)).save(source)
  target = str(tmp_path / "in.tci")
  assert cli.main(["compress", source, target, "--model", ladder,
                   "--quality", "4"]) == 0
  assert container.unpack(open(target, "rb").read()).quality == 4
  assert cli.main(["compress", source, str(tmp_path / "bad.tci"), "--model",
                   ladder, "--quality", "7"]) == 1
  assert not os.path.exists(tmp_path / "bad.tci")


def test_cli_precision_flag(ladder, tmp_path, capsys):
  assert codec.PRECISIONS == train.PRECISIONS
  image = photo(30, 40, seed=6)
  source = str(tmp_path / "in.png")
  Image.fromarray(image).save(source)
  target = str(tmp_path / "in.tci")
  assert cli.main(["compress", source, target, "--model", ladder,
                   "--precision", "mixed_bfloat16"]) == 0
  assert open(target, "rb").read() == codec.compress_array(
      image, ladder, None, "mixed_bfloat16")
  output = str(tmp_path / "out.png")
  assert cli.main(["decompress", target, output, "--model", ladder,
                   "--precision", "float32"]) == 0
  np.testing.assert_array_equal(
      images.load(output),
      codec.decompress_bytes(open(target, "rb").read(), ladder, "float32"))
  with pytest.raises(SystemExit) as exit_info:
    cli.main(["compress", source, str(tmp_path / "bad.tci"), "--model",
              ladder, "--precision", "float16"])
  assert exit_info.value.code == 2
  assert "--precision: invalid choice: 'float16'" in capsys.readouterr().err
  assert not os.path.exists(tmp_path / "bad.tci")


def test_level_modulation(ladder, tmp_path):
  """--level-modulation: per-level scales and shifts of the transforms'
  hidden channels. Started from a model without it, the run starts from the
  identity (the same bytes at every level); trained, each level's
  transforms differ, every level decodes exactly (also in tiles), the file
  reloads with it, and a fractional quality interpolates it."""
  start = codec.load_model(ladder)
  base = dict(data=("skimage:astronaut.png",), patch_size=64, batch_size=4,
              checkpoint_every=2, num_filters=8, num_latents=8,
              num_hyper_filters=8, validation_images=0, start_from=ladder,
              lmbdas=LMBDAS, level_modulation=True)
  quiet = lambda *_: None
  image = photo(70, 90, seed=21)
  logs = []
  same = codec.load_model(train.train(train.TrainConfig(
      model_dir=str(tmp_path / "same"), steps=0, **base), log=logs.append))
  assert any("starts as the identity" in line for line in logs)
  assert same.level_modulation and not start.level_modulation
  assert len(same.modulation_weights) == 4
  for weight in same.modulation_weights:
    assert weight.shape == (4, 3, 8)
    np.testing.assert_array_equal(weight.numpy(), 0)
  for quality in range(1, 5):
    assert (same.compress(image, quality=quality)[0] ==
            start.compress(image, quality=quality)[0])
  # Trained: the modulation moves, level by level.
  path = train.train(train.TrainConfig(
      model_dir=str(tmp_path / "trained"), steps=8, learning_rate=1e-3,
      **base), log=quiet)
  model = codec.load_model(path)
  assert model.get_config()["level_modulation"] is True
  for weight in model.modulation_weights:
    values = weight.numpy()
    assert np.abs(values).max() > 1e-4
    assert not np.allclose(values[0], values[1])
  for quality in range(1, 5):
    data = codec.compress_array(image, path, quality)
    decoded = codec.decompress_bytes(data, path)
    strings, side = model.compress(image, quality=quality)
    np.testing.assert_array_equal(
        decoded, model.decompress(strings, image.shape, side,
                                  quality=quality))
    # The modulation is per channel: tiles give the same bytes and pixels.
    tiled, tiled_side = model.compress(image, quality=quality, tile=2)
    assert tiled == strings and tiled_side == side
    np.testing.assert_array_equal(
        decoded, model.decompress(strings, image.shape, side, tile=2,
                                  quality=quality))
    # call() (the graph training runs) reconstructs as the decoder.
    crop = image[:64, :64]
    strings, side = model.compress(crop, quality=quality)
    direct = model(tf.constant(crop[None], tf.float32), quality=quality)
    difference = np.abs(
        np.clip(np.round(direct.numpy()[0]), 0, 255) - model.decompress(
            strings, crop.shape, side, quality=quality).astype(np.float64))
    assert difference.max() <= 1, (quality, difference.max())
  # Without its modulation the model codes differently: it is used.
  plain = VariableRateHyperpriorCodec.from_config(
      dict(model.get_config(), level_modulation=False))
  plain.build()
  modulation = {id(w) for w in model.modulation_weights}
  plain.set_weights([w.numpy() for w in model.weights
                     if id(w) not in modulation])
  assert plain.compress(image, quality=4)[0] != model.compress(
      image, quality=4)[0]
  # The latent search (--refine) goes through the level's synthesis.
  from tensorcoder.models import refinement  # pylint: disable=g-import-not-at-top
  crop = tf.constant(image[None, :64, :64])
  gain, inverse = model.gains(2)
  y = tf.cast(model.analysis_at(2)(model._to_float(crop)), tf.float32) * gain  # pylint: disable=protected-access
  searched = [refinement.refine_latents(
      model, crop, y, model.level_lmbda(2), 3, inverse, synthesis=synthesis)[0]
              for synthesis in (model.synthesis_at(2), None)]
  assert not np.allclose(searched[0].numpy(), searched[1].numpy())
  strings, side = model.compress(image, quality=2, refine=3)
  assert model.decompress(strings, image.shape, side,
                          quality=2).shape == image.shape
  # A fractional quality: the scales geometric, the shifts linear.
  analysis_2, synthesis_2 = model.quality_modulations(2)
  analysis_3, _ = model.quality_modulations(3)
  analysis_m, synthesis_m = model.quality_modulations(2.5)
  for layer in range(3):
    np.testing.assert_allclose(
        analysis_m[layer][0].numpy(),
        np.sqrt(analysis_2[layer][0].numpy() * analysis_3[layer][0].numpy()),
        rtol=1e-5)
    np.testing.assert_allclose(
        analysis_m[layer][1].numpy(),
        (analysis_2[layer][1].numpy() + analysis_3[layer][1].numpy()) / 2,
        rtol=1e-5, atol=1e-7)
  assert synthesis_m is not None and synthesis_2 is not None
  # A reloaded copy gives the same bytes.
  copy = str(tmp_path / "copy.keras")
  model.save(copy)
  reloaded = keras.models.load_model(copy, compile=False)
  assert reloaded.compress(image, quality=2)[0] == model.compress(
      image, quality=2)[0]
  # Another ladder: the modulation of a level beyond the old ones is the
  # end level's (interpolated inside, never extrapolated).
  moved = codec.load_model(train.train(train.TrainConfig(
      model_dir=str(tmp_path / "moved"), steps=0, **dict(
          base, start_from=path, lmbdas=LMBDAS[1:] + (0.3,))), log=quiet))
  for old, new in zip(model.modulation_weights, moved.modulation_weights):
    np.testing.assert_allclose(new.numpy()[:3], old.numpy()[1:], rtol=1e-6)
    np.testing.assert_array_equal(new.numpy()[3], old.numpy()[3])
  # A modulated start needs --level-modulation.
  folder = tmp_path / "refused"
  with pytest.raises(ValueError, match="give --level-modulation"):
    train.train(train.TrainConfig(model_dir=str(folder), steps=2, **dict(
        base, start_from=path, level_modulation=False)), log=quiet)
  assert not folder.exists()


def test_encoder_only_training_with_analysis_blocks(ladder, tmp_path):
  """--analysis-blocks with --trainable encoder: residual blocks added to
  the start's analysis begin as the identity (the same bytes); training
  moves only the encoder's weights, so the decoder, its tables and the
  pixels decoded from any string stay the start's; tiled analysis reaches
  as far as the blocks; mismatched or start-less settings are refused."""
  start = codec.load_model(ladder)
  base = dict(data=("skimage:astronaut.png",), patch_size=64, batch_size=4,
              checkpoint_every=3, num_filters=8, num_latents=8,
              num_hyper_filters=8, validation_images=0, start_from=ladder,
              lmbdas=LMBDAS, analysis_blocks=1, trainable="encoder")
  quiet = lambda *_: None
  image = photo(70, 90, seed=22)
  logs = []
  same = codec.load_model(train.train(train.TrainConfig(
      model_dir=str(tmp_path / "same"), steps=0, **base), log=logs.append))
  assert any("the 1 added start as the identity" in line for line in logs)
  assert same.analysis_blocks == 1 and same.analysis_margin == 3
  assert same.get_config()["analysis_blocks"] == 1
  assert "analysis_blocks" not in start.get_config()
  for quality in range(1, 5):
    assert (same.compress(image, quality=quality)[0] ==
            start.compress(image, quality=quality)[0])
  run = str(tmp_path / "trained")
  path = train.train(train.TrainConfig(
      model_dir=run, steps=6, learning_rate=1e-3, **base), log=quiet)
  model = codec.load_model(path)
  encoder = {id(w) for w in model.encoder_weights()}
  decoder = [w for w in model.weights if id(w) not in encoder]
  start_encoder = {id(w) for w in start.encoder_weights()}
  start_decoder = [w for w in start.weights if id(w) not in start_encoder]
  # The decoder (transforms, priors, inverse gains, tables) is the start's,
  # bit for bit; the encoder moved, the blocks included.
  assert len(decoder) == len(start_decoder) > 0
  for a, b in zip(decoder, start_decoder):
    assert a.shape == b.shape
    np.testing.assert_array_equal(a.numpy(), b.numpy())
  blocks = [layer for layer in model.analysis.layers
            if isinstance(layer, keras.layers.Layer) and
            type(layer).__name__ == "ResidualBlock"]
  assert len(blocks) == 1
  assert np.abs(blocks[0].conv_b.kernel.numpy()).max() > 1e-4
  assert not np.array_equal(model.log_gain.numpy(), start.log_gain.numpy())
  assert not np.array_equal(model.analysis.weights[0].numpy(),
                            start.analysis.weights[0].numpy())
  for quality in range(1, 5):
    strings, side = model.compress(image, quality=quality)
    assert strings != start.compress(image, quality=quality)[0]
    decoded = model.decompress(strings, image.shape, side, quality=quality)
    np.testing.assert_array_equal(decoded, start.decompress(
        strings, image.shape, side, quality=quality))
    # Tiles as small as the blocks' reach allows: the same bytes.
    assert model.compress(image, quality=quality, tile=1) == (strings, side)
  # The backup exports as the same model (the frozen weights included).
  exported = str(tmp_path / "exported.keras")
  assert train.export_backup(run, exported) == 6
  for a, b in zip(codec.load_model(exported).weights, model.weights):
    np.testing.assert_array_equal(a.numpy(), b.numpy())
  for changes, message in [
      (dict(start_from=None), "--trainable encoder needs --start-from"),
      (dict(start_from=path, analysis_blocks=2),
       "has --analysis-blocks 1: give the same"),
      (dict(analysis_blocks=-1), "--analysis-blocks must be >= 0"),
      (dict(trainable="decoder"), "--trainable must be one of all, encoder"),
  ]:
    folder = tmp_path / "refused"
    with pytest.raises(ValueError, match=message):
      train.train(train.TrainConfig(model_dir=str(folder), steps=2,
                                    **dict(base, **changes)), log=quiet)
    assert not folder.exists()


def test_decoder_blocks(ladder, tmp_path):
  """--synthesis-blocks and --hyper-blocks: residual blocks added to the
  start's synthesis (after its first layer) and hyper-synthesis begin as
  the identity (the same bytes and pixels); trained, they move, every level
  decodes as the codec's own round trip (also in tiles as small as the
  blocks' reach allows, and with --refine), and call() reconstructs what
  the decoder does."""
  from tensorcoder.models import hyperprior  # pylint: disable=g-import-not-at-top
  from tensorcoder.models import tiling  # pylint: disable=g-import-not-at-top
  assert train.BLOCK_SETTINGS == hyperprior.BLOCK_SETTINGS
  start = codec.load_model(ladder)
  base = dict(data=("skimage:astronaut.png",), patch_size=64, batch_size=4,
              checkpoint_every=3, num_filters=8, num_latents=8,
              num_hyper_filters=8, validation_images=0, start_from=ladder,
              lmbdas=LMBDAS, level_modulation=True, synthesis_blocks=2,
              hyper_blocks=1)
  image = photo(70, 90, seed=23)
  logs = []
  same = codec.load_model(train.train(train.TrainConfig(
      model_dir=str(tmp_path / "same"), steps=0, **base), log=logs.append))
  assert any("synthesis: the 2 added start as the identity" in line
             for line in logs)
  assert any("hyper-synthesis: the 1 added start as the identity" in line
             for line in logs)
  assert same.synthesis_margin == 4 and same.analysis_margin == 2
  assert [type(l).__name__ for l in same.synthesis.layers] == [
      "SignalConv2D", "ResidualBlock", "ResidualBlock", "SignalConv2D",
      "SignalConv2D", "SignalConv2D"]
  for quality in (1, 4):
    strings, side = same.compress(image, quality=quality)
    assert strings == start.compress(image, quality=quality)[0]
    np.testing.assert_array_equal(
        same.decompress(strings, image.shape, side, quality=quality),
        start.decompress(strings, image.shape, side, quality=quality))
  path = train.train(train.TrainConfig(
      model_dir=str(tmp_path / "trained"), steps=6, learning_rate=1e-3,
      **base), log=lambda *_: None)
  model = codec.load_model(path)
  blocks = [layer for transform in (model.synthesis, model.hyper_synthesis)
            for layer in transform.layers
            if type(layer).__name__ == "ResidualBlock"]
  assert len(blocks) == 3
  for block in blocks:
    assert np.abs(block.conv_b.kernel.numpy()).max() > 1e-4
  for quality in range(1, 5):
    data = codec.compress_array(image, path, quality)
    decoded = codec.decompress_bytes(data, path)
    strings, side = model.compress(image, quality=quality)
    np.testing.assert_array_equal(decoded, model.decompress(
        strings, image.shape, side, quality=quality))
    np.testing.assert_array_equal(decoded, model.decompress(
        strings, image.shape, side, tile=1, quality=quality))
    crop = image[:64, :64]
    strings, side = model.compress(crop, quality=quality)
    direct = model(tf.constant(crop[None], tf.float32), quality=quality)
    difference = np.abs(
        np.clip(np.round(direct.numpy()[0]), 0, 255) - model.decompress(
            strings, crop.shape, side, quality=quality).astype(np.float64))
    assert difference.max() <= 1, (quality, difference.max())
  # The margin covers the blocks' reach, and is needed: one position less
  # differs (blocks made larger than 6 steps make them, to show it).
  strings, side = model.compress(image, quality=3)
  y_hat, _, _ = model.decode_latents(strings, side)
  rng = np.random.default_rng(5)
  for block in blocks:
    kernel = block.conv_b.kernel
    kernel.assign(rng.normal(0, 0.3, kernel.shape).astype(np.float32))
  synthesis = model.synthesis_at(3)
  whole = tiling.apply_tiled(synthesis, y_hat, 1, 16, 100, 0)
  tiled = tiling.apply_tiled(synthesis, y_hat, 1, 16, 1,
                             model.synthesis_margin)
  # (Transposed convolutions may sum in another order: tiling's docstring.)
  np.testing.assert_allclose(tiled, whole, rtol=1e-5, atol=1e-4)
  narrow = tiling.apply_tiled(synthesis, y_hat, 1, 16, 1,
                              model.synthesis_margin - 1)
  assert np.abs(narrow - whole).max() > 1e-3
  strings, side = model.compress(image, quality=2, refine=3, tile=1)
  assert model.decompress(strings, image.shape, side,
                          quality=2).shape == image.shape


def test_checkerboard_context(ladder, tmp_path):
  """--context checkerboard: a context added to the start changes nothing at
  first (the same symbols and pixels; y in two strings of about the same
  bytes); trained, it moves and every level decodes as the codec's own
  round trip, also through files and with --refine; a run cannot drop a
  start's context or train one with --trainable encoder."""
  start = codec.load_model(ladder)
  base = dict(data=("skimage:astronaut.png",), patch_size=64, batch_size=4,
              checkpoint_every=3, num_filters=8, num_latents=8,
              num_hyper_filters=8, validation_images=0, start_from=ladder,
              lmbdas=LMBDAS, context="checkerboard")
  image = photo(70, 90, seed=29)
  logs = []
  same = codec.load_model(train.train(train.TrainConfig(
      model_dir=str(tmp_path / "same"), steps=0, **base), log=logs.append))
  assert any("no context: a checkerboard one is added" in line
             for line in logs)
  assert same.context == "checkerboard" and len(same.string_names) == 3
  for quality in (1, 4):
    strings, side = same.compress(image, quality=quality)
    plain, _ = start.compress(image, quality=quality)
    assert strings[2] == plain[1]
    assert abs(len(strings[0]) + len(strings[1]) - len(plain[0])) <= 8
    np.testing.assert_array_equal(
        same.decompress(strings, image.shape, side, quality=quality),
        start.decompress(plain, image.shape, side, quality=quality))
  path = train.train(train.TrainConfig(
      model_dir=str(tmp_path / "trained"), steps=6, learning_rate=1e-3,
      **base), log=lambda *_: None)
  model = codec.load_model(path)
  assert np.abs(model.context_model.output_conv.kernel.numpy()).max() > 1e-4
  for quality in range(1, 5):
    data = codec.compress_array(image, path, quality)
    assert len(codec.parse(data).strings) == 3
    decoded = codec.decompress_bytes(data, path)
    strings, side = model.compress(image, quality=quality)
    np.testing.assert_array_equal(decoded, model.decompress(
        strings, image.shape, side, quality=quality))
    # Tiles: the same latents; the transposed convolutions may sum in
    # another order (tiling), so a pixel may round the other way.
    tiled = model.decompress(strings, image.shape, side, tile=1,
                             quality=quality)
    assert np.abs(tiled.astype(int) - decoded).max() <= 1
  data = codec.compress_array(image, path, 2, refine=3)
  assert codec.decompress_bytes(data, path).shape == image.shape
  # A start with a context keeps it; the encoder alone cannot train it.
  with pytest.raises(ValueError, match="has --context checkerboard"):
    train.train(train.TrainConfig(
        model_dir=str(tmp_path / "dropped"), steps=1,
        **dict(base, start_from=path, context=None)))
  with pytest.raises(ValueError, match="cannot train with --trainable"):
    train.train(train.TrainConfig(
        model_dir=str(tmp_path / "encoder"), steps=1, trainable="encoder",
        **base))
  assert not (tmp_path / "dropped").exists()
  assert not (tmp_path / "encoder").exists()


@pytest.mark.parametrize("flags, message", [
    (["--lmbda", "0.01", "--lmbdas", "0.001", "0.01"], "not both"),
    (["--lmbdas", "0.01", "0.001"], "ascending"),
    (["--lmbdas", "0.01"], "two or more"),
    (["--level-modulation"], "--level-modulation needs --lmbdas"),
    (["--trainable", "encoder"], "--trainable encoder needs --start-from"),
], ids=["both", "descending", "one", "modulation", "encoder"])
def test_train_refuses_bad_lambdas(tmp_path, capsys, flags, message):
  directory = tmp_path / "run"
  assert cli.main(["train", "--data", "skimage:astronaut.png", "--model-dir",
                   str(directory), "--steps", "1", *flags]) == 1
  assert message in capsys.readouterr().err
  assert not directory.exists()


if __name__ == "__main__":
  sys.exit(pytest.main([__file__, "-q"]))
