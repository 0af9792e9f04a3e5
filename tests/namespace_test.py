"""The top-level namespace: lazy, and complete for the public names."""

import os
import subprocess
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import pytest  # pylint: disable=g-import-not-at-top


def run(code: str) -> str:
  return subprocess.run(
      [sys.executable, "-c", code], check=True, capture_output=True, text=True,
      env=dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))).stdout


def test_import_is_lazy():
  out = run("import sys, tensorcoder, tensorcoder.coder; "
            "print('tensorflow' in sys.modules)")
  assert out.strip() == "False"


def test_top_level_names_resolve():
  pytest.importorskip("tensorflow")
  import tensorcoder  # pylint: disable=g-import-not-at-top
  from tensorcoder import datasets, distributions, entropy_models, layers, ops, util  # pylint: disable=g-import-not-at-top
  from tensorcoder.ops import math_ops, round_ops  # pylint: disable=g-import-not-at-top
  assert tensorcoder.PowerLawEntropyModel is entropy_models.PowerLawEntropyModel
  for module in (datasets, distributions, entropy_models, layers, ops, util):
    for name in module.__all__:
      assert getattr(tensorcoder, name) is getattr(module, name), name
  for name in ("soft_round", "soft_round_inverse",
               "soft_round_conditional_mean"):
    assert getattr(tensorcoder, name) is getattr(round_ops, name), name
  for name in ("lower_bound", "upper_bound", "perturb_and_apply"):
    assert getattr(tensorcoder, name) is getattr(math_ops, name), name
  assert "range_encode" in dir(tensorcoder)
  with pytest.raises(AttributeError, match="no attribute 'nope'"):
    tensorcoder.nope  # pylint: disable=pointless-statement


def test_models_work_without_tfp_or_keras2():
  """TFP may be installed (its priors are tested), but nothing imports it."""
  pytest.importorskip("tensorflow")
  out = run(
      "import sys, numpy as np, tensorcoder as tc\n"
      "import tensorcoder.models, tensorcoder.image_codec.codec\n"
      "em = tc.LocationScaleIndexedEntropyModel(tc.NoisyNormal, 8, "
      "tc.GeometricScales(0.5, 8, 8), coding_rank=1, compression=True)\n"
      "x = np.linspace(-5, 5, 20).astype('float32')\n"
      "i = np.full(20, 3.0, 'float32')\n"
      "assert (em.decompress(em.compress(x, i), i).numpy() == "
      "np.round(x)).all()\n"
      "eb = tc.EntropyBottleneck()\n"
      "eb(np.zeros((1, 4, 4, 2), 'float32'))\n"
      "print(sorted(m for m in ('tensorflow_probability', 'tf_keras') "
      "if m in sys.modules))\n")
  assert out.strip().splitlines()[-1] == "[]"


_LOAD = """
import sys
{first}
x = tf.constant([[0.0, 3.0, -2.0, 1000.0]])
loaded = tf.saved_model.load(sys.argv[1])
strings = loaded.encode(x)
print(loaded.decode(strings).numpy().tolist(), strings.numpy()[0].hex())
"""


@pytest.mark.parametrize("first", [
    "import tensorcoder\nimport tensorflow as tf",
    "import tensorflow as tf\nimport tensorcoder",
    "import tensorcoder.coder\nimport tensorflow as tf",
    "import tensorflow as tf\nfrom tensorcoder import NoisyNormal",
])
def test_import_registers_ops_for_saved_models(first, tmp_path):
  # Issue #12, defect 6: loading a SavedModel that uses tensorcoder's ops
  # needs the op types registered; TFC registers them on import, so does
  # tensorcoder, whichever of TensorFlow and tensorcoder comes first.
  tf = pytest.importorskip("tensorflow")
  from tensorcoder import ops  # pylint: disable=g-import-not-at-top
  lookup = tf.constant([[-8, 0, 100, 200, 250, 256]], tf.int32)
  offset = tf.constant([-1], tf.int32)
  module = tf.Module()
  spec = tf.TensorSpec([1, 4], tf.float32)
  module.encode = tf.function(input_signature=[spec])(
      lambda x: ops.entropy_model_encode(x, tf.zeros([0], tf.int32), lookup,
                                         offset, indexed=False))
  module.decode = tf.function(
      input_signature=[tf.TensorSpec([1], tf.string)])(
          lambda s: ops.entropy_model_decode(
              s, tf.zeros([0], tf.int32), 4, lookup, offset, T=tf.float32,
              indexed=False, check=True))
  path = str(tmp_path / "saved")
  tf.saved_model.save(module, path)
  expected = module.encode(tf.constant([[0.0, 3.0, -2.0, 1000.0]]))
  out = subprocess.run(
      [sys.executable, "-c", _LOAD.format(first=first), path], check=True,
      capture_output=True, text=True,
      env=dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))).stdout
  values, hex_string = out.strip().splitlines()[-1].rsplit(" ", 1)
  assert values == "[[0.0, 3.0, -2.0, 1000.0]]"
  assert hex_string == expected.numpy()[0].hex()


def test_plain_import_still_does_not_import_tensorflow():
  out = run("import sys, tensorcoder; "
            "print('tensorflow' in sys.modules, "
            "any(type(f).__name__ == '_AfterTensorFlowImport' "
            "for f in sys.meta_path))")
  assert out.strip() == "False True"


if __name__ == "__main__":
  sys.exit(pytest.main([__file__, "-q", "-p", "no:cacheprovider"]))
