"""A residual block of two 3x3 convolutions that starts as the identity."""

from __future__ import annotations

from typing import Optional

import keras


@keras.saving.register_keras_serializable(package="tensorcoder")
class ResidualBlock(keras.layers.Layer):
  """``x + conv_b(relu(conv_a(x)))``, both convolutions 3x3, stride 1, zero
  padding ("same"), as many channels as ``x`` (``filters``).

  ``conv_b`` starts at zero (kernel and bias), so a new block computes the
  identity: inserted into a trained transform, it leaves what the transform
  computes unchanged until training moves it (the "zero-initialized
  residual" of Goyal et al., 2017, and of Net2Net-style growth, Chen,
  Goodfellow and Shlens, ICLR 2016). Each output position depends on the
  input within 2 positions in each direction.

  Args:
    filters: channels of the input, the output and the hidden layer.
  """

  # Positions of context on each side an output depends on.
  reach = 2

  def __init__(self, filters: int, name: Optional[str] = None, **kwargs):
    super().__init__(name=name, **kwargs)
    self.filters = int(filters)
    if self.filters < 1:
      raise ValueError(f"filters must be positive, got {filters}")
    self.conv_a = keras.layers.Conv2D(
        self.filters, 3, padding="same", activation="relu",
        dtype=self.dtype_policy, name="conv_a")
    self.conv_b = keras.layers.Conv2D(
        self.filters, 3, padding="same", kernel_initializer="zeros",
        bias_initializer="zeros", dtype=self.dtype_policy, name="conv_b")

  def build(self, input_shape):
    if input_shape[-1] != self.filters:
      raise ValueError(f"a ResidualBlock of {self.filters} channels got "
                       f"inputs of shape {tuple(input_shape)}")
    self.conv_a.build(input_shape)
    self.conv_b.build(input_shape)
    self.built = True

  def call(self, inputs):
    return inputs + self.conv_b(self.conv_a(inputs))

  def compute_output_shape(self, input_shape):
    return input_shape

  def get_config(self) -> dict:
    config = super().get_config()
    config.update(filters=self.filters)
    return config
