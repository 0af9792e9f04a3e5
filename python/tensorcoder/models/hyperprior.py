"""Learned image codecs: the factorized-prior and the (mean-)scale-hyperprior
models.

* Ballé, Laparra and Simoncelli, "End-to-end optimized image compression",
  ICLR 2017: analysis transform, quantized latents ``y`` coded with a
  per-channel factorized density, synthesis transform.
* Ballé, Minnen, Singh, Hwang and Johnston, "Variational image compression
  with a scale hyperprior", ICLR 2018, with the mean prediction of Minnen,
  Ballé and Toderici (NeurIPS 2018): a hyper-analysis summarises ``y`` into
  side information ``z`` (factorized density), from which a hyper-synthesis
  predicts a location and a scale index for every element of ``y``, coded
  with ``LocationScaleIndexedEntropyModel(NoisyNormal, 64 scales)``.

Training minimises ``bpp + lmbda * MSE`` (pixels on the 0..255 scale).
After training, ``make_coders()`` freezes range-coding tables into
Variables; they are saved with the model, so a reloaded model produces the
same bytes.
"""

from __future__ import annotations

import contextlib
import functools
import math
from typing import Iterator, Optional

import keras
import numpy as np
import tensorflow as tf

from tensorcoder import _op_errors
from tensorcoder.distributions.deep_factorized import DeepFactorized
from tensorcoder.distributions.deep_factorized import NoisyDeepFactorized
from tensorcoder.distributions.uniform_noise import NoisyNormal
from tensorcoder.entropy_models.continuous_batched import (
    ContinuousBatchedEntropyModel)
from tensorcoder.entropy_models.continuous_base import unlocked_state
from tensorcoder.entropy_models.continuous_indexed import GeometricScales
from tensorcoder.entropy_models.continuous_indexed import (
    LocationScaleIndexedEntropyModel)
from tensorcoder.layers.gdn import GDN
from tensorcoder.layers.residual import ResidualBlock
from tensorcoder.layers.signal_conv import SignalConv2D
from tensorcoder.models import checkerboard
from tensorcoder.models import fixed_point
from tensorcoder.models import refinement
from tensorcoder.models import tiling


def _analysis(filters: int, latents: int, name: str,
              dtype: Optional[str] = None, blocks: int = 0
              ) -> keras.Sequential:
  """The analysis transform; ``dtype`` is its Keras dtype policy (None: the
  global one); ``blocks`` residual blocks (``ResidualBlock``, starting as
  the identity) before the last convolution, at 1/8 of the resolution."""
  conv = lambda f, act: SignalConv2D(
      f, 5, corr=True, strides_down=2, padding="same_zeros", use_bias=True,
      activation=act, legacy=True, dtype=dtype)
  gdn = lambda: GDN(legacy=True, dtype=dtype)
  return keras.Sequential(
      [conv(filters, gdn()), conv(filters, gdn()), conv(filters, gdn())] +
      [ResidualBlock(filters, dtype=dtype) for _ in range(blocks)] +
      [conv(latents, None)], name=name)


def _synthesis(filters: int, name: str,
               dtype: Optional[str] = None, blocks: int = 0
               ) -> keras.Sequential:
  """The synthesis transform; ``dtype`` as in ``_analysis``; ``blocks``
  residual blocks after its first layer, at 1/8 of the resolution."""
  conv = lambda f, act: SignalConv2D(
      f, 5, corr=False, strides_up=2, padding="same_zeros", use_bias=True,
      activation=act, legacy=True, dtype=dtype)
  gdn = lambda: GDN(inverse=True, legacy=True, dtype=dtype)
  synthesis = keras.Sequential(
      [conv(filters, gdn())] +
      [ResidualBlock(filters, dtype=dtype) for _ in range(blocks)] +
      [conv(filters, gdn()), conv(filters, gdn()), conv(3, None)], name=name)
  # Faster in float32 on CPUs out of training (0.49 s to 0.39 s for a
  # 768x512 image on 2 AVX2 cores), for the same values up to rounding; the
  # pixels are not part of the format. The hyper-synthesis keeps
  # conv2d_transpose: in float32 coding parameters its sums choose the
  # tables. Callers pass ``training`` to the synthesis.
  for layer in synthesis.layers:
    if isinstance(layer, SignalConv2D):
      layer.upsample_by_phases = True
  return synthesis


def _policy_name(dtype: Optional[str]) -> Optional[str]:
  """``dtype`` checked as the name of a Keras dtype policy (None stays
  None: the global policy)."""
  if dtype is None:
    return None
  try:
    return keras.dtype_policies.get(dtype).name
  except ValueError as error:
    raise ValueError(f"transform_dtype {dtype!r} is not a Keras dtype "
                     f"policy (e.g. float32, mixed_bfloat16)") from error


# How a context may be evaluated when coding (``HyperpriorCodec``).
CONTEXT_EVALUATIONS = ("non_anchors", "grid")
# The arithmetic the coding parameters are computed in (``HyperpriorCodec``).
PARAMETER_ARITHMETICS = ("fixed_point", "float32")
# The settings of HyperpriorCodec that put residual blocks in a transform
# (0: none, as in the models before ladder-v7).
BLOCK_SETTINGS = ("analysis_blocks", "synthesis_blocks", "hyper_blocks")


