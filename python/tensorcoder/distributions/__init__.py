"""Distributions for entropy models, without TensorFlow Probability.

* Location-scale bases ``Normal``, ``Logistic``, ``Laplace``.
* Noise-adapted priors ``UniformNoiseAdapter``, ``NoisyNormal``,
  ``NoisyLogistic``, ``NoisyLaplace``, the mixtures ``NoisyNormalMixture``
  and ``NoisyLogisticMixture``.
* The trainable flexible density ``DeepFactorized`` (a Keras layer) and
  ``NoisyDeepFactorized``.
* Round adapters: ``MonotonicAdapter``, ``RoundAdapter``,
  ``NoisyRoundAdapter``, ``NoisyRoundedNormal``,
  ``NoisyRoundedDeepFactorized``, ``SoftRoundAdapter``,
  ``NoisySoftRoundAdapter``, ``NoisySoftRoundedNormal``,
  ``NoisySoftRoundedDeepFactorized``.
* Table helpers ``lower_tail``, ``upper_tail``, ``quantization_offset``.

Any object with the same interface (a TFP distribution, say) works as a
prior.
"""

from tensorcoder.distributions.base import Laplace
from tensorcoder.distributions.base import Logistic
from tensorcoder.distributions.base import Normal
from tensorcoder.distributions.deep_factorized import DeepFactorized
from tensorcoder.distributions.deep_factorized import NoisyDeepFactorized
from tensorcoder.distributions.helpers import lower_tail
from tensorcoder.distributions.helpers import quantization_offset
from tensorcoder.distributions.helpers import upper_tail
from tensorcoder.distributions.mixtures import NoisyLogisticMixture
from tensorcoder.distributions.mixtures import NoisyNormalMixture
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
from tensorcoder.distributions.uniform_noise import NoisyNormal
from tensorcoder.distributions.uniform_noise import UniformNoiseAdapter

__all__ = [
    "DeepFactorized", "Laplace", "Logistic", "MonotonicAdapter", "Normal",
    "NoisyDeepFactorized", "NoisyLaplace", "NoisyLogistic",
    "NoisyLogisticMixture", "NoisyNormal", "NoisyNormalMixture",
    "NoisyRoundAdapter", "NoisyRoundedDeepFactorized", "NoisyRoundedNormal",
    "NoisySoftRoundAdapter", "NoisySoftRoundedDeepFactorized",
    "NoisySoftRoundedNormal", "RoundAdapter", "SoftRoundAdapter",
    "UniformNoiseAdapter", "lower_tail", "quantization_offset", "upper_tail",
]
