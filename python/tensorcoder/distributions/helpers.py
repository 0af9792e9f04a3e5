"""Tail and offset helpers used to build entropy-model tables.

They accept any distribution object with TFP's interface (the ones here,
TensorFlow Probability's, or anything alike), trying in turn what a
distribution offers, as TensorFlow Compression does:

* :func:`lower_tail`/:func:`upper_tail`: ``_lower_tail``/``_upper_tail``,
  then ``quantile``, then a numerical search (:func:`estimate_tails`) on
  ``log_cdf``/``log_survival_function``;
* :func:`quantization_offset`: ``_quantization_offset``, then ``mode``,
  ``quantile(0.5)``, ``mean``, else 0; reduced to its decimal part
  ``o - round(o)``, in [-1/2, 1/2].

A method that is missing or raises ``NotImplementedError`` counts as not
offered. The results carry no gradient.
"""

from __future__ import annotations

import tensorflow as tf

__all__ = [
    "estimate_tails",
    "quantization_offset",
    "lower_tail",
    "upper_tail",
]


def _try(distribution, method: str, *args):
  """``distribution.method(*args)``, or None if it is not offered."""
  fn = getattr(distribution, method, None)
  if fn is None:
    return None
  try:
    return fn(*args)
  except NotImplementedError:
    return None


def estimate_tails(func, target, shape, dtype) -> tf.Tensor:
  """Finds x with ``func(x) == target`` for an increasing or decreasing func.

  The search of TensorFlow Compression: from x = 0, steps of an Adam-like
  update on ``|func(x) - target|`` (learning rate 0.1, decaying as
  ``1/sqrt(k)`` once the solution has been passed), stopping when every
  element has run 100 steps past its first sign change of the gradient, or
  when every loss is below 1e-8. The best x seen (lowest loss) is returned,
  so a NaN ``func`` or a perfect initial guess also ends the loop. Called
  eagerly, the loop runs as one ``tf.function``.

  Vectorized: ``x`` has shape ``shape``; ``target`` broadcasts against
  ``func(x)``. Typical use: ``estimate_tails(dist.log_cdf,
  log(tail_mass / 2), dist.batch_shape_tensor(), dist.dtype)``.

  Args:
    func: a monotonic function (a CDF, a log survival function, ...).
    target: the value to reach.
    shape: the shape of x.
    dtype: the float dtype of x and of the computation.

  Returns:
    The estimate of x, of shape ``shape`` and dtype ``dtype``.
  """
  with tf.name_scope("estimate_tails"):
    dtype = tf.as_dtype(dtype)
    shape = tf.convert_to_tensor(shape, tf.int32)
    target = tf.cast(target, dtype)

    def cond(x, m, v, loss, count, best_x, best_loss):
      del x, m, v, best_x, best_loss
      return tf.logical_and(tf.reduce_max(loss) > 1e-8,
                            tf.reduce_min(count) < 100)

    def body(x, previous_m, previous_v, loss, count, best_x, best_loss):
      del loss
      with tf.GradientTape(watch_accessed_variables=False) as tape:
        tape.watch(x)
        loss = tf.abs(tf.cast(func(x), dtype) - target)
      better = loss < best_loss
      best_x = tf.where(better, x, best_x)
      best_loss = tf.where(better, loss, best_loss)
      grad = tape.gradient(loss, x)
      m = (previous_m + grad) / 2
      v = (previous_v + tf.square(grad)) / 2
      k = tf.sqrt(tf.cast(count + 1, dtype))
      x -= 0.1 * m / (k * tf.sqrt(v) + 1e-20)
      # The function is monotonic: the gradient keeps its sign until the
      # solution is passed; count the steps from then on.
      count = tf.where(tf.logical_or(count > 0, previous_m * grad < 0),
                       count + 1, count)
      return x, m, v, loss, count, best_x, best_loss

    def search():
      x = tf.zeros(shape, dtype)
      v = tf.ones(shape, dtype)
      loss = v * dtype.max
      count = tf.zeros(shape, tf.int32)
      result = tf.while_loop(cond, body, (x, tf.zeros(shape, dtype), v, loss,
                                          count, x, loss))
      return result[-2]

    if tf.executing_eagerly():
      # Hundreds of steps: as one graph, not op by op (TFC's TODO).
      return tf.function(search, autograph=False)()
    return search()


def quantization_offset(distribution) -> tf.Tensor:
  """The offset o of the quantization grid ``round(x - o) + o``.

  Centring a quantization bin on the mode is good for compression. Tried in
  turn: ``distribution._quantization_offset()``, ``mode()``,
  ``quantile(0.5)``, ``mean()``; 0 if none is offered. The result is the
  decimal part ``o - round(o)`` (in [-1/2, 1/2]), broadcastable to the
  batch shape, without gradient. E.g. a normal with mode -3.75 gives 0.25.
  """
  offset = _try(distribution, "_quantization_offset")
  if offset is None:
    offset = _try(distribution, "mode")
  if offset is None:
    offset = _try(distribution, "quantile", 0.5)
  if offset is None:
    offset = _try(distribution, "mean")
  if offset is None:
    offset = tf.constant(0, tf.as_dtype(distribution.dtype))
  offset = tf.convert_to_tensor(offset)
  return tf.stop_gradient(offset - tf.round(offset))


def _tail(distribution, tail_mass, lower: bool) -> tf.Tensor:
  hook = "_lower_tail" if lower else "_upper_tail"
  tail = _try(distribution, hook, tail_mass)
  if tail is None:
    tail = _try(distribution, "quantile",
                tail_mass / 2 if lower else 1 - tail_mass / 2)
  if tail is None:
    dtype = tf.as_dtype(distribution.dtype)
    func = getattr(distribution,
                   "log_cdf" if lower else "log_survival_function", None)
    target = tf.math.log(tf.cast(tail_mass / 2, dtype))
    try:
      if func is None:
        raise NotImplementedError
      tail = estimate_tails(func, target, distribution.batch_shape_tensor(),
                            dtype)
    except NotImplementedError:
      raise NotImplementedError(
          f"{type(distribution).__name__} must implement {hook}(), "
          "quantile(), or "
          f"{'log_cdf' if lower else 'log_survival_function'}() so that "
          f"its {'lower' if lower else 'upper'} tail can be located"
      ) from None
  return tf.stop_gradient(tail)


def lower_tail(distribution, tail_mass) -> tf.Tensor:
  """A point below which about ``tail_mass / 2`` of the mass lies.

  Range coding needs a finite alphabet: values beyond the tails are coded
  with an escape (Elias gamma code). Per batch element, without gradient.
  """
  return _tail(distribution, tail_mass, lower=True)


def upper_tail(distribution, tail_mass) -> tf.Tensor:
  """A point above which about ``tail_mass / 2`` of the mass lies (see
  :func:`lower_tail`)."""
  return _tail(distribution, tail_mass, lower=False)
