// The log-likelihood of a normal convolved with U(-1/2, 1/2), and its
// gradient, in double precision; shared by the CPU and CUDA kernels.
//
//   L(y; loc, scale) = log(Phi(u) - Phi(l)),
//   u = (y - loc + 1/2) / scale, l = (y - loc - 1/2) / scale.
//
// Stable in both tails: with d = |y - loc|, the bin is moved to the upper
// side, where it is the difference of two upper-tail masses Q = Phi(-x),
// computed as log Q(a) + log(1 - Q(b) / Q(a)) from a log-Phi that switches
// to its asymptotic series far in the tail (no underflow at d / scale = 40
// and beyond); when the bin contains the mode the mass is a difference of
// erf values of opposite signs, which does not cancel. Gradients use
// phi(x) / mass = exp(log phi(x) - L), finite wherever L is.
#ifndef TENSORCODER_CC_NOISY_NORMAL_H_
#define TENSORCODER_CC_NOISY_NORMAL_H_

#include <math.h>

#include "cc/counter_rng.h"  // TC_HOST_DEVICE

namespace tensorcoder {

// log Phi(x) for any finite x.
TC_HOST_DEVICE double LogNormalCdf(double x) {
  const double kSqrtHalf = 0.70710678118654752440;
  if (x > 6.0) return log1p(-0.5 * erfc(x * kSqrtHalf));
  if (x > -20.0) return log(0.5 * erfc(-x * kSqrtHalf));
  // Phi(x) = phi(x) / -x * (1 - 1/x^2 + 3/x^4 - 15/x^6 + 105/x^8 - ...).
  const double r = 1.0 / (x * x);
  const double series =
      1.0 - r * (1.0 - r * (3.0 - r * (15.0 - r * 105.0)));
  return -0.5 / r - log(-x) - 0.91893853320467274178 + log(series);
}

TC_HOST_DEVICE double LogNormalPdf(double x) {
  return -0.5 * x * x - 0.91893853320467274178;
}

// L for scale > 0.
TC_HOST_DEVICE double NoisyNormalLogMass(double y, double loc, double scale) {
  const double d = fabs(y - loc);
  const double lo = (d - 0.5) / scale;
  const double hi = (d + 0.5) / scale;
  if (lo <= 0.0) {
    const double kSqrtHalf = 0.70710678118654752440;
    return log(0.5 * (erf(hi * kSqrtHalf) - erf(lo * kSqrtHalf)));
  }
  const double log_qa = LogNormalCdf(-lo);
  const double diff = LogNormalCdf(-hi) - log_qa;  // log(Q(b) / Q(a)) < 0
  // log(1 - e^diff): expm1 near 0, log1p far from it.
  return log_qa + (diff > -0.69314718055994530942 ? log(-expm1(diff))
                                                  : log1p(-exp(diff)));
}

// dL/dy, dL/dloc (= -dL/dy) and dL/dscale, given L.
TC_HOST_DEVICE void NoisyNormalLogMassGrad(double y, double loc, double scale,
                                           double log_mass, double* grad_y,
                                           double* grad_scale) {
  const double u = (y - loc + 0.5) / scale;
  const double l = (y - loc - 0.5) / scale;
  const double ru = exp(LogNormalPdf(u) - log_mass);  // phi(u) / mass
  const double rl = exp(LogNormalPdf(l) - log_mass);
  *grad_y = (ru - rl) / scale;
  *grad_scale = -(u * ru - l * rl) / scale;
}

}  // namespace tensorcoder

#endif  // TENSORCODER_CC_NOISY_NORMAL_H_
