"""Distributions for entropy models, without TensorFlow Probability.

So far: the location-scale bases ``Normal``, ``Logistic``, ``Laplace``; their
noise-adapted versions ``UniformNoiseAdapter``, ``NoisyNormal``,
``NoisyLogistic``, ``NoisyLaplace``; the mixtures ``NoisyNormalMixture`` and
``NoisyLogisticMixture``; and the table helpers ``lower_tail``,
``upper_tail``, ``quantization_offset``. Any object with the same interface
(a TFP distribution, say) works with the helpers.
"""

from tensorcoder.distributions.base import Laplace
from tensorcoder.distributions.base import Logistic
from tensorcoder.distributions.base import Normal
from tensorcoder.distributions.helpers import lower_tail
from tensorcoder.distributions.helpers import quantization_offset
from tensorcoder.distributions.helpers import upper_tail
from tensorcoder.distributions.mixtures import NoisyLogisticMixture
from tensorcoder.distributions.mixtures import NoisyNormalMixture
from tensorcoder.distributions.uniform_noise import NoisyLaplace
from tensorcoder.distributions.uniform_noise import NoisyLogistic
from tensorcoder.distributions.uniform_noise import NoisyNormal
from tensorcoder.distributions.uniform_noise import UniformNoiseAdapter

__all__ = [
    "Laplace", "Logistic", "Normal", "NoisyLaplace", "NoisyLogistic",
    "NoisyLogisticMixture", "NoisyNormal", "NoisyNormalMixture",
    "UniformNoiseAdapter", "lower_tail", "quantization_offset", "upper_tail",
]
