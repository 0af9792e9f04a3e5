"""Reparameterised layer weights: ``Parameter``, ``RDFTParameter`` and
``GDNParameter`` (TFC's ``tfc.Parameter`` family).

Ballé, "Efficient nonlinear transforms for lossy image compression" (PCS
2018) trains convolution kernels in the real DFT domain, which balances the
step sizes of the optimiser across frequencies, and keeps GDN's parameters
positive through a bounded, squared reparameterisation whose gradients do not
vanish at the bound.

A ``Parameter`` is a Keras layer (so a layer holding one tracks, trains and
saves its variables) whose call takes no arguments and returns the parameter's
value; ``tf.convert_to_tensor(parameter)`` returns the same value.
"""

from __future__ import annotations

from typing import Any, Optional, Sequence

import keras
import numpy as np
import tensorflow as tf

from tensorcoder.ops import math_ops

__all__ = ["Parameter", "RDFTParameter", "GDNParameter"]


def _as_tensor(initial_value, shape, dtype) -> tf.Tensor:
  """TFC's convention: ``initial_value`` or, if None, zeros of ``shape``."""
  if initial_value is None:
    if shape is None:
      raise ValueError("If initial_value is None, shape must be specified.")
    return tf.zeros(shape, dtype=dtype or "float32")
  if callable(initial_value) and not isinstance(initial_value, tf.Tensor):
    initial_value = initial_value()
  value = tf.convert_to_tensor(initial_value, dtype=dtype)
  if not value.dtype.is_floating:
    value = tf.cast(value, dtype or "float32")
  return value


class Parameter(keras.layers.Layer):
  """A reparameterised layer weight: a function of its own variables.

  Subclasses implement ``value()``; calling the parameter without arguments
  (``parameter()``) returns the same tensor, as does
  ``tf.convert_to_tensor(parameter)``. ``get_weights``/``set_weights`` and
  the ``variables`` are those of a Keras layer.
  """

  def __call__(self, *args, **kwargs) -> tf.Tensor:
    if args or kwargs:
      raise TypeError(f"{type(self).__name__} takes no arguments: call it as "
                      f"parameter() to get its value")
    return self.value()

  def call(self, inputs=None):
    return self.value()

  def value(self) -> tf.Tensor:
    raise NotImplementedError

  @property
  def shape(self) -> tf.TensorShape:
    return tf.TensorShape(self._value_shape)

  def get_config(self) -> dict[str, Any]:
    return dict(name=self.name)


def _parameter_to_tensor(value, dtype=None, name=None, as_ref=False):
  if as_ref:
    raise ValueError("as_ref=True is not supported.")
  return tf.convert_to_tensor(value.value(), dtype=dtype, name=name)


tf.register_tensor_conversion_function(Parameter, _parameter_to_tensor)


_FFT = {1: (tf.signal.rfft, tf.signal.irfft),
        2: (tf.signal.rfft2d, tf.signal.irfft2d),
        3: (tf.signal.rfft3d, tf.signal.irfft3d)}


