"""The entropy model's parameters in fixed point: the same on every machine.

A hyperprior codec decodes y with the scale indexes its hyper-synthesis
computes from the decoded z (and, with a checkerboard context, its context
network from the decoded anchors). Computed in float32, those depend on the
order of the float sums, which differs between TensorFlow builds and CPUs;
an index near a rounding boundary then lands in another row, and the rest
of the string decodes wrongly, often without any error (measured:
docs/FORMAT.md, section 8). Ballé, Johnston and Minnen ("Integer networks
for data compression with latent-variable models", ICLR 2019) therefore
compute the entropy model's parameters with integer arithmetic.

Here the trained float networks are evaluated in fixed point, without
retraining: every activation is an integer multiple of
``2**-ACTIVATION_BITS``, every weight of ``2**-WEIGHT_BITS`` (rounded from
the trained value once), biases of ``2**-(ACTIVATION_BITS + WEIGHT_BITS)``.
A layer's sums of products of such integers stay far below ``2**53``, so in
float64 they are exact whatever the order of the additions (any BLAS, any
convolution algorithm made of multiplications and additions, any number of
threads); each layer's result is rounded back to the activation grid
(halves up), also exactly. The outputs (locations and scale indexes) are
thus the same on every machine, and within about ``2**-ACTIVATION_BITS`` of
what the float network computes: the file sizes do not change measurably.
A sum that could reach ``2**52`` is refused (``FixedPointOverflow``) rather
than rounded.

The rounded weights are derived from the model's float32 weights with
float64 arithmetic (an RDFT kernel: one 25x25 or 9x9 matrix product), whose
error (about 1e-16) is far below the weight grid's step (1.5e-5).
"""

from __future__ import annotations

import functools
from typing import Optional

import keras
import numpy as np
import tensorflow as tf

from tensorcoder.layers import parameters
from tensorcoder.layers.residual import ResidualBlock
from tensorcoder.layers.signal_conv import SignalConv2D
from tensorcoder.models import checkerboard

# Fractional bits of activations and of weights.
ACTIVATION_BITS = 12
WEIGHT_BITS = 16
# The largest magnitude a sum may reach (exact float64 integers go to 2**53).
_LIMIT = 2.0**52
# Where the fixed-point networks run: TensorFlow's CPU convolutions are
# products and sums (im2col and matrix products), which the exactness
# needs; a GPU library may choose FFT or Winograd algorithms, which round.
# The networks are small (about 1.3 GMAC for a 768x512 image).
DEVICE = "/CPU:0"


class FixedPointOverflow(ValueError):
  """A fixed-point sum reached ``2**52``: it might not be exact."""


def _grid(values: np.ndarray, bits: int) -> np.ndarray:
  """``values`` (float64) as integers in units of ``2**-bits``, halves up."""
  return np.floor(np.asarray(values, np.float64) * 2.0**bits + 0.5)


def to_fixed(x: tf.Tensor) -> tf.Tensor:
  """Float activations as float64 integers in units of
  ``2**-ACTIVATION_BITS`` (halves up)."""
  return tf.floor(tf.cast(x, tf.float64) * 2.0**ACTIVATION_BITS + 0.5)


def from_fixed(x: tf.Tensor) -> tf.Tensor:
  """The float32 values of fixed-point activations (exact while they are
  below ``2**(24 - ACTIVATION_BITS)`` in magnitude)."""
  return tf.cast(x * 2.0**-ACTIVATION_BITS, tf.float32)


def _rescale(total: tf.Tensor) -> tf.Tensor:
  """A layer's exact sums (units of ``2**-(A + W)``) back on the activation
  grid, halves up."""
  return tf.floor(total * 2.0**-WEIGHT_BITS + 0.5)


def _check_sums(names: list[str], largest: np.ndarray) -> None:
  """Refuses sums that might not have been exact: raises
  FixedPointOverflow naming the first layer (in ``names``' order) whose
  largest sum (``largest``) reached ``2**52`` or is NaN."""
  for name, value in zip(names, largest):
    if not value < _LIMIT:  # Also catches NaN.
      raise FixedPointOverflow(
          f"{name}: a fixed-point sum reached {value:.3g}, beyond 2**52 "
          "(the activations are out of the range the model was made for)")


def _traced(function, inputs: int):
  """``function`` of ``inputs`` float32 tensors of rank 4 as a TensorFlow
  graph (traced once for any size). A graph computes the same bits: its
  operations are the same integer arithmetic, exact in any order."""
  # Wrapped in a partial: TensorFlow counts the traces of a method's code
  # over all instances, and would warn of retracing after five models.
  return tf.function(functools.partial(function), autograph=False,
                     input_signature=[tf.TensorSpec([None, None, None, None],
                                                    tf.float32)] * inputs)


class _Conv:
  """One convolution in fixed point: a kernel and bias on their grids."""

  def __init__(self, kernel: np.ndarray, bias: Optional[np.ndarray],
               name: str, scale: float = 1.0):
    self.kernel = tf.constant(_grid(scale * np.asarray(kernel, np.float64),
                                    WEIGHT_BITS))
    self.bias = None if bias is None else tf.constant(_grid(
        scale * np.asarray(bias, np.float64),
        ACTIVATION_BITS + WEIGHT_BITS))
    self.name = name

  def finish(self, total: tf.Tensor, relu: bool,
             largest: list) -> tf.Tensor:
    """The layer's output from its convolution's sums ``total``; appends
    the largest magnitude of the sums to ``largest`` (``_check_sums``)."""
    if self.bias is not None:
      total = tf.nn.bias_add(total, self.bias)
    if relu:
      total = tf.nn.relu(total)
    largest.append(tf.reduce_max(tf.abs(total)))
    return _rescale(total)


