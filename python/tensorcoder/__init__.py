"""tensorcoder: learned data compression for TensorFlow.

Entropy models, their TensorFlow ops, and range coding on a C++ core that
needs neither TensorFlow nor Python. ``tensorcoder.coder`` (NumPy in, bytes
out) works without TensorFlow installed.

Public names are also reachable from the top level, as TensorFlow
Compression users expect (``tensorcoder.PowerLawEntropyModel``,
``tensorcoder.range_encode``, ...). They are resolved lazily: importing
``tensorcoder`` or ``tensorcoder.coder`` imports neither TensorFlow nor any
extension module.
"""

import importlib

__version__ = "0.1.0"

# Top-level name -> the module defining it.
_LAZY = {}
for _name in ("ContinuousEntropyModelBase", "ContinuousBatchedEntropyModel",
              "ContinuousIndexedEntropyModel",
              "LocationScaleIndexedEntropyModel", "GeometricScales",
              "UniversalBatchedEntropyModel", "UniversalIndexedEntropyModel",
              "PowerLawEntropyModel", "LaplaceEntropyModel",
              "EntropyBottleneck"):
  _LAZY[_name] = "tensorcoder.entropy_models"
for _name in ("GDN", "GDNParameter", "RDFTParameter", "SignalConv2D",
              "SoftRound", "SoftRoundConditionalMean"):
  _LAZY[_name] = "tensorcoder.layers"
for _name in ("round_st", "soft_round", "soft_round_inverse",
              "soft_round_conditional_mean"):
  _LAZY[_name] = "tensorcoder.ops.round_ops"
for _name in ("lower_bound", "upper_bound", "perturb_and_apply"):
  _LAZY[_name] = "tensorcoder.ops.math_ops"
for _name in ("Normal", "Logistic", "Laplace", "UniformNoiseAdapter",
              "NoisyNormal", "NoisyLogistic", "NoisyLaplace",
              "NoisyNormalMixture", "NoisyLogisticMixture", "DeepFactorized",
              "NoisyDeepFactorized", "MonotonicAdapter", "RoundAdapter",
              "NoisyRoundAdapter", "NoisyRoundedNormal",
              "NoisyRoundedDeepFactorized", "SoftRoundAdapter",
              "NoisySoftRoundAdapter", "NoisySoftRoundedNormal",
              "NoisySoftRoundedDeepFactorized", "lower_tail",
              "upper_tail", "quantization_offset"):
  _LAZY[_name] = "tensorcoder.distributions"
for _name in (
    "range_encode", "range_decode", "create_range_encoder",
    "entropy_encode_channel", "entropy_encode_index", "entropy_encode_finalize",
    "create_range_decoder", "entropy_decode_channel", "entropy_decode_index",
    "entropy_decode_finalize", "pmf_to_quantized_cdf",
    "run_length_gamma_encode", "run_length_gamma_decode", "run_length_encode",
    "run_length_decode", "pmfs_to_cdf_lookup", "entropy_model_encode",
    "entropy_model_decode", "uniform_noise", "add_uniform_noise",
    "stochastic_round", "noisy_normal_log_likelihood"):
  _LAZY[_name] = "tensorcoder.ops"
del _name


def __getattr__(name: str):
  module = _LAZY.get(name)
  if module is None:
    raise AttributeError(f"module 'tensorcoder' has no attribute '{name}'")
  value = getattr(importlib.import_module(module), name)
  globals()[name] = value  # Resolve once.
  return value


def __dir__():
  return sorted(list(globals()) + list(_LAZY))
