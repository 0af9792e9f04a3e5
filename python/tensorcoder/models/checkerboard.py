"""A checkerboard spatial context for the hyperprior's entropy model.

He, Zheng, Sun, Wang and Qin, "Checkerboard context model for efficient
learned image compression" (CVPR 2021): the positions of ``y`` are split
like a checkerboard. The *anchors* (row + column even) are coded first with
the hyperprior's location and scale alone; the other positions' location
and scale are then refined from the decoded anchors around them, which the
decoder knows by then. Unlike the serial context model of Minnen et al.
(2018) decoding takes two passes, not one per position.

Here the refinement is additive and starts at zero: ``ContextRefinement``
maps the anchors (a 3x3 convolution over ``y_hat`` with the other positions
zeroed) and the hyperprior's own parameters (1x1) to a correction of the
non-anchors' location and scale index, through a last 1x1 convolution
initialized to zeros. A model given a context therefore starts by coding
with exactly the probabilities of the model it was made from, and training
only improves on them. The context is new when the rest of the model is
already trained and fine-tuned at a low learning rate, so it learns
``CONTEXT_RATE`` times faster: each convolution's output is multiplied by
that factor and its kernel starts that many times smaller (Glorot's
initialization in distribution), so one optimizer step moves its output
as much as that many steps would.

Layout of the strings (``split``/``merge``): the anchors of a ``[B, h, w,
C]`` tensor (``h`` and ``w`` even, as they are for ``y`` of images padded to
a multiple of 64) form a ``[B, h, w / 2, C]`` tensor whose row ``r`` holds
the anchors of row ``r`` of ``y`` from left to right; the other positions
likewise. ``docs/FORMAT.md`` states the resulting byte order.
"""

from __future__ import annotations

import keras
import tensorflow as tf

# The names a codec's ``context`` setting may take.
CONTEXTS = ("checkerboard",)
# How many times faster than the optimizer's learning rate the context
# learns (module docstring).
CONTEXT_RATE = 10.0


def _check_even(x: tf.Tensor) -> None:
  height, width = x.shape[1], x.shape[2]
  if (height is not None and height % 2) or (width is not None and width % 2):
    raise ValueError(f"a checkerboard needs an even height and width, got "
                     f"{height}x{width}")


