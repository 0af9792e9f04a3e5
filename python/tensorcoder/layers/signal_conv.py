"""Convolutions with signal-processing conventions: TFC's ``SignalConv1D``,
``SignalConv2D`` and ``SignalConv3D``.

The output is, in order: upsampling by ``strides_up`` (zeros inserted), a
convolution or cross-correlation (``corr``) with the kernel, downsampling by
``strides_down``, a bias, an activation. The kernel's centre is at
``support // 2``, so in the ``same_*`` modes the first output sample is
aligned with the first input sample whatever the strides, and convolving
with ``[1, 2, 3]`` equals convolving with ``[0, 1, 2, 3, 0]`` or
correlating with ``[3, 2, 1]``.

Padding modes: ``valid`` (only outputs that need no value outside the
upsampled input), ``same_zeros`` (zeros outside), ``same_reflect`` (input
samples reflected, as ``tf.pad``'s ``REFLECT``). With upsampling,
``extra_pad_end`` (default: True for ``same_*``, False for ``valid``) adds
``strides_up - 1`` zeros after the last input sample, so ``same_*`` outputs
have ``n * strides_up`` samples (else ``(n - 1) * strides_up + 1``), before
downsampling to ``ceil(length / strides_down)``.

``legacy=True`` (tensorcoder 1's ``SignalConv2D``, used by the shipped
hyperprior models): its own padding alignment for upsampling, the kernel
layout ``[h, w, out, in]`` of ``conv2d_transpose`` there, a single-variable
RDFT kernel; configs saved by tensorcoder 1 load with it.
"""

from __future__ import annotations

from typing import Any, Callable, Optional, Sequence, Union

import keras
import numpy as np
import tensorflow as tf

from tensorcoder.layers import fixed_attributes
from tensorcoder.layers import parameters
from tensorcoder.layers import polyphase
from tensorcoder.ops import padding_ops

__all__ = ["SignalConv1D", "SignalConv2D", "SignalConv3D"]

_PAD_MODES = {"valid": None, "same_zeros": "CONSTANT",
              "same_reflect": "REFLECT"}


def _int_tuple(value, name: str, rank: int) -> tuple[int, ...]:
  try:
    return rank * (int(value),)
  except (TypeError, ValueError):
    pass
  try:
    value = tuple(int(v) for v in value)
  except (TypeError, ValueError):
    value = ()
  if len(value) != rank:
    raise ValueError(f"`{name}` must be an integer or an iterable of "
                     f"integers with length {rank}.")
  return value


def _serialize_parameter(value, name: str, spec):
  if isinstance(spec, str):
    return spec  # Created by build(); rebuilt the same way, then loaded.
  if isinstance(value, str):
    return value
  if isinstance(value, parameters.Parameter):
    return keras.saving.serialize_keras_object(value)
  if isinstance(value, keras.Variable):
    return "variable"  # A weight of this layer: restored by the weights.
  if isinstance(value, (tf.Tensor, np.ndarray)):
    return np.asarray(value).tolist()
  raise TypeError(f"Can't serialize {name} of type '{type(value)}'; pass a "
                  f"Parameter, a keras.Variable or a constant.")


