"""Generalized divisive normalization (GDN) and its inverse (IGDN).

Ballé, Laparra and Simoncelli, "Density modeling of images using a
generalized normalization transformation", ICLR 2016
(https://arxiv.org/abs/1511.06281), and "End-to-end optimized image
compression", ICLR 2017 (https://arxiv.org/abs/1611.01704):

    y[i] = x[i] / (beta[i] + sum_j(gamma[j, i] * |x[j]|^alpha))^epsilon

with ``i`` and ``j`` over channels. As in TFC 2.x the default is
``alpha = epsilon = 1`` (``x / (beta + gamma·|x|)``); ``alpha_parameter=2,
epsilon_parameter=.5`` gives the classic ``x / sqrt(beta + gamma·x²)``. The
inverse (IGDN, one fixed-point step of inverting GDN) multiplies instead of
dividing; ``rectify=True`` applies a ReLU first.
"""

from __future__ import annotations

from typing import Any, Callable, Optional, Union

import keras
import numpy as np
import tensorflow as tf

from tensorcoder.layers import fixed_attributes
from tensorcoder.layers import parameters

ParameterType = Union[None, tf.Tensor, Callable[[], tf.Tensor]]

_LEGACY_KEYS = ("gamma_init", "beta_min", "gamma_min")


def _serialize_parameter(value, name: str):
  if value is None:
    return None
  if isinstance(value, parameters.Parameter):
    return keras.saving.serialize_keras_object(value)
  if isinstance(value, (tf.Tensor, np.ndarray)):
    array = np.asarray(value)
    return float(array) if array.ndim == 0 else array.tolist()
  raise TypeError(f"Can't serialize {name} of type '{type(value)}'; pass a "
                  f"Parameter object or a constant to make the layer "
                  f"serializable.")