@keras.saving.register_keras_serializable(package="tensorcoder")
class RDFTParameter(Parameter):
  """A convolution kernel trained through its real DFT (Ballé, PCS 2018).

  The kernel ``[*support, in, out]`` (support of rank 1 to 3) is stored as
  the real and imaginary parts of its orthonormally scaled real DFT over the
  support (variables ``{name}_real`` and ``{name}_imag`` of shape
  ``[in, out, *support[:-1], support[-1] // 2 + 1]``); calling the parameter
  applies the inverse transform.

  Args:
    initial_value: the initial kernel, or None (then ``shape`` is required
      and the kernel starts at zero).
    name: the name of the kernel.
    shape: the kernel shape when ``initial_value`` is None.
    dtype: variable dtype (default: that of ``initial_value``).

  Attributes:
    shape: the kernel shape. real, imag: the variables (listed in
      ``weights`` as ``[imag, real]``, TFC's order).
  """

  def __init__(self, initial_value=None, name: Optional[str] = None,
               shape=None, dtype=None, **kwargs):
    # Initial values are computed eagerly (also when a layer builds in a
    # tf.function, e.g. in fit()): the variables are created outside it.
    with tf.init_scope():
      initial_value = _as_tensor(initial_value, shape, dtype)
      kwargs.pop("initial_value", None)
      super().__init__(name=name, dtype=initial_value.dtype.name, **kwargs)
      self._value_shape = tuple(int(d) for d in initial_value.shape)
      rank = len(self._value_shape) - 2
      if rank not in _FFT:
        raise ValueError(f"Expected kernel tensor of rank 3, 4, or 5; received "
                         f"shape {self._value_shape}.")
      self._rank = rank
      spatial = self._value_shape[:rank]
      self._norm = float(np.prod(spatial))**.5
      # Spatial axes last: the FFTs work on the innermost axes.
      perm = list(range(rank, rank + 2)) + list(range(rank))
      spectrum = _FFT[rank][0](tf.transpose(initial_value, perm))
      spectrum /= tf.cast(self._norm, spectrum.dtype)
      real, imag = tf.math.real(spectrum), tf.math.imag(spectrum)
      prefix = f"{name}_" if name else ""
      # autocast=False: the transform runs in the variable dtype even under a
      # mixed precision policy; the consumer casts the kernel.
      # The imaginary part is created first: TFC (Keras 2) lists a
      # parameter's variables as [imag, real] (tf.Module's attribute order),
      # and weight lists in that order (get_weights/set_weights, weights
      # saved by Keras 2 to .h5 and read by keras 3's load_weights) then
      # land in the right variables; both have the same shape, so the
      # other order would swap them silently.
      self.imag = self.add_weight(
          name=prefix + "imag", shape=imag.shape, dtype=imag.dtype,
          initializer=lambda shape, dtype=None: tf.cast(imag, dtype or
                                                        imag.dtype),
          autocast=False)
      self.real = self.add_weight(
          name=prefix + "real", shape=real.shape, dtype=real.dtype,
          initializer=lambda shape, dtype=None: tf.cast(real, dtype or
                                                        real.dtype),
          autocast=False)
    self.built = True

  def value(self) -> tf.Tensor:
    real = tf.convert_to_tensor(self.real)
    imag = tf.convert_to_tensor(self.imag)
    spectrum = tf.dtypes.complex(real, imag)
    spectrum *= tf.cast(self._norm, spectrum.dtype)
    rank = self._rank
    if rank == 3:
      # irfft3d has no gradient: invert the two outer axes with a complex
      # ifft2d, then the last with irfft (the same transform).
      spectrum = tf.transpose(spectrum, [0, 1, 4, 2, 3])
      spectrum = tf.transpose(tf.signal.ifft2d(spectrum), [0, 1, 3, 4, 2])
      kernel = tf.signal.irfft(spectrum, fft_length=self._value_shape[2:3])
    else:
      kernel = _FFT[rank][1](spectrum, fft_length=self._value_shape[:rank])
    perm = list(range(2, rank + 2)) + [0, 1]
    return tf.transpose(kernel, perm)

  def get_config(self) -> dict[str, Any]:
    config = super().get_config()
    config.update(initial_value=None, shape=list(self._value_shape),
                  dtype=self.real.dtype)
    return config


@keras.saving.register_keras_serializable(package="tensorcoder")
class GDNParameter(Parameter):
  """A non-negative parameter kept at or above ``minimum`` (Ballé et al.,
  ICLR 2016/2017): stored as ``v = sqrt(max(x + offset**2, offset**2))``,
  with value ``max(v, sqrt(minimum + offset**2))**2 - offset**2`` (the
  bound passes gradients that push ``v`` up), so learning slows down near
  zero without getting stuck there.

  Args:
    initial_value: the initial value, or None (then ``shape`` is required).
    name: the name (the variable is ``reparam_{name}``).
    minimum: lower bound of the value.
    offset: the pedestal's square root (``reparam_offset`` is accepted as
      tensorcoder 1's name for it).
    shape, dtype: as in TFC.

  Attributes:
    minimum, offset, variable.
  """

  def __init__(self, initial_value=None, name: Optional[str] = None,
               minimum: float = 0., offset: float = 2.**-18, shape=None,
               dtype=None, reparam_offset: Optional[float] = None, **kwargs):
    if reparam_offset is not None:
      offset = reparam_offset
    with tf.init_scope():  # See RDFTParameter.
      initial_value = _as_tensor(initial_value, shape, dtype)
      super().__init__(name=name, dtype=initial_value.dtype.name, **kwargs)
      self._minimum = float(minimum)
      self._offset = float(offset)
      self._value_shape = tuple(int(d) for d in initial_value.shape)
      self._pedestal = self._offset**2
      self._bound = (self._minimum + self._pedestal)**.5
      pedestal = tf.cast(self._pedestal, initial_value.dtype)
      stored = tf.math.sqrt(tf.math.maximum(initial_value + pedestal, pedestal))
      self.variable = self.add_weight(
          name=f"reparam_{name}" if name else "reparam", shape=stored.shape,
          dtype=stored.dtype,
          initializer=lambda shape, dtype=None: tf.cast(stored, dtype or
                                                        stored.dtype),
          autocast=False)
    self.built = True

  @property
  def minimum(self) -> float:
    return self._minimum

  @property
  def offset(self) -> float:
    return self._offset

  def value(self) -> tf.Tensor:
    v = tf.convert_to_tensor(self.variable)
    v = math_ops.lower_bound(v, tf.cast(self._bound, v.dtype))
    return tf.math.square(v) - tf.cast(self._pedestal, v.dtype)

  def get_config(self) -> dict[str, Any]:
    config = super().get_config()
    config.update(initial_value=None, minimum=self.minimum,
                  offset=self.offset, shape=list(self._value_shape),
                  dtype=self.variable.dtype)
    return config


