"""Bounds with training-friendly gradients, and noisy function application.

``upper_bound`` and ``lower_bound`` compute ``tf.minimum`` and
``tf.maximum`` but, by default, let gradients through where the bound is
active if following them would move the input back towards the allowed
range; a plain bound would stop them and could leave parameters stuck
outside it. ``perturb_and_apply`` evaluates a pointwise function at
``x + u``, u ~ U(-1/2, 1/2), with the gradient replaced by its expectation
over u (Agustsson and Theis, "Universally Quantized Neural Compression",
NeurIPS 2020, Sec. 4.2).
"""

from __future__ import annotations

from typing import Callable

import tensorflow as tf

__all__ = [
    "upper_bound",
    "lower_bound",
    "perturb_and_apply",
]

_GRADIENTS = ("identity_if_towards", "identity", "disconnected")


def _bound(inputs, bound, gradient: str, upper: bool) -> tf.Tensor:
  """Shared implementation of ``upper_bound`` and ``lower_bound``."""
  if gradient not in _GRADIENTS:
    raise ValueError(f"gradient must be one of {', '.join(_GRADIENTS)}; "
                     f"got {gradient!r}")
  inputs = tf.convert_to_tensor(inputs)
  bound = tf.convert_to_tensor(bound, inputs.dtype)
  # Element-wise gradients below; tf.broadcast_to's own gradient sums them
  # back to the shapes of inputs and bound.
  if not (inputs.shape.is_fully_defined() and inputs.shape == bound.shape):
    shape = tf.broadcast_dynamic_shape(tf.shape(inputs), tf.shape(bound))
    inputs = tf.broadcast_to(inputs, shape)
    bound = tf.broadcast_to(bound, shape)

  @tf.custom_gradient
  def bounded(x, b):
    within = x <= b if upper else x >= b
    y = tf.minimum(x, b) if upper else tf.maximum(x, b)

    def grad(dy):
      zero = tf.zeros_like(dy)
      if gradient == "identity":
        return dy, None
      if gradient == "disconnected":
        # Exactly the gradient of tf.minimum / tf.maximum.
        return tf.where(within, dy, zero), tf.where(within, zero, dy)
      # A descent step moves x by -dy: towards an upper bound if dy > 0.
      towards = dy > 0 if upper else dy < 0
      return tf.where(within | towards, dy, zero), None

    return y, grad

  return bounded(inputs, bound)


def upper_bound(inputs, bound, gradient: str = "identity_if_towards",
                name: str | None = None) -> tf.Tensor:
  """``tf.minimum(inputs, bound)`` with a choice of gradient.

  Where ``inputs <= bound`` the gradient with respect to ``inputs`` is the
  incoming one. Where the bound is active (``inputs > bound``) it depends
  on ``gradient``:

  * ``"identity_if_towards"`` (default): passed through if a gradient
    descent step would decrease ``inputs``, i.e. move it towards the bound;
    zero otherwise.
  * ``"identity"``: always passed through, as if the op were not there.
  * ``"disconnected"``: zero, as for ``tf.minimum``.

  ``bound`` gets the gradient of ``tf.minimum`` with ``"disconnected"`` and
  none with the two identity options. Both arguments may broadcast.

  Args:
    inputs: a tensor.
    bound: the upper bound, broadcastable with ``inputs``; converted to its
      dtype.
    gradient: ``"identity_if_towards"``, ``"identity"`` or
      ``"disconnected"``.
    name: optional name scope.

  Returns:
    ``tf.minimum(inputs, bound)``.

  Raises:
    ValueError: if ``gradient`` is not one of the three options.
  """
  with tf.name_scope(name or "upper_bound"):
    return _bound(inputs, bound, gradient, upper=True)


