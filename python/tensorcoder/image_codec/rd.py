"""Rate-distortion summaries: Bjøntegaard deltas between two RD curves.

The Bjøntegaard delta rate (BD-rate) is the average rate difference, in
percent, between two codecs at equal quality; the BD-PSNR the average
quality difference at equal rate. Both follow G. Bjøntegaard, "Calculation
of average PSNR differences between RD-curves", ITU-T VCEG-M33 (2001):
each curve is fitted with a cubic polynomial (log-rate as a function of
quality for BD-rate, quality as a function of log-rate for BD-PSNR) and the
fits are integrated over the interval where both curves have data.

Rates may be in any unit (bpp, bytes) as long as both curves use the same;
quality is PSNR in dB or any other score where higher is better (MS-SSIM is
often reported in dB as ``-10 log10(1 - MS-SSIM)``).
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

# VCEG-M33's cubic fit needs at least this many points per curve.
MIN_POINTS = 4


def _curve(rates: Sequence[float], quality: Sequence[float],
           name: str) -> tuple[np.ndarray, np.ndarray]:
  rates = np.asarray(rates, np.float64)
  quality = np.asarray(quality, np.float64)
  if rates.shape != quality.shape or rates.ndim != 1:
    raise ValueError(f"{name}: rates and quality must be 1-D of one length, "
                     f"got shapes {rates.shape} and {quality.shape}")
  if rates.size < MIN_POINTS:
    raise ValueError(f"{name}: a Bjøntegaard delta needs at least "
                     f"{MIN_POINTS} points per curve, got {rates.size}")
  if not (np.all(np.isfinite(rates)) and np.all(np.isfinite(quality))):
    raise ValueError(f"{name}: rates and quality must be finite")
  if np.any(rates <= 0):
    raise ValueError(f"{name}: rates must be positive")
  return np.log(rates), quality


def _mean_difference(x_a: np.ndarray, y_a: np.ndarray, x_b: np.ndarray,
                     y_b: np.ndarray) -> float:
  """Mean of fit_b - fit_a over the overlap of the x ranges, where fit_k is
  the cubic least-squares fit of y_k against x_k."""
  low = max(x_a.min(), x_b.min())
  high = min(x_a.max(), x_b.max())
  if not high > low:
    raise ValueError("the two curves do not overlap; a Bjøntegaard delta "
                     "is undefined")
  integral = []
  for x, y in ((x_a, y_a), (x_b, y_b)):
    antiderivative = np.polyint(np.polyfit(x, y, 3))
    integral.append(np.polyval(antiderivative, high) -
                    np.polyval(antiderivative, low))
  return float((integral[1] - integral[0]) / (high - low))


def bd_rate(anchor_rates: Sequence[float], anchor_quality: Sequence[float],
            test_rates: Sequence[float],
            test_quality: Sequence[float]) -> float:
  """Average rate change of ``test`` against ``anchor`` at equal quality,
  in percent: -10 means test needs 10 % fewer bits."""
  log_a, q_a = _curve(anchor_rates, anchor_quality, "anchor")
  log_t, q_t = _curve(test_rates, test_quality, "test")
  return 100.0 * (float(np.exp(_mean_difference(q_a, log_a, q_t, log_t)))
                  - 1.0)


def bd_quality(anchor_rates: Sequence[float], anchor_quality: Sequence[float],
               test_rates: Sequence[float],
               test_quality: Sequence[float]) -> float:
  """Average quality change of ``test`` against ``anchor`` at equal rate
  (BD-PSNR, in dB for PSNR): positive means test is better."""
  log_a, q_a = _curve(anchor_rates, anchor_quality, "anchor")
  log_t, q_t = _curve(test_rates, test_quality, "test")
  return _mean_difference(log_a, q_a, log_t, q_t)
