"""Tests of the Bjøntegaard deltas against curves with known answers."""

import sys

import numpy as np
import pytest

from tensorcoder.image_codec import rd


@pytest.fixture(autouse=True)
def _seed():
  np.random.seed(20261201)


def _anchor():
  # A concave RD curve: PSNR = 10 log10(rate) + 30 over 0.1 .. 1 bpp.
  rates = np.geomspace(0.1, 1.0, 6)
  return rates, 10 * np.log10(rates) + 30


def test_identical_curves_have_zero_deltas():
  rates, psnr = _anchor()
  assert rd.bd_rate(rates, psnr, rates, psnr) == pytest.approx(0, abs=1e-9)
  assert rd.bd_quality(rates, psnr, rates, psnr) == pytest.approx(0, abs=1e-9)


def test_a_constant_rate_factor_is_its_bd_rate():
  # The same qualities at 0.8x the rate: exactly -20 %, whatever the curve
  # (log-rate shifts by log 0.8; a cubic fit represents the shift exactly).
  rates, psnr = _anchor()
  assert rd.bd_rate(rates, psnr, 0.8 * rates, psnr) == pytest.approx(-20.0)
  assert rd.bd_rate(rates, psnr, 1.25 * rates, psnr) == pytest.approx(25.0)


def test_a_constant_quality_gain_is_its_bd_psnr():
  rates, psnr = _anchor()
  assert rd.bd_quality(rates, psnr, rates, psnr + 0.5) == pytest.approx(0.5)
  # For this curve, +0.5 dB equals a rate factor of 10^(-0.05).
  assert rd.bd_rate(rates, psnr, rates, psnr + 0.5) == pytest.approx(
      100 * (10**-0.05 - 1))


def test_only_the_overlap_counts_and_order_does_not_matter():
  rates, psnr = _anchor()
  order = np.random.permutation(rates.size)
  # The test curve spans a wider range; outside the overlap it is ignored.
  wide = np.geomspace(0.05, 2.0, 8)
  value = rd.bd_rate(rates[order], psnr[order], 0.9 * wide,
                     10 * np.log10(wide) + 30)
  assert value == pytest.approx(-10.0)


def test_bad_curves_are_refused():
  rates, psnr = _anchor()
  with pytest.raises(ValueError, match="at least 4 points"):
    rd.bd_rate(rates[:3], psnr[:3], rates, psnr)
  with pytest.raises(ValueError, match="positive"):
    rd.bd_rate(-rates, psnr, rates, psnr)
  with pytest.raises(ValueError, match="do not overlap"):
    rd.bd_rate(rates, psnr, rates, psnr + 100)
  with pytest.raises(ValueError, match="one length"):
    rd.bd_quality(rates, psnr[:-1], rates, psnr)


if __name__ == "__main__":
  sys.exit(pytest.main([__file__, "-q"]))