@keras.saving.register_keras_serializable(package="tensorcoder")
class GDN(fixed_attributes.FixedOnceBuilt, keras.layers.Layer):
  """GDN or IGDN over the channel axis of inputs of rank >= 2.

  Args:
    inverse: IGDN (multiply by the normalizer) instead of GDN.
    rectify: apply a ReLU before normalizing.
    data_format: ``"channels_last"`` or ``"channels_first"``.
    alpha_parameter, epsilon_parameter: a number or scalar tensor (fixed),
      a callable such as a ``Parameter`` (computed), or None (a
      ``GDNParameter`` is created at build with minimum 1 for alpha, 1e-6 for
      epsilon). Default 1 (fixed).
    beta_parameter, gamma_parameter: a tensor (fixed), a callable/Parameter,
      or None (default: a ``GDNParameter`` created at build, minimum 1e-6
      for beta, 0 for gamma).
    alpha_initializer, beta_initializer, gamma_initializer,
      epsilon_initializer: initializers of the parameters created at build
      (defaults: ones, ones, ``Identity(0.1)``, ones).
    legacy: tensorcoder 1's layer: the classic form (alpha 2, epsilon 1/2)
      and the weight layout of files saved by tensorcoder 1 (``beta`` and
      ``gamma`` are then the ``GDNParameter`` objects). Implied by the
      tensorcoder 1 arguments ``gamma_init``, ``beta_min``, ``gamma_min``.

  Attributes are those of TFC: the arguments above, and ``alpha``, ``beta``,
  ``gamma``, ``epsilon`` (the current values as tensors). They cannot be
  changed after the layer is built.
  """

  def __init__(self, inverse: bool = False, rectify: bool = False,
               data_format: str = "channels_last",
               alpha_parameter: ParameterType = 1,
               beta_parameter: ParameterType = None,
               gamma_parameter: ParameterType = None,
               epsilon_parameter: ParameterType = 1,
               alpha_initializer="ones", beta_initializer="ones",
               gamma_initializer=None, epsilon_initializer="ones",
               legacy: bool = False, **kwargs):
    legacy_args = {k: kwargs.pop(k) for k in _LEGACY_KEYS if k in kwargs}
    super().__init__(**kwargs)
    self._legacy = bool(legacy or legacy_args)
    self._gamma_init = float(legacy_args.get("gamma_init", 0.1))
    self._beta_min = float(legacy_args.get("beta_min", 1e-6))
    self._gamma_min = float(legacy_args.get("gamma_min", 0.0))
    if not self._beta_min > 0:
      raise ValueError(f"beta_min must be positive, got {self._beta_min}")
    if self._legacy:
      if alpha_parameter == 1 and not callable(alpha_parameter):
        alpha_parameter = 2
      if epsilon_parameter == 1 and not callable(epsilon_parameter):
        epsilon_parameter = .5
    if gamma_initializer is None:
      gamma_initializer = keras.initializers.Identity(self._gamma_init)
    self.input_spec = keras.layers.InputSpec(min_ndim=2)
    self.inverse = inverse
    self.rectify = rectify
    self.data_format = data_format
    self.alpha_parameter = alpha_parameter
    self.beta_parameter = beta_parameter
    self.gamma_parameter = gamma_parameter
    self.epsilon_parameter = epsilon_parameter
    self.alpha_initializer = alpha_initializer
    self.beta_initializer = beta_initializer
    self.gamma_initializer = gamma_initializer
    self.epsilon_initializer = epsilon_initializer

  # -- attributes, fixed once built (as in TFC) ------------------------------

  FIXED_ONCE_BUILT = frozenset((
      "inverse", "rectify", "data_format", "alpha_parameter",
      "beta_parameter", "gamma_parameter", "epsilon_parameter",
      "alpha_initializer", "beta_initializer", "gamma_initializer",
      "epsilon_initializer"))

  @property
  def legacy(self) -> bool:
    return self._legacy

  @property
  def inverse(self) -> bool:
    return self._inverse

  @inverse.setter
  def inverse(self, value):
    self._check_not_built()
    self._inverse = bool(value)

  @property
  def rectify(self) -> bool:
    return self._rectify

  @rectify.setter
  def rectify(self, value):
    self._check_not_built()
    self._rectify = bool(value)

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

  def _set_parameter(self, attribute: str, value):
    self._check_not_built()
    if isinstance(value, dict):
      value = keras.saving.deserialize_keras_object(value)
    if value is not None and not callable(value):
      value = tf.convert_to_tensor(value, dtype=self.variable_dtype)
    setattr(self, attribute, value)

  @property
  def alpha_parameter(self) -> ParameterType:
    return self._alpha_parameter

  @alpha_parameter.setter
  def alpha_parameter(self, value):
    self._set_parameter("_alpha_parameter", value)

  @property
  def beta_parameter(self) -> ParameterType:
    return self._beta_parameter

  @beta_parameter.setter
  def beta_parameter(self, value):
    self._set_parameter("_beta_parameter", value)

  @property
  def gamma_parameter(self) -> ParameterType:
    return self._gamma_parameter

  @gamma_parameter.setter
  def gamma_parameter(self, value):
    self._set_parameter("_gamma_parameter", value)

  @property
  def epsilon_parameter(self) -> ParameterType:
    return self._epsilon_parameter

  @epsilon_parameter.setter
  def epsilon_parameter(self, value):
    self._set_parameter("_epsilon_parameter", value)

  def _set_initializer(self, attribute: str, value):
    self._check_not_built()
    setattr(self, attribute, keras.initializers.get(value))

  @property
  def alpha_initializer(self):
    return self._alpha_initializer

  @alpha_initializer.setter
  def alpha_initializer(self, value):
    self._set_initializer("_alpha_initializer", value)

  @property
  def beta_initializer(self):
    return self._beta_initializer

  @beta_initializer.setter
  def beta_initializer(self, value):
    self._set_initializer("_beta_initializer", value)

  @property
  def gamma_initializer(self):
    return self._gamma_initializer

  @gamma_initializer.setter
  def gamma_initializer(self, value):
    self._set_initializer("_gamma_initializer", value)

  @property
  def epsilon_initializer(self):
    return self._epsilon_initializer

  @epsilon_initializer.setter
  def epsilon_initializer(self, value):
    self._set_initializer("_epsilon_initializer", value)

  def _value(self, parameter, name: str):
    if parameter is None:
      raise RuntimeError(f"{name} is not initialized yet. Call build().")
    if self._legacy and isinstance(parameter, parameters.Parameter):
      # tensorcoder 1: the attribute is the parameter object (which
      # converts to a tensor); its weights are saved under this name.
      return parameter
    if callable(parameter):
      return tf.cast(parameter(), self.variable_dtype)
    return parameter

  @property
  def alpha(self) -> tf.Tensor:
    return self._value(self.alpha_parameter, "alpha")

  @property
  def beta(self) -> tf.Tensor:
    return self._value(self.beta_parameter, "beta")

  @property
  def gamma(self) -> tf.Tensor:
    return self._value(self.gamma_parameter, "gamma")

  @property
  def epsilon(self) -> tf.Tensor:
    return self._value(self.epsilon_parameter, "epsilon")

  @property
  def _channel_axis(self) -> int:
    return {"channels_first": 1, "channels_last": -1}[self.data_format]

  # -- computation -------------------------------------------------------------

  def build(self, input_shape):
    input_shape = tuple(input_shape)
    if len(input_shape) < 2:
      raise ValueError(f"GDN needs inputs of rank >= 2, got shape "
                       f"{input_shape}")
    channels = input_shape[self._channel_axis]
    if channels is None:
      raise ValueError("The channel dimension of the inputs to `GDN` must be "
                       "defined.")
    channels = int(channels)
    self.input_spec = keras.layers.InputSpec(
        min_ndim=2, axes={self._channel_axis: channels})
    dtype = self.variable_dtype
    self._created_by_build = tuple(
        name for name in ("alpha", "beta", "gamma", "epsilon")
        if getattr(self, f"_{name}_parameter") is None)
    if self._alpha_parameter is None:
      self._alpha_parameter = parameters.GDNParameter(
          lambda: self.alpha_initializer(  # pylint: disable=g-long-lambda
              shape=[], dtype=dtype),
          name="alpha",
          minimum=1)
    if self._beta_parameter is None:
      self._beta_parameter = parameters.GDNParameter(
          lambda: self.beta_initializer(  # pylint: disable=g-long-lambda
              shape=[channels], dtype=dtype),
          name="beta",
          minimum=self._beta_min)
    if self._gamma_parameter is None:
      self._gamma_parameter = parameters.GDNParameter(
          lambda: self.gamma_initializer(  # pylint: disable=g-long-lambda
              shape=[channels, channels], dtype=dtype),
          name="gamma", minimum=self._gamma_min)
    if self._epsilon_parameter is None:
      self._epsilon_parameter = parameters.GDNParameter(
          lambda: self.epsilon_initializer(  # pylint: disable=g-long-lambda
              shape=[], dtype=dtype),
          name="epsilon",
          minimum=1e-6)
    self.built = True

  @staticmethod
  def _fixed(parameter, value: float) -> bool:
    if parameter is None or callable(parameter):
      return False
    array = np.asarray(parameter)
    return array.ndim == 0 and float(array) == value

  def call(self, inputs):
    x = tf.convert_to_tensor(inputs)
    rank = x.shape.rank
    if rank is None:
      raise RuntimeError("Input tensor rank must be defined.")
    if rank < 2:
      raise ValueError(f"GDN needs inputs of rank >= 2, got {x.shape}")
    dtype = x.dtype
    if self.rectify:
      x = tf.nn.relu(x)
    if self._fixed(self.alpha_parameter, 1):
      pool = x if self.rectify else tf.math.abs(x)
    elif self._fixed(self.alpha_parameter, 2):
      pool = tf.math.square(x)
    else:
      pool = x**tf.cast(tf.convert_to_tensor(self.alpha), dtype)
    gamma = tf.cast(tf.convert_to_tensor(self.gamma), dtype)
    beta = tf.cast(tf.convert_to_tensor(self.beta), dtype)
    axis = self._channel_axis % rank
    norm = tf.tensordot(pool, gamma, [[axis], [0]])
    norm += beta
    if axis != rank - 1:
      perm = list(range(rank - 1))
      perm.insert(axis, rank - 1)
      norm = tf.transpose(norm, perm)
    if self._fixed(self.epsilon_parameter, 1):
      return x * norm if self.inverse else x / norm
    if self._fixed(self.epsilon_parameter, .5):
      return x * tf.math.sqrt(norm) if self.inverse else (
          x * tf.math.rsqrt(norm))
    norm = norm**tf.cast(tf.convert_to_tensor(self.epsilon), dtype)
    return x * norm if self.inverse else x / norm

  def compute_output_shape(self, input_shape):
    return tuple(input_shape)

  def get_config(self) -> dict[str, Any]:
    config = super().get_config()
    config.update(
        inverse=self.inverse, rectify=self.rectify,
        data_format=self.data_format,
        alpha_parameter=self._serialize("alpha"),
        beta_parameter=self._serialize("beta"),
        gamma_parameter=self._serialize("gamma"),
        epsilon_parameter=self._serialize("epsilon"),
        alpha_initializer=keras.initializers.serialize(self.alpha_initializer),
        beta_initializer=keras.initializers.serialize(self.beta_initializer),
        gamma_initializer=keras.initializers.serialize(self.gamma_initializer),
        epsilon_initializer=keras.initializers.serialize(
            self.epsilon_initializer),
        legacy=self._legacy)
    if self._legacy:
      config.update(gamma_init=self._gamma_init, beta_min=self._beta_min,
                    gamma_min=self._gamma_min)
    return config

  def _serialize(self, name: str):
    if name in getattr(self, "_created_by_build", ()):
      return None  # Created by build(); rebuilt the same way, then loaded.
    return _serialize_parameter(getattr(self, f"_{name}_parameter"),
                                f"{name}_parameter")

  @classmethod
  def from_config(cls, config: dict) -> "GDN":
    config = dict(config)
    if any(k in config for k in _LEGACY_KEYS) and "legacy" not in config:
      config["legacy"] = True  # A tensorcoder 1 config.
    return cls(**config)


parameters.register_tfc_name(GDN)
