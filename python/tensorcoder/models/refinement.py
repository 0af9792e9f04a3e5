"""Encoder-side latent refinement: better bytes for the same decoder.

A trained analysis transform is an *amortized* encoder: one network that
guesses good latents for every image. For a given image, latents with a
lower rate-distortion cost usually exist, and the encoder can search for
them, because the decoder only ever sees the coded symbols. This module
searches by gradient descent on ``bits / pixels + lmbda * MSE`` over ``y``
and ``z`` of one image, starting from the analysis transform's guess, with
the *stochastic Gumbel annealing* (SGA) of Yang, Bamler and Mandt,
"Improving Inference for Neural Image Compression" (NeurIPS 2020): each
element is rounded down or up at random, with probabilities that favour the
nearer integer more and more as a temperature ``tau`` falls, and a
Gumbel-softmax relaxation of that choice carries gradients. As ``tau`` goes
to 0 the relaxation becomes the rounding the coder does, so the search ends
at latents whose *rounded* values are good, which plain gradient descent
through a straight-through rounding does not reach (it oscillates).

The result is coded exactly as the analysis transform's latents would be:
the format, the tables and the decoder are unchanged, and files made with
refinement decode with any version that decodes the model's files. The cost
is encoding time: every step runs the synthesis transform forward and
backward over the whole image (in tiles of ``tiling.DEFAULT_TILE``, so
memory stays bounded for any image size).

The search is deterministic: its noise comes from a stateless generator
keyed by ``seed`` and the step, so the same image, model and settings give
the same bytes on one machine. Floating-point sums in another order (another
tile size, thread count or CPU) can move the search's path, and so its
bytes, a little; any of them decodes correctly, since the decoder only
reads the symbols.
"""

from __future__ import annotations

import math
from typing import Callable, Optional

import tensorflow as tf

from tensorcoder.distributions.uniform_noise import NoisyNormal
from tensorcoder.models import tiling

# The defaults were chosen with the embedded model on two BSDS500
# photographs at levels 3 and 8 (default_model/README.md): at 100 steps a
# learning rate of 0.03 gave a lower cost than 0.01 in all four cases (by
# 1.3-3 %); 200 steps at 0.02 lower still (by another 1.5-4 %).
DEFAULT_STEPS = 100
LEARNING_RATE = 0.03
TAU_START = 0.5
TAU_END = 0.02
# Probabilities are floored here, so a far-off value costs a finite rate.
_MIN_PROBABILITY = 1e-9
# Keeps atanh finite.
_EPSILON = 1e-5


def temperature(step: int, steps: int) -> float:
  """The SGA temperature of ``step`` (0-based) of ``steps``: falling
  linearly from ``TAU_START`` to ``TAU_END``."""
  fraction = step / max(steps - 1, 1)
  return TAU_START + (TAU_END - TAU_START) * fraction


def annealed_round(values: tf.Tensor, tau: tf.Tensor,
                   seed: tf.Tensor) -> tf.Tensor:
  """A differentiable, stochastic stand-in for ``round(values)`` (SGA).

  Each element moves to ``floor(v)`` or ``floor(v) + 1``, relaxed by a
  Gumbel-softmax at temperature ``tau`` whose logits are
  ``-atanh(distance) / tau`` of each neighbour: the nearer one is likelier,
  and as ``tau`` falls the result approaches ``round(values)``.

  Args:
    values: float32 tensor.
    tau: positive scalar, the temperature.
    seed: int32 [2], the stateless generator's key.
  """
  lower = tf.floor(values)
  fraction = values - lower
  clip = lambda d: tf.clip_by_value(d, -1 + _EPSILON, 1 - _EPSILON)
  logits = tf.stack([-tf.atanh(clip(fraction)), -tf.atanh(clip(1 - fraction))]
                    ) / tau
  uniform = tf.random.stateless_uniform(
      tf.shape(logits), seed, minval=1e-6, maxval=1 - 1e-6)
  gumbel = -tf.math.log(-tf.math.log(uniform))
  weights = tf.nn.softmax((logits + gumbel) / tau, axis=0)
  return lower + weights[1]


def _bits(probabilities: tf.Tensor) -> tf.Tensor:
  floored = tf.maximum(probabilities, _MIN_PROBABILITY)
  return -tf.reduce_sum(tf.math.log(floored)) / math.log(2.0)


