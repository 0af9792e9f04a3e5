"""``convert.py export-refs`` and ``start_weights.py``: a shipped model's
weights as references into its ``.keras`` file read back as the arrays of
the run's ladder. Needs the project's environment (TensorFlow, h5py), not
PyTorch:

    PYTHONPATH=$(tools/pytree.sh /tmp/py) .venv/bin/python -m pytest \\
        tools/torch_train/start_weights_test.py
"""

import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import keras  # pylint: disable=g-import-not-at-top
import numpy as np  # pylint: disable=g-import-not-at-top
import pytest  # pylint: disable=g-import-not-at-top

import convert  # pylint: disable=g-import-not-at-top
import start_weights  # pylint: disable=g-import-not-at-top
from tensorcoder.image_codec import relevel  # pylint: disable=g-import-not-at-top
from tensorcoder.image_codec import train  # pylint: disable=g-import-not-at-top

SHIPPED = (0.001, 0.002, 0.008, 0.03, 0.1)  # The shipped file's ladder.
TRAINED = (0.002, 0.008, 0.03)  # The run's: levels 2-4 of it.


@pytest.mark.parametrize("settings,inline_count", [
    ({}, 2),
    # The shipped architecture since ladder-v11: the four level modulation
    # weights move to the run's ladder with the gains, and are inline too.
    (dict(modulation=1, synthesis_blocks=2, hyper_blocks=1, context=1), 6)])
def test_references_read_back_as_the_runs_arrays(tmp_path, monkeypatch,
                                                 capsys, settings,
                                                 inline_count):
  keras.utils.set_random_seed(3)
  shipped = convert._model(8, 8, 8, SHIPPED, **settings)  # pylint: disable=protected-access
  # Trained weights differ from layer to layer; fresh ones (zero biases,
  # GDN's initial values) repeat, and repeated arrays are stored inline.
  rng = np.random.default_rng(0)
  for weight in shipped.trainable_weights:
    weight.assign(weight.numpy() + rng.uniform(0, 1e-3, weight.shape).astype(
        np.float32))
  shipped.make_coders()
  folder = tmp_path / "package"
  folder.mkdir()
  shipped.save(str(folder / "m.keras"))
  run = train.TrainConfig(
      data=("skimage:astronaut.png", "skimage:rocket.jpg",
            "skimage:coffee.png"),
      model_dir=str(tmp_path / "run"), lmbdas=TRAINED, num_filters=8,
      num_latents=8, num_hyper_filters=8, validation_images=1)
  os.makedirs(run.model_dir)
  train.write_run_config(run)
  monkeypatch.chdir(tmp_path)  # The repository root.
  convert.export_refs(os.path.join("package", "m.keras"), "start.npz",
                      run.model_dir, step=123)
  assert (f"references into package/m.keras, {inline_count} arrays inline"
          in capsys.readouterr().out)

  saved = np.load(tmp_path / "start.npz")
  # The architecture goes with the weights.
  assert {k: int(saved[k]) for k in convert.SETTINGS} == {
      k: settings.get(k, 0) for k in convert.SETTINGS}
  expected_model = convert._model(8, 8, 8, TRAINED, **settings)  # pylint: disable=protected-access
  relevel.move_gains(shipped, expected_model, SHIPPED, TRAINED)
  expected = [w.numpy() for w in expected_model.trainable_weights]
  # The gains (and modulation) are inline: the run's three levels are rows
  # 2-4 of the file's.
  inline = [i for i in range(len(expected)) if f"w{i:03d}" in saved.files]
  assert [expected_model.trainable_weights[i].path for i in inline] == [
      w.path for w in [expected_model.log_gain,
                       expected_model.log_inverse_gain] +
      expected_model.modulation_weights]
  moved = [shipped.log_gain, shipped.log_inverse_gain] + (
      shipped.modulation_weights)
  assert len(moved) == len(inline)
  for i, weight in zip(inline, moved):
    np.testing.assert_array_equal(saved[f"w{i:03d}"], weight.numpy()[1:4])
  assert start_weights.count(saved) == len(expected)
  got = start_weights.arrays(saved, str(tmp_path))
  assert len(got) == len(expected)
  for a, b in zip(got, expected):
    assert a.dtype == b.dtype and a.shape == b.shape
    np.testing.assert_array_equal(a, b)
  assert int(saved["step"]) == 123
  assert list(saved["lmbdas"]) == list(TRAINED)
  _, validation = train.split_files(run)
  assert list(saved["exclude"]) == [os.path.basename(f) for f in validation]
  assert len(validation) == 1

  # A reference the file does not hold, and a missing array, are errors.
  broken = dict(saved)
  first_ref = next(k for k in saved.files if k.startswith("r"))
  broken[first_ref] = np.array("layers/nothing/vars/0")
  np.savez(tmp_path / "broken.npz", **broken)
  with pytest.raises(ValueError, match="no dataset layers/nothing"):
    start_weights.arrays(np.load(tmp_path / "broken.npz"), str(tmp_path))
  del broken[first_ref]
  broken["w999"] = np.zeros(1)
  np.savez(tmp_path / "gap.npz", **broken)
  with pytest.raises(ValueError, match="is missing"):
    start_weights.arrays(np.load(tmp_path / "gap.npz"), str(tmp_path))


if __name__ == "__main__":
  sys.exit(pytest.main([__file__, "-q", "-p", "no:cacheprovider"]))
