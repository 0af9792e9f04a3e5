"""Keras 3 layers for learned compression.

``GDN`` (and its inverse), ``SignalConv2D``, ``SoftRound``,
``SoftRoundConditionalMean``, the parameterisations ``RDFTParameter`` and
``GDNParameter``, and (from :mod:`tensorcoder.entropy_models`)
``EntropyBottleneck``.
"""

from tensorcoder.entropy_models.entropy_bottleneck import EntropyBottleneck
from tensorcoder.layers.gdn import GDN
from tensorcoder.layers.parameters import GDNParameter
from tensorcoder.layers.parameters import RDFTParameter
from tensorcoder.layers.signal_conv import SignalConv2D
from tensorcoder.layers.soft_round import SoftRound
from tensorcoder.layers.soft_round import SoftRoundConditionalMean

__all__ = ["EntropyBottleneck", "GDN", "GDNParameter", "RDFTParameter",
           "SignalConv2D", "SoftRound", "SoftRoundConditionalMean"]
