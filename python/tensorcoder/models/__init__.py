"""Learned image codecs: ``HyperpriorCodec`` (mean-scale hyperprior, Ballé
et al. 2018), ``VariableRateHyperpriorCodec`` (the same with gain units for a
ladder of qualities, Cui et al. 2021) and ``FactorizedPriorCodec`` (Ballé et
al. 2017). ``checkerboard`` is the spatial context a hyperprior codec may
code with (He et al. 2021), ``tiling`` runs their transforms in tiles, and
``refinement`` searches a hyperprior codec's latents for a lower
rate-distortion cost at encoding time (Yang et al. 2020)."""

from tensorcoder.models.hyperprior import FactorizedPriorCodec
from tensorcoder.models.hyperprior import HyperpriorCodec
from tensorcoder.models.variable_rate import VariableRateHyperpriorCodec

__all__ = ["FactorizedPriorCodec", "HyperpriorCodec",
           "VariableRateHyperpriorCodec"]
