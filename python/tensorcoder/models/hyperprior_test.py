"""Tests of the hyperprior codecs' transforms: which layers compute their
upsampling by phases."""

import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import pytest  # pylint: disable=g-import-not-at-top

from tensorcoder.layers import SignalConv2D  # pylint: disable=g-import-not-at-top
from tensorcoder.models import FactorizedPriorCodec  # pylint: disable=g-import-not-at-top
from tensorcoder.models import HyperpriorCodec  # pylint: disable=g-import-not-at-top
from tensorcoder.models import VariableRateHyperpriorCodec  # pylint: disable=g-import-not-at-top


def _upsampling(transform):
  return [layer for layer in transform.layers
          if isinstance(layer, SignalConv2D) and max(layer.strides_up) > 1]


@pytest.mark.parametrize("make", [
    lambda: FactorizedPriorCodec(num_filters=16, num_latents=16),
    lambda: HyperpriorCodec(num_filters=16, num_latents=16,
                            num_hyper_filters=16,
                            parameter_arithmetic="float32"),
    lambda: VariableRateHyperpriorCodec(
        lmbdas=(0.001, 0.01), num_filters=16, num_latents=16,
        num_hyper_filters=16, synthesis_blocks=1),
])
def test_only_the_image_synthesis_upsamples_by_phases(make):
  """The synthesis of images computes by phases (faster in float32 on
  CPUs; pixels are not part of the format); the hyper-synthesis, whose
  float32 sums choose the tables of models with float32 coding parameters
  and so must stay as they were when files were written, does not."""
  codec = make()
  layers = _upsampling(codec.synthesis)
  assert len(layers) == 4
  assert all(layer.upsample_by_phases for layer in layers)
  for transform in (getattr(codec, "hyper_synthesis", None),
                    codec.analysis):
    if transform is not None:
      assert not any(layer.upsample_by_phases
                     for layer in _upsampling(transform))
  if hasattr(codec, "hyper_synthesis"):
    assert _upsampling(codec.hyper_synthesis)


if __name__ == "__main__":
  sys.exit(pytest.main([__file__, "-q", "-p", "no:cacheprovider"]))
