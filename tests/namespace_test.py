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
  from tensorcoder import distributions, entropy_models, layers, ops  # pylint: disable=g-import-not-at-top
  from tensorcoder.ops import math_ops, round_ops  # pylint: disable=g-import-not-at-top
  assert tensorcoder.PowerLawEntropyModel is entropy_models.PowerLawEntropyModel
  for module in (distributions, entropy_models, layers, ops):
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


if __name__ == "__main__":
  sys.exit(pytest.main([__file__, "-q", "-p", "no:cacheprovider"]))
