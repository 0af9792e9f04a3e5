"""TFC's example image models, ported to Keras 3, train, export and code.

For bls2017 (factorized prior), bmshj2018 (hyperprior) and ms2020
(channel-wise autoregressive), in float32 and under mixed_float16: a few
``model.fit`` steps on tiny images move every trainable variable, the
priors' included; the model is exported with ``tf.saved_model.save``;
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
import ms2020  # pylint: disable=g-import-not-at-top,wrong-import-position


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


def _args(train_glob: str, tmp_path, module=bmshj2018, flags=(), **extra):
  _, train_cmd = common.parser("model")
  module._extra_args(train_cmd)  # pylint: disable=protected-access
  return train_cmd.parse_args(
      ["--train_glob", train_glob, "--num_filters", "8", "--batchsize", "2",
       "--patchsize", "64", "--preprocess_threads", "1", "--lr", "1e-2",
       "--train_path", str(tmp_path / "backup"), "--seed", "3",
       "--num_scales", "16", *flags] +
      [f"--{k}={v}" for k, v in extra.items()])


def _scale_up_z(model) -> None:
  """Makes ms2020's z_hat nonzero from the first step.

  At initialization |z| is about 0.03, so z_hat = round(z) is all zero and
  the hyper-synthesis transforms (zero biases, ReLU) and the first slice's
  mean and scale transforms (whose only input they are) get exactly zero
  gradients until z has grown, which takes far more than a few steps (TFC
  alike). The hyper-analysis output layer is linear and has no bias, so
  scaling its kernel scales z.
  """
  output_layer = model.hyper_analysis_transform.layers[-1]
  for variable in output_layer.trainable_variables:
    variable.assign(variable * 100.)


# name: (script, model from args, attribute of the prior, script whose
# train options to parse, extra train options, setup before training).
MODELS = {
    "bls2017": (bls2017, lambda a: bls2017.BLS2017Model(a.lmbda,
                                                        a.num_filters),
                "prior", bmshj2018, (), None),
    "bmshj2018": (bmshj2018, lambda a: bmshj2018.BMSHJ2018Model(
        a.lmbda, a.num_filters, a.num_scales, a.scale_min, a.scale_max),
                  "hyperprior", bmshj2018, (), None),
    # Two slices, the second conditioned on the first.
    "ms2020": (ms2020, lambda a: ms2020.model_fn(
        a, hyper_analysis_filters=(8, 8), hyper_synthesis_filters=(8, 8, 8),
        slice_filters=(8, 8)), "hyperprior", ms2020,
               ("--latent_depth", "8", "--hyperprior_depth", "4",
                "--num_slices", "2", "--max_support_slices", "-1"),
               _scale_up_z),
}


def _run(script: str, *args: str) -> None:
  env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
  result = subprocess.run([sys.executable, script, *args], env=env,
                          capture_output=True, text=True, check=False)
  assert result.returncode == 0, result.stderr[-3000:]


@pytest.mark.parametrize("policy", ["float32", "mixed_float16"])
@pytest.mark.parametrize("name", sorted(MODELS))
def test_trains_exports_and_codes_in_other_processes(name, policy, tmp_path):
  module, model_fn, prior_name, args_module, flags, setup = MODELS[name]
  keras.mixed_precision.set_global_policy(policy)
  args = _args(_images(str(tmp_path)), tmp_path, args_module, flags)
  model = model_fn(args)
  dataset = common.get_custom_dataset("train", args)
  # Keras 3's build(input_shape) does not run `call`, so the transforms'
  # variables appear at the first call: make them before the snapshot.
  model(next(iter(dataset)))
  if setup is not None:
    setup(model)
  prior = getattr(model, prior_name)
  prior_variables = list(prior.trainable_variables)
  assert prior_variables, "the prior has no trainable variables"
  # Keras must see the prior's variables, or they would never train.
  model_variables = {id(v) for v in model.trainable_variables}
  assert all(id(v) in model_variables for v in prior_variables)
  assert len(model.trainable_variables) > len(prior_variables)
  before = [v.numpy().copy() for v in model.trainable_variables]
  model.compile(optimizer=keras.optimizers.Adam(learning_rate=args.lr))
  # Made here, the optimizer's slots are not created inside the first traced
  # step, which Keras would then trace twice (slow, not different).
  model.optimizer.build(model.trainable_variables)
  model.fit(dataset, epochs=1, steps_per_epoch=4, verbose=0)
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
