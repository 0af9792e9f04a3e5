"""Synthetic latent tensors with their quantized CDF tables.

These generate the project's standard entropy-coder workloads (see
``bench/README.md``), used by the benchmarks and by the demo:

* **indexed Gaussian** (the hyperprior case): 64 Gaussian scales
  ``exp(linspace(log 0.11, log 256, 64))``; each element draws a scale index
  uniformly and its value is ``rint(Normal(0, scale))``. Table ``k`` covers
  the integers ``[-T_k, T_k]`` with ``T_k = ceil(8 scale_k)``.
* **factorized logistic** (the EntropyBottleneck case): 192 channels, channel
  of element ``i`` is ``i mod 192``; channel ``c`` is a logistic with
  ``loc ~ U(-2, 2)`` and log-uniform scale in ``[0.5, 20]``; its table covers
  ``[floor(loc - 20 scale), ceil(loc + 20 scale)]``.

Every table is quantized to ``PRECISION`` bits with
:func:`tensorcoder.coder.pmf_to_quantized_cdf` and ends with an escape bin
holding the leftover tail mass (overflow enabled). Bin masses are
``P(x - 1/2 <= X < x + 1/2)``, computed from the upper tail on the right of
the mode so that tiny tail masses are not lost to cancellation. Values are
clipped into their table, so the escape path is not exercised.

Only NumPy is needed (no TensorFlow, no SciPy).
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from tensorcoder import coder

PRECISION = 16

_erfc = np.vectorize(math.erfc, otypes=[np.float64])


@dataclasses.dataclass
class Workload:
  """Symbols to code and the tables to code them with.

  Attributes:
    name: Short description.
    lookup: int32 matrix of CDF rows ``[-precision, 0, ..., 2^precision]``,
      padded with ``2^precision``.
    symbols: int32 vector of table symbols (``value - table offset``).
    indexes: int32 vector of the row index of each symbol.
  """

  name: str
  lookup: np.ndarray
  symbols: np.ndarray
  indexes: np.ndarray

  def ideal_bits(self) -> float:
    """Information content of the symbols under the quantized tables."""
    cdf = self.lookup[:, 1:].astype(np.int64)
    freq = (cdf[self.indexes, self.symbols + 1] -
            cdf[self.indexes, self.symbols])
    return float(-np.log2(freq / 2.0**PRECISION).sum())


def _gaussian_upper(z: np.ndarray) -> np.ndarray:
  """P(Z >= z) for a standard normal Z."""
  return 0.5 * _erfc(z / math.sqrt(2.0))


def _logistic_upper(z: np.ndarray) -> np.ndarray:
  """P(Z >= z) for a standard logistic Z."""
  return 1.0 / (1.0 + np.exp(z))


def _bin_masses(upper_tail, loc: float, scale: float, low: int,
                high: int) -> np.ndarray:
  """Masses of the unit bins centred on low..high (the escape gets the rest).

  ``upper_tail`` must be the survival function of a distribution symmetric
  about zero; differences are taken on the side of the mode where they do
  not cancel.
  """
  x = np.arange(low, high + 1, dtype=np.float64)
  a = (x - 0.5 - loc) / scale
  b = (x + 0.5 - loc) / scale
  right = upper_tail(a) - upper_tail(b)
  left = upper_tail(-b) - upper_tail(-a)
  masses = np.where(x >= loc, right, left)
  return masses


def _lookup(pmfs: list[np.ndarray]) -> np.ndarray:
  """Quantizes pmfs into a padded lookup matrix with overflow enabled (the
  core's builder, as the entropy models use it)."""
  lengths = np.array([pmf.size for pmf in pmfs], np.int32)
  matrix = np.zeros((len(pmfs), lengths.max()))
  for k, pmf in enumerate(pmfs):
    matrix[k, :pmf.size] = pmf
  return coder.pmfs_to_lookup(matrix, lengths, PRECISION, overflow=True)


def indexed_gaussian(num_symbols: int = 1 << 20, seed: int = 0) -> Workload:
  """Workload A: values of 64 Gaussian scales, coded with scale indexes."""
  rng = np.random.default_rng(seed)
  scales = np.exp(np.linspace(np.log(0.11), np.log(256.0), 64))
  bounds = np.ceil(8 * scales).astype(np.int64)
  lookup = _lookup([
      _bin_masses(_gaussian_upper, 0.0, s, -t, t)
      for s, t in zip(scales, bounds)
  ])
  indexes = rng.integers(0, 64, num_symbols)
  values = np.rint(rng.normal(0.0, scales[indexes]))
  values = np.clip(values, -bounds[indexes], bounds[indexes]).astype(np.int64)
  return Workload("A: indexed Gaussian", lookup,
                  (values + bounds[indexes]).astype(np.int32),
                  indexes.astype(np.int32))


def factorized_logistic(num_symbols: int = 1 << 20,
                        seed: int = 0,
                        channels: int = 192) -> Workload:
  """Workload B: channel-last logistic values, one table per channel."""
  rng = np.random.default_rng(seed)
  locs = rng.uniform(-2.0, 2.0, channels)
  scales = np.exp(rng.uniform(np.log(0.5), np.log(20.0), channels))
  lows = np.floor(locs - 20 * scales).astype(np.int64)
  highs = np.ceil(locs + 20 * scales).astype(np.int64)
  lookup = _lookup([
      _bin_masses(_logistic_upper, m, s, lo, hi)
      for m, s, lo, hi in zip(locs, scales, lows, highs)
  ])
  channel = np.arange(num_symbols) % channels
  values = np.rint(rng.logistic(locs[channel], scales[channel]))
  values = np.clip(values, lows[channel], highs[channel]).astype(np.int64)
  return Workload("B: factorized logistic", lookup,
                  (values - lows[channel]).astype(np.int32),
                  channel.astype(np.int32))
