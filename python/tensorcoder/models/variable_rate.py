"""A variable-rate mean-scale hyperprior: one model, a ladder of qualities.

The transforms and priors are those of ``HyperpriorCodec``. Between them sit
the *gain units* of Cui, Wang, Gao, Bai, Wang, Zhang and Lin, "Asymmetric
gained deep image compression with continuous rate adaptation" (CVPR 2021):
for quality level ``q`` the latents are scaled channel by channel,
``y_q = y * gain[q]``, before quantization and coding (the hyperprior then
sees ``y_q``), and the decoded ``y_q`` is scaled back with an inverse gain,
``synthesis(y_q_hat * inverse_gain[q])``. A larger gain is a finer
quantization: a higher rate and quality.

Training draws every patch's level in turn (patch ``i`` of step ``s`` has
level ``(s * B + i) mod Q``), and minimises the mean over patches of
``bpp + lmbdas[level] * MSE``: every level is trained on every step, and the
gains learn each level's trade-off. The level sequence is a function of the
step only, so training stays deterministic and resumable.

Qualities are numbered from 1 (lowest rate, ``lmbdas[0]``) to
``num_qualities``. A fractional quality interpolates the gains of its two
neighbours geometrically (Cui et al.'s continuous rate adaptation); the
levels trained are the integer ones.

Gains scale y only: the transforms themselves do not know the level, so one
analysis transform must serve a 0.1 bpp and a 1 bpp encoding alike. With
``level_modulation`` the hidden layers learn per level too, as in the
conditional autoencoder of Choi, El-Khamy and Lee, "Variable rate deep image
compression with a conditional autoencoder" (ICCV 2019), here reduced to its
cheapest form: after each of the first three (I)GDN layers of the analysis
and synthesis transforms, the channels are scaled and shifted by the level's
own factors, ``h * exp(K * a[q]) + K * b[q]``. ``a`` and ``b`` start at 0
(an identity: a model started from one without modulation computes what it
did) and ``K = MODULATION_RATE`` lets them move that many times faster than
the optimizer's learning rate moves the convolutions. A fractional quality
interpolates ``a`` and ``b`` linearly (the scales geometrically, as the
gains). The modulation is per channel and position-independent, so tiled
transforms stay exact; it costs nothing measurable.
"""

from __future__ import annotations

import math
from typing import Optional, Sequence

import keras
import numpy as np
import tensorflow as tf

from tensorcoder.layers.residual import ResidualBlock
from tensorcoder.models import tiling
from tensorcoder.models.hyperprior import HyperpriorCodec

# λ of the ladder (MSE on the 0..255 scale): the rate-distortion trade-offs
# CompressAI trains its six lowest qualities with, spanning about 0.1 to 1 bpp
# on photographs for a well-trained hyperprior.
DEFAULT_LMBDAS = (0.0018, 0.0035, 0.0067, 0.0130, 0.0250, 0.0483)

# How many times faster than the convolutions the level modulation learns
# (module docstring).
MODULATION_RATE = 10.0
# The hidden layers modulated: the first three of each main transform (the
# fourth makes y or the pixels).
MODULATED_LAYERS = 3