def _legacy_kernel(layer: SignalConv2D) -> np.ndarray:
  """The kernel ``layer`` (``legacy=True``) filters with, in float64."""
  value = layer.legacy_kernel_parameter()
  if isinstance(value, parameters.LegacyRDFTParameter):
    height, width = value.initial_shape[:2]
    basis = np.kron(parameters.real_dft_basis(height),
                    parameters.real_dft_basis(width))
    coefficients = np.asarray(value.coefficients.numpy(), np.float64)
    kernel = (basis.T @ coefficients).reshape(value.initial_shape)
  else:
    kernel = np.asarray(keras.ops.convert_to_numpy(value), np.float64)
  if not layer.corr:
    kernel = kernel[::-1, ::-1]
  return kernel


def _activation(layer) -> bool:
  """Whether ``layer``'s activation is ReLU (True) or none (False)."""
  activation = layer.activation
  if activation is None or activation is keras.activations.linear:
    return False
  if activation is keras.activations.relu or getattr(
      activation, "__name__", None) == "relu":
    return True
  raise ValueError(f"{layer.name}: fixed point supports ReLU or no "
                   f"activation, not {activation}")


class FixedPointSynthesis:
  """A hyper-synthesis transform (``keras.Sequential`` of legacy
  ``SignalConv2D`` with ReLU or no activation and ``ResidualBlock``) in
  fixed point: ``__call__`` maps float z_hat to its outputs (float32
  values on the activation grid). It runs as a TensorFlow graph; the sums
  are checked after it ran."""

  def __init__(self, transform: keras.Sequential):
    self._steps = []
    # The convolutions in the order their sums are checked.
    self._names = []
    for layer in transform.layers:
      if isinstance(layer, SignalConv2D):
        if not layer.legacy or layer.strides_down != (1, 1) or (
            layer.padding not in ("same_zeros", "valid")):
          raise ValueError(f"{layer.name}: fixed point supports legacy "
                           "upsampling or stride-1 layers with zero padding")
        conv = _Conv(_legacy_kernel(layer),
                     layer.bias.numpy() if layer.use_bias else None,
                     layer.name)
        self._steps.append(("signal", layer, conv, _activation(layer)))
        self._names.append(conv.name)
      elif isinstance(layer, ResidualBlock):
        convs = [_Conv(c.kernel.numpy(), c.bias.numpy(),
                       f"{layer.name}/{c.name}")
                 for c in (layer.conv_a, layer.conv_b)]
        self._steps.append(("residual", layer, convs, None))
        self._names.extend(c.name for c in convs)
      else:
        raise ValueError(f"fixed point does not support {type(layer)}")
    self._graph = _traced(self._call, 1)

  def __call__(self, z_hat: tf.Tensor) -> tf.Tensor:
    outputs, largest = self._graph(tf.cast(z_hat, tf.float32))
    _check_sums(self._names, largest.numpy())
    return outputs

  def _call(self, z_hat: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
    largest = []
    with tf.device(DEVICE):
      x = to_fixed(z_hat)
      for kind, layer, conv, relu in self._steps:
        if kind == "signal":
          x = conv.finish(layer.legacy_filter(x, conv.kernel), relu, largest)
        else:
          inner = conv[0].finish(
              tf.nn.conv2d(x, conv[0].kernel, 1, "SAME"), True, largest)
          x = x + conv[1].finish(
              tf.nn.conv2d(inner, conv[1].kernel, 1, "SAME"), False, largest)
      return from_fixed(x), tf.stack(largest)


class FixedPointContext:
  """``ContextRefinement.refine_others`` in fixed point, as a TensorFlow
  graph (the sums checked after it ran)."""

  def __init__(self, context):
    rate = checkerboard.CONTEXT_RATE
    # CONTEXT_RATE * (conv(x, k) + b) = conv(x, rate * k) + rate * b.
    self._hidden = _Conv(context.non_anchor_kernel().numpy(),
                         context.anchor_conv.bias.numpy(),
                         f"{context.name}/hidden", scale=rate)
    self._output = _Conv(context.output_conv.kernel.numpy(),
                         context.output_conv.bias.numpy(),
                         f"{context.name}/output", scale=rate)
    self._graph = _traced(self._call, 3)

  def __call__(self, anchors: tf.Tensor, loc: tf.Tensor, index: tf.Tensor
               ) -> tuple[tf.Tensor, tf.Tensor]:
    """``(loc, index)`` of the non-anchors (float32 values on the
    activation grid) from the decoded anchors and the hyperprior's ``loc``
    and ``index`` there (``FixedPointSynthesis``'s values), all in
    ``checkerboard.split``'s layout."""
    loc, index, largest = self._graph(*(tf.cast(t, tf.float32)
                                        for t in (anchors, loc, index)))
    _check_sums([self._hidden.name, self._output.name], largest.numpy())
    return loc, index

  def _call(self, anchors, loc, index):
    largest = []
    with tf.device(DEVICE):
      loc, index = to_fixed(loc), to_fixed(index)
      inputs = tf.concat(list(checkerboard.neighbours(to_fixed(anchors))) +
                         [loc, index], axis=-1)
      hidden = self._hidden.finish(
          tf.nn.conv2d(inputs, self._hidden.kernel, 1, "VALID"), True,
          largest)
      corrections = self._output.finish(
          tf.nn.conv2d(hidden, self._output.kernel, 1, "VALID"), False,
          largest)
      d_loc, d_index = tf.split(corrections, 2, axis=-1)
      return (from_fixed(loc + d_loc), from_fixed(index + d_index),
              tf.stack(largest))
