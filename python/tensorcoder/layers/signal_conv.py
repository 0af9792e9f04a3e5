"""2-D convolution with the signal-processing conventions of TFC's
``SignalConv2D``: downsampling (``strides_down``) and upsampling
(``strides_up``) factors, boundary handling by name, and a choice between
correlation and convolution.

Output sizes with ``same_*`` padding: ``ceil(n / strides_down)`` when
downsampling and ``n * strides_up`` when upsampling, so an analysis transform
followed by a synthesis transform with the same factors returns the input
size (for sizes divisible by the total factor).
"""

from __future__ import annotations

from typing import Optional, Sequence, Union

import keras
import tensorflow as tf

from tensorcoder.layers import parameters

_PADDINGS = ("valid", "same_zeros", "same_reflect")


def _pair(value, name: str) -> tuple[int, int]:
  if isinstance(value, int):
    value = (value, value)
  value = tuple(int(v) for v in value)
  if len(value) != 2 or min(value) < 1:
    raise ValueError(f"{name} must be a positive int or pair, got {value}")
  return value


@keras.saving.register_keras_serializable(package="tensorcoder")
class SignalConv2D(keras.layers.Layer):
  """2-D convolution layer (channels last).

  Args:
    filters: number of output channels.
    kernel_support: kernel size (int or pair).
    corr: cross-correlation (True) or convolution (False, the kernel is
      flipped).
    strides_down: downsampling factor(s) applied after filtering.
    strides_up: upsampling factor(s) applied before filtering (via a
      transposed convolution). Only one of the two may exceed 1.
    padding: ``valid``, ``same_zeros`` or ``same_reflect`` (the latter not
      with upsampling).
    use_bias: add a bias per output channel.
    activation: a Keras activation applied last (e.g. a ``GDN`` layer).
    kernel_parameter: ``"rdft"`` (kernel trained in the real DFT domain,
      :class:`RDFTParameter`) or ``"variable"``.
    kernel_initializer, bias_initializer: Keras initializers.
  """

  def __init__(self, filters: int, kernel_support: Union[int, Sequence[int]],
               corr: bool = False, strides_down: Union[int, Sequence[int]] = 1,
               strides_up: Union[int, Sequence[int]] = 1,
               padding: str = "valid", use_bias: bool = False,
               activation=None, kernel_parameter: str = "rdft",
               kernel_initializer="variance_scaling",
               bias_initializer="zeros", **kwargs):
    super().__init__(**kwargs)
    self.filters = int(filters)
    if self.filters < 1:
      raise ValueError(f"filters must be positive, got {filters}")
    self.kernel_support = _pair(kernel_support, "kernel_support")
    self.corr = bool(corr)
    self.strides_down = _pair(strides_down, "strides_down")
    self.strides_up = _pair(strides_up, "strides_up")
    if max(self.strides_down) > 1 and max(self.strides_up) > 1:
      raise ValueError("strides_down and strides_up cannot both exceed 1")
    if padding not in _PADDINGS:
      raise ValueError(f"padding must be one of {_PADDINGS}, got "
                       f"{padding!r}")
    if padding == "same_reflect" and max(self.strides_up) > 1:
      raise ValueError("same_reflect padding is not supported with "
                       "upsampling; use same_zeros")
    self.padding = padding
    self.use_bias = bool(use_bias)
    if isinstance(activation, keras.layers.Layer):
      self.activation = activation
    else:
      self.activation = keras.activations.get(activation)
    if kernel_parameter not in ("rdft", "variable"):
      raise ValueError(f"kernel_parameter must be 'rdft' or 'variable', got "
                       f"{kernel_parameter!r}")
    self.kernel_parameter = kernel_parameter
    self.kernel_initializer = keras.initializers.get(kernel_initializer)
    self.bias_initializer = keras.initializers.get(bias_initializer)

  def build(self, input_shape):
    channels = input_shape[-1]
    if channels is None:
      raise ValueError("SignalConv2D needs a known number of input channels")
    shape = self.kernel_support + (int(channels), self.filters)
    if max(self.strides_up) > 1:
      # conv2d_transpose kernels are [h, w, out, in].
      shape = self.kernel_support + (self.filters, int(channels))
    if self.kernel_parameter == "rdft":
      self._rdft = parameters.RDFTParameter(
          shape, initializer=self.kernel_initializer, name="kernel_rdft")
    else:
      self._kernel = self.add_weight(name="kernel", shape=shape,
                                     initializer=self.kernel_initializer)
    if self.use_bias:
      self.bias = self.add_weight(name="bias", shape=(self.filters,),
                                  initializer=self.bias_initializer)
    if (isinstance(self.activation, keras.layers.Layer) and
        not self.activation.built):
      self.activation.build(tuple(input_shape[:-1]) + (self.filters,))

  @property
  def kernel(self) -> tf.Tensor:
    if self.kernel_parameter == "rdft":
      kernel = self._rdft.value()
    else:
      kernel = tf.convert_to_tensor(self._kernel)
    if not self.corr:
      kernel = kernel[::-1, ::-1]
    return kernel

  def _same_padding(self) -> list[list[int]]:
    (kh, kw) = self.kernel_support
    return [[0, 0], [(kh - 1) // 2, kh // 2], [(kw - 1) // 2, kw // 2], [0, 0]]

  def call(self, inputs):
    x = tf.convert_to_tensor(inputs)
    if x.shape.rank != 4:
      raise ValueError(f"SignalConv2D needs inputs [batch, height, width, "
                       f"channels], got shape {x.shape}")
    kernel = tf.cast(self.kernel, x.dtype)
    if max(self.strides_up) > 1:
      shape = tf.shape(x)
      (sh, sw) = self.strides_up
      (kh, kw) = self.kernel_support
      if self.padding == "valid":
        out_h = (shape[1] - 1) * sh + kh
        out_w = (shape[2] - 1) * sw + kw
        padding = "VALID"
      else:
        out_h, out_w = shape[1] * sh, shape[2] * sw
        padding = "SAME"
      y = tf.nn.conv2d_transpose(
          x, kernel, tf.stack([shape[0], out_h, out_w, self.filters]),
          strides=(1, sh, sw, 1), padding=padding)
    else:
      if self.padding != "valid":
        mode = "CONSTANT" if self.padding == "same_zeros" else "REFLECT"
        x = tf.pad(x, self._same_padding(), mode=mode)
      y = tf.nn.conv2d(x, kernel, strides=(1,) + self.strides_down + (1,),
                       padding="VALID")
    if self.use_bias:
      y = tf.nn.bias_add(y, tf.cast(self.bias, y.dtype))
    if self.activation is not None:
      y = self.activation(y)
    return y

  def get_config(self) -> dict:
    config = super().get_config()
    activation = self.activation
    if isinstance(activation, keras.layers.Layer):
      activation = keras.saving.serialize_keras_object(activation)
    else:
      activation = keras.activations.serialize(activation) if activation \
          else None
    config.update(
        filters=self.filters, kernel_support=list(self.kernel_support),
        corr=self.corr, strides_down=list(self.strides_down),
        strides_up=list(self.strides_up), padding=self.padding,
        use_bias=self.use_bias, activation=activation,
        kernel_parameter=self.kernel_parameter,
        kernel_initializer=keras.initializers.serialize(
            self.kernel_initializer),
        bias_initializer=keras.initializers.serialize(self.bias_initializer))
    return config

  @classmethod
  def from_config(cls, config: dict) -> "SignalConv2D":
    config = dict(config)
    activation = config.get("activation")
    if isinstance(activation, dict) and "class_name" in activation and \
        activation.get("module") != "keras.activations":
      try:
        config["activation"] = keras.saving.deserialize_keras_object(
            activation)
      except (TypeError, ValueError):
        config["activation"] = keras.activations.deserialize(activation)
    return cls(**config)
