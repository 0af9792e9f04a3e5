"""Learned image codecs: ``HyperpriorCodec`` (mean-scale hyperprior, Ballé
et al. 2018) and ``FactorizedPriorCodec`` (Ballé et al. 2017)."""

from tensorcoder.models.hyperprior import FactorizedPriorCodec
from tensorcoder.models.hyperprior import HyperpriorCodec

__all__ = ["FactorizedPriorCodec", "HyperpriorCodec"]