@keras.saving.register_keras_serializable(package="tensorcoder")
class VariableRateHyperpriorCodec(HyperpriorCodec):
  """Mean-scale hyperprior with per-quality gain units (module docstring).

  Args:
    lmbdas: the rate-distortion trade-off of each quality level, ascending
      (quality 1 is ``lmbdas[0]``).
    default_quality: the level ``compress`` uses when none is given (default:
      the middle one, rounded up).
    level_modulation: scale and shift the main transforms' hidden channels
      per level (module docstring); False (the models before ladder-v6):
      the gains alone.
    num_filters, num_latents, num_hyper_filters, num_scales, scale_min,
      scale_max, table_shapes: as in ``HyperpriorCodec``.
  """

  def __init__(self, lmbdas: Sequence[float] = DEFAULT_LMBDAS,
               default_quality: Optional[int] = None,
               level_modulation: bool = False, **kwargs):
    lmbdas = tuple(float(l) for l in lmbdas)
    if len(lmbdas) < 1 or any(l <= 0 for l in lmbdas) or any(
        b <= a for a, b in zip(lmbdas, lmbdas[1:])):
      raise ValueError(f"lmbdas must be positive and ascending, got {lmbdas}")
    if default_quality is None:
      default_quality = len(lmbdas) // 2 + 1
    if not 1 <= int(default_quality) <= len(lmbdas):
      raise ValueError(f"default_quality {default_quality} is not a level "
                       f"1..{len(lmbdas)}")
    kwargs.pop("lmbda", None)
    super().__init__(lmbda=lmbdas[int(default_quality) - 1], **kwargs)
    self.lmbdas = lmbdas
    self.default_quality = int(default_quality)
    # Start the gains apart, roughly as the optimum would be (a quantization
    # step shrinking as 1/sqrt(λ)), centred on the default level.
    start = 0.5 * np.log(np.asarray(lmbdas) / self.lmbda)
    start = np.repeat(start[:, None], self.num_latents, axis=1)
    self.log_gain = self.add_weight(
        name="log_gain", shape=start.shape,
        initializer=keras.initializers.Constant(start.astype(np.float32)))
    self.log_inverse_gain = self.add_weight(
        name="log_inverse_gain", shape=start.shape,
        initializer=keras.initializers.Constant(-start.astype(np.float32)))
    self.level_modulation = bool(level_modulation)
    # [Q, MODULATED_LAYERS, num_filters] each; zeros: the identity.
    shape = (len(lmbdas), MODULATED_LAYERS, self.num_filters)
    self.modulation_weights = [
        self.add_weight(name=name, shape=shape, initializer="zeros")
        for name in ("analysis_log_scale", "analysis_shift",
                     "synthesis_log_scale", "synthesis_shift")
    ] if self.level_modulation else []

  def encoder_weights(self) -> list:
    """``HyperpriorCodec.encoder_weights`` and the gains and the analysis
    modulation: the inverse gains and the synthesis modulation belong to
    the decoder."""
    return (super().encoder_weights() + [self.log_gain] +
            self.modulation_weights[:2])

  @property
  def num_qualities(self) -> int:
    return len(self.lmbdas)

  def _codec_config(self) -> dict:
    config = super()._codec_config()
    del config["lmbda"]
    config.update(lmbdas=list(self.lmbdas),
                  default_quality=self.default_quality)
    if self.level_modulation:
      config.update(level_modulation=True)
    return config

  def check_quality(self, quality) -> float:
    """``quality`` as a float, or ValueError unless 1 <= quality <= Q."""
    try:
      value = float(quality)
    except (TypeError, ValueError) as error:
      raise ValueError(f"quality {quality!r} is not a number") from error
    if not (math.isfinite(value) and 1 <= value <= self.num_qualities):
      raise ValueError(f"quality {quality} is not in 1..{self.num_qualities}")
    return value

  def _neighbours(self, quality) -> tuple[int, int, float]:
    """``(low, high, weight)``: a quality lies between the 0-based levels
    ``low`` and ``high``, at ``weight`` (0: on ``low``)."""
    position = self.check_quality(quality) - 1
    low = min(int(math.floor(position)), self.num_qualities - 1)
    high = min(low + 1, self.num_qualities - 1)
    return low, high, position - low

  def gains(self, quality) -> tuple[tf.Tensor, tf.Tensor]:
    """``(gain, inverse_gain)`` [num_latents] of a (possibly fractional)
    quality: the trained levels' gains, geometrically interpolated."""
    low, high, weight = self._neighbours(quality)

    def blend(log_values):
      return tf.exp((1 - weight) * log_values[low] + weight * log_values[high])

    return blend(self.log_gain), blend(self.log_inverse_gain)

  def _level_gains(self, levels: tf.Tensor):
    """Per-example gains [B, 1, 1, M] of integer levels 0..Q-1 [B]."""
    gain = tf.gather(tf.exp(self.log_gain), levels)[:, None, None, :]
    inverse = tf.gather(tf.exp(self.log_inverse_gain), levels)[:, None, None, :]
    return gain, inverse

  def _modulations(self, rows: Sequence[tf.Tensor]):
    """``(analysis, synthesis)`` modulations, each a list of
    ``(scale, shift)`` per modulated layer, from the modulation weights'
    rows ``rows`` (one tensor [..., MODULATED_LAYERS, F] per weight, the
    level's or levels'); ``(None, None)`` without modulation."""
    if not self.level_modulation:
      return None, None
    a_scale, a_shift, s_scale, s_shift = (
        tf.cast(r, tf.float32) * MODULATION_RATE for r in rows)

    def layers(log_scale, shift):
      return [(tf.exp(log_scale[..., i, :]), shift[..., i, :])
              for i in range(MODULATED_LAYERS)]

    return layers(a_scale, a_shift), layers(s_scale, s_shift)

  def _level_modulations(self, levels: tf.Tensor):
    """Per-example modulations ([B, 1, 1, F] factors) of levels [B]."""
    return self._modulations([
        tf.gather(w, levels)[:, None, None] for w in self.modulation_weights])

  def quality_modulations(self, quality):
    """The modulations of a (possibly fractional) quality ([F] factors),
    the levels' interpolated; ``(None, None)`` without modulation."""
    low, high, weight = self._neighbours(quality)
    return self._modulations([(1 - weight) * w[low] + weight * w[high]
                              for w in self.modulation_weights])

  @staticmethod
  def _modulated(transform, inputs: tf.Tensor, modulation,
                 training=None) -> tf.Tensor:
    """``transform`` (a main transform) of ``inputs``, its first hidden
    layers' outputs scaled and shifted by ``modulation`` (None: plain);
    ``training`` as Keras layers take it."""
    if modulation is None:
      return transform(inputs, training=training)
    outputs = inputs
    # The modulated layers are the first convolution-and-(I)GDN layers;
    # residual blocks between them are not counted.
    hidden = 0
    for layer in transform.layers:
      outputs = layer(outputs, training=training)
      if isinstance(layer, ResidualBlock):
        continue
      if hidden < len(modulation):
        scale, shift = modulation[hidden]
        outputs = (outputs * tf.cast(scale, outputs.dtype) +
                   tf.cast(shift, outputs.dtype))
      hidden += 1
    return outputs

  def _transform_with(self, transform, modulation):
    """``transform`` as a function of its input, modulated by
    ``modulation`` (None: ``transform`` itself)."""
    if modulation is None:
      return transform
    return lambda inputs: self._modulated(transform, inputs, modulation)

  def _coding_inputs(self, kind: str, quality=None) -> tuple:
    """The level modulation of ``quality`` (default: the default quality)
    for the analysis (``kind`` "analysis") or synthesis, as
    ``quality_modulations`` gives it (none without modulation)."""
    quality = self.default_quality if quality is None else quality
    modulation = self.quality_modulations(quality)[
        0 if kind == "analysis" else 1]
    return () if modulation is None else (modulation,)

  def _apply_transform(self, kind: str, x: tf.Tensor, *inputs) -> tf.Tensor:
    return self._modulated(self._transform(kind), x,
                           inputs[0] if inputs else None)

  def analysis_at(self, quality):
    """The analysis transform (a function of float images) of ``quality``:
    ``analysis`` itself without level modulation."""
    return self._transform_with(self.analysis,
                                self.quality_modulations(quality)[0])

  def synthesis_at(self, quality):
    """The synthesis transform (a function of y) of ``quality``:
    ``synthesis`` itself without level modulation."""
    return self._transform_with(self.synthesis,
                                self.quality_modulations(quality)[1])

  def _forward(self, x: tf.Tensor, training: bool, levels=None):
    """Reconstruction and bits per example [B] at ``levels`` [B] (default:
    every example at the default quality)."""
    if levels is None:
      levels = tf.fill(tf.shape(x)[:1], self.default_quality - 1)
    return self._gained(x, *self._level_gains(levels), training,
                        self._level_modulations(levels))

  def _gained(self, x: tf.Tensor, gain, inverse, training: bool,
              modulations=(None, None)):
    """Reconstruction and bits per example of ``x`` with ``gain`` and
    ``inverse`` gain (broadcast against y) and the transforms'
    ``modulations`` (``_modulations``)."""
    # Gains in float32 also under a mixed-precision policy.
    y = tf.cast(self._modulated(self.analysis, x, modulations[0]),
                tf.float32) * gain
    z_tilde, z_bits = self.z_model(self.hyper_analysis(y), training=training)
    loc, index = self._context_parameters(y, *self._hyper(z_tilde))
    y_tilde, y_bits = self.y_model(y, index, loc=loc, training=training)
    y_hat = self._synthesis_input(y, y_tilde, loc, training)
    return (self._modulated(self.synthesis, y_hat * inverse, modulations[1],
                            training), y_bits + z_bits)

  def training_levels(self, batch_size) -> tf.Tensor:
    """The levels [B] of this replica's patches at the current step:
    patch ``i`` of the global step ``s`` gets ``(s * B_global + i) mod Q``."""
    replica = tf.distribute.get_replica_context()
    replica_id = 0 if replica is None else replica.replica_id_in_sync_group
    replicas = tf.distribute.get_strategy().num_replicas_in_sync
    batch_size = tf.cast(batch_size, tf.int64)
    step = tf.cast(self.optimizer.iterations, tf.int64)
    replica_id = tf.cast(replica_id, tf.int64)
    first = (step * replicas + replica_id) * batch_size
    return tf.cast((first + tf.range(batch_size)) % self.num_qualities,
                   tf.int32)

  def rd_loss(self, images: tf.Tensor, training: bool = True,
              levels=None) -> dict:
    """Rate-distortion terms of a batch [B, H, W, 3] (sizes multiples of
    ``factor``) whose examples are at ``levels`` [B] (0-based; default: the
    default quality). ``loss`` is the mean of ``bpp + lmbda * MSE`` over the
    examples, each with its level's λ; ``bpp``, ``mse`` and ``psnr`` are
    means over the batch."""
    x = self._to_float(images)
    if levels is None:
      levels = tf.fill(tf.shape(x)[:1], self.default_quality - 1)
    levels = tf.convert_to_tensor(levels, tf.int32)
    x_hat, bits = self._forward(x, training, levels)
    x_hat = tf.cast(x_hat, tf.float32)  # Mixed precision: a float32 loss.
    pixels = tf.cast(tf.reduce_prod(tf.shape(x)[1:3]), tf.float32)
    bpp = bits / pixels
    mse = tf.reduce_mean(tf.math.squared_difference(x, x_hat),
                         axis=[1, 2, 3]) * 255.0**2
    lmbda = tf.gather(tf.constant(self.lmbdas, tf.float32), levels)
    psnr = 10 * tf.math.log(255.0**2 / tf.maximum(mse, 1e-10)) / math.log(10)
    return dict(loss=tf.reduce_mean(bpp + lmbda * mse),
                bpp=tf.reduce_mean(bpp), mse=tf.reduce_mean(mse),
                psnr=tf.reduce_mean(psnr))

  def training_terms(self, images: tf.Tensor) -> dict:
    """``rd_loss`` with each patch at its training level
    (``training_levels``); ``train_step`` minimises it."""
    levels = self.training_levels(tf.shape(images)[0])
    return self.rd_loss(images, training=True, levels=levels)

  def call(self, images, training=False, quality=None):
    """Reconstruction of uint8-range images at ``quality`` (default: the
    default quality)."""
    quality = self.default_quality if quality is None else quality
    gain, inverse = self.gains(quality)
    x_hat, _ = self._gained(self._to_float(images), gain, inverse, training,
                            self.quality_modulations(quality))
    return tf.cast(x_hat, tf.float32) * 255.0

  # -- compression -----------------------------------------------------------

  def compress(self, image, tile: Optional[int] = None, quality=None,
               refine: int = 0) -> tuple[list[bytes], tuple[int, ...]]:
    """Compresses one uint8 image [H, W, 3] at ``quality`` (default:
    ``default_quality``); as ``HyperpriorCodec.compress`` otherwise (the
    ``refine`` steps minimise the cost at the level's λ, ``level_lmbda``)."""
    self._check_coders()
    quality = self.default_quality if quality is None else quality
    gain, inverse = self.gains(quality)
    padded = self._pad(tf.convert_to_tensor(image)[None])
    y = tiling.analyze(self, padded, tile,
                       transform=self.coding_transform("analysis",
                                                       quality)) * gain
    return self._compress_latents(*self._refined(
        padded, np.shape(image), y, self.level_lmbda(quality), inverse,
        refine, tile, synthesis=self.synthesis_at(quality)))

  def level_lmbda(self, quality) -> float:
    """The λ of a (possibly fractional) quality: the levels' λ,
    interpolated geometrically as the gains are."""
    low, high, weight = self._neighbours(quality)
    return float(math.exp((1 - weight) * math.log(self.lmbdas[low]) +
                          weight * math.log(self.lmbdas[high])))

  def decompress(self, strings, image_shape, z_shape,
                 tile: Optional[int] = None, quality=None) -> np.ndarray:
    """Decodes ``compress``'s strings made at ``quality`` (default:
    ``default_quality``) into a uint8 image of ``image_shape``."""
    quality = self.default_quality if quality is None else quality
    _, inverse = self.gains(quality)
    self.check_header(strings, image_shape, z_shape)
    y_hat, _, _ = self._decode_latents(strings, z_shape, parameters=False)
    return tiling.synthesize(self, y_hat * inverse, image_shape, tile,
                             transform=self.coding_transform("synthesis",
                                                             quality))
