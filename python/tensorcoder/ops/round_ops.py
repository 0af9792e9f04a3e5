"""Rounding with useful gradients, and soft rounding.

``round_st`` rounds in the forward pass and passes gradients straight
through. ``soft_round`` is the differentiable approximation of rounding of
Agustsson and Theis, "Universally Quantized Neural Compression" (NeurIPS
2020, Sec. 4.1):

    s_alpha(x) = m + tanh(alpha * r) / (2 * tanh(alpha / 2)),
    m = floor(x) + 1/2,  r = x - m,

an increasing bijection of the real line that keeps the integers fixed. It is
the identity as alpha -> 0 and approaches rounding as alpha -> inf;
below ``eps`` the identity is used outright. ``soft_round_inverse`` is its
inverse and ``soft_round_conditional_mean`` the mean of Y given
s_alpha(Y) + U = y for U ~ U(-1/2, 1/2), with Y uniform on the interval
consistent with y (the paper's decoder-side estimate).

The inverse has an analytic gradient: its slope at the integers,
``sinh(alpha) / alpha``, is computed in log space and capped at the largest
finite value of the dtype, so gradients stay finite (never NaN) for every
alpha, including large alphas in float32 where tanh(alpha / 2) rounds to 1.
"""

from __future__ import annotations

import math

import numpy as np
import tensorflow as tf

__all__ = [
    "round_st",
    "soft_round",
    "soft_round_inverse",
    "soft_round_conditional_mean",
]


@tf.custom_gradient
def _round_st_plain(x):
  return tf.round(x), lambda dy: dy


@tf.custom_gradient
def _round_st_offset(x, offset):
  # Same shapes (broadcast by the caller); no gradient for the offset, as
  # the straight-through value x - offset + offset does not depend on it.
  return tf.round(x - offset) + offset, lambda dy: (dy, None)