# -- tensorcoder 1 layout ------------------------------------------------------


def real_dft_basis(size: int) -> np.ndarray:
  """Orthonormal real DFT basis of length ``size``, one vector per row:
  the constant, then cos/sin pairs of increasing frequency, then (even
  sizes) the alternating Nyquist vector."""
  n = np.arange(size)
  rows = [np.full(size, 1 / np.sqrt(size))]
  for j in range(1, (size + 1) // 2):
    angle = 2 * np.pi * j * n / size
    rows.append(np.sqrt(2 / size) * np.cos(angle))
    rows.append(np.sqrt(2 / size) * np.sin(angle))
  if size % 2 == 0:
    rows.append((-1.0)**n / np.sqrt(size))
  return np.stack(rows)


class LegacyRDFTParameter(Parameter):
  """tensorcoder 1's RDFT kernel ``[height, width, in, out]``: one variable
  of coefficients in the orthonormal real 2-D DFT basis of
  :func:`real_dft_basis`. Used by ``SignalConv2D(legacy=True)``, so models
  saved by tensorcoder 1 load and compute exactly as before."""

  def __init__(self, initial_shape: Sequence[int],
               initializer="variance_scaling", name: str = "rdft_parameter",
               **kwargs):
    super().__init__(name=name, **kwargs)
    self.initial_shape = tuple(int(d) for d in initial_shape)
    self._value_shape = self.initial_shape
    if len(self.initial_shape) != 4:
      raise ValueError(f"LegacyRDFTParameter needs a 4-D kernel shape "
                       f"[height, width, in, out], got {initial_shape}")
    height, width, channels_in, channels_out = self.initial_shape
    basis = np.kron(real_dft_basis(height), real_dft_basis(width))
    self._basis = basis.astype(self.variable_dtype)
    self.initializer = keras.initializers.get(initializer)
    init = self.initializer
    shape = self.initial_shape
    basis_t = self._basis

    def coefficients(shape_, dtype=None):
      kernel = tf.cast(init(shape), basis_t.dtype)
      flat = tf.reshape(kernel, [height * width, channels_in * channels_out])
      return tf.linalg.matmul(tf.constant(basis_t), flat)

    self.coefficients = self.add_weight(
        name="rdft", shape=(height * width, channels_in * channels_out),
        initializer=coefficients, autocast=False)
    self.built = True

  def value(self) -> tf.Tensor:
    coefficients = tf.convert_to_tensor(self.coefficients)
    flat = tf.linalg.matmul(tf.constant(self._basis), coefficients,
                            transpose_a=True)
    return tf.reshape(flat, self.initial_shape)

  def get_config(self) -> dict:
    config = super().get_config()
    config.update(initial_shape=list(self.initial_shape),
                  initializer=keras.initializers.serialize(self.initializer))
    return config


def register_tfc_name(cls: type) -> type:
  """Also resolves ``cls`` by the name TFC registered it under.

  Keras 2 model files written with TFC (``model.save("m.h5")``) name the
  class ``"tensorflow_compression>{cls.__name__}"``; with this alias
  ``keras.models.load_model`` rebuilds such a model from tensorcoder's
  classes. tensorcoder's own files keep the ``"tensorcoder>"`` name.
  """
  keras.saving.get_custom_objects().setdefault(
      f"tensorflow_compression>{cls.__name__}", cls)
  return cls


register_tfc_name(RDFTParameter)
register_tfc_name(GDNParameter)
