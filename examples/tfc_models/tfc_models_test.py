"""TFC's example image models, ported to Keras 3, train, export and code.

For bls2017 (factorized prior) and bmshj2018 (hyperprior), in float32 and
under mixed_float16: a few ``model.fit`` steps on tiny images move every
variable of the priors; the model is exported with ``tf.saved_model.save``;
the scripts' ``compress`` and ``decompress`` commands then run in separate
processes that load the SavedModel after a plain ``import tensorcoder``,
and the file and image they write equal what the trained model gives here.
"""

import os
import subprocess
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # pylint: disable=g-import-not-at-top
import numpy as np  # pylint: disable=g-import-not-at-top
import pytest  # pylint: disable=g-import-not-at-top
import tensorflow as tf  # pylint: disable=g-import-not-at-top

import tensorcoder as tfc  # pylint: disable=g-import-not-at-top

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import bls2017  # pylint: disable=g-import-not-at-top,wrong-import-position
import bmshj2018  # pylint: disable=g-import-not-at-top,wrong-import-position
import common  # pylint: disable=g-import-not-at-top,wrong-import-position


@pytest.fixture(autouse=True)
def _seed_everything():
  """Every test starts from the same seeds (Python, NumPy, TF, Keras)."""
  keras.utils.set_random_seed(20261201)
  yield
  keras.mixed_precision.set_global_policy("float32")


def _images(directory) -> str:
  """Six smooth 64x64 RGB PNGs; returns their glob."""
  rng = np.random.default_rng(0)
  for i in range(6):
    walk = np.cumsum(rng.normal(0, 6, (64, 64, 3)), axis=1)
    image = np.clip(walk + rng.uniform(60, 190), 0, 255).astype(np.uint8)
    common.write_png(os.path.join(directory, f"img{i}.png"), image)
  return os.path.join(directory, "*.png")


def _args(train_glob: str, tmp_path, **extra):
  _, train_cmd = common.parser("model")
  bmshj2018._extra_args(train_cmd)  # pylint: disable=protected-access
  return train_cmd.parse_args(
      ["--train_glob", train_glob, "--num_filters", "8", "--batchsize", "2",
       "--patchsize", "64", "--preprocess_threads", "1", "--lr", "1e-2",
       "--train_path", str(tmp_path / "backup"), "--seed", "3",
       "--num_scales", "16"] + [f"--{k}={v}" for k, v in extra.items()])


MODELS = {
    "bls2017": (bls2017, lambda a: bls2017.BLS2017Model(a.lmbda,
                                                        a.num_filters),
                "prior"),
    "bmshj2018": (bmshj2018, lambda a: bmshj2018.BMSHJ2018Model(
        a.lmbda, a.num_filters, a.num_scales, a.scale_min, a.scale_max),
                  "hyperprior"),
}


def _run(script: str, *args: str) -> None:
  env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
  result = subprocess.run([sys.executable, script, *args], env=env,
                          capture_output=True, text=True, check=False)
  assert result.returncode == 0, result.stderr[-3000:]


@pytest.mark.parametrize("policy", ["float32", "mixed_float16"])
@pytest.mark.parametrize("name", sorted(MODELS))
def test_trains_exports_and_codes_in_other_processes(name, policy, tmp_path):
  module, model_fn, prior_name = MODELS[name]
  keras.mixed_precision.set_global_policy(policy)
  args = _args(_images(str(tmp_path)), tmp_path)
  model = model_fn(args)
  prior = getattr(model, prior_name)
  prior_variables = list(prior.trainable_variables)
  assert prior_variables, "the prior has no trainable variables"
  # Keras must see the prior's variables, or they would never train.
  model_variables = {id(v) for v in model.trainable_variables}
  assert all(id(v) in model_variables for v in prior_variables)
  before = [v.numpy().copy() for v in model.trainable_variables]
  model.compile(optimizer=keras.optimizers.Adam(learning_rate=args.lr))
  model.fit(common.get_custom_dataset("train", args), epochs=1,
            steps_per_epoch=4, verbose=0)
  unchanged = [v.path for v, b in zip(model.trainable_variables, before)
               if np.array_equal(v.numpy(), b)]
  assert not unchanged, f"variables that did not train: {unchanged}"

  path = str(tmp_path / "saved")
  tf.saved_model.save(model, path)
  image = str(tmp_path / "img0.png")
  x = common.read_png(image)
  tensors = model.compress(x)
  expected_image = model.decompress(*tensors).numpy()
  packed = tfc.PackedTensors()
  packed.pack(tensors)

  script = module.__file__
  _run(script, "--model_path", path, "compress", image,
       str(tmp_path / "img0.tfci"))
  with open(tmp_path / "img0.tfci", "rb") as f:
    assert f.read() == packed.string
  _run(script, "--model_path", path, "decompress",
       str(tmp_path / "img0.tfci"), str(tmp_path / "img0.out.png"))
  decoded = common.read_png(str(tmp_path / "img0.out.png")).numpy()
  assert decoded.shape == (64, 64, 3)
  np.testing.assert_array_equal(decoded, expected_image)


def test_train_command_end_to_end(tmp_path):
  """The script's own `train` command (fit, then the compression tables)."""
  train_glob = _images(str(tmp_path))
  path = str(tmp_path / "bls")
  _run(bls2017.__file__, "--model_path", path, "train",
       "--train_glob", train_glob, "--num_filters", "8", "--batchsize", "2",
       "--patchsize", "32", "--epochs", "1", "--steps_per_epoch", "2",
       "--max_validation_steps", "1", "--preprocess_threads", "1",
       "--train_path", str(tmp_path / "backup"), "--seed", "1")
  loaded = tf.saved_model.load(path)
  x = common.read_png(str(tmp_path / "img1.png"))
  decoded = loaded.decompress(*loaded.compress(x))
  assert decoded.shape == (64, 64, 3) and decoded.dtype == tf.uint8


if __name__ == "__main__":
  sys.exit(pytest.main([__file__, "-q", "-p", "no:cacheprovider"]))