def _broadcast_pair(a: tf.Tensor, b: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
  """Broadcasts two tensors to their common shape.

  The gradient of ``tf.broadcast_to`` sums over the broadcast axes, so
  element-wise custom gradients applied afterwards reach inputs of any
  broadcastable shape.
  """
  if a.shape.is_fully_defined() and a.shape == b.shape:
    return a, b
  shape = tf.broadcast_dynamic_shape(tf.shape(a), tf.shape(b))
  return tf.broadcast_to(a, shape), tf.broadcast_to(b, shape)


def round_st(inputs, offset=None) -> tf.Tensor:
  """Rounds to the nearest integer, with a straight-through gradient.

  The forward pass is ``tf.round(inputs)`` (halves to even) or, with an
  offset, ``tf.round(inputs - offset) + offset``, i.e. rounding to the grid
  ``offset + Z``. The gradient with respect to ``inputs`` is the identity;
  ``offset`` gets no gradient.

  Args:
    inputs: a floating-point tensor.
    offset: optional quantization offset, broadcastable with ``inputs``.

  Returns:
    The rounded tensor (broadcast shape of ``inputs`` and ``offset``).
  """
  inputs = tf.convert_to_tensor(inputs)
  if offset is None:
    return _round_st_plain(inputs)
  offset = tf.convert_to_tensor(offset, inputs.dtype)
  inputs, offset = _broadcast_pair(inputs, offset)
  return _round_st_offset(inputs, offset)


def soft_round(x, alpha, eps: float = 1e-3) -> tf.Tensor:
  """Differentiable approximation of rounding (Agustsson & Theis 2020).

  ``m + tanh(alpha * r) / (2 tanh(alpha / 2))`` with ``m = floor(x) + 1/2``
  and ``r = x - m``: increasing, fixes the integers, the identity for small
  alpha and close to ``round`` for large alpha (for alpha = 5 the values are
  within about 0.01 of an integer except near the half-integers).

  Args:
    x: a floating-point tensor.
    alpha: float or tensor broadcastable with ``x``; the sharpness.
    eps: where ``alpha < eps`` the result is ``x`` (the alpha -> 0 limit).

  Returns:
    The soft-rounded values (broadcast shape of ``x`` and ``alpha``).
  """
  x = tf.convert_to_tensor(x)
  alpha = tf.convert_to_tensor(alpha, x.dtype)
  # Evaluated at alpha >= eps only, so that the branch tf.where discards has
  # finite values and gradients (0 * NaN would poison the gradient).
  a = tf.maximum(alpha, tf.cast(eps, x.dtype))
  m = tf.floor(x) + 0.5
  y = m + tf.tanh(a * (x - m)) / (2 * tf.tanh(a / 2))
  return tf.where(alpha < eps, x, y)


def _log_cosh(t: tf.Tensor) -> tf.Tensor:
  """log(cosh(t)) without overflow."""
  t = tf.abs(t)
  return t + tf.math.softplus(-2 * t) - math.log(2)


@tf.custom_gradient
def _soft_round_inverse_residual(d, a):
  """The offset r in [-1/2, 1/2] with s_a(m + r) = m + d, for d in [-1/2, 1/2].

  Solves tanh(a r) = 2 d tanh(a / 2) for r; ``d`` and ``a`` have the same
  shape and ``a > 0``.
  """
  dtype = d.dtype
  t = tf.tanh(a / 2)
  u = 2 * tf.abs(d)  # in [0, 1]
  s = u * t  # |tanh(a r)|, in [0, 1)
  # atanh(s) = (log1p(s) - log(1 - s)) / 2. Near s = 1 (large a, d near
  # +-1/2), 1 - s is formed as (1 - u) + u (1 - t) with 1 - t = 2 sigmoid(-a),
  # not by cancellation; tf.atanh is accurate elsewhere.
  tiny = tf.constant(np.finfo(dtype.as_numpy_dtype).tiny, dtype)
  one_minus_s = tf.maximum((1 - u) + 2 * u * tf.sigmoid(-a), tiny)
  far = 0.5 * (tf.math.log1p(s) - tf.math.log(one_minus_s))
  near = tf.atanh(tf.minimum(s, 0.5))
  r = tf.minimum(tf.where(s < 0.5, near, far) / a, 0.5)
  r = tf.where(d < 0, -r, r)

  def grad(dr):
    # Implicit differentiation of tanh(a r) = 2 d tanh(a / 2):
    #   dr/dd = 2 tanh(a / 2) cosh^2(a r) / a   (at most sinh(a) / a),
    #   dr/da = (d cosh^2(a r) / cosh^2(a / 2) - r) / a.
    log_cosh_ar = _log_cosh(a * r)
    log_slope = tf.math.log(2 * t / a) + 2 * log_cosh_ar
    slope = tf.minimum(tf.exp(log_slope), dtype.max)
    ratio = tf.exp(2 * (log_cosh_ar - _log_cosh(a / 2)))
    return dr * slope, dr * (d * ratio - r) / a

  return r, grad



def soft_round_inverse(y, alpha, eps: float = 1e-3) -> tf.Tensor:
  """Inverse of ``soft_round`` (Agustsson & Theis 2020).

  ``m + atanh(2 (y - m) tanh(alpha / 2)) / alpha`` with ``m = floor(y) +
  1/2``. The inverse of a sharp soft rounding is steep at the integers (slope
  ``sinh(alpha) / alpha``) and flat in between; its gradient is computed
  analytically and capped at the dtype's largest finite value.

  Args:
    y: a floating-point tensor.
    alpha: float or tensor broadcastable with ``y``; the sharpness.
    eps: where ``alpha < eps`` the result is ``y``, matching ``soft_round``.

  Returns:
    x with ``soft_round(x, alpha, eps) == y`` up to rounding error (broadcast
    shape of ``y`` and ``alpha``).
  """
  y = tf.convert_to_tensor(y)
  alpha = tf.convert_to_tensor(alpha, y.dtype)
  a = tf.maximum(alpha, tf.cast(eps, y.dtype))
  m = tf.floor(y) + 0.5
  d, a = _broadcast_pair(y - m, a)
  return tf.where(alpha < eps, y, m + _soft_round_inverse_residual(d, a))


def soft_round_conditional_mean(y, alpha) -> tf.Tensor:
  """E[X | soft_round(X, alpha) + U = y] for U ~ U(-1/2, 1/2).

  With X uniform on the interval of values consistent with ``y`` (the
  approximation of Agustsson & Theis 2020, Sec. 4.1) the mean is
  ``soft_round_inverse(y - 1/2, alpha) + 1/2``. It lies within 1/2 of ``y``,
  is ``y`` as alpha -> 0 and approaches ``round(y)`` as alpha grows.

  Args:
    y: a floating-point tensor of noisy soft-rounded values.
    alpha: float or tensor broadcastable with ``y``; the sharpness used for
      ``soft_round``.

  Returns:
    The conditional mean (broadcast shape of ``y`` and ``alpha``).
  """
  y = tf.convert_to_tensor(y)
  return soft_round_inverse(y - 0.5, alpha) + 0.5