class _TracedTransforms:
  """``_Codec.coding_transform``'s functions by kind; a plain holder,
  which Keras does not track or save."""

  def __init__(self):
    self.functions = {}


class _Codec(keras.Model):
  """What both codecs share: padding, the loss, metrics and the tables."""

  # Spatial size multiple the transforms need.
  factor = 16
  # Pixels per position of y along each axis (four stride-2 layers).
  ratio = 16
  # The strings compress() returns, in order.
  string_names = ("y",)

  def __init__(self, lmbda: float, transform_dtype: Optional[str] = None,
               **kwargs):
    super().__init__(**kwargs)
    self.lmbda = float(lmbda)
    self._transform_dtype = _policy_name(transform_dtype)
    # The traced coding transforms (``coding_transform``).
    self._traced = _TracedTransforms()

  def _make_transforms(self, filters: int, latents: int,
                       analysis_blocks: int = 0,
                       synthesis_blocks: int = 0) -> None:
    """Creates ``analysis`` and ``synthesis`` (with that many residual
    blocks) in ``transform_dtype``."""
    self.analysis = _analysis(filters, latents, "analysis",
                              self._transform_dtype, analysis_blocks)
    self.synthesis = _synthesis(filters, "synthesis", self._transform_dtype,
                                synthesis_blocks)
    # Latent positions of context tiled transforms need: each block reaches
    # 2 positions at 1/8 resolution, one position of y (rounded up).
    per_block = -(-ResidualBlock.reach * 8 // self.ratio)
    self.analysis_margin = tiling.ANALYSIS_MARGIN + analysis_blocks * per_block
    self.synthesis_margin = (tiling.SYNTHESIS_MARGIN +
                             synthesis_blocks * per_block)

  def _coding_inputs(self, kind: str, quality=None) -> tuple:
    """The tensors besides its input that the analysis (``kind``
    "analysis") or synthesis transform takes when coding at ``quality``
    (``_apply_transform``'s ``inputs``): none for a single-rate codec."""
    del kind, quality
    return ()

  def _transform(self, kind: str) -> keras.Sequential:
    """The analysis (``kind`` "analysis") or synthesis transform."""
    return self.analysis if kind == "analysis" else self.synthesis

  def _apply_transform(self, kind: str, x: tf.Tensor, *inputs) -> tf.Tensor:
    """The analysis or synthesis transform of ``x`` given
    ``_coding_inputs``."""
    del inputs
    return self._transform(kind)(x)

  def coding_transform(self, kind: str, quality=None):
    """The analysis (``kind`` "analysis": float images [B, H, W, 3] to y)
    or synthesis ("synthesis": y to float images) that compress and
    decompress apply at ``quality``, as a function of its input.

    It runs as a TensorFlow graph, traced when first called (once per kind,
    for any size and quality; cached). In a graph TensorFlow fuses each
    layer's operations (convolution, bias, activation) and runs no Python
    between them: a 768x512 synthesis took 156 ms instead of 207 eagerly,
    for a trace of about 0.3 s once per process. The values are the eager
    ones up to the rounding of the fused operations (bfloat16 transforms
    with residual blocks: 2-5 % of the pixels one level apart, PSNR within
    0.001 dB),
    which does not change what the bytes mean (``coding_parameters``). The
    weights are read when the graph runs, so it follows training."""
    if kind not in ("analysis", "synthesis"):
      raise ValueError(f"kind must be 'analysis' or 'synthesis', not "
                       f"{kind!r}")
    inputs = tf.nest.map_structure(tf.convert_to_tensor,
                                   self._coding_inputs(kind, quality))
    if kind not in self._traced.functions:
      channels = 3 if kind == "analysis" else self.num_latents
      signature = ([tf.TensorSpec([None, None, None, channels], tf.float32)]
                   + list(tf.nest.map_structure(tf.TensorSpec.from_tensor,
                                                inputs)))
      # A partial, not a lambda: TensorFlow counts traces per function
      # code, and would warn of retracing after five models' traces.
      self._traced.functions[kind] = tf.function(
          functools.partial(self._apply_transform, kind),
          input_signature=signature, autograph=False)
    function = self._traced.functions[kind]
    return lambda x: function(x, *inputs)

  @property
  def transform_dtype(self) -> str:
    """The dtype policy the analysis and synthesis transforms compute in
    (e.g. ``float32``, or ``mixed_bfloat16`` for a model trained so): given
    to the constructor, else the global policy when the model was created.
    Everything that decides the bytes' meaning (the hyper-synthesis that
    selects the tables, the entropy models) does not depend on it, so a file
    compressed in one precision decodes in any other; only the latents the
    encoder finds and the pixels the decoder makes of them change a little."""
    return self.analysis.layers[0].dtype_policy.name

  def check_strings(self, strings) -> None:
    """Raises ValueError unless there are as many strings as compress()
    writes."""
    if len(strings) != len(self.string_names):
      raise ValueError(
          f"{len(strings)} strings, but this model decodes "
          f"{len(self.string_names)} ({', '.join(self.string_names)})")

  @contextlib.contextmanager
  def _decoding_string(self, position: int) -> Iterator[None]:
    """A range decoder's error while the file's string ``position`` is
    decoded names that string (its place and ``string_names``): each
    decode op gets one string, so its own "string 0" would name none."""
    try:
      yield
    except (tf.errors.InvalidArgumentError, tf.errors.DataLossError) as error:
      text = _op_errors.text(error).removeprefix("string 0, ")
      raise type(error)(
          error.node_def, error.op,
          f"string {position} ({self.string_names[position]}): {text}"
      ) from error

  def check_header(self, strings, image_shape, side_shape) -> None:
    """Raises ValueError unless ``strings`` and ``side_shape`` are what
    ``compress`` writes for an image of ``image_shape``: the side shape is
    determined by the image size (padded to a multiple of ``factor``)."""
    self.check_strings(strings)
    height, width = (int(d) for d in image_shape[:2])
    if height < 1 or width < 1:
      raise ValueError(f"invalid image size {height}x{width}")
    expected = (-(-height // self.factor), -(-width // self.factor))
    if tuple(int(d) for d in side_shape) != expected:
      raise ValueError(
          f"the side shape {tuple(side_shape)} does not match a "
          f"{height}x{width} image, for which this model writes {expected}")

  @staticmethod
  def _to_float(images: tf.Tensor) -> tf.Tensor:
    return tf.cast(images, tf.float32) / 255.0

  def _pad(self, x: tf.Tensor) -> tf.Tensor:
    """Pads [B, H, W, 3] to multiples of ``factor`` by repeating the last
    row and column (works for any size, 1x1 included)."""
    shape = tf.shape(x)
    height = shape[1] + (-shape[1]) % self.factor
    width = shape[2] + (-shape[2]) % self.factor
    rows = tf.minimum(tf.range(height), shape[1] - 1)
    columns = tf.minimum(tf.range(width), shape[2] - 1)
    return tf.gather(tf.gather(x, rows, axis=1), columns, axis=2)

  def rd_loss(self, images: tf.Tensor, training: bool = True) -> dict:
    """Rate-distortion terms of a batch of uint8-range images [B, H, W, 3]
    whose sizes are multiples of ``factor``."""
    x = self._to_float(images)
    x_hat, bits = self._forward(x, training)
    # Under a mixed-precision policy the transforms compute in float16 or
    # bfloat16; the loss is float32.
    x_hat = tf.cast(x_hat, tf.float32)
    num_pixels = tf.cast(tf.reduce_prod(tf.shape(x)[:-1]), tf.float32)
    bpp = tf.reduce_sum(bits) / num_pixels
    mse = tf.reduce_mean(tf.math.squared_difference(x, x_hat)) * 255.0**2
    loss = bpp + self.lmbda * mse
    psnr = 10 * tf.math.log(255.0**2 / tf.maximum(mse, 1e-10)) / math.log(10)
    return dict(loss=loss, bpp=bpp, mse=mse, psnr=psnr)

  def get_config(self) -> dict:
    config = super().get_config()
    config.update(self._codec_config())
    config["transform_dtype"] = self.transform_dtype
    return config

  @classmethod
  def from_config(cls, config: dict):
    config = dict(config)
    for key in ("name", "trainable", "dtype"):
      config.pop(key, None)
    return cls(**config)

  def compile_for_training(self, learning_rate: float = 1e-4):
    self.compile(optimizer=keras.optimizers.Adam(learning_rate))

  def train_step(self, data):
    """One optimizer step on a batch (``model.fit``); returns the batch's
    rate-distortion terms. Under a ``tf.distribute`` strategy each replica's
    loss is divided by the number of replicas, as Keras does, since the
    optimizer sums the replicas' gradients."""
    images = data[0] if isinstance(data, (tuple, list)) else data
    with tf.GradientTape() as tape:
      terms = self.training_terms(images)
      replicas = tf.distribute.get_strategy().num_replicas_in_sync
      loss = terms["loss"] / tf.cast(replicas, terms["loss"].dtype)
    variables = self.trainable_variables
    gradients = tape.gradient(loss, variables)
    self.optimizer.apply_gradients(zip(gradients, variables))
    return self._per_replica_logs(terms)

  def training_terms(self, images: tf.Tensor) -> dict:
    """The rate-distortion terms ``train_step`` minimises on a batch."""
    return self.rd_loss(images, training=True)

  def test_step(self, data):
    images = data[0] if isinstance(data, (tuple, list)) else data
    return self._per_replica_logs(self.rd_loss(images, training=False))

  @staticmethod
  def _per_replica_logs(terms: dict) -> dict:
    """The terms as ``fit``/``evaluate`` logs. Under a
    ``MultiWorkerMirroredStrategy`` Keras 3 averages the replicas' logs with
    ``strategy.reduce(MEAN, value, axis=0)``, which fails on scalars
    ("Invalid reduction dimension 0", tensorflow/tensorflow#72388): there
    each term gets a leading axis of 1 (the result is still a scalar)."""
    strategy = tf.distribute.get_strategy()
    if isinstance(strategy, (tf.distribute.MultiWorkerMirroredStrategy,
                             tf.distribute.experimental.MultiWorkerMirroredStrategy)):
      return {key: tf.reshape(value, [1]) for key, value in terms.items()}
    return terms


@keras.saving.register_keras_serializable(package="tensorcoder")
class HyperpriorCodec(_Codec):
  """Mean-scale hyperprior image codec (see the module docstring).

  Args:
    num_filters: channels of the hidden layers of the main transforms.
    num_latents: channels of ``y``.
    num_hyper_filters: channels of ``z`` and of the hyper transforms.
    lmbda: rate-distortion trade-off (weight of the MSE).
    num_scales, scale_min, scale_max: the family of normal priors for ``y``
      (64 scales from 0.11 to 256 by default, as in the paper).
    table_shapes: shapes of frozen tables (set by ``make_coders``; given when
      a saved model is reloaded).
    transform_dtype: the Keras dtype policy of the analysis and synthesis
      transforms (default: the global policy); see ``transform_dtype``.
    analysis_blocks: residual blocks in the analysis transform, before its
      last convolution (``ResidualBlock``): more encoder capacity, which
      the decoder neither stores nor runs (0: the models before
      ladder-v7).
    synthesis_blocks: residual blocks in the synthesis transform, after
      its first layer (decoder capacity).
    hyper_blocks: residual blocks in the hyper-synthesis transform, before
      its last convolution (a finer prediction of y's locations and
      scales).
    context: None (the models before ladder-v8: y is coded with the
      hyperprior's parameters alone, in one string) or ``"checkerboard"``
      (``checkerboard``: half of y's positions are coded first, the other
      half with locations and scales refined from them; two strings for y).
    context_evaluation: how the coder evaluates the context, which decides
      the float sums the scale indexes come from (encoder and decoder must
      agree): ``"non_anchors"`` (the default: at the non-anchor positions
      alone, ``ContextRefinement.refine_others``) or ``"grid"`` (the
      context's convolutions over the whole grid, ``ladder-v8``: a saved
      model with a context but without this setting is one).
    parameter_arithmetic: what the locations and scale indexes y is coded
      with are computed in: ``"fixed_point"`` (the default; ``fixed_point``:
      the same on every machine, so files decode wherever TensorFlow runs)
      or ``"float32"`` (the models before ladder-v9: a saved model without
      this setting is one; their files decode only where the float sums
      come out as where they were written, docs/FORMAT.md section 8).
      Training is the same either way.
  """

  factor = 64

  def __init__(self, num_filters: int = 64, num_latents: int = 96,
               num_hyper_filters: int = 64, lmbda: float = 0.01,
               num_scales: int = 64, scale_min: float = 0.11,
               scale_max: float = 256.0,
               table_shapes: Optional[dict] = None,
               analysis_blocks: int = 0, synthesis_blocks: int = 0,
               hyper_blocks: int = 0, context: Optional[str] = None,
               context_evaluation: Optional[str] = None,
               parameter_arithmetic: Optional[str] = None, **kwargs):
    super().__init__(lmbda=lmbda, **kwargs)
    self.num_filters = int(num_filters)
    self.num_latents = int(num_latents)
    self.num_hyper_filters = int(num_hyper_filters)
    self.num_scales = int(num_scales)
    self.scale_min = float(scale_min)
    self.scale_max = float(scale_max)
    self.analysis_blocks = int(analysis_blocks)
    self.synthesis_blocks = int(synthesis_blocks)
    self.hyper_blocks = int(hyper_blocks)
    for name in BLOCK_SETTINGS:
      if getattr(self, name) < 0:
        raise ValueError(f"{name} must be >= 0, got {getattr(self, name)}")
    if context is not None and context not in checkerboard.CONTEXTS:
      raise ValueError(f"context must be None or one of "
                       f"{', '.join(checkerboard.CONTEXTS)}, got {context!r}")
    self.context = context
    if context_evaluation not in (None,) + CONTEXT_EVALUATIONS:
      raise ValueError(f"context_evaluation must be one of "
                       f"{', '.join(CONTEXT_EVALUATIONS)}, got "
                       f"{context_evaluation!r}")
    self.context_evaluation = None if context is None else (
        context_evaluation or "non_anchors")
    if parameter_arithmetic not in (None,) + PARAMETER_ARITHMETICS:
      raise ValueError(f"parameter_arithmetic must be one of "
                       f"{', '.join(PARAMETER_ARITHMETICS)}, got "
                       f"{parameter_arithmetic!r}")
    self.parameter_arithmetic = parameter_arithmetic or "fixed_point"
    if (self.parameter_arithmetic == "fixed_point" and
        self.context_evaluation == "grid"):
      raise ValueError("a context evaluated on the grid computes in float32: "
                       "give parameter_arithmetic='float32'")
    self._fixed = None  # The fixed-point networks, made when first used.
    self._make_transforms(num_filters, num_latents, self.analysis_blocks,
                          self.synthesis_blocks)
    hconv = lambda f, k, s, act, up=False: SignalConv2D(
        f, k, corr=not up, strides_down=1 if up else s,
        strides_up=s if up else 1, padding="same_zeros", use_bias=True,
        activation=act, legacy=True)
    self.hyper_analysis = keras.Sequential([
        hconv(num_hyper_filters, 3, 1, "relu"),
        hconv(num_hyper_filters, 5, 2, "relu"),
        hconv(num_hyper_filters, 5, 2, None)], name="hyper_analysis")
    self.hyper_synthesis = keras.Sequential(
        [hconv(num_hyper_filters, 5, 2, "relu", up=True),
         hconv(num_hyper_filters, 5, 2, "relu", up=True)] +
        [ResidualBlock(num_hyper_filters) for _ in range(self.hyper_blocks)] +
        [hconv(2 * num_latents, 3, 1, None, up=True)], name="hyper_synthesis")
    self.context_model = None if context is None else (
        checkerboard.ContextRefinement(num_latents, name="context_model"))
    self.hyperprior_density = DeepFactorized(
        batch_shape=[num_hyper_filters], name="hyperprior_density")
    self.scale_fn = GeometricScales(scale_min, scale_max, num_scales)
    self.z_model = ContinuousBatchedEntropyModel(
        NoisyDeepFactorized(base=self.hyperprior_density), coding_rank=3,
        compression=False, bottleneck_dtype="float32")
    self.y_model = LocationScaleIndexedEntropyModel(
        NoisyNormal, num_scales, self.scale_fn, coding_rank=3,
        compression=False, bottleneck_dtype="float32")
    self.table_shapes = None
    self.z_coder = self.y_coder = None
    if table_shapes is not None:
      self._create_coders(None, table_shapes)
    # Training only (not saved): the synthesis learns from rounded latents
    # while the rate keeps the noise ("mixed" quantization: Minnen and
    # Singh, "Channel-wise autoregressive entropy models for learned image
    # compression", ICIP 2020), so it trains on what the decoder will see.
    self.mixed_quantization = False

  def _codec_config(self) -> dict:
    config = dict(num_filters=self.num_filters, num_latents=self.num_latents,
                  num_hyper_filters=self.num_hyper_filters, lmbda=self.lmbda,
                  num_scales=self.num_scales, scale_min=self.scale_min,
                  scale_max=self.scale_max, table_shapes=self.table_shapes)
    for name in BLOCK_SETTINGS:  # Absent from the models before them.
      if getattr(self, name):
        config[name] = getattr(self, name)
    if self.context is not None:
      config["context"] = self.context
      config["context_evaluation"] = self.context_evaluation
    config["parameter_arithmetic"] = self.parameter_arithmetic
    return config

  @classmethod
  def from_config(cls, config: dict):
    config = dict(config)
    # Settings saved before these existed mean what those models did:
    # float32 (ladder-v8 and before) and, with a context, the grid
    # (ladder-v8). A config with the arithmetic but without the evaluation
    # is a newer model given a context (train --start-from): the default.
    if "parameter_arithmetic" not in config:
      config["parameter_arithmetic"] = "float32"
      if config.get("context"):
        config.setdefault("context_evaluation", "grid")
    return super().from_config(config)

  @property
  def string_names(self) -> tuple[str, ...]:
    """What ``compress`` writes, in order."""
    if self.context is None:
      return ("y", "z")
    return ("y_anchors", "y_others", "z")

  def encoder_weights(self) -> list:
    """The weights only the encoder uses (the analysis and hyper-analysis
    transforms): training only these (``train --trainable encoder``) leaves
    the decoder, its priors and its range-coding tables as they were."""
    return self.analysis.weights + self.hyper_analysis.weights

  def build(self, input_shape=None):
    # Creates the transforms' variables (the density's exist from its
    # constructor) without evaluating the entropy models: in evaluation mode
    # they would solve for the density's quantization offsets, a second of
    # every model load.
    y = self.analysis(tf.zeros([1, self.factor, self.factor, 3]))
    self._hyper(self.hyper_analysis(y))
    self.synthesis(y)
    if self.context_model is not None:
      self.context_model.build()
    self.built = True

  def _hyper(self, z_hat: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
    """Location and (float) scale index of each element of y."""
    params = self.hyper_synthesis(z_hat)
    loc, index = tf.split(params, 2, axis=-1)
    return loc, index

  def entropy_parameters(self, y_hat: tf.Tensor, loc: tf.Tensor,
                         index: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
    """The location and scale index y is coded with: the hyperprior's
    ``loc`` and ``index`` (``_hyper``), with a context those of the
    non-anchor positions refined from the anchors of the quantized
    ``y_hat`` (its other positions are not read)."""
    if self.context_model is None:
      return loc, index
    anchors = y_hat * checkerboard.anchor_mask(y_hat)
    return self.context_model(anchors, loc, index)

  def _fixed_point(self):
    """The fixed-point hyper-synthesis and context (made from the current
    weights when first needed; ``make_coders`` makes them anew)."""
    if self._fixed is None:
      self._fixed = (fixed_point.FixedPointSynthesis(self.hyper_synthesis),
                     None if self.context_model is None else
                     fixed_point.FixedPointContext(self.context_model))
    return self._fixed

  def coding_parameters(self, z_hat: tf.Tensor
                        ) -> tuple[tf.Tensor, tf.Tensor]:
    """The location and scale index of each element of y that the coder
    uses with the decoded ``z_hat`` (``_hyper`` in the model's
    ``parameter_arithmetic``; before a context's refinement)."""
    if self.parameter_arithmetic == "float32":
      return self._hyper(z_hat)
    loc, index = tf.split(self._fixed_point()[0](z_hat), 2, axis=-1)
    return loc, index

  def _others_parameters(self, anchors: tf.Tensor, loc: tf.Tensor,
                         index: tf.Tensor, loc_others: tf.Tensor,
                         index_others: tf.Tensor
                         ) -> tuple[tf.Tensor, tf.Tensor]:
    """The location and scale index the non-anchors are coded with, in
    ``checkerboard.split``'s layout, as ``context_evaluation`` computes
    them from the quantized ``anchors`` and the hyperprior's ``loc`` and
    ``index`` (whole grid; ``*_others``: at the non-anchors)."""
    if self.parameter_arithmetic == "fixed_point":
      return self._fixed_point()[1](anchors, loc_others, index_others)
    if self.context_evaluation == "non_anchors":
      return self.context_model.refine_others(anchors, loc_others,
                                              index_others)
    loc, index = self.entropy_parameters(
        checkerboard.merge(anchors, tf.zeros_like(anchors)), loc, index)
    _, (loc, index) = checkerboard.split_together(loc, index)
    return loc, index

  def _context_parameters(self, y: tf.Tensor, loc: tf.Tensor,
                          index: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
    """``entropy_parameters`` of the unquantized ``y`` in training: the
    context sees the rounded anchors (straight through), as the decoder
    will."""
    if self.context_model is None:
      return loc, index
    return self.entropy_parameters(self.y_model.quantize(y, loc=loc), loc,
                                   index)

  def _forward(self, x: tf.Tensor, training: bool):
    y = tf.cast(self.analysis(x), tf.float32)
    z = self.hyper_analysis(y)
    z_tilde, z_bits = self.z_model(z, training=training)
    loc, index = self._context_parameters(y, *self._hyper(z_tilde))
    y_tilde, y_bits = self.y_model(y, index, loc=loc, training=training)
    x_hat = self.synthesis(self._synthesis_input(y, y_tilde, loc, training),
                           training=training)
    return x_hat, tf.reduce_sum(y_bits) + tf.reduce_sum(z_bits)

  def _synthesis_input(self, y, y_tilde, loc, training: bool) -> tf.Tensor:
    """What the synthesis sees of y: ``y_tilde`` (noisy in training), or
    with ``mixed_quantization`` in training the rounded
    ``round(y - loc) + loc`` with a straight-through gradient, as the
    decoder will see it."""
    if training and self.mixed_quantization:
      return self.y_model.quantize(y, loc=loc)
    return y_tilde

  def call(self, images, training=False):
    """Reconstruction of uint8-range images (sizes multiples of 64)."""
    x_hat = self._forward(self._to_float(images), training)[0]
    return tf.cast(x_hat, tf.float32) * 255.0

  # -- compression -----------------------------------------------------------

  def make_coders(self) -> None:
    """Freezes the current priors into range-coding tables (Variables)."""
    z_tables = ContinuousBatchedEntropyModel(
        NoisyDeepFactorized(base=self.hyperprior_density), coding_rank=3,
        compression=True, stateless=True, bottleneck_dtype="float32")
    y_tables = LocationScaleIndexedEntropyModel(
        NoisyNormal, self.num_scales, self.scale_fn, coding_rank=3,
        compression=True, stateless=True, bottleneck_dtype="float32")
    z_offset = z_tables.quantization_offset
    if z_offset is None:  # A prior whose offsets are all 0 (as TFC: None).
      z_offset = np.zeros([self.num_hyper_filters], np.float32)
    tables = dict(
        z=(z_tables.cdf, z_tables.cdf_offset, z_offset),
        y=(y_tables.cdf, y_tables.cdf_offset))
    shapes = dict(z=[list(t.shape) for t in tables["z"]],
                  y=[list(t.shape) for t in tables["y"]])
    if self.table_shapes is not None and shapes != self.table_shapes:
      raise RuntimeError("the model already has tables of other shapes; "
                         "create a new model from this one's weights")
    self._create_coders(tables, shapes)
    self._fixed = None

  def _create_coders(self, tables, shapes) -> None:
    if self.z_coder is None:
      # Keras locks a built model's state; the coders are added after
      # training, deliberately.
      with unlocked_state(self):
        self._add_coders(shapes)
    if tables is not None:
      self.z_coder.set_weights([np.asarray(t) for t in tables["z"]])
      self.y_coder.set_weights([np.asarray(t) for t in tables["y"]])

  def _add_coders(self, shapes) -> None:
    self.z_coder = ContinuousBatchedEntropyModel(
        prior_shape=[self.num_hyper_filters], coding_rank=3,
        compression=True, cdf_shapes=shapes["z"][:2],
        quantization_offset=np.zeros(shapes["z"][2], np.float32),
        bottleneck_dtype="float32", name="z_coder")
    # The shipped models' strings select rows by rounding the scale index
    # (tensorcoder 1), not by TFC's floor.
    self.y_coder = LocationScaleIndexedEntropyModel(
        num_scales=self.num_scales, coding_rank=3, compression=True,
        cdf_shapes=shapes["y"], bottleneck_dtype="float32", name="y_coder",
        index_rounding="nearest")
    self.table_shapes = shapes

  def _check_coders(self) -> None:
    if self.z_coder is None:
      raise RuntimeError("this model has no range-coding tables; call "
                         "make_coders() after training")

  def compress(self, image, tile: Optional[int] = None, refine: int = 0
              ) -> tuple[list[bytes], tuple[int, ...]]:
    """Compresses one uint8 image [H, W, 3].

    The analysis transform runs in tiles of ``tile`` positions of y
    (default ``tiling.DEFAULT_TILE``), which bounds memory and gives the
    same bytes as untiled. With ``refine`` > 0 the encoder searches that
    many steps for latents of a lower rate-distortion cost than the
    analysis transform's (``refinement.refine_latents``): slower, and
    decoded by the same ``decompress``.

    Returns:
      ``([y_string, z_string], z_shape)``: the strings and the spatial shape
      of z that ``decompress`` needs (with the image shape).
    """
    self._check_coders()
    padded = self._pad(tf.convert_to_tensor(image)[None])
    y = tiling.analyze(self, padded, tile,
                       transform=self.coding_transform("analysis"))
    return self._compress_latents(*self._refined(
        padded, np.shape(image), y, self.lmbda, 1.0, refine, tile))

  def _refined(self, padded: tf.Tensor, image_shape, y: tf.Tensor,
               lmbda: float, inverse_gain, steps: int,
               tile: Optional[int], synthesis=None
               ) -> tuple[tf.Tensor, tf.Tensor]:
    """``(y, z)`` to code: the analysis transform's, refined for ``steps``
    steps on the image's own pixels (``padded`` cropped to
    ``image_shape``) through ``synthesis`` (default ``self.synthesis``)."""
    if steps == 0:
      return y, None
    return refinement.refine_latents(
        self, padded[:, :image_shape[0], :image_shape[1]], y, lmbda, steps,
        inverse_gain, tile=tile, synthesis=synthesis)

  def _compress_latents(self, y: tf.Tensor, z: Optional[tf.Tensor] = None
                       ) -> tuple[list[bytes], tuple[int, ...]]:
    """``compress``'s strings and z shape for the latents y [1, h, w, M]
    and z (default: ``hyper_analysis(y)``)."""
    if z is None:
      z = self.hyper_analysis(y)
    z_strings = self.z_coder.compress(z)
    z_hat = self.z_coder.decompress(z_strings, tf.shape(z)[1:-1])
    loc, index = self.coding_parameters(z_hat)
    z_shape = tuple(int(d) for d in z.shape[1:3])
    if self.context_model is None:
      y_strings = self.y_coder.compress(y, index, loc=loc)
      return [y_strings.numpy()[0], z_strings.numpy()[0]], z_shape
    # The anchors' values as the decoder will have them decide the others'
    # parameters.
    (y_anchors, index_anchors, loc_anchors), (y_others, index_others,
                                              loc_others) = (
        checkerboard.split_together(y, index, loc))
    loc_others, index_others = self._others_parameters(
        self.y_coder.quantize(y_anchors, loc=loc_anchors), loc, index,
        loc_others, index_others)
    strings = [
        self.y_coder.compress(y_anchors, index_anchors, loc=loc_anchors),
        self.y_coder.compress(y_others, index_others, loc=loc_others)]
    return [s.numpy()[0] for s in strings] + [z_strings.numpy()[0]], z_shape

  def decode_latents(self, strings, z_shape):
    """Entropy-decodes ``compress``'s strings: ``(y_hat, loc, scale_indexes)``.

    ``y_hat - loc`` are the integer symbols. The indexes and ``loc`` come from
    the float hyper-synthesis of the decoded ``z`` (with a context, refined
    from the anchors decoded first); decoding is correct only where they
    equal the encoder's.
    """
    return self._decode_latents(strings, z_shape, parameters=True)

  def _decode_latents(self, strings, z_shape, parameters: bool):
    """``decode_latents``; with ``parameters`` False, ``(y_hat, None,
    None)`` (a context's parameters are not reassembled)."""
    self._check_coders()
    self.check_strings(strings)
    with self._decoding_string(len(strings) - 1):
      z_hat = self.z_coder.decompress(tf.constant([strings[-1]]),
                                      list(z_shape))
    loc, index = self.coding_parameters(z_hat)
    if self.context_model is None:
      with self._decoding_string(0):
        y_hat = self.y_coder.decompress(tf.constant([strings[0]]), index,
                                        loc=loc)
      return y_hat, loc, index
    (loc_anchors, index_anchors), (loc_others, index_others) = (
        checkerboard.split_together(loc, index))
    with self._decoding_string(0):
      anchors = self.y_coder.decompress(tf.constant([strings[0]]),
                                        index_anchors, loc=loc_anchors)
    loc_others, index_others = self._others_parameters(
        anchors, loc, index, loc_others, index_others)
    with self._decoding_string(1):
      others = self.y_coder.decompress(tf.constant([strings[1]]),
                                       index_others, loc=loc_others)
    if not parameters:
      return checkerboard.merge(anchors, others), None, None
    y_hat, loc, index = checkerboard.merge_together(
        [anchors, loc_anchors, index_anchors],
        [others, loc_others, index_others])
    return y_hat, loc, index

  def decompress(self, strings, image_shape, z_shape,
                 tile: Optional[int] = None) -> np.ndarray:
    """Decodes ``compress``'s strings into a uint8 image of ``image_shape``.

    The synthesis transform runs in tiles of ``tile`` positions of y
    (default ``tiling.DEFAULT_TILE``), which bounds memory.

    Raises:
      ValueError: the strings or ``z_shape`` do not fit ``image_shape``.
    """
    self.check_header(strings, image_shape, z_shape)
    y_hat, _, _ = self._decode_latents(strings, z_shape, parameters=False)
    return tiling.synthesize(self, y_hat, image_shape, tile,
                             transform=self.coding_transform("synthesis"))


@keras.saving.register_keras_serializable(package="tensorcoder")
class FactorizedPriorCodec(_Codec):
  """Factorized-prior image codec of Ballé et al. (ICLR 2017): ``y`` is
  coded with a ``ContinuousBatchedEntropyModel`` over a per-channel
  ``NoisyDeepFactorized`` density.

  Args:
    num_filters: channels of the hidden layers.
    num_latents: channels of ``y``.
    lmbda: rate-distortion trade-off.
    table_shapes: shapes of frozen tables (from ``make_coders``).
    transform_dtype: as in ``HyperpriorCodec``.
  """

  def __init__(self, num_filters: int = 64, num_latents: int = 96,
               lmbda: float = 0.01, table_shapes: Optional[list] = None,
               **kwargs):
    super().__init__(lmbda=lmbda, **kwargs)
    self.num_filters = int(num_filters)
    self.num_latents = int(num_latents)
    self._make_transforms(num_filters, num_latents)
    self.density = DeepFactorized(batch_shape=[num_latents], name="density")
    self.y_model = ContinuousBatchedEntropyModel(
        NoisyDeepFactorized(base=self.density), coding_rank=3,
        compression=False, bottleneck_dtype="float32")
    self.table_shapes = None
    self.y_coder = None
    if table_shapes is not None:
      self._add_coder(table_shapes)

  def _codec_config(self) -> dict:
    return dict(num_filters=self.num_filters, num_latents=self.num_latents,
                lmbda=self.lmbda, table_shapes=self.table_shapes)

  def build(self, input_shape=None):
    self._forward(tf.zeros([1, self.factor, self.factor, 3]), False)
    self.built = True

  def _forward(self, x: tf.Tensor, training: bool):
    y_tilde, bits = self.y_model(tf.cast(self.analysis(x), tf.float32),
                                 training=training)
    return (self.synthesis(y_tilde, training=training),
            tf.reduce_sum(bits))

  def call(self, images, training=False):
    x_hat = self._forward(self._to_float(images), training)[0]
    return tf.cast(x_hat, tf.float32) * 255.0

  def _add_coder(self, shapes) -> None:
    with unlocked_state(self):
      self.y_coder = ContinuousBatchedEntropyModel(
          prior_shape=[self.num_latents], coding_rank=3, compression=True,
          cdf_shapes=shapes[:2],
          quantization_offset=np.zeros(shapes[2], np.float32),
          bottleneck_dtype="float32", name="y_coder")
    self.table_shapes = shapes

  def make_coders(self) -> None:
    """Freezes the current density into range-coding tables."""
    tables = ContinuousBatchedEntropyModel(
        NoisyDeepFactorized(base=self.density), coding_rank=3,
        compression=True, stateless=True, bottleneck_dtype="float32")
    offset = tables.quantization_offset
    if offset is None:  # All offsets 0: TFC's entropy models give None.
      offset = np.zeros([self.num_latents], np.float32)
    values = (tables.cdf, tables.cdf_offset, offset)
    shapes = [list(t.shape) for t in values]
    if self.y_coder is None:
      self._add_coder(shapes)
    elif shapes != self.table_shapes:
      raise RuntimeError("the model already has tables of other shapes")
    self.y_coder.set_weights([np.asarray(t) for t in values])

  def compress(self, image, tile: Optional[int] = None
              ) -> tuple[list[bytes], tuple[int, ...]]:
    """``([y_string], y_shape)`` for one uint8 image [H, W, 3] (analysis in
    tiles, as in ``HyperpriorCodec.compress``)."""
    if self.y_coder is None:
      raise RuntimeError("call make_coders() after training")
    y = tiling.analyze(self, self._pad(tf.convert_to_tensor(image)[None]),
                       tile, transform=self.coding_transform("analysis"))
    return ([self.y_coder.compress(y).numpy()[0]],
            tuple(int(d) for d in y.shape[1:3]))

  def decompress(self, strings, image_shape, y_shape,
                 tile: Optional[int] = None) -> np.ndarray:
    """Decodes ``compress``'s strings into a uint8 image of ``image_shape``
    (synthesis in tiles; ValueError if the strings or ``y_shape`` do not
    fit ``image_shape``)."""
    if self.y_coder is None:
      raise RuntimeError("call make_coders() after training")
    self.check_header(strings, image_shape, y_shape)
    with self._decoding_string(0):
      y_hat = self.y_coder.decompress(tf.constant(strings), list(y_shape))
    return tiling.synthesize(self, y_hat, image_shape, tile,
                             transform=self.coding_transform("synthesis"))
