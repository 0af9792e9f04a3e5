"""Applying convolutional transforms in overlapping tiles, to bound memory.

The image codecs' transforms work at full image resolution with tens of
channels: applied to a 12-megapixel photo at once, their float32
activations take several gigabytes. Applied tile by tile, each tile with a
margin of context that covers the receptive field, they give the same
result with memory bounded by the tile size.

Tiles are laid out on the coarse (latent) grid; one latent position stands
for ``ratio`` x ``ratio`` pixels, 16 for the codecs' four stride-2 layers.
A tile's core is computed from the tile plus ``margin`` latent positions of
context on each side that exist in the input (none beyond the image's own
borders, where the transforms pad exactly as they do untiled), and only the
core is kept. Every tile starts at a multiple of ``ratio`` pixels, so the
strided layers sample the same positions as untiled.

Exactness: mathematically the tiled result equals the untiled one when the
margin covers the receptive field. In floating point, forward convolutions
(the analysis transforms) sum each output in an order that does not depend
on the input's size, which the tests check bit for bit: tiled analysis
writes the same bytes. Transposed convolutions (the synthesis transforms)
may round differently, by about 1e-6 of the pixel range, which moves a
decoded pixel by one level at most where its value lies at a rounding
boundary (as running on another number of threads does).
"""

from __future__ import annotations

from typing import Callable, Iterator, Optional

import numpy as np
import tensorflow as tf

# Latent positions per tile side: a 64x64 tile of y is 1024x1024 pixels, for
# which the codecs' transforms need a few hundred megabytes.
DEFAULT_TILE = 64

# Margins, in latent positions, for four 5x5 layers of stride 2 with "same"
# zero padding (the codecs' transforms); the tests check that one less
# changes the result:
# * analysis: y[j] depends on pixels 16 j - 30 .. 16 j + 30;
# * synthesis: pixels 16 j .. 16 j + 15 depend on y[j - 2 .. j + 1].
ANALYSIS_MARGIN = 2
SYNTHESIS_MARGIN = 2


def tile_spans(size: int, tile: int,
               margin: int) -> Iterator[tuple[int, int, int, int]]:
  """``(start, stop, core_start, core_stop)`` of the tiles along one axis of
  ``size`` latent positions: each tile reads ``start:stop`` and keeps
  ``core_start:core_stop``; the cores cover ``0:size`` without overlap."""
  if tile < 1 or margin < 0:
    raise ValueError(f"need tile >= 1 and margin >= 0, got {tile}, {margin}")
  for core_start in range(0, size, tile):
    core_stop = min(core_start + tile, size)
    yield (max(core_start - margin, 0), min(core_stop + margin, size),
           core_start, core_stop)


def _scaled(start: int, stop: int, ratio: int) -> slice:
  """The pixels of latent positions ``start:stop``."""
  return slice(start * ratio, stop * ratio)


def apply_tiled(transform: Callable[[tf.Tensor], tf.Tensor], inputs,
                in_ratio: int, out_ratio: int, tile: int = DEFAULT_TILE,
                margin: int = 0) -> np.ndarray:
  """``transform(inputs)``, computed in tiles (see the module docstring).

  Args:
    transform: maps a [1, h * in_ratio, w * in_ratio, C] tensor to a
      [1, h * out_ratio, w * out_ratio, D] one, for any tile of h x w
      latent positions; it may return any dtype (e.g. uint8 pixels).
    inputs: [1, H, W, C] array or tensor, H and W multiples of ``in_ratio``.
    in_ratio, out_ratio: pixels per latent position in the input and the
      output (16 and 1 for an analysis transform, 1 and 16 for synthesis).
    tile: latent positions per tile side.
    margin: latent positions of context on each side of a tile.

  Returns:
    The output as a NumPy array of the transform's dtype.
  """
  shape = tuple(inputs.shape)
  if len(shape) != 4 or shape[0] != 1:
    raise ValueError(f"expected inputs [1, H, W, C], got shape {shape}")
  if shape[1] % in_ratio or shape[2] % in_ratio:
    raise ValueError(f"the input size {shape[1]}x{shape[2]} is not a "
                     f"multiple of {in_ratio}")
  rows, columns = shape[1] // in_ratio, shape[2] // in_ratio
  output = None
  for top, bottom, core_top, core_bottom in tile_spans(rows, tile, margin):
    for left, right, core_left, core_right in tile_spans(columns, tile,
                                                         margin):
      piece = inputs[:, _scaled(top, bottom, in_ratio),
                     _scaled(left, right, in_ratio)]
      result = np.asarray(transform(tf.convert_to_tensor(piece)))
      if output is None:
        output = np.empty((1, rows * out_ratio, columns * out_ratio,
                           result.shape[-1]), result.dtype)
      core = result[:, _scaled(core_top - top, core_bottom - top, out_ratio),
                    _scaled(core_left - left, core_right - left, out_ratio)]
      output[:, _scaled(core_top, core_bottom, out_ratio),
             _scaled(core_left, core_right, out_ratio)] = core
      del piece, result, core  # Freed before the next tile is computed.
  return output


def analyze(codec, images: tf.Tensor, tile: Optional[int] = None,
            transform: Optional[Callable[[tf.Tensor], tf.Tensor]] = None
            ) -> tf.Tensor:
  """y of a codec's analysis transform for uint8 images [1, H, W, 3] (sizes
  multiples of ``codec.factor``), in tiles of ``tile`` positions of y: the
  same values as ``codec.analysis`` of the whole image, as float32 (the
  transform computes in ``codec.transform_dtype``). ``transform``: the
  analysis to apply instead of ``codec.analysis`` (a level's, with the same
  receptive field)."""
  transform = transform or codec.analysis
  # A codec whose analysis reaches further (residual blocks) says so.
  margin = getattr(codec, "analysis_margin", ANALYSIS_MARGIN)

  def to_latents(x: tf.Tensor) -> tf.Tensor:
    return tf.cast(transform(codec._to_float(x)), tf.float32)  # pylint: disable=protected-access
  return tf.constant(apply_tiled(to_latents, images, codec.ratio, 1,
                                 tile or DEFAULT_TILE, margin))


def synthesize(codec, y_hat: tf.Tensor, image_shape,
               tile: Optional[int] = None,
               transform: Optional[Callable[[tf.Tensor], tf.Tensor]] = None
               ) -> np.ndarray:
  """The uint8 image [H, W, 3] of ``image_shape`` that a codec's synthesis
  transform (or ``transform``, one with the same receptive field) makes of
  ``y_hat``, in tiles of ``tile`` positions of y."""
  transform = transform or codec.synthesis
  margin = getattr(codec, "synthesis_margin", SYNTHESIS_MARGIN)

  def to_pixels(y: tf.Tensor) -> tf.Tensor:
    # Scaled and rounded in float32: bfloat16 cannot hold every level.
    x_hat = tf.cast(transform(y), tf.float32)
    return tf.cast(tf.round(tf.clip_by_value(x_hat * 255, 0, 255)), tf.uint8)
  pixels = apply_tiled(to_pixels, y_hat, 1, codec.ratio,
                       tile or DEFAULT_TILE, margin)
  return pixels[0, :image_shape[0], :image_shape[1]]