def split(x: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
  """``(anchors, others)`` of ``x`` [B, h, w, C], each [B, h, w / 2, C]
  (module docstring)."""
  _check_even(x)
  shape = tf.shape(x)
  batch, height, width, channels = shape[0], shape[1], shape[2], shape[3]
  blocks = tf.reshape(x, [batch, height // 2, 2, width // 2, 2, channels])
  anchors = tf.stack([blocks[:, :, 0, :, 0], blocks[:, :, 1, :, 1]], axis=2)
  others = tf.stack([blocks[:, :, 0, :, 1], blocks[:, :, 1, :, 0]], axis=2)
  half = [batch, height, width // 2, channels]
  return tf.reshape(anchors, half), tf.reshape(others, half)


def split_together(*tensors: tf.Tensor
                   ) -> tuple[list[tf.Tensor], list[tf.Tensor]]:
  """``split`` of each of ``tensors`` (of one shape but the channels), in
  one reordering: ``([anchors of each], [others of each])``."""
  widths = [int(t.shape[-1]) for t in tensors]
  return tuple(tf.split(half, widths, axis=-1)
               for half in split(tf.concat(tensors, axis=-1)))


def merge(anchors: tf.Tensor, others: tf.Tensor) -> tf.Tensor:
  """The inverse of ``split``: [B, h, w, C] from two [B, h, w / 2, C]."""
  shape = tf.shape(anchors)
  batch, height, half, channels = shape[0], shape[1], shape[2], shape[3]
  anchors = tf.reshape(anchors, [batch, height // 2, 2, half, channels])
  others = tf.reshape(others, [batch, height // 2, 2, half, channels])
  even = tf.stack([anchors[:, :, 0], others[:, :, 0]], axis=3)
  odd = tf.stack([others[:, :, 1], anchors[:, :, 1]], axis=3)
  blocks = tf.stack([even, odd], axis=2)  # [B, h/2, 2, w/2, 2, C]
  return tf.reshape(blocks, [batch, height, 2 * half, channels])


def merge_together(anchors: list[tf.Tensor], others: list[tf.Tensor]
                   ) -> list[tf.Tensor]:
  """``merge`` of each pair of ``anchors`` and ``others`` (of one shape but
  the channels), in one reordering."""
  widths = [int(t.shape[-1]) for t in anchors]
  return tf.split(merge(tf.concat(anchors, axis=-1),
                        tf.concat(others, axis=-1)), widths, axis=-1)


def neighbours(anchors: tf.Tensor
               ) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor]:
  """For each non-anchor position, in ``split``'s layout, the anchors
  above, below, left and right of it (zero outside ``y``), from the
  anchors [B, h, w / 2, C] in that layout."""
  rows = tf.shape(anchors)[1]
  # In row r of the anchors, entry j is at column 2j + (r % 2); in row r of
  # the others, at column 2j + 1 - (r % 2). So the anchors above and below
  # a non-anchor are entry j of rows r - 1 and r + 1, the one to its left
  # entry j (even r) or j - 1 (odd r), the one to its right entry j + 1
  # (even r) or j.
  above = tf.pad(anchors, [[0, 0], [1, 0], [0, 0], [0, 0]])[:, :-1]
  below = tf.pad(anchors, [[0, 0], [0, 1], [0, 0], [0, 0]])[:, 1:]
  before = tf.pad(anchors, [[0, 0], [0, 0], [1, 0], [0, 0]])[:, :, :-1]
  after = tf.pad(anchors, [[0, 0], [0, 0], [0, 1], [0, 0]])[:, :, 1:]
  even = tf.equal(tf.range(rows) % 2, 0)[None, :, None, None]
  return (above, below, tf.where(even, anchors, before),
          tf.where(even, after, anchors))


def anchor_mask(x: tf.Tensor) -> tf.Tensor:
  """1.0 at the anchors of ``x`` [B, h, w, C], 0.0 elsewhere ([1, h, w, 1],
  ``x``'s dtype)."""
  shape = tf.shape(x)
  rows = tf.range(shape[1])[:, None]
  columns = tf.range(shape[2])[None, :]
  mask = tf.cast(tf.equal((rows + columns) % 2, 0), x.dtype)
  return mask[None, :, :, None]


@keras.saving.register_keras_serializable(package="tensorcoder")
class ContextRefinement(keras.layers.Layer):
  """Corrections of the location and scale index of the non-anchor
  positions of ``y`` from the decoded anchors (module docstring).

  Computes in float32 whatever the global dtype policy: the encoder and
  the decoder must derive the same scale indexes from the same anchors.

  Args:
    num_latents: channels of ``y`` (and of the location and index).
    num_hidden: channels of the hidden layer (default ``num_latents``).
  """

  def __init__(self, num_latents: int, num_hidden: int | None = None,
               **kwargs):
    kwargs["dtype"] = "float32"
    super().__init__(**kwargs)
    self.num_latents = int(num_latents)
    self.num_hidden = int(num_hidden or num_latents)
    # Glorot (uniform) divided by CONTEXT_RATE; outputs multiplied by it.
    small = keras.initializers.VarianceScaling(
        scale=CONTEXT_RATE**-2, mode="fan_avg", distribution="uniform")
    self.anchor_conv = keras.layers.Conv2D(
        self.num_hidden, 3, padding="same", kernel_initializer=small,
        dtype="float32", name="anchor_conv")
    self.param_conv = keras.layers.Conv2D(
        self.num_hidden, 1, use_bias=False, kernel_initializer=small,
        dtype="float32", name="param_conv")
    self.output_conv = keras.layers.Conv2D(
        2 * self.num_latents, 1, kernel_initializer="zeros",
        bias_initializer="zeros", dtype="float32", name="output_conv")

  def build(self, input_shape=None):
    shape = [None, None, None, self.num_latents]
    self.anchor_conv.build(shape)
    self.param_conv.build(shape[:3] + [2 * self.num_latents])
    self.output_conv.build(shape[:3] + [self.num_hidden])
    self.built = True

  def call(self, anchors: tf.Tensor, loc: tf.Tensor, index: tf.Tensor
           ) -> tuple[tf.Tensor, tf.Tensor]:
    """``(loc, index)`` with the non-anchors' corrected: ``anchors`` is
    ``y_hat`` with the non-anchor positions zeroed (the anchors' own values
    do not matter for the result at the anchors, which is unchanged)."""
    hidden = tf.nn.relu(CONTEXT_RATE * (
        self.anchor_conv(anchors) +
        self.param_conv(tf.concat([loc, index], axis=-1))))
    d_loc, d_index = tf.split(CONTEXT_RATE * self.output_conv(hidden), 2,
                              axis=-1)
    others = 1.0 - anchor_mask(loc)
    return loc + d_loc * others, index + d_index * others

  def non_anchor_kernel(self) -> tf.Tensor:
    """The 1x1 kernel [1, 1, 6 C, hidden] of the hidden layer at the
    non-anchors, over ``neighbours``' four anchors, then ``loc`` and
    ``index``: the 3x3 kernel's four edge taps and ``param_conv``'s."""
    kernel = self.anchor_conv.kernel  # [3, 3, C, hidden]
    taps = tf.concat([kernel[0, 1], kernel[2, 1], kernel[1, 0], kernel[1, 2],
                      self.param_conv.kernel[0, 0]], axis=0)
    return taps[None, None]

  def refine_others(self, anchors: tf.Tensor, loc: tf.Tensor,
                    index: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
    """``call``'s result at the non-anchor positions alone, in ``split``'s
    layout: ``anchors`` [B, h, w / 2, C] are the decoded anchors, ``loc``
    and ``index`` the hyperprior's at the other positions.

    The same function as ``call``, computed on the positions that use it:
    at a non-anchor, the 3x3 convolution over the masked anchors reads
    only the four anchors beside it (above, below, left and right; the
    diagonal neighbours and the centre are non-anchors, zero), so it is
    four 1x1 convolutions of shifted anchors (4 of the 9 taps, at half
    the positions: 2/9 of the 3x3 work), and the 1x1 layers run on half
    the positions. The float sums
    run in another order than ``call``'s, so results differ from it by
    rounding: the encoder and the decoder both use this method.
    """
    inputs = tf.concat(list(neighbours(anchors)) + [loc, index], axis=-1)
    hidden = tf.nn.relu(CONTEXT_RATE * tf.nn.bias_add(
        tf.nn.conv2d(inputs, self.non_anchor_kernel(), 1, "VALID"),
        self.anchor_conv.bias))
    corrections = CONTEXT_RATE * tf.nn.bias_add(
        tf.nn.conv2d(hidden, self.output_conv.kernel, 1, "VALID"),
        self.output_conv.bias)
    d_loc, d_index = tf.split(corrections, 2, axis=-1)
    return loc + d_loc, index + d_index

  def get_config(self) -> dict:
    config = super().get_config()
    config.pop("dtype", None)
    config.update(num_latents=self.num_latents, num_hidden=self.num_hidden)
    return config
