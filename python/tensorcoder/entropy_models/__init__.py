"""Entropy models (TensorFlow Compression's API on TF 2.x and Keras 3).

* :class:`ContinuousBatchedEntropyModel`: one prior per channel (factorized
  prior, hyperprior side information).
* :class:`ContinuousIndexedEntropyModel` and
  :class:`LocationScaleIndexedEntropyModel`: a prior chosen per element by
  an index (scale hyperprior), with :class:`GeometricScales` as a
  serializable ``scale_fn``.
* :class:`UniversalBatchedEntropyModel`, :class:`UniversalIndexedEntropyModel`:
  the same with universal quantization (shared dither).
* :class:`PowerLawEntropyModel`, :class:`LaplaceEntropyModel`: penalties
  plus table-free run-length codes.
* :class:`EntropyBottleneck`: the Keras layer of Ballé et al. (2017/2018)
  with a trainable per-channel density and tail quantiles.
* :func:`unlocked_state`: attach an entropy model to an already built
  Keras model (TFC's ``self.entropy_model = ...`` after ``fit``).
"""

from tensorcoder.entropy_models.continuous_base import (
    ContinuousEntropyModelBase)
from tensorcoder.entropy_models.continuous_base import unlocked_state
from tensorcoder.entropy_models.continuous_batched import (
    ContinuousBatchedEntropyModel)
from tensorcoder.entropy_models.continuous_indexed import (
    ContinuousIndexedEntropyModel)
from tensorcoder.entropy_models.continuous_indexed import GeometricScales
from tensorcoder.entropy_models.continuous_indexed import (
    LocationScaleIndexedEntropyModel)
from tensorcoder.entropy_models.entropy_bottleneck import EntropyBottleneck
from tensorcoder.entropy_models.laplace import LaplaceEntropyModel
from tensorcoder.entropy_models.power_law import PowerLawEntropyModel
from tensorcoder.entropy_models.universal import UniversalBatchedEntropyModel
from tensorcoder.entropy_models.universal import UniversalIndexedEntropyModel
from tensorcoder.ops.round_ops import round_st

__all__ = [
    "ContinuousEntropyModelBase", "ContinuousBatchedEntropyModel",
    "ContinuousIndexedEntropyModel", "EntropyBottleneck", "GeometricScales",
    "LaplaceEntropyModel", "LocationScaleIndexedEntropyModel",
    "PowerLawEntropyModel", "UniversalBatchedEntropyModel",
    "UniversalIndexedEntropyModel", "round_st", "unlocked_state",
]
