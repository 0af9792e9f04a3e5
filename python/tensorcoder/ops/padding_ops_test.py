"""Tests of same_padding_for_kernel."""

import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # pylint: disable=g-import-not-at-top
import numpy as np  # pylint: disable=g-import-not-at-top
import pytest  # pylint: disable=g-import-not-at-top

from tensorcoder.ops import padding_ops  # pylint: disable=g-import-not-at-top


@pytest.fixture(autouse=True)
def _seed_everything():
  """Every test starts from the same seeds (Python, NumPy, TF, Keras)."""
  keras.utils.set_random_seed(20261201)


@pytest.mark.parametrize("size", [1, 2, 3, 4, 5, 8])
@pytest.mark.parametrize("corr", [True, False])
def test_same_padding_keeps_the_length(size, corr):
  (before, after), = padding_ops.same_padding_for_kernel((size,), corr)
  assert before + after == size - 1
  # The kernel centre is at size // 2: correlating the padded signal with a
  # delta there returns the signal.
  x = np.random.default_rng(0).normal(size=9)
  delta = np.zeros(size)
  delta[size // 2] = 1
  padded = np.pad(x, (before, after))
  if corr:
    y = np.correlate(padded, delta, "valid")
  else:
    y = np.convolve(padded, delta, "valid")
  np.testing.assert_array_equal(y, x)


def test_values_and_upsampling():
  assert padding_ops.same_padding_for_kernel((5, 4), True) == [(2, 2), (2, 1)]
  assert padding_ops.same_padding_for_kernel((5, 4), False) == [(2, 2), (1, 2)]
  # Upsampled: padding in input samples, rounded up.
  assert padding_ops.same_padding_for_kernel((5, 9), False, (2, 3)) == [
      (1, 1), (2, 2)]
  assert padding_ops.same_padding_for_kernel((1,), True, (4,)) == [(0, 0)]
  with pytest.raises(ValueError, match="strides_up"):
    padding_ops.same_padding_for_kernel((3, 3), True, (2,))


if __name__ == "__main__":
  sys.exit(pytest.main([__file__, "-q"]))
