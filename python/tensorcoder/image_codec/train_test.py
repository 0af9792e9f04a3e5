"""Tests of the training pipeline: tf.data input, model.fit, resumption,
two workers under MultiWorkerMirroredStrategy, and bad input."""

import json
import os
import socket
import subprocess
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # pylint: disable=g-import-not-at-top
import numpy as np  # pylint: disable=g-import-not-at-top
import pytest  # pylint: disable=g-import-not-at-top
import tensorflow as tf  # pylint: disable=g-import-not-at-top
from PIL import Image  # pylint: disable=g-import-not-at-top

from tensorcoder import cli  # pylint: disable=g-import-not-at-top
from tensorcoder.image_codec import codec  # pylint: disable=g-import-not-at-top
from tensorcoder.image_codec import data  # pylint: disable=g-import-not-at-top
from tensorcoder.image_codec import train  # pylint: disable=g-import-not-at-top

TINY = dict(num_filters=8, num_latents=8, num_hyper_filters=8)


@pytest.fixture(autouse=True)
def _seed():
  keras.utils.set_random_seed(20261201)


def picture(height: int, width: int, seed: int) -> np.ndarray:
  """A seeded uint8 RGB image with structure (waves, an edge) and noise."""
  rng = np.random.default_rng(seed)
  y, x = np.mgrid[:height, :width]
  f = rng.uniform(3, 12, 3)
  base = np.stack([np.sin(x / f[0]), np.cos(y / f[1]),
                   np.sin((x + y) / f[2])], -1)
  base[:, width // 2:] *= -1
  return np.clip(128 + 90 * base + rng.normal(0, 6, base.shape), 0,
                 255).astype(np.uint8)


def write_pictures(folder, count=8, size=(96, 96)) -> list:
  os.makedirs(folder, exist_ok=True)
  paths = []
  for i in range(count):
    path = os.path.join(folder, f"img{i}.png")
    Image.fromarray(picture(*size, seed=i)).save(path)
    paths.append(path)
  return paths


@pytest.fixture(scope="module")
def pictures(tmp_path_factory):
  return str(tmp_path_factory.mktemp("pictures"))


@pytest.fixture(scope="module", autouse=True)
def _write(pictures):
  write_pictures(pictures)


def config_for(model_dir, pictures, **changes) -> train.TrainConfig:
  settings = dict(data=(pictures,), model_dir=str(model_dir), steps=3,
                  patch_size=64, batch_size=2, learning_rate=1e-3,
                  checkpoint_every=3, validation_images=2, validate_every=3,
                  seed=7, **TINY)
  settings.update(changes)
  return train.TrainConfig(**settings)


def batches(dataset, count: int) -> list:
  return [b.numpy() for b in dataset.take(count)]


# -- (a) the data pipeline ---------------------------------------------------


def test_image_files_searches_folders_globs_and_files(tmp_path):
  write_pictures(tmp_path / "a" / "b", count=2)
  Image.fromarray(picture(70, 70, 9)).save(tmp_path / "a" / "c.JPG")
  (tmp_path / "a" / "notes.txt").write_text("not an image")
  expected = sorted([str(tmp_path / "a" / "b" / "img0.png"),
                     str(tmp_path / "a" / "b" / "img1.png"),
                     str(tmp_path / "a" / "c.JPG")])
  assert data.image_files([str(tmp_path / "a")]) == expected
  assert data.image_files([str(tmp_path / "a" / "**" / "*.png"),
                           str(tmp_path / "a" / "c.JPG"),
                           str(tmp_path / "a")]) == expected
  with pytest.raises(ValueError, match="no images"):
    data.image_files([str(tmp_path / "a" / "*.gif")])
  with pytest.raises(ValueError, match="missing.png: cannot read"):
    data.image_files([str(tmp_path / "missing.png")])
  training, held = data.split_validation(expected, 1, seed=3)
  assert (training, held) == data.split_validation(expected, 1, seed=3)
  assert sorted(training + held) == expected and len(held) == 1
  with pytest.raises(ValueError, match="at least one must remain"):
    data.split_validation(expected, 3, seed=3)


def test_dataset_shapes_ranges_and_determinism(pictures):
  files = data.image_files([pictures])
  dataset = data.training_dataset(files, 64, 4, seed=1)
  assert dataset.cardinality() == tf.data.INFINITE_CARDINALITY
  assert dataset.element_spec.shape == (4, 64, 64, 3)
  first = batches(dataset, 5)
  for batch in first:
    assert batch.dtype == np.float32 and batch.shape == (4, 64, 64, 3)
    assert batch.min() >= 0 and batch.max() <= 255 and batch.max() > 1
    np.testing.assert_array_equal(batch, np.round(batch))  # uint8 pixels.
  again = batches(data.training_dataset(files, 64, 4, seed=1), 5)
  np.testing.assert_array_equal(np.stack(first), np.stack(again))
  other = batches(data.training_dataset(files, 64, 4, seed=2), 5)
  assert not np.array_equal(np.stack(first), np.stack(other))
  # Resuming at step 3 continues the same stream, and two shards together
  # (e.g. two workers) see what one pipeline sees.
  resumed = batches(data.training_dataset(files, 64, 4, 1, start_step=3), 2)
  np.testing.assert_array_equal(np.stack(resumed), np.stack(first[3:]))
  halves = [batches(data.training_dataset(files, 64, 4, 1, num_shards=2,
                                          shard_index=i), 5) for i in (0, 1)]
  np.testing.assert_array_equal(
      np.concatenate([np.stack(h) for h in halves], axis=1), np.stack(first))
  # 5 steps of 4 patches is 2.5 passes over the 8 files: each file is used.
  means = {float(p.mean()) for b in first for p in b}
  assert len(means) == 20


def test_dataset_reads_the_files_as_it_goes(tmp_path):
  """Nothing is loaded when the dataset is made: it decodes the files as
  it produces patches (the data set is never one array in memory)."""
  files = write_pictures(tmp_path / "p", count=3)
  dataset = data.training_dataset(files, 64, 3, seed=0)
  for i, path in enumerate(files):
    Image.fromarray(np.full((96, 96, 3), 10 * i + 5, np.uint8)).save(path)
  batch = batches(dataset, 1)[0]
  assert sorted(np.unique(batch)) == [5, 15, 25]


def test_validation_dataset_crops_to_the_factor(tmp_path):
  files = write_pictures(tmp_path / "v", count=1, size=(100, 150))
  files += write_pictures(tmp_path / "w", count=1, size=(40, 150))  # Skipped.
  shapes = [b.shape for b in data.validation_dataset(files, 64)]
  assert shapes == [(1, 64, 128, 3)]
  image = picture(100, 150, seed=0).astype(np.float32)
  only = next(iter(data.validation_dataset(files[:1], 64))).numpy()[0]
  np.testing.assert_array_equal(only, image[18:82, 11:139])


# -- (b) training --------------------------------------------------------------


def test_training_changes_the_weights_and_writes_a_usable_model(
    pictures, tmp_path):
  logs = []
  before = train.train(config_for(tmp_path / "zero", pictures, steps=0),
                       log=logs.append)
  after = train.train(config_for(tmp_path / "three", pictures),
                      log=logs.append)
  again = train.train(config_for(tmp_path / "again", pictures),
                      log=logs.append)
  assert any("validating on 2" in line for line in logs)
  initial = keras.models.load_model(before)
  trained = keras.models.load_model(after)
  changed = [not np.array_equal(a.numpy(), b.numpy()) for a, b in
             zip(initial.trainable_weights, trained.trainable_weights)]
  assert sum(changed) > len(changed) // 2
  # Deterministic for a seed.
  for a, b in zip(trained.weights, keras.models.load_model(again).weights):
    np.testing.assert_array_equal(a.numpy(), b.numpy())
  image = picture(70, 90, seed=11)
  decoded = codec.decompress_bytes(codec.compress_array(image, after), after)
  assert decoded.shape == image.shape and decoded.dtype == np.uint8
  assert sorted(os.listdir(tmp_path / "three")) == [
      "backup", "model.keras", "train_config.json"]


# -- (c) resumption ------------------------------------------------------------


def test_a_run_started_again_resumes(pictures, tmp_path):
  logs = []
  config = config_for(tmp_path, pictures, steps=4, checkpoint_every=2)
  train.train(config, log=logs.append)
  metadata = json.loads((tmp_path / "backup" /
                         "training_metadata.json").read_text())
  assert metadata["epoch"] == 2
  assert not any("resumed" in line for line in logs)
  logs.clear()
  train.train(config_for(tmp_path, pictures, steps=8, checkpoint_every=2),
              log=logs.append)
  assert any("resumed" in line and "at step 4" in line for line in logs)
  assert any("after 8 steps" in line for line in logs)
  metadata = json.loads((tmp_path / "backup" /
                         "training_metadata.json").read_text())
  assert metadata["epoch"] == 4


def test_a_broken_backup_falls_back_to_the_previous_one(pictures, tmp_path):
  # A run killed while BackupAndRestore rewrites the latest backup leaves a
  # truncated file; export and the next run use the previous backup (kept
  # by double_checkpoint), and the run repairs and resumes from it.
  train.train(config_for(tmp_path, pictures, steps=4, checkpoint_every=2),
              log=lambda *_: None)
  backup = tmp_path / "backup"
  assert sorted(os.listdir(backup)) == [
      "latest.weights.h5", "latest.weights.h5.bkp", "training_metadata.json",
      "training_metadata.json.bkp"]
  latest = backup / "latest.weights.h5"
  latest.write_bytes(latest.read_bytes()[:len(latest.read_bytes()) // 3])
  assert train.export_backup(str(tmp_path), str(tmp_path / "x.keras")) == 2
  logs = []
  train.train(config_for(tmp_path, pictures, steps=6, checkpoint_every=2),
              log=logs.append)
  assert any("is broken" in line and "previous backup" in line
             for line in logs)
  assert any("resumed" in line and "at step 2" in line for line in logs)
  assert any("after 6 steps" in line for line in logs)
  assert json.loads((backup / "training_metadata.json").read_text()) == {
      "epoch": 3, "batch": 0}
  # Gone for good (no previous backup either): a clear error, not a
  # silent start from scratch.
  latest.write_bytes(b"")
  (backup / "latest.weights.h5.bkp").write_bytes(b"junk")
  with pytest.raises((OSError, ValueError)):
    train.export_backup(str(tmp_path), str(tmp_path / "y.keras"))
  assert not (tmp_path / "y.keras").exists()


# -- (d) two workers -----------------------------------------------------------


def _free_ports(count: int) -> list:
  sockets = [socket.socket() for _ in range(count)]
  try:
    for s in sockets:
      s.bind(("localhost", 0))
    return [s.getsockname()[1] for s in sockets]
  finally:
    for s in sockets:
      s.close()


def test_two_workers_on_localhost(pictures, tmp_path):
  workers = [f"localhost:{port}" for port in _free_ports(2)]
  model_dir = tmp_path / "model"
  processes = []
  for index in range(2):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3",
               PYTHONPATH=os.pathsep.join(p for p in sys.path if p),
               TF_CONFIG=json.dumps({"cluster": {"worker": workers},
                                     "task": {"type": "worker",
                                              "index": index}}))
    processes.append(subprocess.Popen(
        [sys.executable, "-m", "tensorcoder", "train", "--data", pictures,
         "--model-dir", str(model_dir), "--steps", "3",
         "--checkpoint-every", "2", "--patch-size", "64", "--batch-size",
         "2", "--validation-images", "1", "--seed", "3",
         "--num-filters", "8", "--num-latents", "8",
         "--num-hyper-filters", "8"],
        env=env, cwd=tmp_path, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True))
  outputs = []
  try:
    for process in processes:
      outputs.append(process.communicate(timeout=300)[0])
  finally:
    for process in processes:
      if process.poll() is None:
        process.kill()
  for process, output in zip(processes, outputs):
    assert process.returncode == 0, output
  assert "2 replica(s)" in outputs[0] and "saved" in outputs[0]
  assert "not the chief" in outputs[1] and "saved" not in outputs[1]
  # Only the chief's files: the other worker wrote in a temporary folder.
  assert sorted(os.listdir(model_dir)) == [
      "backup", "model.keras", "train_config.json"]
  assert {name.removesuffix(".bkp") for name in os.listdir(
      model_dir / "backup")} == {"latest.weights.h5", "training_metadata.json"}
  image = picture(64, 64, seed=5)
  path = str(model_dir / "model.keras")
  assert codec.decompress_bytes(codec.compress_array(image, path),
                                path).shape == image.shape


# -- (e) bad input -------------------------------------------------------------


@pytest.mark.parametrize("case", ["empty", "not_an_image", "too_small",
                                  "tf_config"])
def test_bad_input_fails_in_one_line_and_writes_nothing(
    case, tmp_path, capsys, monkeypatch):
  folder = tmp_path / "in"
  folder.mkdir()
  patch = "64"
  if case == "not_an_image":
    write_pictures(folder, count=2)
    (folder / "broken.png").write_text("not an image")
  elif case == "too_small":
    write_pictures(folder, count=2)
    patch = "128"
  elif case == "tf_config":
    write_pictures(folder, count=2)
    monkeypatch.setenv("TF_CONFIG", "{not json")
  model_dir = tmp_path / "model"
  status = cli.main(["train", "--data", str(folder), "--model-dir",
                     str(model_dir), "--steps", "1", "--patch-size", patch,
                     "--validation-images", "0", *sum(
                         ([f"--{k.replace('_', '-')}", str(v)]
                          for k, v in TINY.items()), [])])
  captured = capsys.readouterr()
  assert status == 1
  lines = captured.err.strip().splitlines()
  assert len(lines) == 1 and lines[0].startswith("tensorcoder train: error:")
  message = {"empty": "no images", "not_an_image": "broken.png: not an image",
             "too_small": "at least 128x128", "tf_config": "TF_CONFIG"}[case]
  assert message in lines[0]
  assert not model_dir.exists()
  assert sorted(os.listdir(tmp_path)) == ["in"]


if __name__ == "__main__":
  sys.exit(pytest.main([__file__, "-q"]))
