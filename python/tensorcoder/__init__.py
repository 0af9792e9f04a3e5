"""tensorcoder: learned data compression for TensorFlow.

Entropy models, their TensorFlow ops, and range coding on a C++ core that
needs neither TensorFlow nor Python. ``tensorcoder.coder`` (NumPy in, bytes
out) works without TensorFlow installed.

Public names are also reachable from the top level, as TensorFlow
Compression users expect (``tensorcoder.PowerLawEntropyModel``,
``tensorcoder.range_encode``, ...). They are resolved lazily: importing
``tensorcoder`` or ``tensorcoder.coder`` imports neither TensorFlow nor any
extension module.

tensorcoder's TensorFlow op types (``EntropyModelDecode``, ``RangeEncode``,
...) are registered with TensorFlow as soon as both are imported, in either
order, so that ``tf.saved_model.load`` of a model written with tensorcoder
works after a plain ``import tensorcoder``, as with TFC.
"""

import importlib
import importlib.abc
import os
import sys
import warnings

__version__ = "0.1.0"

# Top-level name -> the module defining it.
_LAZY = {}
for _name in ("ContinuousEntropyModelBase", "ContinuousBatchedEntropyModel",
              "ContinuousIndexedEntropyModel",
              "LocationScaleIndexedEntropyModel", "GeometricScales",
              "UniversalBatchedEntropyModel", "UniversalIndexedEntropyModel",
              "PowerLawEntropyModel", "LaplaceEntropyModel",
              "EntropyBottleneck", "unlocked_state"):
  _LAZY[_name] = "tensorcoder.entropy_models"
for _name in ("GDN", "GDNParameter", "RDFTParameter", "Parameter",
              "SignalConv1D", "SignalConv2D", "SignalConv3D",
              "IdentityInitializer", "ResidualBlock", "SoftRound",
              "SoftRoundConditionalMean"):
  _LAZY[_name] = "tensorcoder.layers"
for _name in ("round_st", "soft_round", "soft_round_inverse",
              "soft_round_conditional_mean"):
  _LAZY[_name] = "tensorcoder.ops.round_ops"
for _name in ("lower_bound", "upper_bound", "perturb_and_apply"):
  _LAZY[_name] = "tensorcoder.ops.math_ops"
_LAZY["same_padding_for_kernel"] = "tensorcoder.ops.padding_ops"
for _name in ("Normal", "Logistic", "Laplace", "UniformNoiseAdapter",
              "NoisyNormal", "NoisyLogistic", "NoisyLaplace",
              "NoisyNormalMixture", "NoisyLogisticMixture", "DeepFactorized",
              "NoisyDeepFactorized", "MonotonicAdapter", "RoundAdapter",
              "NoisyRoundAdapter", "NoisyRoundedNormal",
              "NoisyRoundedDeepFactorized", "SoftRoundAdapter",
              "NoisySoftRoundAdapter", "NoisySoftRoundedNormal",
              "NoisySoftRoundedDeepFactorized", "lower_tail",
              "upper_tail", "quantization_offset", "estimate_tails",
              "NoisyMixtureSameFamily", "MixtureSameFamily", "Categorical",
              "Distribution"):
  _LAZY[_name] = "tensorcoder.distributions"
for _name in (
    "range_encode", "range_decode", "create_range_encoder",
    "entropy_encode_channel", "entropy_encode_index", "entropy_encode_finalize",
    "create_range_decoder", "entropy_decode_channel", "entropy_decode_index",
    "entropy_decode_finalize", "pmf_to_quantized_cdf",
    "run_length_gamma_encode", "run_length_gamma_decode", "run_length_encode",
    "run_length_decode", "pmfs_to_cdf_lookup", "entropy_model_encode",
    "entropy_model_decode", "uniform_noise", "add_uniform_noise",
    "stochastic_round", "noisy_normal_log_likelihood",
    "unbounded_index_range_encode", "unbounded_index_range_decode"):
  _LAZY[_name] = "tensorcoder.ops"
_LAZY["PackedTensors"] = "tensorcoder.util"
_LAZY["Y4MDataset"] = "tensorcoder.datasets"
del _name


# Subpackages, reachable as attributes (``tensorcoder.layers.GDN``) as TFC's
# are, imported on first use.
_SUBPACKAGES = ("coder", "datasets", "distributions", "entropy_models",
                "image_codec", "layers", "models", "ops", "util")


def __getattr__(name: str):
  if name in _SUBPACKAGES:
    return importlib.import_module(f"tensorcoder.{name}")
  module = _LAZY.get(name)
  if module is None:
    raise AttributeError(f"module 'tensorcoder' has no attribute '{name}'")
  value = getattr(importlib.import_module(module), name)
  globals()[name] = value  # Resolve once.
  return value


def __dir__():
  return sorted(set(globals()) | set(_LAZY) | set(_SUBPACKAGES))


# -- Op registration -----------------------------------------------------------

_OPS_LIBRARY = os.path.join(os.path.dirname(__file__), "ops",
                            "_tensorcoder_ops.so")


def _register_ops() -> None:
  """Loads the op library into the (already imported) TensorFlow. Never
  raises: a problem is reported as a warning here and as an ImportError when
  ``tensorcoder.ops`` is used."""
  if not os.path.exists(_OPS_LIBRARY):
    return  # Built without TensorFlow: there are no ops to register.
  try:
    importlib.import_module("tensorcoder.ops._library")
  except Exception as error:  # pylint: disable=broad-except
    warnings.warn(f"tensorcoder's TensorFlow ops are not registered, so "
                  f"SavedModels that use them will not load: {error}",
                  stacklevel=3)


class _Loader(importlib.abc.Loader):
  """Runs TensorFlow's own loader, then registers the ops."""

  def __init__(self, loader):
    self._loader = loader

  def create_module(self, spec):
    return self._loader.create_module(spec)

  def exec_module(self, module):
    self._loader.exec_module(module)
    _register_ops()

  def __getattr__(self, name):
    return getattr(self._loader, name)


class _AfterTensorFlowImport(importlib.abc.MetaPathFinder):
  """Finds ``tensorflow`` through the other finders and wraps its loader so
  that the ops are registered once TensorFlow has been imported. One-shot:
  removes itself from ``sys.meta_path`` at the first lookup."""

  def find_spec(self, fullname, path=None, target=None):
    if fullname != "tensorflow":
      return None
    if self in sys.meta_path:
      sys.meta_path.remove(self)
    for finder in sys.meta_path:
      find_spec = getattr(finder, "find_spec", None)
      spec = find_spec(fullname, path, target) if find_spec else None
      if spec is not None:
        if spec.loader is not None and hasattr(spec.loader, "exec_module"):
          spec.loader = _Loader(spec.loader)
        return spec
    return None


if "tensorflow" in sys.modules:
  _register_ops()
elif not any(isinstance(f, _AfterTensorFlowImport) for f in sys.meta_path):
  sys.meta_path.insert(0, _AfterTensorFlowImport())