def lower_bound(inputs, bound, gradient: str = "identity_if_towards",
                name: str | None = None) -> tf.Tensor:
  """``tf.maximum(inputs, bound)`` with a choice of gradient.

  Where ``inputs >= bound`` the gradient with respect to ``inputs`` is the
  incoming one. Where the bound is active (``inputs < bound``) it depends
  on ``gradient``:

  * ``"identity_if_towards"`` (default): passed through if a gradient
    descent step would increase ``inputs``, i.e. move it towards the bound;
    zero otherwise.
  * ``"identity"``: always passed through, as if the op were not there.
  * ``"disconnected"``: zero, as for ``tf.maximum``.

  ``bound`` gets the gradient of ``tf.maximum`` with ``"disconnected"`` and
  none with the two identity options. Both arguments may broadcast.

  Args:
    inputs: a tensor.
    bound: the lower bound, broadcastable with ``inputs``; converted to its
      dtype.
    gradient: ``"identity_if_towards"``, ``"identity"`` or
      ``"disconnected"``.
    name: optional name scope.

  Returns:
    ``tf.maximum(inputs, bound)``.

  Raises:
    ValueError: if ``gradient`` is not one of the three options.
  """
  with tf.name_scope(name or "lower_bound"):
    return _bound(inputs, bound, gradient, upper=False)


@tf.custom_gradient
def _gradient_link(x, slope):
  """Zeros shaped like ``x`` whose gradient with respect to x is ``slope``."""
  return tf.zeros_like(x), lambda dy: (dy * slope, None)


def perturb_and_apply(f: Callable[..., tf.Tensor], x, *args, u=None,
                      x_plus_u=None,
                      expected_grads: bool = True) -> tuple[tf.Tensor,
                                                            tf.Tensor]:
  """Applies a pointwise function to ``x`` plus uniform noise.

  Computes ``y = f(x + u, *args)`` with u ~ U(-1/2, 1/2). With
  ``expected_grads``, the gradient of y with respect to ``x`` is the
  expectation over u of ``f'(x + u)``, i.e. ``f(x + 1/2, *args) - f(x - 1/2,
  *args)`` (Agustsson & Theis 2020, Sec. 4.2): it has less variance and
  stays informative for functions that are flat almost everywhere, such as
  soft rounding with a large alpha. Gradients with respect to ``args`` and to
  variables used by ``f`` are the ordinary ones, at ``x + u``.

  Args:
    f: a pointwise function; ``f(x, *args)`` must broadcast like an
      element-wise op.
    x: a floating-point tensor.
    *args: further arguments of ``f``.
    u: the noise; drawn with ``tf.random.uniform`` if neither it nor
      ``x_plus_u`` is given.
    x_plus_u: the perturbed input ``x + u``, instead of ``u``.
    expected_grads: whether to use the expected gradient with respect to
      ``x``. If False, ``f(x + u, *args)`` is differentiated as it is.

  Returns:
    ``(y, x_plus_u)``.

  Raises:
    ValueError: if both ``u`` and ``x_plus_u`` are given.
  """
  x = tf.convert_to_tensor(x)
  if x_plus_u is None:
    if u is None:
      u = tf.random.uniform(tf.shape(x), -0.5, 0.5, dtype=x.dtype)
    x_plus_u = x + tf.convert_to_tensor(u, x.dtype)
  elif u is not None:
    raise ValueError("give at most one of u and x_plus_u")
  else:
    x_plus_u = tf.convert_to_tensor(x_plus_u, x.dtype)

  if not expected_grads:
    return f(x_plus_u, *args), x_plus_u

  # The value comes from f at x + u with no gradient path to x; the gradient
  # with respect to x enters through a zero-valued term whose gradient is the
  # expected slope (f(x + 1/2) - f(x - 1/2)).
  y = f(tf.stop_gradient(x_plus_u), *args)
  slope = tf.stop_gradient(f(x + 0.5, *args) - f(x - 0.5, *args))
  x_broadcast = tf.broadcast_to(x, tf.shape(slope))
  return y + _gradient_link(x_broadcast, slope), x_plus_u
