"""TFC 2.14's public names exist in tensorcoder, at the top level and in the
modules of the same names (``tensorflow_compression.python.X.Y`` ->
``tensorcoder.X.Y``), so code ports by changing the import.

The lists are the ``__all__`` of TFC 2.14.1's modules and the public names
of its top-level package, read off an installed copy.
"""

import importlib
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import pytest  # pylint: disable=g-import-not-at-top

TFC_MODULES = {
    "distributions.deep_factorized": ["DeepFactorized", "NoisyDeepFactorized"],
    "distributions.helpers": ["estimate_tails", "quantization_offset",
                              "lower_tail", "upper_tail"],
    "distributions.round_adapters": [
        "MonotonicAdapter", "RoundAdapter", "NoisyRoundedNormal",
        "NoisyRoundedDeepFactorized", "SoftRoundAdapter",
        "NoisySoftRoundedNormal", "NoisySoftRoundedDeepFactorized"],
    "distributions.uniform_noise": [
        "UniformNoiseAdapter", "NoisyMixtureSameFamily", "NoisyNormal",
        "NoisyLogistic", "NoisyLaplace", "NoisyNormalMixture",
        "NoisyLogisticMixture"],
    "entropy_models.continuous_base": ["ContinuousEntropyModelBase"],
    "entropy_models.continuous_batched": ["ContinuousBatchedEntropyModel"],
    "entropy_models.continuous_indexed": ["ContinuousIndexedEntropyModel",
                                          "LocationScaleIndexedEntropyModel"],
    "entropy_models.laplace": ["LaplaceEntropyModel"],
    "entropy_models.power_law": ["PowerLawEntropyModel"],
    "entropy_models.universal": ["UniversalBatchedEntropyModel",
                                 "UniversalIndexedEntropyModel"],
    "layers.gdn": ["GDN"],
    "layers.initializers": ["IdentityInitializer"],
    "layers.parameters": ["Parameter", "RDFTParameter", "GDNParameter"],
    "layers.signal_conv": ["SignalConv1D", "SignalConv2D", "SignalConv3D"],
    "layers.soft_round": ["SoftRound", "SoftRoundConditionalMean"],
    "ops.math_ops": ["upper_bound", "lower_bound", "perturb_and_apply"],
    "ops.padding_ops": ["same_padding_for_kernel"],
    "ops.round_ops": ["round_st", "soft_round", "soft_round_inverse",
                      "soft_round_conditional_mean"],
    "util.packed_tensors": ["PackedTensors"],
    "datasets.y4m_dataset": ["Y4MDataset"],
}

TFC_TOP_LEVEL = [
    "ContinuousBatchedEntropyModel", "ContinuousIndexedEntropyModel",
    "DeepFactorized", "GDN", "GDNParameter", "IdentityInitializer",
    "LocationScaleIndexedEntropyModel", "MonotonicAdapter",
    "NoisyDeepFactorized", "NoisyLaplace", "NoisyLogistic",
    "NoisyLogisticMixture", "NoisyMixtureSameFamily", "NoisyNormal",
    "NoisyNormalMixture", "NoisyRoundedDeepFactorized", "NoisyRoundedNormal",
    "NoisySoftRoundedDeepFactorized", "NoisySoftRoundedNormal",
    "PackedTensors", "Parameter", "PowerLawEntropyModel", "RDFTParameter",
    "RoundAdapter", "SignalConv1D", "SignalConv2D", "SignalConv3D",
    "SoftRound", "SoftRoundAdapter", "SoftRoundConditionalMean",
    "UniformNoiseAdapter", "UniversalBatchedEntropyModel",
    "UniversalIndexedEntropyModel", "Y4MDataset", "create_range_decoder",
    "create_range_encoder", "distributions", "entropy_decode_channel",
    "entropy_decode_finalize", "entropy_decode_index",
    "entropy_encode_channel", "entropy_encode_finalize",
    "entropy_encode_index", "entropy_models", "estimate_tails", "layers",
    "lower_bound", "lower_tail", "ops", "perturb_and_apply",
    "pmf_to_quantized_cdf", "quantization_offset", "round_st",
    "run_length_decode", "run_length_encode", "run_length_gamma_decode",
    "run_length_gamma_encode", "same_padding_for_kernel", "soft_round",
    "soft_round_conditional_mean", "soft_round_inverse", "stochastic_round",
    "upper_bound", "upper_tail",
]


@pytest.mark.parametrize("module", sorted(TFC_MODULES))
def test_module_holds_tfcs_names(module):
  pytest.importorskip("tensorflow")
  imported = importlib.import_module(f"tensorcoder.{module}")
  missing = [n for n in TFC_MODULES[module] if not hasattr(imported, n)]
  assert not missing, f"tensorcoder.{module} lacks {missing}"


def test_top_level_holds_tfcs_names():
  pytest.importorskip("tensorflow")
  import tensorcoder  # pylint: disable=g-import-not-at-top
  missing = [n for n in TFC_TOP_LEVEL if not hasattr(tensorcoder, n)]
  assert not missing, f"tensorcoder lacks {missing}"
  assert tensorcoder.layers.GDN is tensorcoder.GDN
  for name in TFC_TOP_LEVEL:
    assert name in dir(tensorcoder), name


if __name__ == "__main__":
  sys.exit(pytest.main([__file__, "-q", "-p", "no:cacheprovider"]))
