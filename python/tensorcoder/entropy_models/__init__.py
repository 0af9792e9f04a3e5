"""Entropy models (TensorFlow Compression's API on TF 2.x and Keras 3).

So far: :class:`PowerLawEntropyModel`. The prior-based models
(ContinuousBatchedEntropyModel, LocationScaleIndexedEntropyModel, ...) are
being written.
"""

from tensorcoder.entropy_models.power_law import PowerLawEntropyModel
from tensorcoder.entropy_models.power_law import round_st

__all__ = ["PowerLawEntropyModel", "round_st"]