class _SignalConv(fixed_attributes.FixedOnceBuilt, keras.layers.Layer):
  """{rank}-D convolution layer (TFC's ``SignalConv{rank}D``).

  Args:
    filters: output channels (per input channel if ``channel_separable``).
    kernel_support: kernel size, an int or {rank} ints.
    corr: cross-correlation (True) or convolution (False).
    strides_down: downsampling factor(s) after filtering.
    strides_up: upsampling factor(s) before filtering.
    padding: ``valid``, ``same_zeros`` or ``same_reflect``.
    extra_pad_end: see the module docstring (None: by padding mode).
    channel_separable: filter each input channel separately (1-D and 2-D);
      output channel ``c * filters + f`` comes from input channel ``c``.
    data_format: ``channels_last`` or ``channels_first``.
    activation: a callable (e.g. a ``GDN`` layer), a Keras activation name,
      or None.
    use_bias: add a bias per output channel.
    use_explicit: accepted for TFC compatibility (the choice of TensorFlow
      op); the output does not depend on it.
    kernel_parameter: ``"rdft"`` (an :class:`RDFTParameter` is created at
      build), ``"variable"`` (a variable), a ``Parameter`` or other callable
      returning the kernel, a ``keras.Variable`` (trained) or a constant
      tensor (fixed). Kernel shape ``[*support, in, filters]``.
    bias_parameter: ``"variable"``, a callable, a ``keras.Variable`` or a
      tensor, of shape ``[output channels]``.
    kernel_initializer, bias_initializer: initializers for the weights
      created at build.
    kernel_regularizer, bias_regularizer: optional regularizers, added as
      losses on each call. ``activity_regularizer`` is Keras' own argument.
    legacy: tensorcoder 1's layer (2-D only; see the module docstring).

  Attributes are those of TFC: the arguments above (fixed once built), and
  ``kernel`` and ``bias``, the current values as tensors. Besides them,
  ``upsample_by_phases`` (default False; not saved in the configuration):
  a legacy 2-D upsampling layer with "same" padding, called in float32 and
  not in training, computes per output phase
  (``polyphase.conv2d_transpose_same``), 1.4 to 1.9 times faster on CPUs
  than ``conv2d_transpose``, the same values up to float rounding. Left
  False where the float sums must not change, such as a hyper-synthesis
  whose outputs choose range-coding tables.
  """

  _rank = 0

  def __init__(self, filters: int, kernel_support, corr: bool = False,
               strides_down=1, strides_up=1, padding: str = "valid",
               extra_pad_end: Optional[bool] = None,
               channel_separable: bool = False,
               data_format: str = "channels_last", activation=None,
               use_bias: bool = False, use_explicit: bool = True,
               kernel_parameter="rdft", bias_parameter="variable",
               kernel_initializer="variance_scaling",
               bias_initializer="zeros", kernel_regularizer=None,
               bias_regularizer=None, legacy: bool = False, **kwargs):
    super().__init__(**kwargs)
    self._legacy = bool(legacy)
    self.upsample_by_phases = False
    if self._legacy and self._rank != 2:
      raise ValueError("legacy=True exists for SignalConv2D only")
    self.input_spec = keras.layers.InputSpec(ndim=self._rank + 2)
    self._kernel_spec = None
    self._bias_spec = None
    self.filters = filters
    self.kernel_support = kernel_support
    self.corr = corr
    self.strides_down = strides_down
    self.strides_up = strides_up
    self.padding = padding
    self.extra_pad_end = extra_pad_end
    self.channel_separable = channel_separable
    self.data_format = data_format
    self.activation = activation
    self.use_bias = use_bias
    self.use_explicit = use_explicit
    self.kernel_parameter = kernel_parameter
    self.bias_parameter = bias_parameter
    self.kernel_initializer = kernel_initializer
    self.bias_initializer = bias_initializer
    self.kernel_regularizer = kernel_regularizer
    self.bias_regularizer = bias_regularizer
    if self._legacy:
      if max(self.strides_down) > 1 and max(self.strides_up) > 1:
        raise ValueError("strides_down and strides_up cannot both exceed 1")
      if self.padding == "same_reflect" and max(self.strides_up) > 1:
        raise ValueError("same_reflect padding is not supported with "
                         "upsampling; use same_zeros")
      if not isinstance(self.kernel_parameter, str):
        raise ValueError("legacy=True needs kernel_parameter 'rdft' or "
                         "'variable'")

  # -- attributes, fixed once built (as in TFC) ------------------------------

  FIXED_ONCE_BUILT = frozenset((
      "filters", "kernel_support", "corr", "strides_down", "strides_up",
      "padding", "extra_pad_end", "channel_separable", "data_format",
      "activation", "use_bias", "use_explicit", "kernel_parameter",
      "bias_parameter", "kernel_initializer", "bias_initializer",
      "kernel_regularizer", "bias_regularizer"))

  @property
  def legacy(self) -> bool:
    return self._legacy

  @property
  def filters(self) -> int:
    return self._filters

  @filters.setter
  def filters(self, value):
    self._check_not_built()
    value = int(value)
    if value < 1:
      raise ValueError(f"filters must be positive, got {value}")
    self._filters = value

  @property
  def kernel_support(self) -> tuple[int, ...]:
    return self._kernel_support

  @kernel_support.setter
  def kernel_support(self, value):
    self._check_not_built()
    self._kernel_support = _int_tuple(value, "kernel_support", self._rank)

  @property
  def corr(self) -> bool:
    return self._corr

  @corr.setter
  def corr(self, value):
    self._check_not_built()
    self._corr = bool(value)

  @property
  def strides_down(self) -> tuple[int, ...]:
    return self._strides_down

  @strides_down.setter
  def strides_down(self, value):
    self._check_not_built()
    self._strides_down = _int_tuple(value, "strides_down", self._rank)

  @property
  def strides_up(self) -> tuple[int, ...]:
    return self._strides_up

  @strides_up.setter
  def strides_up(self, value):
    self._check_not_built()
    self._strides_up = _int_tuple(value, "strides_up", self._rank)

  @property
  def padding(self) -> str:
    return self._padding

  @padding.setter
  def padding(self, value):
    self._check_not_built()
    value = str(value).lower()
    if value not in _PAD_MODES:
      raise ValueError(f"Unsupported padding mode: '{value}'; use one of "
                       f"{tuple(_PAD_MODES)}.")
    self._padding = value

  @property
  def extra_pad_end(self) -> bool:
    if self._extra_pad_end is None:
      return self.padding.startswith("same_")
    return self._extra_pad_end

  @extra_pad_end.setter
  def extra_pad_end(self, value):
    self._check_not_built()
    self._extra_pad_end = None if value is None else bool(value)

  @property
  def channel_separable(self) -> bool:
    return self._channel_separable

  @channel_separable.setter
  def channel_separable(self, value):
    self._check_not_built()
    self._channel_separable = bool(value)

  @property
  def data_format(self) -> str:
    return self._data_format

  @data_format.setter
  def data_format(self, value):
    self._check_not_built()
    value = str(value)
    if value not in ("channels_first", "channels_last"):
      raise ValueError(f"Unknown data format: '{value}'; use "
                       f"'channels_last' or 'channels_first'.")
    self._data_format = value

  @property
  def activation(self) -> Optional[Callable[[Any], tf.Tensor]]:
    return self._activation

  @activation.setter
  def activation(self, value):
    self._check_not_built()
    if isinstance(value, dict):
      value = keras.saving.deserialize_keras_object(value)
    if isinstance(value, str):
      value = keras.activations.get(value)
    if value is keras.activations.linear:
      value = None
    self._activation = value

  @property
  def use_bias(self) -> bool:
    return self._use_bias

  @use_bias.setter
  def use_bias(self, value):
    self._check_not_built()
    self._use_bias = bool(value)

  @property
  def use_explicit(self) -> bool:
    return self._use_explicit

  @use_explicit.setter
  def use_explicit(self, value):
    self._check_not_built()
    self._use_explicit = bool(value)

  def _parameter_value(self, value, name: str, allowed: tuple[str, ...]):
    if isinstance(value, dict):
      value = keras.saving.deserialize_keras_object(value)
    if isinstance(value, str):
      if value not in allowed:
        raise ValueError(f"Unsupported value for {name}: '{value}'; use one "
                         f"of {allowed}, a Parameter, a keras.Variable or a "
                         f"tensor.")
    elif isinstance(value, tf.Variable):
      raise TypeError(f"{name}: a tf.Variable is not tracked by Keras 3 "
                      f"layers (it would not be trained or saved); pass "
                      f"keras.Variable(initial_value) instead.")
    elif not callable(value) and not isinstance(value, keras.Variable):
      value = tf.convert_to_tensor(value, dtype=self.variable_dtype)
    return value

  @property
  def kernel_parameter(self):
    if self._legacy:
      return self._kernel_spec
    return self._kernel_parameter

  @kernel_parameter.setter
  def kernel_parameter(self, value):
    self._check_not_built()
    value = self._parameter_value(value, "kernel_parameter",
                                  ("variable", "rdft"))
    self._kernel_spec = value if isinstance(value, str) else None
    self._kernel_parameter = value

  @property
  def bias_parameter(self):
    if self._legacy:
      return self._bias_spec
    return self._bias_parameter

  @bias_parameter.setter
  def bias_parameter(self, value):
    self._check_not_built()
    value = self._parameter_value(value, "bias_parameter", ("variable",))
    self._bias_spec = value if isinstance(value, str) else None
    self._bias_parameter = value

  def _set_initializer(self, attribute, value, get):
    self._check_not_built()
    setattr(self, attribute, get(value))

  @property
  def kernel_initializer(self):
    return self._kernel_initializer

  @kernel_initializer.setter
  def kernel_initializer(self, value):
    self._set_initializer("_kernel_initializer", value,
                          keras.initializers.get)

  @property
  def bias_initializer(self):
    return self._bias_initializer

  @bias_initializer.setter
  def bias_initializer(self, value):
    self._set_initializer("_bias_initializer", value, keras.initializers.get)

  @property
  def kernel_regularizer(self):
    return self._kernel_regularizer

  @kernel_regularizer.setter
  def kernel_regularizer(self, value):
    self._set_initializer("_kernel_regularizer", value,
                          keras.regularizers.get)

  @property
  def bias_regularizer(self):
    return self._bias_regularizer

  @bias_regularizer.setter
  def bias_regularizer(self, value):
    self._set_initializer("_bias_regularizer", value, keras.regularizers.get)

  @property
  def kernel(self) -> tf.Tensor:
    if self._legacy:
      return self._legacy_kernel()
    value = self._kernel_parameter
    if isinstance(value, str):
      raise RuntimeError("Kernel is not initialized yet. Call build().")
    if isinstance(value, keras.Variable):
      return tf.convert_to_tensor(value)
    if callable(value):
      return tf.cast(value(), self.variable_dtype)
    return value

  @property
  def bias(self) -> tf.Tensor:
    value = self._bias_parameter
    if isinstance(value, str):
      raise RuntimeError("Bias is not initialized yet. Call build().")
    if isinstance(value, keras.Variable):
      return tf.convert_to_tensor(value)
    if callable(value):
      return tf.cast(value(), self.variable_dtype)
    return value

  # -- building ------------------------------------------------------------------

  @property
  def _channel_axis(self) -> int:
    return 1 if self.data_format == "channels_first" else -1

  def build(self, input_shape):
    input_shape = tuple(input_shape)
    if len(input_shape) != self._rank + 2:
      raise ValueError(
          f"{type(self).__name__} needs inputs of rank {self._rank + 2} "
          f"[batch, *spatial, channels], got shape {input_shape}")
    channels = input_shape[self._channel_axis]
    if channels is None:
      raise ValueError("The channel dimension of the inputs must be defined.")
    channels = int(channels)
    self.input_spec = keras.layers.InputSpec(
        ndim=self._rank + 2, axes={self._channel_axis: channels})
    if self._legacy:
      self._legacy_build(channels)
    else:
      kernel_shape = self.kernel_support + (channels, self.filters)
      out_channels = self.filters * (channels if self.channel_separable
                                     else 1)
      if self._kernel_spec == "rdft":
        initial = lambda: self.kernel_initializer(  # pylint: disable=g-long-lambda
            shape=kernel_shape, dtype=self.variable_dtype)
        self._kernel_parameter = parameters.RDFTParameter(initial,
                                                          name="kernel")
      elif self._kernel_spec == "variable":
        self._kernel_parameter = self.add_weight(
            name="kernel", shape=kernel_shape,
            initializer=self.kernel_initializer)
      if self.use_bias and self._bias_spec == "variable":
        self._bias_parameter = self.add_weight(
            name="bias", shape=(out_channels,),
            initializer=self.bias_initializer)
    activation = self.activation
    if isinstance(activation, keras.layers.Layer) and not activation.built:
      activation.build(self.compute_output_shape(input_shape))
    self.built = True

  # -- computation ---------------------------------------------------------------

  def _raise_notimplemented(self):
    raise NotImplementedError(
        f"The provided combination of {type(self).__name__} arguments is not "
        f"currently implemented (filters={self.filters}, "
        f"kernel_support={self.kernel_support}, corr={self.corr}, "
        f"strides_down={self.strides_down}, strides_up={self.strides_up}, "
        f"channel_separable={self.channel_separable}, "
        f"data_format={self.data_format}). Try using odd-length kernels or "
        f"turning off separability?")

  def _check_implemented(self):
    upsample = any(s > 1 for s in self.strides_up)
    odd = all(k % 2 == 1 for k in self.kernel_support)
    # As in TFC: upsampled correlations with even kernels are not defined.
    if upsample and self.corr and not odd:
      self._raise_notimplemented()
    if self.channel_separable:
      if self._rank > 2:
        self._raise_notimplemented()
      if upsample and (self.filters != 1 or
                       len(set(self.strides_up)) != 1):
        self._raise_notimplemented()
      if (not self.corr and not odd) and self.filters != 1:
        self._raise_notimplemented()

  def _flip(self, kernel):
    return kernel[self._rank * (slice(None, None, -1),)]

  def _correlate_valid(self, x, kernel, strides):
    """Valid cross-correlation, then downsampling by ``strides``."""
    if not self.channel_separable:
      return tf.nn.convolution(x, kernel, strides=strides, padding="VALID")
    if self._rank == 1:
      y = self._correlate_valid_2d_separable(
          x[:, None], kernel[None], (1,) + tuple(strides))
      return y[:, 0]
    return self._correlate_valid_2d_separable(x, kernel, strides)

  @staticmethod
  def _correlate_valid_2d_separable(x, kernel, strides):
    if strides[0] == strides[1]:
      return tf.nn.depthwise_conv2d(x, kernel, (1,) + tuple(strides) + (1,),
                                    "VALID")
    y = tf.nn.depthwise_conv2d(x, kernel, (1, 1, 1, 1), "VALID")
    return y[:, ::strides[0], ::strides[1]]

  def _full_upsampled_convolution(self, x, kernel):
    """Full convolution of the zero-upsampled input with the kernel: index
    ``j`` is ``sum_k kernel[k] * u[j - k]`` (``u`` the upsampled input)."""
    rank, up, support = self._rank, self.strides_up, self.kernel_support
    shape = tf.shape(x)
    lengths = []
    for i in range(rank):
      n = shape[1 + i]
      if self.extra_pad_end:
        lengths.append(n * up[i] + support[i] - 1)
      else:
        lengths.append((n - 1) * up[i] + support[i])
    if not self.channel_separable:
      out_shape = tf.stack([shape[0]] + lengths + [self.filters])
      # conv_transpose wants [*support, out, in].
      kernel_t = tf.transpose(kernel, list(range(rank)) + [rank + 1, rank])
      return tf.nn.conv_transpose(x, kernel_t, out_shape,
                                  strides=(1,) + up + (1,), padding="VALID")
    channels = shape[-1]
    if rank == 1:
      out_shape = tf.stack([shape[0], 1, lengths[0], channels])
      y = tf.nn.depthwise_conv2d_backprop_input(
          out_shape, kernel[None], x[:, None], (1, 1, up[0], 1), "VALID")
      return y[:, 0]
    out_shape = tf.stack([shape[0]] + lengths + [channels])
    return tf.nn.depthwise_conv2d_backprop_input(
        out_shape, kernel, x, (1,) + up + (1,), "VALID")

  def _filter(self, x, kernel):
    rank, support = self._rank, self.kernel_support
    down, up = self.strides_down, self.strides_up
    if all(s == 1 for s in up):
      # Correlate (flipping the kernel for a convolution) after padding
      # around the kernel centre support // 2.
      filt = kernel if self.corr else self._flip(kernel)
      if self.padding != "valid":
        pads = padding_ops.same_padding_for_kernel(support, self.corr)
        x = tf.pad(x, [(0, 0)] + pads + [(0, 0)],
                   mode=_PAD_MODES[self.padding])
      return self._correlate_valid(x, filt, down)
    # Upsampled: the full convolution of the upsampled input, cropped.
    filt = self._flip(kernel) if self.corr else kernel
    lengths = tf.shape(x)[1:1 + rank]
    prepad = [(0, 0)] * rank
    if self.padding == "same_reflect":
      prepad = padding_ops.same_padding_for_kernel(support, self.corr, up)
      x = tf.pad(x, [(0, 0)] + prepad + [(0, 0)], mode="REFLECT")
    full = self._full_upsampled_convolution(x, filt)
    slices = [slice(None)]
    for i in range(rank):
      n, s, k = lengths[i], up[i], support[i]
      length = n * s if self.extra_pad_end else (n - 1) * s + 1
      if self.padding == "valid":
        start = k - 1
        length = length - (k - 1)
      else:
        centre = (k - 1) // 2 if self.corr else k // 2
        start = prepad[i][0] * s + centre
      slices.append(slice(start, start + length, down[i]))
    slices.append(slice(None))
    return full[tuple(slices)]

  def call(self, inputs, training=None):
    x = tf.convert_to_tensor(inputs)
    if x.shape.rank != self._rank + 2:
      raise ValueError(
          f"{type(self).__name__} needs inputs of rank {self._rank + 2}, got "
          f"shape {x.shape}")
    if self._legacy:
      return self._legacy_call(x, training)
    self._check_implemented()
    kernel = self.kernel
    if self.kernel_regularizer is not None:
      self.add_loss(self.kernel_regularizer(kernel))
    kernel = tf.cast(kernel, x.dtype)
    if self.data_format == "channels_first":
      x = tf.transpose(x, [0] + list(range(2, self._rank + 2)) + [1])
    y = self._filter(x, kernel)
    if self.use_bias:
      bias = self.bias
      if self.bias_regularizer is not None:
        self.add_loss(self.bias_regularizer(bias))
      y = tf.nn.bias_add(y, tf.cast(bias, y.dtype))
    if self.data_format == "channels_first":
      y = tf.transpose(y, [0, self._rank + 1] + list(range(1, self._rank + 1)))
    if self.activation is not None:
      y = self.activation(y)
    return y

  def compute_output_shape(self, input_shape):
    input_shape = tuple(input_shape)
    if len(input_shape) != self._rank + 2:
      raise ValueError(f"expected a shape of rank {self._rank + 2}, got "
                       f"{input_shape}")
    if self.data_format == "channels_first":
      spatial, channels = list(input_shape[2:]), input_shape[1]
    else:
      spatial, channels = list(input_shape[1:-1]), input_shape[-1]
    if self._legacy:
      return self._legacy_output_shape(input_shape)
    for i, n in enumerate(spatial):
      if n is None:
        continue
      if self.extra_pad_end:
        n *= self.strides_up[i]
      else:
        n = (n - 1) * self.strides_up[i] + 1
      if self.padding == "valid":
        n -= self.kernel_support[i] - 1
      spatial[i] = (n - 1) // self.strides_down[i] + 1
    if self.channel_separable:
      channels = None if channels is None else channels * self.filters
    else:
      channels = self.filters
    if self.data_format == "channels_first":
      return (input_shape[0], channels, *spatial)
    return (input_shape[0], *spatial, channels)

  # -- tensorcoder 1 (legacy=True) -------------------------------------------

  def _legacy_build(self, channels: int):
    shape = self.kernel_support + (channels, self.filters)
    if max(self.strides_up) > 1:
      # conv2d_transpose kernels are [h, w, out, in].
      shape = self.kernel_support + (self.filters, channels)
    if self._kernel_spec == "rdft":
      # The attribute name is the weights' path in tensorcoder 1 files.
      self._rdft = parameters.LegacyRDFTParameter(
          shape, initializer=self.kernel_initializer, name="kernel_rdft")
    else:
      self._kernel = self.add_weight(
          name="kernel", shape=shape, initializer=self.kernel_initializer)
    if self.use_bias:
      self._bias_parameter = self.add_weight(
          name="bias", shape=(self.filters,),
          initializer=self.bias_initializer)

  def legacy_kernel_parameter(self):
    """What a legacy layer's kernel is computed from, before the flip of
    ``corr=False``: its ``parameters.LegacyRDFTParameter`` (``"rdft"``)
    or its kernel variable (``[h, w, in, out]``; ``[h, w, out, in]`` for
    upsampling layers, as ``conv2d_transpose`` takes it)."""
    if not self._legacy:
      raise ValueError(f"{self.name} is not a legacy layer")
    if not self.built:
      raise RuntimeError("Kernel is not initialized yet. Call build().")
    return self._rdft if self._kernel_spec == "rdft" else self._kernel

  def _legacy_kernel(self) -> tf.Tensor:
    if not self.built:
      raise RuntimeError("Kernel is not initialized yet. Call build().")
    value = self._rdft if self._kernel_spec == "rdft" else self._kernel
    kernel = tf.convert_to_tensor(value)
    if not self.corr:
      kernel = kernel[::-1, ::-1]
    return kernel

  def legacy_filter(self, x: tf.Tensor, kernel: tf.Tensor,
                    by_phases: bool = False) -> tf.Tensor:
    """A legacy layer's filtering of ``x`` with ``kernel`` (as
    ``_legacy_kernel`` gives it, in ``x``'s dtype): no bias, no
    activation. ``by_phases``: a float32 upsampling with "same" padding
    computes per output phase (``upsample_by_phases``)."""
    if max(self.strides_up) > 1:
      shape = tf.shape(x)
      (sh, sw) = self.strides_up
      (kh, kw) = self.kernel_support
      if self.padding == "valid":
        out_h = (shape[1] - 1) * sh + kh
        out_w = (shape[2] - 1) * sw + kw
        padding = "VALID"
      else:
        if (by_phases and x.dtype == tf.float32 and
            polyphase.worthwhile(self.kernel_support, self.strides_up,
                                 self.filters)):
          return polyphase.conv2d_transpose_same(x, kernel, self.strides_up)
        out_h, out_w = shape[1] * sh, shape[2] * sw
        padding = "SAME"
      return tf.nn.conv2d_transpose(
          x, kernel, tf.stack([shape[0], out_h, out_w, self.filters]),
          strides=(1, sh, sw, 1), padding=padding)
    if self.padding != "valid":
      (kh, kw) = self.kernel_support
      pads = [[0, 0], [(kh - 1) // 2, kh // 2], [(kw - 1) // 2, kw // 2],
              [0, 0]]
      x = tf.pad(x, pads, mode=_PAD_MODES[self.padding])
    return tf.nn.conv2d(x, kernel, strides=(1,) + self.strides_down + (1,),
                        padding="VALID")

  def _legacy_call(self, x, training=None):
    kernel = tf.cast(self._legacy_kernel(), x.dtype)
    # By phases for inference only: in training the phases' gradients made
    # a float32 step of the codec 3-6 % slower on CPUs.
    y = self.legacy_filter(
        x, kernel, by_phases=self.upsample_by_phases and not training)
    if self.use_bias:
      y = tf.nn.bias_add(y, tf.cast(self._bias_parameter, y.dtype))
    if self.activation is not None:
      y = self.activation(y)
    return y

  def _legacy_output_shape(self, input_shape):
    batch, height, width, _ = input_shape
    spatial = []
    for n, k, down, up in zip((height, width), self.kernel_support,
                              self.strides_down, self.strides_up):
      if n is None:
        spatial.append(None)
      elif up > 1:
        spatial.append((n - 1) * up + k if self.padding == "valid" else
                       n * up)
      elif self.padding == "valid":
        spatial.append((n - k) // down + 1)
      else:
        spatial.append((n - 1) // down + 1)
    return (batch, *spatial, self.filters)

  # -- serialization -----------------------------------------------------------

  def get_config(self) -> dict[str, Any]:
    config = super().get_config()
    activation = self.activation
    if isinstance(activation, keras.layers.Layer):
      activation = keras.saving.serialize_keras_object(activation)
    elif activation is not None:
      activation = keras.activations.serialize(activation)
    config.update(
        filters=self.filters, kernel_support=list(self.kernel_support),
        corr=self.corr, strides_down=list(self.strides_down),
        strides_up=list(self.strides_up), padding=self.padding,
        extra_pad_end=self._extra_pad_end,
        channel_separable=self.channel_separable,
        data_format=self.data_format, activation=activation,
        use_bias=self.use_bias, use_explicit=self.use_explicit,
        kernel_parameter=_serialize_parameter(
            self._kernel_parameter, "kernel_parameter", self._kernel_spec),
        bias_parameter=_serialize_parameter(
            self._bias_parameter, "bias_parameter", self._bias_spec),
        kernel_initializer=keras.initializers.serialize(
            self.kernel_initializer),
        bias_initializer=keras.initializers.serialize(self.bias_initializer),
        kernel_regularizer=keras.regularizers.serialize(
            self.kernel_regularizer) if self.kernel_regularizer else None,
        bias_regularizer=keras.regularizers.serialize(
            self.bias_regularizer) if self.bias_regularizer else None,
        legacy=self._legacy)
    return config

  @classmethod
  def from_config(cls, config: dict):
    config = dict(config)
    if "legacy" not in config and "data_format" not in config:
      config["legacy"] = True  # A tensorcoder 1 config.
    activation = config.get("activation")
    if isinstance(activation, dict) and "class_name" in activation and \
        activation.get("module") != "keras.activations":
      try:
        config["activation"] = keras.saving.deserialize_keras_object(
            activation)
      except (TypeError, ValueError):
        config["activation"] = keras.activations.deserialize(activation)
    return cls(**config)


@keras.saving.register_keras_serializable(package="tensorcoder")
class SignalConv1D(_SignalConv):
  __doc__ = _SignalConv.__doc__.format(rank=1)
  _rank = 1


@keras.saving.register_keras_serializable(package="tensorcoder")
class SignalConv2D(_SignalConv):
  __doc__ = _SignalConv.__doc__.format(rank=2)
  _rank = 2


@keras.saving.register_keras_serializable(package="tensorcoder")
class SignalConv3D(_SignalConv):
  __doc__ = _SignalConv.__doc__.format(rank=3)
  _rank = 3


for _cls in (SignalConv1D, SignalConv2D, SignalConv3D):
  parameters.register_tfc_name(_cls)
del _cls
