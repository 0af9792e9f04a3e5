"""Distributions for entropy models, without TensorFlow Probability.

* Location-scale bases ``Normal``, ``Logistic``, ``Laplace``.
* ``MixtureSameFamily`` and its ``Categorical`` weights.
* Noise-adapted priors ``UniformNoiseAdapter``, ``NoisyNormal``,
  ``NoisyLogistic``, ``NoisyLaplace``, the mixtures
  ``NoisyMixtureSameFamily``, ``NoisyNormalMixture`` and
  ``NoisyLogisticMixture``.
* The trainable flexible density ``DeepFactorized`` (a Keras layer) and
  ``NoisyDeepFactorized``.
* Round adapters: ``MonotonicAdapter``, ``RoundAdapter``,
  ``NoisyRoundAdapter``, ``NoisyRoundedNormal``,
  ``NoisyRoundedDeepFactorized``, ``SoftRoundAdapter``,
  ``NoisySoftRoundAdapter``, ``NoisySoftRoundedNormal``,
  ``NoisySoftRoundedDeepFactorized``.
* Table helpers ``lower_tail``, ``upper_tail``, ``quantization_offset``,
  ``estimate_tails``.

Every distribution here has TFP's interface and is a Keras layer and a
``tf.Module`` (see :mod:`.base`), so models holding one track its variables.
Any object with the same interface (a TFP distribution, say) works as a
prior.
"""

from tensorcoder.distributions.base import Categorical
from tensorcoder.distributions.base import Distribution
from tensorcoder.distributions.base import Laplace
from tensorcoder.distributions.base import Logistic
from tensorcoder.distributions.base import MixtureSameFamily
from tensorcoder.distributions.base import Normal
from tensorcoder.distributions.deep_factorized import DeepFactorized
from tensorcoder.distributions.deep_factorized import NoisyDeepFactorized
from tensorcoder.distributions.helpers import estimate_tails
from tensorcoder.distributions.helpers import lower_tail
from tensorcoder.distributions.helpers import quantization_offset
from tensorcoder.distributions.helpers import upper_tail
from tensorcoder.distributions.round_adapters import MonotonicAdapter
from tensorcoder.distributions.round_adapters import NoisyRoundAdapter
from tensorcoder.distributions.round_adapters import NoisyRoundedDeepFactorized
from tensorcoder.distributions.round_adapters import NoisyRoundedNormal
from tensorcoder.distributions.round_adapters import NoisySoftRoundAdapter
from tensorcoder.distributions.round_adapters import (
    NoisySoftRoundedDeepFactorized)
from tensorcoder.distributions.round_adapters import NoisySoftRoundedNormal
from tensorcoder.distributions.round_adapters import RoundAdapter
from tensorcoder.distributions.round_adapters import SoftRoundAdapter
from tensorcoder.distributions.uniform_noise import NoisyLaplace
from tensorcoder.distributions.uniform_noise import NoisyLogistic
from tensorcoder.distributions.uniform_noise import NoisyLogisticMixture
from tensorcoder.distributions.uniform_noise import NoisyMixtureSameFamily
from tensorcoder.distributions.uniform_noise import NoisyNormal
from tensorcoder.distributions.uniform_noise import NoisyNormalMixture
from tensorcoder.distributions.uniform_noise import UniformNoiseAdapter

__all__ = [
    "Categorical", "DeepFactorized", "Distribution", "Laplace", "Logistic",
    "MixtureSameFamily", "MonotonicAdapter", "Normal",
    "NoisyDeepFactorized", "NoisyLaplace", "NoisyLogistic",
    "NoisyLogisticMixture", "NoisyMixtureSameFamily", "NoisyNormal",
    "NoisyNormalMixture",
    "NoisyRoundAdapter", "NoisyRoundedDeepFactorized", "NoisyRoundedNormal",
    "NoisySoftRoundAdapter", "NoisySoftRoundedDeepFactorized",
    "NoisySoftRoundedNormal", "RoundAdapter", "SoftRoundAdapter",
    "UniformNoiseAdapter", "estimate_tails", "lower_tail",
    "quantization_offset", "upper_tail",
]