class _Refiner:
  """One image's search; see ``refine_latents``."""

  def __init__(self, codec, pixels: tf.Tensor, height: int, width: int,
               inverse_gain, lmbda: float, tile: int, seed: int,
               synthesis=None):
    self.codec = codec
    self.synthesis = synthesis or codec.synthesis
    self.pixels = pixels
    self.height, self.width = height, width
    self.inverse_gain = inverse_gain
    self.lmbda = float(lmbda)
    self.tile = tile
    self.seed = int(seed)
    self.z_offset = codec.z_coder.quantization_offset
    self.z_prior = codec.z_model.prior

  def squared_error(self, y_hat: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
    """The sum of squared errors (pixels in 0..1) of the image the
    synthesis makes of ``y_hat`` (clipped as the decoder does; the padding
    beyond ``height`` x ``width`` does not count) and its gradient, computed
    tile by tile: each tile's pixels depend only on its y and margin."""
    ratio = self.codec.ratio
    rows, columns = int(y_hat.shape[1]), int(y_hat.shape[2])
    total = tf.constant(0.0)
    gradient = tf.zeros_like(y_hat)
    margin = getattr(self.codec, "synthesis_margin", tiling.SYNTHESIS_MARGIN)
    for top, bottom, core_top, core_bottom in tiling.tile_spans(
        rows, self.tile, margin):
      for left, right, core_left, core_right in tiling.tile_spans(
          columns, self.tile, margin):
        piece = y_hat[:, top:bottom, left:right]
        pixel_rows = slice(core_top * ratio,
                           min(core_bottom * ratio, self.height))
        pixel_columns = slice(core_left * ratio,
                              min(core_right * ratio, self.width))
        if pixel_rows.start >= pixel_rows.stop or (
            pixel_columns.start >= pixel_columns.stop):
          continue  # Padding only.
        with tf.GradientTape() as tape:
          tape.watch(piece)
          x_hat = tf.cast(self.synthesis(piece), tf.float32)
          x_hat = tf.clip_by_value(x_hat, 0.0, 1.0)
          core = x_hat[:, pixel_rows.start - top * ratio:
                       pixel_rows.stop - top * ratio,
                       pixel_columns.start - left * ratio:
                       pixel_columns.stop - left * ratio]
          error = tf.reduce_sum(tf.math.squared_difference(
              core, self.pixels[:, pixel_rows, pixel_columns]))
        total += error
        gradient += tf.pad(tape.gradient(error, piece),
                           [[0, 0], [top, rows - bottom],
                            [left, columns - right], [0, 0]])
    return total, gradient

  def loss_and_gradients(self, y, z, tau, step):
    """``(loss, [d loss / d y, d loss / d z])`` of one SGA sample, the
    loss ``bpp + lmbda * MSE`` (MSE on the 0..255 scale)."""
    pixels = float(self.height * self.width)
    with tf.GradientTape() as tape:
      z_hat = annealed_round(z - self.z_offset, tau,
                             tf.stack([step, self.seed * 2])) + self.z_offset
      z_bits = _bits(self.z_prior.prob(z_hat))
      loc, index = self.codec._hyper(z_hat)  # pylint: disable=protected-access
      noise_key = tf.stack([step, self.seed * 2 + 1])
      if getattr(self.codec, "context_model", None) is not None:
        # The anchors' (the same noise: the same values at the anchors)
        # decide the other positions' parameters.
        symbols = annealed_round(y - loc, tau, noise_key)
        loc, index = self.codec.entropy_parameters(symbols + loc, loc,
                                                   index)
      index = tf.clip_by_value(index, 0.0, self.codec.num_scales - 1.0)
      symbols = annealed_round(y - loc, tau, noise_key)
      y_bits = _bits(NoisyNormal(0.0, self.codec.scale_fn(index)).prob(
          symbols))
      bpp = (y_bits + z_bits) / pixels
      y_hat = (symbols + loc) * self.inverse_gain
    squared_error, error_gradient = self.squared_error(y_hat)
    # MSE on the 0..255 scale, as the training loss.
    mse_weight = 255.0**2 / (pixels * 3)
    gradients = tape.gradient(
        [bpp, y_hat], [y, z],
        output_gradients=[tf.constant(1.0),
                          self.lmbda * mse_weight * error_gradient])
    return bpp + self.lmbda * mse_weight * squared_error, gradients


def refine_latents(codec, image: tf.Tensor, y: tf.Tensor, lmbda: float,
                   steps: int = DEFAULT_STEPS, inverse_gain=1.0,
                   z: Optional[tf.Tensor] = None,
                   tile: Optional[int] = None, seed: int = 0,
                   learning_rate: float = LEARNING_RATE,
                   synthesis: Optional[Callable[[tf.Tensor], tf.Tensor]] = None
                   ) -> tuple[tf.Tensor, tf.Tensor]:
  """Latents of one image with a lower rate-distortion cost (module
  docstring).

  Args:
    codec: a ``HyperpriorCodec`` (or subclass) with range-coding tables.
    image: the uint8-range image [1, H, W, 3] the latents stand for, not
      padded (the synthesis' pixels beyond it do not count).
    y: the latents to start from (the analysis transform's, times the
      quality's gain for a variable-rate model), float32 [1, h, w, M].
    lmbda: the weight of the MSE (on the 0..255 scale) against bits per
      pixel: the model's (or the quality level's) λ.
    steps: Adam steps; 0 returns the start unchanged.
    inverse_gain: what the decoder multiplies the decoded y by before the
      synthesis (a variable-rate model's inverse gain).
    z: the side latents to start from (default: ``hyper_analysis(y)``).
    tile: latent positions per tile side of the synthesis (default
      ``tiling.DEFAULT_TILE``).
    seed: the key of the annealing noise.
    learning_rate: Adam's.
    synthesis: the decoder's synthesis transform (default
      ``codec.synthesis``; a level-modulated model's ``synthesis_at``).

  Returns:
    ``(y, z)``, to be coded as the codec codes its latents.

  Raises:
    ValueError: a negative ``steps``.
  """
  if steps < 0:
    raise ValueError(f"refinement steps must be >= 0, got {steps}")
  if z is None:
    z = codec.hyper_analysis(y)
  if steps == 0:
    return y, z
  pixels = tf.cast(image, tf.float32) / 255.0
  height, width = int(image.shape[1]), int(image.shape[2])
  refiner = _Refiner(codec, pixels, height, width,
                     tf.cast(inverse_gain, tf.float32), lmbda,
                     tile or tiling.DEFAULT_TILE, seed, synthesis)
  variables = [tf.Variable(y), tf.Variable(z)]
  optimizer = _Adam(variables, learning_rate)

  @tf.function(reduce_retracing=True)
  def step(tau, index):
    _, gradients = refiner.loss_and_gradients(variables[0], variables[1],
                                              tau, index)
    optimizer.apply(gradients)

  for index in range(steps):
    step(tf.constant(temperature(index, steps), tf.float32),
         tf.constant(index, tf.int32))
  return tf.convert_to_tensor(variables[0]), tf.convert_to_tensor(variables[1])


class _Adam:
  """Adam (Kingma and Ba, 2015) on a fixed list of variables: a few lines
  instead of a Keras optimizer, whose state would outlive the image."""

  def __init__(self, variables, learning_rate: float,
               beta_1: float = 0.9, beta_2: float = 0.999,
               epsilon: float = 1e-8):
    self.variables = variables
    self.learning_rate = learning_rate
    self.beta_1, self.beta_2, self.epsilon = beta_1, beta_2, epsilon
    self.first = [tf.Variable(tf.zeros_like(v)) for v in variables]
    self.second = [tf.Variable(tf.zeros_like(v)) for v in variables]
    self.count = tf.Variable(0.0)

  def apply(self, gradients) -> None:
    self.count.assign_add(1.0)
    correction_1 = 1 - self.beta_1**self.count
    correction_2 = 1 - self.beta_2**self.count
    for variable, gradient, first, second in zip(
        self.variables, gradients, self.first, self.second):
      first.assign(self.beta_1 * first + (1 - self.beta_1) * gradient)
      second.assign(self.beta_2 * second +
                    (1 - self.beta_2) * tf.square(gradient))
      variable.assign_sub(
          self.learning_rate * (first / correction_1) /
          (tf.sqrt(second / correction_2) + self.epsilon))
