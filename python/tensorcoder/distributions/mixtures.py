"""Mixtures (kept for compatibility; TensorFlow Compression has the noisy
mixtures in ``uniform_noise``, where they are defined).

``MixtureSameFamily`` and ``Categorical`` are TFP-free versions of TFP's;
``NoisyMixtureSameFamily``, ``NoisyNormalMixture`` and
``NoisyLogisticMixture`` add uniform noise to each component (Minnen, Ballé
and Toderici, "Joint autoregressive and hierarchical priors for learned
image compression", NeurIPS 2018, use such mixtures as conditional priors).
"""

from tensorcoder.distributions.base import Categorical
from tensorcoder.distributions.base import MixtureSameFamily
from tensorcoder.distributions.uniform_noise import NoisyLogisticMixture
from tensorcoder.distributions.uniform_noise import NoisyMixtureSameFamily
from tensorcoder.distributions.uniform_noise import NoisyNormalMixture

__all__ = [
    "Categorical",
    "MixtureSameFamily",
    "NoisyMixtureSameFamily",
    "NoisyNormalMixture",
    "NoisyLogisticMixture",
]
