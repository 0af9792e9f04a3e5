"""Keras 3 layers for learned compression (TFC's ``tfc.layers``).

``GDN`` (and its inverse), ``SignalConv1D``/``2D``/``3D``, ``SoftRound``,
``SoftRoundConditionalMean``, the parameterisations ``Parameter``,
``RDFTParameter`` and ``GDNParameter``, the ``IdentityInitializer``, the
``ResidualBlock`` that starts as the identity, and
(from :mod:`tensorcoder.entropy_models`) ``EntropyBottleneck``.
"""

from tensorcoder.entropy_models.entropy_bottleneck import EntropyBottleneck
from tensorcoder.layers.gdn import GDN
from tensorcoder.layers.initializers import IdentityInitializer
from tensorcoder.layers.parameters import GDNParameter
from tensorcoder.layers.parameters import Parameter
from tensorcoder.layers.parameters import RDFTParameter
from tensorcoder.layers.residual import ResidualBlock
from tensorcoder.layers.signal_conv import SignalConv1D
from tensorcoder.layers.signal_conv import SignalConv2D
from tensorcoder.layers.signal_conv import SignalConv3D
from tensorcoder.layers.soft_round import SoftRound
from tensorcoder.layers.soft_round import SoftRoundConditionalMean

__all__ = ["EntropyBottleneck", "GDN", "GDNParameter", "IdentityInitializer",
           "Parameter", "RDFTParameter", "ResidualBlock", "SignalConv1D",
           "SignalConv2D", "SignalConv3D", "SoftRound",
           "SoftRoundConditionalMean"]
